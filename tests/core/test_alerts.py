from sslstudio.core.training.alerts import alerts_for
from sslstudio.core.training.events import HealthMetrics, StepMetrics, TrainingFailed


def health(std, rank, dim=128):
    return HealthMetrics(step=40, collapse_std=std, healthy_std=dim ** -0.5, effective_rank=rank, embed_dim=dim)


def test_healthy_embeddings_raise_nothing():
    assert alerts_for(health(0.08, 60.0)) == []


def test_collapse_and_low_rank_are_named_with_their_numbers():
    found = alerts_for(health(0.004, 1.2))
    assert found[0].startswith("embeddings are collapsing: std 0.0040") and "step 40" in found[0]
    assert "effective rank 1.2 of 128" in found[1]


def test_a_slow_loader_is_called_out():
    step = StepMetrics(step=9, epoch=0, total_steps=100, loss=1.0, lr=1e-3, samples_per_s=10.0, eta_s=5.0,
                       data_wait_share=0.4)
    assert alerts_for(step) == ["the data pipeline is the bottleneck: 40% of the time is spent waiting for "
                                "batches (step 9)"]
    assert alerts_for(TrainingFailed(12, "loss is NaN at step 12")) == ["loss is NaN at step 12"]


def step_with_accuracy(step, accuracy):
    return StepMetrics(step=step, epoch=0, total_steps=None, loss=0.1, lr=1e-3, samples_per_s=10.0, eta_s=5.0,
                       data_wait_share=0.0, metrics={"accuracy": accuracy})


def test_a_task_solved_in_its_first_hundred_steps_is_called_too_easy():
    [alert] = alerts_for(step_with_accuracy(80, 0.97))
    assert alert.startswith("the task is too easy for this data: pretext accuracy 97% by step 80")
    assert alerts_for(step_with_accuracy(80, 0.90)) == []  # still learning
    assert alerts_for(step_with_accuracy(400, 0.99)) == []  # a task mastered late has taught along the way
