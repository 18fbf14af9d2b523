"""`python -m sslstudio`: the same entry point as the `sslstudio` command."""
import multiprocessing
import sys

if __name__ == "__main__":
    # Must run first in a frozen app, before anything can spawn a process.
    multiprocessing.freeze_support()
    from sslstudio.cli.main import run

    sys.exit(run())
