"""The `sslstudio` command: argument parsing and exit codes.

Exit codes: 0 success, 2 usage error or bad input (one line on stderr), 1 anything else.
With --json, stdout carries exactly one JSON object; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys

from sslstudio.cli.options import COMMANDS, add_command
from sslstudio.core.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    """The commands and their options: settings come from core's schemas, the rest from one table
    (cli/options.py)."""
    parser = argparse.ArgumentParser(prog="sslstudio", description="Self-supervised learning workbench.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--self-test", action="store_true",
                        help="check every stage (scan, train, embed, probe, export, window) on the bundled demo "
                             "data, headless; exit 0 only if all worked")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        add_command(sub, name)
    return parser


def main(argv: list[str] | None = None) -> int:
    # First, before anything can start a process: in a frozen app a child process re-runs this
    # executable, and freeze_support() turns it into the child instead of a second app.
    multiprocessing.freeze_support()
    args_list = sys.argv[1:] if argv is None else argv
    if getattr(sys, "frozen", False) and args_list[:1] == ["-c"]:
        # Libraries probe the interpreter with `sys.executable -c CODE` (torch.compile does); in the
        # packaged app that would open a second workbench. Answer as a Python without that feature.
        print("sslstudio: the packaged app is not a Python interpreter (no -c)", file=sys.stderr)
        return 1
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.version:
        import sslstudio

        print(sslstudio.__version__)
        return 0
    if args.self_test:
        from sslstudio.cli.selftest import run_self_test

        return run_self_test()
    from sslstudio.cli import commands, run_commands

    if args.command is None:
        args = parser.parse_args(["gui"])
    if getattr(args, "store", None):
        from sslstudio.core.data.store import configure

        configure(args.store)
    name = f"cmd_{args.command.replace('-', '_')}"
    handler = getattr(commands, name, None) or getattr(run_commands, name)
    as_json = getattr(args, "json", False)
    try:
        return handler(args) or 0
    except UserError as exc:
        return _fail(str(exc), 2, as_json)
    except OSError as exc:  # a folder that cannot be written, a file that vanished: the environment, not a bug
        if isinstance(exc, BrokenPipeError):
            raise
        where = f": {commands.printable(os.fsdecode(exc.filename))}" if exc.filename is not None else ""
        return _fail(f"{exc.strerror or exc}{where}", 2, as_json)
    except KeyboardInterrupt:
        return _fail("interrupted", 1, as_json)
    except Exception as exc:
        if as_json:  # the promised one JSON object, then the traceback on stderr for the bug report
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        raise


def _fail(message: str, code: int, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"error": message}), flush=True)
    print(f"sslstudio: error: {message}" if code == 2 else f"sslstudio: {message}", file=sys.stderr)
    return code


def run(argv: list[str] | None = None) -> int:
    """The console entry point: a closed pipe (`sslstudio tasks | head`) ends quietly, and nothing
    printed can fail on a name that the terminal's encoding cannot show."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        code = main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the flush at exit must not fail again
        return 1


if __name__ == "__main__":
    sys.exit(run())
