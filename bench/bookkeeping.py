"""Memory and time of a build's per-file bookkeeping in the flow process (issue 12), without Prefect.

    python bench/bookkeeping.py prepare CORPUS WORK    # a state record made up for CORPUS, once
    python bench/bookkeeping.py measure CORPUS WORK [--tracemalloc]

`prepare` walks CORPUS and writes WORK/record.arrow: a state record as a build of CORPUS would leave it
(real sizes and times, made-up hashes and 2,000 files per part id), then changes it so that the next
build finds 100 new files, 100 changed (other size), 100 racy (time not recorded) and 100 touched
(other time) files whose hash is the recorded one, and 100 deleted ones.

`measure` copies that record into a fresh WORK/out (with an empty folder per part it names, so the
record is trusted) and runs, in this process, what the flow process does per file: walk, read_state,
classify (hashing the files whose size or time moved), parsing the new and changed files (in this
process, 2,000 a part), the live parts and compaction, the state record (`record` without Prefect),
then the same walk, read_state and classify again with nothing changed and `record_unchanged`.
For each step: seconds, RSS at its end and the highest RSS sampled during it (psutil, every 5 ms),
and what Arrow's memory pool holds at its end and at most during it; with --tracemalloc, the peak
of Python's own allocations instead (tracemalloc slows Python down, so its seconds are not comparable).

Works with the code before issue 12 (walk → list of tuples) and after (walk → Arrow table): run it
from a checkout of each, on the same WORK (prepare once).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import shutil
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.ipc as ipc

from newsfm.pipelines import flows, state
from newsfm.pipelines.discover import content_hash, walk
from newsfm.pipelines.layout import Layout
from newsfm.pipelines.parallel import parse_files
from newsfm.pipelines.parts import compact
from newsfm.pipelines.state import STATE_SCHEMA, build_keys, classify, read_state
from newsfm.transforms.settings import DEFAULTS

GROUP = 100
BATCH = DEFAULTS.batch_size


def columns_of(found) -> tuple[list, list, list]:
    if isinstance(found, list):
        return [f[0] for f in found], [f[1] for f in found], [f[2] for f in found]
    return [found.column(name).to_pylist() for name in ("source_path", "size_bytes", "mtime_ns")]


def prepare(corpus: Path, work: Path) -> None:
    paths, sizes, mtimes = columns_of(walk(corpus))
    n = len(paths)
    shas = [hashlib.sha256(p.encode()).hexdigest() for p in paths]
    parts = [hashlib.md5(str(i // BATCH).encode()).hexdigest() for i in range(n)]
    picked = random.Random(0).sample(range(n), 4 * GROUP)
    new, changed, racy, touched = (picked[k * GROUP:(k + 1) * GROUP] for k in range(4))
    for i in changed:
        sizes[i] += 1
    for i in racy + touched:
        shas[i] = content_hash(corpus, paths[i])
        if i in racy:
            mtimes[i] = None
        else:
            mtimes[i] -= 1
    keep = [i for i in range(n) if i not in set(new)]
    rows = {
        "source_path": [paths[i] for i in keep] + [f"zz-deleted/{k}.md" for k in range(GROUP)],
        "size_bytes": [sizes[i] for i in keep] + [1] * GROUP,
        "mtime_ns": [mtimes[i] for i in keep] + [1] * GROUP,
        "content_sha256": [shas[i] for i in keep] + ["0" * 64] * GROUP,
        "part_id": [parts[i] for i in keep] + [parts[0]] * GROUP,
    }
    keys = build_keys(corpus, DEFAULTS)
    metadata = {"parsing": json.dumps(keys.parsing, sort_keys=True), "combining": keys.combining,
                "analytics": json.dumps(keys.analytics, sort_keys=True), "snapshot": "bench"}
    table = pa.Table.from_pydict(rows, schema=STATE_SCHEMA.with_metadata(metadata)).sort_by("source_path")
    work.mkdir(parents=True, exist_ok=True)
    with ipc.new_file(work / "record.arrow", table.schema) as writer:
        writer.write_table(table, max_chunksize=65536)
    (work / "parts.json").write_text(json.dumps(sorted(set(parts))))
    print(f"wrote {work / 'record.arrow'}: {table.num_rows:,} rows, {len(set(parts))} parts")


class Sampler:
    """The highest RSS of this process and the most Arrow's memory pool held, since the last
    `take`, sampled every 5 ms."""

    def __init__(self) -> None:
        self.process, self.pool, self.stop = psutil.Process(), pa.default_memory_pool(), False
        self.peak = self.arrow_peak = 0
        threading.Thread(target=self.run, daemon=True).start()

    def run(self) -> None:
        while not self.stop:
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.arrow_peak = max(self.arrow_peak, self.pool.bytes_allocated())
            time.sleep(0.005)

    def take(self) -> tuple[float, float, float]:
        now, arrow = self.process.memory_info().rss, self.pool.bytes_allocated()
        peak, arrow_peak = max(self.peak, now), max(self.arrow_peak, arrow)
        self.peak, self.arrow_peak = now, arrow
        return now / 1e6, peak / 1e6, arrow_peak / 1e6


def measure(corpus: Path, work: Path, traced: bool) -> dict:
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    layout = Layout(out)
    layout.parts.mkdir(parents=True)
    layout.snapshots.mkdir()
    for part_id in json.loads((work / "parts.json").read_text()):
        (layout.parts / part_id).mkdir()
    shutil.copyfile(work / "record.arrow", layout.state_file)
    key, settings = build_keys(corpus, DEFAULTS), DEFAULTS
    pool = pa.default_memory_pool()
    sampler = Sampler()
    if traced:
        tracemalloc.start()
    steps = {}
    baseline = sampler.take()[0]  # Python, pandas, pyarrow and Prefect imported

    def step(name, run):
        pool.release_unused()
        if traced:
            tracemalloc.reset_peak()
        sampler.take()
        started = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - started
        rss, peak, arrow_peak = sampler.take()
        figures = {"seconds": round(seconds, 2), "rss_mb": round(rss), "peak_rss_mb": round(peak),
                   "arrow_mb": round(pool.bytes_allocated() / 1e6), "arrow_peak_mb": round(arrow_peak)}
        if traced:
            figures["python_mb"], figures["python_peak_mb"] = (round(v / 1e6) for v in tracemalloc.get_traced_memory())
        steps[name] = figures
        print(name, figures, file=sys.stderr)
        return result

    discovered_ns = time.time_ns()
    found = step("walk", lambda: walk(corpus))
    old = isinstance(found, list)
    record, notice = step("read_state", lambda: read_state(out, key))
    assert record is not None, notice
    into = () if old else (Layout(out).changes_file,)  # since this streaming: decisions into a file
    changes = step("classify", lambda: classify(found, record, lambda path: content_hash(corpus, path), *into))
    del record  # what the flow keeps of it, Changes keeps
    if not old:
        del found  # Changes holds the walk's table
    counts = changes.counts()
    to_parse = changes.to_parse if old else changes.to_parse.to_pylist()
    chunks = [to_parse[start:start + BATCH] for start in range(0, len(to_parse), BATCH)]
    del to_parse
    part_ids = step("parse", lambda: [parse_files(corpus, chunk, settings.max_file_bytes, out) for chunk in chunks])
    if old:
        parsed = list(zip(part_ids, chunks))
        live = step("live", lambda: compact(out, flows.live_parts(changes, parsed), small=BATCH // 2))
        step("record", lambda: flows.record.fn(out, found, changes, parsed, live, key, "bench", settings,
                                               discovered_ns))
        del found, parsed
    else:
        live = step("live", lambda: compact(out, state.write_live(out, changes, part_ids), small=BATCH // 2))
        step("record", lambda: flows.record.fn(out, changes, part_ids, live, key, "bench", discovered_ns))
    del live, changes, chunks
    found = step("walk again", lambda: walk(corpus))
    record, _ = step("read_state again", lambda: read_state(out, key))
    again = step("classify again", lambda: classify(found, record, lambda path: content_hash(corpus, path), *into))
    del found, record
    assert not again.any, again.counts()
    step("keep_published", lambda: flows.record_unchanged.fn(out, again, key, "bench", time.time_ns()))
    sampler.stop = True
    return {"code": "before" if old else "after", "files": sum(counts.values()) - counts["deleted"], "counts": counts,
            "baseline_rss_mb": round(baseline),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3),
            "arrow_peak_mb": round(pool.max_memory() / 1e6), "steps": steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["prepare", "measure"])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    if args.action == "prepare":
        prepare(args.corpus, args.work)
    else:
        print(json.dumps(measure(args.corpus, args.work, args.tracemalloc), indent=1))


if __name__ == "__main__":
    main()
