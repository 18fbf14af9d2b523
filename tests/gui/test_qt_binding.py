"""The Qt binding itself: a signal emitted many times must not corrupt Python's reference counts.

PySide6 6.12.0 drops one reference to True on every emission. On Python 3.11, where True
is not immortal, a few hundred emissions later the interpreter aborts with
"bool_dealloc". The workbench emits thousands of signals (thumbnails arriving, training
events), so the installed binding is checked here rather than discovered by a user.
"""
import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(int)


def test_signal_emission_keeps_reference_counts(qapp):
    emitter = _Emitter()
    received = []
    emitter.fired.connect(received.append)
    true_refs, false_refs = sys.getrefcount(True), sys.getrefcount(False)
    for n in range(100):
        emitter.fired.emit(n)
    assert received == list(range(100))
    # A little slack for unrelated objects that may hold a bool; the 6.12.0 bug loses 100.
    assert abs(sys.getrefcount(True) - true_refs) < 10
    assert abs(sys.getrefcount(False) - false_refs) < 10
