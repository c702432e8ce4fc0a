"""The synthetic corpus: deterministic, loadable where meant to be, broken where meant to be, and as
mixed as the real corpus it was measured on (the targets are the figures of synthetic.calibration)."""

from __future__ import annotations

import datetime as dt
import hashlib
import statistics
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from newsfm.synthetic import calibration as cal
from newsfm.synthetic.corpus import BROKEN_KINDS, GeneratedFile, generate_corpus, generate_files
from newsfm.synthetic.vocabulary import OBSERVED_TOPICS, TOPICS
from newsfm.synthetic.write import write_corpus
from newsfm.transforms.analytics.stories import story_tables
from newsfm.transforms.article import Article, TopicEntry
from newsfm.transforms.extract import extract
from newsfm.transforms.keys import topic_slug
from newsfm.transforms.pipeline import tables_of

COUNT = 2000


@pytest.fixture(scope="module")
def files() -> list[GeneratedFile]:
    return list(generate_files(COUNT, seed=0))


@pytest.fixture(scope="module")
def extracted(files):
    return [extract(file.path, file.data) for file in files]


@pytest.fixture(scope="module")
def articles(files, extracted) -> list[Article]:
    """The files meant to be articles (not their duplicate copies)."""
    return [e.record for file, e in zip(files, extracted) if file.expect == "article"]


@pytest.fixture(scope="module")
def warehouse(extracted):
    return tables_of(extracted)


def digest(count: int, seed: int) -> str:
    hashed = hashlib.sha256()
    for path, data in generate_corpus(count, seed):
        hashed.update(path.encode() + b"\0" + data + b"\0")
    return hashed.hexdigest()


def share(items, predicate) -> float:
    items = list(items)
    return sum(1 for item in items if predicate(item)) / len(items)


def test_same_seed_same_bytes_other_seed_other_bytes():
    assert digest(300, 0) == digest(300, 0)
    assert digest(300, 0) != digest(300, 1)


def test_count_news_files_plus_a_taxonomy_at_unique_relative_paths(files):
    news = [file for file in files if file.expect != "taxonomy"]
    assert len(news) == COUNT
    assert len({file.path for file in files}) == len(files)
    assert all(not file.path.startswith("/") and ".." not in file.path.split("/") for file in files)
    assert all(file.path.endswith(".md") and "/_news/" in file.path for file in news)
    assert {file.path.split("/")[0] for file in news} == {f"site-{k}" for k in range(len(cal.SITE_WEIGHTS))}


def test_generation_streams_in_small_memory():
    """Once the first news file is out (the provider table is built), memory does not grow with the
    files generated: 800 files hold over 2 MB, generating them takes a fraction of that."""
    stream = generate_corpus(800, seed=0)
    next(path for path, _ in stream if "/_news/" in path)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        size = sum(len(data) for _, data in stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 2_000_000
    assert peak < 600_000


def test_every_file_gets_the_verdict_it_was_built_for(files, extracted):
    for file, result in zip(files, extracted):
        if file.expect in ("article", "duplicate"):
            assert isinstance(result.record, Article), (file.path, result.reason, result.message)
        elif file.expect == "taxonomy":
            assert isinstance(result.record, TopicEntry), (file.path, result.reason, result.message)
        else:
            assert result.reason == file.expect, (file.path, result.reason, result.message)
    expects = [file.expect for file in files]
    for kind in BROKEN_KINDS:
        assert expects.count(kind) >= 1
    assert abs(sum(expects.count(kind) for kind in BROKEN_KINDS) - COUNT * cal.BROKEN_SHARE) <= 1
    assert abs(expects.count("duplicate") - COUNT * cal.DUPLICATE_SHARE) <= 1


def test_field_mix_matches_the_measured_shares(articles):
    related = [item for article in articles for item in article.related]
    images = [image for article in articles for image in article.images]
    logos = [article.provider.images[0] for article in articles if article.provider.images]
    observed = {
        "quality": (share(articles, lambda a: a.quality is not None), cal.SCORED_SHARE),
        "heat": (share(articles, lambda a: a.heat is not None), cal.SCORED_SHARE),
        "published": (share(articles, lambda a: a.published is not None), cal.SCORED_SHARE),
        "ampWebUrl": (share(articles, lambda a: a.amp_web_url and a.cdn_amp_web_url), cal.AMP_SHARE["article"]),
        "originalUrl": (share(articles, lambda a: a.original_url), cal.ORIGINAL_URL_SHARE),
        "images": (share(articles, lambda a: a.images), cal.IMAGE_SHARE["article"]),
        "related": (share(articles, lambda a: a.related), cal.SCORED_SHARE * cal.RELATED_SHARE_OF_SCORED),
        "provider logo": (share(articles, lambda a: a.provider.images), cal.LOGO_SHARE),
        "relative logo": (share(logos, lambda i: i.url.startswith("/")), cal.LOGO_RELATIVE),
        "isCached": (share(images, lambda i: i.is_cached), cal.IMAGE_CACHED["article"]),
        "image title": (share(images, lambda i: i.title), cal.IMAGE_TITLED),
        "related ampWebUrl": (share(related, lambda r: r.amp_web_url), cal.AMP_SHARE["related"]),
        "related images": (share(related, lambda r: r.images), cal.IMAGE_SHARE["related"]),
        "related quality": (share(related, lambda r: r.quality is not None), 1.0),
        "AI first": (share([a for a in articles if len(a.topics) > 1], lambda a: a.topics[0] == "AI"), cal.AI_FIRST),
        "midnight": (share(articles, lambda a: a.published_at.time() == dt.time(0)), cal.MIDNIGHT_SHARE),
    }
    off = {name: (round(got, 3), round(want, 3)) for name, (got, want) in observed.items() if abs(got - want) > 0.05}
    assert not off, off


def test_text_and_quoting_styles_match_the_measured_shares(files):
    news = [file.data for file in files if file.expect == "article"]
    assert share(news, lambda data: max(data) > 127) == pytest.approx(24 / 51, abs=0.08)
    assert share(news, lambda data: b'\\"' in data) == pytest.approx(6 / 51, abs=0.05)
    assert share(news, lambda data: b"\nwebUrl: http" in data) == pytest.approx(cal.UNQUOTED_URLS, abs=0.02)
    assert all(b'\nsecured: "' in data and data.endswith(b"\n---\n\n") for data in news)
    sizes = sorted(len(data) for data in news)
    assert 1000 < statistics.median(sizes) < 2500  # real: median 1,408 bytes
    assert sizes[0] > 500 and sizes[-1] < 25_000  # real: 911 to 14,931 bytes


def test_related_lists_and_topics_have_the_real_shapes(articles):
    lengths = [len(article.related) for article in articles]
    assert share(lengths, lambda n: n == 0) > 0.7
    assert max(lengths) >= 15 and share(lengths, lambda n: n >= 11) > 0.03
    for article in articles:
        qualities = [item.quality for item in article.related]
        assert qualities == sorted(qualities, reverse=True)
    taxonomy_names = {topic.name for topic in TOPICS}
    assert all("AI" in article.topics and 1 <= len(article.topics) <= 4 for article in articles)
    unknown = share(articles, lambda a: not set(a.topics) <= taxonomy_names)
    assert 0 < unknown < 0.02


def test_providers_are_skewed(warehouse):
    counts = warehouse["articles"]["provider_domain"].value_counts()
    assert len(counts) > 500
    assert 0.02 < counts.iloc[0] / counts.sum() < 0.10  # real: the top provider has 4.4% of the items
    assert counts.iloc[:10].sum() / counts.sum() > 0.15


def test_related_items_join_articles_and_agree_with_them(warehouse):
    articles, related = warehouse["articles"], warehouse["related"]
    assert related["related_article_id"].isin(articles["article_id"]).mean() > 0.3
    joined = related.merge(articles, left_on="related_article_id", right_on="article_id", suffixes=("", "_article"))
    for column in ("title", "published_at", "provider_domain"):
        assert (joined[column] == joined[f"{column}_article"]).all(), column
    assert related.groupby("related_article_id")["title"].nunique().max() == 1


def test_stories_merge_across_files(warehouse):
    members = story_tables(warehouse)["story_members"]
    is_article = members["item_id"].isin(warehouse["articles"]["article_id"])
    articles_per_story = members[is_article].groupby("story_id").size()
    assert (articles_per_story >= 2).sum() > 100
    assert articles_per_story.max() >= 5


def test_duplicates_appear_as_duplicate_in_sources(files, warehouse):
    sources = warehouse["sources"]
    duplicates = sources[sources["status"] == "duplicate"]
    copies = sources[sources["source_path"].isin([file.path for file in files if file.expect == "duplicate"])]
    assert len(duplicates) == len(copies) > 0
    assert set(duplicates["article_id"]) == set(copies["article_id"])
    assert set(duplicates["article_id"]) <= set(warehouse["articles"]["article_id"])


def test_taxonomy_loads_and_observed_topics_are_few(files, warehouse):
    topics = warehouse["topics"].set_index("topic_id")
    from_taxonomy = topics[topics["origin"] == "taxonomy"]
    assert set(from_taxonomy.index) == {topic.id for topic in TOPICS}
    assert from_taxonomy.loc["tensorflow", "parent_topic_id"] == "google-ai"
    assert pd.isna(from_taxonomy.loc["ai", "parent_topic_id"])
    assert set(topics[topics["origin"] == "observed"].index) <= {topic_slug(name) for name in OBSERVED_TOPICS}
    endings = [file.data[-4:] for file in files if file.expect == "taxonomy"]
    assert b"\n---" in endings and any(not end.endswith(b"\n") and end != b"\n---" for end in endings)


def test_dates_spread_over_two_years(articles):
    published = sorted(article.published_at for article in articles)
    start = dt.datetime.combine(cal.START, dt.time(), dt.timezone.utc)
    assert published[0] >= start and published[-1] < start + dt.timedelta(days=cal.SPAN_DAYS + 8)
    assert published[-1] - published[0] > dt.timedelta(days=cal.SPAN_DAYS - 30)
    weekend = share(published, lambda moment: moment.weekday() >= 5)
    assert 0.1 < weekend < 0.2  # real: 7/51 = 14%, against 29% if every day were alike


def test_write_corpus_writes_what_generate_corpus_yields(tmp_path: Path):
    out = tmp_path / "corpus"
    expected = dict(generate_corpus(40, seed=3))
    assert write_corpus(40, out, seed=3) == len(expected)
    on_disk = {path.relative_to(out).as_posix(): path.read_bytes() for path in out.rglob("*") if path.is_file()}
    assert on_disk == expected


# ---- Front-matter styles (synthetic.styles)


@pytest.mark.parametrize("style", ["pydump", "hand", "mix"])
def test_the_same_news_in_every_style_gives_the_same_rows(warehouse, files, style):
    """Other bytes (so other hashes and sizes), the same rows, the same verdicts."""
    styled = list(generate_files(COUNT, seed=0, style=style))
    assert [f.path for f in styled] == [f.path for f in files] and [f.expect for f in styled] == [f.expect for f in files]
    news = [(a, b) for a, b in zip(files, styled) if a.expect != "taxonomy"]
    assert sum(a.data != b.data for a, b in news) > 0.9 * len(news) * (0.6 if style == "mix" else 1)
    actual = tables_of([extract(file.path, file.data) for file in styled])
    for name, expected in warehouse.items():
        drop = ["content_sha256", "size_bytes"] if name == "sources" else []
        pd.testing.assert_frame_equal(actual[name].drop(columns=drop), expected.drop(columns=drop), obj=name)


def test_styles_write_what_they_say():
    def news(style):
        return [f.data.decode() for f in generate_files(300, seed=2, style=style) if f.expect == "article"]

    pydump, hand = "\n".join(news("pydump")), "\n".join(news("hand"))
    assert "\ntopics:\n- " in pydump and "\nquality: " in pydump
    assert "\n# " in hand and "\n\n" in hand and "excerpt: >-\n" in hand and "secured: |-\n" in hand
    assert "topics: [" in hand and "provider: {name: " in hand and "''" in hand
    mixed = news("mix")
    assert {text.startswith("---\n# ") for text in mixed} == {True, False}


def test_an_unknown_style_is_refused():
    with pytest.raises(ValueError, match="unknown style 'yaml'"):
        next(generate_files(1, style="yaml"))
