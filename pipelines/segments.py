"""The segment store: every live file's rows kept by segment between builds, so that a build
combines again only the segments a change touches.

    OUT/state/segments/<id>/segments.json          the segment count and each warehouse table's rows
                                                   per segment (written last: without it, the
                                                   store is incomplete and not used)
    OUT/state/segments/<id>/<table>/<i>.arrow      the rows of the live files in segment i, of each
                                                   part table in `CANDIDATES`
    OUT/state/segments/<id>/partials/<name>/<i>.arrow  segment i's partials (see combine_segment)
    OUT/state/segments/<id>/dimensions/<name>.arrow    the taxonomy, organizations and sites rows of
                                                   every live file, and the site configs' paths

A segment is a range of the files' segment keys (`transforms.combine.segment_keys`: the
article id, or a hash of the path), cut into `count` equal ranges of hex digits. The store a
snapshot's warehouse was made from is named in its manifest (`segments`); a build reuses it
only when that snapshot is the published one and the state record describes it. Files of
segments a build does not touch are hard links to the previous store's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from newsfm.pipelines.durable import fsync_path, link_or_copy, synced_file
from newsfm.pipelines.layout import Layout
from newsfm.pipelines.parts import IPC_OPTIONS
from newsfm.pipelines.spill import Ranges, hex_bounds, range_file, read_stream
from newsfm.transforms.combine import CANDIDATES, partial_schema
from newsfm.transforms.normalize import PART_SCHEMAS

MANIFEST = "segments.json"
PARTIALS = ("topic_names", "provider_names", "logos", "fields", "ledger")
PART_DIMENSIONS = ("taxonomy", "organizations", "sites")  # part tables of the dimension files
DIMENSIONS = (*PART_DIMENSIONS, "configs")  # and the site configs' paths
CONFIGS_SCHEMA = pa.schema([PART_SCHEMAS["sources"].field("source_path")])


def dimension_schema(name: str) -> pa.Schema:
    return CONFIGS_SCHEMA if name == "configs" else PART_SCHEMAS[name]


class SegmentStore:
    """One store: `count` segments of rows, in `folder`."""

    def __init__(self, folder: Path, count: int, rows: dict[str, list[int]] | None = None) -> None:
        self.folder, self.count = folder, count
        self.rows = rows or {}
        self.bounds = np.array(hex_bounds(count), dtype=object)

    @classmethod
    def create(cls, out: Path, store_id: str, count: int) -> SegmentStore:
        folder = Layout(out).segments / store_id
        shutil.rmtree(folder, ignore_errors=True)
        for name in [*CANDIDATES, *(f"partials/{name}" for name in PARTIALS), "dimensions"]:
            (folder / name).mkdir(parents=True)
        return cls(folder, count)

    @classmethod
    def open(cls, out: Path, store_id: str | None) -> SegmentStore | None:
        """The complete store `store_id`, or None."""
        if not store_id:
            return None
        folder = Layout(out).segments / store_id
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
            return cls(folder, manifest["count"], manifest["rows"])
        except (OSError, ValueError, KeyError):
            return None

    def segments_of(self, keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """The segment of each segment key."""
        return np.searchsorted(self.bounds, keys.to_numpy(zero_copy_only=False), side="right")

    def path(self, name: str, segment: int) -> Path:
        return range_file(self.folder / name, segment)

    def read(self, name: str, segment: int) -> pa.Table:
        """A candidate table (or `partials/<name>`) of one segment."""
        return read_stream(self.path(name, segment), schema_of(name))

    def ranges(self, name: str) -> Ranges:
        """Candidate table `name` of every segment, written as its rows are scattered (a full build).

        Uncompressed: scattering appends small batches to many files, and lz4 over such small
        buffers made a full build's combine at 1,000,000 files 63–68 s instead of 52 s (the store
        is then 3.5 GB instead of 1.5 GB). A segment a later build writes again is compressed."""
        return Ranges(self.folder / name, PART_SCHEMAS[name], None, hex_bounds(self.count))

    def write(self, name: str, segment: int, table: pa.Table) -> None:
        """Write a candidate table or a partial of one segment (nothing for no rows)."""
        if table.num_rows:
            write_ipc(self.path(name, segment), table)

    def link(self, previous: SegmentStore, segment: int) -> None:
        """Segment `segment`'s files as `previous` holds them."""
        for name in [*CANDIDATES, *(f"partials/{name}" for name in PARTIALS)]:
            source = previous.path(name, segment)
            if source.exists():
                link_or_copy(source, self.path(name, segment))

    def read_dimension(self, name: str) -> pa.Table:
        return read_stream(self.folder / "dimensions" / f"{name}.arrow", dimension_schema(name))

    def write_dimension(self, name: str, table: pa.Table) -> None:
        write_ipc(self.folder / "dimensions" / f"{name}.arrow", table)

    def complete(self, rows: dict[str, list[int]]) -> None:
        """Make every file durable, then write the manifest that makes the store usable."""
        self.rows = rows
        for folder in [self.folder / name for name in CANDIDATES] + [self.folder / "dimensions"] + [
                self.folder / "partials" / name for name in PARTIALS]:
            for file in folder.iterdir():  # the files scattered by `ranges` were not synced as written
                fsync_path(file)
            fsync_path(folder)
        with synced_file(self.folder / MANIFEST, "w") as handle:
            handle.write(json.dumps({"count": self.count, "rows": rows}))
        fsync_path(self.folder)
        fsync_path(self.folder.parent)


def schema_of(name: str) -> pa.Schema:
    kind, _, partial = name.partition("/")
    return partial_schema(partial) if kind == "partials" else PART_SCHEMAS[name]


def write_ipc(path: Path, table: pa.Table) -> None:
    """An Arrow IPC stream file, lz4-compressed, on disk."""
    with synced_file(path) as handle, ipc.new_stream(handle, table.schema, options=IPC_OPTIONS) as writer:
        writer.write_table(table)


def remove_stores_except(out: Path, keep: str | None) -> None:
    """Delete every store but `keep` (the one the published snapshot names)."""
    folder = Layout(out).segments
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name != keep:
                shutil.rmtree(path, ignore_errors=True)
