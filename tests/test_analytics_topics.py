"""topic_coverage, topic_coverage_daily, topic_provider and topic_cooccurrence: exact values on
the hand-built warehouse, and properties over generated warehouses (the `warehouses` strategy
is shared with the provider tests)."""

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsfm.transforms.analytics.topics import topic_tables
from newsfm.transforms.schema import TABLES, conform, frame
from tests.conftest import examples
from tests.handbuilt import handbuilt_warehouse

UTC = dt.timezone.utc


def column(table: pd.DataFrame, name: str) -> list:
    """A column as a list, with None for missing values, for comparing with literals."""
    return [None if pd.isna(value) else value for value in table[name].tolist()]


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def tables():
    return topic_tables(handbuilt_warehouse())


def test_coverage_has_a_row_per_topic_even_without_articles(tables):
    coverage = tables["topic_coverage"]
    assert column(coverage, "topic_id") == ["ai", "aws-ai", "ml", "robotics"]
    assert column(coverage, "topic_name") == ["AI", "AWS AI", "Machine Learning", "Robotics"]
    assert column(coverage, "parent_topic_id") == [None, None, "ai", "ai"]
    # ai has no article of its own; aws-ai: a3, a6; ml: a1, a2, a3; robotics: a1, a2, a4 (of 6 articles)
    assert column(coverage, "n_articles") == [0, 2, 3, 3]
    assert column(coverage, "share_of_articles") == pytest.approx([0.0, 2 / 6, 3 / 6, 3 / 6])
    assert column(coverage, "n_providers") == [0, 2, 1, 2]
    # aws-ai and robotics: ties (1–1) and 2–1 go to alpha.com
    assert column(coverage, "top_provider_domain") == [None, "alpha.com", "alpha.com", "alpha.com"]
    # aws-ai: a3 unscored, a6 70; ml (80 + 60) / 2; robotics (80 + 60 + 40) / 3
    assert column(coverage, "quality_mean") == pytest.approx([None, 70.0, 70.0, 60.0])
    # related rows: a1 2, a2 1, a3 0, a4 1, a6 1
    assert column(coverage, "n_related") == [0, 1, 3, 4]
    assert column(coverage, "first_published_at") == [None, at(3, 1, 23, 30), at(2, 29, 10), at(2, 29, 10)]
    assert column(coverage, "last_published_at") == [None, at(3, 2, 8), at(3, 1, 23, 30), at(3, 1, 12)]


def test_rollup_counts_an_article_under_two_children_once(tables):
    coverage = tables["topic_coverage"]
    # ai = ml ∪ robotics = {a1, a2, a3} ∪ {a1, a2, a4}: 4 articles, not 3 + 3
    assert column(coverage, "n_articles_rollup") == [4, 2, 3, 3]
    assert column(coverage, "share_of_articles_rollup") == pytest.approx([4 / 6, 2 / 6, 3 / 6, 3 / 6])
    assert column(coverage, "n_providers_rollup") == [2, 2, 1, 2]
    assert column(coverage, "top_provider_domain_rollup") == ["alpha.com", "alpha.com", "alpha.com", "alpha.com"]
    # ai: (80 + 60 + 40) / 3, a3 unscored
    assert column(coverage, "quality_mean_rollup") == pytest.approx([60.0, 70.0, 70.0, 60.0])
    # ai: a1 2 + a2 1 + a3 0 + a4 1
    assert column(coverage, "n_related_rollup") == [4, 1, 3, 4]
    assert column(coverage, "first_published_at_rollup") == [
        at(2, 29, 10),
        at(3, 1, 23, 30),
        at(2, 29, 10),
        at(2, 29, 10),
    ]
    assert column(coverage, "last_published_at_rollup") == [
        at(3, 1, 23, 30),
        at(3, 2, 8),
        at(3, 1, 23, 30),
        at(3, 1, 12),
    ]


def test_share_of_day_splits_each_article_among_its_topics(tables):
    daily = tables["topic_coverage_daily"]
    assert column(daily, "topic_id") == ["aws-ai", "aws-ai", "ml", "ml", "robotics", "robotics"]
    days = [dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 2, 29), dt.date(2024, 3, 1)]
    assert column(daily, "day") == [days[0], days[1], days[2], days[3], days[2], days[3]]
    assert column(daily, "n_articles") == [1, 1, 1, 2, 1, 2]
    assert column(daily, "n_providers") == [1, 1, 1, 1, 1, 2]
    # 02-29: a1 {ml, robotics} → ½ each.
    # 03-01 (a3 at 23:30 UTC included): a2 {robotics, ml}, a3 {aws-ai, ml}, a4 {robotics} → 3 articles;
    #   aws-ai ½ / 3, ml (½ + ½) / 3, robotics (½ + 1) / 3.
    # 03-02: a5 has no topics and does not count; a6 {aws-ai} → 1.
    assert column(daily, "share_of_day") == pytest.approx([1 / 6, 1.0, 0.5, 1 / 3, 0.5, 0.5])


def test_topic_provider_shares(tables):
    pairs = tables["topic_provider"]
    assert column(pairs, "topic_id") == ["aws-ai", "aws-ai", "ml", "robotics", "robotics"]
    assert column(pairs, "provider_domain") == ["alpha.com", "beta.org", "alpha.com", "alpha.com", "beta.org"]
    assert column(pairs, "n_articles") == [1, 1, 3, 2, 1]
    assert column(pairs, "share_of_topic") == pytest.approx([1 / 2, 1 / 2, 3 / 3, 2 / 3, 1 / 3])
    # alpha and beta have 3 articles each (beta's a5 has no topic but counts)
    assert column(pairs, "share_of_provider") == pytest.approx([1 / 3, 1 / 3, 3 / 3, 2 / 3, 1 / 3])


def test_cooccurrence_jaccard_and_lift(tables):
    pairs = tables["topic_cooccurrence"]
    assert column(pairs, "topic_a") == ["aws-ai", "ml"]
    assert column(pairs, "topic_b") == ["ml", "robotics"]
    assert column(pairs, "n_articles") == [1, 2]  # a3; a1, a2
    # aws-ai (2) and ml (3): 1 / (2 + 3 - 1); ml (3) and robotics (3): 2 / (3 + 3 - 2)
    assert column(pairs, "jaccard") == pytest.approx([0.25, 0.5])
    # 1 × 6 / (2 × 3); 2 × 6 / (3 × 3)
    assert column(pairs, "lift") == pytest.approx([1.0, 4 / 3])


# Generated warehouses ------------------------------------------------------------------------

DOMAINS = ["p0.com", "p1.com", "p2.com", "p3.com"]
START = dt.datetime(2024, 1, 30, tzinfo=UTC)  # five days from here cross a month end
times = st.integers(0, 5 * 24 * 60).map(lambda minutes: START + dt.timedelta(minutes=minutes))
qualities = st.none() | st.sampled_from([40, 60, 80])  # few values, so that providers tie


def table(name: str, **columns: list) -> pd.DataFrame:
    """Frame `name` from the given columns; the others are null."""
    n = len(next(iter(columns.values())))
    return frame(name, {c: columns.get(c, [None] * n) for c in TABLES[name].columns})


@st.composite
def warehouses(draw) -> dict[str, pd.DataFrame]:
    """Small random warehouses: providers with and without appearances, parent links (cycles
    included), articles with random providers, days, qualities, topics and images, related rows."""
    domains = DOMAINS[: draw(st.integers(1, len(DOMAINS)))]
    topic_ids = [f"t{i}" for i in range(draw(st.integers(1, 5)))]
    parents = [draw(st.none() | st.sampled_from(topic_ids)) for _ in topic_ids]
    providers = st.none() | st.sampled_from(domains)
    article_ids = [f"a{i:02d}" for i in range(draw(st.integers(0, 12)))]
    articles = [
        draw(st.tuples(providers, times, qualities, st.lists(st.sampled_from(topic_ids), unique=True, max_size=3)))
        for _ in article_ids
    ]
    related = [
        (key, position, draw(st.tuples(providers, st.none() | times, qualities)))
        for key in article_ids
        for position in range(draw(st.integers(0, 2)))
    ]
    owners = [("article", key) for key in article_ids] + [("related", f"{key}:{p}") for key, p, _ in related]
    with_image = [owner for owner in owners if draw(st.booleans())]
    links = [(key, topic, p) for key, (*_, topics) in zip(article_ids, articles) for p, topic in enumerate(topics)]
    paths = [f"{key}.md" for key in article_ids]
    return {
        "sources": table("sources", source_path=paths, kind=["article"] * len(paths), status=["loaded"] * len(paths)),
        "articles": table(
            "articles",
            article_id=article_ids,
            source_path=paths,
            title=article_ids,
            published_at=[a[1] for a in articles],
            web_url=paths,
            url_source=["webUrl"] * len(paths),
            canonical_url=paths,
            quality=[a[2] for a in articles],
            provider_domain=[a[0] for a in articles],
        ),
        "providers": table("providers", provider_domain=domains, origin=["observed"] * len(domains)),
        "topics": table(
            "topics",
            topic_id=topic_ids,
            topic_name=topic_ids,
            parent_topic_id=parents,
            keywords=[[] for _ in topic_ids],
            origin=["taxonomy"] * len(topic_ids),
        ),
        "article_topics": table(
            "article_topics",
            article_id=[key for key, _, _ in links],
            topic_id=[topic for _, topic, _ in links],
            position=[p for _, _, p in links],
        ),
        "related": table(
            "related",
            article_id=[key for key, _, _ in related],
            position=[p for _, p, _ in related],
            related_article_id=[f"r-{key}-{p}" for key, p, _ in related],
            web_url=[f"https://x/{key}/{p}" for key, p, _ in related],
            url_source=["webUrl"] * len(related),
            provider_domain=[r[0] for *_, r in related],
            published_at=[r[1] for *_, r in related],
            quality=[r[2] for *_, r in related],
        ),
        "images": table(
            "images",
            owner_type=[kind for kind, _ in with_image],
            owner_id=[owner for _, owner in with_image],
            position=[0] * len(with_image),
            url=["https://img/x.jpg"] * len(with_image),
        ),
    }


def descendants(topics: pd.DataFrame) -> dict[str, set[str]]:
    """Each topic with all topics below it, by growing the sets until nothing changes."""
    below = {topic: {topic} for topic in topics["topic_id"]}
    changed = True
    while changed:
        changed = False
        for topic, parent in zip(topics["topic_id"], topics["parent_topic_id"]):
            if not pd.isna(parent) and not below[topic] <= below[parent]:
                below[parent] |= below[topic]
                changed = True
    return below


@settings(max_examples=examples(50), deadline=None)
@given(warehouses())
def test_properties_of_generated_warehouses(warehouse):
    tables = topic_tables(warehouse)
    for name, result in tables.items():
        conform(name, result)

    daily = tables["topic_coverage_daily"]
    assert ((daily.groupby("day")["share_of_day"].sum() - 1).abs() < 1e-9).all()

    coverage = tables["topic_coverage"]
    assert column(coverage, "topic_id") == sorted(warehouse["topics"]["topic_id"])
    assert (coverage["n_articles_rollup"] >= coverage["n_articles"]).all()
    filed = warehouse["article_topics"].groupby("topic_id")["article_id"].agg(set)
    expected = {
        topic: len(set().union(*(filed.get(t, set()) for t in below)))
        for topic, below in descendants(warehouse["topics"]).items()
    }
    assert dict(zip(coverage["topic_id"], coverage["n_articles_rollup"])) == expected

    pairs = tables["topic_cooccurrence"]
    assert (pairs["topic_a"] < pairs["topic_b"]).all()
    assert ((pairs["jaccard"] > 0) & (pairs["jaccard"] <= 1)).all()
    shares = tables["topic_provider"].groupby("topic_id")["share_of_topic"].sum()
    assert (shares <= 1 + 1e-9).all()
