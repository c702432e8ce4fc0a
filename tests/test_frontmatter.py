"""Extraction: bytes → front matter mapping, or a rejection a person can act on."""

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from newsfm.transforms.extract import extract
from newsfm.transforms.frontmatter import (
    _OPENING,
    Rejected,
    closing_line,
    read_front_matter,
    read_yaml_mapping,
    split_front_matter,
)
from tests.conftest import MINIMAL, SEED, examples, news


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


@settings(max_examples=examples(2000))
@given(st.text(alphabet="-\n\r \tab", max_size=40).map(lambda rest: "---\n" + rest))
def test_the_closing_line_is_the_first_line_of_three_dashes(text):
    """`closing_line` finds what a multi-line regex finds, without running it over the whole text."""
    opening = _OPENING.match(text)
    assume(opening is not None)
    expected = re.compile(r"^---[ \t]*\r?$", re.MULTILINE).search(text, opening.end())
    assert closing_line(text, opening.end()) == ((expected.start(), expected.end()) if expected else None)


# --- anchors, aliases and merge keys: read as PyYAML reads them, within a budget ----------------


class Written:
    """A generated YAML document with anchors (`&aN` on each top-level value), aliases (`*aN`) and
    merge keys, and what its nodes number written and with every alias expanded, counted from the
    generator's own model (a merge key `<<` is one node written; its alias expands to its mapping)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sizes: list[tuple[int, int]] = []  # per definition: (written, expanded)
        self.maps: list[int] = []  # definitions whose value is a mapping (merge keys take those)


@st.composite
def node(draw, doc: Written, depth: int) -> tuple[str, int, int]:
    """(flow text, nodes written, nodes expanded) of one value."""
    choices = ["scalar"] + (["seq", "map"] if depth < 3 else []) + (["alias"] if doc.sizes else [])
    kind = draw(st.sampled_from(choices))
    if kind == "scalar":
        return "w" + draw(st.text("abcdefgh", min_size=1, max_size=4)), 1, 1
    if kind == "alias":
        index = draw(st.integers(0, len(doc.sizes) - 1))
        return f"*a{index}", 0, doc.sizes[index][1]
    if kind == "seq":
        items = draw(st.lists(node(doc, depth + 1), max_size=12))
        return "[" + ", ".join(text for text, _, _ in items) + "]", 1 + sum(w for _, w, _ in items), 1 + sum(e for _, _, e in items)
    entries = draw(st.lists(node(doc, depth + 1), max_size=4))
    texts = [f"k{i}: {text}" for i, (text, _, _) in enumerate(entries)]
    written, expanded = 1 + sum(1 + w for _, w, _ in entries), 1 + sum(1 + e for _, _, e in entries)
    if doc.maps and draw(st.booleans()):
        merged = draw(st.sampled_from(doc.maps))
        texts.insert(draw(st.integers(0, len(texts))), f"<<: *a{merged}")
        written, expanded = written + 1, expanded + 1 + doc.sizes[merged][1]
    return "{" + ", ".join(texts) + "}", written, expanded


@st.composite
def aliased_documents(draw) -> tuple[str, int, int]:
    doc = Written()
    for index in range(draw(st.integers(1, 6))):
        text, written, expanded = draw(node(doc, 0))
        if text.startswith("*"):  # an alias cannot carry an anchor: write a list of it
            text, written, expanded = f"[{text}]", 1, 1 + expanded
        doc.lines.append(f"d{index}: &a{index} {text}")
        doc.sizes.append((written, expanded))
        if text.startswith("{"):
            doc.maps.append(index)
    written = 1 + sum(1 + w for w, _ in doc.sizes)
    expanded = 1 + sum(1 + e for _, e in doc.sizes)
    return "\n".join(doc.lines) + "\n", written, expanded


@settings(max_examples=examples(400), deadline=None)
@given(aliased_documents())
def test_aliases_within_the_budget_read_as_pyyaml_reads_them_and_past_it_are_refused(document):
    import yaml

    from newsfm.transforms.frontmatter import ALIAS_CAP, ALIAS_FACTOR, parse_yaml

    text, written, expanded = document
    added = expanded - written
    try:
        value = parse_yaml(text, fast=False)
    except Rejected as rejection:
        assert rejection.reason == "alias_budget", rejection.message
        assert added > ALIAS_FACTOR * written or added > ALIAS_CAP, (written, expanded)
        assert f"holds {expanded:,} of them, {written:,} written" in rejection.message
        return
    assert not (added > ALIAS_FACTOR * written or added > ALIAS_CAP), (written, expanded)
    assert value == yaml.safe_load(text)


def test_an_alias_bomb_just_past_the_budget_is_refused_and_one_within_it_is_read():
    from newsfm.transforms.frontmatter import parse_yaml

    within = "d0: &a0 [wx, wy]\nd1: &a1 [*a0, *a0, *a0]\n"  # 10 written, 6 added
    assert parse_yaml(within, fast=False) == {"d0": ["wx", "wy"], "d1": [["wx", "wy"]] * 3}
    past = "d0: &a0 [wx]\n" + "".join(f"d{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 4)}]\n" for i in range(1, 9))
    with pytest.raises(Rejected) as refused:
        parse_yaml(past, fast=False)
    assert refused.value.reason == "alias_budget"


def test_aliases_that_nest_values_past_the_depth_limit_are_refused_where_the_limit_is_passed():
    from newsfm.transforms.frontmatter import MAX_DEPTH, parse_yaml

    chain = "d0: &a0 [wx]\n" + "".join(f"d{i}: &a{i} [*a{i - 1}]\n" for i in range(1, MAX_DEPTH + 4))
    with pytest.raises(Rejected) as refused:
        parse_yaml(chain, fast=False, first_line=2)
    assert refused.value.reason == "yaml_error" and f"nested more than {MAX_DEPTH} deep" in refused.value.message
    deepest = parse_yaml("".join(chain.splitlines(True)[:MAX_DEPTH - 1]), fast=False)[f"d{MAX_DEPTH - 2}"]
    levels = 1  # the root mapping
    while isinstance(deepest, list):
        deepest, levels = deepest[0], levels + 1
    assert (deepest, levels) == ("wx", MAX_DEPTH)  # at the limit: read
