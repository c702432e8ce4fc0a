"""Parts on disk: each parsed batch as Arrow IPC files, read back one part table at a time.

    OUT/state/parts/<part_id>/<part table>.arrow   (see pipelines.layout)

A worker writes its batch's part under a temporary name and renames the folder when every
file is in it and on disk, so a part folder is always complete. Files are lz4-compressed Arrow IPC:
written and read at memory speed, about the size of the input's text.
"""

from __future__ import annotations

import shutil
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Mapping, Sequence

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


def loader(out_dir: Path, live: Mapping[str, str]) -> Load:
    """A `transforms.combine.Load` over the rows of the files in `live` (source_path → part id).

    A part can hold rows of files that were changed or deleted since: those rows are dropped.
    """
    paths_by_part: dict[str, list[str]] = defaultdict(list)
    for path, part_id in live.items():
        paths_by_part[part_id].append(path)

    def load(name: str, columns: Sequence[str] | None = None) -> pa.Table:
        tables = [PART_SCHEMAS[name].empty_table()]
        wanted = list(dict.fromkeys(["source_path", *columns])) if columns else None
        for part_id, paths in sorted(paths_by_part.items()):
            table = read_part_table(out_dir, part_id, name, wanted)
            tables.append(table.filter(pc.is_in(table.column("source_path"), value_set=pa.array(paths, pa.string()))))
        table = pa.concat_tables([tables[0].select(wanted) if wanted else tables[0], *tables[1:]])
        return table.select(list(columns)) if columns else table

    return load


def parts_to_merge(live: Mapping[str, str], small: int, at: int = COMPACT_AT) -> set[str]:
    """The parts holding fewer than `small` live files, once there are `at` of them (else none).

    Each incremental run with changes adds a small part, and a part stays while any of its files
    lives, so without merging a folder served every 15 minutes would gather thousands of parts.
    """
    files_per_part = Counter(live.values())
    merged = {part_id for part_id, files in files_per_part.items() if files < small}
    return merged if len(merged) >= at else set()


def compact(out_dir: Path, live: Mapping[str, str], small: int) -> dict[str, str]:
    """Merge the `parts_to_merge` into one new part; returns the new source_path → part id map."""
    merged = parts_to_merge(live, small)
    if not merged:
        return dict(live)
    load = loader(out_dir, {path: part_id for path, part_id in live.items() if part_id in merged})
    part_id = write_part(out_dir, {name: load(name) for name in PART_SCHEMAS})
    return {path: part_id if old in merged else old for path, old in live.items()}


def remove_parts_except(out_dir: Path, keep: Iterable[str]) -> None:
    """Delete part folders (and leftovers of interrupted writes) that are not in `keep`."""
    keep = set(keep)
    folder = Layout(out_dir).parts
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
                checkpoint("part removed")
