"""The pure reference pipeline: files → all seventeen tables, in memory, with no Prefect, parts or disk.

It runs the same steps as a build (extract, normalize, combine, analytics), in one batch.
Every faster, incremental, distributed or out-of-core path is tested against it, and a notebook
can call it directly:

    from newsfm.transforms.pipeline import build_tables
    tables = build_tables([("a.md", open("a.md", "rb").read())])
    tables["articles"]
"""

from __future__ import annotations

from typing import Iterable, Sequence

import pandas as pd
import pyarrow as pa

from newsfm.transforms.analytics import analytics_tables
from newsfm.transforms.combine import combine_parts
from newsfm.transforms.extract import Extracted, extract
from newsfm.transforms.normalize import PART_SCHEMAS, Batch, normalize_batch
from newsfm.transforms.schema import TABLES, to_frame
from newsfm.transforms.settings import DEFAULTS, Settings


def build_tables(files: Iterable[tuple[str, bytes]], settings: Settings = DEFAULTS) -> dict[str, pd.DataFrame]:
    """(path relative to the input folder, bytes) pairs → every table, keyed by name."""
    return tables_of([extract(path, data, settings.max_file_bytes) for path, data in files], settings)


def tables_of(files: Iterable[Extracted], settings: Settings = DEFAULTS) -> dict[str, pd.DataFrame]:
    """Files already extracted (as `pipelines.discover.read_folder` reads a folder, its
    unreadable files included) → every table, keyed by name."""
    warehouse = warehouse_frames([normalize_batch(files)])
    return {**warehouse, **analytics_tables(warehouse, **settings.analytics)}


def warehouse_frames(batches: Iterable[Batch]) -> dict[str, pd.DataFrame]:
    """Batches in memory → the warehouse frames, keyed by table name."""
    parts = [batch.parts() for batch in batches]
    merged = {name: pa.concat_tables([p[name] for p in parts] or [schema.empty_table()])
              for name, schema in PART_SCHEMAS.items()}

    def load(name: str, columns: Sequence[str] | None = None) -> pa.Table:
        return merged[name].select(list(columns)) if columns else merged[name]

    tables = dict(combine_parts(load))
    return {name: to_frame(tables[name]) for name, spec in TABLES.items() if spec.layer == "warehouse"}
