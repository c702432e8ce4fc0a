"""The timing the bench's micro-measurements share: the best of a few rounds."""

from __future__ import annotations

import time
from typing import Callable


def best_seconds(run: Callable[[], object], rounds: int = 5) -> float:
    """The fewest seconds `run()` took in `rounds` calls (the others met a busier machine)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best
