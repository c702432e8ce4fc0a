"""Typed conversion: front matter values → Article fields, explicitly, never by YAML's guess."""

import datetime as dt
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsfm.transforms import fields
from newsfm.transforms.article import Image, Provider, to_article, to_topic_entry
from newsfm.transforms.frontmatter import Rejected, read_front_matter
from tests.conftest import SEED, examples

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2020-06-10T22:17:00Z", dt.datetime(2020, 6, 10, 22, 17, tzinfo=UTC)),
        ("2020-06-10T22:17:00+02:00", dt.datetime(2020, 6, 10, 20, 17, tzinfo=UTC)),
        ("2020-06-10T22:17:00.250Z", dt.datetime(2020, 6, 10, 22, 17, 0, 250000, tzinfo=UTC)),
        ("2020-06-10 22:17:00", dt.datetime(2020, 6, 10, 22, 17, tzinfo=UTC)),  # no zone: UTC
        ("2020-06-10", dt.datetime(2020, 6, 10, tzinfo=UTC)),
        (dt.date(2020, 6, 10), dt.datetime(2020, 6, 10, tzinfo=UTC)),  # an explicit !!timestamp
        ("", None),
        (None, None),
    ],
)
def test_timestamp(value, expected):
    assert fields.timestamp("t", value) == expected


@pytest.mark.parametrize("value, expected", [("65", 65), ("-1", -1), ("+3", 3), (7, 7), (" 42 ", 42), (None, None), ("", None)])
def test_integer(value, expected):
    assert fields.integer("q", value) == expected


@pytest.mark.parametrize("value", ["6.5", "1e3", "yes", [1], True])
def test_integer_rejects(value):
    with pytest.raises(Rejected) as error:
        fields.integer("q", value)
    assert error.value.reason == "bad_value"


@pytest.mark.parametrize("value, expected", [("false", False), ("True", True), ("yes", True), ("OFF", False), (True, True), (None, None)])
def test_boolean(value, expected):
    assert fields.boolean("b", value) is expected


@pytest.mark.parametrize("value", ["https://a.b/c", "http://a.b", " https://a.b/c "])
def test_web_url_accepts_http(value):
    assert fields.web_url("u", value) == value.strip()


@pytest.mark.parametrize("value", ["javascript:alert(1)", "/relative/path", "ftp://a.b/c", "https://", "https://a.b:99999/", "https://a b.c/"])
def test_web_url_rejects(value):
    with pytest.raises(Rejected):
        fields.web_url("u", value)


url_parts = st.sampled_from(["http", "https", "HTTPS", "ftp", "", ":", "//", "/", "a", "B", "0", ".", "-", "@", ":8", "?", "#",
                              "[", "]", " ", "\t", "é", "%20", "x.com", "www.", "ß"])


@settings(max_examples=examples(2000))
@given(st.tuples(st.sampled_from(["", "http://", "HtTpS://"]), st.lists(url_parts, max_size=10)).map(lambda t: t[0] + "".join(t[1])))
def test_the_quick_url_check_accepts_only_what_the_full_check_accepts(value):
    """`web_url` takes a plain http(s) URL without splitting it; the full check must agree."""
    if not fields._PLAIN_WEB_URL.fullmatch(value.strip()):
        return
    parts = urlsplit(value.strip())
    assert parts.scheme.lower() in fields.WEB_SCHEMES and parts.hostname and parts.port is None
    assert not fields._SPACE.search(value.strip())


@pytest.mark.parametrize("value", ["", " ", "\u2003", None])
def test_blank_text_is_absent(value):
    assert fields.text("t", value) is None and fields.is_absent(value)


def test_seed_article_has_exact_typed_fields():
    article = to_article(read_front_matter(SEED.read_bytes()))
    assert article.title == "Amazon just announced that it's going to suspend police use of its controversial facial recognition technology for one year"
    assert article.published_at == dt.datetime(2020, 6, 10, 22, 17, tzinfo=UTC)
    assert (article.category, article.type, article.quality, article.heat, article.published) == ("news", "article", 65, -1, False)
    assert article.original_url is None
    assert article.provider == Provider(
        domain="businessinsider.com",
        name="Business Insider",
        images=(Image("https://smartableai.github.io/artificial-intelligence/assets/images/organizations/businessinsider.com-50x50.jpg", 50, 50, None, None),),
    )
    assert article.topics == ("AWS AI", "AI", "Computer Vision")
    assert article.images == (Image("https://i.insider.com/583c6db9ba6eb66d268b6326?width=1200&format=jpeg", 1200, 600, True, article.title),)
    assert len(article.related) == 14
    third = article.related[2]
    assert (third.title, third.quality, third.images, third.amp_web_url) == (
        "Amazon Places One-Year Moratorium on Police Use of Rekognition, Its Facial Recognition Tech", 92, (), None
    )
    assert third.provider == Provider("thestreet.com", "TheStreet.com")
    assert third.published_at == dt.datetime(2020, 6, 10, 22, 45, tzinfo=UTC)


def test_provider_domain_falls_back_to_the_url_host():
    article = to_article({"title": "T", "publishedDateTime": "2020-01-01", "webUrl": "https://www.Example.com/a"})
    assert article.provider == Provider("example.com", None)


@pytest.mark.parametrize("written", ["/", " . ", "", "///"])
def test_a_provider_domain_that_normalizes_to_nothing_falls_back_to_the_url_host(written):
    article = to_article({"title": "T", "publishedDateTime": "2020-01-01", "webUrl": "https://news.example.org/a",
                          "provider": {"name": "N", "domain": written}})
    assert article.provider == Provider("news.example.org", "N")


def test_topic_entry():
    entry = to_topic_entry({"taxonomy": "topic", "_id": "aws-ai", "name": "AWS AI", "parent": "AI", "keywords": ["aws", "sagemaker"]})
    assert (entry.topic_id, entry.name, entry.parent_name, entry.keywords) == ("aws-ai", "AWS AI", "AI", ("aws", "sagemaker"))


def test_a_tag_file_in_a_topics_folder_is_a_bad_value():
    with pytest.raises(Rejected) as error:
        to_topic_entry({"taxonomy": "tag", "_id": "nlp", "name": "NLP"})
    assert error.value.reason == "bad_value"
