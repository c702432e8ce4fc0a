"""Durable writes: what a rename publishes has reached the disk first, and so has the rename.

A rename is atomic, but only for the names: after a power cut the new name can point at a file
whose bytes never left the page cache. So every writer of the output folder goes through here:

- `synced_file`: write a file and fsync it (a file of a folder published by `publish_folder`);
- `durable_file`: write a file under a temporary name beside it, fsync it, rename it into
  place and fsync the folder;
- `publish_folder`: fsync a folder whose files were written by `synced_file`, rename it into
  place and fsync its new parent;
- `replace_link`: point a symbolic link elsewhere in one rename, and fsync its folder.

Each takes the names of its kill points (see pipelines.killpoints): before and after the rename.
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from newsfm.pipelines.killpoints import checkpoint


def fsync_path(path: Path) -> None:
    """fsync a file or a folder by its path (a folder's fsync makes its entries durable)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def synced_file(path: Path, mode: str = "wb") -> Iterator[IO]:
    """Open `path` for writing; once the block ends its bytes are on disk."""
    with open(path, mode) as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def temporary_name(path: Path) -> Path:
    """A hidden name beside `path` for writing it (readers and discovery skip hidden names)."""
    return path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")


def leftover_temporaries(path: Path) -> list[Path]:
    """The `temporary_name`s of `path` that a killed run left behind."""
    return list(path.parent.glob(f".{path.name}.tmp-*"))


@contextmanager
def durable_file(path: Path, written: str, placed: str, mode: str = "wb") -> Iterator[IO]:
    """Write `path` so that a reader, or a machine coming back from a power cut, finds either
    the old file or the whole new one. A write that fails leaves no temporary file behind."""
    temporary = temporary_name(path)
    try:
        with synced_file(temporary, mode) as handle:
            yield handle
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    move_into_place(temporary, path, written, placed)


def link_or_copy(source: Path, target: Path) -> None:
    """`target`, a hard link to `source` (a file already on disk), or an fsynced copy where the
    file system has no hard links (its folder is for the caller to fsync)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
        fsync_path(target)


def publish_folder(temporary: Path, final: Path, written: str, placed: str) -> None:
    """Rename a folder written in full (its files by `synced_file`) into place, durably."""
    fsync_path(temporary)
    move_into_place(temporary, final, written, placed)


def replace_link(link: Path, target: Path, written: str, placed: str) -> None:
    """Make the symbolic link `link` point to `target` in one atomic rename, durably."""
    temporary = temporary_name(link)
    os.symlink(target, temporary)
    move_into_place(temporary, link, written, placed)


def move_into_place(temporary: Path, final: Path, written: str, placed: str) -> None:
    """The rename that publishes `temporary` as `final`, then the fsync of its folder that makes
    the rename itself durable. A file or link a failed rename leaves is removed; a folder is
    left to the next run's clean-up."""
    checkpoint(written)
    try:
        os.replace(temporary, final)
    except BaseException:
        if temporary.is_symlink() or not temporary.is_dir():
            temporary.unlink(missing_ok=True)
        raise
    fsync_path(final.parent)
    checkpoint(placed)
