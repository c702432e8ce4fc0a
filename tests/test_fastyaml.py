"""The fast front matter reader gives exactly what the strict PyYAML loader gives, or steps aside."""

import contextlib
import functools
import json
import random

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from newsfm.pipelines.discover import read_batch
from newsfm.transforms import fastyaml
from newsfm.transforms.frontmatter import Rejected, decode, parse_yaml, split_front_matter
from newsfm.transforms.normalize import normalize_batch
from newsfm.transforms.pipeline import warehouse_frames
from tests.conftest import CORPUS, SEED, corpus_files, examples, paths_under


def strict(text):
    return parse_yaml(text, fast=False)


def test_the_seed_is_read_by_the_fast_path_and_equals_pyyaml():
    text, _ = split_front_matter(decode(SEED.read_bytes()))
    value = fastyaml.parse(text)
    assert value is not fastyaml.UNSUPPORTED
    assert value == strict(text)
    assert value["quality"] == "65" and value["published"] == "false" and len(value["related"]) == 14


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x",
        "a: !!int 1",
        "a: |2\n  block",
        "a: |\n\n  after a blank line",
        "a: |\n  x\n    \n  spaces only",
        "a: [1, [2]]",
        "a: [1,\n  2]",
        "a: [1, 2, ]",
        "a: {b: c, b: d}",
        "a: [x: y]",
        "a: ['#']",
        "a: 'x' # c\n  y",
        'a: "multi\n  line"',
        "a: plain\n\n  after a blank line",
        'a: "double\n  quoted"',
        "a: 1\na: 2",
        "a:\n-compact",
        "a:\tb",
        'a: "tab \\t escape"',
        "? complex\n: key",
        '"quoted key": v',
        "null: v",
        "a: b: c",
        "a: 'unclosed",
        "- top level list",
        "a: x\r y",
        "a: -: x",
        "a:\n- x: y: z",
        "a: 'x' 'y'",
    ],
)
def test_anything_outside_the_subset_is_left_to_pyyaml(text):
    assert fastyaml.parse(text) is fastyaml.UNSUPPORTED


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a: ~\nb: null\nc:\nd: ''", {"a": None, "b": None, "c": None, "d": ""}),
        ("a: -1\nb: 2020-06-10T22:17:00Z\nc: yes", {"a": "-1", "b": "2020-06-10T22:17:00Z", "c": "yes"}),
        ('a: "say \\"hi\\" \\\\ o"\nb: \'it\'\'s\'', {"a": 'say "hi" \\ o', "b": "it's"}),
        ("a: https://e.com/x#frag?q=1:2", {"a": "https://e.com/x#frag?q=1:2"}),
        ("a:\n  - x\n  -   y: 1\n      z: 2\n", {"a": ["x", {"y": "1", "z": "2"}]}),
        ("a: plain\n  continued\n   and on\nb: x", {"a": "plain continued and on", "b": "x"}),
        ("a: plain\n  - not an item\n  \"not quoted\n  [not a list", {"a": 'plain - not an item "not quoted [not a list'}),
        ("a: 'it''s\n  folded'\nb:\n- x\n- 'y\n  z'\n- k: v\n  l: w\nc: d",
         {"a": "it's folded", "b": ["x", "y z", {"k": "v", "l": "w"}], "c": "d"}),
        ("", None),
        ("# a comment\n\na: 1 # one\nb: 'x' # two\nc: # three\n  d: e\n", {"a": "1", "b": "x", "c": {"d": "e"}}),
        ("a: plain\n  # a comment ends it\nb: x", {"a": "plain", "b": "x"}),
        ("a: [x, 'y''s', \"z w\", ~]\nb: {name: \"D P\", domain: d.com}\nc: []", {"a": ["x", "y's", "z w", None], "b": {"name": "D P", "domain": "d.com"}, "c": []}),
        ("a: |\n  x\n   y\n  # z\n\nb: >-\n  p\n  q\n\n  r\n\n", {"a": "x\n y\n# z\n", "b": "p q\nr"}),
        ("a: |+\n  x\n\n\nb: >\n  p\n   more\n  q\n", {"a": "x\n\n\n", "b": "p\n more\nq\n"}),
        # one-line entries and items (the shortcut), beside lines that only look like them
        ("a:\n- url: x\n- url:\n- 'q''s'\n- \"d\"\n- ~\n- -x\n- x:y\nb: ''''\nc: \"\"\nd: x #",
         {"a": [{"url": "x"}, {"url": None}, "q's", "d", None, "-x", "x:y"], "b": "'", "c": "", "d": "x"}),
    ],
)
def test_subset_values(text, expected):
    assert fastyaml.parse(text) == expected == strict(text)


keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(lambda k: k not in {"null", "Null", "NULL"})
scalars = st.none() | st.text(max_size=12) | st.integers().map(str) | st.sampled_from(["~", "null", "yes", "-1", "a: b", "#x", "it's", 'say "x"'])
documents = st.recursive(
    st.dictionaries(keys, scalars, min_size=1, max_size=4),
    lambda inner: st.dictionaries(keys, scalars | inner | st.lists(scalars | inner, min_size=1, max_size=3), min_size=1, max_size=4),
    max_leaves=12,
)


class IndentedDumper(yaml.SafeDumper):
    """Writes sequences indented under their key, as news front matter does."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


@settings(max_examples=examples(300))
@given(documents, st.sampled_from([None, '"', "'"]), st.sampled_from([2, 4]), st.booleans())
def test_fast_path_equals_pyyaml_whenever_it_answers(document, style, indent, crlf):
    text = yaml.dump(
        document, Dumper=IndentedDumper, default_style=style, indent=indent, allow_unicode=True, sort_keys=False, width=10**6
    )
    if crlf:
        text = text.replace("\n", "\r\n")
    fast = fastyaml.parse(text)
    if fast is not fastyaml.UNSUPPORTED:
        assert fast == strict(text)


@settings(max_examples=examples(300))
@given(documents, st.sampled_from([None, "'"]), st.sampled_from([2, 4]), st.sampled_from([20, 40, 80]))
def test_fast_path_equals_pyyaml_on_what_yaml_dump_writes(document, style, indent, width):
    """yaml.dump's own style: sequences not indented under their key, long text folded over lines."""
    text = yaml.safe_dump(document, default_style=style, indent=indent, allow_unicode=True, sort_keys=False, width=width)
    fast = fastyaml.parse(text)
    if fast is not fastyaml.UNSUPPORTED:
        assert fast == strict(text)


def hand_scalar(draw, value, indent: str) -> list[str]:
    """`value` written as a person might: plain, quoted, or a block scalar, maybe with a comment."""
    if value is None:
        return [draw(st.sampled_from(["", " ~", " null", " # nothing"]))]
    form = draw(st.sampled_from(["plain", "single", "double", "block"]))
    if form == "block":
        header = draw(st.sampled_from(["|", "|-", "|+", ">", ">-", ">+", "|2", ">-  # folded"]))
        extra = draw(st.sampled_from(["", "", " "]))
        body = [indent + "  " + (extra if draw(st.booleans()) else "") + line if line else "" for line in value.split("\n")]
        return [f" {header}", *body]
    written = {"plain": value, "single": "'" + value.replace("'", "''") + "'", "double": json.dumps(value, ensure_ascii=False)}[form]
    return [" " + written + draw(st.sampled_from(["", "", " # note", "  #x"]))]


def flow_item(draw, value) -> str:
    if value is None:
        return draw(st.sampled_from(["~", "null"]))
    return draw(st.sampled_from([value, "'" + value.replace("'", "''") + "'", json.dumps(value, ensure_ascii=False)]))


@st.composite
def hand_written(draw, document):
    """Front matter as a person keeps it: comments, blank lines, block scalars, flow collections."""

    def entries(mapping: dict, indent: str) -> list[str]:
        lines = []
        for key, value in mapping.items():
            lines += draw(st.sampled_from([[], [], [""], [indent + "# a comment"], ["# at the margin", ""]]))
            lines += field(key, value, indent)
        return lines

    def field(key: str, value, indent: str) -> list[str]:
        if isinstance(value, dict):
            if all(not isinstance(v, (dict, list)) for v in value.values()) and draw(st.booleans()):
                return [f"{indent}{key}: {{{', '.join(f'{k}: {flow_item(draw, v)}' for k, v in value.items())}}}"]
            return [f"{indent}{key}:{draw(st.sampled_from(['', ' # below']))}", *entries(value, indent + "  ")]
        if isinstance(value, list):
            if all(not isinstance(v, (dict, list)) for v in value) and draw(st.booleans()):
                return [f"{indent}{key}: [{', '.join(flow_item(draw, v) for v in value)}]"]
            lines = [f"{indent}{key}:"]
            for item in value:
                if isinstance(item, dict) and item:
                    inner = entries(item, indent + "    ")
                    first = next(n for n, line in enumerate(inner) if line.startswith(indent + "    ") and line.strip()[:1] != "#")
                    lines += [*inner[:first], f"{indent}  - {inner[first].lstrip()}", *inner[first + 1 :]]
                elif isinstance(item, list):
                    lines.append(f"{indent}  - [{', '.join(flow_item(draw, v) for v in item if not isinstance(v, (dict, list)))}]")
                else:
                    scalar = hand_scalar(draw, item, indent + "  ")
                    lines += [f"{indent}  -{scalar[0]}", *scalar[1:]]
            return lines
        scalar = hand_scalar(draw, value, indent)
        return [f"{indent}{key}:{scalar[0]}", *scalar[1:]]

    return "\n".join(entries(document, "")) + draw(st.sampled_from(["\n", "", "\n\n"]))


@settings(max_examples=examples(500))
@given(st.data(), documents)
def test_fast_path_equals_pyyaml_on_what_people_write(data, document):
    """Comments, blank lines, literal and folded block scalars, quotes with '' and flow collections."""
    assert_agrees_whenever_it_answers(data.draw(hand_written(document)))


@settings(max_examples=examples(300))
@given(st.text(alphabet=st.sampled_from(list("ab:- \n\"'#~\\x1[]{}&*!|>")), max_size=60))
def test_fast_path_never_disagrees_on_arbitrary_text(text):
    assert_agrees_whenever_it_answers(text)


odd_text = st.text(alphabet=st.sampled_from(list("ab -:#'\"~\\[]{}&*!|>?,%@`")), min_size=1, max_size=10)
odd_scalar = odd_text | odd_text.map(lambda t: f"'{t}'") | odd_text.map(lambda t: f'"{t}"')
one_line_entry = odd_scalar.map(lambda v: [f": {v}"]) | st.lists(
    odd_scalar.map(lambda v: f"- {v}") | odd_scalar.map(lambda v: f"- k: {v}"), min_size=1, max_size=3
).map(lambda items: [":", *items])


@settings(max_examples=examples(300))
@given(st.lists(one_line_entry, min_size=1, max_size=5), st.sampled_from(["", "  "]))
def test_fast_path_never_disagrees_on_one_line_entries_of_odd_text(entries, indent):
    """`key: text`, `- text` and `- k: text` lines, the shape the one-line shortcut reads, with
    text made of YAML's indicators (about a fifth of them are accepted)."""
    lines = []
    for number, (head, *items) in enumerate(entries):
        lines += [f"k{number}{head}", *(indent + item for item in items)]
    assert_agrees_whenever_it_answers("\n".join(lines))


@functools.cache
def front_matters() -> list[str]:
    """Whole front matter of the shapes the fast path is for, to be edited by `slipped`: the
    seed's, 40 generated news items' in each style, and the real corpus' news items when it is
    beside the repository."""
    from newsfm.synthetic.corpus import STYLES, generate_files

    texts = [split_front_matter(decode(SEED.read_bytes()))[0]]
    for style in STYLES:
        texts += [split_front_matter(decode(f.data))[0] for f in generate_files(40, seed=5, style=style)
                  if f.expect == "article"]
    for path in sorted(CORPUS.glob("*/_news/*.md")):
        with contextlib.suppress(Rejected):
            texts.append(split_front_matter(decode(path.read_bytes()))[0])
    return texts


# What a person's or a tool's slip puts into front matter: YAML's indicators, indentation, line
# breaks of other systems, tabs, characters YAML refuses or reads as breaks, and words it types.
SLIPS = [*":-#'\"\\ \n[]{},&*!|>%@`?~", ": ", " #", "- ", "  ", "\n  ", "\n- ", "''", '\\"', "\\\\", "|\n",
         ">-\n", "\t", "\r\n", "\r", "null", "---", "\n\n", "é", "\u2028", "\x85", "\ufeff", "<<: ", "!!str ",
         "&a ", "*a"]


def slipped(rng: random.Random) -> str:
    """A whole front matter with one to four slips: a piece inserted, a few characters deleted, a
    line indented or dedented, a line written twice."""
    text = rng.choice(front_matters())
    for _ in range(rng.randint(1, 4)):
        kind, at = rng.choice(["insert", "delete", "indent", "dedent", "repeat"]), rng.randint(0, len(text))
        if kind == "insert":
            text = text[:at] + rng.choice(SLIPS) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + rng.randint(1, 5):]
        else:
            lines, line = text.split("\n"), text.count("\n", 0, at)
            lines[line] = {"indent": "  " + lines[line], "dedent": lines[line].lstrip(" "),
                           "repeat": lines[line] + "\n" + lines[line]}[kind]
            text = "\n".join(lines)
    return text


@settings(max_examples=examples(1000))
@given(st.randoms(use_true_random=True))
def test_fast_path_never_disagrees_on_front_matter_with_slips(rng):
    """Whole front matter in every style, edited as hands and tools slip, 20 ways an example:
    whatever the fast path still reads, the strict loader reads the same. (A longer run, 842,496
    edited documents, found no disagreement: docs/performance.md.)"""
    for _ in range(20):
        assert_agrees_whenever_it_answers(slipped(rng))


def assert_agrees_whenever_it_answers(text: str) -> None:
    """What the fast path accepts, the strict loader reads to the same value (it must not refuse it)."""
    fast = fastyaml.parse(text)
    if fast is fastyaml.UNSUPPORTED:
        return
    try:
        expected = strict(text)
    except Exception as error:  # noqa: BLE001 - any strict failure is a disagreement
        pytest.fail(f"fast path accepted {text!r}, strict loader failed: {error}")
    assert fast == expected


def tables_both_ways(root, monkeypatch):
    paths = paths_under(root)
    fast = warehouse_frames([normalize_batch(read_batch(root, paths))])
    monkeypatch.setattr(fastyaml, "parse", lambda text: fastyaml.UNSUPPORTED)
    slow = warehouse_frames([normalize_batch(read_batch(root, paths))])
    return fast, slow


def test_real_corpus_tables_are_identical_with_and_without_the_fast_path(corpus, monkeypatch):
    fast, slow = tables_both_ways(corpus, monkeypatch)
    for name in fast:
        assert fast[name].equals(slow[name]), name


@pytest.mark.parametrize("style", ["smartable", "pydump", "hand", "mix"])
def test_generated_corpus_tables_are_identical_with_and_without_the_fast_path(tmp_path, monkeypatch, style):
    from newsfm.synthetic.write import write_corpus

    count = corpus_files(1500)
    write_corpus(count, tmp_path, seed=7, style=style)
    fast, slow = tables_both_ways(tmp_path, monkeypatch)
    assert len(fast["articles"]) > 0.9 * count
    for name in fast:
        assert fast[name].equals(slow[name]), name


@pytest.mark.parametrize(("style", "at_least"), [("smartable", 1.0), ("pydump", 0.99), ("hand", 0.99), ("mix", 0.99)])
def test_the_fast_path_reads_the_styles_it_is_for(style, at_least):
    """Not a test that cannot fail: the equality tests above hold as well when everything is declined."""
    from newsfm.synthetic.corpus import generate_files

    texts = [split_front_matter(decode(f.data))[0] for f in generate_files(1000, seed=4, style=style)
             if f.expect in ("article", "duplicate")]
    accepted = sum(fastyaml.parse(text) is not fastyaml.UNSUPPORTED for text in texts)
    assert accepted >= at_least * len(texts)


def test_printable_text_has_no_character_the_reader_refuses():
    """`parse` skips its search for refused characters in text that is printable once line breaks are spaces."""
    printable_yet_refused = [hex(code) for code in range(0x110000)
                             if (char := chr(code)) != "\n" and char.isprintable() and fastyaml._SPECIAL.search(char)]
    assert printable_yet_refused == []
