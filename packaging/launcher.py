"""The frozen app's entry point: the same `main` as the `sslstudio` command."""
import multiprocessing
import sys

if __name__ == "__main__":
    # First: a child process of a frozen app re-runs this executable, and freeze_support()
    # makes it the child it should be rather than a second workbench.
    multiprocessing.freeze_support()
    from sslstudio.cli.main import run

    sys.exit(run())
