"""The sample store at real size: 100k generated JPEGs at 256 px, trained at 224 px.

Prints the store's build time, size and peak RSS; then the warm-epoch throughput of training's
input path (the store read through the Feed, then SimCLR's random resized crop to 224 and a flip,
batched on the device) against torchvision's ImageFolder with a DataLoader (num_workers = cores,
RandomResizedCrop(224) and RandomHorizontalFlip per image), measured in the same process, each on
a warm page cache; and the process's RSS while reading the store.

Targets: throughput >= 3x the DataLoader's; RSS <= 1 GB while reading. The same comparison runs on a
second folder of 10k photo-sized (1024x768) JPEGs, where decoding each file costs what it costs on
real photos.

    python bench/store.py [--images 100000] [--epoch-images 20000] [--loader-images 20000] [--photos 10000]

Each rate is measured over 20k images (a warm page cache: the whole 18-GB store does not fit this
machine's memory; the cost per image does not depend on the folder's size).
"""
import argparse
import os
import resource
import threading
import time

import numpy as np
import torch
from _common import CACHE, report
from _images import generated_jpegs

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.data.store import SampleStore
from sslstudio.core.models.inputs import Pipeline
from sslstudio.core.tasks.augment import resized_crop_and_flip
from sslstudio.core.tasks.base import make_generator
from sslstudio.core.training.device import set_cpu_threads
from sslstudio.core.training.feed import Feed, SampleData

SIZE, BATCH = 224, 256


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    """The largest RSS seen while the block runs, sampled every 50 ms on a thread."""

    def __enter__(self):
        self.peak, self.stop = rss_mb(), threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def _watch(self):
        while not self.stop.wait(0.05):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def store_epoch(samples, pipeline, count: int) -> float:
    """Images per second through training's input path: feed, then the batched augmentation."""
    order = np.random.default_rng(0).permutation(len(samples))[:count]
    steps = len(order) // BATCH
    feed = Feed(SampleData(samples, pipeline), lambda s: order[s * BATCH:(s + 1) * BATCH], lambda s: s,
                torch.device("cpu"), 0, steps)
    started = time.perf_counter()
    try:
        for step in range(steps):
            raw, _ = feed.next()
            generator = make_generator(step)
            resized_crop_and_flip(raw, (0.08, 1.0), generator, size=SIZE)  # uint8, as SimCLR's views start
    finally:
        feed.close()
    return steps * BATCH / (time.perf_counter() - started)


def loader_epoch(folder, count: int) -> float:
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.RandomResizedCrop(SIZE, scale=(0.08, 1.0)),
                                    transforms.RandomHorizontalFlip(), transforms.PILToTensor()])
    dataset = datasets.ImageFolder(folder, transform=transform)
    subset = Subset(dataset, np.random.default_rng(0).permutation(len(dataset))[:count].tolist())
    loader = DataLoader(subset, batch_size=BATCH, num_workers=os.cpu_count(), drop_last=True,
                        persistent_workers=False)
    started = time.perf_counter()
    seen = 0
    for images, _ in loader:
        seen += len(images)  # uint8 views, as the store path gives
    return seen / (time.perf_counter() - started)


def compare(folder, args, label: str) -> tuple[float, float, float]:
    """(store img/s, DataLoader img/s, peak RSS while reading the store) on this folder, each warm."""
    spec = InputSpec(image_size=SIZE)
    samples = load_folder(folder, "image", spec=spec)
    pipeline = Pipeline("image", spec)
    epoch = min(args.epoch_images, len(samples))
    store_epoch(samples, pipeline, epoch)  # warms the page cache
    with PeakRss() as reading:
        ours = store_epoch(samples, pipeline, epoch)
    loader_images = min(args.loader_images, len(samples))
    loader_epoch(folder, min(loader_images, 2 * BATCH))  # starts the workers' imports once
    loader_epoch(folder, loader_images)  # warms the page cache over the files it reads
    theirs = loader_epoch(folder, loader_images)
    print(f"{label}: store + batched augmentation {ours:.0f} img/s over {epoch} images; ImageFolder + "
          f"DataLoader({os.cpu_count()} workers) {theirs:.0f} img/s over {loader_images}; ratio {ours / theirs:.2f}; "
          f"RSS while reading the store {reading.peak:.0f} MB")
    return ours, theirs, reading.peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--epoch-images", type=int, default=20_000, help="store images per timed pass "
                        "(the 100k store, 18 GB, does not fit this machine's page cache whole)")
    parser.add_argument("--loader-images", type=int, default=20_000)
    parser.add_argument("--photos", type=int, default=10_000, help="a second folder of 1024x768 JPEGs")
    args = parser.parse_args()
    set_cpu_threads(0)
    folder = CACHE / f"jpeg256_{args.images}"
    started = time.perf_counter()
    generated_jpegs(folder, args.images)
    print(f"{args.images} JPEGs at 256 px in {folder} ({time.perf_counter() - started:.0f} s to make or find)")

    spec = InputSpec(image_size=SIZE)
    store = SampleStore.for_folder(folder, "image", spec)
    fresh = not store.data_path.exists() or store.data_path.stat().st_size == 0
    with PeakRss() as building:
        started = time.perf_counter()
        samples = load_folder(folder, "image", spec=spec)
        build_s = time.perf_counter() - started
    size_gb = store.size_bytes() / 2**30
    print(f"store: {len(samples)} images {'built' if fresh else 'found'} in {build_s:.0f} s "
          f"({len(samples) / build_s:.0f} img/s), {size_gb:.1f} GB, peak RSS {building.peak:.0f} MB")
    ours, theirs, read_peak = compare(folder, args, "256-px JPEGs, warm")
    photos = generated_jpegs(CACHE / f"jpeg1024x768_{args.photos}", args.photos, 1024, 768)
    photo_ours, photo_theirs, photo_peak = compare(photos, args, "1024x768 JPEGs, warm")
    print(f"max RSS of the process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    ratio = ours / theirs
    report("store", ">= 3x the DataLoader (256-px JPEGs); <= 1024 MB RSS while reading",
           ratio >= 3 and max(read_peak, photo_peak) <= 1024, build_s=round(build_s, 1), store_gb=round(size_gb, 2),
           build_peak_rss_mb=round(building.peak), store_img_per_s=round(ours), loader_img_per_s=round(theirs),
           ratio=round(ratio, 2), read_peak_rss_mb=round(read_peak), photos_store_img_per_s=round(photo_ours),
           photos_loader_img_per_s=round(photo_theirs), photos_ratio=round(photo_ours / photo_theirs, 2),
           photos_read_peak_rss_mb=round(photo_peak))


if __name__ == "__main__":
    main()
