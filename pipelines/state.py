"""The state record: which input file was read into which part, so a build parses only what changed.

    OUT/state/files.arrow   one row per input file, sorted by source_path: source_path,
                            size_bytes, mtime_ns, content_sha256, part_id; the schema's metadata
                            holds the build's `Keys` (what the output depends on besides the
                            files: settings, the newsfm version, fingerprints of its code) and
                            the snapshot it was published as

A file whose size and modification time match its row is unchanged and is not read. When they
differ, its content hash decides. The record is replaced by one rename after the snapshot it
describes is published, and parts are deleted only after that, so a run killed at any point
leaves a record whose parts all exist. A record that is missing, unreadable, of another
format or made with other parsing keys (another newsfm version, edited parsing code, other
settings) is ignored: the build is then a full one, and says why.

    OUT/state/changes.arrow scratch of a build: every file found, in path order, with its stat,
                            what changed (`status`) and its row in the record (CHANGES_SCHEMA)
    OUT/state/live.arrow    scratch of a build: the part that holds each live file (`write_live`),
                            from which the new record's rows are made (`new_entries`)

Nothing here holds a column per file: the files found come from the walk a batch at a time,
in path order, and are merged with the record, read a record batch (STATE_BATCH_ROWS rows) at a
time; the decisions go into `changes.arrow`, which the flow reads again a batch at a time
wherever it needs the files (to parse, for the live files, for the new record). Memory is that
of a batch, of the largest folder (the walk sorts each folder's files) and of the paths deleted
since the last build, whatever the number of files.
"""

from __future__ import annotations

import bisect
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from newsfm import __version__
from newsfm.pipelines import fingerprints
from newsfm.pipelines.discover import FOUND_SCHEMA, PythonView, content_hash, stat_processes, walk_batches
from newsfm.pipelines.durable import durable_file, leftover_temporaries
from newsfm.pipelines.layout import Layout
from newsfm.pipelines.parts import LIVE_SCHEMA, LiveFiles, read_part_table
from newsfm.pipelines.spill import record_batches
from newsfm.pipelines.store import current_snapshot
from newsfm.transforms.settings import Settings

STATE_SCHEMA = pa.schema([
    pa.field("source_path", pa.string(), nullable=False),
    pa.field("size_bytes", pa.int64()),
    pa.field("mtime_ns", pa.int64()),
    pa.field("content_sha256", pa.string()),
    pa.field("part_id", pa.string(), nullable=False),
])
STATE_BATCH_ROWS = 65_536  # rows per record batch of the file: what a build holds of it at once
HASH_ROUND = 2_000  # files whose hash decides are hashed this many at a time (their paths as Python)

UNCHANGED, NEW, CHANGED = 0, 1, 2  # Changes.status
RACY_NS = 2_000_000_000  # files modified this close to discovery are compared by hash next time (see write_state)


class Entry(NamedTuple):
    """One row of the record as Python: for tests and tools (builds keep rows as Arrow)."""

    size_bytes: int | None
    mtime_ns: int | None
    content_sha256: str | None
    part_id: str


def record_table(files: Mapping[str, Entry]) -> pa.Table:
    """Rows given as Python (source_path → Entry) as a table of STATE_SCHEMA, sorted by path."""
    paths = sorted(files)
    return pa.Table.from_pydict({"source_path": paths, **{
        name: [files[path][i] for path in paths] for i, name in enumerate(Entry._fields)
    }}, schema=STATE_SCHEMA)


def entries(table: pa.Table) -> dict[str, Entry]:
    """A small record table's rows as Python (source_path → Entry): for tests and tools."""
    columns = [table.column(name).to_pylist() for name in STATE_SCHEMA.names]
    return dict(zip(columns[0], map(Entry, *columns[1:])))


@dataclass
class State:
    """A state record: its rows and what its metadata says.

    `rows` is the record file, read a record batch at a time (`batches`), or a table (tests).
    The file cannot change while a build uses it: the build holds the output folder's lock, and
    replaces the record only once it no longer reads it.
    """

    rows: Path | pa.Table
    snapshot: str | None = None
    analytics: dict = field(default_factory=dict)  # the analytics key of the build that wrote it (see Keys)
    combining: str | None = None  # the combining key of that build

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The rows, a record batch at a time (only `columns`, when given; source_path is read too,
        to check that the rows are sorted by it, which comparing with the files found relies on)."""
        wanted = list(dict.fromkeys(["source_path", *columns])) if columns else STATE_SCHEMA.names
        if isinstance(self.rows, pa.Table):
            chunks = self.rows.select(wanted).to_batches()
        else:
            options = ipc.IpcReadOptions(included_fields=[STATE_SCHEMA.get_field_index(name) for name in wanted])
            chunks = record_batches(self.rows, options)
        last = None
        for batch in chunks:
            paths = batch.column("source_path")
            if len(paths):
                if not strictly_increasing(paths) or (last is not None and paths[0].as_py() <= last):
                    raise ValueError("its rows are not sorted by source_path")
                last = paths[-1].as_py()
            yield batch.select(list(columns)) if columns else batch

    @property
    def files(self) -> pa.Table:
        """Every row as one table (tests and tools: builds read the rows a batch at a time)."""
        return pa.Table.from_batches(list(self.batches()), schema=STATE_SCHEMA)


def strictly_increasing(paths: pa.Array | pa.ChunkedArray) -> bool:
    return len(paths) < 2 or pc.all(pc.less(paths.slice(0, len(paths) - 1), paths.slice(1))).as_py()


CHANGES_SCHEMA = pa.schema([*FOUND_SCHEMA, pa.field("status", pa.int8()), pa.field("recorded_at", pa.int64())])


@dataclass
class Changes:
    """What differs between the files found now and the state record: for each file found, in
    path order, its stat, its decision (`status`: UNCHANGED, NEW or CHANGED) and its row in the
    record (`recorded_at`, null when it has none), as rows of CHANGES_SCHEMA.

    `files` is the scratch file OUT/state/changes.arrow, which a build reads a record batch at a
    time wherever it needs the files (so it never holds a column per file), or a table (tests).
    """

    files: Path | pa.Table
    counted: dict[str, int]  # new, changed, unchanged, deleted
    deleted: pa.ChunkedArray  # string: the recorded paths not found, sorted
    touched: int = 0  # unchanged files whose size or time moved (their hash did not)
    state: State | None = None  # the record compared against
    segments: list[int] = field(default_factory=list)  # per record batch, the end of its files found

    def batches(self, columns: Sequence[str] = CHANGES_SCHEMA.names) -> Iterator[pa.RecordBatch]:
        if isinstance(self.files, pa.Table):
            yield from self.files.select(list(columns)).to_batches(max_chunksize=STATE_BATCH_ROWS)
            return
        options = ipc.IpcReadOptions(included_fields=[CHANGES_SCHEMA.get_field_index(name) for name in columns])
        for batch in record_batches(self.files, options):
            yield batch.select(list(columns))

    @property
    def files_found(self) -> int:
        return self.counted["new"] + self.counted["changed"] + self.counted["unchanged"]

    @property
    def files_to_parse(self) -> int:
        return self.counted["new"] + self.counted["changed"]

    def parsed_paths(self) -> Iterator[pa.Array]:
        """The paths of the new and changed files (they are parsed), in order, a batch at a time."""
        for files in self.parsed_files():
            yield files.column(0)

    def parsed_files(self) -> Iterator[pa.RecordBatch]:
        """The new and changed files (FOUND_SCHEMA: path, size, time), in order, a batch at a time."""
        for batch in self.batches([*FOUND_SCHEMA.names, "status"]):
            yield batch.filter(pc.not_equal(batch.column("status"), UNCHANGED)).select(FOUND_SCHEMA.names)

    @property
    def to_parse(self) -> pa.ChunkedArray:
        """The paths of the new and changed files, sorted (tests and tools: builds take `parsed_paths`)."""
        return pa.chunked_array(list(self.parsed_paths()), pa.string())

    @property
    def new(self) -> pa.ChunkedArray:
        return self.paths_with(NEW)

    @property
    def changed(self) -> pa.ChunkedArray:
        return self.paths_with(CHANGED)

    def paths_with(self, status: int) -> pa.ChunkedArray:
        return pa.chunked_array([batch.column(0).filter(pc.equal(batch.column(1), status))
                                 for batch in self.batches(["source_path", "status"])], pa.string())

    @property
    def any(self) -> bool:
        return self.files_found > self.counted["unchanged"] or self.counted["deleted"] > 0

    def counts(self) -> dict[str, int]:
        return dict(self.counted)

    def recorded(self, column: str, parsed: Iterable[pa.Array] | None = None) -> pa.ChunkedArray:
        """A value per file found (tests and tools: builds take `pieces`)."""
        return pa.chunked_array([values for _files, values in self.pieces(column, parsed)], STATE_SCHEMA.field(column).type)

    def pieces(self, column: str, parsed: Iterable[pa.Array] | None = None
               ) -> Iterator[tuple[pa.RecordBatch, pa.Array]]:
        """The files found in consecutive pieces of at most STATE_BATCH_ROWS, each with a value of
        the record's `column` per file: the record's own for an unchanged file and, for a new or
        changed one, the next value of `parsed` (one per file parsed, in order), else null.

        Made one piece at a time: the files are read a batch at a time, the record again
        (`column` only) a batch at a time, and `parsed` is drawn from as the files parsed come."""
        values = Values(parsed, STATE_SCHEMA.field(column).type)
        files = Values(self.batches(), CHANGES_SCHEMA)
        ends = iter(self.segments)
        start = offset = 0
        for batch in self.state.batches([column]) if self.state else ():
            end = next(ends, None)
            if end is None:
                raise RuntimeError(f"the state record {self.state.rows} changed during the build")
            for piece in range(start, end, STATE_BATCH_ROWS):
                rows = files.take(min(STATE_BATCH_ROWS, end - piece))
                keep = pc.equal(rows.column("status"), UNCHANGED)
                at = pc.if_else(keep, pc.subtract(rows.column("recorded_at"), offset), pa.scalar(None, pa.int64()))
                recorded = pc.take(batch.column(column), at)
                new = len(rows) - (pc.sum(keep).as_py() or 0)
                yield rows, pc.replace_with_mask(recorded, pc.invert(keep), values.take(new)) if new else recorded
            start, offset = end, offset + batch.num_rows
        if next(ends, None) is not None:
            raise RuntimeError(f"the state record {self.state.rows} changed during the build")
        for piece in range(start, self.files_found, STATE_BATCH_ROWS):  # after the record's last path: all new
            rows = files.take(min(STATE_BATCH_ROWS, self.files_found - piece))
            yield rows, values.take(len(rows))
        values.close()
        files.close()
        pa.default_memory_pool().release_unused()  # the record's batches: back to the system (pools keep memory)

    def unchanged_batches(self) -> Iterator[pa.RecordBatch]:
        """The unchanged files' rows of the record, with their current size and time (STATE_SCHEMA),
        a batch at a time."""
        for (files, hashes), (_files, parts) in zip(self.pieces("content_sha256"), self.pieces("part_id")):
            rows = pa.RecordBatch.from_arrays([*(files.column(name) for name in FOUND_SCHEMA.names), hashes, parts],
                                              schema=STATE_SCHEMA)
            yield rows.filter(pc.equal(files.column("status"), UNCHANGED))

    @property
    def unchanged(self) -> pa.Table:
        """`unchanged_batches` as one table (tests and tools)."""
        return pa.Table.from_batches(list(self.unchanged_batches()), STATE_SCHEMA)


class Values:
    """Values drawn from arrays of type `kind` (or record batches of schema `kind`) that come one
    after another, so many at a time (nulls when there are no arrays)."""

    def __init__(self, arrays: Iterable[pa.Array | pa.RecordBatch] | pa.ChunkedArray | None,
                 kind: pa.DataType | pa.Schema) -> None:
        if isinstance(arrays, (pa.Array, pa.ChunkedArray)):
            arrays = arrays.chunks if isinstance(arrays, pa.ChunkedArray) else [arrays]
        self.arrays, self.kind = (iter(arrays) if arrays is not None else None), kind
        self.pending: list[pa.Array | pa.RecordBatch] = []

    def take(self, count: int) -> pa.Array | pa.RecordBatch:
        if self.arrays is None:
            return pa.nulls(count, self.kind)
        while sum(map(len, self.pending)) < count:
            array = next(self.arrays, None)
            if array is None:
                raise RuntimeError(f"{count} more values were wanted than given")
            self.pending.append(array.cast(self.kind) if isinstance(array, pa.Array) and array.type != self.kind else array)
        if not count:
            return (pa.RecordBatch.from_pylist([], schema=self.kind) if isinstance(self.kind, pa.Schema)
                    else pa.array([], self.kind))
        values = self.pending[0] if len(self.pending) == 1 else (
            pa.concat_batches(self.pending) if isinstance(self.pending[0], pa.RecordBatch) else pa.concat_arrays(self.pending))
        self.pending = [values.slice(count)] if len(values) > count else []
        return values.slice(0, count) if len(values) > count else values

    def close(self) -> None:
        """Check that every value was taken."""
        if self.arrays is not None and (any(map(len, self.pending)) or any(map(len, self.arrays))):
            raise RuntimeError("more values were given than wanted")


@dataclass(frozen=True)
class Keys:
    """What a build's output depends on besides the input files, as the state record keeps it.

    - `parsing`: what a file's part depends on: the input folder, the settings that change a
      file's rows, the newsfm version and the parsing code (`fingerprints.parsing`, which
      includes the parts' schemas). When it differs from the record's, every file is parsed again.
    - `combining`: the code that combines parts into the warehouse tables: when it differs, the
      warehouse is combined again from the parts, with no file parsed.
    - `analytics`: the analytics settings and code: when they differ, the analytics are computed again.
    """

    parsing: dict
    combining: str
    analytics: dict


def build_keys(raw_dir: Path, settings: Settings) -> Keys:
    return Keys(
        parsing={"raw_dir": str(raw_dir.resolve()), **settings.parsing, "newsfm": __version__, "code": fingerprints.parsing()},
        combining=fingerprints.combining(),
        analytics={**settings.analytics, "code": fingerprints.analytics()},
    )


def why_full(recorded: dict, now: dict) -> str:
    """Why parts made under the `recorded` parsing key cannot be reused under `now` (see Keys)."""
    if recorded.get("raw_dir") != now["raw_dir"]:
        return f"the input folder is not the last build's ({recorded.get('raw_dir')}): full build"
    for name in sorted(now.keys() - {"raw_dir", "newsfm", "code"}):
        if recorded.get(name) != now[name]:
            return f"--{name.replace('_', '-')} changed since the last build: full build"
    if recorded.get("newsfm") != now["newsfm"]:
        return f"newsfm changed version since the last build ({recorded.get('newsfm')} → {now['newsfm']}): full build"
    return "the parsing code changed since the last build: full build"


NOTHING, ANALYTICS, BUILD = "nothing", "analytics", "build"  # work_to_do


def work_to_do(changes: Changes, published: str | None, keys: Keys) -> tuple[str, str | None]:
    """What a build does, and a notice saying why when the files alone do not say it.

    NOTHING when the published snapshot is what a build would publish again: no file is new,
    changed or deleted since the state record, which describes that very snapshot, made with
    the same keys. ANALYTICS when only the analytics would differ (their settings or code):
    they are computed again over the published warehouse. Else BUILD: parse what changed,
    combine, compute the analytics.
    """
    state = changes.state
    if not (state and published and published == state.snapshot) or changes.any:
        return BUILD, None
    if state.combining != keys.combining:
        return BUILD, "the combining code changed since the last build: the warehouse is combined again (no file parsed)"
    if state.analytics == keys.analytics:
        return NOTHING, None
    settings = {name for name in (keys.analytics.keys() | state.analytics.keys()) - {"code"}
                if state.analytics.get(name) != keys.analytics.get(name)}
    what = (" and ".join(f"--{name.replace('_', '-')}" for name in sorted(settings)) if settings
            else "the analytics code")
    return ANALYTICS, f"{what} changed since the last build: the analytics are computed again (no file parsed)"


def read_state(out_dir: Path, keys: Keys) -> tuple[State | None, str | None]:
    """The state record, or None and a one-line notice saying why the build must be full.

    Every batch of the record is read (one at a time) and checked here, so a damaged record
    means a full build now rather than a failed one later. A record whose write was
    interrupted before its rename left only a temporary file, which is removed: the record
    before it still stands.
    """
    path = Layout(out_dir).state_file
    for leftover in leftover_temporaries(path):
        leftover.unlink(missing_ok=True)
    if not path.exists():  # a first build needs no notice; one after a published snapshot does
        return None, "no state record: full build" if current_snapshot(out_dir) else None
    try:
        with ipc.open_file(path) as reader:
            schema = reader.schema
        metadata = schema.metadata or {}
        if not schema.equals(STATE_SCHEMA) or b"combining" not in metadata:
            return None, f"the state record in {path.parent} is of another format: full build"
        parsing = json.loads(metadata[b"parsing"])
        if parsing != keys.parsing:
            return None, why_full(parsing, keys.parsing)
        state = State(path, metadata.get(b"snapshot", b"").decode() or None, json.loads(metadata[b"analytics"]),
                      metadata[b"combining"].decode())
        parts = set()
        for batch in state.batches():
            parts.update(pc.unique(batch.column("part_id")).to_pylist())
    except (OSError, pa.ArrowException, KeyError, ValueError, UnicodeDecodeError) as error:
        return None, f"the state record {path} is unreadable ({error}): full build"
    missing = parts - set(existing_parts(out_dir))
    if missing:
        return None, f"{len(missing)} parts named by the state record are missing: full build"
    return state, None


def existing_parts(out_dir: Path) -> list[str]:
    folder = Layout(out_dir).parts
    return [p.name for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []


def write_state(
    out_dir: Path, files: pa.Table | Iterable[pa.RecordBatch], keys: Keys, snapshot: str, racy_after_ns: int,
) -> None:
    """Replace the state record with the rows of `files` (the columns of STATE_SCHEMA, one row per
    path) in one rename (durably: see pipelines.durable).

    `files` is a table, or record batches sorted by path, written as they come (so that a build
    never holds the new record whole).

    A file modified after `racy_after_ns` (moments before discovery) may be written again within
    the same clock tick, keeping its size and time ("racy", as git calls it): its time is not
    recorded, so the next run compares its hash instead.
    """
    if isinstance(files, pa.Table):
        table = files if strictly_increasing(files.column("source_path")) else files.sort_by("source_path")
        files = (table.slice(start, STATE_BATCH_ROWS) for start in range(0, table.num_rows, STATE_BATCH_ROWS))
    metadata = {"parsing": json.dumps(keys.parsing, sort_keys=True), "combining": keys.combining,
                "analytics": json.dumps(keys.analytics, sort_keys=True), "snapshot": snapshot}
    schema = STATE_SCHEMA.with_metadata(metadata)
    path = Layout(out_dir).state_file
    path.parent.mkdir(parents=True, exist_ok=True)
    with durable_file(path, written="state record written", placed="state record replaced") as handle, \
            ipc.new_file(handle, schema) as writer:
        last = None
        for rows in files:
            for start in range(0, rows.num_rows, STATE_BATCH_ROWS):  # even batches, however the columns are chunked
                batch = record_batch(rows.slice(start, STATE_BATCH_ROWS), schema, racy_after_ns)
                paths = batch.column("source_path")
                if not strictly_increasing(paths) or (last is not None and paths[0].as_py() <= last):
                    raise ValueError("the state record's rows must be sorted by source_path, one per path")
                last = paths[-1].as_py()
                writer.write_batch(batch)
    pa.default_memory_pool().release_unused()  # the batches written: back to the system (pools keep memory)


def record_batch(rows: pa.Table | pa.RecordBatch, schema: pa.Schema, racy_after_ns: int) -> pa.RecordBatch:
    """`rows` as a record batch of the record, without the times it must not trust."""
    columns = [rows.column(name) for name in STATE_SCHEMA.names]
    columns = [column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column for column in columns]
    mtime = columns[2]
    columns[2] = pc.if_else(pc.less(mtime, racy_after_ns), mtime, pa.scalar(None, pa.int64()))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def walk_into(root: Path, folder: Path) -> Path:
    """Walk `root` (`walk_batches`) into an Arrow IPC file in `folder` that holds every row, in
    order: a walk that a later step reads again instead of walking once more (`find_changes_in`'s
    `found`). Returns its path. (Here, not in `discover`: that is parsing code, whose every edit
    means a full build.)"""
    folder.mkdir(parents=True, exist_ok=True)
    found = folder / "found.arrow"
    with ipc.new_file(str(found), FOUND_SCHEMA) as writer:
        for batch in walk_batches(root, scratch=folder / "walk.arrow"):
            writer.write_batch(batch)
    return found


def find_changes_in(raw_dir: Path, out_dir: Path, keys: Keys, full_refresh: bool, workers: int = 1,
                    found: Path | None = None, scratch: Path | None = None) -> tuple[Changes, str | None]:
    """Every input file (path, size, mtime_ns) and what differs from the state record (nothing
    is compared with full_refresh), in OUT/state/changes.arrow (or in the folder `scratch`),
    with a notice when the record cannot be used. `workers` > 1: the walk's `stat` calls run in
    that many processes. `found`: the files as a walk of `raw_dir` kept them (`walk_into`),
    which are then compared instead of walking again."""
    state, notice = (None, "--full-refresh: the state record is ignored") if full_refresh else read_state(out_dir, keys)
    layout = Layout(out_dir)
    scratch = scratch or layout.state
    scratch.mkdir(parents=True, exist_ok=True)
    with stat_processes(1 if found else workers) as stats:  # the walk is a generator: `classify` drives it
        files = record_batches(found) if found else walk_batches(raw_dir, scratch=scratch / layout.walk_file.name,
                                                                  stats=stats)
        return classify(files, state, lambda path: content_hash(raw_dir, path), scratch / layout.changes_file.name), notice


def classify(found: pa.Table | Iterable[pa.RecordBatch], state: State | None,
             content_hash: Callable[[str], str | None], into: Path | None = None) -> Changes:
    """Compare the files found (source_path, size_bytes, mtime_ns sorted by path, as `walk`
    gives them: a table, or record batches) with the state record; the decisions are written
    into the file `into` (a build's OUT/state/changes.arrow), or kept as a table without one.

    Size and time equal: unchanged, without reading the file. Otherwise `content_hash(path)`
    decides; a file that cannot be stat-ed or hashed counts as changed, so parsing reports it.

    Both are read a batch at a time, merged by path: the files found whose paths fall within a
    batch of the record (both are sorted) are compared with its rows, column by column, up to
    STATE_BATCH_ROWS files at a time. Only the files whose hash decides become Python objects,
    HASH_ROUND at a time.
    """
    files = SortedRows(found.to_batches() if isinstance(found, pa.Table) else found)
    decisions = Decisions(into)
    deleted, segments, touched, offset = [], [], 0, 0
    for batch in state.batches() if state else ():
        if batch.num_rows:
            recorded = batch.column("source_path")
            seen = np.zeros(len(recorded), dtype=bool)
            while (rows := files.through(recorded[-1].as_py(), STATE_BATCH_ROWS)) is not None:
                decided, at = compare(rows, batch, content_hash)
                decisions.add(rows, decided.status, pc.add(at.cast(pa.int64()), offset))
                seen[at.drop_null().to_numpy()] = True
                touched += decided.touched
            deleted.append(recorded.filter(pa.array(~seen)))
            offset += batch.num_rows
        segments.append(decisions.rows)
    while (rows := files.through(None, STATE_BATCH_ROWS)) is not None:  # after the record's last path: all new
        decisions.add(rows, pa.repeat(pa.scalar(NEW, pa.int8()), rows.num_rows), pa.nulls(rows.num_rows, pa.int64()))
    pa.default_memory_pool().release_unused()  # the record's batches: back to the system (pools keep memory)
    deleted = pa.chunked_array(deleted, pa.string())
    return Changes(decisions.close(), {**decisions.counted, "deleted": len(deleted)}, deleted, touched, state, segments)


class SortedRows:
    """Record batches sorted by source_path, drawn from in order."""

    def __init__(self, batches: Iterable[pa.RecordBatch]) -> None:
        self.batches, self.head = iter(batches), None

    def through(self, last: str | None, limit: int) -> pa.RecordBatch | None:
        """The next rows (at most `limit`) whose paths sort at or before `last` (any, with None);
        None when no more do."""
        while self.head is None or not self.head.num_rows:
            self.head = next(self.batches, None)
            if self.head is None:
                return None
        paths = self.head.column("source_path")
        count = len(paths) if last is None else pc.sum(pc.less_equal(paths, last)).as_py() or 0
        if not count:
            return None
        rows, self.head = self.head.slice(0, min(count, limit)), self.head.slice(min(count, limit))
        return rows


class Decisions:
    """The files found with their decisions (CHANGES_SCHEMA), added in path order: written into
    the Arrow IPC file `into` in batches of STATE_BATCH_ROWS, or held (without a file)."""

    def __init__(self, into: Path | None) -> None:
        self.into, self.rows = into, 0
        self.writer = ipc.new_file(str(into), CHANGES_SCHEMA) if into else None
        self.tables: list[pa.Table] = []
        self.counted = {"new": 0, "changed": 0, "unchanged": 0}

    def add(self, files: pa.RecordBatch, status: pa.Array, recorded_at: pa.Array) -> None:
        table = pa.Table.from_arrays([*(files.column(name) for name in FOUND_SCHEMA.names), status, recorded_at],
                                     schema=CHANGES_SCHEMA)
        self.rows += table.num_rows
        if self.writer:
            self.writer.write_table(table, max_chunksize=STATE_BATCH_ROWS)
        else:
            self.tables.append(table)
        for name, code in (("new", NEW), ("changed", CHANGED), ("unchanged", UNCHANGED)):
            self.counted[name] += pc.sum(pc.equal(status, code)).as_py() or 0

    def close(self) -> Path | pa.Table:
        if self.writer:
            self.writer.close()
            return self.into
        return pa.concat_tables([CHANGES_SCHEMA.empty_table(), *self.tables])


def same(a: pa.Array, b: pa.Array) -> pa.Array:
    """Equal, None being equal to None (as in Python), never null."""
    return pc.or_(pc.fill_null(pc.equal(a, b), False), pc.and_(pc.is_null(a), pc.is_null(b)))


def rows_in(paths: pa.Array, recorded: pa.Array) -> pa.Array:
    """Each of the sorted `paths`' row in `recorded` (sorted, no path twice), null where it has
    none. When the paths are a run of the record's, as they are wherever no file was added or
    deleted among them, one comparison says so; else a hash look-up finds each."""
    if len(paths):
        start = bisect.bisect_left(PythonView(recorded), paths[0].as_py())
        if recorded.slice(start, len(paths)).equals(paths):
            return pa.array(np.arange(start, start + len(paths), dtype=np.int32))
    return pc.index_in(paths, value_set=recorded)


class Decided(NamedTuple):
    status: pa.Array  # int8
    touched: int


def compare(found: pa.RecordBatch, batch: pa.RecordBatch, content_hash: Callable[[str], str | None]
            ) -> tuple[Decided, pa.Array]:
    """The decision for each file of `found` against the record's rows in `batch` (the only rows
    its paths can be in), and each file's row in `batch` (null: none)."""
    paths, size, mtime = (found.column(name) for name in FOUND_SCHEMA.names)
    at = rows_in(paths, batch.column("source_path"))
    known = pc.is_valid(at)
    same_stat = pc.and_(pc.and_(known, pc.is_valid(size)), pc.and_(  # as Python compares (size, mtime) tuples
        same(pc.take(batch.column("size_bytes"), at), size), same(pc.take(batch.column("mtime_ns"), at), mtime)))
    hashed = pc.fill_null(pc.take(pc.is_valid(batch.column("content_sha256")), at), False)
    status = pc.if_else(known, pc.if_else(pc.and_(same_stat, hashed), UNCHANGED, CHANGED), NEW).cast(pa.int8())
    # the hash decides when the size or time moved (hash recorded), or when no hash is recorded:
    # a file that still cannot be read is unchanged while it stays so
    ask = pc.xor(same_stat, hashed)
    asked = pc.indices_nonzero(ask)
    if not len(asked):
        return Decided(status, 0), at
    answers, touched = [], 0
    for round_start in range(0, len(asked), HASH_ROUND):
        rows = asked.slice(round_start, HASH_ROUND)
        round_paths = pc.take(paths, rows).to_pylist()
        stat_same = pc.take(same_stat, rows).to_pylist()
        recorded_hashes = pc.take(batch.column("content_sha256"), pc.take(at, rows)).to_pylist()
        for path, stat_same_, recorded_hash in zip(round_paths, stat_same, recorded_hashes):
            digest = content_hash(path)
            if stat_same_:  # no hash recorded
                answers.append(UNCHANGED if digest is None else CHANGED)
            elif digest == recorded_hash:
                answers.append(UNCHANGED)
                touched += 1
            else:
                answers.append(CHANGED)
    return Decided(pc.replace_with_mask(status, ask, pa.array(answers, pa.int8())), touched), at


# --- the files of a build: which part holds each, and the new record's rows -------------------


def write_live(out: Path, changes: Changes, part_ids: list[str]) -> LiveFiles:
    """The live files, source_path → part id sorted by path, written into OUT/state/live.arrow a
    batch at a time: the unchanged files' recorded parts, and the parts of this run's batches."""
    parsed = (pa.repeat(pa.scalar(part_id, pa.string()), sources.num_rows)
              for part_id, sources in this_runs_sources(out, changes, part_ids, []))
    path = Layout(out).live_file
    with ipc.new_file(str(path), LIVE_SCHEMA) as writer:
        for files, parts in changes.pieces("part_id", parsed):
            writer.write_batch(pa.RecordBatch.from_arrays([files.column("source_path"), parts], schema=LIVE_SCHEMA))
    return LiveFiles(path)


def new_entries(out: Path, changes: Changes, part_ids: list[str], live: LiveFiles) -> Iterator[pa.RecordBatch]:
    """The state record's rows for every live file, a batch at a time: its stat now, the hash its
    part recorded (the record's own for an unchanged file), and its part in `live` (after compaction)."""
    hashes = (chunk for _part_id, sources in this_runs_sources(out, changes, part_ids, ["content_sha256"])
              for chunk in sources.column("content_sha256").chunks)
    parts = Values(live.batches(), LIVE_SCHEMA)
    for files, piece in changes.pieces("content_sha256", hashes):
        files_live = parts.take(len(piece))
        if not files_live.column("source_path").equals(files.column("source_path")):
            raise RuntimeError("the live files are not the files found")
        yield pa.RecordBatch.from_arrays(
            [*(files.column(name) for name in FOUND_SCHEMA.names), piece, files_live.column("part_id")],
            names=STATE_SCHEMA.names)
    parts.close()


def this_runs_sources(out: Path, changes: Changes, part_ids: list[str], columns: list[str]
                      ) -> Iterator[tuple[str, pa.Table]]:
    """Each part of this run with its `sources` rows (source_path and `columns`), in the order of
    the files parsed: the parts hold its batches in turn, one row per file, one part read at a time."""
    to_parse = Values(changes.parsed_paths(), pa.string())
    for part_id in part_ids:
        sources = read_part_table(out, part_id, "sources", ["source_path", *columns])
        expected = to_parse.take(sources.num_rows)
        if not sources.column("source_path").combine_chunks().equals(expected):
            sources = sources.sort_by("source_path")
            if not sources.column("source_path").combine_chunks().equals(expected):
                raise RuntimeError(f"part {part_id} does not hold the files of its batch")
        yield part_id, sources.select(columns)
    to_parse.close()


def gone_files(changes: Changes) -> pa.Table:
    """The files changed or deleted since the state record, each with the part the record names
    for it (which holds its rows of the last build)."""
    gone = pa.concat_arrays([pa.array([], pa.string()), *changes.changed.chunks, *changes.deleted.chunks])
    schema = pa.schema([STATE_SCHEMA.field("source_path"), STATE_SCHEMA.field("part_id")])
    if not (len(gone) and changes.state):
        return schema.empty_table()
    return pa.Table.from_batches([batch.filter(pc.is_in(batch.column("source_path"), value_set=gone))
                                  for batch in changes.state.batches(["source_path", "part_id"])], schema)


def remove_scratch(out: Path) -> None:
    """The run's files of decisions and of live files, once the state record is written, and
    what head starts left (a running one then finds its folder gone: it only stops early)."""
    layout = Layout(out)
    for scratch in (layout.changes_file, layout.live_file):
        scratch.unlink(missing_ok=True)
    for folder in layout.head_starts:
        shutil.rmtree(folder, ignore_errors=True)
