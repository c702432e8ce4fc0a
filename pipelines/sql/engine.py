"""DuckDB as the analytics engine of a build: one connection over a snapshot's warehouse
tables, within a memory limit, spilling into OUT/state/spill, its results streamed into the
snapshot's analytics tables.

DuckDB's hash aggregates, joins and window functions spill to disk when they pass
`memory_limit`, so the analytics of any number of articles run in the same memory. Its
sort of wide rows did not (DuckDB 2.0.1: `ORDER BY` over the articles table failed at
200–300 MB), which is why combine scatters key ranges itself (`pipelines.combine`).
"""

from __future__ import annotations

import shutil
from contextlib import closing
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from newsfm.pipelines.layout import Layout, table_folder, table_glob, topic_sums
from newsfm.pipelines.spill import fresh_folder
from newsfm.pipelines.sql.analytics import analytics_queries
from newsfm.pipelines.sql.changed import ARTICLE_OF, PREVIOUS, create_touched
from newsfm.pipelines.sql.common import sql_text, statement_batches
from newsfm.pipelines.sql.topics import PREVIOUS_SUMS
from newsfm.pipelines.store import SnapshotWriter
from newsfm.transforms.analytics import INPUT_COLUMNS
from newsfm.transforms.schema import TABLES, check_nulls
from newsfm.transforms.settings import Settings

BATCH_ROWS = 65_536
ANALYTICS_READS = ("articles", "related", "topics", "article_topics", "providers", "images")  # not `sources`


def analyse_into(out: Path, snapshot: SnapshotWriter, settings: Settings, previous: Path | None = None,
                 unequal: dict[str, list[str]] | None = None) -> dict[str, int]:
    """Compute the analytics tables over the snapshot's warehouse within `settings.memory_mb` and
    write them into it (as the flow runs it, in a process of its own); returns the rows written.

    `previous`: a published snapshot whose analytics were made with these settings and code,
    and `unequal` the files whose analytics inputs differ from its (`unequal_files`); the groups
    the change leaves alone keep its rows (`with_previous`)."""
    sums_into = topic_sums(snapshot.staging)
    sums_into.parent.mkdir(exist_ok=True)
    with closing(connect(Layout(out).spill, settings.memory_mb, settings.worker_count)) as con:
        with_warehouse(con, snapshot.staging)
        since = previous is not None and unequal is not None and with_previous(con, snapshot.staging, previous, unequal)
        for name, statements in analytics_queries(con, **settings.analytics, since=since, sums_into=sums_into):
            with snapshot.writing("analytics", name) as writer:
                for piece in typed_batches(con, name, statements):
                    writer.write(piece)
    shutil.rmtree(Layout(out).spill, ignore_errors=True)
    return snapshot.rows


def unequal_files(snapshot: Path, published: Path) -> dict[str, list[str]] | None:
    """For each table the analytics read, the names of its files in `snapshot` (a snapshot
    being written) whose rows the analytics read (`INPUT_COLUMNS`, whole tables elsewhere)
    differ from those of the file of that name in `published`; None when the two hold other
    file names. A file linked from `published` is equal without being read, so a build that
    combined a few segments compares only those, a file at a time. Nothing differs: the
    analytics are those of `published`."""
    unequal = {}
    for name in ANALYTICS_READS:
        new, old = (table_folder(root, "warehouse", name) for root in (snapshot, published))
        files = {file.name for file in new.glob("*.parquet")}
        if files != {file.name for file in old.glob("*.parquet")}:
            return None
        columns = INPUT_COLUMNS.get(name)
        unequal[name] = [file_name for file_name in sorted(files)
                         if (new / file_name).stat().st_ino != (old / file_name).stat().st_ino
                         and not pq.read_table(new / file_name, columns=columns).equals(
                             pq.read_table(old / file_name, columns=columns))]
    return unequal


def with_previous(con: duckdb.DuckDBPyConnection, snapshot: Path, published: Path, unequal: dict[str, list[str]]
                  ) -> bool:
    """Give `con` what the analytics of a change need (`pipelines.sql.changed`): views of the
    `published` snapshot's tables and the articles whose rows differ in `snapshot`, read from
    the `unequal` files only. False when the change reaches every group (another taxonomy), or
    when `published` kept no topic sums (made by a newsfm before them)."""
    sums = topic_sums(published)
    if unequal["topics"] or not sums.is_file():
        return False
    with_views(con, published, ("warehouse", "analytics"), PREVIOUS)
    con.execute(f"CREATE OR REPLACE VIEW {PREVIOUS_SUMS} AS SELECT * FROM read_parquet('{sql_text(sums)}')")
    pairs = {}
    for name, names in unequal.items():
        if name in ARTICLE_OF and names:
            new, old = ([table_folder(root, "warehouse", name) / file_name for file_name in names]
                        for root in (snapshot, published))
            pairs[name] = (f"read_parquet({sql_list(new)})", f"read_parquet({sql_list(old)})")
    create_touched(con, pairs, INPUT_COLUMNS)
    return True


def connect(spill: Path, memory_mb: int, threads: int) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that uses at most about `memory_mb` MB and spills into `spill`."""
    con = duckdb.connect(config={
        "memory_limit": f"{memory_mb}MB", "temp_directory": str(fresh_folder(spill)), "threads": threads,
        "preserve_insertion_order": False,
    })
    con.execute("SET TimeZone='UTC'")  # not in the config: the time zone extension loads after connecting
    return con


def with_warehouse(con: duckdb.DuckDBPyConnection, snapshot: Path) -> duckdb.DuckDBPyConnection:
    """`con` with a view of each warehouse table of the snapshot folder `snapshot`."""
    return with_views(con, snapshot, ("warehouse",))


def with_views(con: duckdb.DuckDBPyConnection, snapshot: Path, layers: tuple[str, ...], prefix: str = ""
               ) -> duckdb.DuckDBPyConnection:
    """`con` with a view `prefix` + name of each table of `layers` in the snapshot folder `snapshot`."""
    for name, spec in TABLES.items():
        if spec.layer in layers:
            path = table_glob(snapshot, spec.layer, name)
            con.execute(f"CREATE OR REPLACE VIEW {prefix}{name} AS SELECT * FROM read_parquet('{sql_text(path)}')")
    return con


def sql_list(paths: list[Path]) -> str:
    """A DuckDB list literal of the paths."""
    return "[" + ", ".join(f"'{sql_text(path)}'" for path in paths) + "]"


def typed_batches(con: duckdb.DuckDBPyConnection, name: str, statements: list[str]) -> Iterator[pa.Table]:
    """The rows of `statements` as pieces typed by table `name`'s schema (its not-null columns checked)."""
    spec = TABLES[name]
    for batch in statement_batches(con, statements, BATCH_ROWS):
        piece = pa.Table.from_batches([batch]).cast(spec.schema)
        check_nulls(spec, {column: piece.column(column).null_count for column in spec.columns})
        yield piece
