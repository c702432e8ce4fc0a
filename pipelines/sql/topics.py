"""Topic coverage in SQL: the twin of `transforms.analytics.topics`.

Everything starts from `FILED` (a TEMP table): one row per distinct (topic, article) of
`article_topics` whose article is known, with the article's provider, quality, published_at and
number of related rows. The taxonomy rollup uses the same figures over distinct (ancestor,
article) pairs; the ancestor links come from the small `topics` table, walked in Python
(`ancestor_links`).

The per-topic figures (`topic_coverage`, `topic_provider`, the per-topic counts of
co-occurrence) come from `SUMS`: counts, sums and extremes per (scope, topic,
provider), scope `own` over `FILED` and `rollup` over its distinct (ancestor, article) pairs.
A build keeps them beside its snapshot's analytics (`sums_into`). With `since` (a change's
analytics, `pipelines.sql.changed`), `SUMS` is the published snapshot's (`PREVIOUS_SUMS`) with
the groups of the touched providers and of articles without a provider made again from their
articles only (`FILED` holds just those), since every article of any other provider is
untouched; the daily rows of the days the change touches are made again and the co-occurrence
counts moved by its articles' topic pairs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from newsfm.pipelines.durable import fsync_path
from newsfm.pipelines.sql.changed import PREVIOUS, PROVIDERS, TOUCHED, published_rows, touched_rows
from newsfm.pipelines.sql.common import PREFIX, create_from_arrow, sql_text

if TYPE_CHECKING:
    import duckdb

ANCESTORS = PREFIX + "topic_ancestors"

FILED = PREFIX + "topic_filed"
# topic_id, article_id, provider_domain, quality, published_at, n_related; and for the daily
# weights n_topics, the article's number of distinct topics, and first_topic, true on the row of
# its smallest topic
FILED_COLUMNS = "article_id, provider_domain, quality, published_at"  # the articles' columns FILED reads

# One row per distinct (topic, article) of a known article, with the article's attributes. A
# TEMP table rather than a CTE: every topic table reads it, some twice, and DuckDB keeps a CTE
# read twice in memory whole, where a table's blocks can go to the temp_directory. The
# per-article figures are windows, which DuckDB sorts out of core, where a count(DISTINCT) over
# a million groups fails under a 200 MB memory limit. With `since`, the windows are left out
# (only the daily figures read them, from `DAY_FILED`).
def filed_tables(name: str, windows: bool = True, related: bool = True, articles: str = "articles") -> list[str]:
    """The statements that make `FILED` (or a table `name` of its rows over the articles of the
    table `articles`: some of them, with at least FILED_COLUMNS), with or without the windows'
    columns and n_related.

    Over some articles, their topic links and related counts are TEMP tables of their own first
    (semi joins), dropped after: one statement holding both semi joins' hash tables and the
    join's ran out of a 160 MB limit at 1,000,000 files when most articles were chosen."""
    window_columns = """,
           count(*) OVER article AS n_topics,
           row_number() OVER (article ORDER BY l.topic_id) = 1 AS first_topic""" if windows else ""
    window = """
    WINDOW article AS (PARTITION BY l.article_id)""" if windows else ""
    links = "(SELECT DISTINCT topic_id, article_id FROM article_topics)"
    counts = "(SELECT article_id, count(*) AS n_related FROM related GROUP BY article_id)"
    gathered = {}  # TEMP table name → its statement
    if articles != "articles":
        links, counts = f"{name}_links", f"{name}_related"
        gathered[links] = f"""SELECT DISTINCT topic_id, article_id
                     FROM article_topics SEMI JOIN {articles} USING (article_id)"""
        if related:
            gathered[counts] = f"""SELECT article_id, count(*) AS n_related
                     FROM related SEMI JOIN {articles} USING (article_id) GROUP BY article_id"""
    related_counts = f"""
    LEFT JOIN {counts} AS r ON r.article_id = l.article_id""" if related else ""
    return [*(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}" for table, sql in gathered.items()), f"""
    CREATE OR REPLACE TEMP TABLE {name} AS
    SELECT l.topic_id, l.article_id, a.provider_domain, CAST(a.quality AS DOUBLE) AS quality, a.published_at,
           {"coalesce(r.n_related, 0)" if related else "0"} AS n_related{window_columns}
    FROM {links} AS l
    JOIN {articles} AS a ON a.article_id = l.article_id{related_counts}{window}""",
            *(f"DROP TABLE {table}" for table in gathered)]


# Per (scope, topic, provider): n, quality_sum, n_scored, n_related, first_published_at,
# last_published_at; scope 'own' (the topic's articles) or 'rollup' (its and its descendants').
SUMS = PREFIX + "topic_sums"
PREVIOUS_SUMS = PREVIOUS + "topic_sums"
SINCE_ARTICLES = PREFIX + "topic_since_articles"  # with `since`: the articles whose groups are made again


def sums(filed: str) -> str:
    """`SUMS`' rows of the articles of `filed` (a `FILED` table): one pass by (topic, provider)
    over its rows and one over its distinct (ancestor, article) pairs."""
    return f"""
        WITH rollup AS (
            SELECT DISTINCT x.ancestor_id AS topic_id, f.article_id, f.provider_domain, f.quality,
                   f.published_at, f.n_related
            FROM {filed} AS f JOIN {ANCESTORS} AS x ON x.topic_id = f.topic_id
        )
        SELECT 'own' AS scope, * FROM ({per_provider(filed)})
        UNION ALL
        SELECT 'rollup', * FROM ({per_provider("rollup")})"""


def per_provider(pairs: str) -> str:
    """Per (topic, provider) of `pairs` (distinct topic × article, with the article's attributes)."""
    return f"""
            SELECT topic_id, provider_domain,
                   count(*) AS n,
                   sum(quality) AS quality_sum,
                   count(quality) AS n_scored,
                   CAST(sum(n_related) AS BIGINT) AS n_related,
                   min(published_at) AS first_published_at,
                   max(published_at) AS last_published_at
            FROM {pairs} GROUP BY topic_id, provider_domain"""


# The published groups a change leaves alone: those of a provider it does not touch (an article
# without a provider is made again: PROVIDERS names none).
KEPT_SUMS = f"SELECT * FROM {PREVIOUS_SUMS} WHERE provider_domain NOT IN (SELECT provider_domain FROM {PROVIDERS})"
SINCE_SUMS = [
    f"""CREATE OR REPLACE TEMP TABLE {SINCE_ARTICLES} AS SELECT {FILED_COLUMNS} FROM articles
        WHERE provider_domain IS NULL OR provider_domain IN (SELECT provider_domain FROM {PROVIDERS})""",
    *filed_tables(FILED, windows=False, articles=SINCE_ARTICLES),
    f"CREATE OR REPLACE TEMP TABLE {SUMS} AS {KEPT_SUMS} UNION ALL SELECT * FROM ({sums(FILED)})",
]


# With `since` (`pipelines.sql.changed`): the UTC days of the touched articles, before and after
# (`DAYS`), whose daily rows are made again from their articles' rows (`DAY_FILED`, `FILED` with
# the windows), and each touched article's distinct topics before (-1) and after (+1)
# (`TOUCHED_TOPICS`), whose pairs move the co-occurrence counts.
DAYS = PREFIX + "topic_days"
DAY_ARTICLES = PREFIX + "topic_day_articles"
DAY_FILED = PREFIX + "topic_day_filed"
TOUCHED_TOPICS = PREFIX + "topic_touched"  # topic_id, article_id, side


def utc_day(column: str) -> str:
    return f"CAST({column} AT TIME ZONE 'UTC' AS DATE)"


def touched_topics(prefix: str, side: int) -> str:
    return f"""
        SELECT DISTINCT l.topic_id, l.article_id, {side} AS side
        FROM {prefix}article_topics AS l JOIN {prefix}articles AS a ON a.article_id = l.article_id
        WHERE l.article_id IN (SELECT article_id FROM {TOUCHED})"""


CHANGED_TOPICS = [
    f"""CREATE OR REPLACE TEMP TABLE {DAYS} AS SELECT DISTINCT {utc_day("published_at")} AS day
        FROM ({touched_rows("articles", "published_at")}) WHERE published_at IS NOT NULL""",
    f"""CREATE OR REPLACE TEMP TABLE {DAY_ARTICLES} AS SELECT {FILED_COLUMNS} FROM articles
        WHERE {utc_day("published_at")} IN (SELECT day FROM {DAYS})""",
    *filed_tables(DAY_FILED, related=False, articles=DAY_ARTICLES),
    f"""CREATE OR REPLACE TEMP TABLE {TOUCHED_TOPICS} AS
        {touched_topics("", 1)}
        UNION ALL
        {touched_topics(PREVIOUS, -1)}""",
]

N_TOTAL = "(SELECT count(*) FROM articles)"
PER_TOPIC = f"SELECT topic_id, CAST(sum(n) AS BIGINT) AS n FROM {SUMS} WHERE scope = 'own' GROUP BY topic_id"


def ancestor_links(parents: list[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """(topic_id, ancestor_id) for each topic and itself and every ancestor along its parent
    links, from (topic_id, parent_topic_id) pairs.

    A walk stops at a topic it has already met, so a cycle in the parent links ends and each
    topic of a cycle rolls up the whole cycle; a parent that is no topic is still an ancestor.
    """
    parent = {topic: up for topic, up in parents if up is not None}
    links = []
    for topic, _ in parents:
        seen, current = set(), topic
        while current is not None and current not in seen:
            seen.add(current)
            links.append((topic, current))
            current = parent.get(current)
    return links


def create_tables(con: duckdb.DuckDBPyConnection, since: bool = False, sums_into: Path | None = None) -> None:
    """The TEMP tables the topic statements read: `ANCESTORS`, `FILED` and `SUMS`, and with
    `since` those of `CHANGED_TOPICS` (`FILED` then holds the articles of the groups made
    again only). `sums_into`: a Parquet file to keep `SUMS` in, on disk, for the next change."""
    create_ancestors(con)
    if since:
        for step in [*CHANGED_TOPICS, *SINCE_SUMS]:
            con.execute(step)
    else:
        for step in [*filed_tables(FILED), f"CREATE OR REPLACE TEMP TABLE {SUMS} AS {sums(FILED)}"]:
            con.execute(step)
    if sums_into is not None:
        con.execute(f"COPY {SUMS} TO '{sql_text(sums_into)}' (FORMAT parquet, COMPRESSION zstd)")
        fsync_path(sums_into)
        fsync_path(sums_into.parent)


def drop_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in (FILED, ANCESTORS, DAYS, DAY_ARTICLES, DAY_FILED, TOUCHED_TOPICS, SUMS, SINCE_ARTICLES):
        con.execute(f"DROP TABLE IF EXISTS {name}")


def create_ancestors(con: duckdb.DuckDBPyConnection) -> None:
    """TEMP table `ANCESTORS` (topic_id, ancestor_id), from `topics` (a dimension: small)."""
    parents = con.execute("SELECT topic_id, parent_topic_id FROM topics").fetchall()
    links = ancestor_links(parents)
    table = pa.table(
        {"topic_id": [t for t, _ in links], "ancestor_id": [a for _, a in links]},
        schema=pa.schema([("topic_id", pa.string()), ("ancestor_id", pa.string())]),
    )
    create_from_arrow(con, ANCESTORS, table)


def figures(scope: str) -> str:
    """Per topic_id, from its `SUMS` rows of `scope`: counts, top provider (most articles, ties:
    the smallest domain), quality, dates.

    The mean is the sum of the sums over the sum of the counts, which is the plain mean
    exactly: qualities are integers, so every partial sum of their doubles is exact; and so are
    the figures of sums kept from an earlier build.
    """
    return f"""
        SELECT topic_id,
               sum(n) AS n_articles,
               count(provider_domain) AS n_providers,
               arg_min(provider_domain, {{'n': -n, 'provider_domain': provider_domain}}) AS top_provider_domain,
               sum(quality_sum) / nullif(sum(n_scored), 0) AS quality_mean,
               sum(n_related) AS n_related,
               min(first_published_at) AS first_published_at,
               max(last_published_at) AS last_published_at
        FROM {SUMS} WHERE scope = '{scope}' GROUP BY topic_id"""


def coverage_columns(alias: str, suffix: str) -> str:
    return f"""
               CAST(coalesce({alias}.n_articles, 0) AS BIGINT) AS n_articles{suffix},
               CASE WHEN n.total > 0 THEN coalesce({alias}.n_articles, 0) / n.total END AS share_of_articles{suffix},
               CAST(coalesce({alias}.n_providers, 0) AS BIGINT) AS n_providers{suffix},
               {alias}.top_provider_domain AS top_provider_domain{suffix},
               {alias}.quality_mean AS quality_mean{suffix},
               CAST(coalesce({alias}.n_related, 0) AS BIGINT) AS n_related{suffix},
               {alias}.first_published_at AS first_published_at{suffix},
               {alias}.last_published_at AS last_published_at{suffix}"""


def topic_coverage() -> str:
    """One row per topic of `topics`: its own figures and the `_rollup` ones over the distinct
    articles of it and its descendants (through `ANCESTORS`), from `SUMS`."""
    return f"""
        WITH own AS ({figures("own")}),
        up AS ({figures("rollup")})
        SELECT t.topic_id, t.topic_name, t.parent_topic_id,{coverage_columns("o", "")},{
            coverage_columns("u", "_rollup")}
        FROM topics AS t
        CROSS JOIN (SELECT {N_TOTAL} AS total) AS n
        LEFT JOIN own AS o ON o.topic_id = t.topic_id
        LEFT JOIN up AS u ON u.topic_id = t.topic_id
        ORDER BY t.topic_id"""


def topic_coverage_daily(since: bool = False) -> str:
    """Topic × UTC day: counts and the topic's share of the day's attention.

    Each article of the day with topics has weight 1, split equally among its topics; the
    topic's summed weight over that day's number of such articles (the shares of a day sum to
    1). An article counts for its day on the row of its first topic; providers are counted by
    grouping (topic, day, provider) first, as a count(DISTINCT) would hold every value in memory.
    A day's rows depend on that day's articles alone: with `since`, the touched days' rows are
    made again (from `DAY_FILED`) and the published rows of the others kept.
    """
    kept = published_rows("topic_coverage_daily", f"day NOT IN (SELECT day FROM {DAYS})") if since else ""
    return f"""
        WITH per_provider AS (
            SELECT topic_id, {utc_day("published_at")} AS day, provider_domain,
                   count(*) AS n, fsum(1 / n_topics) AS weight, count(*) FILTER (WHERE first_topic) AS n_first
            FROM {DAY_FILED if since else FILED} WHERE published_at IS NOT NULL
            GROUP BY topic_id, day, provider_domain
        ),
        rows AS (
            SELECT topic_id, day, sum(n) AS n_articles, count(provider_domain) AS n_providers,
                   fsum(weight) AS weight, sum(sum(n_first)) OVER (PARTITION BY day) AS n_day
            FROM per_provider GROUP BY topic_id, day
        )
        SELECT * FROM (
            SELECT topic_id, day, CAST(n_articles AS BIGINT) AS n_articles, n_providers, weight / n_day AS share_of_day
            FROM rows{kept}
        )
        ORDER BY topic_id, day"""


def topic_provider() -> str:
    """Topic × provider pairs with articles, as shares of all the topic's articles (also those
    without a provider) and of all the provider's articles (also those without topics)."""
    return f"""
        WITH rows AS (
            SELECT topic_id, provider_domain, n AS n_articles FROM {SUMS}
            WHERE scope = 'own' AND provider_domain IS NOT NULL
        ),
        per_topic AS ({PER_TOPIC}),
        per_provider AS (
            SELECT provider_domain, count(*) AS n FROM articles
            WHERE provider_domain IS NOT NULL GROUP BY provider_domain
        )
        SELECT r.topic_id, r.provider_domain, r.n_articles,
               r.n_articles / t.n AS share_of_topic,
               r.n_articles / p.n AS share_of_provider
        FROM rows AS r
        JOIN per_topic AS t ON t.topic_id = r.topic_id
        JOIN per_provider AS p ON p.provider_domain = r.provider_domain
        ORDER BY r.topic_id, r.provider_domain"""


def topic_cooccurrence(since: bool = False) -> str:
    """Unordered topic pairs filed together: count, Jaccard index and lift. With `since`, a
    pair's count is the published one moved by the touched articles' pairs before (-1) and
    after (+1): counts of articles, so exactly what counting them all again gives."""
    pairs = f"""
            SELECT topic_a, topic_b, CAST(sum(n) AS BIGINT) AS n_articles FROM (
                SELECT topic_a, topic_b, n_articles AS n FROM {PREVIOUS}topic_cooccurrence
                UNION ALL
                SELECT a.topic_id, b.topic_id, a.side
                FROM {TOUCHED_TOPICS} AS a JOIN {TOUCHED_TOPICS} AS b
                    ON a.article_id = b.article_id AND a.side = b.side AND a.topic_id < b.topic_id)
            GROUP BY topic_a, topic_b HAVING sum(n) > 0""" if since else f"""
            SELECT a.topic_id AS topic_a, b.topic_id AS topic_b, count(*) AS n_articles
            FROM {FILED} AS a JOIN {FILED} AS b ON a.article_id = b.article_id AND a.topic_id < b.topic_id
            GROUP BY a.topic_id, b.topic_id"""
    return f"""
        WITH pairs AS ({pairs}
        ),
        per_topic AS ({PER_TOPIC})
        SELECT p.topic_a, p.topic_b, p.n_articles,
               p.n_articles / (a.n + b.n - p.n_articles) AS jaccard,
               p.n_articles * n.total / (a.n * b.n) AS lift
        FROM pairs AS p
        CROSS JOIN (SELECT {N_TOTAL} AS total) AS n
        JOIN per_topic AS a ON a.topic_id = p.topic_a
        JOIN per_topic AS b ON b.topic_id = p.topic_b
        ORDER BY p.topic_a, p.topic_b"""
