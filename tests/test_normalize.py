"""Normalization: extracted files → the warehouse tables, with exact values on hand-built trees."""

import datetime as dt

import pandas as pd
import pytest

from newsfm.transforms.extract import extract
from newsfm.transforms.keys import article_id
from newsfm.transforms.normalize import normalize_batch
from newsfm.transforms.pipeline import warehouse_frames
from newsfm.transforms.schema import TABLES
from tests.conftest import SEED, news

UTC = dt.timezone.utc
A_URL = "https://www.site1.com/story-a/?utm_source=feed"
B_URL = "https://site2.com/b"

TREE = {
    "_data/topics/ai.yaml": b"taxonomy: topic\n_id: ai\nname: AI\nkeywords:\n  - ai\n---",
    "_data/topics/ml.yaml": b"_id: machine-learning\nname: Machine Learning\nparent: AI\nkeywords: [ml, ML, deep learning]\n",
    "news/a.md": news(f"""
        title: "Story A"
        publishedDateTime: 2020-01-01T10:00:00Z
        webUrl: "{A_URL}"
        quality: "70"
        provider:
          name: Site One
          domain: site1.com
          images:
            - url: /logos/site1.png
              width: 50
              height: 50
        topics: [AI, Robots, ai]
        images:
          - url: https://img/a.jpg
            width: 10
            height: 20
            isCached: true
        related:
          - title: "Story B"
            webUrl: "{B_URL}/"
            publishedDateTime: 2020-01-01T11:00:00Z
            provider: {{name: Site Two, domain: www.site2.com}}
            quality: 80
            images:
              - url: https://img/b.jpg
          - webUrl: https://site3.com/c
            provider: {{name: S3, domain: site3.com}}
    """),
    "news/b.md": news(f"""
        title: "Story B, first copy"
        publishedDateTime: 2020-01-01T11:00:00Z
        webUrl: "{B_URL}"
        provider: {{name: Site 2, domain: site2.com}}
        topics: [Robots, Quantum]
    """),
    "news/b-copy.md": news("""
        title: "Story B"
        publishedDateTime: 2020-01-02T00:00:00+01:00
        webUrl: "https://SITE2.com/b#comments"
        provider: {name: Site Two, domain: site2.com}
        topics: [Machine Learning]
    """),
    "news/bad.md": b"Just text, no front matter.\n",
    "notes.txt": b"not an input\n",
}
A, B = article_id(A_URL), article_id(B_URL)


def build(tree: dict[str, bytes], batch_size: int = 100) -> dict[str, pd.DataFrame]:
    files = [extract(path, data) for path, data in tree.items()]
    return warehouse_frames(normalize_batch(files[i : i + batch_size]) for i in range(0, len(files), batch_size))


def records(frame: pd.DataFrame, *columns: str) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in row) for row in frame[list(columns)].itertuples(index=False)]


@pytest.fixture(scope="module")
def tables():
    return build(TREE)


def test_sources_account_for_every_file(tables):
    assert records(tables["sources"], "source_path", "kind", "status", "article_id", "reason") == [
        ("_data/topics/ai.yaml", "taxonomy", "loaded", None, None),
        ("_data/topics/ml.yaml", "taxonomy", "loaded", None, None),
        ("news/a.md", "article", "loaded", A, None),
        ("news/b-copy.md", "article", "loaded", B, None),
        ("news/b.md", "article", "duplicate", B, None),
        ("news/bad.md", "article", "rejected", None, "no_front_matter"),
        ("notes.txt", "other", "skipped", None, "unsupported_file"),
    ]
    duplicate = tables["sources"].set_index("source_path").loc["news/b.md"]
    assert duplicate["message"].startswith("same canonical URL as news/b-copy.md")
    assert duplicate["size_bytes"] == len(TREE["news/b.md"])


def test_duplicates_keep_the_later_publication(tables):
    assert records(tables["articles"], "article_id", "source_path", "title", "published_at", "canonical_url", "quality", "provider_domain") == sorted([
        (A, "news/a.md", "Story A", pd.Timestamp("2020-01-01T10:00Z"), "https://www.site1.com/story-a", 70, "site1.com"),
        (B, "news/b-copy.md", "Story B", pd.Timestamp("2020-01-01T23:00Z"), "https://site2.com/b", None, "site2.com"),
    ])


def test_providers_include_those_seen_only_in_related_items(tables):
    assert records(tables["providers"], "provider_domain", "provider_name", "logo_url") == [
        ("site1.com", "Site One", "/logos/site1.png"),
        ("site2.com", "Site Two", None),  # the duplicate's "Site 2" does not count
        ("site3.com", "S3", None),
    ]


def test_topics_come_from_the_taxonomy_and_the_articles(tables):
    topics = tables["topics"]
    assert records(topics, "topic_id", "topic_name", "parent_topic_id", "origin") == [
        ("ai", "AI", None, "taxonomy"),
        ("machine-learning", "Machine Learning", "ai", "taxonomy"),
        ("robots", "Robots", None, "observed"),
    ]  # no "quantum": only the duplicate news/b.md names it
    assert [list(k) for k in topics["keywords"]] == [["ai"], ["ml", "deep learning"], []]


def test_article_topics_keep_the_first_position_of_a_repeated_topic(tables):
    assert records(tables["article_topics"], "article_id", "topic_id", "position") == sorted(
        [(A, "ai", 0), (A, "robots", 1), (B, "machine-learning", 0)]
    )


def test_related_items_join_articles_by_the_same_key(tables):
    related = tables["related"]
    assert records(related, "article_id", "position", "related_article_id", "provider_domain", "quality") == [
        (A, 0, B, "site2.com", 80),
        (A, 1, article_id("https://site3.com/c"), "site3.com", None),
    ]
    assert set(related["related_article_id"]) & set(tables["articles"]["article_id"]) == {B}


def test_images_of_articles_related_items_and_providers(tables):
    assert records(tables["images"], "owner_type", "owner_id", "position", "url", "width", "height", "is_cached") == [
        ("article", A, 0, "https://img/a.jpg", 10, 20, True),
        ("provider", "site1.com", 0, "/logos/site1.png", 50, 50, None),
        ("related", f"{A}:0", 0, "https://img/b.jpg", None, None, None),
    ]


def test_batching_does_not_change_the_result(tables):
    for size in (1, 2, 3):
        for name, frame in build(TREE, batch_size=size).items():
            pd.testing.assert_frame_equal(frame, tables[name])


def test_file_order_does_not_change_the_result(tables):
    reordered = build(dict(reversed(list(TREE.items()))))
    for name in tables:
        pd.testing.assert_frame_equal(reordered[name], tables[name])


def test_equal_publication_times_go_to_the_later_path():
    twin = news("title: T\npublishedDateTime: 2020-01-01T00:00:00Z\nwebUrl: https://e.com/x")
    sources = build({"a/x.md": twin, "b/x.md": twin})["sources"]
    assert records(sources, "source_path", "status") == [("a/x.md", "duplicate"), ("b/x.md", "loaded")]


def test_the_seed():
    tables = build({SEED.name: SEED.read_bytes()})
    images = tables["images"]
    assert len(tables["related"]) == 14
    assert images["owner_type"].value_counts().to_dict() == {"related": 13, "article": 1, "provider": 1}
    assert records(tables["topics"], "topic_id", "topic_name", "origin") == [
        ("ai", "AI", "observed"), ("aws-ai", "AWS AI", "observed"), ("computer-vision", "Computer Vision", "observed")
    ]
    assert records(tables["article_topics"], "topic_id", "position") == [("aws-ai", 0), ("ai", 1), ("computer-vision", 2)]
    assert len(tables["providers"]) == 14  # businessinsider.com and 13 related providers (thestreet.com twice)
    assert tables["articles"]["article_id"].tolist() == ["84bf9470fdcd92f2"]
    assert tables["related"]["quality"].tolist() == [102, 93, 92, 91, 89, 87, 83, 74, 59, 59, 54, 50, 42, 39]


def test_frames_have_no_object_columns(tables):
    for name, frame in tables.items():
        assert list(frame.columns) == TABLES[name].columns
        assert not [c for c in frame.columns if frame[c].dtype == object], name
