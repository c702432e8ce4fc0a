"""The state record: which input file was read into which part, so a build parses only what changed.

    OUT/state/files.arrow   one row per input file, sorted by source_path: source_path,
                            size_bytes, mtime_ns, content_sha256, part_id; the schema's metadata
                            holds the record's version, the parse settings and the snapshot it
                            was published as

A file whose size and modification time match its row is unchanged and is not read. When they
differ, its content hash decides. The record is replaced by one rename after the snapshot it
describes is published, and parts are deleted only after that, so a run killed at any point
leaves a record whose parts all exist. A record that is missing, unreadable, of another
version or made with other parse settings is ignored: the build is then a full one.

Nothing here holds a Python object per file: the files found, the record and the decisions are
Arrow columns, and the record is read a record batch (STATE_BATCH_ROWS rows) at a time, so a
build of a million files keeps the record's columns in memory only where it needs them.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from pipelines.discover import FOUND_SCHEMA
from pipelines.durable import durable_file, leftover_temporaries
from pipelines.layout import Layout
from pipelines.store import current_snapshot
from transforms.normalize import PART_SCHEMAS
from transforms.settings import Settings

STATE_VERSION = "2"  # bump when parsing changes what a file's rows are
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
    analytics: dict = field(default_factory=dict)

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


def record_batches(path: Path, options: ipc.IpcReadOptions) -> Iterator[pa.RecordBatch]:
    with ipc.open_file(path, options=options) as reader:
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)


def strictly_increasing(paths: pa.Array | pa.ChunkedArray) -> bool:
    return len(paths) < 2 or pc.all(pc.less(paths.slice(0, len(paths) - 1), paths.slice(1))).as_py()


@dataclass
class Changes:
    """What differs between the files found now and the state record, as Arrow columns aligned
    with the files found (sorted by path)."""

    found: pa.Table  # every file found: source_path, size_bytes, mtime_ns (pipelines.discover.walk)
    status: pa.ChunkedArray  # int8 per file found: UNCHANGED, NEW or CHANGED
    recorded_at: pa.ChunkedArray  # int64 per file found: its row in the record, null when it has none
    deleted: pa.ChunkedArray  # string: the recorded paths not found, sorted
    touched: int = 0  # unchanged files whose size or time moved (their hash did not)
    state: State | None = None  # the record compared against
    segments: list[int] = field(default_factory=list)  # per record batch, the end of its files found

    @property
    def parsing(self) -> pa.ChunkedArray:
        """True for each file found that is new or changed: it is parsed."""
        return pc.not_equal(self.status, UNCHANGED)

    @property
    def to_parse(self) -> pa.ChunkedArray:
        """The paths of the new and changed files, sorted."""
        return self.paths_where(self.parsing)

    @property
    def new(self) -> pa.ChunkedArray:
        return self.paths_where(pc.equal(self.status, NEW))

    @property
    def changed(self) -> pa.ChunkedArray:
        return self.paths_where(pc.equal(self.status, CHANGED))

    def paths_where(self, mask: pa.ChunkedArray) -> pa.ChunkedArray:
        paths = self.found.column("source_path")
        selected = pc.sum(mask).as_py() or 0
        return paths if selected == len(paths) else paths.filter(mask)  # all of them: no copy

    @property
    def any(self) -> bool:
        return bool(len(self.deleted)) or pc.any(pc.not_equal(self.status, UNCHANGED)).as_py() is True

    def counts(self) -> dict[str, int]:
        counts = pc.value_counts(self.status)
        counted = dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()))
        return {"new": counted.get(NEW, 0), "changed": counted.get(CHANGED, 0),
                "unchanged": counted.get(UNCHANGED, 0), "deleted": len(self.deleted)}

    def recorded(self, column: str, parsed: Iterable[pa.Array] | None = None) -> pa.ChunkedArray:
        """A value per file found: the record's `column` for the unchanged files and, for the
        new and changed ones, the values of `parsed` (one per file parsed, in order), else null."""
        return pa.chunked_array(list(self.pieces(column, parsed)), STATE_SCHEMA.field(column).type)

    def pieces(self, column: str, parsed: Iterable[pa.Array] | None = None) -> Iterator[pa.Array]:
        """`recorded(column, parsed)` in consecutive pieces of at most STATE_BATCH_ROWS files,
        made one at a time: the record is read again (`column` only) a batch at a time, and
        `parsed` is drawn from as the files parsed come."""
        kind = STATE_SCHEMA.field(column).type
        values = Values(parsed, kind)
        unchanged = pc.equal(self.status, UNCHANGED)
        ends = iter(self.segments)
        start = offset = 0
        for batch in self.state.batches([column]) if self.state else ():
            end = next(ends, None)
            if end is None:
                raise RuntimeError(f"the state record {self.state.rows} changed during the build")
            for piece in range(start, end, STATE_BATCH_ROWS):
                rows = min(STATE_BATCH_ROWS, end - piece)
                keep = unchanged.slice(piece, rows).combine_chunks()
                at = pc.subtract(self.recorded_at.slice(piece, rows), offset)
                at = pc.if_else(keep, at, pa.scalar(None, pa.int64()))
                recorded = pc.take(batch.column(column), at).combine_chunks()
                new = rows - (pc.sum(keep).as_py() or 0)
                yield pc.replace_with_mask(recorded, pc.invert(keep), values.take(new)) if new else recorded
            start, offset = end, offset + batch.num_rows
        if next(ends, None) is not None:
            raise RuntimeError(f"the state record {self.state.rows} changed during the build")
        for piece in range(start, len(self.found), STATE_BATCH_ROWS):  # after the record's last path: all new
            yield values.take(min(STATE_BATCH_ROWS, len(self.found) - piece))
        values.close()
        pa.default_memory_pool().release_unused()  # the record's batches: back to the system (pools keep memory)

    @property
    def unchanged(self) -> pa.Table:
        """The unchanged files' rows of the record, with their current size and time (STATE_SCHEMA)."""
        columns = [*self.found.columns, self.recorded("content_sha256"), self.recorded("part_id")]
        table = pa.Table.from_arrays(columns, schema=STATE_SCHEMA)
        return table if self.counts()["unchanged"] == len(table) else table.filter(pc.equal(self.status, UNCHANGED))


class Values:
    """Values drawn from arrays that come one after another, so many at a time (nulls when there
    are no arrays)."""

    def __init__(self, arrays: Iterable[pa.Array] | pa.ChunkedArray | None, kind: pa.DataType) -> None:
        if isinstance(arrays, (pa.Array, pa.ChunkedArray)):
            arrays = arrays.chunks if isinstance(arrays, pa.ChunkedArray) else [arrays]
        self.arrays, self.kind = (iter(arrays) if arrays is not None else None), kind
        self.pending: list[pa.Array] = []

    def take(self, count: int) -> pa.Array:
        if self.arrays is None or not count:
            return pa.nulls(count, self.kind)
        while sum(map(len, self.pending)) < count:
            array = next(self.arrays, None)
            if array is None:
                raise RuntimeError(f"{count} more values were wanted than given")
            self.pending.append(array.cast(self.kind) if array.type != self.kind else array)
        values = pa.concat_arrays(self.pending) if len(self.pending) != 1 else self.pending[0]
        self.pending = [values.slice(count)] if len(values) > count else []
        return values.slice(0, count) if len(values) > count else values

    def close(self) -> None:
        """Check that every value was taken."""
        if self.arrays is not None and (self.pending or next(self.arrays, None) is not None):
            raise RuntimeError("more values were given than wanted")


def settings_key(raw_dir: Path, settings: Settings) -> str:
    """What the rows of a file depend on besides its bytes: a change means a full build."""
    schemas = "|".join(f"{name}:{schema}" for name, schema in PART_SCHEMAS.items())
    return json.dumps({
        "version": STATE_VERSION, "raw_dir": str(raw_dir.resolve()), **settings.parsing,
        "parts": hashlib.sha256(schemas.encode()).hexdigest()[:16],
    }, sort_keys=True)


def nothing_to_do(changes: Changes, published: str | None, analytics: dict) -> bool:
    """True when the published snapshot is what a build would publish again: no file is new,
    changed or deleted since the state record, which describes that very snapshot, made with
    the same analytics settings."""
    state = changes.state
    return bool(state and not changes.any and published and published == state.snapshot and state.analytics == analytics)


def read_state(out_dir: Path, settings: str) -> tuple[State | None, str | None]:
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
        if metadata.get(b"version") != STATE_VERSION.encode() or not schema.equals(STATE_SCHEMA):
            return None, f"the state record in {path.parent} is of another version: full build"
        if metadata.get(b"settings") != settings.encode():
            return None, "the input folder or --max-file-bytes changed since the last build: full build"
        state = State(path, metadata.get(b"snapshot", b"").decode() or None, json.loads(metadata[b"analytics"]))
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
    out_dir: Path, files: pa.Table | Iterable[pa.RecordBatch], settings: str, snapshot: str, analytics: dict,
    racy_after_ns: int,
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
    metadata = {"version": STATE_VERSION, "settings": settings, "snapshot": snapshot,
                "analytics": json.dumps(analytics, sort_keys=True)}
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


def classify(found: pa.Table, state: State | None, content_hash: Callable[[str], str | None]) -> Changes:
    """Compare the files found (a table of source_path, size_bytes, mtime_ns sorted by path, as
    `walk` gives) with the state record.

    Size and time equal: unchanged, without reading the file. Otherwise `content_hash(path)`
    decides; a file that cannot be stat-ed or hashed counts as changed, so parsing reports it.

    The record is read a batch at a time: the files found whose paths fall within a batch's
    (the record is sorted, as the files are) are compared with its rows, column by column.
    Only the files whose hash decides become Python objects, HASH_ROUND at a time.
    """
    found = found.select(FOUND_SCHEMA.names)
    rows = len(found)
    if state is None:
        return Changes(found, pa.chunked_array([pa.repeat(pa.scalar(NEW, pa.int8()), rows)]),
                       pa.chunked_array([pa.nulls(rows, pa.int64())]), pa.chunked_array([], pa.string()))
    paths = found.column("source_path")
    sorted_paths = PythonView(paths)
    status, recorded_at, deleted, segments = [], [], [], []
    touched, start, offset = 0, 0, 0
    for batch in state.batches():
        if batch.num_rows:
            end = bisect.bisect_right(sorted_paths, batch.column("source_path")[-1].as_py(), lo=start)
            decided, hits, gone = compare(found.slice(start, end - start), batch, content_hash)
            status.append(decided.status)
            recorded_at.append(pc.add(hits.cast(pa.int64()), offset))
            deleted.append(gone)
            touched += decided.touched
            start, offset = end, offset + batch.num_rows
        segments.append(start)
    status.append(pa.repeat(pa.scalar(NEW, pa.int8()), rows - start))  # after the record's last path
    recorded_at.append(pa.nulls(rows - start, pa.int64()))
    pa.default_memory_pool().release_unused()  # the record's batches: back to the system (pools keep memory)
    return Changes(found, pa.chunked_array(status, pa.int8()), pa.chunked_array(recorded_at, pa.int64()),
                   pa.chunked_array(deleted, pa.string()), touched, state, segments)


class PythonView:
    """A sorted string array as a sequence of Python strings, for `bisect` (a few look-ups)."""

    def __init__(self, values: pa.ChunkedArray) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i: int) -> str:
        return self.values[i].as_py()


def same(a: pa.Array, b: pa.Array) -> pa.Array:
    """Equal, None being equal to None (as in Python), never null."""
    return pc.or_(pc.fill_null(pc.equal(a, b), False), pc.and_(pc.is_null(a), pc.is_null(b)))


class Decided(NamedTuple):
    status: pa.Array  # int8
    touched: int


def compare(found: pa.Table, batch: pa.RecordBatch, content_hash: Callable[[str], str | None]
            ) -> tuple[Decided, pa.Array, pa.Array]:
    """The decision for each file of `found` against the record's rows in `batch` (the only rows
    its paths can be in), each file's row in `batch` (null: none), and the paths of `batch`
    that are not found."""
    paths, size, mtime = (found.column(name).combine_chunks() for name in FOUND_SCHEMA.names)
    recorded = batch.column("source_path")
    at = pc.index_in(paths, value_set=recorded)
    gone = recorded.filter(pc.invert(pc.is_in(recorded, value_set=paths)))
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
        return Decided(status, 0), at, gone
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
    return Decided(pc.replace_with_mask(status, ask, pa.array(answers, pa.int8())), touched), at, gone
