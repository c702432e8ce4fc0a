"""Find the input files under a root and read them in batches."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator

from transforms.extract import Extracted, extract, unreadable
from transforms.frontmatter import DEFAULT_MAX_BYTES

DEFAULT_BATCH_SIZE = 2000  # files per task run and per part: about 30 MB of rows in a worker


def discover(root: Path) -> list[str]:
    """Relative POSIX paths of every file under `root`, sorted.

    Hidden files and folders (`.git`, `.DS_Store`) are skipped; linked folders are not
    descended into, so the walk stays inside `root` and always ends.
    """
    found = []
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        relative = Path(folder).relative_to(root)
        found.extend((relative / name).as_posix() for name in filenames if not name.startswith("."))
    return sorted(found)


def batches(paths: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(paths), size):
        yield paths[start : start + size]


def read_file(root: Path, path: str, max_bytes: int) -> Extracted:
    """Read one file without following links out of `root` or blocking on a FIFO."""
    full = root / path
    try:
        if full.is_symlink() and not full.resolve().is_relative_to(root.resolve()):
            return unreadable(path, "a symbolic link to a file outside the input folder; it is not followed")
        descriptor = os.open(full, os.O_RDONLY | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                return unreadable(path, "not a regular file (a FIFO, socket or device); it is not read")
            with os.fdopen(descriptor, "rb", closefd=False) as handle:
                data = handle.read()
        finally:
            os.close(descriptor)
    except OSError as error:
        return unreadable(path, f"could not be read: {error.strerror or error}")
    return extract(path, data, max_bytes)


def read_batch(root: Path, paths: list[str], max_bytes: int = DEFAULT_MAX_BYTES) -> list[Extracted]:
    return [read_file(root, path, max_bytes) for path in paths]
