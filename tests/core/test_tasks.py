"""Every registered task: one step trains, the loss falls, previews are faithful and seeded."""
import numpy as np
import pytest
import torch

from sslstudio.core.tasks.base import make_generator
from sslstudio.core.tasks.registry import TASKS
from sslstudio.core.training.events import StepMetrics, TrainingFinished
from sslstudio.core.training.trainer import TrainConfig, Trainer

from .helpers import build


@pytest.fixture
def folder_for(tiny_images, tiny_colour, tiny_audio, tiny_text):
    class Folders(dict):
        def of(self, name):
            return tiny_colour if TASKS[name].needs_colour else self[TASKS[name].modality]
    return Folders(image=tiny_images, audio=tiny_audio, text=tiny_text)


def train_losses(task, model, raw, steps: int, batch_size: int, metric: str | None = None) -> list[float]:
    """The loss at every step, or the task metric `metric`."""
    losses = []
    config = TrainConfig(epochs=100_000, max_steps=steps, batch_size=batch_size, log_every=1, lr=2e-3)
    trainer = Trainer(task, model, raw, config, callbacks=[
        lambda e: losses.append(e.metrics[metric] if metric else e.loss) if isinstance(e, StepMetrics)
        else None])
    result = trainer.fit()
    assert isinstance(result, TrainingFinished), result
    assert len(losses) == steps and all(np.isfinite(losses))
    return losses


@pytest.mark.parametrize("name", sorted(TASKS))
def test_one_training_step_changes_the_weights(name, folder_for):
    torch.manual_seed(0)
    task, model, raw = build(folder_for.of(name), name)
    before = [p.detach().clone() for p in model.backbone.parameters()]
    train_losses(task, model, raw, steps=1, batch_size=8)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.backbone.parameters(), strict=True))


@pytest.fixture(scope="module")
def small_real_sets(tmp_path_factory):
    """Bigger slices of the bundled real data than the tiny fixtures: 200 images, 60 clips, 200 texts."""
    from tests.conftest import copy_subset

    root = tmp_path_factory.mktemp("small")
    return {"image": copy_subset("image", root / "image", classes=10, per_class=20),
            "colour": copy_subset("emoji", root / "colour", classes=6, per_class=30),
            "audio": copy_subset("audio", root / "audio", classes=10, per_class=6),
            "text": copy_subset("text", root / "text", classes=5, per_class=40)}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_loss_falls_over_a_few_hundred_steps_on_real_data(name, small_real_sets):
    from sslstudio.core.data.loaders import InputSpec

    torch.manual_seed(0)
    modality = TASKS[name].modality
    folder = small_real_sets["colour" if TASKS[name].needs_colour else modality]
    # Half-second clips keep the audio tasks' 200 steps affordable on a CI core.
    spec = InputSpec(audio_seconds=0.5) if modality == "audio" else None
    extra = {"segment_seconds": 0.25} if name == "audio_contrastive" else {}
    if name == "vicreg":  # 16 samples span at most 15 directions: a 1024-wide expander's covariance cannot fall
        extra = {"projection_dim": 128}
    task, model, raw = build(folder, name, spec=spec, **extra)
    # Rotation puts all four angles of each image in the batch, and audio steps are slow on a CI core.
    batch_size = 8 if modality == "audio" or name == "rotation" else 16
    # DINO's loss is the teacher's entropy, which starts near log K and falls only as the teacher sharpens
    # over thousands of steps, plus the student's KL to the teacher, which is what falls in 200.
    losses = train_losses(task, model, raw, steps=200, batch_size=batch_size, metric="kl" if name == "dino" else None)
    assert np.mean(losses[-20:]) < 0.9 * np.mean(losses[:20]), losses[::10]


@pytest.mark.parametrize("name", sorted(TASKS))
def test_preview_is_made_by_the_training_transform(name, folder_for):
    task, _, raw = build(folder_for.of(name), name)
    few = raw[:3]
    batch = task.make_batch(few, make_generator(7))
    first, again, other = task.preview(few, 7), task.preview(few, 7), task.preview(few, 8)
    assert len(first) == 3
    model_input = first[0].items[0]
    if model_input.kind == "image" and batch.inputs.dim() == 5:  # jigsaw: tiles laid out on a board
        tile = task.pipeline.preprocess.to_display(batch.inputs[0, :1])[0]
        np.testing.assert_array_equal(model_input.data[:tile.shape[0], :tile.shape[1]], tile)
    elif name == "colorization":  # the input is lightness alone, shown as a grey picture
        lightness = batch.inputs[:1, :1] * 25 + 50
        grey = task._to_display(lightness, torch.zeros(1, 2, *lightness.shape[-2:]))[0]
        np.testing.assert_array_equal(model_input.data, grey)
    elif model_input.kind == "image":
        np.testing.assert_array_equal(model_input.data, task.pipeline.preprocess.to_display(batch.inputs[:1])[0])
    elif model_input.kind == "spectrogram":
        np.testing.assert_allclose(model_input.data, batch.inputs[0, 0].numpy())
        if "mask" in batch.params:
            np.testing.assert_array_equal(model_input.mask, batch.params["mask"][0, 0].numpy())
    else:
        to_token = task.pipeline.tokenizer.id_to_token
        assert model_input.data == [to_token(t) for t in batch.inputs[0, :len(model_input.data)].tolist()]
    assert _fingerprint(first) == _fingerprint(again)
    assert (_fingerprint(first) != _fingerprint(other)) == TASKS[name].stochastic_input


def _fingerprint(previews):
    parts = []
    for sample in previews:
        for item in sample.items:
            data = item.data if isinstance(item.data, list) else np.asarray(item.data).round(4).tolist()
            parts.append((item.kind, str(data), str(None if item.mask is None else np.asarray(item.mask).tolist())))
    return parts


def test_rotation_random_angle_mode_matches_targets(tiny_images):
    task, _, raw = build(tiny_images, "rotation", all_rotations=False, shift=0, flip=False)
    batch = task.make_batch(raw[:8], make_generator(1))
    cropped, _ = task.crop_stored(raw[:8], make_generator(1))  # the first draws: a square of the stored image
    assert batch.size == 8 and cropped.shape[-1] == task.pipeline.spec.image_size < raw.shape[-1]
    for i in range(8):
        k = int(batch.targets[i])
        expected = task.pipeline.preprocess(torch.rot90(cropped[i:i + 1], k, dims=(2, 3)))
        torch.testing.assert_close(batch.inputs[i:i + 1], expected)


def test_mlm_selection_follows_bert_proportions(tiny_text):
    task, _, raw = build(tiny_text, "mlm")
    batch = task.make_batch(raw, make_generator(0))
    selected = batch.params["selected"]
    ordinary = raw >= 5
    share = selected.sum().item() / ordinary.sum().item()
    assert 0.12 < share < 0.19
    masked_share = batch.params["masked"].sum().item() / selected.sum().item()
    assert 0.7 < masked_share < 0.9
    assert (batch.targets[~selected] == -100).all()
    assert (batch.targets[selected] == raw[selected]).all()


def test_masked_spectrogram_loss_only_counts_masked_bins(tiny_audio):
    task, model, raw = build(tiny_audio, "masked_spectrogram")
    batch = task.make_batch(raw[:4], make_generator(0))
    loss_before = task.forward(model.backbone, model.heads, batch).loss
    batch.targets = torch.where(batch.params["mask"], batch.targets, batch.targets + 100.0)
    loss_after = task.forward(model.backbone, model.heads, batch).loss
    torch.testing.assert_close(loss_before, loss_after)


def test_shift_crop_and_flip_move_pixels_as_their_parameters_say():
    from sslstudio.core.tasks.augment import horizontal_flip, shift_crop

    images = torch.arange(2 * 3 * 6 * 5, dtype=torch.uint8).view(2, 3, 6, 5)
    shifted, offsets = shift_crop(images, 2, make_generator(4))
    for b in range(2):
        dy, dx = offsets[b].tolist()
        padded = torch.nn.functional.pad(images[b], (2, 2, 2, 2))
        torch.testing.assert_close(shifted[b], padded[:, 2 + dy:2 + dy + 6, 2 + dx:2 + dx + 5])
    flipped, which = horizontal_flip(images, make_generator(0), probability=1.0)
    assert which.all() and torch.equal(flipped, images.flip(3))
    kept, which = horizontal_flip(images, make_generator(0), probability=0.0)
    assert not which.any() and torch.equal(kept, images)


def test_byol_target_follows_the_online_network_by_ema_only(tiny_images):
    task, model, raw = build(tiny_images, "byol", ema_start=0.9)
    heads = model.heads
    assert not any(p.requires_grad for p in heads.target_backbone.parameters())
    online_before = [p.clone() for p in model.backbone.parameters()]
    target_before = [p.clone() for p in heads.target_backbone.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(online_before, target_before))  # starts as a copy
    Trainer(task, model, raw, TrainConfig(epochs=10, max_steps=1, batch_size=8)).fit()
    for target, start in zip(heads.target_backbone.parameters(), target_before):
        # one step at progress 1/1: momentum is 1 at the end of the cosine, so the last update leaves the target
        torch.testing.assert_close(target, start)
    task.after_step(model, 0.0)  # momentum 0.9 at the start: target moves 10 % of the way
    for online, target, start in zip(model.backbone.parameters(), heads.target_backbone.parameters(), target_before):
        torch.testing.assert_close(target, start + 0.1 * (online - start))


@pytest.mark.parametrize("name", ["inpainting", "masked_spectrogram", "mlm"])
def test_live_preview_adds_the_models_output_and_training_improves_it(name, folder_for):
    torch.manual_seed(0)
    task, model, raw = build(folder_for.of(name), name)
    few = raw[:3]
    before = task.live_preview(model.backbone, model.heads, few, seed=5)
    assert [len(s.items) for s in before] == [len(s.items) + 1 for s in task.preview(few, 5)]
    output = before[0].items[-1]
    assert output.title.startswith("model's")
    assert model.backbone.training and model.heads.training  # modes restored
    if name == "inpainting":
        Trainer(task, model, raw, TrainConfig(epochs=100, max_steps=30, batch_size=16, lr=3e-3)).fit()
        after = task.live_preview(model.backbone, model.heads, few, seed=5)
        def error(previews):
            return np.mean([s.items[-1].params["masked_mse"] for s in previews])
        assert error(after) < 0.7 * error(before)


def test_jigsaw_permutations_are_distinct_and_far_apart():
    from sslstudio.core.tasks.jigsaw import permutation_set

    perms = permutation_set(100)
    assert perms.shape == (100, 9) and len({tuple(p) for p in perms}) == 100
    assert all(sorted(p) == list(range(9)) for p in perms)
    distances = (perms[:, None] != perms[None]).sum(2) + 9 * np.eye(100, dtype=int)
    assert distances.min() >= 6  # the greedy max-min choice; random picks often share 4+ tiles


def test_jigsaw_tiles_come_from_the_cells_the_permutation_names(tiny_images):
    task, _, raw = build(tiny_images, "jigsaw", gap=0.0)
    batch = task.make_batch(raw[:2], make_generator(3))
    images = task.pipeline.preprocess(task.crop_stored(raw[:2], make_generator(3))[0])
    cell = images.shape[-1] // 3
    for b in range(2):
        for slot, source in enumerate(batch.params["order"][b].tolist()):
            row, col = divmod(source, 3)
            torch.testing.assert_close(batch.inputs[b, slot],
                                       images[b, :, row * cell:(row + 1) * cell, col * cell:(col + 1) * cell])


def test_lab_conversion_round_trips_and_knows_its_landmarks():
    from sslstudio.core.tasks.colorization import lab_to_rgb, rgb_to_lab

    rgb = torch.rand(2, 3, 8, 8, generator=make_generator(0))
    torch.testing.assert_close(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=2e-3, rtol=0)
    white, red = rgb_to_lab(torch.ones(1, 3, 1, 1)), rgb_to_lab(torch.tensor([1.0, 0, 0]).view(1, 3, 1, 1))
    torch.testing.assert_close(white.flatten(), torch.tensor([100.0, 0.0, 0.0]), atol=0.05, rtol=0)
    torch.testing.assert_close(red.flatten(), torch.tensor([53.24, 80.09, 67.20]), atol=0.3, rtol=0)


def test_audio_crops_longer_than_the_clip_are_refused(tiny_audio):
    from sslstudio.core.errors import ArgsError

    with pytest.raises(ArgsError, match="'segment_seconds' must be at most the clip length"):
        build(tiny_audio, "audio_contrastive", segment_seconds=2.0)


def test_audio_denoising_hits_the_sampled_snr(tiny_audio):
    task, _, raw = build(tiny_audio, "audio_denoising", clip_prob=0.0, lowpass_prob=0.0, drop_prob=0.0)
    distorted, params = task.distort(raw[:4].float(), make_generator(0))
    noise = distorted - raw[:4]
    measured = 10 * torch.log10(raw[:4].pow(2).mean(1) / noise.pow(2).mean(1))
    torch.testing.assert_close(measured, params["snr_db"], atol=0.3, rtol=0)


def test_butterworth_lowpass_follows_its_cutoff_per_row():
    from sslstudio.core.tasks.audio_denoising import butterworth_lowpass

    rate, t = 16000, torch.arange(16000) / 16000
    tones = torch.stack([torch.sin(2 * torch.pi * 300 * t) + torch.sin(2 * torch.pi * 6000 * t)] * 2)
    filtered = butterworth_lowpass(tones, rate, torch.tensor([1000.0, 0.0]))
    spectrum = torch.fft.rfft(filtered, dim=1).abs()
    original = torch.fft.rfft(tones, dim=1).abs()
    gain = spectrum / original.clamp(min=1e-6)
    assert gain[0, 300] > 0.95 and gain[0, 6000] < 0.05  # -3 dB at 1 kHz, -43 dB at 6 kHz
    torch.testing.assert_close(filtered[1], tones[1], atol=1e-4, rtol=0)  # cutoff 0: untouched


def test_dropped_segments_stay_within_their_budget():
    from sslstudio.core.tasks.audio_denoising import dropped_segments

    dropped = dropped_segments(500, 1000, 0.5, make_generator(0))
    share = dropped.float().mean(1)
    assert 0.3 < (share > 0).float().mean() < 0.7  # about half the clips lose something
    assert share.max() <= 0.3  # at most three segments of 10 %


def test_dino_student_sees_local_crops_the_teacher_does_not(tiny_images):
    task, model, raw = build(tiny_images, "dino", local_crops=3)
    batch = task.make_batch(raw[:4], make_generator(0))
    side = task.local_side()
    assert batch.inputs.shape[0] == 8 and batch.params["local"].shape == (12, 3, side, side)
    assert side == task.pipeline.spec.image_size // 2
    boxes = batch.params["local_crop_box"]  # (x, y, w, h) in pixels of the stored image, per image and crop
    stored_area = raw.shape[-1] * raw.shape[-2]
    assert ((boxes[..., 2] * boxes[..., 3]) <= task.args.crop_min_scale * stored_area * 1.01).all()
    out = task.forward(model.backbone, model.heads, batch)
    assert out.metrics["teacher_entropy"] <= np.log(task.args.prototypes) + 1e-4
    assert out.metrics["kl"] >= -1e-4 and out.embeddings.shape[0] == 4
    centre_before = model.heads.centre.clone()
    model.train()
    task.forward(model.backbone, model.heads, batch)
    assert not torch.equal(model.heads.centre, centre_before)  # the teacher's running mean moved
    assert task.teacher_temp() == task.args.teacher_temp_start  # warms up with the budget
    task.after_step(model, 0.3)
    assert task.teacher_temp() == pytest.approx(task.args.teacher_temp)


def test_dino_trains_a_vision_transformer_on_global_and_local_crops(tiny_images, tmp_path):
    from sslstudio.core.training.session import TrainRequest, train

    finished = train(TrainRequest(tiny_images, tmp_path / "run", "dino", {"local_crops": 2},
                                  backbone="timm:vit_tiny_patch16_224", inputs={"image_size": 32},
                                  train_settings={"max_steps": 2, "batch_size": 8}))
    assert isinstance(finished, TrainingFinished) and finished.step == 2


def test_mlm_span_masking_selects_contiguous_spans_at_about_the_same_share(tiny_text):
    task, _, raw = build(tiny_text, "mlm", span_length=3.8)
    selected = task._select(torch.Size([4000, 64]), make_generator(0))
    share = selected.float().mean().item()
    assert 0.10 < share < 0.17  # overlapping spans cover a little less than mask_prob
    runs = torch.diff(torch.nn.functional.pad(selected.int(), (1, 1)), dim=1)
    starts, ends = (runs == 1).nonzero()[:, 1], (runs == -1).nonzero()[:, 1]
    mean_run = (ends - starts).float().mean().item()
    assert 3.0 < mean_run < 5.5  # spans, not single tokens (overlaps merge some)
    single = build(tiny_text, "mlm")[0]._select(torch.Size([4000, 64]), make_generator(0))
    runs = torch.diff(torch.nn.functional.pad(single.int(), (1, 1)), dim=1)
    assert ((runs == -1).nonzero()[:, 1] - (runs == 1).nonzero()[:, 1]).float().mean() < 1.3
