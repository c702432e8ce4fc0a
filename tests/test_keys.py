"""Keys: one canonical-URL rule, and ids derived from it."""

import hashlib
import re
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsfm.transforms import keys
from newsfm.transforms.keys import article_id, canonical_url, provider_domain, topic_slug
from tests.conftest import examples


@pytest.mark.parametrize(
    "url, expected",
    [
        ("HTTPS://WWW.Example.COM/Path/Page/", "https://www.example.com/Path/Page"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&id=7&UTM_Medium=y&fbclid=z", "https://example.com/a?id=7"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?b=2&a=1"),  # order kept
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a/", "http://example.com:8080/a"),
        ("https://example.com/", "https://example.com"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
    ],
)
def test_canonical_url(url, expected):
    """Lowercase scheme and host; no fragment, tracking parameters, default port or trailing slash."""
    assert canonical_url(url) == expected


def test_article_id_is_16_hex_digits_of_the_canonical_urls_sha256():
    url = "https://www.businessinsider.com/amazon-rekognition-suspend-police-use-of-controversial-facial-recognition-tech-2020-6"
    assert article_id(url) == hashlib.sha256(url.encode()).hexdigest()[:16] == "84bf9470fdcd92f2"
    assert article_id(url.upper().replace("/AMAZON", "/amazon")) != article_id(url)  # path case matters
    assert article_id(url + "/?utm_campaign=x#top") == article_id(url)


@given(st.from_regex(r"https?://[A-Za-z0-9.-]{1,20}(/[A-Za-z0-9_~%.-]{0,8}){0,3}/?(\?[a-z_]{1,6}=[a-z0-9]{0,4})?", fullmatch=True))
def test_canonical_url_is_idempotent(url):
    assert canonical_url(canonical_url(url)) == canonical_url(url)


url_texts = st.tuples(
    st.sampled_from(["http://", "HTTPS://", "hTtP://", "ftp://", ""]),
    st.text(alphabet="aZ09.-", min_size=1, max_size=8) | st.text(alphabet="aZ09.-:@[]", max_size=8),
    st.text(alphabet="/aB%é ?#=&._~", max_size=12) | st.text(alphabet="/aB%é._~", max_size=12),
).map("".join)


@settings(max_examples=examples(1000))
@given(url_texts)
def test_plain_urls_take_a_short_way_to_the_same_canonical_url(url):
    try:
        with patch.object(keys, "_PLAIN_URL", re.compile(r"(?!)")):  # never matches: the full rule
            expected = canonical_url(url)
    except ValueError:  # a malformed port or IPv6 literal: then the short way must not be taken either
        assert not keys._PLAIN_URL.fullmatch(url.strip())
        return
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "domain, expected",
    [("businessinsider.com", "businessinsider.com"), ("WWW.CNN.com", "cnn.com"), (" bbc.co.uk/ ", "bbc.co.uk")],
)
def test_provider_domain(domain, expected):
    assert provider_domain(domain) == expected


@pytest.mark.parametrize(
    "name, expected",
    [
        ("AWS AI", "aws-ai"),
        ("Natural Language Processing", "natural-language-processing"),
        ("AI in Autos", "ai-in-autos"),
        ("  Künstliche Intelligenz! ", "kunstliche-intelligenz"),
        ("C++ / Rust", "c-rust"),
    ],
)
def test_topic_slug(name, expected):
    assert topic_slug(name) == expected


def test_topic_slug_of_a_name_without_ascii_letters_is_stable():
    assert topic_slug("人工智能") == topic_slug("人工智能") == "topic-" + hashlib.sha256("人工智能".encode()).hexdigest()[:8]
