"""Key ranges on disk: rows scattered into files by the range of their key, read back one
range at a time, in key order.

This is how a build sorts and joins tables larger than its memory: rows are added a part
at a time, and each range is small enough to hold. The files are Arrow IPC streams, never
published: scratch in OUT/state/spill, which a run removes after itself or a killed run, or the
segments of the store a build keeps for the next one (`pipelines.segments`).
"""

from __future__ import annotations

import math
import resource
import shutil
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

RANGE_BYTES = 16 << 20  # compressed part bytes per range: about 20 MB of rows of the largest table
PENDING_BYTES = 8 << 20  # rows held per table before they are appended to their ranges' files
MAX_RANGES = 4096  # open files per table; beyond 16 GB of parts (~16M files) ranges grow instead
HEX_DIGITS = 4  # ranges of hex keys are cut at values of this many leading digits
OPEN_FILES_SPARE = 128  # open files left for all else a process holds while it scatters
MACOS_OPEN_MAX = 10240  # macOS refuses a soft limit above this even when the hard one is unlimited


def range_count(size: int, per_range: int | None = None) -> int:
    """How many ranges `size` (by default, bytes of parts on disk, compressed) is split into,
    about `per_range` each (RANGE_BYTES, as it is when called): a power of two, at most MAX_RANGES."""
    return min(MAX_RANGES, 1 << max(0, math.ceil(math.log2(max(size, 1) / (per_range or RANGE_BYTES)))))


def open_files_allowed(wanted: int) -> int:
    """How many files this process may hold open, its soft limit first raised toward `wanted`
    (never past the hard limit). Scattering holds a file open per range of each table, which a
    system's default soft limit (1,024 on many Linux systems, 256 on macOS) stops part way."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    if soft >= wanted:
        return soft
    for raised in (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), min(wanted, MACOS_OPEN_MAX)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            return raised
        except (ValueError, OSError):
            continue
    return soft


def open_files_needed(ranges: int, files_per_range: int) -> int:
    """The files a process holds open while it scatters into `ranges` ranges of `files_per_range` files, and the rest."""
    return ranges * files_per_range + OPEN_FILES_SPARE


def ranges_allowed(wanted: int, files_per_range: int) -> int:
    """`wanted`, or when this process may not hold `files_per_range` files open for each of that
    many ranges (`open_files_allowed`), the largest power of two of ranges it may (at least 1)."""
    allowed = (open_files_allowed(open_files_needed(wanted, files_per_range)) - OPEN_FILES_SPARE) // files_per_range
    return wanted if wanted <= allowed else 1 << (max(allowed, 1).bit_length() - 1)


def record_batches(path: Path, options: ipc.IpcReadOptions | None = None) -> Iterator[pa.RecordBatch]:
    """The record batches of the Arrow IPC file `path`, read one at a time (read, not mapped: a
    mapped file's pages count as the process's memory)."""
    with ipc.open_file(str(path), options=options) as reader:
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)


def hex_bounds(count: int) -> list[str]:
    """Bounds cutting uniformly spread hex keys (SHA-256 digests, as article ids are) into `count` ranges."""
    steps = 16 ** HEX_DIGITS
    return sorted({format(i * steps // count, f"0{HEX_DIGITS}x") for i in range(1, count)})


class Ranges:
    """Rows of one schema scattered by `key` (a string column, no nulls, or keys given with the
    rows) into the ranges cut by `bounds`: range i holds the keys k with bounds[i-1] <= k < bounds[i].
    `options`: how the files are written (uncompressed, unless told)."""

    def __init__(self, folder: Path, schema: pa.Schema, key: str | None, bounds: Sequence[str],
                 options: ipc.IpcWriteOptions | None = None) -> None:
        self.folder, self.schema, self.key, self.options = folder, schema, key, options
        self.bounds = np.array(bounds, dtype=object)
        self.writers: dict[int, ipc.RecordBatchStreamWriter] = {}
        self.pending: dict[int, list[pa.Table]] = {}
        self.pending_bytes = 0
        folder.mkdir(parents=True, exist_ok=True)

    def add(self, table: pa.Table, keys: pa.Array | None = None) -> None:
        """Add `table`'s rows to their ranges, by their `keys` or the key column (held until
        PENDING_BYTES, then appended to the ranges' files: a write per range and part would cost
        more than the rows)."""
        if not table.num_rows:
            return
        keys = table.column(self.key) if keys is None else keys
        where = np.searchsorted(self.bounds, keys.to_numpy(zero_copy_only=False), side="right")
        table = table.take(np.argsort(where, kind="stable"))
        start = 0
        for index, count in enumerate(np.bincount(where, minlength=len(self.bounds) + 1).tolist()):
            if count:
                self.pending.setdefault(index, []).append(table.slice(start, count))
                start += count
        self.pending_bytes += table.get_total_buffer_size()
        if self.pending_bytes >= PENDING_BYTES:
            self.flush()

    def flush(self) -> None:
        for index, pieces in self.pending.items():
            self.writer(index).write_table(pa.concat_tables(pieces).combine_chunks())
        self.pending, self.pending_bytes = {}, 0
        pa.default_memory_pool().release_unused()

    def writer(self, index: int) -> ipc.RecordBatchStreamWriter:
        if index not in self.writers:
            self.writers[index] = ipc.new_stream(str(range_file(self.folder, index)), self.schema,
                                                 options=self.options)
        return self.writers[index]

    def close(self) -> None:
        """Write what is held and close the files."""
        self.flush()
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()

    def __iter__(self) -> Iterator[pa.Table]:
        """Each range's rows in turn (an empty table for an empty range), in key order."""
        self.close()
        for index in range(len(self.bounds) + 1):
            yield self.read(index)

    def read(self, index: int) -> pa.Table:
        """Range `index`'s rows (once the ranges are closed)."""
        return read_stream(range_file(self.folder, index), self.schema)


def range_file(folder: Path, index: int) -> Path:
    return folder / f"{index:05d}.arrow"


def read_stream(path: Path, schema: pa.Schema) -> pa.Table:
    """The rows of the Arrow IPC stream file `path` (of `schema`: no rows when there is no file)."""
    if not path.exists():
        return schema.empty_table()
    with pa.OSFile(str(path)) as source, ipc.open_stream(source) as reader:
        return reader.read_all().combine_chunks()


def fresh_folder(folder: Path) -> Path:
    """`folder`, empty: what an earlier (maybe killed) run left in it is removed."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
