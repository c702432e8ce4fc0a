"""Running the build flow, as `newsfm build` and `newsfm.build()` do.

The folders are checked before Prefect is imported, so a wrong path fails at once; without a
Prefect server configured, the temporary API starts first and comes up on the other core while
Prefect, the flows and the parser's fork server are imported and started, and a head start
(`pipelines.head_start`) parses the build's first batches.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import replace
from os import PathLike
from pathlib import Path
from typing import Callable

from newsfm.pipelines.discover import InputError
from newsfm.pipelines.prefect_api import TemporaryApi
from newsfm.pipelines.store import prepare_output, wait_until_unlocked
from newsfm.transforms.settings import Settings

_python_api: list[TemporaryApi] = []  # the temporary API of `newsfm.build` calls, one per process


def check_folders(raw_dir: Path, out_dir: Path) -> None:
    """InputError unless the input folder exists; OutputError unless the output folder can be written."""
    if not raw_dir.is_dir():
        raise InputError(f"input folder {raw_dir} does not exist or is not a folder")
    prepare_output(out_dir)


def quiet_prefect(verbose: bool) -> None:
    """Prefect's INFO lines would bury the progress bar and the summary; `verbose` shows them."""
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def run_build(raw_dir: Path, out_dir: Path, settings: Settings, api: TemporaryApi, full_refresh: bool = False,
              dask_address: str | None = None, progress: Callable[[int, int], None] | None = None) -> dict:
    """The build flow's run summary, the flow run against `api`, once `check_folders` passed
    (before `api` was started). A folder another run keeps locked past `settings.lock_timeout`,
    or segments asked for beyond the files this process may hold open, raise OutputError before
    Prefect starts."""
    from newsfm.pipelines.combine import check_segments

    check_segments(settings.segments)
    settings = replace(settings, lock_timeout=wait_until_unlocked(out_dir, settings.lock_timeout))
    if dask_address:
        settings = replace(settings, workers=1)  # the cluster parses
    from newsfm.pipelines import head_start
    from newsfm.pipelines.parallel import start_fork_server

    if settings.worker_count > 1:
        start_fork_server()  # while the API comes up
    with head_start.while_api_starts(raw_dir, out_dir, settings, full_refresh, api.coming_up()):
        from newsfm.pipelines.flows import build_warehouse, on_dask, reporting_progress  # imports Prefect

        flow = on_dask(build_warehouse, dask_address) if dask_address else build_warehouse
        with api.settings(), reporting_progress(progress) if progress else nullcontext():
            return flow(str(raw_dir), str(out_dir), settings, full_refresh)


def build_from_python(raw_dir: str | PathLike, out_dir: str | PathLike, full_refresh: bool = False,
                      dask_address: str | None = None, verbose: bool = False, **options) -> dict:
    """`newsfm.build`: `run_build` with the settings given by name, against a temporary API that
    serves every build of this process (a notebook builds again and again), or the server configured."""
    raw, out, settings = Path(raw_dir), Path(out_dir), Settings(**options)
    check_folders(raw, out)
    quiet_prefect(verbose)
    if not _python_api or _python_api[0].died:
        _python_api[:] = [TemporaryApi()]
    return run_build(raw, out, settings, _python_api[0], full_refresh, dask_address)
