"""Find the input files under a root and read them in batches."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Iterator

from transforms.extract import Extracted, extract, unreadable
from transforms.frontmatter import DEFAULT_MAX_BYTES

DEFAULT_BATCH_SIZE = 2000  # files per task run and per part: about 30 MB of rows in a worker


def walk(root: Path) -> list[tuple[str, int | None, int | None]]:
    """(relative POSIX path, size, mtime_ns) of every file under `root`, sorted by path.

    Hidden files and folders (`.git`, `.DS_Store`) are skipped; linked folders are not
    descended into, so the walk stays inside `root` and always ends. Sizes and times follow
    links to files; they are None where a file cannot be stat-ed (parsing then says why).
    Folders that cannot be listed are skipped, as `os.walk` does.
    """
    found = []
    folders = [(str(root), "")]
    while folders:
        folder, prefix = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    if not entry.is_symlink():
                        folders.append((entry.path, f"{prefix}{entry.name}/"))
                    continue
                info = entry.stat()
                found.append((prefix + entry.name, info.st_size, info.st_mtime_ns))
            except OSError:
                found.append((prefix + entry.name, None, None))
    return sorted(found)


def discover(root: Path) -> list[str]:
    """The relative paths of the files `walk` finds."""
    return [path for path, _size, _mtime_ns in walk(root)]


def batches(paths: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(paths), size):
        yield paths[start : start + size]


class Unreadable(Exception):
    """Why a file is not read; the message is for the sources ledger."""


def read_bytes(root: Path, path: str) -> bytes:
    """A file's bytes, without following links out of `root` or blocking on a FIFO; or Unreadable."""
    full = root / path
    try:
        if full.is_symlink() and not full.resolve().is_relative_to(root.resolve()):
            raise Unreadable("a symbolic link to a file outside the input folder; it is not followed")
        descriptor = os.open(full, os.O_RDONLY | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise Unreadable("not a regular file (a FIFO, socket or device); it is not read")
            with os.fdopen(descriptor, "rb", closefd=False) as handle:
                return handle.read()
        finally:
            os.close(descriptor)
    except OSError as error:
        raise Unreadable(f"could not be read: {error.strerror or error}") from None


def content_hash(root: Path, path: str) -> str | None:
    """SHA-256 of a file's bytes, as the sources ledger records it; None when it cannot be read."""
    try:
        return hashlib.sha256(read_bytes(root, path)).hexdigest()
    except Unreadable:
        return None


def read_file(root: Path, path: str, max_bytes: int) -> Extracted:
    try:
        return extract(path, read_bytes(root, path), max_bytes)
    except Unreadable as error:
        return unreadable(path, str(error))


def read_batch(root: Path, paths: list[str], max_bytes: int = DEFAULT_MAX_BYTES) -> list[Extracted]:
    return [read_file(root, path, max_bytes) for path in paths]
