"""Prefect wiring: a few coarse tasks per run, no logic of their own."""

from __future__ import annotations

import errno
import re
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd
from prefect import Flow, flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.assets import materialize
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.utilities.annotations import quote

from pipelines.discover import DEFAULT_BATCH_SIZE, batches, content_hash, walk
from pipelines.parallel import parse_in_pool, worker_pool
from pipelines.parts import compact, loader, read_part_table, remove_parts_except
from pipelines.state import Changes, Entry, classify, read_state, settings_key, write_state
from pipelines.store import (
    LOCK_TIMEOUT_SECONDS, SnapshotWriter, current_snapshot, output_lock, prepare_output, publish, read_manifest,
    read_table, remove_old_snapshots,
)
from transforms.analytics import DEFAULT_MIN_SCORED, DEFAULT_PRIOR_WEIGHT, INPUT_COLUMNS, analytics_tables, input_frame
from transforms.analytics.headlines import headlines_markdown
from transforms.combine import combine_parts
from transforms.frontmatter import DEFAULT_MAX_BYTES
from transforms.schema import TABLES

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
def find_changes(raw_dir: Path, out_dir: Path, settings: str, full_refresh: bool) -> tuple[list, Changes, str | None]:
    """Every input file (path, size, mtime_ns), and what differs from the state record (nothing
    is compared with full_refresh), with a notice when the record cannot be used."""
    found = walk(raw_dir)
    state, notice = (None, "--full-refresh: the state record is ignored") if full_refresh else read_state(out_dir, settings)
    return found, classify(found, state, lambda path: content_hash(raw_dir, path)), notice


@task(cache_policy=NO_CACHE, persist_result=False, **RETRIES)
def parse_batch(raw_dir: Path, paths: list[str], max_file_bytes: int, out_dir: Path) -> str:
    return parse_in_pool(raw_dir, paths, max_file_bytes, out_dir)


@task(cache_policy=NO_CACHE, persist_result=False)
def write_warehouse(out: Path, snapshot: SnapshotWriter, live: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Combine the parts table by table, writing each into the snapshot as soon as it is built.

    Returns only what analytics read (`INPUT_COLUMNS`), so the corpus' text is never all in memory.
    """
    inputs = {}
    for name, table in combine_parts(loader(out, live)):
        snapshot.write_arrow("warehouse", name, table)
        inputs[name] = input_frame(name, table)
    return {name: inputs[name] for name in TABLES if name in inputs}


def asset_key(out_dir: Path, layer: str, name: str) -> str:
    """A Prefect asset key for a published table (characters Prefect refuses become `_`)."""
    return "file://" + re.sub(r"[\s#?&%\"'<>\[\]{}|\\^`]", "_", f"{out_dir.resolve().as_posix()}/{layer}/{name}")


def summary_markdown(summary: dict) -> str:
    outcome = "published as snapshot" if summary["published"] else "nothing to do; still published: snapshot"
    lines = [
        "# newsfm build",
        "",
        f"{summary['files']} files: {summary['loaded']} loaded, {summary['duplicates']} duplicates, "
        f"{summary['rejected']} rejected; {outcome} `{summary['snapshot']}` in `{summary['out_dir']}`.",
        "",
        f"Since the last build: {summary['new']} new, {summary['changed']} changed, {summary['unchanged']} unchanged, "
        f"{summary['deleted']} deleted.",
        *(f"\n{notice}" for notice in summary["notices"]),
        "",
        "| table | rows |",
        "| --- | ---: |",
        *(f"| {name} | {rows} |" for name, rows in summary["rows"].items()),
        "",
        "| reject reason | files |",
        "| --- | ---: |",
        *(f"| {reason} | {n} |" for reason, n in summary["rejects_by_reason"].items()),
    ]
    return "\n".join(lines)


def publish_snapshot(out: Path, snapshot: SnapshotWriter, analytics: dict[str, pd.DataFrame], info: dict) -> str:
    """Write the analytics into the snapshot and publish it, in a materializing task: Prefect
    records every table of the snapshot as an asset."""
    assets = [asset_key(out, spec.layer, name) for name, spec in TABLES.items()]

    def write_and_publish(out: Path, snapshot: SnapshotWriter, analytics: dict[str, pd.DataFrame], info: dict) -> str:
        for name, frame in analytics.items():
            snapshot.write_frame("analytics", name, frame)
        publish(out, snapshot.complete(info))
        return snapshot.id

    publisher = materialize(*assets, cache_policy=NO_CACHE, persist_result=False)(write_and_publish)
    return publisher(out, quote(snapshot), quote(analytics), info)


@task(cache_policy=NO_CACHE, persist_result=False)
def compute_analytics(warehouse: dict[str, pd.DataFrame], prior_weight: float, min_scored: int) -> dict[str, pd.DataFrame]:
    return analytics_tables(warehouse, prior_weight=prior_weight, min_scored=min_scored)


@flow(name="build-warehouse")
def build_warehouse(
    raw_dir: str = "data/raw",
    out_dir: str = "data/out",
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_file_bytes: int = DEFAULT_MAX_BYTES,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    min_scored: int = DEFAULT_MIN_SCORED,
    workers: int = 1,
    full_refresh: bool = False,
    lock_timeout: float = LOCK_TIMEOUT_SECONDS,
) -> dict:
    """Build the warehouse and analytics tables from the news files under `raw_dir` and publish
    them under `out_dir` as one snapshot (so the two layers always come from the same run).

    Incremental: only files that are new or changed since the last build are parsed; with
    nothing new, changed or deleted, the published snapshot stays as it is.
    """
    started = time.perf_counter()
    raw, out = Path(raw_dir), Path(out_dir)
    if not raw.is_dir():
        raise InputError(f"input folder {raw} does not exist or is not a folder")
    prepare_output(out)
    settings = settings_key(raw, max_file_bytes)
    analytics_settings = {"prior_weight": prior_weight, "min_scored": min_scored}
    with output_lock(out, lock_timeout) as lock_notice:
        discovered_ns = time.time_ns()
        found, changes, notice = find_changes(raw, out, settings, full_refresh)
        state = changes.state
        published = current_snapshot(out)
        if state and not changes.any and published and published.name == state.snapshot and state.analytics == analytics_settings:
            if changes.touched:  # same bytes, new times: remember the times so they are not hashed again
                write_state(out, changes.unchanged, settings, state.snapshot, analytics_settings,
                            racy_after_ns=discovered_ns - RACY_NS)
            remove_old_snapshots(out)  # leftovers of a run killed after it published
            remove_parts_except(out, keep={entry.part_id for entry in changes.unchanged.values()})
            summary = unchanged_summary(out, changes, [n for n in (lock_notice, notice) if n], started)
            create_markdown_artifact(summary_markdown(summary), key="newsfm-build-summary",
                                     description="newsfm build summary")
            return summary
        parsed = parse_all(raw, out, changes.to_parse, batch_size, max_file_bytes, workers)
        live = {path: entry.part_id for path, entry in changes.unchanged.items()} | {
            path: part_id for part_id, paths in parsed for path in paths
        }
        live = compact(out, live, small=batch_size // 2)
        snapshot = SnapshotWriter(out)
        warehouse = write_warehouse(out, quote(snapshot), live)
        analytics = compute_analytics(quote(warehouse), prior_weight, min_scored)
        figures = file_figures(warehouse["sources"])
        publish_snapshot(out, snapshot, analytics, {"raw_dir": str(raw.resolve()), "files": figures})
        files = {path: entry._replace(part_id=live[path]) for path, entry in
                 (changes.unchanged | new_entries(out, found, parsed)).items()}
        write_state(out, files, settings, snapshot.id, analytics_settings, racy_after_ns=discovered_ns - RACY_NS)
        remove_parts_except(out, keep=set(live.values()))
    summary = {**figures, **changes.counts(), "notices": [n for n in (lock_notice, notice) if n],
               "rows": {name: len(frame) for name, frame in {**warehouse, **analytics}.items()},
               "out_dir": str(out), "snapshot": snapshot.id, "published": True,
               "seconds": round(time.perf_counter() - started, 3)}
    create_markdown_artifact(summary_markdown(summary), key="newsfm-build-summary", description="newsfm build summary")
    publish_headlines(snapshot.id, {**warehouse, **analytics})
    return summary


def file_figures(sources: pd.DataFrame) -> dict:
    """What the sources ledger says of the files: the figures a build summary starts with."""
    status = Counter(sources["status"])
    return {
        "files": len(sources),
        "loaded": status["loaded"],
        "duplicates": status["duplicate"],
        "rejected": status["rejected"],
        "loaded_by_kind": dict(sorted(Counter(sources.loc[sources["status"] == "loaded", "kind"]).items())),
        "rejects_by_reason": dict(sorted(Counter(sources["reason"].dropna()).items())),
    }


def unchanged_summary(out: Path, changes: Changes, notices: list[str], started: float) -> dict:
    """The summary of a run that found nothing to do: the published snapshot's figures."""
    manifest = read_manifest(out)
    rows = {name: manifest["rows"][name] for name in TABLES}
    return {**manifest["files"], **changes.counts(), "notices": notices, "rows": rows, "out_dir": str(out),
            "snapshot": manifest["snapshot"], "published": False, "seconds": round(time.perf_counter() - started, 3)}


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


def parse_all(
    raw: Path, out: Path, paths: list[str], batch_size: int, max_file_bytes: int, workers: int
) -> list[tuple[str, list[str]]]:
    """Parse `paths` in batch task runs (in `workers` processes); returns (part id, its paths) per batch."""
    chunks = list(batches(paths, batch_size))
    done = 0
    report(done, len(paths))
    with worker_pool(min(workers, len(chunks))):  # a process per batch at most: one file needs none
        futures = [parse_batch.submit(raw, chunk, max_file_bytes, out) for chunk in chunks]
        sizes = {future.task_run_id: len(chunk) for future, chunk in zip(futures, chunks)}
        for future in as_completed(futures):
            future.result()
            done += sizes[future.task_run_id]
            report(done, len(paths))
    return [(future.result(), chunk) for future, chunk in zip(futures, chunks)]


@flow(name="build-analytics")
def build_analytics(
    out_dir: str = "data/out", prior_weight: float = DEFAULT_PRIOR_WEIGHT, min_scored: int = DEFAULT_MIN_SCORED
) -> dict:
    """Recompute the analytics tables from the published warehouse and publish them with it."""
    out = Path(out_dir)
    if current_snapshot(out) is None:
        raise InputError(f"{out} has no published warehouse: run `newsfm build` first")
    with output_lock(out):
        warehouse = load_warehouse(out)
        analytics = compute_analytics(quote(warehouse), prior_weight, min_scored)
        snapshot = SnapshotWriter(out)
        snapshot.carry("warehouse")
        info = {key: value for key, value in read_manifest(out).items() if key in ("raw_dir", "files")}
        publish_snapshot(out, snapshot, analytics, info)
    publish_headlines(snapshot.id, {**warehouse, **analytics})
    return {"snapshot": snapshot.id, "rows": {name: len(frame) for name, frame in analytics.items()}}


def publish_headlines(snapshot: str, tables: dict[str, pd.DataFrame]) -> None:
    markdown = headlines_markdown(snapshot, tables)
    create_markdown_artifact(markdown, key="newsfm-headlines", description="newsfm headline figures")


@task(cache_policy=NO_CACHE, persist_result=False)
def load_warehouse(out: Path) -> dict[str, pd.DataFrame]:
    """The published warehouse columns that analytics read."""
    return {name: read_table(out, name, INPUT_COLUMNS.get(name)) for name, spec in TABLES.items() if spec.layer == "warehouse"}
