"""newsfm: folders of news items (Markdown with YAML front matter) → a relational Parquet
warehouse and analytics tables, built by a Prefect flow.

    import newsfm

    summary = newsfm.build("data/raw", "data/out")   # the flow `newsfm build` runs
    with newsfm.open("data/out") as snap:             # one published snapshot, pinned while open
        articles = snap.table("articles")             # typed pandas
        snap.duckdb().sql("select * from related join providers using (provider_domain)")

The rest of the package: `newsfm.transforms` (pure functions: text in, records and tables
out), `newsfm.pipelines` (discovery, state, snapshots, the Prefect flows and the CLI) and
`newsfm.synthetic` (the corpus generator).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from os import PathLike
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsfm.pipelines.reader import Snapshot

try:
    __version__ = version("newsfm")
except PackageNotFoundError:  # the sources on sys.path, not installed
    __version__ = "0+unknown"

__all__ = ["Snapshot", "__version__", "build", "open"]


def open(out_dir: str | PathLike) -> Snapshot:  # noqa: A001 - newsfm.open, as the docs teach it
    """The snapshot published in `out_dir` now, pinned until `close()` (or the end of a `with`
    block, or of the process): builds that publish meanwhile do not remove it."""
    from newsfm.pipelines.reader import Snapshot

    return Snapshot(out_dir)


def build(raw_dir: str | PathLike = "data/raw", out_dir: str | PathLike = "data/out", **options: Any) -> dict:
    """Run the build flow (`newsfm build RAW_DIR OUT_DIR`) and return its run summary.

    `options` are the build's settings (`batch_size`, `max_file_bytes`, `workers`, `memory_mb`,
    `prior_weight`, `min_scored`, `lock_timeout`), `full_refresh`, `dask_address` and `verbose`.
    Without a Prefect server configured, one temporary API serves every build of the process.
    """
    from newsfm.pipelines.runner import build_from_python

    return build_from_python(raw_dir, out_dir, **options)


def __getattr__(name: str) -> Any:
    if name == "Snapshot":  # imported when asked for: `import newsfm` stays light
        from newsfm.pipelines.reader import Snapshot

        return Snapshot
    raise AttributeError(f"module 'newsfm' has no attribute {name!r}")
