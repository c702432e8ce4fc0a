"""Extraction: bytes → front matter mapping, or a rejection a person can act on."""

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.conftest import MINIMAL, SEED, news
from newsfm.transforms.extract import extract
from newsfm.transforms.frontmatter import (
    _OPENING, Rejected, closing_line, read_front_matter, read_yaml_mapping, split_front_matter,
)


def rejection(data: bytes, path: str = "x.md", **kwargs):
    result = extract(path, data, **kwargs)
    assert result.record is None, "expected a rejection"
    return result.reason, result.line, result.column, result.message


@pytest.mark.parametrize(
    "data",
    [
        b"---\ntitle: T\n---\nbody\n",
        b"\xef\xbb\xbf---\ntitle: T\n---\n",  # UTF-8 byte order mark
        b"---\r\ntitle: T\r\n---\r\nbody\r\n",  # CRLF
        b"---\ntitle: T\n---",  # no final newline
        b"---\ntitle: T\n---\n",  # empty body
        b"--- \ntitle: T\n---  \n",  # trailing blanks on the fences
    ],
)
def test_accepted_framings(data):
    assert read_front_matter(data) == {"title": "T"}


def test_body_is_split_off_and_fences_inside_the_body_do_not_matter():
    assert split_front_matter("---\na: 1\n---\n\nText\n---\nmore") == ("a: 1\n", "Text\n---\nmore")


def test_plain_scalars_stay_text_until_a_field_converts_them():
    data = b"---\nq: 65\nd: 2020-06-10T22:17:00Z\nb: false\nn: ~\ne:\nf: 1e3\n---\n"
    assert read_front_matter(data) == {"q": "65", "d": "2020-06-10T22:17:00Z", "b": "false", "n": None, "e": None, "f": "1e3"}


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"no fence\n", ("no_front_matter", 1, 1)),
        (b"", ("no_front_matter", 1, 1)),
        (b"---\ntitle: T\n", ("unterminated_front_matter", 1, 1)),
        (b"---\ntitle: T\nbad: [1, 2\n---\n", ("yaml_error", 4, 1)),
        (b"---\ntitle: T\n  x: y: z\n---\n", ("yaml_error", 3, 4)),
        (b"---\n- a\n- b\n---\n", ("not_a_mapping", None, None)),
        (b"---\n---\n", ("not_a_mapping", None, None)),
        (b"---\ntitle: T\nsub:\n  k: 1\n  k: 2\n---\n", ("duplicate_key", 5, 3)),
        (b"---\ntitle: A\ntitle: B\n---\n", ("duplicate_key", 3, 1)),
        (b"---\ntitle: \xff\n---\n", ("not_utf8", 2, 8)),
        (b"---\nx: !!python/object:os.system echo\n---\n", ("yaml_error", 2, 4)),
    ],
)
def test_rejections_have_a_reason_and_a_place(data, expected):
    reason, line, column, message = rejection(data)
    assert (reason, line, column) == expected
    assert message


def test_yaml_error_message_names_line_and_column():
    *_, message = rejection(b"---\ntitle: T\nbad: [1, 2\n---\n")
    assert message.startswith("invalid YAML at line 4, column 1:")


def test_duplicate_key_message_names_the_key():
    *_, message = rejection(b"---\ntitle: A\ntitle: B\n---\n")
    assert "'title' appears twice" in message


def test_too_large_uses_the_configured_limit():
    data = news(MINIMAL)
    assert extract("x.md", data, max_bytes=len(data)).record is not None
    reason, *_, message = rejection(data, max_bytes=len(data) - 1)
    assert reason == "too_large" and f"{len(data):,} bytes" in message


@pytest.mark.parametrize(
    "front_matter, reason, fragment",
    [
        ("publishedDateTime: 2020-06-10T22:17:00Z\nwebUrl: https://e.com/a", "missing_field", "title is missing"),
        ("title: ''\npublishedDateTime: 2020-06-10T22:17:00Z\nwebUrl: https://e.com/a", "missing_field", "title is empty"),
        ("title: T\npublishedDateTime: 2020-06-10T22:17:00Z", "missing_field", "webUrl"),
        ("title: T\nwebUrl: https://e.com/a", "missing_field", "publishedDateTime"),
        ("title: T\npublishedDateTime: June 10, 2020\nwebUrl: https://e.com/a", "bad_value", "publishedDateTime should be"),
        ("title: T\npublishedDateTime: 2020-06-10\nwebUrl: javascript:alert(1)", "bad_value", "webUrl should be an http(s) URL"),
        ("title: T\npublishedDateTime: 2020-06-10\nwebUrl: https://e.com/a\nquality: high", "bad_value", "quality should be a whole number, got 'high'"),
        ("title: T\npublishedDateTime: 2020-06-10\nwebUrl: https://e.com/a\npublished: maybe", "bad_value", "published should be true or false"),
        ("title: T\npublishedDateTime: 2020-06-10\nwebUrl: https://e.com/a\ntopics: AI", "bad_value", "topics should be a list"),
        ("title: T\npublishedDateTime: 2020-06-10\nwebUrl: https://e.com/a\nprovider: [a]", "bad_value", "provider should be a mapping"),
        ("title: T\npublishedDateTime: 2020-06-10\nwebUrl: https://e.com/a\nrelated:\n  - title: R", "missing_field", "related[0].webUrl"),
        ("title: T\npublishedDateTime: 2020-06-10\nwebUrl: https://e.com/a\nrelated:\n  - webUrl: https://f.com\n    quality: 9.5", "bad_value", "related[0].quality"),
        ("title: T\npublishedDateTime: 2020-06-10\nwebUrl: https://e.com/a\nimages:\n  - width: 5", "missing_field", "images[0].url"),
        ("title: T\npublishedDateTime: 2020-06-10\nwebUrl: https://e.com/a\nheat: 99999999999999999999", "bad_value", "fits in 64 bits"),
    ],
)
def test_field_rejections_name_the_field(front_matter, reason, fragment):
    got_reason, _, _, message = rejection(news(front_matter))
    assert got_reason == reason
    assert fragment in message


def test_taxonomy_file_with_a_stray_closing_fence_is_read():
    assert read_yaml_mapping(b"_id: ai\nname: AI\n---") == {"_id": "ai", "name": "AI"}


def test_two_real_yaml_documents_are_an_error():
    with pytest.raises(Rejected) as error:
        read_yaml_mapping(b"_id: ai\n---\n_id: ml\n")
    assert error.value.reason == "yaml_error"


def test_seed_front_matter_has_the_expected_fields():
    front_matter = read_front_matter(SEED.read_bytes())
    assert front_matter["title"].startswith("Amazon just announced")
    assert len(front_matter["related"]) == 14
    assert front_matter["topics"] == ["AWS AI", "AI", "Computer Vision"]


@settings(max_examples=2000)
@given(st.text(alphabet="-\n\r \tab", max_size=40).map(lambda rest: "---\n" + rest))
def test_the_closing_line_is_the_first_line_of_three_dashes(text):
    """`closing_line` finds what a multi-line regex finds, without running it over the whole text."""
    opening = _OPENING.match(text)
    assume(opening is not None)
    expected = re.compile(r"^---[ \t]*\r?$", re.MULTILINE).search(text, opening.end())
    assert closing_line(text, opening.end()) == ((expected.start(), expected.end()) if expected else None)
