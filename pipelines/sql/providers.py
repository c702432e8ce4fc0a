"""provider_quality and provider_quality_monthly in SQL: the twin of `transforms.analytics.providers`.

A provider's appearances are its own articles and its rows in other articles' `related`
lists, each row once; quality figures are taken over the scored ones and the rank uses the
mean shrunk towards the overall mean: (n × mean + k × overall) / (n + k).

With `since` (a change's analytics, `pipelines.sql.changed`), the figures of the providers the
change touches are computed again and every other provider's are the published ones; the overall
mean, the shrunk means and the ranks, which every appearance moves, are computed again for all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from newsfm.pipelines.sql.changed import PREVIOUS, in_touched_providers, published_rows
from newsfm.pipelines.sql.common import PREFIX, double, interpolated, ranked

if TYPE_CHECKING:
    import duckdb

# images.owner_id of a related row (`transforms.keys.related_owner_id`), of the rows aliased `r`
RELATED_OWNER_ID = "{r}article_id || ':' || CAST({r}position AS VARCHAR)"
FIGURES = ("n_articles, n_related, n_scored, quality_mean, quality_median, quality_p10, quality_p90, quality_min, "
           "quality_max, quality_std, share_with_image, n_topics, top_topic_id, first_published_at, last_published_at")


def touched(since: bool, column: str) -> str:
    """A condition on the provider `column`: with `since`, that the change touches it."""
    return in_touched_providers(column) if since else "TRUE"


# With `since`: the touched providers' appearances, made a step at a time (a TEMP table of their
# rows, then the images of those rows alone), so that no statement holds a hash table of every
# image's owner beside others (DuckDB spills one at a time).
OWNED = PREFIX + "provider_owned"  # owner_type, owner_id, provider_domain, quality, published_at
ITEMS = PREFIX + "provider_items"  # provider_domain, quality, published_at, has_image
TOUCHED_ITEMS = [
    f"""CREATE OR REPLACE TEMP TABLE {OWNED} AS
        SELECT 'article' AS owner_type, article_id AS owner_id, provider_domain, CAST(quality AS DOUBLE) AS quality,
               published_at
        FROM articles WHERE {in_touched_providers("provider_domain")}
        UNION ALL
        SELECT 'related', {RELATED_OWNER_ID.format(r='')}, provider_domain, CAST(quality AS DOUBLE),
               published_at
        FROM related WHERE {in_touched_providers("provider_domain")}""",
    f"""CREATE OR REPLACE TEMP TABLE {ITEMS} AS
        SELECT o.provider_domain, o.quality, o.published_at, i.owner_id IS NOT NULL AS has_image
        FROM {OWNED} AS o
        LEFT JOIN (SELECT DISTINCT i.owner_type, i.owner_id FROM images AS i
                   SEMI JOIN {OWNED} AS o ON o.owner_type = i.owner_type AND o.owner_id = i.owner_id) AS i
            ON i.owner_type = o.owner_type AND i.owner_id = o.owner_id""",
    f"DROP TABLE {OWNED}",
]


def create_tables(con: duckdb.DuckDBPyConnection, since: bool) -> None:
    """With `since`, the TEMP table `ITEMS` the statements read."""
    for step in TOUCHED_ITEMS if since else ():
        con.execute(step)


def drop_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {ITEMS}")


def appearances(with_image: bool, since: bool = False) -> str:
    """One row per appearance with a provider: provider_domain, quality (DOUBLE, NULL when
    unscored), published_at and, with `with_image`, has_image; with `since`, of the touched
    providers only (`ITEMS`).

    An article owns its images by article_id, a related row by `<article_id>:<position>`
    (`transforms.keys.related_owner_id`).
    """
    if since:
        return f"SELECT provider_domain, quality, published_at{', has_image' if with_image else ''} FROM {ITEMS}"
    if not with_image:
        return """
            SELECT provider_domain, CAST(quality AS DOUBLE) AS quality, published_at
            FROM articles WHERE provider_domain IS NOT NULL
            UNION ALL
            SELECT provider_domain, CAST(quality AS DOUBLE) AS quality, published_at
            FROM related WHERE provider_domain IS NOT NULL"""
    return f"""
        SELECT a.provider_domain, CAST(a.quality AS DOUBLE) AS quality, a.published_at,
               i.owner_id IS NOT NULL AS has_image
        FROM articles AS a
        LEFT JOIN (SELECT DISTINCT owner_id FROM images WHERE owner_type = 'article') AS i
            ON i.owner_id = a.article_id
        WHERE a.provider_domain IS NOT NULL
        UNION ALL
        SELECT r.provider_domain, CAST(r.quality AS DOUBLE) AS quality, r.published_at,
               i.owner_id IS NOT NULL AS has_image
        FROM related AS r
        LEFT JOIN (SELECT DISTINCT owner_id FROM images WHERE owner_type = 'related') AS i
            ON i.owner_id = {RELATED_OWNER_ID.format(r='r.')}
        WHERE r.provider_domain IS NOT NULL"""


def provider_quality(prior_weight: float, min_scored: int, since: bool = False) -> str:
    """One row per provider of `providers`; providers without appearances keep zero counts,
    null quality figures and a share_with_image of 0.

    Means are sums over counts, as pandas computes them; qualities are integers, so every
    partial sum of their doubles is exact in any order and the means are bit-equal to pandas'.
    The shrunk mean is written in the reference's order of operations, so it is bit-equal too,
    and providers tie in the dense rank exactly when they tie in pandas. `items` is read once:
    DuckDB holds a CTE that a statement reads twice in memory whole. With `since`, only the
    touched providers' appearances are read whole, and the overall mean from every appearance's
    quality (the same exact sum).
    """
    k = double(prior_weight)
    overall = (f"SELECT sum(quality) / nullif(count(quality), 0) AS overall FROM ({appearances(with_image=False)})"
               if since else "SELECT sum(quality_sum) / nullif(sum(n_scored), 0) AS overall FROM stats")
    kept = f"""
            UNION ALL
            SELECT p.provider_domain, p.provider_name, {", ".join("q." + name for name in FIGURES.split(", "))}
            FROM providers AS p JOIN {PREVIOUS}provider_quality AS q ON q.provider_domain = p.provider_domain
            WHERE NOT {touched(since, "p.provider_domain")}""" if since else ""
    return f"""
        WITH items AS ({appearances(with_image=True, since=since)}),
        stats AS (
            SELECT provider_domain,
                   count(quality) AS n_scored,
                   sum(quality) AS quality_sum,
                   sum(quality) / nullif(count(quality), 0) AS quality_mean,
                   {interpolated("quality", 0.5, flip=False)} AS quality_median,
                   {interpolated("quality", 0.1, flip=False)} AS quality_p10,
                   {interpolated("quality", 0.9, flip=False)} AS quality_p90,
                   min(quality) AS quality_min,
                   max(quality) AS quality_max,
                   CASE WHEN count(quality) > 1  -- from sums of integers: exact, so the same in every run
                        THEN sqrt(greatest(sum(quality * quality) - sum(quality) * sum(quality) / count(quality), 0)
                                  / (count(quality) - 1)) END AS quality_std,
                   count_if(has_image) / count(*) AS share_with_image,
                   min(published_at) AS first_published_at,
                   max(published_at) AS last_published_at
            FROM (SELECT *, {ranked("quality", "provider_domain")} FROM items) GROUP BY provider_domain
        ),
        overall AS (  -- the mean of all scored appearances, from `stats` so that `items` is read once
            {overall}
        ),
        article_counts AS (
            SELECT provider_domain, count(*) AS n FROM articles
            WHERE provider_domain IS NOT NULL AND {touched(since, "provider_domain")} GROUP BY provider_domain
        ),
        related_counts AS (
            SELECT provider_domain, count(*) AS n FROM related
            WHERE provider_domain IS NOT NULL AND {touched(since, "provider_domain")} GROUP BY provider_domain
        ),
        per_topic AS (
            SELECT a.provider_domain, t.topic_id, count(*) AS n
            FROM article_topics AS t JOIN articles AS a ON a.article_id = t.article_id
            WHERE a.provider_domain IS NOT NULL AND {touched(since, "a.provider_domain")}
            GROUP BY a.provider_domain, t.topic_id
        ),
        topic_figures AS (  -- top topic: most articles, ties: smallest id
            SELECT provider_domain, count(*) AS n_topics,
                   arg_min(topic_id, {{'n': -n, 'topic_id': topic_id}}) AS top_topic_id
            FROM per_topic GROUP BY provider_domain
        ),
        figures AS (
            SELECT p.provider_domain, p.provider_name,
                   coalesce(ac.n, 0) AS n_articles,
                   coalesce(rc.n, 0) AS n_related,
                   coalesce(s.n_scored, 0) AS n_scored,
                   s.quality_mean,
                   s.quality_median, s.quality_p10, s.quality_p90,
                   s.quality_min, s.quality_max, s.quality_std,
                   coalesce(s.share_with_image, 0.0) AS share_with_image,
                   coalesce(tf.n_topics, 0) AS n_topics,
                   tf.top_topic_id,
                   s.first_published_at, s.last_published_at
            FROM providers AS p
            LEFT JOIN stats AS s ON s.provider_domain = p.provider_domain
            LEFT JOIN article_counts AS ac ON ac.provider_domain = p.provider_domain
            LEFT JOIN related_counts AS rc ON rc.provider_domain = p.provider_domain
            LEFT JOIN topic_figures AS tf ON tf.provider_domain = p.provider_domain
            WHERE {touched(since, "p.provider_domain")}{kept}
        ),
        shrunk AS (
            SELECT f.*,
                   CASE WHEN n_scored > 0 THEN (n_scored * quality_mean + {k} * o.overall) / (n_scored + {k}) END
                       AS quality_shrunk
            FROM figures AS f CROSS JOIN overall AS o
        ),
        ranked AS (
            SELECT *, n_scored >= {int(min_scored)} AND quality_shrunk IS NOT NULL AS eligible
            FROM shrunk
        )
        SELECT provider_domain, provider_name,
               CAST(n_articles AS BIGINT) AS n_articles,
               CAST(n_related AS BIGINT) AS n_related,
               CAST(n_scored AS BIGINT) AS n_scored,
               quality_mean, quality_median, quality_p10, quality_p90,
               quality_min, quality_max, quality_std, quality_shrunk,
               CASE WHEN eligible
                    THEN CAST(dense_rank() OVER (PARTITION BY eligible ORDER BY quality_shrunk DESC) AS BIGINT)
               END AS quality_rank,
               CAST(share_with_image AS DOUBLE) AS share_with_image,
               CAST(n_topics AS BIGINT) AS n_topics,
               top_topic_id, first_published_at, last_published_at
        FROM ranked
        ORDER BY provider_domain"""


def provider_quality_monthly(since: bool = False) -> str:
    """Provider × UTC calendar month over the appearances that have a published_at (with
    `since`: the touched providers', and the published rows of the others)."""
    kept = published_rows("provider_quality_monthly", f"NOT {touched(since, 'provider_domain')}") if since else ""
    return f"""
        WITH items AS ({appearances(with_image=False, since=since)})
        SELECT * FROM (
            SELECT provider_domain,
                   CAST(date_trunc('month', published_at AT TIME ZONE 'UTC') AS DATE) AS month,
                   count(*) AS n_items,
                   count(quality) AS n_scored,
                   sum(quality) / nullif(count(quality), 0) AS quality_mean
            FROM items
            WHERE published_at IS NOT NULL
            GROUP BY ALL{kept}
        )
        ORDER BY provider_domain, month"""
