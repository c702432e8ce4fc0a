"""Incremental builds: the work in the flow of a build after changing, adding or deleting 1 file
and 1,000 files of a corpus, beside the full build's (Prefect's start-up aside: one temporary
API serves every build of the process). With --commands, each build is a `newsfm build` command
of its own, as a scheduler runs it: it starts its temporary API, and walks the input while it
comes up (the head start); its wall time is recorded too.

    python bench/incremental.py CORPUS OUT [--counts 1 1000] [--commands] [--json FILE]
    python bench/run.py --sizes 100000 1000000 --incremental 1 1000 [--commands]   # in bench/RESULTS.md

CORPUS is a folder of `newsfm generate` (smartable style); it is edited and put back as it was.
The files changed are spread over the whole corpus (every k-th news file by path), so they
fall into as many segments as such a change would.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import time
from functools import partial
from pathlib import Path

import newsfm

TITLE = re.compile(rb"^title: ?", re.MULTILINE)
WEB_URL = re.compile(rb"^webUrl: .*$", re.MULTILINE)
CHANGES = re.compile(r"since the last build: (\d+) new, (\d+) changed, \d+ unchanged, (\d+) deleted")


def news_files(corpus: Path) -> list[Path]:
    return sorted(path for path in corpus.rglob("*.md") if path.parent.name == "_news")


def spread(files: list[Path], count: int) -> list[Path]:
    step = max(1, len(files) // count)
    return files[::step][:count]


def timed_build(corpus: Path, out: Path, commands: bool = False, full_refresh: bool = False) -> dict:
    """A build's seconds in the flow and in all, and the changes it found: by `newsfm.build`, or
    (`commands`) by a `newsfm build` process of its own."""
    if commands:
        return command_build(corpus, out, full_refresh)
    started = time.perf_counter()
    summary = newsfm.build(corpus, out, full_refresh=full_refresh)
    return {"flow_s": summary["seconds"], "wall_s": round(time.perf_counter() - started, 3),
            "changes": {key: summary[key] for key in ("new", "changed", "deleted")}}


def command_build(corpus: Path, out: Path, full_refresh: bool) -> dict:
    from run import FLOW_SECONDS, newsfm_command  # the race's: run.py imports this module

    command = [*newsfm_command(), "build", str(corpus), str(out), "--no-progress", *(["--full-refresh"] if full_refresh else [])]
    started = time.perf_counter()
    printed = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    wall = round(time.perf_counter() - started, 3)
    counts = CHANGES.search(printed).groups()
    return {"flow_s": float(FLOW_SECONDS.search(printed)[1]), "wall_s": wall,
            "changes": dict(zip(("new", "changed", "deleted"), map(int, counts)))}


def aged(path: Path) -> None:
    """A time older than the racy window, as a file written minutes ago has (else it is hashed)."""
    os.utime(path, ns=(time.time_ns() - 60 * 10**9, time.time_ns() - 60 * 10**9))


def measure(corpus: Path, out: Path, counts: list[int], commands: bool = False) -> dict:
    files = news_files(corpus)
    build = partial(timed_build, corpus, out, commands)
    result = {"news_files": len(files), "commands": commands, "full": build(full_refresh=True)}
    for count in counts:
        chosen = spread(files, count)
        originals = {path: path.read_bytes() for path in chosen}
        added = [path.with_name(f"bench-added-{i}.md") for i, path in enumerate(chosen)]
        try:
            for path, data in originals.items():
                path.write_bytes(TITLE.sub(b"title: Edited ", data, count=1))
                aged(path)
            result[f"change {count}"] = build()
            put_back(originals)
            build()
            for i, (new, data) in enumerate(zip(added, originals.values())):
                new.write_bytes(WEB_URL.sub(f"webUrl: https://bench.example.org/added/{i}".encode(), data, count=1))
                aged(new)
            result[f"add {count}"] = build()
            for path in added:
                path.unlink()
            result[f"delete {count}"] = build()
        finally:  # a build that fails leaves the corpus as it was, for the next run
            put_back(originals)
            for path in added:
                path.unlink(missing_ok=True)
    return result


def put_back(originals: dict[Path, bytes]) -> None:
    for path, data in originals.items():
        if path.read_bytes() != data:
            path.write_bytes(data)
            aged(path)


def table(results: dict[str, dict]) -> str:
    kinds = [key for key, value in next(iter(results.values())).items() if isinstance(value, dict) and key != "full"]
    lines = ["| files | full build | " + " | ".join(kinds) + " |", "| ---: " * (len(kinds) + 2) + "|"]
    for size, result in results.items():
        full, commands = result["full"]["flow_s"], result.get("commands", False)
        cells = [shown(result["full"], commands), *(shown(result[kind], commands, full) for kind in kinds)]
        lines.append(f"| {size} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def shown(build: dict, commands: bool, full: float | None = None) -> str:
    """A build's work in the flow (with its share of the `full` build's), and a command's wall time."""
    text = f"{build['flow_s']:.1f} s" + (f" ({100 * build['flow_s'] / full:.1f}%)" if full else "")
    return f"{text}; {build['wall_s']:.1f} s in all" if commands else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 1000])
    parser.add_argument("--commands", action="store_true", help="each build a `newsfm build` command of its own")
    parser.add_argument("--json", type=Path, help="add this size's figures to a JSON file of sizes")
    args = parser.parse_args()
    result = measure(args.corpus, args.out, args.counts, args.commands)
    size = f"{result['news_files']:,}"
    everything = json.loads(args.json.read_text()) if args.json and args.json.exists() else {}
    everything[size] = result
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(table(everything))


if __name__ == "__main__":
    main()
