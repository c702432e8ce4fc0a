"""Stories in SQL: the twin of `transforms.analytics.stories`.

The graph joins each article to each item of its `related` list; a story is a connected
component. DuckDB has no connected components, so only the graph's shape leaves it: items are
numbered in DuckDB (0, 1, ... in item_id order), the edges come to Python as two int64 arrays,
`component_roots` finds each node's component by its smallest node, and the roots go back to
DuckDB as an Arrow table. No item id, provider or date is ever held in Python.

`create_members` leaves TEMP tables on the connection; `stories`, `story_members` and
`provider_timeliness` read the last of them, `MEMBERS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from pipelines.sql.common import PREFIX, arrow_reader, create_from_arrow, elapsed

if TYPE_CHECKING:
    import duckdb

ITEMS = PREFIX + "story_items"  # node, item_id, provider_domain, published_at, quality
ROOTS = PREFIX + "story_roots"  # node, root
MEMBERS = PREFIX + "story_members"  # story_id, item_id, provider_domain, published_at, quality, lag_minutes, is_first

EDGE_BATCH_ROWS = 1 << 20

# Every node of the graph once with its attributes. An article describes itself (it wins over
# its listings); an item known only from `related` lists is described by its first listing in
# (article_id, position) order, so the choice does not depend on file order.
STORY_ITEMS = f"""
    CREATE OR REPLACE TEMP TABLE {ITEMS} AS
    WITH candidates AS (
        SELECT article_id AS item_id, provider_domain, published_at, quality,
               0 AS listed, '' AS by_article, 0 AS by_position
        FROM articles
        UNION ALL
        SELECT related_article_id, provider_domain, published_at, quality, 1, article_id, position
        FROM related
    ),
    chosen AS (
        SELECT item_id,
               arg_min({{'provider_domain': provider_domain, 'published_at': published_at, 'quality': quality}},
                       {{'listed': listed, 'by_article': by_article, 'by_position': by_position}}) AS item
        FROM candidates GROUP BY item_id
    )
    SELECT CAST(row_number() OVER (ORDER BY item_id) - 1 AS BIGINT) AS node, item_id,
           item.provider_domain AS provider_domain, item.published_at AS published_at, item.quality AS quality
    FROM chosen"""

# One edge per related row, as node numbers; a NULL source is a row whose article is no item.
EDGES = f"""
    SELECT s.node AS source, t.node AS target
    FROM related AS r
    LEFT JOIN {ITEMS} AS s ON s.item_id = r.article_id
    JOIN {ITEMS} AS t ON t.item_id = r.related_article_id"""


def component_roots(n_nodes: int, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each node 0..n_nodes-1, the smallest node of its connected component (int64 array).

    The same answer as `transforms.analytics.stories.component_roots`, computed a round at a
    time over all edges with numpy instead of one edge at a time in Python: at the start of a
    round every node points at its root; each edge whose ends have different roots links the
    larger root under the smaller (the smallest offer wins), then pointer jumping makes every
    node point at its root again, and edges already inside one tree are dropped. Roots only
    ever move to smaller nodes, so a component's last root is its smallest node, and each round
    links at least one root, so the loop ends.
    """
    parent = np.arange(n_nodes, dtype=np.int64)
    sources, targets = np.asarray(sources, dtype=np.int64), np.asarray(targets, dtype=np.int64)
    while True:
        root_a, root_b = parent[sources], parent[targets]
        apart = root_a != root_b
        if not apart.any():
            return parent
        sources, targets, root_a, root_b = sources[apart], targets[apart], root_a[apart], root_b[apart]
        np.minimum.at(parent, np.maximum(root_a, root_b), np.minimum(root_a, root_b))
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


def fetch_edges(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, np.ndarray]:
    """The graph's edges as (sources, targets) node arrays, read from DuckDB in batches."""
    sources, targets = [], []
    reader = arrow_reader(con, EDGES, EDGE_BATCH_ROWS)
    for batch in reader:
        if batch.column(0).null_count:
            raise ValueError("related rows of articles absent from `articles`: the warehouse is inconsistent")
        sources.append(batch.column(0).to_numpy())
        targets.append(batch.column(1).to_numpy())
    empty = np.empty(0, dtype=np.int64)
    return (np.concatenate(sources) if sources else empty), (np.concatenate(targets) if targets else empty)


def create_members(con: duckdb.DuckDBPyConnection) -> None:
    """TEMP tables: the numbered items, each node's root and `MEMBERS`, the items with their
    story_id (hash of the component's smallest item id), `lag_minutes` and `is_first`.

    The first item is the earliest dated one, and the smallest item_id among equally early
    ones, so exactly one per story that has a date.
    """
    con.execute(STORY_ITEMS)
    ((n_nodes,),) = con.execute(f"SELECT count(*) FROM {ITEMS}").fetchall()
    sources, targets = fetch_edges(con)
    roots = component_roots(n_nodes, sources, targets)
    del sources, targets
    create_from_arrow(con, ROOTS, pa.table({"node": np.arange(n_nodes, dtype=np.int64), "root": roots}))
    del roots
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {MEMBERS} AS
        WITH named AS (
            SELECT r.root, substr(sha256('story:' || i.item_id), 1, 16) AS story_id
            FROM (SELECT DISTINCT root FROM {ROOTS}) AS r JOIN {ITEMS} AS i ON i.node = r.root
        ),
        items AS (
            SELECT n.story_id, i.item_id, i.provider_domain, i.published_at, i.quality
            FROM {ITEMS} AS i
            JOIN {ROOTS} AS r ON r.node = i.node
            JOIN named AS n ON n.root = r.root
        ),
        first_at AS (SELECT story_id, min(published_at) AS first_at FROM items GROUP BY story_id),
        first_item AS (
            SELECT i.story_id, min(i.item_id) AS item_id
            FROM items AS i JOIN first_at AS f ON f.story_id = i.story_id AND f.first_at = i.published_at
            GROUP BY i.story_id
        )
        SELECT i.story_id, i.item_id, i.provider_domain, i.published_at, i.quality,
               {elapsed("i.published_at", "f.first_at", 60)} AS lag_minutes,
               fi.item_id IS NOT NULL AS is_first
        FROM items AS i
        JOIN first_at AS f ON f.story_id = i.story_id
        LEFT JOIN first_item AS fi ON fi.story_id = i.story_id AND fi.item_id = i.item_id""")
    con.execute(f"DROP TABLE {ROOTS}")
    con.execute(f"DROP TABLE {ITEMS}")


def stories() -> str:
    """One row per story, aggregated over its members; topic_ids are the sorted distinct topics
    of its articles, an empty list for a story without any."""
    return f"""
        WITH per_story AS (
            SELECT story_id,
                   count(*) AS n_items,
                   count(DISTINCT provider_domain) AS n_providers,
                   min(published_at) AS first_published_at,
                   max(provider_domain) FILTER (WHERE is_first) AS first_provider_domain,
                   {elapsed("max(published_at)", "min(published_at)", 3600)} AS span_hours,
                   avg(CAST(quality AS DOUBLE)) AS quality_mean
            FROM {MEMBERS} GROUP BY story_id
        ),
        topics AS (
            SELECT m.story_id, list(DISTINCT t.topic_id ORDER BY t.topic_id) AS topic_ids
            FROM article_topics AS t JOIN {MEMBERS} AS m ON m.item_id = t.article_id
            GROUP BY m.story_id
        )
        SELECT s.story_id, s.n_items, s.n_providers, s.first_published_at, s.first_provider_domain,
               s.span_hours, s.quality_mean, coalesce(t.topic_ids, CAST([] AS VARCHAR[])) AS topic_ids
        FROM per_story AS s LEFT JOIN topics AS t ON t.story_id = s.story_id
        ORDER BY s.story_id"""


def story_members() -> str:
    return f"""
        SELECT story_id, item_id, provider_domain, published_at, lag_minutes, is_first
        FROM {MEMBERS}
        ORDER BY story_id, item_id"""


def provider_timeliness() -> str:
    """One row per provider with a dated item in a story of at least two providers.

    Each such story counts once per provider, through the provider's earliest item; the lag
    percentiles interpolate linearly (`quantile_cont`, as `np.percentile`).
    """
    return f"""
        WITH shared AS (
            SELECT story_id FROM {MEMBERS} GROUP BY story_id HAVING count(DISTINCT provider_domain) >= 2
        ),
        per_story AS (
            SELECT m.provider_domain, m.story_id, min(m.lag_minutes) AS lag, bool_or(m.is_first) AS first
            FROM {MEMBERS} AS m JOIN shared AS s ON s.story_id = m.story_id
            WHERE m.published_at IS NOT NULL AND m.provider_domain IS NOT NULL
            GROUP BY m.provider_domain, m.story_id
        ),
        per_provider AS (
            SELECT provider_domain, count(*) AS n_stories, count_if(first) AS n_first,
                   quantile_cont(lag, [0.5, 0.9]) AS lags
            FROM per_story GROUP BY provider_domain
        )
        SELECT provider_domain,
               CAST(n_stories AS BIGINT) AS n_stories,
               CAST(n_first AS BIGINT) AS n_first,
               n_first / n_stories AS first_rate,
               lags[1] AS median_lag_minutes,
               lags[2] AS p90_lag_minutes
        FROM per_provider
        ORDER BY provider_domain"""
