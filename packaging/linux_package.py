"""The .deb: the frozen app in /opt/sslstudio, a launcher on PATH, desktop integration; and its checks."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from native_libs import debian_packages, glibc_floor, system_libraries
from project_version import version

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LINUX = HERE / "linux"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def build_deb(bundle: Path, out: Path, variant: str) -> Path:
    """Stage the package tree next to the bundle and build `sslstudio_VERSION_amd64-VARIANT.deb`."""
    stage = out / "deb-root"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(bundle, stage / "opt" / "sslstudio", symlinks=True)
    _install(LINUX / "sslstudio-launcher.sh", stage / "usr/bin/sslstudio", 0o755)
    _install(LINUX / "sslstudio.desktop", stage / "usr/share/applications/sslstudio.desktop")
    _install(LINUX / "sslstudio-mime.xml", stage / "usr/share/mime/packages/sslstudio.xml")
    _install(ROOT / "resources/icons/sslstudio.svg", stage / "usr/share/icons/hicolor/scalable/apps/sslstudio.svg")
    render_icons(ROOT / "resources/icons/sslstudio.svg", stage / "usr/share/icons/hicolor")
    # The MIME type's own icon: file managers show .sslproj files with the app's mark.
    _install(ROOT / "resources/icons/sslstudio.svg",
             stage / "usr/share/icons/hicolor/scalable/mimetypes/application-x-sslstudio-project.svg")
    for script in ("postinst", "postrm"):
        _install(LINUX / script, stage / "DEBIAN" / script, 0o755)
    _write_control(stage, bundle, variant)
    deb = out / f"sslstudio_{version()}_amd64-{variant}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zzstd", "--build", str(stage), str(deb)], check=True,
                   stdout=subprocess.DEVNULL)
    shutil.rmtree(stage)
    return deb


def build_tarball(bundle: Path, out: Path, variant: str) -> Path:
    """The same app as a portable archive for other distributions (any with glibc >= the floor):
    unpack anywhere and run sslstudio/sslstudio."""
    archive = out / f"sslstudio-{version()}-linux-x86_64-{variant}.tar.zst"
    subprocess.run(["tar", "--zstd", "-cf", str(archive), "-C", str(bundle.parent), bundle.name], check=True,
                   env={**os.environ, "ZSTD_NBTHREADS": "0"})
    return archive


def check_tarball(archive: Path) -> None:
    """Unpack the archive into a scratch folder and run the app's --version from there."""
    with tempfile.TemporaryDirectory(prefix="sslstudio-tar-") as scratch:
        subprocess.run(["tar", "--zstd", "-xf", str(archive), "-C", scratch], check=True)
        result = subprocess.run([str(Path(scratch) / "sslstudio" / "sslstudio"), "--version"], capture_output=True,
                                text=True, timeout=60)
        if result.returncode != 0 or result.stdout.strip() != version():
            raise SystemExit(f"the unpacked {archive.name} does not run: {result.stderr[-2000:]}")


def _install(source: Path, target: Path, mode: int = 0o644) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def render_icons(svg: Path, hicolor: Path) -> None:
    """PNG icons at the usual sizes, drawn from the SVG with Qt (no extra tools at build time)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - QPainter needs one alive
    renderer = QSvgRenderer(str(svg))
    for size in ICON_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        target = hicolor / f"{size}x{size}" / "apps" / "sslstudio.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target)):
            raise SystemExit(f"could not write the {size} px icon")


def _write_control(stage: Path, bundle: Path, variant: str) -> None:
    floor = ".".join(map(str, glibc_floor(bundle)))
    packages, unresolved = debian_packages(system_libraries(bundle))
    if unresolved:
        # Optional Qt plugins (Wayland, other image formats) link to libraries this machine lacks;
        # Qt skips such a plugin at run time, so they are reported, not required.
        print(f"note: no package here provides {', '.join(sorted(unresolved))}; the plugins needing them "
              "are skipped at run time")
    depends = [f"libc6 (>= {floor})"] + sorted(packages - {"libc6"})
    installed_kib = sum(p.stat().st_size for p in stage.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    gpu = variant.startswith("cuda")
    (stage / "DEBIAN" / "control").write_text(
        f"Package: sslstudio\nVersion: {version()}\nArchitecture: amd64\nSection: science\nPriority: optional\n"
        "Maintainer: sslstudio developers <sslstudio@users.noreply.github.com>\n"
        f"Installed-Size: {installed_kib}\nDepends: {', '.join(depends)}\n"
        "Homepage: https://github.com/sslstudio/sslstudio\n"
        "Description: self-supervised learning workbench"
        + (" (with NVIDIA CUDA libraries)" if gpu else " (CPU)") + "\n"
        " Point sslstudio at a folder of unlabelled images, audio or text, pick a pretext\n"
        " task, preview what the model sees, train it with live plots, explore the\n"
        " embeddings and measure what a few labels buy with probes and fine-tuning.\n"
        + (" This build carries PyTorch's CUDA libraries and uses an NVIDIA GPU when\n"
           " there is one; it runs on the CPU otherwise.\n" if gpu else ""))


def check_deb(deb: Path, launch_to_window) -> dict:
    """Unpack the .deb into a scratch root and start its launcher; as root, also install and
    purge it with dpkg in a scratch root and check that no file is left."""
    figures = {}
    contents = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True,
                              check=True).stdout
    for required in ("./usr/bin/sslstudio", "./usr/share/applications/sslstudio.desktop",
                     "./usr/share/icons/hicolor/48x48/apps/sslstudio.png", "./usr/share/mime/packages/sslstudio.xml",
                     "./opt/sslstudio/sslstudio", "./opt/sslstudio/_internal/torch/bin/torch_shm_manager"):
        if required not in contents:
            raise SystemExit(f"{deb.name} lacks {required}")
    with tempfile.TemporaryDirectory(prefix="sslstudio-deb-") as scratch:
        subprocess.run(["dpkg", "-x", str(deb), scratch], check=True)
        launcher = Path(scratch) / "usr/bin/sslstudio"
        figures["installed_mb"] = round(sum(p.stat().st_size for p in Path(scratch).rglob("*")
                                            if p.is_file() and not p.is_symlink()) / 2**20, 1)
        figures["installed_launcher_to_window_s"] = launch_to_window(launcher, "offscreen", attempts=1)
    if os.geteuid() == 0:
        figures["purge_leaves"] = install_and_purge(deb)
        if figures["purge_leaves"]:
            raise SystemExit(f"purging {deb.name} left {figures['purge_leaves']}")
    return figures


def install_and_purge(deb: Path) -> list[str]:
    """Install with dpkg into an empty scratch root (maintainer scripts included), purge, and list what
    remains outside dpkg's own database."""
    with tempfile.TemporaryDirectory(prefix="sslstudio-dpkg-") as root:
        database = Path(root) / "var/lib/dpkg"
        for folder in ("info", "updates", "triggers"):
            (database / folder).mkdir(parents=True)
        (database / "status").touch()
        (database / "available").touch()
        dpkg = ["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends", f"--log={root}/dpkg.log"]
        subprocess.run([*dpkg, "--install", str(deb)], check=True, capture_output=True)
        if not (Path(root) / "opt/sslstudio/sslstudio").is_file():
            raise SystemExit("dpkg --install put no app in /opt/sslstudio")
        subprocess.run([*dpkg, "--purge", "sslstudio"], check=True, capture_output=True)
        return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*")
                      if not p.is_dir() and not str(p.relative_to(root)).startswith("var/lib/dpkg")
                      and p.name != "dpkg.log")
