"""Parsing while Prefect's temporary API starts: a build's first batches parsed before its flow runs.

A command that starts Prefect's temporary API waits for it: the server imports its app on one
core for several seconds while the other idles (about 5 s of a 100,000-file build, measured).
A head start uses that core. It finds the changes as the flow will (into a scratch folder of its
own, without the output lock) and parses the batches the flow will parse, in order, one at a
time in a worker process, each into a part, until the flow takes over.

The flow adopts a part only for a batch of the same files with the same sizes and modification
times, as its own walk under the output lock finds them, and the head start parses only files
last modified RACY_NS before its walk began: a file written after that walk has a later time,
so a part of older bytes is never adopted. The parts not adopted are deleted with the other
parts the state record does not name. Nothing depends on a head start: one that fails, falls
behind or finds other files only leaves the flow more to parse.

The head start keeps its walk of the input in a file, and a flow that found the output lock
free compares that with the state record instead of walking the input again (`walk_of`): the
input is walked once per command, while Prefect's API starts, and the build sees the input as
that walk found it (a file written after it is found by the next build).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from newsfm.pipelines.discover import FOUND_SCHEMA
from newsfm.pipelines.layout import Layout
from newsfm.pipelines.parallel import fork_server, parse_files
from newsfm.pipelines.state import RACY_NS, Keys, Values, build_keys, find_changes_in, walk_into
from newsfm.transforms.settings import Settings

LOCK_AT_ONCE_S = 1.0  # a flow that took the output lock within this long did not wait for another run
SWITCH = "NEWSFM_HEAD_START"  # "0": no head start (the flow walks the input and parses every batch)
_running: list["HeadStart"] = []


def batch_key(files: pa.RecordBatch, keys: Keys, max_file_bytes: int) -> str:
    """What a batch's part depends on: its files' paths, sizes and times, and the parsing keys."""
    content = [keys.parsing, max_file_bytes, *(files.column(name).to_pylist() for name in FOUND_SCHEMA.names)]
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def settled(files: pa.RecordBatch, before_ns: int) -> bool:
    """Whether every file has a size and was last modified before `before_ns`."""
    sizes, times = files.column("size_bytes"), files.column("mtime_ns")
    return not sizes.null_count and not times.null_count and (not len(times) or pc.max(times).as_py() < before_ns)


class HeadStart:
    """The batches of a build parsed ahead of its flow, by `batch_key`, in one worker process."""

    def __init__(self, raw: Path, out: Path, settings: Settings, full_refresh: bool) -> None:
        self.out, self.settings = out.resolve(), settings
        self.raw, self.keys = raw.resolve(), build_keys(raw, settings)
        self.parsed: dict[str, Future] = {}
        self.taken = threading.Lock()  # held while a batch is submitted, and to stop
        self.stopped = False
        self.scratch = Layout(out).head_start(os.getpid())
        self.scratch.mkdir(parents=True, exist_ok=True)
        Layout(out).lock.touch()  # the output folder is newsfm's: a walk of an input holding it skips it
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=fork_server())
        self.walked_ns = time.time_ns()
        self.walk: Future = Future()  # its walk's file, kept for the flow: see `walk_of`
        self.thread = threading.Thread(target=self.run, args=(full_refresh,), name="newsfm-head-start", daemon=True)
        self.thread.start()

    def run(self, full_refresh: bool) -> None:
        try:  # submitting here, not in __init__: the first task waits for the fork server's imports
            self.walk.set_result(self.pool.submit(walk_into, self.raw, self.scratch).result())
            self.parse_ahead(full_refresh)
        except Exception:  # a head start only saves time: the flow walks and parses what it did not
            pass
        finally:
            if not self.walk.done():
                self.walk.set_exception(RuntimeError("the head start did not walk the input"))
            self.pool.shutdown()  # the worker's memory given back while the flow's workers parse

    def parse_ahead(self, full_refresh: bool) -> None:
        changes, _notice = self.pool.submit(find_changes_in, self.raw, self.out, self.keys, full_refresh, 1,
                                            self.walk.result(), self.scratch).result()
        size, total = self.settings.batch_size, changes.files_to_parse
        files = Values(changes.parsed_files(), FOUND_SCHEMA)
        for start in range(0, total, size):
            batch = files.take(min(size, total - start))
            if not settled(batch, self.walked_ns - RACY_NS):
                continue
            with self.taken:
                if self.stopped:
                    return
                future = self.pool.submit(parse_files, self.raw, batch.column(0).to_pylist(), self.settings.max_file_bytes,
                                          self.out)
                self.parsed[batch_key(batch, self.keys, self.settings.max_file_bytes)] = future
            future.result()  # one batch at a time: the other core is Prefect's

    def stop(self) -> dict[str, Future]:
        """No batch is begun from now on; the batches parsed or being parsed."""
        with self.taken:
            self.stopped = True
            return dict(self.parsed)

    def close(self) -> None:
        """Stop, let the batch being parsed end (its worker then ends), remove the scratch folder."""
        self.stop()
        self.thread.join()
        shutil.rmtree(self.scratch, ignore_errors=True)


@contextmanager
def while_api_starts(raw: Path, out: Path, settings: Settings, full_refresh: bool, api_starting: bool
                     ) -> Iterator[None]:
    """A head start while this block runs, where the API is coming up and batches are parsed in
    worker processes (not on a Dask cluster: `settings.workers` 1), unless NEWSFM_HEAD_START=0."""
    if not (api_starting and settings.worker_count > 1 and os.environ.get(SWITCH, "1") != "0"):
        yield
        return
    head = HeadStart(raw, out, settings, full_refresh)
    _running.append(head)
    try:
        yield
    finally:
        _running.remove(head)
        head.close()


class Ahead:
    """What a build's flow takes over from the head start: its parts, by `batch_key`."""

    def __init__(self, out: Path, keys: Keys, max_file_bytes: int, parsed: dict[str, Future]) -> None:
        self.out, self.keys, self.max_file_bytes, self.parsed = out, keys, max_file_bytes, parsed

    def claim(self, files: pa.RecordBatch) -> Future | None:
        """The head start's parse of exactly these files (FOUND_SCHEMA), if it began one."""
        return self.parsed.pop(batch_key(files, self.keys, self.max_file_bytes), None) if self.parsed else None

    def part_id(self, future: Future) -> str | None:
        """A claimed batch's part, once parsed; None when it failed or its part is gone."""
        try:
            part_id = future.result()
        except Exception:  # parsed again by the flow, which reports what fails
            return None
        return part_id if Layout(self.out).part(part_id).is_dir() else None

    def settle(self) -> None:
        """Wait for the parts not claimed: they are deleted only once written."""
        wait(list(self.parsed.values()))


def walk_of(raw: Path, out: Path, lock_waited_s: float) -> tuple[Path, int] | None:
    """The files under `raw` as this command's head start for `out` walked them (`walk_into`'s
    file), and the time its walk began, for a flow that took the output lock after
    `lock_waited_s`; None without a head start, when its walk failed, or when the flow waited
    for another run (the input may have changed meanwhile: it is walked again).

    The flow compares them with the state record instead of walking the input once more (at a
    million files, about 5 s of CPU). Only a run holding the lock removes a head start's folder,
    so the file stays while the flow reads it."""
    head = _running[-1] if _running else None
    if head is None or (head.raw, head.out) != (raw.resolve(), out.resolve()) or lock_waited_s >= LOCK_AT_ONCE_S:
        return None
    try:
        found = head.walk.result()
    except Exception:  # the flow walks the input itself
        return None
    return (found, head.walked_ns) if found.is_file() else None


def take_over(out: Path, keys: Keys, settings: Settings) -> Ahead:
    """Stop the head start of this command, if one runs; what it parsed into `out` (with other
    keys or settings its batches are never claimed, only waited for)."""
    head = _running[-1] if _running else None
    parsed = head.stop() if head else {}
    return Ahead(out, keys, settings.max_file_bytes, parsed if head and head.out == out.resolve() else {})
