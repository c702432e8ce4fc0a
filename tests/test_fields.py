"""The `fields` table: every key path of the documents read, counted exactly, and where each is
read into (`transforms.seen_fields`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsfm.pipelines.discover import read_folder
from newsfm.synthetic import corpus as g
from newsfm.transforms import article
from newsfm.transforms.extract import extract
from newsfm.transforms.frontmatter import read_front_matter, read_yaml_mapping
from newsfm.transforms.pipeline import build_tables, tables_of
from newsfm.transforms.seen_fields import READ_INTO, key_paths, not_read
from newsfm.transforms.site import ARTICLE, ORGANIZATION, SITE_CONFIG, TAXONOMY
from tests.conftest import SEED, examples

SITE = Path(__file__).parent / "site"


def test_a_documents_key_paths_name_every_prefix_once():
    document = {"title": "T", "provider": {"name": "P", "images": [{"url": "u"}, {"url": "v", "width": "1"}]},
                "topics": ["a", "b"], "empty": [], "nested": [["x"], []], 7: "a number as key", "none": None}
    assert key_paths(document) == [
        "7", "empty", "nested", "nested[]", "nested[][]", "none", "provider", "provider.images", "provider.images[]",
        "provider.images[].url", "provider.images[].width", "provider.name", "title", "topics", "topics[]"]


def test_a_value_an_alias_repeats_is_walked_once_per_path():
    shared = {"a": [{"b": "c"}] * 3}
    document = {"x": [shared] * 1000, "y": shared}
    assert key_paths(document) == ["x", "x[]", "x[].a", "x[].a[]", "x[].a[].b", "y", "y.a", "y.a[]", "y.a[].b"]


@pytest.fixture(scope="module")
def site_fields() -> pd.DataFrame:
    return tables_of(read_folder(SITE))["fields"]


def rows_of(fields: pd.DataFrame, kind: str) -> list[tuple]:
    of_kind = fields[fields["kind"] == kind]
    return [(path, files, None if pd.isna(read) else read)
            for path, files, read in zip(of_kind["key_path"], of_kind["files"], of_kind["read_into"])]


def test_the_sites_fields_row_for_row(site_fields):
    assert rows_of(site_fields, ARTICLE) == [
        ("category", 3, "articles.category"), ("excerpt", 3, "articles.excerpt"),
        ("featuredContent", 1, "articles.featured_content"), ("heat", 2, "articles.heat"), ("images", 2, "images"),
        ("images[]", 2, "images"), ("images[].height", 2, "images.height"), ("images[].isCached", 1, "images.is_cached"),
        ("images[].url", 2, "images.url"), ("images[].width", 2, "images.width"),
        ("isCached", 1, None),  # the archived item's: no table holds it
        ("originalUrl", 2, "articles.original_url"), ("provider", 3, "providers"),
        ("provider.domain", 3, "articles.provider_domain"), ("provider.images", 1, "images"),
        ("provider.images[]", 1, "images"), ("provider.images[].height", 1, "images.height"),
        ("provider.images[].url", 1, "images.url"), ("provider.images[].width", 1, "images.width"),
        ("provider.name", 3, "providers.provider_name"), ("publishedDateTime", 3, "articles.published_at"),
        ("quality", 2, "articles.quality"), ("related", 1, "related"), ("related[]", 1, "related"),
        ("related[].images", 1, "images"), ("related[].images[]", 1, "images"),
        ("related[].images[].height", 1, "images.height"), ("related[].images[].url", 1, "images.url"),
        ("related[].images[].width", 1, "images.width"), ("related[].originalUrl", 1, "related.original_url"),
        ("related[].provider", 1, "providers"), ("related[].provider.domain", 1, "related.provider_domain"),
        ("related[].provider.name", 1, "providers.provider_name"),
        ("related[].publishedDateTime", 1, "related.published_at"), ("related[].quality", 1, "related.quality"),
        ("related[].title", 1, "related.title"), ("related[].type", 1, "related.type"),
        ("secured", 2, None), ("title", 3, "articles.title"), ("topics", 3, "article_topics"),
        ("topics[]", 3, "article_topics.topic_id"), ("type", 3, "articles.type"), ("webUrl", 2, "articles.web_url"),
    ]
    assert rows_of(site_fields, TAXONOMY) == [
        ("_id", 1, "topics.topic_id"), ("keywords", 1, "topics.keywords"), ("keywords[]", 1, "topics.keywords"),
        ("name", 1, "topics.topic_name"), ("taxonomy", 1, None)]
    assert rows_of(site_fields, ORGANIZATION) == [
        ("_id", 2, "providers.provider_domain"), ("domain", 1, "providers.provider_domain"), ("images", 2, "images"),
        ("images[]", 2, "images"), ("images[].height", 1, "images.height"), ("images[].url", 1, "images.url"),
        ("images[].width", 1, "images.width"), ("name", 2, "providers.provider_name"), ("taxonomy", 2, None)]
    config = dict((path, files) for path, files, _ in rows_of(site_fields, SITE_CONFIG))
    assert config["defaults[].values.sitemap"] == 1 and config["defaults[].values.comments"] == 1  # merged in
    assert {path for path, _, read in rows_of(site_fields, SITE_CONFIG) if read} == {"url", "baseurl"}


def test_dates_and_example_files(site_fields):
    row = site_fields.set_index(["kind", "key_path"]).loc[(ARTICLE, "secured")]
    assert (row["first_published_at"], row["last_published_at"]) == (
        pd.Timestamp("2021-03-01T09:30Z"), pd.Timestamp("2021-03-02T18:00Z"))
    assert row["example_path"] == "_news/2021-03-01-alpha-ships-a-robot.md"
    config = site_fields.set_index(["kind", "key_path"]).loc[(SITE_CONFIG, "title")]
    assert pd.isna(config["first_published_at"]) and config["example_path"] == "_config.yml"


def test_what_is_not_read_names_each_subtree_once(site_fields):
    rows = not_read(site_fields.to_dict("records"), 5)
    assert [(row["kind"], row["key_path"], row["files"]) for row in rows] == [
        (ARTICLE, "secured", 2), (ARTICLE, "isCached", 1), (SITE_CONFIG, "collections", 1),
        (SITE_CONFIG, "defaults", 1), (SITE_CONFIG, "description", 1)]  # `taxonomy` is checked, not stored


class Recording(dict):
    """A document that records the key paths read from it (as `seen_fields` writes them)."""

    def __init__(self, value: dict, path: str, read: set[str]) -> None:
        super().__init__({key: wrap(item, f"{path}.{key}" if path else key, read) for key, item in value.items()})
        self.path, self.read = path, read

    def get(self, key, default=None):
        self.read.add(f"{self.path}.{key}" if self.path else key)
        return super().get(key, default)


class RecordingList(list):
    def __init__(self, value: list, path: str, read: set[str]) -> None:
        super().__init__(wrap(item, path + "[]", read) for item in value)
        self.path, self.read = path, read

    def __iter__(self):
        self.read.add(self.path + "[]")
        return super().__iter__()


def wrap(value, path: str, read: set[str]):
    if isinstance(value, dict):
        return Recording(value, path, read)
    if isinstance(value, list):
        return RecordingList(value, path, read)
    return value


IMAGE = {"url": "https://a.io/i.jpg", "width": "1", "height": "2", "isCached": "true", "title": "t"}
PROVIDER = {"name": "P", "domain": "a.io", "images": [IMAGE]}
EVERY_FIELD = {  # a document with every field of its kind, so that every converter reads all it can
    ARTICLE: {"category": "news", "title": "T", "excerpt": "E", "featuredContent": "<iframe>", "type": "article",
              "publishedDateTime": "2020-01-01T00:00:00Z", "webUrl": "https://a.io/x", "ampWebUrl": "https://a.io/x?amp",
              "cdnAmpWebUrl": "https://c.io/x", "originalUrl": "https://a.io/x", "quality": "1", "heat": "2",
              "published": "true", "provider": PROVIDER, "topics": ["AI"], "images": [IMAGE],
              "related": [{"title": "R", "excerpt": "E", "publishedDateTime": "2020-01-01", "webUrl": "https://b.io/y",
                           "ampWebUrl": "https://b.io/y?amp", "cdnAmpWebUrl": "https://c.io/y",
                           "originalUrl": "https://b.io/y", "type": "article", "provider": PROVIDER, "quality": "3",
                           "images": [IMAGE]}]},
    TAXONOMY: {"taxonomy": "topic", "_id": "ai", "name": "AI", "parent": "Tech", "keywords": ["ml"]},
    ORGANIZATION: {"taxonomy": "organization", "_id": "a.io", "domain": "a.io", "name": "A", "images": [IMAGE, "/l.png"]},
    SITE_CONFIG: {"url": "https://a.io", "baseurl": "/b", "title": "T"},
}
CONVERTERS = {ARTICLE: article.to_article, TAXONOMY: article.to_topic_entry,
              ORGANIZATION: lambda document: article.to_organization(document, "_data/organizations/a.io.md"),
              SITE_CONFIG: article.to_site_config}


@pytest.mark.parametrize("kind", list(EVERY_FIELD))
def test_read_into_names_exactly_the_paths_the_converters_read(kind):
    read: set[str] = set()
    CONVERTERS[kind](wrap(EVERY_FIELD[kind], "", read))
    without_domain = {key: value for key, value in EVERY_FIELD[kind].items() if key != "domain"}
    CONVERTERS[kind](wrap(without_domain, "", read))  # an organization's `_id` stands in for its domain
    checked = {"taxonomy"} if kind in (TAXONOMY, ORGANIZATION) else set()
    assert read - checked == set(READ_INTO[kind])


def front_matter_of(path: str, data: bytes) -> dict:
    """The document of a file whose document was read, parsed apart from the build."""
    return read_front_matter(data) if path.endswith(".md") else read_yaml_mapping(data)


def reference_paths(value, prefix: str = "") -> set[str]:
    """Key paths by plain recursion: the reference for `key_paths`."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths |= {path} | reference_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            paths |= {prefix + "[]"} | reference_paths(item, prefix + "[]")
    return paths


EXTRA_KEYS = st.dictionaries(st.sampled_from(["secured", "ampWebUrl", "trackingId", "tags"]),
                             st.sampled_from(['"x"', "[a, b]", "{k: v}", "[]"]), max_size=3)
GENERATED = [f for f in g.generate_files(60, seed=5)]


@settings(max_examples=examples(30), deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(GENERATED) - 1), EXTRA_KEYS), min_size=1, max_size=25))
def test_counts_equal_a_direct_count_over_the_parsed_front_matter(choices):
    files = {}
    for index, extra in choices:
        path, data = GENERATED[index].path, GENERATED[index].data
        if extra and path.endswith(".md") and data.startswith(b"---\n"):
            data = data.replace(b"---\n", b"---\n" + "".join(f"{k}: {v}\n" for k, v in extra.items()).encode(), 1)
        files[f"{len(files)}-{path}"] = data
    expected: Counter = Counter()
    for path, data in files.items():
        file = extract(path, data)
        if file.key_paths is not None:
            expected.update((file.kind, key_path) for key_path in reference_paths(front_matter_of(path, data)))
    fields = build_tables(list(files.items()))["fields"]
    assert dict(zip(zip(fields["kind"], fields["key_path"]), fields["files"])) == dict(expected)


def test_the_seed_shows_its_unread_field():
    fields = build_tables([("seed.md", SEED.read_bytes())])["fields"].set_index("key_path")
    assert pd.isna(fields.loc["secured", "read_into"]) and fields.loc["webUrl", "read_into"] == "articles.web_url"
