"""Analytics tables: pure functions of the warehouse frames, one module per family; the reference
that the SQL builds run (`pipelines/sql/`, a twin of the same name per module) is checked against.

- `providers`: provider_quality, provider_quality_monthly (twin: `pipelines/sql/providers.py`)
- `topics`: topic_coverage, topic_coverage_daily, topic_provider, topic_cooccurrence (`pipelines/sql/topics.py`)
- `stories`: stories, story_members, provider_timeliness (`pipelines/sql/stories.py`)
- `headlines`: the headline figures of the report and the Prefect artifact (no twin)
"""

from __future__ import annotations

import pandas as pd

from newsfm.transforms.analytics.providers import provider_tables
from newsfm.transforms.analytics.stories import story_tables
from newsfm.transforms.analytics.topics import topic_tables
from newsfm.transforms.settings import DEFAULTS

# The warehouse columns analytics read; other tables are read whole. A notebook (or
# bench/sql_analytics.py) that runs these pandas analytics on a large warehouse reads only these.
INPUT_COLUMNS = {
    "sources": ["source_path", "kind", "status", "reason"],
    "articles": ["article_id", "published_at", "provider_domain", "quality"],
    "related": ["article_id", "position", "related_article_id", "published_at", "provider_domain", "quality"],
    "images": ["owner_type", "owner_id"],
}


def analytics_tables(
    warehouse: dict[str, pd.DataFrame],
    prior_weight: float = DEFAULTS.prior_weight,
    min_scored: int = DEFAULTS.min_scored,
) -> dict[str, pd.DataFrame]:
    """Warehouse frames (as `transforms.pipeline.warehouse_frames` makes them) → every analytics frame."""
    return {
        **provider_tables(warehouse, prior_weight=prior_weight, min_scored=min_scored),
        **topic_tables(warehouse),
        **story_tables(warehouse),
    }
