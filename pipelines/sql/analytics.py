"""Every analytics table as a DuckDB SELECT: the out-of-core twin of `transforms.analytics`.

The connection must hold views or tables named like the seven warehouse tables (`sources`,
`articles`, `related`, `topics`, `article_topics`, `providers`, `images`) with the warehouse
schemas of `transforms.schema`, and run with `SET TimeZone='UTC'`. Each statement returns the
columns of its table in schema order, with types pyarrow casts losslessly to the table's
schema, sorted by the table's order, so the caller can stream it into Parquet:

    for name, sql in analytics_queries(con, prior_weight=10.0, min_scored=3):
        reader = con.execute(sql).fetch_record_batch(65536)
        ...

Only the small dimension tables (`topics`, for the taxonomy's ancestors) and the story graph
(as integer node numbers, for its connected components) are read into Python; the generator
creates TEMP tables for them (named `analytics_*`) just before the statements that need them,
so each statement must be run before the next one is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pipelines.sql import providers, stories, topics
from transforms.settings import DEFAULTS

if TYPE_CHECKING:
    import duckdb


def analytics_queries(
    con: duckdb.DuckDBPyConnection,
    prior_weight: float = DEFAULTS.prior_weight,
    min_scored: int = DEFAULTS.min_scored,
) -> Iterator[tuple[str, str]]:
    """Yields (analytics table name, SELECT statement) for all 9 tables, in transforms.schema.TABLES order."""
    yield "provider_quality", providers.provider_quality(prior_weight, min_scored)
    yield "provider_quality_monthly", providers.provider_quality_monthly()
    topics.create_ancestors(con)
    yield "topic_coverage", topics.topic_coverage()
    yield "topic_coverage_daily", topics.topic_coverage_daily()
    yield "topic_provider", topics.topic_provider()
    yield "topic_cooccurrence", topics.topic_cooccurrence()
    stories.create_members(con)
    yield "stories", stories.stories()
    yield "story_members", stories.story_members()
    yield "provider_timeliness", stories.provider_timeliness()

