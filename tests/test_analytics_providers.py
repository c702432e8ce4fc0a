"""provider_quality and provider_quality_monthly: exact values on the hand-built warehouse, and
properties over generated ones."""

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsfm.transforms.analytics.providers import provider_tables
from newsfm.transforms.schema import conform
from tests.conftest import examples
from tests.handbuilt import handbuilt_warehouse
from tests.test_analytics_topics import column, warehouses

UTC = dt.timezone.utc


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def warehouse():
    return handbuilt_warehouse()


@pytest.fixture(scope="module")
def quality(warehouse):
    return provider_tables(warehouse, prior_weight=10, min_scored=3)["provider_quality"]


@pytest.fixture(scope="module")
def articles_only(warehouse):
    return provider_tables(warehouse, prior_weight=10, min_scored=3, include_related=False)


def test_one_row_per_provider_including_related_only_ones(quality):
    assert column(quality, "provider_domain") == ["alpha.com", "beta.org", "gamma.net"]
    assert column(quality, "provider_name") == ["Alpha News", "Beta", "Gamma Daily"]
    assert column(quality, "n_articles") == [3, 3, 0]
    assert column(quality, "n_related") == [0, 2, 3]


def test_quality_distribution_over_articles_and_related_items(quality):
    # alpha: articles 80, 60 (a3 unscored); beta: articles 40, 50, 70 + related 40, 50;
    # gamma: related 90, 90 (g2 unscored)
    assert column(quality, "n_scored") == [2, 5, 2]
    assert column(quality, "quality_mean") == pytest.approx([70.0, 50.0, 90.0])
    assert column(quality, "quality_median") == pytest.approx([70.0, 50.0, 90.0])
    # alpha [60, 80]: p10 = 60 + 0.1 × 20; beta [40, 40, 50, 50, 70]: p90 at 3.6 = 50 + 0.6 × 20
    assert column(quality, "quality_p10") == pytest.approx([62.0, 40.0, 90.0])
    assert column(quality, "quality_p90") == pytest.approx([78.0, 62.0, 90.0])
    assert column(quality, "quality_min") == pytest.approx([60.0, 40.0, 90.0])
    assert column(quality, "quality_max") == pytest.approx([80.0, 70.0, 90.0])
    # alpha √((10² + 10²) / 1); beta √((10² + 10² + 0 + 0 + 20²) / 4) = √150
    assert column(quality, "quality_std") == pytest.approx([200**0.5, 150**0.5, 0.0])


def test_quality_is_shrunk_towards_the_overall_mean(quality):
    # overall mean = (80 + 60 + 40 + 50 + 70 + 40 + 50 + 90 + 90) / 9 = 570 / 9
    # alpha (2 × 70 + 10 × 570/9) / 12 = 580/9; beta (5 × 50 + 5700/9) / 15 = 530/9;
    # gamma (2 × 90 + 5700/9) / 12 = 610/9
    assert column(quality, "quality_shrunk") == pytest.approx([580 / 9, 530 / 9, 610 / 9])


def test_rank_is_null_below_min_scored(quality):
    # only beta has 3 scores; it is 1 although two providers have a higher shrunk quality
    assert column(quality, "quality_rank") == [None, 1, None]


def test_rank_is_dense_by_shrunk_quality(warehouse):
    ranked = provider_tables(warehouse, prior_weight=10, min_scored=2)["provider_quality"]
    assert column(ranked, "quality_rank") == [2, 3, 1]  # 580/9, 530/9, 610/9


def test_tied_providers_share_a_rank_and_the_next_rank_follows(warehouse):
    # with gamma's related items scored 40 and 100, alpha and gamma both average 70 over 2 scores
    tied = dict(warehouse, related=warehouse["related"].assign(quality=pd.array([40, 40, None, 100, 50], "Int64")))
    ranked = provider_tables(tied, prior_weight=0, min_scored=2)["provider_quality"]
    assert column(ranked, "quality_shrunk") == pytest.approx([70.0, 50.0, 70.0])
    assert column(ranked, "quality_rank") == [1, 2, 1]


def test_share_with_image_counts_article_and_related_images(quality):
    # alpha: a1 of a1, a2, a3 (a1's two images count once; its logo is no appearance's image)
    # beta: a4 and related a1:0 of 5; gamma: related a2:0 of 3
    assert column(quality, "share_with_image") == pytest.approx([1 / 3, 2 / 5, 1 / 3])


def test_topics_of_own_articles(quality):
    # alpha: ml ×3, robotics ×2, aws-ai ×1; beta: robotics, aws-ai once each (tie → smallest id)
    assert column(quality, "n_topics") == [3, 2, 0]
    assert column(quality, "top_topic_id") == ["ml", "aws-ai", None]


def test_first_and_last_published_over_appearances_ignoring_undated_items(quality):
    assert column(quality, "first_published_at") == [at(2, 29, 10), at(3, 1, 12), at(2, 28, 20)]
    assert column(quality, "last_published_at") == [at(3, 1, 23, 30), at(3, 2, 8), at(2, 28, 20)]


def test_without_related_items_only_own_articles_count(articles_only):
    quality = articles_only["provider_quality"]
    assert column(quality, "n_related") == [0, 2, 3]  # volumes do not change
    # beta: 40, 50, 70
    assert column(quality, "n_scored") == [2, 3, 0]
    assert column(quality, "quality_mean") == pytest.approx([70.0, 160 / 3, None])
    assert column(quality, "quality_p10") == pytest.approx([62.0, 42.0, None])  # 40 + 0.2 × 10
    assert column(quality, "quality_p90") == pytest.approx([78.0, 66.0, None])  # 50 + 0.8 × 20
    # deviations from 160/3: -40/3, -10/3, 50/3 → (1600 + 100 + 2500) / 9 / 2 = 700/3
    assert column(quality, "quality_std") == pytest.approx([200**0.5, (700 / 3) ** 0.5, None])
    # overall mean = (80 + 60 + 40 + 50 + 70) / 5 = 60: alpha (140 + 600) / 12, beta (160 + 600) / 13
    assert column(quality, "quality_shrunk") == pytest.approx([740 / 12, 760 / 13, None])
    assert column(quality, "share_with_image") == pytest.approx([1 / 3, 1 / 3, 0.0])
    assert column(quality, "first_published_at") == [at(2, 29, 10), at(3, 1, 12), None]


def test_monthly_figures(warehouse):
    monthly = provider_tables(warehouse, prior_weight=10, min_scored=3)["provider_quality_monthly"]
    assert column(monthly, "provider_domain") == ["alpha.com", "alpha.com", "beta.org", "gamma.net"]
    assert column(monthly, "month") == [
        dt.date(2024, 2, 1),
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 1),
        dt.date(2024, 2, 1),
    ]
    # gamma's undated related item (a2:0) is in no month
    assert column(monthly, "n_items") == [1, 2, 5, 2]
    assert column(monthly, "n_scored") == [1, 1, 5, 2]
    assert column(monthly, "quality_mean") == pytest.approx([80.0, 60.0, 50.0, 90.0])


def test_monthly_figures_without_related_items(articles_only):
    monthly = articles_only["provider_quality_monthly"]
    assert column(monthly, "provider_domain") == ["alpha.com", "alpha.com", "beta.org"]
    assert column(monthly, "n_items") == [1, 2, 3]
    assert column(monthly, "quality_mean") == pytest.approx([80.0, 60.0, 160 / 3])


@settings(max_examples=examples(50), deadline=None)
@given(warehouses(), st.sampled_from([0.0, 1.0, 10.0]), st.integers(0, 4), st.booleans())
def test_properties_of_generated_warehouses(warehouse, prior_weight, min_scored, include_related):
    tables = provider_tables(warehouse, prior_weight, min_scored, include_related)
    for name, frame in tables.items():
        conform(name, frame)
    quality = tables["provider_quality"]
    assert column(quality, "provider_domain") == sorted(warehouse["providers"]["provider_domain"])

    eligible = quality[(quality["n_scored"] >= min_scored) & (quality["n_scored"] > 0)]
    assert quality["quality_rank"].notna().sum() == len(eligible)
    ranks = column(eligible, "quality_rank")
    assert set(ranks) == set(range(1, len(set(ranks)) + 1))  # dense: 1..k without gaps
    by_shrunk = eligible.sort_values("quality_shrunk", ascending=False)
    assert column(by_shrunk, "quality_rank") == sorted(ranks)
    assert eligible.groupby("quality_shrunk")["quality_rank"].nunique().eq(1).all()

    monthly = tables["provider_quality_monthly"]
    scored = monthly.groupby("provider_domain")["n_scored"].sum()
    assert (scored.reindex(quality["provider_domain"], fill_value=0) <= quality["n_scored"].to_numpy()).all()
