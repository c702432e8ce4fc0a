"""Stories in SQL: the twin of `transforms.analytics.stories`.

The graph joins each article to each item of its `related` list; a story is a connected
component. DuckDB has no connected components, so only the graph's shape leaves it: items are
numbered in DuckDB (0, 1, ... in item_id order), the edges come to Python as two int32 arrays,
`component_roots` finds each node's component by its smallest node, and the roots go back to
DuckDB as an Arrow table. No item id, provider or date is ever held in Python.

`create_tables` leaves two TEMP tables on the connection, `MEMBERS` and `STORY_TOPICS`, and a
view `ALL_MEMBERS`, which `stories`, `story_members` and `provider_timeliness` read; the steps towards them go through
TEMP tables too, joined on integer node numbers wherever possible, each big join or aggregation
in a statement of its own: DuckDB can spill one to its temp_directory, but not several at once.

With `since` (a change's analytics, `pipelines.sql.changed`), the graph is made of the items of
the stories a change can move (`CHANGED_STORIES`) and the published stories of every other item
are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from newsfm.pipelines.spill import hex_bounds, range_count
from newsfm.pipelines.sql.changed import PREVIOUS, TOUCHED, published_rows
from newsfm.pipelines.sql.common import PREFIX, arrow_reader, create_from_arrow, elapsed, interpolated, ranked

if TYPE_CHECKING:
    import duckdb

ITEMS = PREFIX + "story_items"  # node, item_id, provider_domain, published_at, quality
ROOTS = PREFIX + "story_roots"  # node, root (the smallest node of its story)
ROOTED = PREFIX + "story_rooted_items"  # the items with their root
FIRSTS = PREFIX + "story_firsts"  # root, first_at, first_node: stories with a date
INFO = PREFIX + "story_info"  # root, story_id, first_at, first_node: every story
ROOT_TOPICS = PREFIX + "story_root_topics"  # root, topic_id: one row per topic of a member article
MEMBERS = PREFIX + "story_members"  # story_id, item_id, provider_domain, published_at, quality, lag_minutes, is_first
STORY_TOPICS = PREFIX + "story_topics"  # story_id, topic_id: distinct

EDGE_BATCH_ROWS = 1 << 17
RANGE_ROWS = 500_000  # story members sorted at a time (`story_ranges`)
NODE = np.int32  # node numbers: 4 bytes each, so the Python side of a million stories stays a few MB

# Every node of the graph once with its attributes. An article describes itself (it wins over
# its listings); an item known only from `related` lists is described by its first listing in
# (article_id, position) order, so the choice does not depend on file order. (Windows, not
# arg_min over structs: DuckDB sorts windows out of core, but keeps aggregate states of strings
# in memory.) With `since`, only the nodes of `NODES`.
def story_items(since: bool) -> str:
    nodes = f"IN (SELECT item_id FROM {NODES})"
    return f"""
    CREATE OR REPLACE TEMP TABLE {ITEMS} AS
    WITH candidates AS (
        SELECT article_id AS item_id, provider_domain, published_at, quality,
               0 AS listed, '' AS by_article, 0 AS by_position
        FROM articles{f" WHERE article_id {nodes}" if since else ""}
        UNION ALL
        SELECT related_article_id, provider_domain, published_at, quality, 1, article_id, position
        FROM related{f" WHERE related_article_id {nodes}" if since else ""}
    ),
    chosen AS (
        SELECT item_id, provider_domain, published_at, quality FROM candidates
        QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY listed, by_article, by_position) = 1
    )
    SELECT CAST(row_number() OVER (ORDER BY item_id) - 1 AS INTEGER) AS node, item_id, provider_domain,
           published_at, quality
    FROM chosen"""


def edge_rows(since: bool) -> str:
    """The related rows that are the graph's edges: all, or with `since` those of `NODES`'s articles."""
    return f"(SELECT * FROM related WHERE article_id IN (SELECT item_id FROM {NODES}))" if since else "related"


def edges(since: bool) -> str:
    """One edge per related row, as node numbers; a NULL source is a row whose article is no item."""
    return f"""
    SELECT s.node AS source, t.node AS target
    FROM {edge_rows(since)} AS r
    LEFT JOIN {ITEMS} AS s ON s.item_id = r.article_id
    JOIN {ITEMS} AS t ON t.item_id = r.related_article_id"""


# A change's stories (`since`): the items it may move are its touched articles and the items
# they list, and every item of the published stories holding one of them (`NODES`). No other
# item's story can change: the edges of a story that holds no touched article are all as they
# were, and every new edge starts at a touched article. So the stories of `NODES` are made again,
# and the published ones (but those in `GONE`) kept.
NODES = PREFIX + "story_nodes"  # item_id: the items whose stories are made again, distinct
GONE = PREFIX + "story_gone"  # story_id: the published stories of those items, distinct
ALL_MEMBERS = PREFIX + "story_all_members"  # a view: MEMBERS and the kept published members
TIMELY = PREFIX + "story_providers"  # provider_domain: the providers of the stories made again or gone
CHANGED_STORIES = [
    f"""CREATE OR REPLACE TEMP TABLE {PREFIX}story_seeds AS
        SELECT article_id AS item_id FROM {TOUCHED}
        UNION SELECT related_article_id FROM related WHERE article_id IN (SELECT article_id FROM {TOUCHED})""",
    f"""CREATE OR REPLACE TEMP TABLE {GONE} AS
        SELECT DISTINCT story_id FROM {PREVIOUS}story_members WHERE item_id IN (SELECT item_id FROM {PREFIX}story_seeds)""",
    f"""CREATE OR REPLACE TEMP TABLE {NODES} AS
        SELECT item_id FROM {PREVIOUS}story_members WHERE story_id IN (SELECT story_id FROM {GONE})
        UNION SELECT item_id FROM {PREFIX}story_seeds""",
    f"DROP TABLE {PREFIX}story_seeds",
]
MEMBER_COLUMNS = "story_id, item_id, provider_domain, published_at, lag_minutes, is_first"


def component_roots(n_nodes: int, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each node 0..n_nodes-1, the smallest node of its connected component (an int32 array).

    The same answer as `transforms.analytics.stories.component_roots`, computed a round at a
    time over all edges with numpy instead of one edge at a time in Python: at the start of a
    round every node points at its root; each edge whose ends have different roots links the
    larger root under the smaller (the smallest offer wins), then pointer jumping makes every
    node point at its root again, and edges already inside one tree are dropped. Roots only
    ever move to smaller nodes, so a component's last root is its smallest node, and each round
    links at least one root, so the loop ends.
    """
    if n_nodes > np.iinfo(NODE).max:
        raise ValueError(f"{n_nodes} nodes do not fit {NODE.__name__} node numbers")
    parent = np.arange(n_nodes, dtype=NODE)
    sources, targets = np.asarray(sources, dtype=NODE), np.asarray(targets, dtype=NODE)
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


def fetch_edges(con: duckdb.DuckDBPyConnection, since: bool) -> tuple[np.ndarray, np.ndarray]:
    """The graph's edges as (sources, targets) node arrays, read from DuckDB in batches into
    arrays allocated once (one edge per `related` row: `edge_rows`)."""
    ((n_edges,),) = con.execute(f"SELECT count(*) FROM {edge_rows(since)}").fetchall()
    sources, targets = np.empty(n_edges, dtype=NODE), np.empty(n_edges, dtype=NODE)
    filled = 0
    for batch in arrow_reader(con, edges(since), EDGE_BATCH_ROWS):
        if batch.column(0).null_count:
            raise ValueError("related rows of articles absent from `articles`: the warehouse is inconsistent")
        end = filled + batch.num_rows
        if end > n_edges:
            raise ValueError("more edges than related rows: the warehouse changed while it was read")
        sources[filled:end] = batch.column(0).to_numpy()
        targets[filled:end] = batch.column(1).to_numpy()
        filled = end
    return sources[:filled], targets[:filled]


def create_tables(con: duckdb.DuckDBPyConnection, since: bool = False) -> None:
    """TEMP tables `MEMBERS`, the items with their story_id (hash of the component's smallest
    item id), `lag_minutes` and `is_first`, and `STORY_TOPICS`, each story's distinct topics;
    with `since`, of the items of `NODES` only (`CHANGED_STORIES`), beside `GONE` and the view
    `ALL_MEMBERS`.

    The first item is the earliest dated one, and the smallest item_id among equally early
    ones, so exactly one per story that has a date. Nodes are numbered in item_id order among
    the items made, so the same item is first among any of them.
    """
    for step in CHANGED_STORIES if since else ():
        con.execute(step)
    con.execute(story_items(since))
    ((n_nodes,),) = con.execute(f"SELECT count(*) FROM {ITEMS}").fetchall()
    sources, targets = fetch_edges(con, since)
    roots = component_roots(n_nodes, sources, targets)
    del sources, targets
    create_from_arrow(con, ROOTS, pa.table({"node": np.arange(n_nodes, dtype=NODE), "root": roots}))
    del roots
    steps = [
        f"""CREATE OR REPLACE TEMP TABLE {ROOTED} AS
            SELECT i.node, r.root, i.item_id, i.provider_domain, i.published_at, i.quality
            FROM {ITEMS} AS i JOIN {ROOTS} AS r ON r.node = i.node""",
        f"DROP TABLE {ITEMS}",
        f"DROP TABLE {ROOTS}",
        # the first item: the earliest, and among equally early ones the smallest node, which
        # is the smallest item_id (nodes are numbered in item_id order)
        f"""CREATE OR REPLACE TEMP TABLE {FIRSTS} AS
            WITH first_at AS (SELECT root, min(published_at) AS first_at FROM {ROOTED} GROUP BY root)
            SELECT f.root, f.first_at, min(i.node) AS first_node
            FROM first_at AS f JOIN {ROOTED} AS i ON i.root = f.root AND i.published_at = f.first_at
            GROUP BY f.root, f.first_at""",
        f"""CREATE OR REPLACE TEMP TABLE {INFO} AS
            SELECT i.root, substr(sha256('story:' || i.item_id), 1, 16) AS story_id, f.first_at, f.first_node
            FROM {ROOTED} AS i LEFT JOIN {FIRSTS} AS f ON f.root = i.root
            WHERE i.node = i.root""",
        f"DROP TABLE {FIRSTS}",
        f"""CREATE OR REPLACE TEMP TABLE {MEMBERS} AS
            SELECT s.story_id, i.item_id, i.provider_domain, i.published_at, i.quality,
                   {elapsed("i.published_at", "s.first_at", 60)} AS lag_minutes,
                   coalesce(i.node = s.first_node, false) AS is_first
            FROM {ROOTED} AS i JOIN {INFO} AS s ON s.root = i.root""",
        f"""CREATE OR REPLACE TEMP TABLE {ROOT_TOPICS} AS
            SELECT i.root, t.topic_id
            FROM article_topics AS t JOIN {ROOTED} AS i ON i.item_id = t.article_id""",
        f"DROP TABLE {ROOTED}",
        f"""CREATE OR REPLACE TEMP TABLE {STORY_TOPICS} AS
            SELECT DISTINCT s.story_id, t.topic_id
            FROM {ROOT_TOPICS} AS t JOIN {INFO} AS s ON s.root = t.root""",
        f"DROP TABLE {ROOT_TOPICS}",
        f"DROP TABLE {INFO}",
        f"""CREATE OR REPLACE TEMP VIEW {ALL_MEMBERS} AS SELECT {MEMBER_COLUMNS} FROM {MEMBERS}""" + (f"""
            UNION ALL SELECT {MEMBER_COLUMNS} FROM {PREVIOUS}story_members
            WHERE story_id NOT IN (SELECT story_id FROM {GONE})""" if since else ""),
        *([f"""CREATE OR REPLACE TEMP TABLE {TIMELY} AS SELECT DISTINCT provider_domain FROM (
                SELECT provider_domain FROM {MEMBERS}
                UNION ALL
                SELECT provider_domain FROM {PREVIOUS}story_members WHERE story_id IN (SELECT story_id FROM {GONE}))
            WHERE provider_domain IS NOT NULL"""] if since else []),
    ]
    for step in steps:
        con.execute(step)


def drop_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP VIEW IF EXISTS {ALL_MEMBERS}")
    for name in (MEMBERS, STORY_TOPICS, NODES, GONE, TIMELY):
        con.execute(f"DROP TABLE IF EXISTS {name}")


def story_ranges(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Conditions cutting the stories into ranges of story_id of about RANGE_ROWS members each,
    in order: their rows are sorted a range at a time (story ids are hex digests, spread evenly),
    as DuckDB does not spill the sort of so many wide rows (story_members failed at a 128 MB
    limit over 1,000,000 files, sorted whole)."""
    ((members,),) = con.execute(f"SELECT count(*) FROM {ALL_MEMBERS}").fetchall()
    edges = [None, *hex_bounds(range_count(members, RANGE_ROWS)), None]
    return [" AND ".join([*([f"story_id >= '{lo}'"] if lo else []), *([f"story_id < '{hi}'"] if hi else [])]) or "TRUE"
            for lo, hi in zip(edges, edges[1:])]


def stories(ranges: list[str], since: bool = False) -> list[str]:
    """One row per story, a range of story ids at a time (`story_ranges`), aggregated over its
    members (with `since`: the stories of `MEMBERS`, and the published ones not `GONE`); topic_ids
    are the sorted distinct topics of its articles, an empty list for a story without any.

    The members are grouped by (story, provider) first, so providers are counted without a
    count(DISTINCT), which would hold every value in memory; the (story, topic) pairs join that
    aggregation as rows of their own, as a join of two aggregates of a million stories each
    would need both in memory at once. The mean is the sum of the sums over the sum of the
    counts: the plain mean exactly, as qualities are integers.
    """
    def kept(story_range: str) -> str:
        return published_rows("stories", f"{story_range} AND story_id NOT IN (SELECT story_id FROM {GONE})") if since else ""
    return [f"""
        WITH per_provider AS (
            SELECT story_id, provider_domain, count(*) AS n, min(published_at) AS first_at,
                   max(published_at) AS last_at, bool_or(is_first) AS has_first,
                   sum(quality) AS quality_sum, count(quality) AS n_scored, CAST(NULL AS VARCHAR) AS topic_id
            FROM {MEMBERS} WHERE {story_range} GROUP BY story_id, provider_domain
            UNION ALL
            SELECT story_id, NULL, 0, NULL, NULL, false, NULL, 0, topic_id FROM {STORY_TOPICS} WHERE {story_range}
        )
        SELECT * FROM (
        SELECT story_id,
               CAST(sum(n) AS BIGINT) AS n_items,
               count(provider_domain) AS n_providers,
               min(first_at) AS first_published_at,
               max(provider_domain) FILTER (WHERE has_first) AS first_provider_domain,
               {elapsed("max(last_at)", "min(first_at)", 3600)} AS span_hours,
               CAST(sum(quality_sum) AS DOUBLE) / nullif(sum(n_scored), 0) AS quality_mean,
               coalesce(list_sort(list(topic_id) FILTER (WHERE topic_id IS NOT NULL)), CAST([] AS VARCHAR[]))
                   AS topic_ids
        FROM per_provider
        GROUP BY story_id
        {kept(story_range)})
        ORDER BY story_id""" for story_range in ranges]


def story_members(ranges: list[str]) -> list[str]:
    """Every member of a story (`ALL_MEMBERS`), a range of story ids at a time (`story_ranges`)."""
    return [f"""
        SELECT {MEMBER_COLUMNS} FROM {ALL_MEMBERS} WHERE {story_range}
        ORDER BY story_id, item_id""" for story_range in ranges]


def provider_timeliness(since: bool = False) -> str:
    """One row per provider with a dated item in a story of at least two providers.

    Each such story counts once per provider, through the provider's earliest item; the lag
    percentiles interpolate linearly, as `np.percentile` does (`interpolated`). A provider's
    row depends on its stories alone: with `since`, the rows of the providers of the stories
    made again or gone (`TIMELY`) are made again, from the members of their stories, and the
    published rows of the others kept. The members are read twice rather than through a CTE,
    which DuckDB would hold in memory whole.
    """
    members = (f"""(SELECT * FROM {ALL_MEMBERS} WHERE story_id IN (
                    SELECT story_id FROM {ALL_MEMBERS} WHERE provider_domain IN (SELECT provider_domain FROM {TIMELY})))"""
               if since else ALL_MEMBERS)
    kept = published_rows("provider_timeliness",
                          f"provider_domain NOT IN (SELECT provider_domain FROM {TIMELY})") if since else ""
    return f"""
        WITH shared AS (  -- providers counted by grouping, not by a count(DISTINCT)
            SELECT story_id FROM (SELECT DISTINCT story_id, provider_domain FROM {members})
            GROUP BY story_id HAVING count(provider_domain) >= 2
        ),
        per_story AS (
            SELECT m.provider_domain, m.story_id, min(m.lag_minutes) AS lag, bool_or(m.is_first) AS first
            FROM {members} AS m JOIN shared AS s ON s.story_id = m.story_id
            WHERE m.published_at IS NOT NULL AND m.provider_domain IS NOT NULL{
                f" AND m.provider_domain IN (SELECT provider_domain FROM {TIMELY})" if since else ""}
            GROUP BY m.provider_domain, m.story_id
        ),
        per_provider AS (
            SELECT provider_domain, count(*) AS n_stories, count_if(first) AS n_first,
                   {interpolated("lag", 50 / 100, flip=True)} AS median_lag_minutes,
                   {interpolated("lag", 90 / 100, flip=True)} AS p90_lag_minutes
            FROM (SELECT *, {ranked("lag", "provider_domain")} FROM per_story) GROUP BY provider_domain
        )
        SELECT * FROM (
            SELECT provider_domain,
                   CAST(n_stories AS BIGINT) AS n_stories,
                   CAST(n_first AS BIGINT) AS n_first,
                   n_first / n_stories AS first_rate,
                   median_lag_minutes, p90_lag_minutes
            FROM per_provider{kept}
        )
        ORDER BY provider_domain"""
