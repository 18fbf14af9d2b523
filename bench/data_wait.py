"""Share of training time spent waiting for data, rotation on the demo images, CPU. Target: <= 5 %."""
from _common import REPO, report

from sslstudio.core.training.events import StepMetrics
from sslstudio.core.training.session import TrainRequest, train

STEPS = 60


def main() -> None:
    import tempfile

    events = []
    with tempfile.TemporaryDirectory() as tmp:
        request = TrainRequest(REPO / "resources" / "demo" / "image", tmp, "rotation",
                               train_settings={"max_steps": STEPS, "epochs": 1000, "batch_size": 64},
                               device="cpu")
        train(request, [lambda e: events.append(e) if isinstance(e, StepMetrics) else None])
    measured = events[1:]  # the first window includes allocator and kernel warm-up
    share = sum(e.data_wait_share for e in measured) / len(measured)
    speed = sum(e.samples_per_s for e in measured) / len(measured)
    print(f"data wait {share:.1%} of step time at {speed:.0f} samples/s over {STEPS} steps")
    report("data_wait", "<= 0.05", share <= 0.05, data_wait_share=round(share, 4), samples_per_s=round(speed))


if __name__ == "__main__":
    main()
