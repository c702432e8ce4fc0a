"""Figures for `make reliability`: tests report what they tried, the Makefile target adds them up.

Tests call `record(kind, what, count)` (kinds: `fuzz` examples run, `adversarial` files tried,
`killpoint` kill points survived). The records go, one JSON object a line, to the file named by
NEWSFM_RELIABILITY_LOG; without it (a plain `make test`) nothing is written. `python -m
tests.reliability LOG TEST_FILE...` runs those tests and prints the totals and any failure.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

# per fuzz test; `make reliability` raises it, `make test-fast` takes a tenth (tests.conftest.examples)
FUZZ_EXAMPLES = int(os.environ.get("NEWSFM_FUZZ_EXAMPLES", "15" if os.environ.get("NEWSFM_TEST_TIER") == "fast" else "150"))
KILL_POINTS = int(os.environ.get("NEWSFM_KILL_POINTS", "6"))  # kill points per crash test; the same


def record(kind: str, what: str, count: int = 1) -> None:
    log = os.environ.get("NEWSFM_RELIABILITY_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write(json.dumps({"kind": kind, "what": what, "count": count}) + "\n")


def totals(log: Path) -> Counter:
    counts: Counter = Counter()
    for line in log.read_text().splitlines() if log.exists() else ():
        entry = json.loads(line)
        counts[entry["kind"]] += entry["count"]
    return counts


class FailureCounter:
    """A pytest plugin that counts failed tests (setup, call or teardown)."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def pytest_runtest_logreport(self, report) -> None:
        if report.failed:
            self.failed.append(report.nodeid)


def main(log: Path, test_files: list[str]) -> int:
    """Run the reliability tests with their figures going to `log`, then print the totals."""
    import pytest

    log.unlink(missing_ok=True)
    os.environ["NEWSFM_RELIABILITY_LOG"] = str(log)
    counter = FailureCounter()
    status = pytest.main(["-q", "-p", "no:cacheprovider", *test_files], plugins=[counter])
    counts = totals(log)
    print()
    print(f"fuzz examples run:        {counts['fuzz']:>7,}")
    print(f"adversarial files tried:  {counts['adversarial']:>7,}")
    print(f"kill points survived:     {counts['killpoint']:>7,}")
    print(f"failures:                 {len(counter.failed):>7,}")
    for nodeid in counter.failed:
        print(f"  {nodeid}")
    return int(status)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
