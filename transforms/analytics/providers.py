"""Provider quality: volume, quality distribution and a shrunk quality rank per provider.

The reference: builds compute the same tables in DuckDB with its SQL twin, `pipelines/sql/providers.py`
(tests/test_sql_analytics.py holds the two equal).

A provider appears in the warehouse as the provider of its own articles and of items in
other articles' `related` lists. Quality figures are taken over these appearances (each row
once), so a provider seen only in related lists still gets a score. `include_related=False`
restricts the appearances to the provider's own articles; the pipeline keeps the default.

A plain mean ranks a provider with one lucky 100 above one with a hundred 90s, so the rank
uses the mean shrunk towards the overall mean: (n × mean + k × overall) / (n + k).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.core.groupby import SeriesGroupBy

from newsfm.transforms.keys import related_owner_ids
from newsfm.transforms.schema import typed_frame


def provider_tables(
    warehouse: dict[str, pd.DataFrame], prior_weight: float, min_scored: int, include_related: bool = True
) -> dict[str, pd.DataFrame]:
    """Warehouse frames → the `provider_quality` and `provider_quality_monthly` frames."""
    items = appearances(warehouse, include_related)
    return {
        "provider_quality": typed_frame("provider_quality", quality_rows(warehouse, items, prior_weight, min_scored)),
        "provider_quality_monthly": typed_frame("provider_quality_monthly", monthly_rows(items)),
    }


def appearances(warehouse: dict[str, pd.DataFrame], include_related: bool) -> pd.DataFrame:
    """One row per appearance with a provider: provider_domain, quality (float, NaN when unscored),
    published_at (may be NaT for related items) and has_image.

    Images are joined by owner: an article owns its images by article_id, a related row by
    `keys.related_owner_id`.
    """
    articles, images = warehouse["articles"], warehouse["images"]
    parts = [appearance_rows(articles, articles["article_id"], owner_ids(images, "article"))]
    if include_related:
        related = warehouse["related"]
        owners = related_owner_ids(related["article_id"], related["position"])
        parts.append(appearance_rows(related, owners, owner_ids(images, "related")))
    items = pd.concat(parts, ignore_index=True)
    return items[items["provider_domain"].notna()].reset_index(drop=True)


def owner_ids(images: pd.DataFrame, owner_type: str) -> pd.Series:
    return images.loc[images["owner_type"] == owner_type, "owner_id"]


def appearance_rows(rows: pd.DataFrame, owners: pd.Series, with_image: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "provider_domain": rows["provider_domain"],
            "quality": rows["quality"].to_numpy(dtype="float64", na_value=np.nan),
            "published_at": rows["published_at"],
            "has_image": owners.isin(with_image).to_numpy(dtype=bool),
        }
    )


def quality_rows(
    warehouse: dict[str, pd.DataFrame], items: pd.DataFrame, prior_weight: float, min_scored: int
) -> pd.DataFrame:
    """One row per provider of `providers`, with every provider_quality column.

    Providers without appearances keep zero counts, null quality figures and a share of 0.
    """
    rows = warehouse["providers"].set_index("provider_domain")[["provider_name"]]
    rows["n_articles"] = counts(warehouse["articles"]["provider_domain"], rows.index)
    rows["n_related"] = counts(warehouse["related"]["provider_domain"], rows.index)
    rows = rows.join(quality_stats(items))
    rows["n_scored"] = rows["n_scored"].fillna(0).astype("int64")
    overall = items["quality"].mean()
    shrunk = (rows["n_scored"] * rows["quality_mean"] + prior_weight * overall) / (rows["n_scored"] + prior_weight)
    rows["quality_shrunk"] = shrunk.where(rows["n_scored"] > 0)
    rows["quality_rank"] = dense_rank(rows["quality_shrunk"].where(rows["n_scored"] >= min_scored))
    per_provider = items.groupby("provider_domain")
    rows["share_with_image"] = per_provider["has_image"].mean().reindex(rows.index).fillna(0.0)
    rows["first_published_at"] = per_provider["published_at"].min()
    rows["last_published_at"] = per_provider["published_at"].max()
    rows = rows.join(topic_figures(warehouse["articles"], warehouse["article_topics"]))
    rows["n_topics"] = rows["n_topics"].fillna(0).astype("int64")
    return rows.reset_index()


def counts(domains: pd.Series, index: pd.Index) -> pd.Series:
    """Rows per provider of `index`, 0 for a provider without rows."""
    return domains.value_counts().reindex(index, fill_value=0)


def quality_stats(items: pd.DataFrame) -> pd.DataFrame:
    """Distribution of `quality` over each provider's scored appearances (percentiles: linear)."""
    items = items.dropna(subset=["quality"])
    scored = items.groupby("provider_domain")["quality"]
    return pd.DataFrame(
        {
            "n_scored": scored.size(),
            "quality_mean": scored.mean(),
            "quality_median": scored.median(),
            "quality_p10": scored.quantile(0.1),
            "quality_p90": scored.quantile(0.9),
            "quality_min": scored.min(),
            "quality_max": scored.max(),
            "quality_std": sample_std(scored, (items["quality"] * items["quality"]).groupby(items["provider_domain"])),
        }
    )


def sample_std(scored: SeriesGroupBy, squared: SeriesGroupBy) -> pd.Series:
    """Standard deviation (ddof=1; NaN for a single score) from the sums of the scores and of
    their squares. Scores are integers, so both sums are exact in any order: the figure is the
    same in every run and in the out-of-core build, whose engine adds in no fixed order."""
    n, total = scored.count(), scored.sum()
    return np.sqrt(np.maximum(squared.sum() - total * total / n, 0) / (n - 1)).where(n > 1)


def dense_rank(values: pd.Series) -> pd.Series:
    """1 = highest; equal values share a rank and ranks have no gaps; NaN stays null."""
    return values.rank(method="dense", ascending=False).astype("Int64")


def topic_figures(articles: pd.DataFrame, article_topics: pd.DataFrame) -> pd.DataFrame:
    """n_topics and top_topic_id (most articles, ties: smallest id) of each provider's own articles."""
    filed = article_topics[["article_id", "topic_id"]].merge(
        articles[["article_id", "provider_domain"]].dropna(), on="article_id"
    )
    per_topic = filed.groupby(["provider_domain", "topic_id"]).size().rename("n").reset_index()
    top = per_topic.sort_values(["provider_domain", "n", "topic_id"], ascending=[True, False, True])
    return pd.DataFrame(
        {
            "n_topics": per_topic.groupby("provider_domain").size(),
            "top_topic_id": top.drop_duplicates("provider_domain").set_index("provider_domain")["topic_id"],
        }
    )


def monthly_rows(items: pd.DataFrame) -> pd.DataFrame:
    """Provider × UTC calendar month over the appearances that have a published_at."""
    dated = items[items["published_at"].notna()]
    month = dated["published_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M").rename("month")
    grouped = dated.groupby(["provider_domain", month])["quality"]
    rows = pd.DataFrame(
        {"n_items": grouped.size(), "n_scored": grouped.count(), "quality_mean": grouped.mean()}
    ).reset_index()
    rows["month"] = rows["month"].dt.start_time.dt.date
    return rows
