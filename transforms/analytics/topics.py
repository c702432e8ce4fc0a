"""Topic coverage: who covers each topic, how well and when; daily attention; topic pairs.

The reference: builds compute the same tables in DuckDB with its SQL twin, `pipelines/sql/topics.py`
(tests/test_sql_analytics.py holds the two equal).

Everything starts from `filed`: one row per (topic, article) of `article_topics`, with the
article's provider, quality, published_at and number of related rows. The taxonomy rollup
reuses the same figures over (ancestor, article) pairs, each pair once, so a parent counts an
article filed under two of its children once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from newsfm.transforms.schema import typed_frame

FIGURES = [
    "n_articles",
    "share_of_articles",
    "n_providers",
    "top_provider_domain",
    "quality_mean",
    "n_related",
    "first_published_at",
    "last_published_at",
]


def topic_tables(warehouse: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Warehouse frames → `topic_coverage`, `topic_coverage_daily`, `topic_provider`, `topic_cooccurrence`."""
    articles = warehouse["articles"]
    filed = filed_articles(articles, warehouse["article_topics"], warehouse["related"])
    return {
        "topic_coverage": typed_frame("topic_coverage", coverage_rows(warehouse["topics"], filed, len(articles))),
        "topic_coverage_daily": typed_frame("topic_coverage_daily", daily_rows(filed)),
        "topic_provider": typed_frame("topic_provider", provider_rows(filed, articles)),
        "topic_cooccurrence": typed_frame("topic_cooccurrence", cooccurrence_rows(filed, len(articles))),
    }


def filed_articles(articles: pd.DataFrame, article_topics: pd.DataFrame, related: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct (topic_id, article_id) of a known article, with the article's attributes."""
    attributes = pd.DataFrame(
        {
            "article_id": articles["article_id"],
            "provider_domain": articles["provider_domain"],
            "quality": articles["quality"].to_numpy(dtype="float64", na_value=np.nan),
            "published_at": articles["published_at"],
            "n_related": articles["article_id"].map(related["article_id"].value_counts()).fillna(0).astype("int64"),
        }
    )
    links = article_topics[["topic_id", "article_id"]].drop_duplicates()
    return links.merge(attributes, on="article_id")


def coverage_rows(topics: pd.DataFrame, filed: pd.DataFrame, n_total: int) -> pd.DataFrame:
    """One row per topic of `topics`: its own figures and the `_rollup` ones over its descendants."""
    rows = topics.set_index("topic_id")[["topic_name", "parent_topic_id"]]
    rollup = filed.merge(ancestor_links(topics), on="topic_id")
    rollup = rollup.drop(columns="topic_id").rename(columns={"ancestor_id": "topic_id"})
    rollup = rollup.drop_duplicates(["topic_id", "article_id"])
    for suffix, pairs in (("", filed), ("_rollup", rollup)):
        figures = coverage_figures(pairs).reindex(rows.index)
        for count in ("n_articles", "n_providers", "n_related"):  # a topic without articles has zeros
            figures[count] = figures[count].fillna(0).astype("int64")
        figures["share_of_articles"] = figures["n_articles"] / n_total if n_total else np.nan
        rows = rows.join(figures[FIGURES].add_suffix(suffix))
    return rows.reset_index()


def coverage_figures(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per topic_id of `pairs` (one row per distinct topic × article): counts, top provider, quality, dates."""
    grouped = pairs.groupby("topic_id")
    return pd.DataFrame(
        {
            "n_articles": grouped.size(),
            "n_providers": grouped["provider_domain"].nunique(),
            "top_provider_domain": top_provider(pairs),
            "quality_mean": grouped["quality"].mean(),
            "n_related": grouped["n_related"].sum(),
            "first_published_at": grouped["published_at"].min(),
            "last_published_at": grouped["published_at"].max(),
        }
    )


def top_provider(pairs: pd.DataFrame) -> pd.Series:
    """Per topic, the provider with most of its articles; ties go to the smallest domain."""
    counts = pairs.groupby(["topic_id", "provider_domain"]).size().rename("n").reset_index()
    counts = counts.sort_values(["topic_id", "n", "provider_domain"], ascending=[True, False, True])
    return counts.drop_duplicates("topic_id").set_index("topic_id")["provider_domain"]


def ancestor_links(topics: pd.DataFrame) -> pd.DataFrame:
    """(topic_id, ancestor_id) for each topic and itself and every ancestor along parent_topic_id.

    A walk stops at a topic it has already met, so a cycle in the parent links (possible in
    a hand-edited taxonomy) ends; each topic of a cycle then rolls up the whole cycle.
    """
    children = topics.dropna(subset=["parent_topic_id"])
    parent = dict(zip(children["topic_id"].tolist(), children["parent_topic_id"].tolist()))
    links = []
    for topic in topics["topic_id"].tolist():
        seen, current = set(), topic
        while current is not None and current not in seen:
            seen.add(current)
            links.append((topic, current))
            current = parent.get(current)
    return pd.DataFrame(links, columns=["topic_id", "ancestor_id"], dtype="string")


def daily_rows(filed: pd.DataFrame) -> pd.DataFrame:
    """Topic × UTC day: counts and the topic's share of the day's attention.

    Each article of the day with topics has weight 1, split equally among its topics, so a
    prolific multi-topic article does not count as several; dividing by that day's number of
    such articles makes the shares of a day sum to 1.
    """
    filed = filed.assign(
        day=filed["published_at"].dt.floor("D"),
        weight=1 / filed.groupby("article_id")["topic_id"].transform("size"),
    )
    articles_per_day = filed.groupby("day")["article_id"].nunique()
    grouped = filed.groupby(["topic_id", "day"])
    rows = pd.DataFrame(
        {
            "n_articles": grouped.size(),
            "n_providers": grouped["provider_domain"].nunique(),
            "weight": grouped["weight"].sum(),
        }
    ).reset_index()
    rows["share_of_day"] = rows["weight"] / lookup(articles_per_day, rows["day"])
    rows["day"] = rows["day"].dt.date
    return rows


def provider_rows(filed: pd.DataFrame, articles: pd.DataFrame) -> pd.DataFrame:
    """Topic × provider pairs with articles, as shares of the topic's and of the provider's articles.

    The denominators are all articles of the topic (also those without a provider) and all
    articles of the provider (also those without topics).
    """
    with_provider = filed.dropna(subset=["provider_domain"])
    rows = with_provider.groupby(["topic_id", "provider_domain"]).size().rename("n_articles").reset_index()
    per_topic = filed["topic_id"].value_counts()
    per_provider = articles["provider_domain"].value_counts()
    rows["share_of_topic"] = rows["n_articles"] / lookup(per_topic, rows["topic_id"])
    rows["share_of_provider"] = rows["n_articles"] / lookup(per_provider, rows["provider_domain"])
    return rows


def cooccurrence_rows(filed: pd.DataFrame, n_total: int) -> pd.DataFrame:
    """Unordered topic pairs filed together: count, Jaccard index and lift."""
    links = filed[["article_id", "topic_id"]]
    pairs = links.merge(links, on="article_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs["topic_id_a"] < pairs["topic_id_b"]]
    rows = pairs.groupby(["topic_id_a", "topic_id_b"]).size().rename("n_articles").reset_index()
    rows = rows.rename(columns={"topic_id_a": "topic_a", "topic_id_b": "topic_b"})
    per_topic = links["topic_id"].value_counts()
    n_a, n_b = lookup(per_topic, rows["topic_a"]), lookup(per_topic, rows["topic_b"])
    rows["jaccard"] = rows["n_articles"] / (n_a + n_b - rows["n_articles"])
    rows["lift"] = rows["n_articles"] * n_total / (n_a * n_b)
    return rows


def lookup(counts: pd.Series, keys: pd.Series) -> np.ndarray:
    """`counts[key]` for each key, as a plain array (also when `keys` is empty)."""
    return counts.reindex(keys).to_numpy()
