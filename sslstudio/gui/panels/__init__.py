"""One panel per workflow step."""
from __future__ import annotations

from pathlib import Path


def given_folder(folder_arg: list[str]) -> Path:
    """For a manual look: the folder given, or the demo images when none is."""
    # A manual look's helpers: their imports load only when used, so importing a panel never loads the app
    # (whose window imports the panels).
    from sslstudio.resources import demo_folder  # for a manual look

    return Path(folder_arg[0]) if folder_arg else demo_folder("image")


def scanned(folder_arg: list[str]) -> tuple[Path, str, list[str]]:
    """For a manual look: the folder given (the demo images when none is), its main modality and its files."""
    from sslstudio.core.data.scan import scan_folder  # for a manual look

    folder = given_folder(folder_arg)
    scan = scan_folder(folder)
    modality = scan.choose_modality()
    return folder, modality, scan.files[modality]


def run_panel_alone(make) -> None:
    """Open one panel by itself for a manual look: `make(jobs, args)` builds it from the command line's
    arguments; its jobs are cancelled and waited for, and its `shutdown` called, when the window closes."""
    import sys

    from sslstudio.gui.app import run_alone  # for a manual look; an import cycle at the package's top
    from sslstudio.gui.jobs import JobRunner  # for a manual look

    def build():
        jobs = JobRunner()
        panel = make(jobs, sys.argv[1:])
        panel.resize(1300, 800)

        def cleanup():
            if hasattr(panel, "shutdown"):
                panel.shutdown()
            jobs.cancel_all()
            jobs.wait_all()

        return panel, cleanup

    run_alone(build)


def run_based_panel_alone(panel_class) -> None:
    """A run-based panel (Embeddings, Fine-tune) by itself: `[RUN [FOLDER]]`, the demo images when no folder is
    given, and no run when none is."""
    from sslstudio.gui.project_state import ProjectState  # for a manual look

    def make(jobs, args):
        folder, modality, _ = scanned(args[1:2])
        return panel_class(jobs, ProjectState.for_folder(folder, modality, runs=[Path(run) for run in args[:1]]))

    run_panel_alone(make)
