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
from typing import Callable, Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from pipelines.durable import publish_folder, synced_file, temporary_name
from pipelines.killpoints import checkpoint
from pipelines.layout import Layout
from transforms.combine import Load
from transforms.normalize import PART_SCHEMAS

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
            writer.write_table(table)
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
    and part_id, as `pipelines.flows.live_parts` makes it).

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


def files_per_part(live: pa.Table) -> dict[str, int]:
    counts = pc.value_counts(live.column("part_id"))
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()))


def parts_to_merge(live: pa.Table, small: int, at: int = COMPACT_AT) -> set[str]:
    """The parts holding fewer than `small` live files, once there are `at` of them (else none).

    Each incremental run with changes adds a small part, and a part stays while any of its files
    lives, so without merging a folder served every 15 minutes would gather thousands of parts.
    """
    merged = {part_id for part_id, files in files_per_part(live).items() if files < small}
    return merged if len(merged) >= at else set()


def compact(out_dir: Path, live: pa.Table, small: int) -> pa.Table:
    """Merge the `parts_to_merge` into one new part; returns `live` with the new part ids."""
    merged = parts_to_merge(live, small)
    if not merged:
        return live
    moved = pc.is_in(live.column("part_id"), value_set=pa.array(sorted(merged), pa.string()))
    load = loader(out_dir, live.filter(moved))
    part_id = write_part(out_dir, {name: load(name) for name in PART_SCHEMAS})
    column = live.schema.get_field_index("part_id")
    return live.set_column(column, live.schema.field(column), pc.if_else(moved, part_id, live.column(column)))


def remove_parts_except(out_dir: Path, keep: Iterable[str]) -> None:
    """Delete part folders (and leftovers of interrupted writes) that are not in `keep`."""
    keep = set(keep)
    folder = Layout(out_dir).parts
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
                checkpoint("part removed")
