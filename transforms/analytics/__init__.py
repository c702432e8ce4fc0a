"""Analytics tables: pure functions of the warehouse frames, one module per family.

- `providers`: provider_quality, provider_quality_monthly
- `topics`: topic_coverage, topic_coverage_daily, topic_provider, topic_cooccurrence
- `stories`: stories, story_members, provider_timeliness
"""

from __future__ import annotations

import pandas as pd

from transforms.analytics.providers import provider_tables
from transforms.analytics.stories import story_tables
from transforms.analytics.topics import topic_tables

DEFAULT_PRIOR_WEIGHT = 10.0
DEFAULT_MIN_SCORED = 3


def analytics_tables(
    warehouse: dict[str, pd.DataFrame],
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    min_scored: int = DEFAULT_MIN_SCORED,
) -> dict[str, pd.DataFrame]:
    """Warehouse frames (as `transforms.normalize.combine` returns them) → every analytics frame."""
    return {
        **provider_tables(warehouse, prior_weight=prior_weight, min_scored=min_scored),
        **topic_tables(warehouse),
        **story_tables(warehouse),
    }
