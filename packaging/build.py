"""Build the Linux desktop installer and check it: `make installer` runs this.

    python packaging/build.py [--out build/installer] [--reuse-bundle] [--minimal]

1. Freeze the app with PyInstaller (packaging/sslstudio.spec, one folder).
2. Check the bundle: its glibc floor, `sslstudio --self-test`, and launch -> visible window,
   offscreen and under Xvfb on the xcb platform.
3. Package it as a .deb (dpkg-deb, zstd): the app in /opt/sslstudio, a launcher on PATH,
   a .desktop entry, icons at the usual sizes and a MIME type for .sslproj projects.
4. Check the .deb: unpack it into a scratch root and start the unpacked launcher; as root,
   install and purge it with dpkg in a scratch root and check that nothing is left behind.
5. The same app as a portable .tar.zst for other distributions, unpacked and run once.
6. Print the figures (also in OUT/build-info.json).

--minimal freezes only the launcher and the resources (CI's check of the spec; no .deb).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from linux_package import build_deb, build_tarball, check_deb, check_tarball  # noqa: E402
from native_libs import glibc_floor, host_glibc  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "installer")
    parser.add_argument("--reuse-bundle", action="store_true", help="package the bundle already in OUT/dist")
    parser.add_argument("--minimal", action="store_true", help="freeze the launcher and resources only")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    started = time.perf_counter()
    info: dict = {"variant": "minimal" if args.minimal else torch_variant()}
    bundle = out / "dist" / "sslstudio"
    if not (args.reuse_bundle and bundle.is_dir()):
        if not args.minimal:
            require_xcb_libraries()
        info["freeze_s"] = freeze(out, args.minimal)
    executable = bundle / "sslstudio"
    if args.minimal:
        result = run([str(executable)], timeout=60)
        print(result.stdout.strip())
        info["bundle_mb"] = tree_mb(bundle)
        report(info, out, started)
        return result.returncode

    floor = glibc_floor(bundle)
    info["glibc_floor"], info["build_glibc"] = ".".join(map(str, floor)), host_glibc()
    if floor > tuple(map(int, host_glibc().split("."))):
        raise SystemExit(f"the bundle needs glibc {info['glibc_floor']}, newer than this machine's {host_glibc()}")
    info["self_test_s"] = self_test(executable)
    info["launch_to_window_s"] = {"offscreen": launch_to_window(executable, "offscreen")}
    if shutil.which("Xvfb"):
        info["launch_to_window_s"]["xcb"] = launch_to_window(executable, "xcb")
    info["bundle_mb"] = tree_mb(bundle)
    info["largest_mb"] = largest_parts(bundle)
    deb = build_deb(bundle, out, info["variant"])
    info["deb"] = deb.name
    info["deb_mb"] = round(deb.stat().st_size / 2**20, 1)
    info.update(check_deb(deb, launch_to_window))
    archive = build_tarball(bundle, out, info["variant"])
    check_tarball(archive)
    info["tarball"], info["tarball_mb"] = archive.name, round(archive.stat().st_size / 2**20, 1)
    report(info, out, started)
    return 0


def torch_variant() -> str:
    """"cpu" or "cuda13"-like: which torch the build environment holds, so which one is bundled."""
    import torch

    return f"cuda{torch.version.cuda.split('.')[0]}" if torch.version.cuda else "cpu"


def require_xcb_libraries() -> None:
    """Qt's xcb platform plugin is only bundled when its libraries exist here; without them the app
    would start on a desktop with "could not load the Qt platform plugin xcb"."""
    found = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    missing = [lib for lib in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxkbcommon-x11.so.0")
               if lib not in found]
    if missing:
        raise SystemExit(f"missing on the build machine: {', '.join(missing)}. Install them first, e.g. "
                         "apt-get install libxcb-cursor0 libxcb-icccm4 libxkbcommon-x11-0 libxcb-keysyms1 "
                         "libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1")


def freeze(out: Path, minimal: bool) -> float:
    start = time.perf_counter()
    env = {**os.environ, "SSLSTUDIO_FREEZE": "minimal" if minimal else "full"}
    # --clean: PyInstaller's cache in the work folder has kept a changed module's old code.
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(out / "dist"), "--workpath", str(out / "work"),
                    str(HERE / "sslstudio.spec")], check=True, env=env, cwd=ROOT)
    return round(time.perf_counter() - start, 1)


def clean_env(home: Path, **extra: str) -> dict:
    """The environment of a user who never ran sslstudio: nothing from this build's venv or settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("SSLSTUDIO_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"),
               XDG_CACHE_HOME=str(home / ".cache"), **extra)
    return env


def run(command: list[str], timeout: float, **env: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="sslstudio-home-") as home:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=clean_env(Path(home), **env))


def self_test(executable: Path) -> float:
    start = time.perf_counter()
    result = run([str(executable), "--self-test"], timeout=900, QT_QPA_PLATFORM="offscreen")
    seconds = round(time.perf_counter() - start, 1)
    print(result.stdout)
    if result.returncode != 0:
        raise SystemExit(f"--self-test failed on the frozen app (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return seconds


def launch_to_window(executable: Path, platform: str, attempts: int = 2) -> float:
    """Seconds from starting the app to its window on screen, best of `attempts` (the first one
    also warms the disk cache). xcb runs on a private Xvfb display."""
    times = []
    display = _start_xvfb() if platform == "xcb" else None
    try:
        for _ in range(attempts):
            with tempfile.TemporaryDirectory(prefix="sslstudio-home-") as home:
                env = clean_env(Path(home), QT_QPA_PLATFORM=platform, SSLSTUDIO_QUIT_WHEN_SHOWN="1")
                if display:
                    env["DISPLAY"] = display[0]
                start = time.perf_counter()
                child = subprocess.Popen([str(executable), "gui"], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, env=env)
                line = child.stdout.readline()
                times.append(time.perf_counter() - start)
                _, errors = child.communicate(timeout=120)
                if "window shown" not in line or child.returncode != 0:
                    raise SystemExit(f"the frozen app did not show its window on {platform} "
                                     f"(exit {child.returncode}):\n{line}{errors[-3000:]}")
    finally:
        if display:
            display[1].terminate()
    return round(min(times), 2)


def _start_xvfb() -> tuple[str, subprocess.Popen]:
    """A private X server on a free display: Xvfb picks the number and writes it once it is ready."""
    server = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1360x860x24", "-nolisten", "tcp"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    number = server.stdout.readline().strip()
    if not number.isdigit():
        server.terminate()
        raise SystemExit("could not start Xvfb")
    return f":{number}", server


def tree_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20, 1)


def largest_parts(bundle: Path, count: int = 12) -> dict[str, float]:
    """Megabytes per top folder two levels down (nvidia/cu13, torch/lib, PySide6/Qt, ...)."""
    sizes: dict[str, int] = {}
    internal = bundle / "_internal"
    for path in internal.rglob("*"):
        if path.is_file() and not path.is_symlink():
            parts = path.relative_to(internal).parts
            key = "/".join(parts[:2]) if len(parts) > 2 else parts[0]
            sizes[key] = sizes.get(key, 0) + path.stat().st_size
    top = sorted(sizes.items(), key=lambda item: -item[1])[:count]
    return {key: round(size / 2**20, 1) for key, size in top}


def report(info: dict, out: Path, started: float) -> None:
    info["build_s"] = round(time.perf_counter() - started, 1)
    out.mkdir(parents=True, exist_ok=True)
    (out / "build-info.json").write_text(json.dumps(info, indent=2) + "\n")
    print("\n== sslstudio installer build ==")
    for key, value in info.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for name, figure in value.items():
                print(f"    {name:<28} {figure}")
        else:
            print(f"{key:<32} {value}")


if __name__ == "__main__":
    sys.exit(main())
