"""Properties over generated inputs: no input crashes extraction; valid input round-trips exactly."""

import datetime as dt

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from newsfm.transforms.article import Article
from newsfm.transforms.extract import extract
from newsfm.transforms.keys import article_id
from newsfm.transforms.pipeline import tables_of
from tests.conftest import examples


@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(data):
    result = extract("x.md", data)
    assert (result.record is None) != (result.reason is None)


@given(st.text(max_size=1000))
def test_arbitrary_front_matter_text_never_raises(body):
    result = extract("x.md", f"---\n{body}\n---\n".encode("utf-8", "surrogatepass"))
    assert (result.record is None) != (result.reason is None)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(["title", "webUrl", "publishedDateTime", "quality", "topics", "related", "provider", "images", "published"]), yaml_values))
def test_arbitrary_yaml_documents_never_raise(document):
    result = extract("x.md", b"---\n" + yaml.safe_dump(document).encode() + b"---\n")
    assert (result.record is None) != (result.reason is None)


printable = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=30).filter(str.strip)
urls = st.builds("https://{}.example/{}".format, st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.from_regex(r"[a-z0-9-]{0,12}", fullmatch=True))
times = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(dt.timezone.utc))
articles = st.fixed_dictionaries(
    {"title": printable, "webUrl": urls, "publishedDateTime": times.map(lambda t: t.isoformat().replace("+00:00", "Z"))},
    optional={
        "quality": st.integers(-(2**63), 2**63 - 1),
        "published": st.booleans(),
        "topics": st.lists(printable, max_size=4),
        "related": st.lists(st.fixed_dictionaries({"webUrl": urls}, optional={"quality": st.integers(0, 200)}), max_size=3),
    },
)


@given(articles, st.sampled_from([None, '"', "'"]))
def test_valid_articles_round_trip_exactly(document, style):
    data = b"---\n" + yaml.safe_dump(document, allow_unicode=True, default_style=style).encode() + b"---\n"
    article = extract("x.md", data).record
    assert isinstance(article, Article)
    assert article.title == document["title"]
    assert article.web_url == document["webUrl"]
    assert article.published_at == dt.datetime.fromisoformat(document["publishedDateTime"])
    assert article.quality == document.get("quality")
    assert article.published == document.get("published")
    assert list(article.topics) == [t.strip() for t in document.get("topics", [])]
    assert [r.quality for r in article.related] == [r.get("quality") for r in document.get("related", [])]


@settings(max_examples=examples(50))
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), articles), max_size=8))
def test_every_file_once_and_one_article_per_canonical_url(files):
    extracted = [
        extract(f"{folder}/{i}.md", b"---\n" + yaml.safe_dump(doc).encode() + b"---\n") for i, (folder, doc) in enumerate(files)
    ]
    tables = tables_of(extracted)
    sources, articles_ = tables["sources"], tables["articles"]
    assert sorted(sources["source_path"]) == sorted(e.path for e in extracted)
    assert set(articles_["article_id"]) == {article_id(doc["webUrl"]) for _, doc in files}
    assert articles_["article_id"].is_unique
    assert (sources["status"] == "loaded").sum() == len(articles_)
    assert set(tables["related"]["article_id"]) <= set(articles_["article_id"])
