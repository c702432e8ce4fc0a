"""Kill points for the crash tests: `checkpoint(name)` ends this process when a test asks it to.

With NEWSFM_KILL_AT=N, the N-th checkpoint a run passes (counting from 1, in this process)
kills the process with SIGKILL, as a power cut or the OOM killer would: no cleanup, no
`finally`. A step run in a process of its own (`pipelines.parallel.in_own_process`) counts on
from the flow's count and hands its count back, so the points of a run are numbered in order,
and at its kill point it kills the flow's process too, as a power cut would. With
NEWSFM_KILL_TRACE=FILE, every checkpoint appends its name to FILE, so a test can count the
points of a run. Without these variables a checkpoint costs one lookup.
"""

from __future__ import annotations

import os
import signal

_passed = 0
_run_pid: int | None = None  # the flow's process, when this one runs a step for it


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
        if _run_pid is not None:
            os.kill(_run_pid, signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)


def passed() -> int:
    """How many checkpoints this process has passed."""
    return _passed


def resume(count: int, run_pid: int | None = None) -> None:
    """Count on from `count`, the checkpoints the flow's process `run_pid` passed (or, back in
    the flow's process, that the step's process passed)."""
    global _passed, _run_pid
    _passed, _run_pid = count, run_pid
