"""Kill points for the crash tests: `checkpoint(name)` ends this process when a test asks it to.

With NEWSFM_KILL_AT=N, the N-th checkpoint a run passes (counting from 1, in this process)
kills the process with SIGKILL, as a power cut or the OOM killer would: no cleanup, no
`finally`. With NEWSFM_KILL_TRACE=FILE, every checkpoint appends its name to FILE, so a test
can count the points of a run. Without these variables a checkpoint costs one lookup.
"""

from __future__ import annotations

import os
import signal

_passed = 0


def checkpoint(name: str) -> None:
    global _passed
    if "NEWSFM_KILL_AT" not in os.environ and "NEWSFM_KILL_TRACE" not in os.environ:
        return
    _passed += 1
    trace = os.environ.get("NEWSFM_KILL_TRACE")
    if trace:
        with open(trace, "a") as handle:
            handle.write(f"{_passed} {name}\n")
    if os.environ.get("NEWSFM_KILL_AT") == str(_passed):
        os.kill(os.getpid(), signal.SIGKILL)
