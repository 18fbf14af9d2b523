"""Reference runs: a trained run slimmed to its backbone in half precision loads and embeds like the run,
cannot be resumed, and the ones shipped in resources/ say how they were made."""
import numpy as np
import pytest
import torch

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.embeddings.extract import compute_embeddings
from sslstudio.core.errors import RunError
from sslstudio.core.reference import COMMAND, reference_run, slim_copy
from sslstudio.core.training.session import TrainRequest, load_run, train


def test_a_slim_copy_embeds_like_the_run_and_is_smaller(tiny_text, tmp_path):
    train(TrainRequest(tiny_text, tmp_path / "run", "mlm", train_settings={"max_steps": 3, "batch_size": 8}))
    slim_copy(tmp_path / "run", tmp_path / "ref", {"recipe": None, "minutes": 0.1, "seed": 0, "device": "CPU",
                                                  "steps": 3, "seconds": 1.0, "command": COMMAND})
    samples = load_folder(tiny_text, "text")
    full, slim = load_run(tmp_path / "run"), load_run(tmp_path / "ref")
    assert slim.config["reference"]["steps"] == 3 and slim.config["task"] == "mlm"
    np.testing.assert_allclose(compute_embeddings(slim, samples), compute_embeddings(full, samples), atol=2e-2)
    weights = torch.load(tmp_path / "ref" / "checkpoints" / "last.pt", weights_only=True)["model"]
    assert {v.dtype for v in weights.values() if v.is_floating_point()} == {torch.float16}
    assert (tmp_path / "ref" / "checkpoints" / "last.pt").stat().st_size < \
        (tmp_path / "run" / "checkpoints" / "last.pt").stat().st_size / 4  # no heads, no optimizer, half precision
    with pytest.raises(RunError, match="holds a backbone alone"):
        train(TrainRequest(tiny_text, tmp_path / "ref", resume=True))


@pytest.mark.parametrize("modality", ["image", "audio", "text"])
def test_the_shipped_reference_runs_load_and_say_how_they_were_made(modality):
    path = reference_run(modality)
    assert path is not None, f"resources/reference-runs/{modality} is missing: run `make demo-runs`"
    run = load_run(path)
    made = run.config["reference"]
    assert made["command"] == COMMAND and made["minutes"] > 0 and made["steps"] > 0 and "seed" in made
    assert run.config["recipe"] == made["recipe"] and run.modality == modality
    assert (path / "checkpoints" / "last.pt").stat().st_size < 4_000_000  # small enough to ship


@pytest.mark.parametrize("modality", ["image", "audio", "text"])
def test_a_shipped_reference_run_names_no_path_of_the_machine_that_made_it(modality):
    path = reference_run(modality)
    text = (path / "config.json").read_text()
    assert '"folder": "resources/demo/' in text and not any(f'"{root}' in text for root in ("/", "C:\\\\"))
