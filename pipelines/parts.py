"""Parts on disk: each parsed batch as Arrow IPC files, read back one part table at a time.

    OUT/state/parts/<part_id>/<part table>.arrow

A worker writes its batch's part under a temporary name and renames the folder when every
file is in it, so a part folder is always complete. Files are lz4-compressed Arrow IPC:
written and read at memory speed, about the size of the input's text.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from pipelines.killpoints import checkpoint
from transforms.combine import Load
from transforms.normalize import PART_SCHEMAS

STATE, PARTS = "state", "parts"
COMPACT_AT = 8  # small parts that are merged into one
IPC_OPTIONS = ipc.IpcWriteOptions(compression="lz4")


def parts_dir(out_dir: Path) -> Path:
    return out_dir / STATE / PARTS


def write_part(out_dir: Path, tables: dict[str, pa.Table]) -> str:
    """Write one batch's part tables as a new complete part folder; returns its id."""
    part_id = uuid.uuid4().hex
    final = parts_dir(out_dir) / part_id
    temporary = final.with_name(f".tmp-{part_id}")
    temporary.mkdir(parents=True)
    for name, table in tables.items():
        with ipc.new_file(temporary / f"{name}.arrow", table.schema, options=IPC_OPTIONS) as writer:
            writer.write_table(table)
        checkpoint(f"part {name} written")
    os.rename(temporary, final)
    checkpoint("part complete")
    return part_id


def read_part_table(out_dir: Path, part_id: str, name: str, columns: Sequence[str] | None = None) -> pa.Table:
    """One part table, or only some of its columns (the others are not even decompressed)."""
    options = None
    if columns:
        names = PART_SCHEMAS[name].names
        options = ipc.IpcReadOptions(included_fields=[names.index(column) for column in columns])
    with ipc.open_file(parts_dir(out_dir) / part_id / f"{name}.arrow", options=options) as reader:
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


def compact(out_dir: Path, live: Mapping[str, str], small: int, at: int = COMPACT_AT) -> dict[str, str]:
    """Merge the parts holding fewer than `small` live files into one new part once there are
    `at` of them; returns the new source_path → part id map.

    Each incremental run with changes adds a small part, and a part stays while any of its files
    lives, so without this a folder served every 15 minutes would gather thousands of parts.
    """
    files_per_part = Counter(live.values())
    merged = {part_id for part_id, files in files_per_part.items() if files < small}
    if len(merged) < at:
        return dict(live)
    load = loader(out_dir, {path: part_id for path, part_id in live.items() if part_id in merged})
    part_id = write_part(out_dir, {name: load(name) for name in PART_SCHEMAS})
    return {path: part_id if old in merged else old for path, old in live.items()}


def remove_parts_except(out_dir: Path, keep: Iterable[str]) -> None:
    """Delete part folders (and leftovers of interrupted writes) that are not in `keep`."""
    keep = set(keep)
    folder = parts_dir(out_dir)
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
                checkpoint("part removed")
