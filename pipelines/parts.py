"""Parts on disk: each parsed batch as Arrow IPC files, read back one part table at a time.

    OUT/state/parts/<part_id>/<part table>.arrow   (see pipelines.layout)

A worker writes its batch's part under a temporary name and renames the folder when every
file is in it and on disk, so a part folder is always complete. Files are lz4-compressed Arrow IPC:
written and read at memory speed, about the size of the input's text.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from newsfm.pipelines.durable import publish_folder, synced_file, temporary_name
from newsfm.pipelines.killpoints import checkpoint
from newsfm.pipelines.layout import Layout
from newsfm.pipelines.spill import Ranges, hex_bounds, record_batches
from newsfm.transforms.combine import Load
from newsfm.transforms.normalize import PART_SCHEMAS

COMPACT_AT = 8  # small parts that are merged into one
IPC_OPTIONS = ipc.IpcWriteOptions(compression="lz4")


def write_part(out_dir: Path, tables: dict[str, pa.Table]) -> str:
    """Write one batch's part tables as a new complete part folder; returns its id."""
    part_id = uuid.uuid4().hex
    final = Layout(out_dir).part(part_id)
    temporary = temporary_name(final)
    temporary.mkdir(parents=True)
    for name, table in tables.items():
        with synced_file(temporary / f"{name}.arrow") as handle, \
                ipc.new_file(handle, table.schema, options=IPC_OPTIONS) as writer:
            writer.write_table(table.unify_dictionaries())  # an IPC file holds one dictionary per column
        checkpoint(f"part {name} written")
    publish_folder(temporary, final, written="part synced", placed="part complete")
    return part_id


def read_part_table(out_dir: Path, part_id: str, name: str, columns: Sequence[str] | None = None) -> pa.Table:
    """One part table, or only some of its columns (the others are not even decompressed)."""
    options = None
    if columns:
        names = PART_SCHEMAS[name].names
        options = ipc.IpcReadOptions(included_fields=[names.index(column) for column in columns])
    with ipc.open_file(Layout(out_dir).part(part_id) / f"{name}.arrow", options=options) as reader:
        table = reader.read_all()
    return table.select(list(columns)) if columns else table


def loader(out_dir: Path, live: pa.Table) -> Load:
    """A `transforms.combine.Load` over the rows of the files in `live` (a table of source_path
    and part_id, as `pipelines.parts.LiveFiles` reads them).

    A part can hold rows of files that were changed or deleted since: those rows are dropped.
    """
    groups = part_groups(live)

    def load(name: str, columns: Sequence[str] | None = None) -> pa.Table:
        tables = [PART_SCHEMAS[name].empty_table()]
        wanted = list(dict.fromkeys(["source_path", *columns])) if columns else None
        for part_id, paths in groups():
            table = read_part_table(out_dir, part_id, name, wanted)
            tables.append(table.filter(pc.is_in(table.column("source_path"), value_set=paths)))
        table = pa.concat_tables([tables[0].select(wanted) if wanted else tables[0], *tables[1:]])
        return table.select(list(columns)) if columns else table

    return load


def part_groups(live: pa.Table) -> Callable[[], Iterator[tuple[str, pa.Array]]]:
    """A function giving each part of `live` (sorted by part id) with the paths of its live
    files. Only the grouping order is kept (an integer per file), each part's paths are taken
    when its turn comes."""
    part_ids = live.column("part_id")
    counts = pc.value_counts(part_ids)
    sizes = sorted(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()))
    order = pc.sort_indices(part_ids)  # stable, ascending: the files of each part in turn, as `sizes`
    paths = live.column("source_path")

    def groups() -> Iterator[tuple[str, pa.Array]]:
        start = 0
        for part_id, size in sizes:
            yield part_id, paths.take(order.slice(start, size)).combine_chunks()
            start += size

    return groups


LIVE_SCHEMA = pa.schema([("source_path", pa.string()), ("part_id", pa.string())])  # as `state.write_live` writes it
LIVE_BATCH_ROWS = 65_536  # rows per record batch of the live files' file: what combine holds of it at once


class LiveFiles:
    """The live files (source_path → part_id, sorted by path), a table or the Arrow IPC file the
    flow writes, read a record batch at a time: the flow and out-of-core combine never hold them
    whole (a million files' paths and part ids take about 120 MB). Parts merged by `compact` are
    `renamed` as they are read, so the file is written once."""

    def __init__(self, live: pa.Table | Path, renamed: Mapping[str, str] | None = None) -> None:
        self.live, self.renamed = live, dict(renamed or {})
        self.per_part: dict[str, int] = {}  # files per part
        for batch in self.batches():
            for part_id, files in files_per_part(batch).items():
                self.per_part[part_id] = self.per_part.get(part_id, 0) + files
        self.files = sum(self.per_part.values())

    def batches(self) -> Iterator[pa.RecordBatch]:
        for batch in self.stored_batches():
            if self.renamed:
                at = pc.index_in(batch.column("part_id"), value_set=pa.array(list(self.renamed), pa.string()))
                renamed = pc.take(pa.array(list(self.renamed.values()), pa.string()), at)
                batch = batch.set_column(1, "part_id", pc.coalesce(renamed, batch.column("part_id")))
            yield batch

    def stored_batches(self) -> Iterator[pa.RecordBatch]:
        if isinstance(self.live, pa.Table):
            yield from self.live.select(LIVE_SCHEMA.names).to_batches(max_chunksize=LIVE_BATCH_ROWS)
            return
        yield from record_batches(self.live)

    def with_parts_renamed(self, parts: Iterable[str], part_id: str) -> "LiveFiles":
        """The live files with `part_id` for each of `parts`."""
        parts = set(parts)
        renamed = {old: part_id if new in parts else new for old, new in self.renamed.items()}
        return LiveFiles(self.live, renamed | dict.fromkeys(parts, part_id))

    @property
    def table(self) -> pa.Table:
        """Every live file as one table (tests and tools)."""
        return pa.Table.from_batches(list(self.batches()), LIVE_SCHEMA)

    def paths(self) -> Iterator[pa.Array]:
        return (batch.column("source_path") for batch in self.batches())

    def by_part(self, folder: Path, count: int) -> Iterator[tuple[str, pa.Array]]:
        """Each part, in part id order, with the paths of its live files (sorted): the files are
        scattered into `count` ranges of part ids on disk, then grouped a range at a time."""
        ranges = Ranges(folder, LIVE_SCHEMA, "part_id", hex_bounds(count))  # part ids are uuid4 hex digits
        for batch in self.batches():
            ranges.add(pa.Table.from_batches([batch], LIVE_SCHEMA))
        for files in ranges:
            files = files.take(pc.sort_indices(files.column("part_id")))  # stable: paths stay sorted
            start = 0
            for part_id, size in sorted(files_per_part(files).items()):
                yield part_id, files.column("source_path").slice(start, size).combine_chunks()
                start += size


def files_per_part(live: pa.Table | pa.RecordBatch) -> dict[str, int]:
    counts = pc.value_counts(live.column("part_id"))
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()))


def parts_to_merge(per_part: Mapping[str, int], small: int, at: int = COMPACT_AT) -> set[str]:
    """The parts holding fewer than `small` live files (`per_part`: files per part), once there
    are `at` of them (else none).

    Each incremental run with changes adds a small part, and a part stays while any of its files
    lives, so without merging a folder served every 15 minutes would gather thousands of parts.
    """
    merged = {part_id for part_id, files in per_part.items() if files < small}
    return merged if len(merged) >= at else set()


def compact(out_dir: Path, live: LiveFiles, small: int) -> LiveFiles:
    """Merge the `parts_to_merge` into one new part; returns the live files with the new part ids."""
    merged = pa.array(sorted(parts_to_merge(live.per_part, small)), pa.string())
    if not len(merged):
        return live
    moved = pa.Table.from_batches([batch.filter(pc.is_in(batch.column("part_id"), value_set=merged))
                                   for batch in live.batches()], LIVE_SCHEMA)  # small parts' files: few
    load = loader(out_dir, moved)
    return live.with_parts_renamed(merged.to_pylist(), write_part(out_dir, {name: load(name) for name in PART_SCHEMAS}))


def remove_parts_except(out_dir: Path, keep: Iterable[str]) -> None:
    """Delete part folders (and leftovers of interrupted writes) that are not in `keep`."""
    keep = set(keep)
    folder = Layout(out_dir).parts
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
                checkpoint("part removed")
