"""The entry point of the minimal freeze that CI builds: the bundle's layout without the ML stack.

It checks what a full build relies on and a CI run can afford: the spec runs, the
launcher starts, and the bundled resources are found where sslstudio looks for them.
"""
import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    import sslstudio
    from sslstudio.resources import demo_folder, icon_path

    counts = {m: sum(1 for p in demo_folder(m).rglob("*") if p.is_file()) for m in ("image", "audio", "text")}
    print(f"sslstudio {sslstudio.__version__} frozen={getattr(sys, 'frozen', False)} icon={icon_path().is_file()} "
          + " ".join(f"{m}={n}" for m, n in counts.items()))
    sys.exit(0 if all(counts.values()) and icon_path().is_file() else 1)
