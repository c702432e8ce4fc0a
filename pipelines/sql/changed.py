"""What a change reaches: the articles whose analytics inputs differ from the published
snapshot's, and the providers they reach, so the analytics of a small change compute again only
the groups it touches (`analytics_queries(..., since=True)`) and keep the published rows of
every other group.

The connection holds the warehouse being built under the tables' own names and the published
snapshot's warehouse and analytics under `PREVIOUS` + name (`with_previous`). Every row an
analytics table reads belongs to one article: an `articles` row, the `related` and
`article_topics` rows of its article, an image of an article (owner_id its id) or of a related
row (`<article_id>:<position>`). So the article ids of the rows that differ (`TOUCHED`) say
which groups can have changed: the providers of those articles' rows before and after
(`PROVIDERS`), the stories holding them or their related items (`pipelines.sql.stories`). A
change to the taxonomy (`topics`) reaches every topic: the caller computes everything then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from newsfm.pipelines.sql.common import PREFIX
from newsfm.transforms.schema import TABLES

if TYPE_CHECKING:
    import duckdb

PREVIOUS = "previous_"
TOUCHED = PREFIX + "touched"  # article_id: every article with a row that differs, distinct
PROVIDERS = PREFIX + "touched_providers"  # provider_domain: the providers those rows name, distinct

# The article an analytics input row belongs to, and the rows of each table that the analytics read.
ARTICLE_OF = {
    "articles": ("article_id", "TRUE"),
    "related": ("article_id", "TRUE"),
    "article_topics": ("article_id", "TRUE"),
    "images": ("split_part(owner_id, ':', 1)", "owner_type IN ('article', 'related')"),
}


def differing_rows(new: str, old: str, columns: str) -> str:
    """The rows of `new` not in `old` and of `old` not in `new` (as many times as they differ),
    over `columns`."""
    return (f"(SELECT {columns} FROM {new} EXCEPT ALL SELECT {columns} FROM {old}) UNION ALL "
            f"(SELECT {columns} FROM {old} EXCEPT ALL SELECT {columns} FROM {new})")


def create_touched(con: duckdb.DuckDBPyConnection, pairs: dict[str, tuple[str, str]],
                   columns: dict[str, list[str]]) -> None:
    """TEMP tables `TOUCHED` and `PROVIDERS` from `pairs`, table name → (new relation, old
    relation) holding the rows that may differ (of `ARTICLE_OF`'s tables: the files not linked
    from the published snapshot, or whole tables), compared over `columns` (all when absent).

    Rows are compared as (article, 64-bit hash of the row), counted +1 in `new` and -1 in
    `old`: an article is touched when some such pair does not sum to 0. One aggregation of two
    small columns a table at a time, so nothing holds the rows themselves; two versions of an
    article's row that differ are told apart unless their hashes collide (about 1 in 2^64).
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TOUCHED} (article_id VARCHAR)")
    for name, (new, old) in pairs.items():
        article, rows = ARTICLE_OF[name]
        hashed = f"{article} AS article_id, hash({', '.join(columns.get(name, TABLES[name].columns))}) AS row_hash"
        con.execute(f"""INSERT INTO {TOUCHED} SELECT DISTINCT article_id FROM (
            SELECT article_id, row_hash FROM (
                SELECT {hashed}, 1 AS side FROM {new} WHERE {rows}
                UNION ALL SELECT {hashed}, -1 FROM {old} WHERE {rows})
            GROUP BY article_id, row_hash HAVING sum(side) <> 0)""")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TOUCHED} AS SELECT DISTINCT article_id FROM {TOUCHED}")
    named = [touched_rows(name, "provider_domain") for name in ("articles", "related")]
    renamed = f"SELECT provider_domain FROM ({differing_rows('providers', PREVIOUS + 'providers', '*')})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {PROVIDERS} AS SELECT DISTINCT provider_domain FROM ("
                f"{' UNION ALL '.join([*named, renamed])}) WHERE provider_domain IS NOT NULL")


def touched_rows(table: str, columns: str) -> str:
    """`columns` of the touched articles' rows of `table`, before (the published snapshot's) and after."""
    return " UNION ALL ".join(f"SELECT {columns} FROM {prefix}{table} WHERE article_id IN (SELECT article_id FROM {TOUCHED})"
                              for prefix in ("", PREVIOUS))


def published_rows(table: str, where: str) -> str:
    """A UNION ALL of the published rows of analytics table `table` that meet `where` (those of the
    groups a change leaves alone), to follow the statement of the groups made again."""
    return f"""
            UNION ALL
            SELECT * FROM {PREVIOUS}{table} WHERE {where}"""


def drop_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in (TOUCHED, PROVIDERS):
        con.execute(f"DROP TABLE IF EXISTS {name}")


def in_touched_providers(column: str) -> str:
    """A condition: `column` names a provider the change touches."""
    return f"{column} IN (SELECT provider_domain FROM {PROVIDERS})"
