"""Analytics tables: pure functions of the warehouse frames, one module per family.

- `providers`: provider_quality, provider_quality_monthly
- `topics`: topic_coverage, topic_coverage_daily, topic_provider, topic_cooccurrence
- `stories`: stories, story_members, provider_timeliness
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from transforms.analytics.providers import provider_tables
from transforms.analytics.stories import story_tables
from transforms.analytics.topics import topic_tables
from transforms.schema import to_frame
from transforms.settings import DEFAULTS

# The warehouse columns analytics (and the build summary) read; other tables are read whole.
# Builds hand over only these, so the corpus' text is never held for analytics.
INPUT_COLUMNS = {
    "sources": ["source_path", "kind", "status", "reason"],
    "articles": ["article_id", "published_at", "provider_domain", "quality"],
    "related": ["article_id", "position", "related_article_id", "published_at", "provider_domain", "quality"],
    "images": ["owner_type", "owner_id"],
}


def input_frame(name: str, table: pa.Table) -> pd.DataFrame:
    """The columns of warehouse table `name` that analytics read, as a typed frame."""
    return to_frame(table.select(INPUT_COLUMNS.get(name, table.column_names)))


def analytics_tables(
    warehouse: dict[str, pd.DataFrame],
    prior_weight: float = DEFAULTS.prior_weight,
    min_scored: int = DEFAULTS.min_scored,
) -> dict[str, pd.DataFrame]:
    """Warehouse frames (as `transforms.normalize.combine` returns them) → every analytics frame."""
    return {
        **provider_tables(warehouse, prior_weight=prior_weight, min_scored=min_scored),
        **topic_tables(warehouse),
        **story_tables(warehouse),
    }
