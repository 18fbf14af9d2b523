import threading

import pytest

from sslstudio.core.errors import UserError
from sslstudio.gui.jobs import JobRunner


@pytest.fixture
def runner(qtbot):
    """A runner that outlives its jobs: a QObject deleted under a running thread takes the process down."""
    jobs = JobRunner()
    yield jobs
    jobs.cancel_all()
    assert jobs.wait_all(5000)
    qtbot.waitUntil(lambda: not jobs.jobs, timeout=5000)


def test_a_job_returns_its_result_on_the_gui_thread(qtbot, runner):
    seen_thread = []
    job = runner.start("sum", lambda state: seen_thread.append(threading.get_ident()) or sum(range(10)))
    with qtbot.waitSignal(job.sig_done, timeout=5000) as blocker:
        pass
    assert blocker.args == [45]
    assert seen_thread[0] != threading.get_ident()  # it ran on its own thread


def test_user_errors_come_without_traceback_and_bugs_with_one(qtbot, runner):

    def bad_input(state):
        raise UserError("that folder is empty")

    job = runner.start("bad input", bad_input)
    with qtbot.waitSignal(job.sig_failed, timeout=5000) as blocker:
        pass
    assert blocker.args == ["that folder is empty", ""]
    job = runner.start("bug", lambda state: 1 / 0)
    with qtbot.waitSignal(job.sig_failed, timeout=5000) as blocker:
        pass
    assert blocker.args[0] == "ZeroDivisionError: division by zero"
    assert "Traceback" in blocker.args[1] and "1 / 0" in blocker.args[1]


def test_cancel_is_a_flag_the_job_sees(qtbot, runner):
    started = threading.Event()

    def long_job(state):
        started.set()
        for i in range(10_000_000):
            state(i)  # raises Cancelled once the job is cancelled
        return "finished"

    job = runner.start("long", long_job)
    started.wait(5)
    with qtbot.waitSignal(job.sig_cancelled, timeout=5000):
        runner.cancel_all()
    assert runner.wait_all(5000)


def test_runner_reports_what_is_busy(qtbot, runner):
    gate = threading.Event()
    with qtbot.waitSignal(runner.sig_busy_changed, timeout=2000) as blocker:
        job = runner.start("waiting", lambda state: gate.wait(5))
    assert blocker.args == ["waiting"]
    with qtbot.waitSignal(runner.sig_busy_changed, timeout=5000) as blocker:
        gate.set()
    assert blocker.args == [""]
    assert not job.is_running() or job.wait(2000)


def test_a_core_function_given_the_jobs_control_ends_when_the_job_is_cancelled(qtbot, runner):
    import numpy as np

    from sslstudio.core.evaluation.label_efficiency import label_efficiency

    rng = np.random.default_rng(0)
    features = {"ssl": rng.normal(size=(400, 16)).astype(np.float32)}
    labels = np.repeat(np.arange(4), 100).astype(str)
    started = threading.Event()

    def curve(state):
        def progress(done, total):
            started.set()
            state(done, total)
        return label_efficiency(features, labels, (1, 2, 5, 10, 20, 50, 0), tuple(range(50)), "linear",
                                progress=progress)

    job = runner.start("curve", curve)
    assert started.wait(30)
    with qtbot.waitSignal(job.sig_cancelled, timeout=10_000):
        job.cancel()


def test_partial_results_arrive_in_order_and_a_paused_job_waits(qtbot, runner):
    gate = threading.Event()

    def work(state):
        for i in range(3):
            state.partial(i)
        gate.set()
        state.wait_while_paused()
        state.partial("after the pause")
        return "done"

    parts = []
    job = runner.start("partial", lambda state: (state.pause(), work(state))[1])
    job.sig_partial.connect(parts.append)
    assert gate.wait(5)
    qtbot.wait(300)
    assert job.paused and job.is_running() and "after the pause" not in parts
    with qtbot.waitSignal(job.sig_done, timeout=5000) as done:
        job.resume()
    assert done.args == ["done"]
    qtbot.waitUntil(lambda: parts == [0, 1, 2, "after the pause"], timeout=2000)
