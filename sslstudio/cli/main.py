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

from sslstudio.core.errors import UserError

PROBE_METHODS = ("knn", "linear", "finetune")  # core.evaluation.probe.METHODS, without torch
EXPORT_FORMATS = ("torchscript", "onnx", "state_dict")  # core.export.FORMATS, without importing torch


def at_least(minimum: int):
    """An argparse type: a whole number no smaller than `minimum`."""
    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below the smallest allowed, {minimum}")
        return value
    whole.__name__ = f"a whole number >= {minimum}"
    return whole


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sslstudio", description="Self-supervised learning workbench.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--self-test", action="store_true",
                        help="check every stage (scan, train, embed, probe, export, window) on the bundled demo "
                             "data, headless; exit 0 only if all worked")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("tasks", help="list the pretext tasks")
    p.add_argument("--modality", choices=("image", "audio", "text"))
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("scan", help="modality, counts, labels and unusable files of a folder")
    p.add_argument("folder")
    p.add_argument("--modality", choices=("image", "audio", "text"), help="also decode files of this modality")
    p.add_argument("--quick", action="store_true", help="list files only; do not decode them")
    p.add_argument("--json", action="store_true")
    _add_input_options(p)

    p = sub.add_parser("preview", help="render what a task feeds the model into a PNG sheet")
    p.add_argument("folder")
    p.add_argument("--task", help="the task (taken from --run when given)")
    p.add_argument("--run", help="a trained run: its settings, plus the model's own outputs (reconstructions, "
                                 "fills) beside the inputs")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a task setting")
    p.add_argument("--checkpoint", metavar="CKPT.pt", help="with --run: a kept checkpoint (default: its last)")
    p.add_argument("--n", type=at_least(1), default=6, help="number of samples (default 6)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, metavar="SHEET.png")
    _add_input_options(p)

    p = sub.add_parser("train", help="pretrain a backbone on a folder with a pretext task")
    p.add_argument("folder")
    p.add_argument("--task", help="a pretext task (default: the recommended recipe's, see `sslstudio tasks`)")
    p.add_argument("--recipe", help="a recommended recipe by name: its task, backbone, inputs and settings, "
                                    "which the other options override")
    p.add_argument("--out", required=True, metavar="RUN")
    p.add_argument("--epochs", type=int)
    p.add_argument("--max-steps", type=int)
    p.add_argument("--max-minutes", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="peak learning rate (AdamW, warm-up then cosine)")
    p.add_argument("--backbone", help="a name from `sslstudio tasks --json`, or timm:NAME for any timm model "
                                      "(default: one that suits the device and input size)")
    p.add_argument("--init", metavar="FILE", help="start the backbone from a local weights file (a torchvision or "
                                                  "timm state_dict, .pt/.pth or .safetensors)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a task setting")
    p.add_argument("--seed", type=int)
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--checkpoint", metavar="CKPT.pt", help="with --resume: a kept checkpoint to continue from "
                                                        "(default: the last)")
    p.add_argument("--checkpoint-minutes", type=float, help="minutes between checkpoints (default 2; the first "
                                                         "after 15 s; 0: after every step)")
    p.add_argument("--json", action="store_true")
    _add_input_options(p)

    p = sub.add_parser("embed", help="write embeddings of a folder's samples with a trained run")
    p.add_argument("run")
    p.add_argument("folder")
    p.add_argument("--out", required=True, metavar="EMB.npz")
    p.add_argument("--checkpoint", metavar="CKPT.pt", help="a kept checkpoint of the run (default: its last)")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    _add_store_option(p)

    p = sub.add_parser("probe", help="few-label kNN or linear probe on a run's frozen features")
    p.add_argument("run")
    p.add_argument("--labelled", required=True, metavar="FOLDER|CSV")
    p.add_argument("--per-class", type=at_least(0), default=10, help="labels per class (0 = all available)")
    p.add_argument("--method", choices=PROBE_METHODS, default="linear")
    p.add_argument("--baselines", action="store_true", help="also score random-init and raw inputs")
    p.add_argument("--checkpoint", metavar="CKPT.pt", help="a kept checkpoint of the run (default: its last)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    _add_store_option(p)

    p = sub.add_parser("curve", help="label-efficiency curve: accuracy against labels per class, for the run, "
                                     "a random-init copy and raw inputs")
    p.add_argument("run")
    p.add_argument("--labelled", required=True, metavar="FOLDER|CSV")
    p.add_argument("--shots", type=at_least(0), nargs="+", default=[1, 2, 5, 10, 20, 50, 0],
                   help="labels per class at each point (0 = all available)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--method", choices=PROBE_METHODS, default="linear")
    p.add_argument("--checkpoint", metavar="CKPT.pt", help="a kept checkpoint of the run (default: its last)")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    _add_store_option(p)

    p = sub.add_parser("export", help="write a run's model (with its preprocessing) as TorchScript, ONNX or a "
                                      "state_dict, checked against the app on held-out samples")
    p.add_argument("run")
    p.add_argument("--format", choices=EXPORT_FORMATS, required=True)
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--checkpoint", metavar="CKPT.pt", help="a kept checkpoint of the run (default: its last)")
    p.add_argument("--labelled", metavar="FOLDER|CSV",
                   help="also fit a linear probe on these labels and export it as a classification head")
    p.add_argument("--per-class", type=at_least(0), default=0, help="labels per class for the head (0 = all)")
    p.add_argument("--check-samples", type=at_least(1), default=256,
                   help="held-out samples the exported file is checked on (default 256)")
    p.add_argument("--folder", help="where check samples come from when there is no --labelled "
                                    "(default: the run's training folder)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    _add_store_option(p)

    p = sub.add_parser("store", help="the sample stores: where each folder's decoded samples are kept")
    p.add_argument("action", choices=("list", "clear"), help="list them with their sizes, or delete them")
    p.add_argument("folder", nargs="?", help="clear: only the stores of this folder (default: all)")
    p.add_argument("--json", action="store_true")
    _add_store_option(p)

    p = sub.add_parser("gui", help="open the workbench (the default command)")
    p.add_argument("target", nargs="?", help="a data folder or a .sslproj project to open")

    p = sub.add_parser("demo", help="the whole loop on the bundled demo data, headless")
    p.add_argument("--modality", choices=("image", "audio", "text"), action="append",
                   help="limit to one modality (repeatable); default all three")
    p.add_argument("--max-minutes", type=float, default=0.5, help="training budget per modality")
    p.add_argument("--out", help="folder for the runs (default: a user data folder)")
    p.add_argument("--json", action="store_true")
    return parser


def _add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--image-size", type=int, help="side of the model's square input, in pixels (default: from "
                                                  "the folder's image sizes, at most 64 on a CPU)")
    p.add_argument("--audio-seconds", type=float, help="length of the audio window the model hears (default: "
                                                       "from the folder's clips, 1.0 on a CPU)")
    p.add_argument("--sample-rate", type=int, help="audio is resampled to this (default 16000)")
    p.add_argument("--text-tokens", type=int, help="tokens the model reads per text (default 64)")
    _add_store_option(p)


def _add_store_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="DIR", help="where decoded samples are kept (default: the user's cache "
                                                  "folder, or SSLSTUDIO_STORE); share it between torchrun nodes")


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
    from sslstudio.cli import commands

    if args.command is None:
        args = parser.parse_args(["gui"])
    if getattr(args, "store", None):
        from sslstudio.core.data.store import configure

        configure(args.store)
    handler = getattr(commands, f"cmd_{args.command.replace('-', '_')}")
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
