"""Figures for `make reliability`: tests report what they tried, the Makefile target adds them up.

Tests call `record(kind, what, count)` (kinds: `fuzz` examples run, `adversarial` files tried,
`killpoint` kill points survived). The records go, one JSON object a line, to the file named by
NEWSFM_RELIABILITY_LOG; without it (a plain `make test`) nothing is written. `python -m
tests.reliability LOG` prints the totals.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

FUZZ_EXAMPLES = int(os.environ.get("NEWSFM_FUZZ_EXAMPLES", "150"))  # per fuzz test; `make reliability` raises it
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


if __name__ == "__main__":
    counts = totals(Path(sys.argv[1]))
    failures = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    print(f"fuzz examples run:        {counts['fuzz']:>7,}")
    print(f"adversarial files tried:  {counts['adversarial']:>7,}")
    print(f"kill points survived:     {counts['killpoint']:>7,}")
    print(f"failures:                 {failures:>7,}")
