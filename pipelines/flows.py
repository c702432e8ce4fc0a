"""Prefect wiring: a few coarse tasks per run, no logic of their own.

A build reads as its steps: find changes → parse batches → combine → analyse → publish →
record. What each step decides lives in `pipelines.state`, `pipelines.parts` and
`transforms`; the run summary is `transforms.summary`.

Annotations here are evaluated when the functions are defined (no `from __future__ import
annotations`): Prefect validates a flow's parameters against them, and in a served run it
cannot resolve `Settings` from a string.
"""


import errno
import re
import time
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
from prefect import Flow, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture, as_completed
from prefect.tasks import MaterializingTask
from prefect.utilities.annotations import quote

from newsfm.pipelines import head_start
from newsfm.pipelines.combine import Build, combine_into
from newsfm.pipelines.discover import FOUND_SCHEMA, InputError
from newsfm.pipelines.parallel import in_own_process, parse_in_pool, worker_pool
from newsfm.pipelines.parts import LiveFiles, compact, remove_parts_except
from newsfm.pipelines.segments import remove_stores_except
from newsfm.pipelines.sql.engine import analyse_into, unequal_files
from newsfm.pipelines.state import (
    ANALYTICS,
    BUILD,
    NOTHING,
    RACY_NS,
    Changes,
    Keys,
    Values,
    build_keys,
    find_changes_in,
    gone_files,
    new_entries,
    remove_scratch,
    work_to_do,
    write_live,
    write_state,
)
from newsfm.pipelines.store import (
    SnapshotWriter,
    current_snapshot,
    output_lock,
    prepare_output,
    publish,
    read_manifest,
    read_table,
    remove_old_snapshots,
)
from newsfm.transforms.analytics.headlines import HEADLINE_COLUMNS, headlines_markdown
from newsfm.transforms.schema import TABLES
from newsfm.transforms.settings import DEFAULTS, Settings
from newsfm.transforms.summary import run_summary, summary_markdown

_progress: list[Callable[[int, int], None]] = []


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
RETRIES = dict(retries=2, retry_delay_seconds=3, retry_condition_fn=transient_io_error)


@task(cache_policy=NO_CACHE, persist_result=False, **RETRIES)
def find_changes(raw_dir: Path, out_dir: Path, keys: Keys, full_refresh: bool, settings: Settings,
                 found: Path | None = None) -> tuple[Changes, str | None]:
    """Every input file and what differs from the state record, in a process of its own
    (`pipelines.state.find_changes_in`): the walk holds a column per file, the flow only the
    counts and the file of decisions it reads as it goes. `found`: the files as the head start
    walked them, compared instead of walking again."""
    return in_own_process(find_changes_in, raw_dir, out_dir, keys, full_refresh, settings.worker_count, found,
                          workers=settings.worker_count)


@task(cache_policy=NO_CACHE, persist_result=False, **RETRIES)
def parse_batch(raw_dir: Path, paths: pa.StringArray, max_file_bytes: int, out_dir: Path) -> str:
    """Parse one batch of files into a part; returns its id. The paths come as one Arrow array,
    which Prefect passes as it is: a list of them it would walk item by item, for every task
    run, several times (about 3 s of the flow's CPU at 100,000 files, taken from the parsers)."""
    return parse_in_pool(raw_dir, paths.to_pylist(), max_file_bytes, out_dir)


@task(cache_policy=NO_CACHE, persist_result=False)
def combine(out: Path, snapshot: SnapshotWriter, build: Build, settings: Settings) -> dict:
    """Combine the live files' rows into the snapshot's warehouse tables a segment at a time, only
    the segments a change touches when the last build's are at hand, in a process of its own
    (`pipelines.combine.combine_into`); returns the file figures."""
    rows, figures = in_own_process(combine_into, out, snapshot, build, workers=settings.worker_count)
    snapshot.rows.update(rows)
    return figures


@task(cache_policy=NO_CACHE, persist_result=False)
def analyse(out: Path, snapshot: SnapshotWriter, settings: Settings, previous: Path | None = None) -> None:
    """Compute the analytics tables in DuckDB over the snapshot's warehouse and write them into
    it, in a process of its own (`pipelines.sql.engine.analyse_into`). When the snapshot
    `previous` (the published one, its analytics made with these settings and code) gives them
    the same inputs (`unequal_files`), its analytics tables are linked instead; else only the
    groups the change touches are computed again."""
    unequal = unequal_files(snapshot.staging, previous) if previous is not None else None
    if unequal is not None and not any(unequal.values()):
        snapshot.carry("analytics")
        return
    snapshot.rows.update(in_own_process(analyse_into, out, snapshot, settings, previous, unequal,
                                        workers=settings.worker_count))


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
def record(out: Path, changes: Changes, part_ids: list[str], live: LiveFiles, keys: Keys, snapshot: str,
           discovered_ns: int) -> None:
    """Write the state record of the published snapshot, then delete the parts it no longer names."""
    write_state(out, new_entries(out, changes, part_ids, live), keys, snapshot, racy_after_ns=discovered_ns - RACY_NS)
    remove_parts_except(out, keep=live.per_part)
    remove_stores_except(out, keep=snapshot)
    remove_scratch(out)


@task(cache_policy=NO_CACHE, persist_result=False)
def record_unchanged(out: Path, changes: Changes, keys: Keys, snapshot: str, discovered_ns: int) -> None:
    """No file changed: the state record keeps its rows, with new times of touched files (so
    they are not hashed again), for `snapshot` (the published one, or one whose analytics were
    computed again); then remove what a run killed after it published left behind."""
    parts = set()  # taken before the record is replaced: they are read from it
    for _files, part_ids in changes.pieces("part_id"):
        parts.update(pc.unique(part_ids).drop_null().to_pylist())
    if changes.touched or snapshot != changes.state.snapshot or keys.analytics != changes.state.analytics:
        write_state(out, changes.unchanged_batches(), keys, snapshot, racy_after_ns=discovered_ns - RACY_NS)
    remove_old_snapshots(out)
    remove_parts_except(out, keep=parts)
    remove_stores_except(out, keep=read_manifest(out).get("segments"))
    remove_scratch(out)


@flow(name="build-warehouse")
def build_warehouse(raw_dir: str = "data/raw", out_dir: str = "data/out", settings: Settings = DEFAULTS,
                    full_refresh: bool = False) -> dict:
    """Build the warehouse and analytics tables from the news files under `raw_dir` and publish
    them under `out_dir` as one snapshot (so the two layers always come from the same run).

    Incremental: only files that are new or changed since the last build are parsed; with
    nothing new, changed or deleted, the published snapshot stays as it is. `settings`: see
    `transforms.settings.Settings` (in a deployment, a mapping of the settings to change).
    """
    started = time.perf_counter()
    raw, out = Path(raw_dir), Path(out_dir)
    if not raw.is_dir():
        raise InputError(f"input folder {raw} does not exist or is not a folder")
    prepare_output(out)
    keys = build_keys(raw, settings)
    asked = time.monotonic()
    with output_lock(out, settings.lock_timeout) as lock_notice:
        found, discovered_ns = head_start.walk_of(raw, out, time.monotonic() - asked) or (None, time.time_ns())
        changes, notice = find_changes(raw, out, keys, full_refresh, settings, found)
        published = current_snapshot(out)
        work, why = work_to_do(changes, published.name if published else None, keys)
        ahead = head_start.take_over(out, keys, settings)  # batches parsed while Prefect's API started
        if work != BUILD:
            ahead.settle()
        notices = [n for n in (lock_notice, notice, why) if n]
        if work == NOTHING:
            record_unchanged(out, quote(changes), keys, published.name, discovered_ns)
            manifest = read_manifest(out)
            summary = run_summary(manifest["files"], changes.counts(), notices, manifest["rows"], str(out),
                                  manifest["snapshot"], False, time.perf_counter() - started)
        elif work == ANALYTICS:
            manifest = read_manifest(out)
            info = {"raw_dir": str(raw.resolve()), "files": manifest["files"], "segments": manifest.get("segments")}
            snapshot = analytics_again(out, settings, info)
            record_unchanged(out, quote(changes), keys, snapshot.id, discovered_ns)
            summary = run_summary(manifest["files"], changes.counts(), notices, snapshot.rows, str(out), snapshot.id, True,
                                  time.perf_counter() - started)
        else:
            part_ids = parse_batches(raw, out, changes, settings, ahead)
            live = compact(out, write_live(out, changes, part_ids), small=settings.batch_size // 2)
            snapshot = SnapshotWriter(out)
            recorded = changes.state.snapshot if changes.state and changes.state.combining == keys.combining else None
            build = Build(live, gone_files(changes), part_ids, recorded, settings.segments)
            figures = combine(out, quote(snapshot), quote(build), settings)
            same_analytics = changes.state and published and changes.state.snapshot == published.name \
                and changes.state.analytics == keys.analytics
            analyse(out, quote(snapshot), settings, published if same_analytics else None)
            publish_snapshot(out, snapshot, {"raw_dir": str(raw.resolve()), "files": figures, "segments": snapshot.id})
            record(out, quote(changes), quote(part_ids), quote(live), keys, snapshot.id, discovered_ns)
            summary = run_summary(figures, changes.counts(), notices, snapshot.rows, str(out), snapshot.id, True,
                                  time.perf_counter() - started)
        if work != NOTHING:
            publish_headlines(out, summary["snapshot"])
    create_markdown_artifact(summary_markdown(summary), key="newsfm-build-summary", description="newsfm build summary")
    return summary


def parse_batches(raw: Path, out: Path, changes: Changes, settings: Settings, ahead: head_start.Ahead) -> list[str]:
    """Parse the new and changed files in batch task runs (in `workers` processes); returns the
    part id of each batch, in order (batch k holds the files parsed `k * batch_size` to
    `(k + 1) * batch_size`).

    Batches are submitted as others finish, two per process that parses them at most (see
    `batches_at_once`), and each one's paths become Python strings only when it runs. A batch
    the head start parsed (`ahead`) takes its part instead, once parsed; one it was still parsing
    is waited for only when nothing else is left to do.
    """
    size, total, at_once = settings.batch_size, changes.files_to_parse, batches_at_once(settings)
    files = Values(changes.parsed_files(), FOUND_SCHEMA)
    starts = range(0, total, size)
    part_ids: list[str] = [""] * len(starts)
    done = ahead_files = 0
    report(done, total)
    with worker_pool(min(settings.worker_count, len(starts))):  # a process per batch at most: one file needs none
        waiting = iter(enumerate(starts))
        running: dict[PrefectFuture, tuple[int, int]] = {}
        claimed: dict[int, tuple[Future, pa.StringArray]] = {}

        def submit(index: int, chunk: pa.StringArray) -> None:
            running[parse_batch.submit(raw, chunk, settings.max_file_bytes, out)] = (index, len(chunk))

        while True:
            for index, start in waiting:
                batch = files.take(min(size, total - start))
                # A copy with buffers of its own: a slice would carry its parent's, and pickle them whole to Dask.
                chunk = pa.concat_arrays([batch.column(0)])
                if (parsed := ahead.claim(batch)) is not None:
                    claimed[index] = (parsed, chunk)
                    continue
                submit(index, chunk)
                if len(running) >= at_once:
                    break
            for index in [index for index, (parsed, _chunk) in claimed.items() if parsed.done() or not running]:
                parsed, chunk = claimed.pop(index)
                part_id = ahead.part_id(parsed)
                if part_id is None:  # parsed here after all
                    submit(index, chunk)
                    continue
                part_ids[index] = part_id
                done += len(chunk)
                ahead_files += len(chunk)
                report(done, total)
            if not running:
                files.close()
                ahead.settle()
                if ahead_files:
                    get_run_logger().info(f"{ahead_files} of {total} files parsed while Prefect's API started")
                return part_ids
            future = next(as_completed(list(running)))
            index, files_done = running.pop(future)
            part_ids[index] = future.result()
            done += files_done
            report(done, total)


def batches_at_once(settings: Settings) -> int:
    """Batch task runs in flight at a time: two per process that parses them (`workers`), or per
    worker thread of the Dask cluster when the flow runs its tasks there (`on_dask`)."""
    parsers = settings.worker_count
    context = FlowRunContext.get()
    runner = context.task_runner if context else None
    if type(runner).__name__ == "DaskTaskRunner":
        try:
            parsers = max(parsers, sum(runner.client.nthreads().values()))
        except Exception:  # the cluster's size is only a hint
            pass
    return 2 * parsers


@flow(name="build-analytics")
def build_analytics(out_dir: str = "data/out", settings: Settings = DEFAULTS) -> dict:
    """Recompute the analytics tables from the published warehouse and publish them with it."""
    out = Path(out_dir)
    if current_snapshot(out) is None:
        raise InputError(f"{out} has no published warehouse: run `newsfm build` first")
    with output_lock(out):
        info = {key: value for key, value in read_manifest(out).items() if key in ("raw_dir", "files", "segments")}
        snapshot = analytics_again(out, settings, info)
    publish_headlines(out, snapshot.id)
    return {"snapshot": snapshot.id, "rows": {name: snapshot.rows[name] for name, spec in TABLES.items()
                                              if spec.layer == "analytics"}}


def analytics_again(out: Path, settings: Settings, info: dict) -> SnapshotWriter:
    """Publish a snapshot of the published warehouse (its files linked) with its analytics computed again."""
    snapshot = SnapshotWriter(out)
    snapshot.carry("warehouse")
    analyse(out, quote(snapshot), settings)
    publish_snapshot(out, snapshot, info)
    return snapshot


def publish_headlines(out: Path, snapshot: str) -> None:
    tables = {name: read_table(out, name, columns, ordered=False) for name, columns in HEADLINE_COLUMNS.items()}
    markdown = headlines_markdown(snapshot, tables)
    create_markdown_artifact(markdown, key="newsfm-headlines", description="newsfm headline figures")
