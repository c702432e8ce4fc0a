"""CPU-bound parsing in worker processes that do not start Prefect.

Prefect's ProcessPoolTaskRunner runs each task run in a worker with its own Prefect client;
on the embedded ephemeral API every worker then starts a temporary server of its own (about
8 s each, measured). Instead, batch task runs stay on Prefect's thread pool and hand their
files to a plain process pool whose workers import only the parser.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from newsfm.pipelines import killpoints
from newsfm.pipelines.discover import read_batch
from newsfm.pipelines.parts import write_part
from newsfm.transforms.normalize import normalize_batch

_pool: list[Executor] = []
Result = TypeVar("Result")


def parse_files(raw_dir: Path, paths: list[str], max_file_bytes: int, out_dir: Path) -> str:
    """Read and normalize one batch of files and write it as a part of `out_dir`; returns its id.

    Only the id travels back: the rows go through the disk as Arrow, never through pickling.
    """
    return write_part(out_dir, normalize_batch(read_batch(raw_dir, paths, max_file_bytes)).parts())


def fork_server() -> multiprocessing.context.BaseContext:
    """The fork server's context: its children start with the parser imported, nothing of Prefect."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["newsfm.pipelines.parallel"])
    return context


def start_fork_server() -> None:
    """Start the fork server now rather than at the first batch: it imports the parser (about
    0.5 s), which the CLI has it do while Prefect's API is still coming up."""
    fork_server()
    multiprocessing.forkserver.ensure_running()


def in_own_process(function: Callable[..., Result], *args, workers: int) -> Result:
    """`function(*args)` run in a new process from the fork server; returns its result (with
    one worker, in this process, as parsing is).

    Combine and analytics run so: their memory is given back whole when the process ends, and
    it is not added to the flow process' own (Prefect, the per-file bookkeeping).
    """
    if workers <= 1:
        return function(*args)
    with ProcessPoolExecutor(max_workers=1, mp_context=fork_server()) as pool:
        result, passed = pool.submit(counted, function, killpoints.passed(), os.getpid(), *args).result()
    killpoints.resume(passed)
    return result


def counted(function: Callable[..., Result], passed: int, run_pid: int, *args) -> tuple[Result, int]:
    killpoints.resume(passed, run_pid)
    return function(*args), killpoints.passed()


@contextmanager
def worker_pool(workers: int) -> Iterator[None]:
    """While open, `parse_in_pool` runs in `workers` processes (1: in the calling process).

    The workers come from a fork server that has imported the parser once, so they start
    fast and inherit none of Prefect's threads.
    """
    if workers <= 1:
        yield
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=fork_server()) as pool:
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
