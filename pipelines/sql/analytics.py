"""Every analytics table as a DuckDB SELECT: the out-of-core twin of `transforms.analytics`.

The connection must hold views or tables named like the six warehouse tables it reads
(`articles`, `related`, `topics`, `article_topics`, `providers`, `images`) with the warehouse
schemas of `transforms.schema`, and run with `SET TimeZone='UTC'`. Each statement returns the
columns of its table in schema order, with types pyarrow casts losslessly to the table's
schema, sorted by the table's order, so the caller can stream it into Parquet. A table comes as
one statement or, where its rows are sorted a range of keys at a time, as several whose rows
follow one another in order:

    for name, statements in analytics_queries(con, prior_weight=10.0, min_scored=3):
        for batch in statement_batches(con, statements, 65536):  # pipelines.sql.common
            ...

Only the small dimension table `topics` (for the taxonomy's ancestors) and the story graph (as
integer node numbers, for its connected components) are read into Python. The generator creates
TEMP tables (named `analytics_*`) just before the statements that read them and drops them once
those statements are past: run each statement before asking for the next one. DuckDB keeps a
CTE that a statement reads twice in memory whole, so the statements read large relations once,
or from those TEMP tables, whose blocks can go to the connection's temp_directory.

The analytics of a change (`since=True`) also read the published snapshot's tables and what
the change touches (`pipelines.sql.changed`), and keep the published rows of every group the
change leaves alone: `docs/operations.md` lists, table by table, what is made again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from newsfm.pipelines.sql import providers, stories, topics
from newsfm.transforms.settings import DEFAULTS

if TYPE_CHECKING:
    import duckdb


def analytics_queries(
    con: duckdb.DuckDBPyConnection,
    prior_weight: float = DEFAULTS.prior_weight,
    min_scored: int = DEFAULTS.min_scored,
    since: bool = False,
    sums_into: Path | None = None,
) -> Iterator[tuple[str, str]]:
    """Yields (analytics table name, its SELECT statements) for all 9 tables, in
    transforms.schema.TABLES order.

    With `since`, the connection also holds the published snapshot's tables and what the
    change touches (`pipelines.sql.changed`) and the published topic sums (`topics.PREVIOUS_SUMS`),
    and the provider, topic and story tables are made again only for the groups it touches.
    `sums_into`: the Parquet file to keep this snapshot's topic sums in, for the next change.
    """
    providers.create_tables(con, since)
    yield "provider_quality", [providers.provider_quality(prior_weight, min_scored, since)]
    yield "provider_quality_monthly", [providers.provider_quality_monthly(since)]
    providers.drop_tables(con)
    topics.create_tables(con, since, sums_into)
    yield "topic_coverage", [topics.topic_coverage()]
    yield "topic_coverage_daily", [topics.topic_coverage_daily(since)]
    yield "topic_provider", [topics.topic_provider()]
    yield "topic_cooccurrence", [topics.topic_cooccurrence(since)]
    topics.drop_tables(con)
    stories.create_tables(con, since)
    ranges = stories.story_ranges(con)
    yield "stories", stories.stories(ranges, since)
    yield "story_members", stories.story_members(ranges)
    yield "provider_timeliness", [stories.provider_timeliness(since)]
    stories.drop_tables(con)

