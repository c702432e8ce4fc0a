"""Stories: groups of articles about one event, and which providers break them first.

The reference: builds compute the same tables in DuckDB with its SQL twin, `pipelines/sql/stories.py`
(tests/test_sql_analytics.py holds the two equal).

The graph joins each article to each item of its `related` list; a story is a connected
component of it. Components come from an iterative union-find over integer positions, so a
warehouse of 100,000 articles takes about two seconds and long chains cannot hit the recursion
limit.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from newsfm.transforms.keys import short_hash
from newsfm.transforms.schema import typed_frame

ITEM_COLUMNS = ["item_id", "provider_domain", "published_at", "quality"]


def story_tables(warehouse: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Warehouse frames → the `stories`, `story_members` and `provider_timeliness` frames."""
    related = warehouse["related"]
    items = story_items(warehouse["articles"], related)
    items["story_id"] = story_ids(items["item_id"].tolist(), related)
    members = add_timing(items)
    stories = story_rows(members, warehouse["article_topics"])
    return {
        "stories": typed_frame("stories", stories),
        "story_members": typed_frame("story_members", members),
        "provider_timeliness": typed_frame("provider_timeliness", timeliness_rows(members)),
    }


def story_items(articles: pd.DataFrame, related: pd.DataFrame) -> pd.DataFrame:
    """Every node of the graph once with its attributes, sorted by item_id.

    An article describes itself (articles come first, so they win the de-duplication); an
    item known only from `related` lists is described by its first listing in (article_id,
    position) order, so the choice does not depend on file order.
    """
    listed = related.sort_values(["article_id", "position"])
    items = pd.concat(
        [
            articles.rename(columns={"article_id": "item_id"})[ITEM_COLUMNS],
            listed.rename(columns={"related_article_id": "item_id"})[ITEM_COLUMNS],
        ],
        ignore_index=True,
    )
    return items.drop_duplicates("item_id").sort_values("item_id", ignore_index=True)


def story_ids(item_ids: list[str], related: pd.DataFrame) -> list[str]:
    """The story_id of each of the sorted `item_ids`: the hash of its component's smallest id."""
    position = pd.Index(item_ids)
    sources = position.get_indexer(related["article_id"])
    if (sources < 0).any():
        raise ValueError("related rows of articles absent from `articles`: the warehouse is inconsistent")
    targets = position.get_indexer(related["related_article_id"])
    roots = component_roots(len(item_ids), zip(sources.tolist(), targets.tolist()))
    names = {root: short_hash("story:" + item_ids[root]) for root in set(roots)}
    return [names[root] for root in roots]


def component_roots(n_nodes: int, edges: Iterable[tuple[int, int]]) -> list[int]:
    """For each node 0..n_nodes-1, the smallest node of its connected component.

    Union-find with path halving, in loops rather than recursion so long chains are safe.
    Linking the larger root under the smaller keeps every root its component's smallest node.
    """
    parent = list(range(n_nodes))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    return [find(i) for i in range(n_nodes)]


def add_timing(items: pd.DataFrame) -> pd.DataFrame:
    """Items with `lag_minutes` and `is_first`: the first item is the earliest dated one, and
    the smallest item_id among equally early ones, so exactly one per story that has a date."""
    first_at = items.groupby("story_id")["published_at"].transform("min")
    lag = (items["published_at"] - first_at).dt.total_seconds() / 60
    dated = items[items["published_at"].notna()].sort_values(["published_at", "item_id"])
    first = dated.drop_duplicates("story_id").index
    return items.assign(lag_minutes=lag.astype("Float64"), is_first=items.index.isin(first))


def story_rows(members: pd.DataFrame, article_topics: pd.DataFrame) -> pd.DataFrame:
    """One row per story, aggregated over its members."""
    groups = members.groupby("story_id")
    published = groups["published_at"]
    first_provider = members[members["is_first"]].set_index("story_id")["provider_domain"]
    stories = (
        pd.DataFrame(
            {
                "n_items": groups.size(),
                "n_providers": groups["provider_domain"].nunique(),
                "first_published_at": published.min(),
                "first_provider_domain": first_provider,
                "span_hours": ((published.max() - published.min()).dt.total_seconds() / 3600).astype("Float64"),
                "quality_mean": groups["quality"].mean().astype("Float64"),
            }
        )
        .rename_axis("story_id")
        .reset_index()
    )
    topics = story_topics(members, article_topics)
    stories["topic_ids"] = [topics.get(story, []) for story in stories["story_id"]]
    return stories


def story_topics(members: pd.DataFrame, article_topics: pd.DataFrame) -> dict[str, list[str]]:
    """story_id → sorted distinct topic ids of its articles (stories without topics are absent).

    A plain loop over the de-duplicated, sorted pairs: a per-group pandas aggregation costs
    a Python call per story, which is slower at 100,000 stories.
    """
    filed = article_topics.merge(members[["item_id", "story_id"]], left_on="article_id", right_on="item_id")
    pairs = filed[["story_id", "topic_id"]].drop_duplicates().sort_values(["story_id", "topic_id"])
    topics: dict[str, list[str]] = {}
    for story, topic in zip(pairs["story_id"].tolist(), pairs["topic_id"].tolist()):
        topics.setdefault(story, []).append(topic)
    return topics


def timeliness_rows(members: pd.DataFrame) -> pd.DataFrame:
    """One row per provider with a dated item in a story of at least two providers.

    Each such story counts once per provider, through the provider's earliest item: a
    provider that publishes several pieces on a story is judged by its first.
    """
    shared = members.groupby("story_id")["provider_domain"].transform("nunique") >= 2
    dated = members[shared & members["published_at"].notna() & members["provider_domain"].notna()]
    per_story = dated.groupby(["provider_domain", "story_id"]).agg(
        lag=("lag_minutes", "min"), first=("is_first", "any")
    )
    per_provider = per_story.groupby(level="provider_domain")
    rows = pd.DataFrame({"n_stories": per_provider.size(), "n_first": per_provider["first"].sum()})
    rows["first_rate"] = rows["n_first"] / rows["n_stories"]
    rows[["median_lag_minutes", "p90_lag_minutes"]] = lag_percentiles(per_story["lag"]).reindex(rows.index)
    return rows.rename_axis("provider_domain").reset_index()


def lag_percentiles(lags: pd.Series) -> pd.DataFrame:
    """Median and 90th percentile of `lags` per provider (the index's first level), computed by
    `np.percentile` (linear interpolation) as documented: one numpy call per provider, which is
    far cheaper than a pandas aggregation callback."""
    values = lags.to_numpy(dtype=float)
    positions = lags.groupby(level="provider_domain").indices
    return pd.DataFrame.from_dict(
        {provider: np.percentile(values[where], [50, 90]) for provider, where in positions.items()},
        orient="index",
        columns=["median_lag_minutes", "p90_lag_minutes"],
    )
