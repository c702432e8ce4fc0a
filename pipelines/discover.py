"""Find the input files under a root and read them in batches.

The input tree is read as hostile ground. Whatever is in it, every entry `walk` lists becomes
one row of the `sources` ledger, and reading one never crashes a run, never blocks and never
leaves the input folder:

- hidden files and folders (`.git`, `.obsidian`, `.DS_Store`) are skipped;
- linked folders are not descended into, so the walk stays inside the root and always ends
  (loops, links to `..` or to `/`); a linked file is read only when it resolves inside the root;
- only regular files are opened for reading: FIFOs, sockets and devices are refused from their
  `stat`, never opened (a folder found where a file was listed is only listed, to say why);
- a folder that cannot be listed is one `unreadable` row standing for the files in it;
- a name that is not UTF-8 (Linux allows any bytes) is listed with `\\xNN` for its bytes that
  are not, and rejected `unreadable` with a message asking to rename it;
- a newsfm output folder inside the root (it holds `.newsfm.lock`) keeps its own entries out
  of the input: `newsfm build data data/out` does not read its own output back;
- a file over the size limit is hashed in chunks, never held in memory whole.
"""

from __future__ import annotations

import bisect
import errno
import hashlib
import multiprocessing
import os
import re
import stat
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from newsfm.pipelines.layout import ENTRIES, LOCK
from newsfm.pipelines.spill import record_batches
from newsfm.transforms.extract import Extracted, extract, rejected, unreadable
from newsfm.transforms.frontmatter import Rejected
from newsfm.transforms.settings import DEFAULTS
from newsfm.transforms.site import OTHER, file_kind

CHUNK_BYTES = 1 << 20  # files over the size limit are hashed this much at a time
OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY

NOT_UTF8_NAME = (
    "the file name (or a folder name above it) is not valid UTF-8; it is shown with \\xNN for those bytes; "
    "rename it to have the file read"
)
OUTSIDE_LINK = "a symbolic link to a file outside the input folder; it is not followed"
LINK_LOOP = "a symbolic link loop; it is not followed"


FOUND_SCHEMA = pa.schema([
    pa.field("source_path", pa.string(), nullable=False),
    pa.field("size_bytes", pa.int64()),
    pa.field("mtime_ns", pa.int64()),
])
CHUNK_ROWS = 16_384  # entries listed are Python objects this many at a time (about 3 MB), then Arrow arrays
STAT_CHUNK = 4_096  # files a process of `stat_processes` stats at a time
STATS_WAITING = 8  # chunks of names out for `stat` at most, per folder


def walk(root: Path) -> pa.Table:
    """`walk_batches` as one table (tests, tools and `read_folder`)."""
    return pa.Table.from_batches(list(walk_batches(root)), FOUND_SCHEMA)


def walk_batches(root: Path, scratch: Path | None = None, stats: "StatProcesses | None" = None) -> Iterator[pa.RecordBatch]:
    """(relative POSIX path, size, mtime_ns) of every file under `root`, sorted by path: record
    batches of FOUND_SCHEMA (`source_path`, `size_bytes`, `mtime_ns`) of up to CHUNK_ROWS rows.

    Hidden files and folders (`.git`, `.DS_Store`) are skipped, and so are newsfm's own entries
    in an output folder (one holding `.newsfm.lock`). Linked folders are not descended into,
    so the walk stays inside `root` and always ends. Sizes and times follow links to files
    (those of the link itself when its target cannot be stat-ed, so a broken link is not read
    again until it changes); they are None where even that fails (parsing then says why).

    A folder that cannot be listed is listed as one entry (its own size and time), which
    parsing rejects as `unreadable`: the files in it are not silently lost. When `root` itself
    cannot be listed, OSError: an unreadable input folder must not publish an empty warehouse.
    Names that are not UTF-8 are given as `printable_path` shows them.

    Nothing holds every path: folders are visited in path order, each one's entries sorted
    (a folder's subfolder `a` as `a/`, which is where its files' paths sort), so the rows come
    out sorted, held as Python objects at most a folder or CHUNK_ROWS at a time. The few that
    cannot be placed so (names that are not UTF-8, folders that cannot be listed) are merged in
    at the end; until then the rows wait in `scratch` (an Arrow IPC file), or in memory without one.

    `stats`: processes that `stat` the files of a folder STAT_CHUNK names at a time (`stat_names`)
    while this one lists the next names. The `stat` calls are most of a walk (about 3.5–5.5 s
    of a million files' 8 s on one core), and threads would wait on one another for the GIL.
    """
    out = SortedOutput(scratch)
    folders = [Folder.listed(os.fspath(root), "", out, stats)]
    while folders:
        folder = folders[-1]
        if not folder.subfolders:
            out.extend(folder.files)
            folders.pop()
            continue
        name, path = folder.subfolders.pop()
        key = f"{folder.prefix}{name}/"
        out.extend(folder.files_before(key))
        listed = Folder.listed(path, key, out, stats)
        if listed is not None:
            folders.append(listed)
    yield from out.batches()


class Folder:
    """A folder's files (sorted rows, not yet given out) and its subfolders (to visit; the next
    one last)."""

    def __init__(self, prefix: str, files: pa.Table, subfolders: list[tuple[str, str]]) -> None:
        self.prefix, self.files, self.subfolders = prefix, files, subfolders

    @classmethod
    def listed(cls, folder: str, prefix: str, out: "SortedOutput", stats: "StatProcesses | None" = None) -> "Folder | None":
        """The folder at `folder` (its files' paths start with `prefix`); None when it cannot be
        listed, which it then is as an entry of its own (to `out`, aside). `stats`: see `walk_batches`."""
        listed, subfolders = Listing(), []
        own, output = [], False  # entries named like newsfm's own, kept unless the folder holds its lock
        files = Stats(folder, prefix, listed, stats)
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        output = output or entry.name == LOCK
                        continue
                    if entry.name in ENTRIES:
                        own.append(entry)
                        continue
                    add_entry(entry, prefix, listed, subfolders, files)
            files.close()
        except OSError as error:
            files.cancel()
            if not prefix:
                raise OSError(error.errno, f"the input folder {folder} cannot be listed: {error.strerror}") from None
            out.aside.append((prefix[:-1], *stat_of(folder, follow_symlinks=False)))
            return None
        for entry in own if not output else ():
            add_entry(entry, prefix, listed, subfolders)
        out.aside += listed.undecodable_entries()
        subfolders.sort(key=lambda subfolder: subfolder[0] + "/", reverse=True)
        return cls(prefix, listed.sorted_table(), subfolders)

    def files_before(self, key: str) -> pa.Table:
        """Give out the files whose paths sort before `key` (none for a key that is not UTF-8:
        the files under it are set aside, and may come out at any point)."""
        if not is_utf8(key):
            return self.files.slice(0, 0)
        count = bisect.bisect_left(PythonView(self.files.column("source_path")), key)
        before, self.files = self.files.slice(0, count), self.files.slice(count)
        return before


class PythonView:
    """A sorted string array as a sequence of Python strings, for `bisect` (a few look-ups)."""

    def __init__(self, values: pa.Array | pa.ChunkedArray) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i: int) -> str:
        return self.values[i].as_py()


class SortedOutput:
    """Rows given in path order, gathered into batches of CHUNK_ROWS (in `scratch`, an Arrow IPC
    file, or in memory), and the rows `aside` that are merged in at the end."""

    def __init__(self, scratch: Path | None) -> None:
        self.scratch = scratch
        self.writer = ipc.new_file(str(scratch), FOUND_SCHEMA) if scratch else None
        self.held: list[pa.RecordBatch] = []
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.escaped: list[pa.Array] = []  # paths holding `\x`: a printable name must not be one of them
        self.aside: list[tuple[str, int | None, int | None]] = []

    def extend(self, rows: pa.Table) -> None:
        if rows.num_rows:
            self.pending.append(rows)
            self.pending_rows += rows.num_rows
            if self.pending_rows >= CHUNK_ROWS:
                self.flush()

    def flush(self) -> None:
        rows = pa.concat_tables(self.pending).combine_chunks() if self.pending else FOUND_SCHEMA.empty_table()
        self.pending, self.pending_rows = [], 0
        for batch in rows.to_batches(max_chunksize=CHUNK_ROWS):
            paths = batch.column("source_path")
            self.escaped.append(paths.filter(pc.match_substring(paths, "\\x")))
            if self.writer:
                self.writer.write_batch(batch)
            else:
                self.held.append(batch)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Every row, sorted: the rows given, with those aside merged in."""
        self.flush()
        if self.writer:
            self.writer.close()
        aside = aside_table(self.aside, pa.chunked_array(self.escaped, pa.string()))
        for batch in self.stored():
            if aside.num_rows and batch.num_rows:
                count = pc.sum(pc.less_equal(aside.column("source_path"), batch.column("source_path")[-1])).as_py() or 0
                if count:
                    merged = pa.concat_tables([aside.slice(0, count), pa.Table.from_batches([batch])]).sort_by("source_path")
                    batch, aside = merged.combine_chunks().to_batches()[0], aside.slice(count)
            yield batch
        if aside.num_rows:
            yield aside.combine_chunks().to_batches()[0]
        if self.scratch:
            self.scratch.unlink()

    def stored(self) -> Iterator[pa.RecordBatch]:
        if not self.writer:
            yield from self.held
            return
        yield from record_batches(self.scratch)


def aside_table(aside: list[tuple[str, int | None, int | None]], escaped: pa.ChunkedArray) -> pa.Table:
    """The rows set aside, names made printable, sorted by path."""
    shown = sorted(printable(aside, others=escaped))
    return pa.Table.from_arrays([pa.array(list(column), kind) for column, kind in zip(
        zip(*shown) if shown else ((), (), ()), FOUND_SCHEMA.types)], schema=FOUND_SCHEMA)


def add_entry(entry: os.DirEntry, prefix: str, listed: "Listing", subfolders: list[tuple[str, str]],
              stats: "Stats | None" = None) -> None:
    try:
        is_folder = entry.is_dir()
    except OSError:
        is_folder = False
    if is_folder:
        if not entry.is_symlink():
            subfolders.append((entry.name, entry.path))
        return
    if stats is not None and stats.pool is not None:
        stats.add(entry.name)
        return
    try:
        info = entry.stat()  # follows a link, as `stat_of` does first (and as fast as os.stat)
    except OSError:
        listed.add(prefix + entry.name, *stat_of(entry.path, follow_symlinks=False))
        return
    listed.add(prefix + entry.name, info.st_size, info.st_mtime_ns)


class Stats:
    """The files of one folder `stat`-ed in the processes of `pool` (`stat_names`), STAT_CHUNK
    names at a time and at most STATS_WAITING chunks ahead of the listing, their rows added to
    `listed` as they come back. Without a pool, `add_entry` stats each file itself."""

    def __init__(self, folder: str, prefix: str, listed: "Listing", pool: "StatProcesses | None") -> None:
        self.folder, self.prefix, self.listed, self.pool = folder, prefix, listed, pool
        self.names: list[str] = []
        self.waiting: deque[tuple[list[str], Future]] = deque()

    def add(self, name: str) -> None:
        self.names.append(name)
        if len(self.names) >= STAT_CHUNK:
            self.submit()

    def submit(self) -> None:
        if len(self.waiting) >= STATS_WAITING:
            self.take()
        names, self.names = self.names, []
        self.waiting.append((names, self.pool.submit(stat_names, self.folder, names)))

    def take(self) -> None:
        names, stat_future = self.waiting.popleft()
        self.add_rows(names, *stat_future.result())

    def add_rows(self, names: list[str], sizes: list[int | None], mtimes: list[int | None]) -> None:
        """A chunk's rows; a file that could not be stat-ed is stat-ed again here, as `add_entry`
        would (the link itself, else Nones)."""
        if None in sizes:
            for name, size, mtime_ns in zip(names, sizes, mtimes):
                if size is None:
                    size, mtime_ns = stat_of(os.path.join(self.folder, name), follow_symlinks=False)
                self.listed.add(self.prefix + name, size, mtime_ns)
            return
        self.listed.extend([self.prefix + name for name in names], sizes, mtimes)

    def close(self) -> None:
        """The rows of every chunk; the last names (fewer than a chunk: all of a small folder's)
        are stat-ed here, which costs less than sending them."""
        names, self.names = self.names, []
        if names:
            self.add_rows(names, *stat_names(self.folder, names))
        while self.waiting:
            self.take()

    def cancel(self) -> None:
        for _, stat_future in self.waiting:
            stat_future.cancel()
        self.waiting.clear()


def stat_names(folder: str, names: list[str]) -> tuple[list[int | None], list[int | None]]:
    """(sizes, mtimes) of the files `names` of `folder`, following links as `os.DirEntry.stat`
    does; None for a file that cannot be stat-ed so (every file, when the folder went away)."""
    sizes, mtimes = [], []
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)  # a third faster than joined paths
    except OSError:
        return [None] * len(names), [None] * len(names)
    try:
        for name in names:
            try:
                info = os.stat(name, dir_fd=descriptor)
            except OSError:
                sizes.append(None)
                mtimes.append(None)
                continue
            sizes.append(info.st_size)
            mtimes.append(info.st_mtime_ns)
    finally:
        os.close(descriptor)
    return sizes, mtimes


class StatProcesses:
    """`workers` processes for `walk_batches`' `stats`, forked when a folder first has a chunk of
    files to send (a walk of small folders starts none). Forked, not spawned: they run
    `stat_names` only, and start in milliseconds."""

    def __init__(self, workers: int) -> None:
        self.workers, self.pool = workers, None

    def submit(self, function: Callable, *args) -> Future:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("fork"))
        return self.pool.submit(function, *args)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


@contextmanager
def stat_processes(workers: int) -> Iterator[StatProcesses | None]:
    """`StatProcesses` for a walk (None for one worker: it stats as it lists)."""
    if workers <= 1:
        yield None
        return
    processes = StatProcesses(workers)
    try:
        yield processes
    finally:
        processes.close()


class Listing:
    """A folder's entries, as column lists of up to CHUNK_ROWS entries, then as Arrow arrays.

    Names that are not UTF-8 (surrogate-escaped by `os.scandir`) cannot be Arrow strings: they
    are kept apart (`undecodable`), few, and made printable once every other path is known.
    """

    def __init__(self) -> None:
        self.paths, self.sizes, self.mtimes = [], [], []
        self.chunks: list[tuple[pa.Array, pa.Array, pa.Array]] = []
        self.undecodable: list[tuple[str, int | None, int | None]] = []

    def add(self, path: str, size: int | None, mtime_ns: int | None) -> None:
        """One entry; a full chunk's lists become Arrow arrays."""
        self.paths.append(path)
        self.sizes.append(size)
        self.mtimes.append(mtime_ns)
        if len(self.paths) >= CHUNK_ROWS:
            self.flush()

    def extend(self, paths: list[str], sizes: list[int | None], mtimes: list[int | None]) -> None:
        """Entries, a `stat_names` chunk of them (so the lists go past CHUNK_ROWS by less than a chunk)."""
        self.paths += paths
        self.sizes += sizes
        self.mtimes += mtimes
        if len(self.paths) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.paths:
            return
        try:
            paths = pa.array(self.paths, pa.string())
            sizes, mtimes = pa.array(self.sizes, pa.int64()), pa.array(self.mtimes, pa.int64())
        except UnicodeEncodeError:
            entries = list(zip(self.paths, self.sizes, self.mtimes))
            good = [entry for entry in entries if is_utf8(entry[0])]
            self.undecodable += [entry for entry in entries if not is_utf8(entry[0])]
            paths, sizes, mtimes = (pa.array(list(column), kind) for column, kind in zip(
                zip(*good) if good else ((), (), ()), (pa.string(), pa.int64(), pa.int64())))
        self.chunks.append((paths, sizes, mtimes))
        self.paths, self.sizes, self.mtimes = [], [], []

    def undecodable_entries(self) -> list[tuple[str, int | None, int | None]]:
        self.flush()
        return self.undecodable

    def sorted_table(self) -> pa.Table:
        """The entries whose names are UTF-8, sorted by path (as Python sorts str: by code point,
        which is the order of their UTF-8 bytes, Arrow's)."""
        self.flush()
        table = pa.Table.from_arrays([pa.chunked_array([chunk[i] for chunk in self.chunks], kind)
                                      for i, kind in enumerate(FOUND_SCHEMA.types)], schema=FOUND_SCHEMA)
        self.chunks = []
        if table.num_rows < 2:
            return table
        return table.take(pc.sort_indices(table.column("source_path")))


def is_utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def stat_of(path: str, follow_symlinks: bool) -> tuple[int | None, int | None]:
    """(size, mtime_ns) of `path` (of a link itself when its target cannot be stat-ed), or Nones."""
    for follow in (True, False) if follow_symlinks else (False,):
        try:
            info = os.stat(path, follow_symlinks=follow)
            return info.st_size, info.st_mtime_ns
        except OSError:
            continue
    return None, None


def printable(found: list[tuple[str, int | None, int | None]], others: pa.ChunkedArray | None = None
              ) -> list[tuple[str, int | None, int | None]]:
    """The entries with names that are not UTF-8 (surrogate-escaped by `os.scandir`) made
    printable, never as the path of another entry, nor of one in `others` (more paths found)."""
    taken = {path for path, _size, _mtime_ns in found if is_utf8(path)}
    if len(taken) == len(found):
        return found
    if others is not None:  # a shown path holds a backslash and an x: only the paths that do can be taken
        taken |= set(others.filter(pc.match_substring(others, "\\x")).to_pylist())
    shown = []
    for path, size, mtime_ns in found:
        if not is_utf8(path):
            path = printable_path(path, taken)
            taken.add(path)
        shown.append((path, size, mtime_ns))
    return shown


def printable_path(path: str, taken: set[str]) -> str:
    """A path that is not UTF-8 as text, with its other bytes as `\\xNN` and `\\` as `\\x5c`
    (`caf\\xe9.md` for a Latin-1 `café.md`), so that `undecodable_path` gets the real one back.

    When that is the name of a real path in `taken`, the escapes get more x's (`caf\\xxe9.md`):
    a form with one x is never one with more, so a shown path is always one file's.
    """
    short = os.fsencode(path).replace(b"\\", b"\\x5c").decode("utf-8", "backslashreplace")
    shown, marks = short, 1
    while shown in taken:
        marks += 1
        shown = short.replace("\\x", "\\" + "x" * marks)
    return shown


def undecodable_path(path: str) -> str | None:
    """The real (surrogate-escaped) relative path a `printable_path` stands for, if it can be one."""
    if "\\x" not in path:
        return None
    raw = re.sub(rb"\\x+([0-9a-f]{2})", lambda match: bytes.fromhex(match[1].decode()), path.encode("utf-8"))
    try:
        raw.decode("utf-8")
        return None  # a UTF-8 name is never shown escaped
    except UnicodeDecodeError:
        return os.fsdecode(raw)


class InputError(Exception):
    """The input folder cannot be used; the message says why."""


class Unreadable(Exception):
    """Why a file is not read; the message is for the sources ledger."""


def open_input(root: Path, path: str, real_root: str | None = None) -> int:
    """A descriptor open for reading on the regular file `path` under `root`; or Unreadable.

    Never follows a link out of `root` and never opens anything but a regular file (opening a
    FIFO can block, a device can have effects), so nothing outside the input folder is read.
    Where /proc tells what a descriptor points to, that is checked too after the open, so a
    folder swapped for a link between the checks and the open does not lead outside either.
    `real_root` is `os.path.realpath(root)`, when the caller has it.
    """
    full = os.path.join(root, path)
    real_root = real_root or os.path.realpath(root)
    try:
        try:
            info = os.lstat(full)
        except OSError as error:  # a shown path (longer than its name) may be too long to exist
            real = undecodable_path(path) if error.errno in (errno.ENOENT, errno.ENAMETOOLONG) else None
            if real is not None and os.path.lexists(os.path.join(root, real)):
                raise Unreadable(NOT_UTF8_NAME) from None
            raise
        target = full
        if stat.S_ISLNK(info.st_mode):
            target = os.path.realpath(full)
            if not inside(target, real_root):
                raise Unreadable(OUTSIDE_LINK)
            try:
                info = os.stat(target)
            except OSError as error:
                if error.errno == errno.ELOOP:
                    raise Unreadable(LINK_LOOP) from None
                if error.errno == errno.ENOENT:
                    raise Unreadable(f"a symbolic link to {os.readlink(full)}, which does not exist") from None
                raise
        refuse_unless_regular(info.st_mode, target)
        descriptor = os.open(target, OPEN_FLAGS)
        try:
            if not inside(opened_path(descriptor) or real_root, real_root):  # swapped since the checks
                raise Unreadable(OUTSIDE_LINK)
            refuse_unless_regular(os.fstat(descriptor).st_mode, target)  # replaced since the stat
        except BaseException:
            os.close(descriptor)
            raise
        return descriptor
    except OSError as error:
        raise Unreadable(f"could not be read: {error.strerror or error}") from None


def inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def opened_path(descriptor: int) -> str | None:
    """The real path an open descriptor points to, where the system says (Linux's /proc)."""
    try:
        return os.readlink(f"/proc/self/fd/{descriptor}")
    except OSError:
        return None


def refuse_unless_regular(mode: int, path: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        try:
            with os.scandir(path):
                pass
        except OSError as error:
            raise Unreadable(f"a folder that cannot be listed ({error.strerror}); the files in it are not read") from None
        raise Unreadable("a folder where a file was found; the input changed during the build, the next build reads it")
    kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file, folder or link")
    raise Unreadable(f"not a regular file ({kind}); it is not read")


def hash_stream(handle) -> tuple[str, int]:
    """SHA-256 and size of the rest of an open file, read a chunk at a time."""
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def content_hash(root: Path, path: str) -> str | None:
    """SHA-256 of a file's bytes, as the sources ledger records it; None when it cannot be read."""
    try:
        with os.fdopen(open_input(root, path), "rb") as handle:
            return hash_stream(handle)[0]
    except (Unreadable, OSError):
        return None


def read_file(root: Path, path: str, max_bytes: int, real_root: str | None = None) -> Extracted:
    """The file's ledger facts and record, from one read of its bytes.

    A file over `max_bytes` is not kept in memory: it is hashed in chunks and rejected as
    `too_large` (or `unsupported_file`) exactly as `extract` would reject its bytes.
    """
    try:
        with os.fdopen(open_input(root, path, real_root), "rb", buffering=0) as handle:
            if os.fstat(handle.fileno()).st_size <= max_bytes:
                return extract(path, handle.read(), max_bytes)
            digest, size = hash_stream(handle)
    except Unreadable as error:
        return unreadable(path, str(error))
    except OSError as error:
        return unreadable(path, f"could not be read: {error.strerror or error}")
    return over_limit(path, digest, size, max_bytes)


def over_limit(path: str, digest: str, size: int, max_bytes: int) -> Extracted:
    """What `extract` says of a file of `size` bytes over `max_bytes` (tests check it is the same)."""
    kind = file_kind(path)
    if kind == OTHER:  # unsupported whatever its size
        return replace(extract(path, b"", max_bytes), content_sha256=digest, size_bytes=size)
    message = f"the file has {size:,} bytes, over the limit of {max_bytes:,}; raise --max-file-bytes to accept it"
    return rejected(Rejected("too_large", message), path=path, kind=kind, content_sha256=digest, size_bytes=size)


def read_batch(root: Path, paths: list[str], max_bytes: int = DEFAULTS.max_file_bytes) -> list[Extracted]:
    real_root = os.path.realpath(root)  # once a batch: the root may be a link, retargeted between runs
    return [read_file(root, path, max_bytes, real_root) for path in paths]


def read_folder(root: Path, max_bytes: int = DEFAULTS.max_file_bytes) -> list[Extracted]:
    """Every file under `root`, read as a build reads it: the input of the pure reference
    pipeline (`transforms.pipeline.tables_of`) for a folder, in notebooks and tests."""
    return read_batch(root, walk(root).column("source_path").to_pylist(), max_bytes)
