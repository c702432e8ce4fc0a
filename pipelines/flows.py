"""Prefect wiring: a few coarse tasks per run, no logic of their own.

A build reads as its steps: find changes → parse batches → combine → analyse → publish →
record. What each step decides lives in `pipelines.state`, `pipelines.parts` and
`transforms`; the run summary is `transforms.summary`.
"""

from __future__ import annotations

import errno
import re
import shutil
import time
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pyarrow as pa
from prefect import Flow, flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.tasks import MaterializingTask
from prefect.utilities.annotations import quote

from pipelines.discover import batches, content_hash, walk
from pipelines.parallel import parse_in_pool, worker_pool
from pipelines.combine import combine_out_of_core
from pipelines.layout import Layout
from pipelines.parts import compact, read_part_table, remove_parts_except
from pipelines.sql.analytics import analytics_queries
from pipelines.sql.engine import connect, typed_batches, with_warehouse
from pipelines.state import Changes, Entry, classify, nothing_to_do, read_state, settings_key, write_state
from pipelines.store import (
    SnapshotWriter, current_snapshot, output_lock, prepare_output, publish, read_manifest, read_table,
    remove_old_snapshots,
)
from transforms.analytics.headlines import HEADLINE_COLUMNS, headlines_markdown
from transforms.schema import TABLES
from transforms.settings import DEFAULTS, Settings
from transforms.summary import file_figures, ledger_counts, run_summary, summary_markdown

_progress: list[Callable[[int, int], None]] = []


class InputError(Exception):
    """The input folder cannot be used; the message says why."""


@contextmanager
def reporting_progress(callback: Callable[[int, int], None]) -> Iterator[None]:
    """Call `callback(files_done, files_total)` as batches finish (the CLI's progress bar)."""
    _progress.append(callback)
    try:
        yield
    finally:
        _progress.remove(callback)


def on_dask(flow_: Flow, address: str) -> Flow:
    """The flow with its batch tasks run on the Dask cluster at `address` (prefect-dask).

    Workers read the input folder and write their parts into the output folder by the same
    paths, so both must be on storage they all reach.
    Each worker's Prefect client reports to PREFECT_API_URL: point it at a Prefect server
    (without one, each worker process starts a temporary server of its own).
    """
    from prefect_dask import DaskTaskRunner  # the optional `dask` extra

    return flow_.with_options(task_runner=DaskTaskRunner(address=address))


def report(done: int, total: int) -> None:
    for callback in _progress:
        callback(done, total)


def transient_io_error(task, task_run, state) -> bool:
    """Retry I/O errors a second try can cure (a network share that hiccuped), not a full disk,
    a missing folder or a refused permission, nor any other error."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, OSError) and error.errno not in PERMANENT_ERRNOS


PERMANENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR}
RACY_NS = 2_000_000_000  # files modified this close to discovery are compared by hash next time (see write_state)
RETRIES = dict(retries=2, retry_delay_seconds=3, retry_condition_fn=transient_io_error)


@task(cache_policy=NO_CACHE, persist_result=False, **RETRIES)
def find_changes(raw_dir: Path, out_dir: Path, key: str, full_refresh: bool) -> tuple[list, Changes, str | None]:
    """Every input file (path, size, mtime_ns), and what differs from the state record (nothing
    is compared with full_refresh), with a notice when the record cannot be used."""
    found = walk(raw_dir)
    state, notice = (None, "--full-refresh: the state record is ignored") if full_refresh else read_state(out_dir, key)
    return found, classify(found, state, lambda path: content_hash(raw_dir, path)), notice


@task(cache_policy=NO_CACHE, persist_result=False, **RETRIES)
def parse_batch(raw_dir: Path, paths: list[str], max_file_bytes: int, out_dir: Path) -> str:
    return parse_in_pool(raw_dir, paths, max_file_bytes, out_dir)


@task(cache_policy=NO_CACHE, persist_result=False)
def combine(out: Path, snapshot: SnapshotWriter, live: pa.Table) -> dict:
    """Combine the parts out of core into the snapshot's warehouse tables; returns the file figures."""
    combine_out_of_core(out, live, snapshot)
    return file_figures(ledger_counts(snapshot.read("warehouse", "sources", ["status", "kind", "reason"])))


@task(cache_policy=NO_CACHE, persist_result=False)
def analyse(out: Path, snapshot: SnapshotWriter, settings: Settings) -> None:
    """Compute the analytics tables in DuckDB over the snapshot's warehouse, within
    `settings.memory_mb`, and write them into the snapshot."""
    with closing(connect(Layout(out).spill, settings.memory_mb, settings.worker_count)) as con:
        for name, sql in analytics_queries(with_warehouse(con, snapshot.staging), **settings.analytics):
            with snapshot.writing("analytics", name) as writer:
                for piece in typed_batches(con, name, sql):
                    writer.write(piece)
    shutil.rmtree(Layout(out).spill, ignore_errors=True)


def asset_key(out_dir: Path, layer: str, name: str) -> str:
    """A Prefect asset key for a published table (characters Prefect refuses become `_`)."""
    return "file://" + re.sub(r"[\s#?&%\"'<>\[\]{}|\\^`]", "_", f"{out_dir.resolve().as_posix()}/{layer}/{name}")


def complete_and_publish(out: Path, snapshot: SnapshotWriter, info: dict) -> str:
    """Complete the snapshot and publish it; returns its id."""
    publish(out, snapshot.complete(info))
    return snapshot.id


# The materializing task, declared once: Prefect records every table of the snapshot as an
# asset. The assets name the output folder, so each call names them (`publish_snapshot`).
publisher = MaterializingTask(complete_and_publish, assets=[], cache_policy=NO_CACHE, persist_result=False,
                              name="publish_snapshot")


def publish_snapshot(out: Path, snapshot: SnapshotWriter, info: dict) -> str:
    """`complete_and_publish` as the materializing task, with this output folder's tables as its assets."""
    assets = [asset_key(out, spec.layer, name) for name, spec in TABLES.items()]
    return publisher.with_options(assets=assets)(out, quote(snapshot), info)


@task(cache_policy=NO_CACHE, persist_result=False)
def record(out: Path, found: list, changes: Changes, parsed: list[tuple[str, list[str]]], live: dict[str, str],
           key: str, snapshot: str, settings: Settings, discovered_ns: int) -> None:
    """Write the state record of the published snapshot, then delete the parts it no longer names."""
    files = {path: entry._replace(part_id=live[path]) for path, entry in
             (changes.unchanged | new_entries(out, found, parsed)).items()}
    write_state(out, files, key, snapshot, settings.analytics, racy_after_ns=discovered_ns - RACY_NS)
    remove_parts_except(out, keep=set(live.values()))


@task(cache_policy=NO_CACHE, persist_result=False)
def keep_published(out: Path, changes: Changes, key: str, settings: Settings, discovered_ns: int) -> None:
    """Nothing to do: remember new times of unchanged files (so they are not hashed again) and
    remove what a run killed after it published left behind."""
    if changes.touched:
        write_state(out, changes.unchanged, key, changes.state.snapshot, settings.analytics,
                    racy_after_ns=discovered_ns - RACY_NS)
    remove_old_snapshots(out)
    remove_parts_except(out, keep={entry.part_id for entry in changes.unchanged.values()})


@flow(name="build-warehouse")
def build_warehouse(
    raw_dir: str = "data/raw",
    out_dir: str = "data/out",
    batch_size: int = DEFAULTS.batch_size,
    max_file_bytes: int = DEFAULTS.max_file_bytes,
    prior_weight: float = DEFAULTS.prior_weight,
    min_scored: int = DEFAULTS.min_scored,
    workers: int | None = DEFAULTS.workers,
    memory_mb: int = DEFAULTS.memory_mb,
    full_refresh: bool = False,
    lock_timeout: float = DEFAULTS.lock_timeout,
) -> dict:
    """Build the warehouse and analytics tables from the news files under `raw_dir` and publish
    them under `out_dir` as one snapshot (so the two layers always come from the same run).

    Incremental: only files that are new or changed since the last build are parsed; with
    nothing new, changed or deleted, the published snapshot stays as it is. Defaults:
    `transforms.settings.Settings` (`workers` None: one per core).
    """
    started = time.perf_counter()
    settings = Settings(batch_size=batch_size, max_file_bytes=max_file_bytes, prior_weight=prior_weight,
                        min_scored=min_scored, workers=workers, memory_mb=memory_mb, lock_timeout=lock_timeout)
    raw, out = Path(raw_dir), Path(out_dir)
    if not raw.is_dir():
        raise InputError(f"input folder {raw} does not exist or is not a folder")
    prepare_output(out)
    key = settings_key(raw, settings)
    with output_lock(out, settings.lock_timeout) as lock_notice:
        discovered_ns = time.time_ns()
        found, changes, notice = find_changes(raw, out, key, full_refresh)
        notices = [n for n in (lock_notice, notice) if n]
        published = current_snapshot(out)
        if nothing_to_do(changes, published.name if published else None, settings.analytics):
            keep_published(out, quote(changes), key, settings, discovered_ns)
            manifest = read_manifest(out)
            summary = run_summary(manifest["files"], changes.counts(), notices, manifest["rows"], str(out),
                                  manifest["snapshot"], False, time.perf_counter() - started)
        else:
            parsed = parse_batches(raw, out, changes.to_parse, settings)
            live = compact(out, live_parts(changes, parsed), small=settings.batch_size // 2)
            snapshot = SnapshotWriter(out)
            figures = combine(out, quote(snapshot), quote(live_table(live)))
            analyse(out, quote(snapshot), settings)
            publish_snapshot(out, snapshot, {"raw_dir": str(raw.resolve()), "files": figures})
            record(out, quote(found), quote(changes), quote(parsed), quote(live), key, snapshot.id, settings,
                   discovered_ns)
            summary = run_summary(figures, changes.counts(), notices, snapshot.rows, str(out), snapshot.id, True,
                                  time.perf_counter() - started)
            publish_headlines(out, snapshot.id)
    create_markdown_artifact(summary_markdown(summary), key="newsfm-build-summary", description="newsfm build summary")
    return summary


def live_parts(changes: Changes, parsed: list[tuple[str, list[str]]]) -> dict[str, str]:
    """source_path → part id of every file: the unchanged ones' recorded parts and this run's."""
    return {path: entry.part_id for path, entry in changes.unchanged.items()} | {
        path: part_id for part_id, paths in parsed for path in paths
    }


def live_table(live: dict[str, str]) -> pa.Table:
    return pa.table({"source_path": pa.array(list(live), pa.string()), "part_id": pa.array(list(live.values()), pa.string())})


def new_entries(out: Path, found: list, parsed: list[tuple[str, list[str]]]) -> dict[str, Entry]:
    """State entries of the files parsed in this run: their stat and the hash their part recorded."""
    stats = {path: (size, mtime_ns) for path, size, mtime_ns in found}
    entries = {}
    for part_id, _paths in parsed:
        sources = read_part_table(out, part_id, "sources", ["source_path", "content_sha256"]).to_pylist()
        for row in sources:
            path = row["source_path"]
            entries[path] = Entry(*stats[path], row["content_sha256"], part_id)
    return entries


def parse_batches(raw: Path, out: Path, paths: list[str], settings: Settings) -> list[tuple[str, list[str]]]:
    """Parse `paths` in batch task runs (in `workers` processes); returns (part id, its paths) per batch."""
    chunks = list(batches(paths, settings.batch_size))
    done = 0
    report(done, len(paths))
    with worker_pool(min(settings.worker_count, len(chunks))):  # a process per batch at most: one file needs none
        futures = [parse_batch.submit(raw, chunk, settings.max_file_bytes, out) for chunk in chunks]
        sizes = {future.task_run_id: len(chunk) for future, chunk in zip(futures, chunks)}
        for future in as_completed(futures):
            future.result()
            done += sizes[future.task_run_id]
            report(done, len(paths))
    return [(future.result(), chunk) for future, chunk in zip(futures, chunks)]


@flow(name="build-analytics")
def build_analytics(
    out_dir: str = "data/out", prior_weight: float = DEFAULTS.prior_weight, min_scored: int = DEFAULTS.min_scored,
    memory_mb: int = DEFAULTS.memory_mb,
) -> dict:
    """Recompute the analytics tables from the published warehouse and publish them with it."""
    out = Path(out_dir)
    settings = Settings(prior_weight=prior_weight, min_scored=min_scored, memory_mb=memory_mb)
    if current_snapshot(out) is None:
        raise InputError(f"{out} has no published warehouse: run `newsfm build` first")
    with output_lock(out):
        snapshot = SnapshotWriter(out)
        snapshot.carry("warehouse")
        analyse(out, quote(snapshot), settings)
        info = {key: value for key, value in read_manifest(out).items() if key in ("raw_dir", "files")}
        publish_snapshot(out, snapshot, info)
    publish_headlines(out, snapshot.id)
    return {"snapshot": snapshot.id, "rows": {name: snapshot.rows[name] for name, spec in TABLES.items()
                                              if spec.layer == "analytics"}}


def publish_headlines(out: Path, snapshot: str) -> None:
    tables = {name: read_table(out, name, columns) for name, columns in HEADLINE_COLUMNS.items()}
    markdown = headlines_markdown(snapshot, tables)
    create_markdown_artifact(markdown, key="newsfm-headlines", description="newsfm headline figures")
