"""What `sslstudio train` prints per logged step: the speed in samples of the folder's kind, and each kind
of alert once."""
from sslstudio.cli.progress import TrainPrinter
from sslstudio.core.training.events import StepMetrics


def step(number, accuracy, total=None):
    return StepMetrics(step=number, epoch=0, total_steps=total, loss=0.1, lr=1e-3, samples_per_s=120.0, eta_s=5.0,
                       data_wait_share=0.0, metrics={"accuracy": accuracy}, views_per_s=480.0)


def test_speed_is_in_the_folders_samples_and_a_saturated_task_is_said_once(capsys):
    printer = TrainPrinter("image")
    printer(step(20, 0.97))
    printer(step(30, 0.98, total=300))
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if line.startswith("alert: the task is too easy")] == [err[0]]
    assert "step 20 loss" in err[1] and "120 images/s" in err[1]  # a time budget alone: no step total
    assert "step 30/300 loss" in err[2]
    TrainPrinter("audio")(step(200, 0.5))
    assert "120 clips/s" in capsys.readouterr().err
