"""CPU-bound parsing in worker processes that do not start Prefect.

Prefect's ProcessPoolTaskRunner runs each task run in a worker with its own Prefect client;
on the embedded ephemeral API every worker then starts a temporary server of its own (about
8 s each, measured). Instead, batch task runs stay on Prefect's thread pool and hand their
files to a plain process pool whose workers import only the parser.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pipelines.discover import read_batch
from pipelines.parts import write_part
from transforms.normalize import normalize_batch

_pool: list[Executor] = []


def parse_files(raw_dir: Path, paths: list[str], max_file_bytes: int, out_dir: Path) -> str:
    """Read and normalize one batch of files and write it as a part of `out_dir`; returns its id.

    Only the id travels back: the rows go through the disk as Arrow, never through pickling.
    """
    return write_part(out_dir, normalize_batch(read_batch(raw_dir, paths, max_file_bytes)).parts())


@contextmanager
def worker_pool(workers: int) -> Iterator[None]:
    """While open, `parse_in_pool` runs in `workers` processes (1: in the calling process).

    The workers come from a fork server that has imported the parser once, so they start
    fast and inherit none of Prefect's threads.
    """
    if workers <= 1:
        yield
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipelines.parallel"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        _pool.append(pool)
        try:
            yield
        finally:
            _pool.remove(pool)


def parse_in_pool(raw_dir: Path, paths: list[str], max_file_bytes: int, out_dir: Path) -> str:
    """parse_files in a worker process when a pool is open, else here."""
    if not _pool:
        return parse_files(raw_dir, paths, max_file_bytes, out_dir)
    return _pool[-1].submit(parse_files, raw_dir, paths, max_file_bytes, out_dir).result()
