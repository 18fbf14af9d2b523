"""`sslstudio --self-test`: the core loop's checks, then the workbench's window."""
from __future__ import annotations

import sys


def run_self_test() -> int:
    from sslstudio.core.selftest import self_test

    def window() -> str:
        from sslstudio.gui.smoke import open_and_close_window

        return open_and_close_window()

    def say(line: str) -> None:
        print(line, flush=True)

    ok = self_test(extra=[("workbench window", window)], log=say)
    sys.stdout.flush()
    return 0 if ok else 1
