"""What long commands print while they work: a bar with rate and ETA on a terminal, a few plain lines elsewhere,
and with --json one JSON object on stdout whatever stderr shows."""
import io
import json
import os
import pty
import re
import subprocess
import sys

import pytest

from sslstudio.cli import progress as progress_module
from sslstudio.cli.progress import ProgressReport, TrainPrinter
from sslstudio.core.training.events import StepMetrics


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(progress_module.time, "perf_counter", fake)
    return fake


def test_a_million_files_without_a_terminal_print_four_lines_with_rate_and_time_left(clock):
    out = io.StringIO()
    report = ProgressReport("decoding", stream=out)
    total = 1_000_000
    for done in range(0, total + 1, 256):
        clock.now = done / 2000  # 2,000 files a second
        report(done, total)
    report(total, total)
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["decoding: 250,112/1,000,000 files (25%), 2,000 files/s, about 6:15 left",
                         "decoding: 500,224/1,000,000 files (50%), 2,000 files/s, about 4:10 left",
                         "decoding: 750,080/1,000,000 files (75%), 2,000 files/s, about 2:05 left"]
    assert lines[3] == "decoding: 1,000,000/1,000,000 files (100%) in 8:20, 2,000 files/s"
    assert len(lines) == 4


def test_quick_work_says_one_closing_line_and_an_unknown_total_says_nothing(clock):
    out = io.StringIO()
    report = ProgressReport("decoding", stream=out)
    report(0, 0)  # another process holds the store: nothing known yet
    for done in range(1, 49):
        clock.now = done * 0.01
        report(done, 48)
    assert out.getvalue() == "decoding: 48/48 files (100%) in 0:00\n"


def test_a_second_pass_gets_a_report_of_its_own(clock):
    out = io.StringIO()
    report = ProgressReport("embedding", "samples", stream=out)
    for _ in range(2):  # the run's features, then a baseline's
        for done in (50, 100):
            report(done, 100)
    assert out.getvalue().count("embedding: 100/100 samples (100%)") == 2


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_it_is_a_bar_redrawn_in_place():
    out = Terminal()
    report = ProgressReport("decoding", stream=out)
    assert report.as_bar
    for done in range(0, 1001, 100):
        report(done, 1000)
    drawn = out.getvalue()
    assert "\r" in drawn and "decoding: 100%" in drawn and "1000/1000" in drawn and "files/s" in drawn
    assert not progress_module._open_bars  # closed once the work is done


def step(number, total=None):
    return StepMetrics(step=number, epoch=0, total_steps=total, loss=0.25, lr=1e-3, samples_per_s=120.0, eta_s=5.0,
                       data_wait_share=0.0, metrics={}, views_per_s=480.0)


def test_training_keeps_its_line_per_logged_step_above_the_bar(capsys):
    out = Terminal()
    printer = TrainPrinter("image", stream=out)
    for number in (10, 20):
        printer(step(number, total=40))
    printer.close()
    err = capsys.readouterr().err
    assert "step 10/40 loss 0.2500" in err and "step 20/40 loss 0.2500" in err  # written above the bar
    assert "training:  50%" in out.getvalue() and "20/40" in out.getvalue()


def scan(folder, *extra, stderr=subprocess.PIPE):
    return subprocess.run([sys.executable, "-m", "sslstudio", "scan", str(folder), *extra], stdout=subprocess.PIPE,
                          stderr=stderr, text=True, timeout=300)


def test_scan_json_is_one_object_on_stdout_and_a_plain_line_on_stderr(tiny_images):
    done = scan(tiny_images, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["usable_samples"] == 48
    assert re.fullmatch(r"decoding: 48/48 files \(100%\) in 0:\d\d(, \d+ files/s)?\n", done.stderr), done.stderr


def test_scan_draws_a_bar_when_stderr_is_a_terminal(tiny_images):
    controller, terminal = pty.openpty()
    try:
        done = scan(tiny_images, stderr=terminal)
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal's other end is closed: all is read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
    assert done.returncode == 0
    text = drawn.decode("utf-8", "replace")
    assert "decoding: 100%" in text and "48/48" in text and "\r" in text
    assert "usable image samples: 48" in done.stdout  # the result itself stays on stdout


def test_tqdm_bars_share_one_thread_lock_and_start_no_monitor_thread():
    import io
    import threading

    import tqdm

    from sslstudio.core.progress import tame_tqdm

    tame_tqdm()
    tame_tqdm()  # twice is once
    bars = []

    def make_bars():  # as an export's tracer and umap do, on threads of their own
        for _ in range(50):
            with tqdm.tqdm(total=3, file=io.StringIO()) as bar:
                bar.update(3)
        bars.append(True)

    workers = [threading.Thread(target=make_bars) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(bars) == 4 and tqdm.tqdm.monitor is None
    assert isinstance(tqdm.tqdm.get_lock(), type(threading.RLock()))  # not tqdm's multiprocessing lock
