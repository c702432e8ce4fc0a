"""Topic coverage in SQL: the twin of `transforms.analytics.topics`.

Everything starts from `filed`: one row per distinct (topic, article) of `article_topics` whose
article is known, with the article's provider, quality, published_at and number of related
rows. The taxonomy rollup reuses the same figures over distinct (ancestor, article) pairs; the
ancestor links come from the small `topics` table, walked in Python (`ancestor_links`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from pipelines.sql.common import PREFIX, create_from_arrow

if TYPE_CHECKING:
    import duckdb

ANCESTORS = PREFIX + "topic_ancestors"

FILED = """
    SELECT l.topic_id, l.article_id, a.provider_domain, CAST(a.quality AS DOUBLE) AS quality, a.published_at,
           coalesce(rc.n_related, 0) AS n_related
    FROM (SELECT DISTINCT topic_id, article_id FROM article_topics) AS l
    JOIN articles AS a ON a.article_id = l.article_id
    LEFT JOIN (SELECT article_id, count(*) AS n_related FROM related GROUP BY article_id) AS rc
        ON rc.article_id = l.article_id"""

N_TOTAL = "(SELECT count(*) FROM articles)"


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


def create_ancestors(con: duckdb.DuckDBPyConnection) -> None:
    """TEMP table `ANCESTORS` (topic_id, ancestor_id), from `topics` (a dimension: small)."""
    parents = con.execute("SELECT topic_id, parent_topic_id FROM topics").fetchall()
    links = ancestor_links(parents)
    table = pa.table(
        {"topic_id": [t for t, _ in links], "ancestor_id": [a for _, a in links]},
        schema=pa.schema([("topic_id", pa.string()), ("ancestor_id", pa.string())]),
    )
    create_from_arrow(con, ANCESTORS, table)


def figures(pairs: str) -> str:
    """Per topic_id of the relation `pairs` (one row per distinct topic × article, with the
    article's attributes): counts, top provider, quality, dates."""
    return f"""
        SELECT topic_id,
               count(*) AS n_articles,
               count(DISTINCT provider_domain) AS n_providers,
               avg(quality) AS quality_mean,
               sum(n_related) AS n_related,
               min(published_at) AS first_published_at,
               max(published_at) AS last_published_at
        FROM {pairs} GROUP BY topic_id"""


def top_provider(pairs: str) -> str:
    """Per topic of `pairs`, the provider with most of its articles; ties go to the smallest domain."""
    return f"""
        SELECT topic_id, arg_min(provider_domain, {{'n': -n, 'provider_domain': provider_domain}}) AS top
        FROM (
            SELECT topic_id, provider_domain, count(*) AS n FROM {pairs}
            WHERE provider_domain IS NOT NULL GROUP BY topic_id, provider_domain
        ) GROUP BY topic_id"""


def coverage_columns(alias: str, top: str, suffix: str) -> str:
    return f"""
               CAST(coalesce({alias}.n_articles, 0) AS BIGINT) AS n_articles{suffix},
               CASE WHEN n.total > 0 THEN coalesce({alias}.n_articles, 0) / n.total END AS share_of_articles{suffix},
               CAST(coalesce({alias}.n_providers, 0) AS BIGINT) AS n_providers{suffix},
               {top}.top AS top_provider_domain{suffix},
               {alias}.quality_mean AS quality_mean{suffix},
               CAST(coalesce({alias}.n_related, 0) AS BIGINT) AS n_related{suffix},
               {alias}.first_published_at AS first_published_at{suffix},
               {alias}.last_published_at AS last_published_at{suffix}"""


def topic_coverage() -> str:
    """One row per topic of `topics`: its own figures and the `_rollup` ones over its
    descendants (needs `create_ancestors`)."""
    return f"""
        WITH filed AS ({FILED}),
        rollup AS (
            SELECT DISTINCT x.ancestor_id AS topic_id, f.article_id, f.provider_domain, f.quality,
                   f.published_at, f.n_related
            FROM filed AS f JOIN {ANCESTORS} AS x ON x.topic_id = f.topic_id
        ),
        own AS ({figures("filed")}),
        own_top AS ({top_provider("filed")}),
        up AS ({figures("rollup")}),
        up_top AS ({top_provider("rollup")})
        SELECT t.topic_id, t.topic_name, t.parent_topic_id,{coverage_columns("o", "ot", "")},{
            coverage_columns("u", "ut", "_rollup")}
        FROM topics AS t
        CROSS JOIN (SELECT {N_TOTAL} AS total) AS n
        LEFT JOIN own AS o ON o.topic_id = t.topic_id
        LEFT JOIN own_top AS ot ON ot.topic_id = t.topic_id
        LEFT JOIN up AS u ON u.topic_id = t.topic_id
        LEFT JOIN up_top AS ut ON ut.topic_id = t.topic_id
        ORDER BY t.topic_id"""


def topic_coverage_daily() -> str:
    """Topic × UTC day: counts and the topic's share of the day's attention.

    Each article of the day with topics has weight 1, split equally among its topics; the
    topic's summed weight over that day's number of such articles (the shares of a day sum to 1).
    """
    return f"""
        WITH filed AS ({FILED}),
        weights AS (SELECT article_id, 1 / count(*) AS weight FROM filed GROUP BY article_id),
        dated AS (
            SELECT f.topic_id, f.article_id, f.provider_domain, w.weight,
                   CAST(f.published_at AT TIME ZONE 'UTC' AS DATE) AS day
            FROM filed AS f JOIN weights AS w ON w.article_id = f.article_id
            WHERE f.published_at IS NOT NULL
        ),
        per_day AS (SELECT day, count(DISTINCT article_id) AS n FROM dated GROUP BY day),
        rows AS (
            SELECT topic_id, day, count(*) AS n_articles, count(DISTINCT provider_domain) AS n_providers,
                   fsum(weight) AS weight
            FROM dated GROUP BY topic_id, day
        )
        SELECT r.topic_id, r.day, r.n_articles, r.n_providers, r.weight / d.n AS share_of_day
        FROM rows AS r JOIN per_day AS d ON d.day = r.day
        ORDER BY r.topic_id, r.day"""


def topic_provider() -> str:
    """Topic × provider pairs with articles, as shares of all the topic's articles (also those
    without a provider) and of all the provider's articles (also those without topics)."""
    return f"""
        WITH filed AS ({FILED}),
        rows AS (
            SELECT topic_id, provider_domain, count(*) AS n_articles FROM filed
            WHERE provider_domain IS NOT NULL GROUP BY topic_id, provider_domain
        ),
        per_topic AS (SELECT topic_id, count(*) AS n FROM filed GROUP BY topic_id),
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


def topic_cooccurrence() -> str:
    """Unordered topic pairs filed together: count, Jaccard index and lift."""
    return f"""
        WITH filed AS ({FILED}),
        links AS (SELECT article_id, topic_id FROM filed),
        pairs AS (
            SELECT a.topic_id AS topic_a, b.topic_id AS topic_b, count(*) AS n_articles
            FROM links AS a JOIN links AS b ON a.article_id = b.article_id AND a.topic_id < b.topic_id
            GROUP BY a.topic_id, b.topic_id
        ),
        per_topic AS (SELECT topic_id, count(*) AS n FROM links GROUP BY topic_id)
        SELECT p.topic_a, p.topic_b, p.n_articles,
               p.n_articles / (a.n + b.n - p.n_articles) AS jaccard,
               p.n_articles * n.total / (a.n * b.n) AS lift
        FROM pairs AS p
        CROSS JOIN (SELECT {N_TOTAL} AS total) AS n
        JOIN per_topic AS a ON a.topic_id = p.topic_a
        JOIN per_topic AS b ON b.topic_id = p.topic_b
        ORDER BY p.topic_a, p.topic_b"""
