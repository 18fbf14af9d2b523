"""Full-size backbones (torchvision ImageNet stems, ViT-S/16, any timm model), starting weights, and the
input settings and backbone proposed for a folder."""
import numpy as np
import pytest
import torch
import torchvision

from sslstudio.core.data.survey import image_size_for, recommend, survey
from sslstudio.core.errors import UserError
from sslstudio.core.models.backbones import build_backbone, default_backbone, load_initial_weights
from tests.conftest import make_images


@pytest.mark.parametrize("name,size,dim,grid", [
    ("resnet18_imagenet", 96, 512, 3),  # stride 32
    ("resnet50", 64, 2048, 2),
    ("vit_s16", 64, 384, 4),  # 16-px patches
    ("vit_s16", 72, 384, 5),  # a side that is not a multiple of 16 is padded
    ("timm:resnet10t", 64, 512, 2),
])
def test_photo_backbones_give_an_embedding_and_a_feature_map(name, size, dim, grid):
    backbone = build_backbone("image", name, {"image_size": size})
    x = torch.randn(2, 3, size, size)
    features, embedding = backbone.features_and_embedding(x)
    assert embedding.shape == (2, dim) == backbone(x).shape and backbone.embed_dim == dim
    assert features.shape == (2, backbone.feature_channels, grid, grid)


@pytest.mark.parametrize("name", ["timm:resnet10t", "timm:vit_tiny_patch16_224"])
def test_a_timm_model_over_audio_takes_the_one_channel_log_mel(name):
    backbone = build_backbone("audio", name, {})
    spectrogram = torch.randn(2, 1, 64, 101)
    assert backbone(spectrogram).shape == (2, backbone.embed_dim)
    assert backbone.features(spectrogram).shape[:2] == (2, backbone.feature_channels)


def test_unknown_backbones_are_refused_with_the_choices():
    with pytest.raises(UserError, match="choose one of cnn_small.*timm:NAME"):
        build_backbone("image", "resnet9000", {})
    with pytest.raises(UserError, match="timm has no model 'no_such_net'"):
        build_backbone("image", "timm:no_such_net", {})
    with pytest.raises(UserError, match="timm has no model"):
        build_backbone("image", "timm:vit*", {})  # a pattern is not a model
    assert build_backbone("image", "timm:resnet10t.c3_in1k", {}).embed_dim == 512  # a pretrained tag names one


def test_starting_weights_load_from_torchvision_and_timm_files(tmp_path):
    reference = torchvision.models.resnet50()
    torch.save({"state_dict": reference.state_dict()}, tmp_path / "rn50.pth")
    backbone = build_backbone("image", "resnet50", {})
    said = load_initial_weights(backbone, tmp_path / "rn50.pth")
    assert said.startswith("318 of 318 tensors")
    torch.testing.assert_close(backbone.net.layer3[2].conv2.weight, reference.layer3[2].conv2.weight)

    import timm
    from safetensors.torch import save_file

    vit = timm.create_model("vit_small_patch16_224", pretrained=False)
    save_file(vit.state_dict(), str(tmp_path / "vit.safetensors"))
    backbone = build_backbone("image", "vit_s16", {"image_size": 224})
    load_initial_weights(backbone, tmp_path / "vit.safetensors")
    torch.testing.assert_close(backbone.net.blocks[5].mlp.fc1.weight, vit.blocks[5].mlp.fc1.weight)


def test_starting_weights_that_do_not_fit_are_refused(tmp_path):
    torch.save(torchvision.models.resnet18().state_dict(), tmp_path / "r18.pt")
    with pytest.raises(UserError, match="does not fit this backbone: 0 of its"):
        load_initial_weights(build_backbone("image", "cnn_small", {}), tmp_path / "r18.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="cannot read weights"):
        load_initial_weights(build_backbone("image", "resnet18_imagenet", {}), tmp_path / "junk.pt")


def test_defaults_suit_the_device_and_the_images():
    assert default_backbone("image", "cpu", 224) == "cnn_small"
    assert default_backbone("image", "cuda", 224) == "resnet50"
    assert default_backbone("image", "cuda", 32) == "resnet18"
    assert [image_size_for(side, "cuda") for side in (28, 72, 100, 150, 1000)] == [32, 64, 96, 128, 224]
    assert [image_size_for(side, "cpu") for side in (28, 72, 1000)] == [32, 64, 64]


def test_a_folder_of_photos_gets_a_size_an_estimate_and_a_warning(tmp_path):
    folder = make_images(tmp_path / "photos", 12, size=(400, 300))
    relpaths = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.png"))
    found = survey(folder, relpaths, "image")
    assert found.median_side == 300 and found.files == 12
    on_cpu = recommend(found, "cpu", batch_size=64)
    assert on_cpu.spec.image_size == 64 and on_cpu.store_bytes == 12 * 3 * 73 * 73
    assert on_cpu.batch_bytes == 64 * 3 * 73 * 73
    assert any("about 300 px" in w and "a GPU would train at 224" in w for w in on_cpu.warnings)
    on_gpu = recommend(found, "cuda")
    assert on_gpu.spec.image_size == 224 and not on_gpu.warnings
    kept = recommend(found, "cpu", {"image_size": 128})
    assert kept.spec.image_size == 128  # the user's value stands
    assert np.isclose(kept.store_bytes, 12 * 3 * 146 * 146)
    assert found.free_bytes > 0  # measured once with the survey, not on every edit of the settings
    found.free_bytes = 1000
    assert any("only 1000 B is free" in w or "is free where stores are kept" in w
               for w in recommend(found, "cuda").warnings)


def test_a_text_corpus_gets_a_vocabulary_of_its_size(tmp_path):
    from sslstudio.core.data.survey import vocab_size_for

    folder = tmp_path / "texts"
    folder.mkdir()
    for i in range(30):
        (folder / f"{i}.txt").write_text("a few plain words of prose " * 40)
    relpaths = sorted(p.name for p in folder.iterdir())
    found = survey(folder, relpaths, "text")
    advice = recommend(found, "cpu")
    words = found.total_bytes // 6
    assert advice.spec.vocab_size == 2000 and f"about {words:,} words" in " ".join(advice.notes)
    assert recommend(found, "cpu", {"vocab_size": 500}).spec.vocab_size == 500  # the user's value stands
    assert [vocab_size_for(w) for w in (10_000, 400_000, 3_000_000, 20_000_000, 10**9)] == [2000, 4000, 8000,
                                                                                           16000, 30000]
