"""One panel per workflow step."""


def run_panel_alone(panel_class) -> None:
    """Open a run-based panel (Embeddings, Fine-tune) by itself: `[RUN [FOLDER]]` from the command line,
    the demo images when no folder is given, and no run when none is."""
    import sys
    from pathlib import Path

    # A manual look's helper: its imports load only when it is used, so importing a panel never loads
    # the app (whose window imports the panels).
    from sslstudio.core.data.scan import scan_folder  # for a manual look
    from sslstudio.gui.app import run_alone  # for a manual look; an import cycle at the package's top
    from sslstudio.gui.jobs import JobRunner  # for a manual look
    from sslstudio.gui.project_state import ProjectState  # for a manual look
    from sslstudio.resources import demo_folder  # for a manual look

    def build():
        runs = [Path(sys.argv[1])] if len(sys.argv) > 1 else []
        folder = Path(sys.argv[2]) if len(sys.argv) > 2 else demo_folder("image")
        jobs = JobRunner()
        panel = panel_class(jobs, ProjectState.for_folder(folder, scan_folder(folder).choose_modality(), runs=runs))
        panel.resize(1300, 800)
        return panel, lambda: (jobs.cancel_all(), jobs.wait_all())

    run_alone(build)
