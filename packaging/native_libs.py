"""What a bundle's native code needs from the system it runs on: a glibc version, and the shared
libraries it links to but does not carry (PyInstaller leaves out libc, libGL and other libraries
that must match the user's system)."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
GLIBC_VERSION = re.compile(r"GLIBC_(\d+)\.(\d+)")
# Provided by libc6 itself (glibc's own libraries), so not separate dependencies.
GLIBC_LIBS = re.compile(r"^(libc|libm|libdl|libpthread|librt|libutil|libresolv|libanl|ld-linux[-\w]*)\.so")


def elf_files(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink() and (".so" in path.name or os.access(path, os.X_OK)):
            with open(path, "rb") as f:
                if f.read(4) == ELF_MAGIC:
                    found.append(path)
    return found


def _readelf(flag: str, files: list[Path]) -> str:
    text = []
    for start in range(0, len(files), 200):  # a bounded command line
        text.append(subprocess.run(["readelf", flag, "--wide", *map(str, files[start:start + 200])],
                                   capture_output=True, text=True).stdout)
    return "".join(text)


def glibc_floor(folder: Path) -> tuple[int, int]:
    """The newest glibc symbol version any file in `folder` asks for: the oldest glibc it runs on."""
    versions = GLIBC_VERSION.findall(_readelf("-V", elf_files(folder)))
    return max(((int(a), int(b)) for a, b in versions), default=(2, 17))


def host_glibc() -> str:
    return os.confstr("CS_GNU_LIBC_VERSION").split()[-1]


def system_libraries(folder: Path) -> set[str]:
    """Sonames that the bundle's files link to but the bundle does not hold (glibc's own left out)."""
    files = elf_files(folder)
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", _readelf("-d", files)))
    carried = {path.name for path in folder.rglob("*.so*")}
    return {name for name in needed - carried if not GLIBC_LIBS.match(name)}


def debian_packages(sonames: set[str]) -> tuple[set[str], set[str]]:
    """(Debian packages that hold these libraries on this machine, sonames found in none)."""
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    paths = {}
    for line in cache.splitlines():
        match = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if match and "x86-64" in match.group(2) and match.group(1) not in paths:
            paths[match.group(1)] = match.group(3)
    packages, unresolved = set(), set()
    for soname in sorted(sonames):
        if soname not in paths:
            unresolved.add(soname)
            continue
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(paths[soname])], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", paths[soname]], capture_output=True, text=True)
        if owner.returncode == 0:
            packages.add(owner.stdout.split(":")[0].strip())
        else:
            unresolved.add(soname)
    return packages, unresolved
