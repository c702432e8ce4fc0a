"""Snapshots on disk: write every table into a new folder, then publish it with one atomic switch.

A snapshot is written under `snapshots/.staging-<id>` and renamed when complete; `current` is
then replaced by `os.replace` of a new symlink, which POSIX makes atomic (paths: see
pipelines.layout; every write is durable: see pipelines.durable). A crash before that rename
leaves the previous snapshot published; leftovers are removed by the next publish.

Each publish keeps the published snapshot and the one before it, and every snapshot a reader
holds a lease on (`take_lease`: `newsfm.open`). A lease is a file in `OUT/leases` that its
reader keeps `flock`-ed: the kernel releases it when the reader's process ends however it
ends, so a lease whose lock can be taken is a dead reader's, and is removed.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newsfm.pipelines.durable import fsync_path, link_or_copy, publish_folder, replace_link, synced_file
from newsfm.pipelines.killpoints import checkpoint
from newsfm.pipelines.layout import (
    CURRENT,
    KEPT,
    LAYERS,
    REMOVED_PREFIX,
    STAGING_PREFIX,
    TABLE_FILE,
    Layout,
    manifest,
    table_folder,
)
from newsfm.transforms.schema import TABLES, SchemaMismatch, conform, to_frame
from newsfm.transforms.settings import DEFAULTS

KEEP_SNAPSHOTS = 2  # the published one and the one before it, for readers still on it
ROW_GROUP_SIZE = 1_000_000
# A table written in pieces is held back until this much is pending, then written as a row group
# while the next gathers: a writer holds about twice this. At 32 MB the analytics process over
# 1,000,000 files peaked at 411 MB (story_members), at 8 MB at 355 MB; 100,000 files' tables
# are smaller than either.
ROW_GROUP_BYTES = 8 << 20
DICTIONARY_SAMPLE = 1000  # values of a text column looked at to choose its encoding


class OutputError(Exception):
    """The output folder cannot be used; the message says why and what to do."""


def prepare_output(out_dir: Path) -> None:
    """Create the output folder and prove it is writable, before any work is done."""
    layout = Layout(out_dir)
    try:
        layout.snapshots.mkdir(parents=True, exist_ok=True)
        probe = layout.snapshots / f".probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise OutputError(f"cannot write to output folder {out_dir}: {error.strerror or error}") from None
    for link in (layout.current, *map(layout.layer, LAYERS)):
        if link.exists() and not link.is_symlink():
            raise OutputError(
                f"{link} is a real folder, not newsfm's link to the current snapshot; move it away or pick another output folder"
            )


@contextmanager
def output_lock(out_dir: Path, timeout: float = DEFAULTS.lock_timeout) -> Iterator[str | None]:
    """Hold the output folder's exclusive lock; wait up to `timeout` seconds for another run.

    An advisory `flock`: the kernel drops it when its process dies, so a killed run never
    leaves the folder locked. The holder writes its pid into the lock file and clears it on
    release; a pid found there on entry is a run that was killed, and the lock yields a notice
    saying so (its leftovers are removed by this run).
    """
    with open(Layout(out_dir).lock, "a+") as handle:
        acquire(handle, out_dir, timeout)
        handle.seek(0)
        killed = handle.read().strip()
        handle.seek(0)
        handle.truncate()
        handle.write(f"newsfm run pid {os.getpid()} (started {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC)")
        handle.flush()
        try:
            yield f"the previous run ({killed}) did not finish; its leftovers are cleaned up" if killed else None
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def acquire(handle, out_dir: Path, timeout: float) -> None:
    """Take the flock on the open lock file, polling until `timeout`; then OutputError naming the holder."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().strip() or "another newsfm run"
                raise OutputError(
                    f"{holder} is writing {out_dir}; gave up waiting after {timeout:g} s (see --lock-timeout)"
                ) from None
            time.sleep(0.1)


def wait_until_unlocked(out_dir: Path, timeout: float) -> float:
    """Wait, without taking it, until no run holds the output lock; returns the seconds left.

    The CLI calls this before starting Prefect, so a folder that stays locked fails fast and cleanly.
    """
    started = time.monotonic()
    with open(Layout(out_dir).lock, "a+") as handle:
        acquire(handle, out_dir, timeout)
        fcntl.flock(handle, fcntl.LOCK_UN)
    return max(0.0, timeout - (time.monotonic() - started))


class TableFile:
    """One table written in pieces, in order, as a Parquet file of few large row groups.

    Pieces are held back until ROW_GROUP_BYTES or ROW_GROUP_SIZE rows are pending, so a table
    written a key range at a time is not cut into hundreds of small row groups.
    """

    def __init__(self, handle, schema: pa.Schema) -> None:
        self.writer = pq.ParquetWriter(handle, schema, compression="zstd")
        self.schema, self.pending, self.rows = schema, [], 0
        self.pending_bytes = self.pending_rows = 0
        # Row groups are encoded and compressed on a thread of their own (Arrow lets go of the
        # GIL), one at a time and in order, while the caller makes the next one.
        self.encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet")
        self.encoding: Future | None = None

    def write(self, table: pa.Table) -> None:
        if table.schema != self.schema:
            raise SchemaMismatch(f"schema {table.schema} differs from the table's {self.schema}")
        self.pending.append(table)
        self.rows += table.num_rows
        self.pending_rows += table.num_rows
        self.pending_bytes += table.get_total_buffer_size()
        if self.pending_bytes >= ROW_GROUP_BYTES or self.pending_rows >= ROW_GROUP_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            row_group = pa.concat_tables(self.pending)
            self.pending, self.pending_bytes, self.pending_rows = [], 0, 0
            self.wait()
            self.encoding = self.encoder.submit(self.writer.write_table, row_group, row_group_size=ROW_GROUP_SIZE)

    def wait(self) -> None:
        """Until the row group being written is written; raises what writing it raised."""
        if self.encoding is not None:
            encoding, self.encoding = self.encoding, None
            encoding.result()

    def close(self) -> None:
        if not self.rows:  # a file of one empty row group, as pq.write_table writes an empty table
            self.pending = [self.schema.empty_table()]
        try:
            self.flush()
            self.wait()
        finally:
            self.encoder.shutdown()
        self.writer.close()


@contextmanager
def table_file(folder: Path, schema: pa.Schema) -> Iterator[TableFile]:
    """Write a table as a Parquet dataset folder of one file, on disk when the block ends."""
    folder.mkdir(parents=True)
    with synced_file(folder / TABLE_FILE) as handle:
        writer = TableFile(handle, schema)
        try:
            yield writer
        finally:
            writer.close()
    fsync_path(folder)


def dictionary_columns(table: pa.Table) -> list[str]:
    """The columns worth a Parquet dictionary: all but the text columns whose values are mostly
    distinct (in a sample of the first rows: titles, URLs, paths, ids). On those a dictionary is
    built only to be given up; without it the segments of a 1,000,000-file warehouse wrote in
    two thirds of the time, into smaller files."""
    sample = table.slice(0, DICTIONARY_SAMPLE)
    return [field.name for field in table.schema
            if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
            or 2 * pc.count_distinct(sample.column(field.name)).as_py() <= sample.num_rows]


def write_arrow(folder: Path, table: pa.Table) -> int:
    """Write one table as a Parquet dataset folder of one file, on disk; returns its row count."""
    with table_file(folder, table.schema) as writer:
        writer.write(table)
    return table.num_rows


def write_table(folder: Path, name: str, frame: pd.DataFrame) -> int:
    """Write one frame, checked against its table's schema."""
    return write_arrow(folder, conform(name, frame))


def new_snapshot_id() -> str:
    """Sortable by time, unique across concurrent writers."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]


class SnapshotWriter:
    """A new snapshot, written table by table under `snapshots/.staging-<id>`, then completed.

    Until `complete` renames it, readers cannot see it and the next publish removes it.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir, self.id = out_dir, new_snapshot_id()
        self.staging = Layout(out_dir).staging(self.id)
        self.rows: dict[str, int] = {}
        self.staging.mkdir(parents=True)

    def write_arrow(self, layer: str, name: str, table: pa.Table) -> None:
        """Write a table already typed by its schema (as `transforms.combine` makes them)."""
        if table.schema != TABLES[name].schema:
            raise SchemaMismatch(f"{name}: schema {table.schema} differs from the table's")
        with self.writing(layer, name) as writer:
            writer.write(table)

    @contextmanager
    def writing(self, layer: str, name: str) -> Iterator[TableFile]:
        """Write table `name` in pieces typed by its schema, in its order."""
        with table_file(table_folder(self.staging, layer, name), TABLES[name].schema) as writer:
            yield writer
        self.rows[name] = writer.rows
        checkpoint(f"{layer} table {name} written")

    def read(self, layer: str, name: str, columns: list[str] | None = None) -> pa.Table:
        """A table written into this snapshot, or some of its columns."""
        return read_arrow(self.staging, name, columns)

    def write_piece(self, layer: str, name: str, file_name: str, table: pa.Table) -> None:
        """Write one file of table `name` (a table of several files: one per segment), typed by its schema."""
        if table.schema != TABLES[name].schema:
            raise SchemaMismatch(f"{name}: schema {table.schema} differs from the table's")
        folder = table_folder(self.staging, layer, name)
        folder.mkdir(parents=True, exist_ok=True)
        with synced_file(folder / file_name) as handle:
            pq.write_table(table, handle, compression="zstd", use_dictionary=dictionary_columns(table))
        self.rows[name] = self.rows.get(name, 0) + table.num_rows

    def link_piece(self, layer: str, name: str, source: Path, rows: int) -> None:
        """One file of table `name` as a published snapshot holds it (`rows`: its rows)."""
        folder = table_folder(self.staging, layer, name)
        folder.mkdir(parents=True, exist_ok=True)
        link_or_copy(source, folder / source.name)
        self.rows[name] = self.rows.get(name, 0) + rows

    def write_frame(self, layer: str, name: str, frame: pd.DataFrame) -> None:
        self.rows[name] = write_table(table_folder(self.staging, layer, name), name, frame)
        checkpoint(f"{layer} table {name} written")

    def carry(self, layer: str) -> None:
        """Take `layer` unchanged from the published snapshot (hard links, or copies); with the
        analytics, what they keep for the next build (`KEPT`)."""
        previous = read_manifest(self.out_dir)
        published = current_snapshot(self.out_dir)
        for folder in sorted((published / layer).iterdir()):
            link_table(folder, table_folder(self.staging, layer, folder.name))
            self.rows[folder.name] = previous["rows"][folder.name]
        if layer == "analytics" and (published / KEPT).is_dir():
            link_table(published / KEPT, self.staging / KEPT)

    def complete(self, info: dict) -> Path:
        """Write the manifest and rename the staging folder into a complete snapshot."""
        for layer in LAYERS:  # the folders of tables written or linked a file at a time
            for folder in (self.staging / layer).iterdir() if (self.staging / layer).is_dir() else ():
                fsync_path(folder)
        created_at = dt.datetime.now(dt.timezone.utc).isoformat()
        rows = {name: self.rows[name] for name in TABLES if name in self.rows}
        content = {**info, "snapshot": self.id, "created_at": created_at, "rows": rows}
        with synced_file(manifest(self.staging), "w") as handle:
            handle.write(json.dumps(content, indent=2, sort_keys=True) + "\n")
        final = Layout(self.out_dir).snapshot(self.id)
        publish_folder(self.staging, final, written="manifest written", placed="snapshot complete")
        return final


def link_table(source: Path, target: Path) -> None:
    """A published table folder in a new snapshot: hard links to its files (already on disk),
    or fsynced copies where the file system has no hard links."""
    target.mkdir(parents=True)
    for file in sorted(source.iterdir()):
        link_or_copy(file, target / file.name)
    fsync_path(target)


def publish(out_dir: Path, snapshot: Path) -> None:
    """Make `snapshot` the one readers see, in a single atomic rename, then tidy up."""
    layout = Layout(out_dir)
    replace_link(layout.current, layout.current_link_target(snapshot.name), written="new current link made",
                 placed="published")
    for layer in LAYERS:
        if not layout.layer(layer).is_symlink():
            os.symlink(Path(CURRENT) / layer, layout.layer(layer))
    fsync_path(out_dir)
    remove_old_snapshots(out_dir)
    checkpoint("old snapshots removed")


def current_snapshot(out_dir: Path) -> Path | None:
    link = Layout(out_dir).current
    return (out_dir / os.readlink(link)) if link.is_symlink() else None


def remove_old_snapshots(out_dir: Path, keep: int = KEEP_SNAPSHOTS) -> None:
    """Remove staging leftovers of interrupted runs and all but the newest `keep` snapshots.

    The published snapshot is never removed, whatever its age, nor one a reader holds a lease
    on. Snapshots are renamed out of the way under the leases' lock (so a reader never leases
    one being removed) and deleted after it (so a reader never waits for a deletion).
    Call it only while holding the output lock: it removes staging folders.
    """
    layout = Layout(out_dir)
    with leases_locked(out_dir):
        published, leased = current_snapshot(out_dir), leased_snapshots(out_dir)
        snapshots = sorted(layout.snapshots.iterdir(), key=lambda p: p.name, reverse=True)
        complete = [p for p in snapshots if not p.name.startswith(".")]
        removed = [path for path in complete[keep:] if path != published and path.name not in leased]
        for path in removed:
            shutil.rmtree(layout.removed(path.name), ignore_errors=True)  # a removal that was interrupted
            os.replace(path, layout.removed(path.name))
        if removed:
            fsync_path(layout.snapshots)
    for path in layout.snapshots.iterdir():
        if path.name.startswith((STAGING_PREFIX, REMOVED_PREFIX)):
            shutil.rmtree(path, ignore_errors=True)
    for leftover in out_dir.glob(f".{CURRENT}*"):  # a link made by a run killed before its rename
        leftover.unlink(missing_ok=True)


@contextmanager
def leases_locked(out_dir: Path) -> Iterator[None]:
    """Hold the leases' lock, which taking a lease and choosing snapshots to remove share (briefly)."""
    path = Layout(out_dir).leases_lock
    path.parent.mkdir(exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Lease:
    """A reader's hold on one snapshot: an open, `flock`-ed file in OUT/leases, until `release`."""

    def __init__(self, path: Path, descriptor: int, snapshot: str) -> None:
        self.path, self.descriptor, self.snapshot = path, descriptor, snapshot

    def release(self) -> None:
        if self.descriptor >= 0:
            self.path.unlink(missing_ok=True)
            os.close(self.descriptor)  # and with it the lock
            self.descriptor = -1


def take_lease(out_dir: Path) -> Lease:
    """A lease on the snapshot published now; OutputError when none is. Raises OSError where
    the output folder cannot be written (a reader then reads without one)."""
    layout = Layout(out_dir)
    with leases_locked(out_dir):
        published = current_snapshot(out_dir)
        if published is None or not published.is_dir():
            raise OutputError(f"{out_dir} has no published snapshot: run `newsfm build` first")
        path = layout.leases / f"{published.name}.{uuid.uuid4().hex[:12]}.lease"
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(descriptor, f"reader pid {os.getpid()}\n".encode())
    return Lease(path, descriptor, published.name)


def leased_snapshots(out_dir: Path) -> set[str]:
    """The ids of the snapshots readers hold leases on; the leases of readers that are gone are removed."""
    leased = set()
    for path in Layout(out_dir).leases.glob("*.lease"):
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # released meanwhile
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path.unlink(missing_ok=True)  # its reader is gone: the kernel released its lock
        except BlockingIOError:
            leased.add(path.name.split(".")[0])
        finally:
            os.close(descriptor)
    return leased


def tidy_unless_locked(out_dir: Path) -> None:
    """`remove_old_snapshots`, when no run holds the output lock (a run that does removes them as it publishes)."""
    try:
        with open(Layout(out_dir).lock, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            try:
                remove_old_snapshots(out_dir)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError:  # locked by a run, or a folder this reader cannot write
        pass


def read_table(root: Path, name: str, columns: list[str] | None = None, ordered: bool = True) -> pd.DataFrame:
    """A table of `root` (an output folder: the published one; or a snapshot folder), or some of
    its columns, as a typed pandas frame (nullable dtypes, UTC timestamps); see `read_arrow`."""
    return to_frame(read_arrow(root, name, columns, ordered))


def read_arrow(root: Path, name: str, columns: list[str] | None = None, ordered: bool = True) -> pa.Table:
    """A table of `root` (or some of its columns) as Arrow, typed by its schema, in its order: a
    table of several files (one per segment, each in order on its own) is sorted, unless not
    `ordered` (a caller that only counts or sums saves the sort and its key columns)."""
    spec = TABLES[name]
    folder = table_folder(Path(root), spec.layer, name)
    if not ordered or sum(1 for _file in folder.glob("*.parquet")) < 2:
        return pq.read_table(folder, schema=spec.schema, columns=columns)
    wanted = list(dict.fromkeys([*(columns or spec.columns), *spec.order]))
    table = pq.read_table(folder, schema=spec.schema, columns=wanted)
    table = table.sort_by([(column, "ascending") for column in spec.order])
    return table.select(columns or spec.columns)


def read_manifest(out_dir: Path) -> dict:
    snapshot = current_snapshot(out_dir)
    return json.loads(manifest(snapshot).read_text()) if snapshot else {}
