"""Scan a folder of 100k small files. Target: <= 1 s. Ratio: against a bare os.walk listing."""
import os
import tempfile
import time
from pathlib import Path

from _common import report

from sslstudio.core.data.scan import scan_folder

N, PER_FOLDER = 100_000, 1000


def build(root: Path) -> None:
    for i in range(N):
        folder = root / f"class_{i // PER_FOLDER:03d}"
        if i % PER_FOLDER == 0:
            folder.mkdir()
        (folder / f"img_{i:06d}.png").write_bytes(b"x")  # one byte: an empty file is reported, not listed


def best_of(fn, repeats=3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root)
        walk = best_of(lambda: sum(len(files) for _, _, files in os.walk(root)))
        scan_s = best_of(lambda: scan_folder(root))
        found = len(scan_folder(root).files["image"])
    assert found == N
    print(f"scan of {N} files: {scan_s:.3f} s ({N / scan_s:,.0f} files/s); bare os.walk {walk:.3f} s")
    report("scan", "<= 1.0 s for 100k files", scan_s <= 1.0, seconds=round(scan_s, 3),
           files_per_s=round(N / scan_s), ratio_to_os_walk=round(scan_s / walk, 2))


if __name__ == "__main__":
    main()
