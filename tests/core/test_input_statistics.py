"""The input statistics (mean and std of the pixels, or of the log-mel) are fitted in chunks: the same numbers as
one pass over all chosen samples, with memory bounded by the chunk, not by the 1024 samples."""
import numpy as np
import torch

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.models.inputs import Pipeline
from tests.conftest import make_images


def _one_shot(pipeline: Pipeline, samples) -> tuple[torch.Tensor, torch.Tensor]:
    """The statistics as they were fitted before, on every chosen sample at once."""
    chosen = np.unique(np.linspace(0, len(samples) - 1, min(len(samples), 1024)).astype(np.int64))
    raw = pipeline.eval_raw(samples, chosen)
    if pipeline.modality == "image":
        pixels = raw.float() / 255.0
        return pixels.mean(dim=(0, 2, 3)), pixels.std(dim=(0, 2, 3))
    spec = torch.log(pipeline.preprocess.mel(raw) + 1e-6)
    return spec.mean(), spec.std()


def test_chunked_statistics_equal_the_one_shot_ones(tiny_colour, tiny_audio):
    for folder, modality in ((tiny_colour, "image"), (tiny_audio, "audio")):
        samples = load_folder(folder, modality)
        for chunk_bytes in (1, 50_000, 1 << 30):  # one sample a chunk, a few, all at once
            pipeline = Pipeline.fit(samples, chunk_bytes=chunk_bytes)
            mean, std = _one_shot(pipeline, samples)
            torch.testing.assert_close(pipeline.preprocess.mean.flatten(), mean.flatten(), rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(pipeline.preprocess.std.flatten(), std.flatten(), rtol=1e-5, atol=1e-6)


def _peak_growth_bytes(work) -> int:
    """How far the resident memory rose above its level before `work`, measured by the kernel (VmHWM)."""
    def status(key):
        line = next(line for line in open("/proc/self/status") if line.startswith(key))
        return int(line.split()[1]) * 1024

    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak to the current resident size
    before = status("VmRSS")
    work()
    return status("VmHWM") - before


def test_fitting_memory_does_not_follow_the_1024_samples(tmp_path):
    folder = make_images(tmp_path / "images", 1024, size=(96, 96))
    samples = load_folder(folder, "image", spec=InputSpec(image_size=96))
    one_shot_floats = 1024 * 3 * 96 * 96 * 4  # 113 MB: what the chosen samples took at once in float32
    Pipeline.fit(samples)  # a first fit warms up what stays (the read-ahead thread's arena, torch's kernels)
    growth = _peak_growth_bytes(lambda: Pipeline.fit(samples))
    assert growth < one_shot_floats / 3, f"fitting rose {growth / 1e6:.0f} MB"
