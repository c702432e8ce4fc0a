"""Hostile input to the parsing layer: every input ends as a loaded record or a rejection with a reason.

Never an exception out of the batch, never unbounded work: `extract` → `normalize_batch` →
`Batch.parts` → `combine` must hold for any bytes. Three kinds of evidence:

- case files (`tests/hostile/`, each with its exact expected reason and place, listed in its
  README): YAML that attacks the parser, broken framing and encodings, values of the wrong form;
- generated cases too big to keep (a 50 MB file, a 5 MB title, nesting 100,000 deep) and
  measured ones (a billion laughs in bounded memory, tags that would run code if constructed);
- hypothesis fuzzing: arbitrary bytes, YAML-syntax soup, mutated real files (the shared corpus
  when it is beside the repository, the seed otherwise), arbitrary YAML documents dumped in
  every style, documents shaped like news items with hostile field values, and the fast path
  against the strict loader. NEWSFM_FUZZ_EXAMPLES sets the examples per fuzz test.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from newsfm.transforms import fastyaml, frontmatter
from newsfm.transforms.article import Article, Provider, TopicEntry
from newsfm.transforms.extract import Extracted, extract
from newsfm.transforms.fields import INT64_MAX, INT64_MIN
from newsfm.transforms.frontmatter import MAX_DEPTH, REASONS, parse_yaml, split_front_matter
from newsfm.transforms.normalize import normalize_batch
from newsfm.transforms.pipeline import tables_of, warehouse_frames
from newsfm.transforms.settings import DEFAULTS
from tests.conftest import CORPUS, MINIMAL, REPO, SEED, news
from tests.reliability import FUZZ_EXAMPLES, record

HOSTILE = Path(__file__).parent / "hostile"
UTC = dt.timezone.utc
LOADED = "loaded"
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def outcome(path: str, data: bytes, max_bytes: int = DEFAULTS.max_file_bytes) -> Extracted:
    """Extract one file and push it through normalize, parts and (when loaded) combine."""
    result = extract(path, data, max_bytes)
    assert (result.record is None) != (result.reason is None)
    if result.reason is not None:
        assert result.reason in REASONS
        assert result.message
    batch = normalize_batch([result])
    assert batch.parts()["sources"].num_rows == 1
    if result.record is not None:
        assert warehouse_frames([batch])["sources"]["status"].tolist() == ["loaded"]
    return result


def without_fast_path(monkeypatch, path: str, data: bytes, max_bytes: int = DEFAULTS.max_file_bytes) -> Extracted:
    with monkeypatch.context() as patch:
        patch.setattr(fastyaml, "parse", lambda text: fastyaml.UNSUPPORTED)
        return extract(path, data, max_bytes)


def path_for(name: str) -> str:
    """Case files under `topics/` are taxonomy files; the rest news items."""
    return f"_data/{name}" if name.startswith("topics/") else name


# --- case files ------------------------------------------------------------------------------

BUDGET = "repeat values until the YAML holds"
NESTED = f"nested more than {MAX_DEPTH} deep"
URL = "should be an http(s) URL"
T = dt.datetime(2020, 6, 10, 22, 17, tzinfo=UTC)

# file → (reason, line, column, a fragment of the message) for rejections,
#        (LOADED, None, None, {attribute: value}) for files that load.
EXPECTED = {
    "billion-laughs.md": ("alias_budget", 14, 7, BUDGET),
    "alias-scalar.md": (LOADED, None, None, {"title": "A title", "excerpt": "A title"}),
    "alias-recursive.md": ("alias_budget", 5, 9, "holds an alias of itself"),
    "alias-merge-key.md": (LOADED, None, None, {"provider": Provider("example.com", "P")}),
    "anchor-without-alias.md": (LOADED, None, None, {"category": "news"}),
    "tag-python-apply.md": ("yaml_error", 5, 10, "the tag '!!python/object/apply:os.system' is not allowed"),
    "tag-python-name.md": ("yaml_error", 5, 10, "the tag '!!python/name:os.system' is not allowed"),
    "tag-python-new.md": ("yaml_error", 5, 10, "the tag '!!python/object/new:subprocess.Popen' is not allowed"),
    "tag-custom.md": ("yaml_error", 5, 10, "the tag '!custom' is not allowed"),
    "tag-verbatim.md": ("yaml_error", 5, 10, "the tag 'tag:example.com,2020:thing' is not allowed"),
    "tag-binary.md": ("yaml_error", 5, 10, "the tag '!!binary' is not allowed"),
    "tag-set.md": ("yaml_error", 5, 9, "the tag '!!set' is not allowed"),
    "tag-omap.md": ("yaml_error", 5, 11, "the tag '!!omap' is not allowed"),
    "tag-merge.md": (LOADED, None, None, {"provider": Provider("example.com", "P")}),
    "tag-timestamp.md": (LOADED, None, None, {"published_at": T}),
    "tag-int-quoted.md": (LOADED, None, None, {"quality": 65, "published": False}),
    "tag-int-malformed.md": ("yaml_error", 5, 10, "'sixty-five' is not a valid !!int"),
    "tag-bool-malformed.md": ("yaml_error", 5, 12, "'maybe' is not a valid !!bool"),
    "tag-timestamp-malformed.md": ("yaml_error", 5, 10, "'June 10' is not a valid !!timestamp"),
    "tag-int-long.md": ("yaml_error", 5, 10, "a !!int value longer than 100 characters is not allowed"),
    "deep-flow.md": ("yaml_error", 5, 39, NESTED),
    "deep-block.md": ("yaml_error", 37, 65, NESTED),
    "deep-keys.md": ("yaml_error", 5, 65, NESTED),
    "nul-in-front-matter.md": ("yaml_error", 2, 9, "the character U+0000 is not allowed"),
    "nul-in-body.md": (LOADED, None, None, {"title": "A title"}),
    "escape-nul.md": ("yaml_error", 2, 8, "an escape gives the control character U+0000"),
    "escape-control.md": ("yaml_error", 2, 8, "an escape gives the control character U+001B"),
    "escape-surrogate.md": ("yaml_error", 2, 11, "invalid Unicode character escape code"),
    "control-raw.md": ("yaml_error", 2, 9, "the character U+001B is not allowed"),
    "invalid-utf8.md": ("not_utf8", 2, 10, "byte 0xff at offset 13"),
    "overlong-utf8.md": ("not_utf8", 2, 10, "byte 0xc0 at offset 13"),
    "utf8-encoded-surrogate.md": ("not_utf8", 2, 10, "byte 0xed at offset 13"),
    "truncated-utf8.md": ("not_utf8", 2, 10, "byte 0xe2 at offset 13"),
    "utf16.md": ("not_utf8", 1, 1, "byte 0xff at offset 0"),
    "bom.md": (LOADED, None, None, {"title": "A title", "published_at": T}),
    "bom-twice.md": ("no_front_matter", 1, 1, "the first line is not '---'"),
    "bom-inside.md": (LOADED, None, None, {"title": "A\ufefftitle"}),
    "crlf.md": (LOADED, None, None, {"title": "A title", "published_at": T, "web_url": "https://example.com/a"}),
    "mixed-line-ends.md": (LOADED, None, None, {"title": "A title"}),
    "cr-only.md": ("no_front_matter", 1, 1, "the first line is not '---'"),
    "unterminated.md": ("unterminated_front_matter", 1, 1, "never closed"),
    "unterminated-dots.md": ("unterminated_front_matter", 1, 1, "never closed"),
    "indented-closing-fence.md": ("unterminated_front_matter", 1, 1, "never closed"),
    "only-opening-fence.md": ("unterminated_front_matter", 1, 1, "never closed"),
    "empty.md": ("no_front_matter", 1, 1, "the first line is not '---'"),
    "empty-front-matter.md": ("not_a_mapping", None, None, "the front matter is empty"),
    "front-matter-list.md": ("not_a_mapping", None, None, "the front matter is a list"),
    "front-matter-scalar.md": ("not_a_mapping", None, None, "the front matter is a str"),
    "duplicate-key.md": ("duplicate_key", 5, 1, "the key 'title' appears twice"),
    "tab-indent.md": ("yaml_error", 6, 1, "found character that cannot start any token"),
    "long-key.md": ("yaml_error", 5, 2001, "could not find expected ':'"),
    "date-other-format.md": ("bad_value", None, None, "publishedDateTime should be an ISO 8601 date-time"),
    "date-us-format.md": ("bad_value", None, None, "publishedDateTime should be an ISO 8601 date-time"),
    "date-no-zone.md": (LOADED, None, None, {"published_at": T}),
    "date-offset.md": (LOADED, None, None, {"published_at": T}),
    "date-impossible.md": ("bad_value", None, None, "publishedDateTime should be an ISO 8601 date-time"),
    "date-before-year-1-in-utc.md": ("bad_value", None, None, "publishedDateTime should be a date-time within years 1 to 9999"),
    "date-list.md": ("bad_value", None, None, "got ['2020-06-10']"),
    "quality-negative.md": (LOADED, None, None, {"quality": -5, "heat": -1}),
    "quality-int64-bounds.md": (LOADED, None, None, {"quality": INT64_MAX, "heat": INT64_MIN}),
    "quality-int64-overflow.md": ("bad_value", None, None, "quality should be a whole number that fits in 64 bits"),
    "quality-huge.md": ("bad_value", None, None, "quality should be a whole number that fits in 64 bits"),
    "quality-5000-digits.md": ("bad_value", None, None, "quality should be a whole number that fits in 64 bits"),
    "quality-leading-zeros.md": (LOADED, None, None, {"quality": 65}),
    "quality-float.md": ("bad_value", None, None, "quality should be a whole number, got '6.5'"),
    "quality-exponent.md": ("bad_value", None, None, "quality should be a whole number, got '1e3'"),
    "quality-hex.md": ("bad_value", None, None, "quality should be a whole number, got '0x41'"),
    "quality-text.md": ("bad_value", None, None, "quality should be a whole number, got 'high'"),
    "quality-list.md": ("bad_value", None, None, "quality should be a whole number, got ['65']"),
    "heat-float-tag-huge.md": ("bad_value", None, None, "heat should be a whole number that fits in 64 bits, got 1e+300"),
    "image-width-huge.md": ("bad_value", None, None, "images[0].width should be a whole number that fits in 64 bits"),
    "published-maybe.md": ("bad_value", None, None, "published should be true or false, got 'maybe'"),
    "title-empty.md": ("missing_field", None, None, "the required field title is empty"),
    "title-blank.md": ("missing_field", None, None, "the required field title is empty"),
    "title-null.md": ("missing_field", None, None, "the required field title is missing"),
    "title-list.md": ("bad_value", None, None, "title should be text, got ['A', 'B']"),
    "title-mapping.md": ("bad_value", None, None, "title should be text, got {'text': 'A'}"),
    "topics-mapping.md": ("bad_value", None, None, "topics should be a list"),
    "topics-empty-name.md": ("bad_value", None, None, "topics[1] should be a topic name, got ''"),
    "provider-list.md": ("bad_value", None, None, "provider should be a mapping of fields"),
    "related-scalar.md": ("bad_value", None, None, "related should be a list"),
    "related-item-list.md": ("bad_value", None, None, "related[0] should be a mapping of fields"),
    "images-mapping.md": ("bad_value", None, None, "images should be a list"),
    "weburl-javascript.md": ("bad_value", None, None, f"webUrl {URL}, got 'javascript:alert(1)'"),
    "weburl-javascript-uppercase.md": ("bad_value", None, None, f"webUrl {URL}, got 'JAVASCRIPT:alert(1)'"),
    "weburl-data.md": ("bad_value", None, None, f"webUrl {URL}, got 'data:text/html"),
    "weburl-file.md": ("bad_value", None, None, f"webUrl {URL}, got 'file:///etc/passwd'"),
    "weburl-mailto.md": ("bad_value", None, None, f"webUrl {URL}, got 'mailto:"),
    "weburl-ftp.md": ("bad_value", None, None, f"webUrl {URL}, got 'ftp:"),
    "weburl-relative.md": ("bad_value", None, None, f"webUrl {URL}, got '/2020/06/a'"),
    "weburl-scheme-relative.md": ("bad_value", None, None, f"webUrl {URL}, got '//example.com/a'"),
    "weburl-no-host.md": ("bad_value", None, None, f"webUrl {URL}, got 'https:///a'"),
    "weburl-https-javascript.md": ("bad_value", None, None, f"webUrl {URL}, got 'https:javascript:alert(1)'"),
    "weburl-bad-port.md": ("bad_value", None, None, f"webUrl {URL}, got 'https://example.com:99999/a'"),
    "weburl-space.md": ("bad_value", None, None, f"webUrl {URL}, got 'https://example.com/a b'"),
    "weburl-uppercase-scheme.md": (LOADED, None, None, {"web_url": "HTTPS://EXAMPLE.COM/a"}),
    "amp-weburl-javascript.md": ("bad_value", None, None, f"ampWebUrl {URL}, got 'javascript:alert(1)'"),
    "related-weburl-data.md": ("bad_value", None, None, f"related[0].webUrl {URL}, got 'data:text/plain,x'"),
    "topics/alias.yaml": (LOADED, None, None, {"name": "AI", "keywords": ("AI", "AI")}),
    "topics/tag-python.yaml": ("yaml_error", 2, 7, "the tag '!!python/object/apply:os.getcwd' is not allowed"),
    "topics/list.yaml": ("not_a_mapping", None, None, "the YAML document is a list"),
    "topics/two-documents.yaml": ("yaml_error", None, None, "expected one YAML document, found several"),
    "topics/bom-crlf.yaml": (LOADED, None, None, {"topic_id": "ai", "name": "AI"}),
}


def case_files() -> list[str]:
    return sorted(
        path.relative_to(HOSTILE).as_posix()
        for path in HOSTILE.rglob("*")
        if path.is_file() and path.name not in ("README.md", ".gitattributes")
    )


def test_every_case_file_has_an_expectation_and_the_readme_agrees():
    assert case_files() == sorted(EXPECTED)
    rows = re.findall(r"^\| `([^`]+)` \| `([a-z0-9_]+)`(?: (\d+):(\d+))? \|", (HOSTILE / "README.md").read_text(), re.MULTILINE)
    documented = {name: (reason, int(line) if line else None, int(column) if column else None) for name, reason, line, column in rows}
    assert documented == {name: expected[:3] for name, expected in EXPECTED.items()}


def test_case_files_are_small():
    assert max((HOSTILE / name).stat().st_size for name in EXPECTED) < 16 * 1024


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_case_file(name, monkeypatch):
    record("adversarial", name)
    data = (HOSTILE / name).read_bytes()
    reason, line, column, detail = EXPECTED[name]
    result = outcome(path_for(name), data)
    if reason == LOADED:
        assert result.reason is None, result.message
        assert {attribute: getattr(result.record, attribute) for attribute in detail} == detail
    else:
        assert (result.reason, result.line, result.column) == (reason, line, column)
        assert detail in result.message
    assert without_fast_path(monkeypatch, path_for(name), data) == result  # the fast path changes nothing


def test_all_case_files_in_one_batch():
    extracted = [extract(path_for(name), (HOSTILE / name).read_bytes()) for name in sorted(EXPECTED)]
    tables = tables_of(extracted)
    sources = tables["sources"].set_index("source_path")
    assert len(sources) == len(EXPECTED)
    for name, (reason, *_) in EXPECTED.items():
        row = sources.loc[path_for(name)]
        if reason == LOADED:
            assert row["status"] in ("loaded", "duplicate")  # the article cases share one webUrl
        else:
            assert (row["status"], row["reason"]) == ("rejected", reason)
    assert tables["articles"]["quality"].dropna().between(INT64_MIN, INT64_MAX).all()


def test_crlf_and_bom_load_exactly_as_lf():
    lf = extract("x.md", news(MINIMAL)).record
    assert extract("x.md", news(MINIMAL).replace(b"\n", b"\r\n")).record == lf
    assert extract("x.md", b"\xef\xbb\xbf" + news(MINIMAL)).record == lf
    seed = SEED.read_bytes()
    assert extract("x.md", seed.replace(b"\n", b"\r\n")).record == extract("x.md", seed).record


# --- parser attacks, generated and measured ---------------------------------------------------


def billion_laughs(levels: int, width: int) -> bytes:
    lines = ['lol0: &a0 "lol"'] + [f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)]
    return news(MINIMAL + "\n".join(f"    {line}" for line in lines) + f"\n    topics: *a{levels}")


@pytest.mark.parametrize("levels, width", [(9, 9), (12, 10), (30, 30)])
def test_billion_laughs_is_refused_in_bounded_memory(levels, width):
    record("adversarial", f"billion-laughs-{levels}x{width} (generated)")
    data = billion_laughs(levels, width)
    topics = yaml.safe_load(split_front_matter(data.decode())[0])["topics"]  # plain PyYAML takes it...
    assert len(topics) == width and all(item is topics[0] for item in topics)  # ...as width**levels shared leaves
    tracemalloc.start()
    try:
        result = outcome("x.md", data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.reason, result.line) == ("alias_budget", 5 + levels)  # where `&a<levels>` is, which `topics` repeats
    assert BUDGET in result.message
    assert peak < 4 * 1024 * 1024  # a few hundred kB, whatever width**levels is


DEEP = {  # shape → front matter with `n` levels of nesting under `extra`
    "flow-list": lambda n: "extra: " + "[" * n + "]" * n,
    "flow-map": lambda n: "extra: " + "{a: " * n + "b" + "}" * n,
    "compact-list": lambda n: "extra:\n  " + "- " * n + "x",
    "complex-keys": lambda n: "? " * n + "k\n: v",
    "block-map": lambda n: "extra:\n" + "".join(" " * i + "k:\n" for i in range(1, n)) + " " * n + "k: v",
    "block-list": lambda n: "extra:\n" + "".join(" " * i + "-\n" for i in range(1, n + 1)) + " " * (n + 1) + "x",
}
DEPTHS = {"flow-list": 100_000, "flow-map": 100_000, "compact-list": 100_000, "complex-keys": 100_000,
          "block-map": 1_400, "block-list": 1_400}  # block nesting this deep already fills the 1 MiB limit

PROBE = """
import json, sys
from newsfm.transforms.extract import extract
for path in sys.argv[1:]:
    result = extract("x.md", open(path, "rb").read())
    print(json.dumps([result.reason, result.message]), flush=True)
"""


@pytest.mark.integration  # a subprocess
def test_nesting_100000_deep_is_refused_without_a_crash(tmp_path):
    """In a child process, so that a C stack overflow would fail this test, not end the run."""
    paths = []
    for shape, depth in DEPTHS.items():
        for n in (MAX_DEPTH + 1, 999, depth):
            path = tmp_path / f"{shape}-{n}.md"
            path.write_bytes(f"---\ntitle: T\n{DEEP[shape](n)}\n---\n".encode())
            assert path.stat().st_size <= DEFAULTS.max_file_bytes
            paths.append(path)
    probe = subprocess.run([sys.executable, "-c", PROBE, *map(str, paths)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert probe.returncode == 0, probe.stderr
    results = [json.loads(line) for line in probe.stdout.splitlines()]
    assert len(results) == len(paths)
    for path, (reason, message) in zip(paths, results, strict=True):
        record("adversarial", f"{path.stem} (generated)")
        assert reason == "yaml_error", (path.name, reason, message)
        assert NESTED in message or "exceeded maximum nesting depth" in message, (path.name, message)  # ours, or libyaml's at 1,000


@pytest.mark.parametrize("shape", sorted(set(DEEP) - {"complex-keys"}))  # a mapping as a key never loads
def test_nesting_limit_is_exact(shape):
    """MAX_DEPTH levels of lists and mappings load (the root mapping is level 1); one more does not."""
    at_limit = extract("x.md", news(MINIMAL).replace(b"---\n", f"---\n{DEEP[shape](MAX_DEPTH - 1)}\n".encode(), 1))
    beyond = extract("x.md", news(MINIMAL).replace(b"---\n", f"---\n{DEEP[shape](MAX_DEPTH)}\n".encode(), 1))
    record("adversarial", f"depth-{shape} (generated)", 2)
    assert isinstance(at_limit.record, Article), at_limit.message
    assert beyond.reason == "yaml_error" and NESTED in beyond.message


def test_fast_path_stops_at_the_depth_limit_without_recursing():
    deep = "".join(" " * i + "k:\n" for i in range(1_400)) + " " * 1_400 + "k: v\n"
    assert fastyaml.parse(deep) is fastyaml.UNSUPPORTED  # no RecursionError, no value
    assert fastyaml.MAX_DEPTH == MAX_DEPTH


def test_a_50_mb_file_is_too_large_without_reading_its_yaml(tmp_path, monkeypatch):
    record("adversarial", "50mb (generated)")
    big = tmp_path / "big.md"
    big.write_bytes(news(MINIMAL) + b"x" * (50 * 1024 * 1024))
    data = big.read_bytes()
    with monkeypatch.context() as patch:
        for name in ("split_front_matter", "parse_yaml"):
            patch.setattr(frontmatter, name, lambda *args, **kwargs: pytest.fail("the YAML was read"))
        result = outcome("big.md", data)
    assert (result.reason, result.size_bytes) == ("too_large", len(data))
    assert f"{len(data):,} bytes" in result.message
    # With the limit raised, the body is not parsed and the file loads.
    assert outcome("big.md", data, max_bytes=len(data)).record == extract("x.md", news(MINIMAL)).record


@pytest.mark.parametrize("quote", ["", '"', "'"])
def test_a_5_mb_title(quote):
    record("adversarial", f"5mb-title{quote} (generated)")
    title = "word " * 1_000_000 + "end"
    data = news(MINIMAL.replace('"A title"', f"{quote}{title}{quote}"))
    assert outcome("x.md", data).reason == "too_large"
    article = outcome("x.md", data, max_bytes=len(data)).record
    assert article.title == title


def test_tags_are_never_constructed(tmp_path):
    """Payloads that create a file when constructed: PyYAML's unsafe loader does, ours never does."""
    marker = tmp_path / "constructed"
    payloads = [
        f"!!python/object/apply:builtins.open [{str(marker)!r}, 'w']",
        f"!!python/object/new:builtins.open [{str(marker)!r}, 'w']",
        f"!!python/object/apply:os.mkdir [{str(marker)!r}]",
        f"!!python/object/apply:subprocess.call [[touch, {str(marker)!r}]]",
    ]
    for payload in payloads:
        yaml.load(f"x: {payload}", Loader=yaml.UnsafeLoader)  # the payload is real...
        assert marker.exists(), payload
        marker.rmdir() if marker.is_dir() else marker.unlink()
        for name, data in [
            ("x.md", news(MINIMAL) + f"---\nexcerpt: {payload}\n".encode()),  # in the body: never parsed
            ("x.md", news(MINIMAL + f"\n    excerpt: {payload}")),
            ("x.md", news(f"title: T\nwebUrl: https://e.com/a\npublishedDateTime: {payload}")),
            ("_data/topics/x.yaml", f"_id: x\nname: {payload}\n".encode()),
            ("_data/topics/x.yaml", f"_id: x\nkeywords:\n  - {payload}\n".encode()),
        ]:
            record("adversarial", f"constructing tag (generated): {payload[:40]}")
            result = outcome(name, data)
            assert not marker.exists(), (payload, data)  # ...and ours never builds it
            if b"---\nexcerpt" not in data:
                assert result.reason == "yaml_error" and "is not allowed" in result.message


def test_reader_errors_point_at_the_character():
    result = extract("x.md", "---\ntitle: T\n\u00e9t\u00e9: a\x07b\n---\n".encode())
    assert (result.reason, result.line, result.column) == ("yaml_error", 3, 7)
    assert "U+0007" in result.message


def test_integer_digits_are_bounded_before_conversion():
    """int() refuses strings over 4,300 digits with ValueError: the field never gets that far."""
    for value in ("9" * 5_000, "-" + "9" * 100_000):
        result = outcome("x.md", news(MINIMAL + f"\n    quality: {value}"))
        assert result.reason == "bad_value" and "fits in 64 bits" in result.message
    assert outcome("x.md", news(MINIMAL + "\n    quality: -" + "0" * 100_000 + "65")).record.quality == -65
    # A million zeros and a letter: a backtracking pattern such as `0*([0-9]+)` would take hours.
    data = news(MINIMAL + "\n    quality: " + "0" * 1_000_000 + "x")
    result = outcome("x.md", data, max_bytes=len(data))
    assert result.reason == "bad_value" and "should be a whole number, got '000" in result.message


@pytest.mark.parametrize(
    "text",
    [
        "a: &x v", "a: *x", "a: v\nb: &x\n  c: d", "a:\n  - &x v", "a:\n  - *x", "a:\n  - k: *x", "a:\n  - &x k: v",
        "&x a: v", "*x : v", "a: !!str v", "a: !custom v", "a:\n  - !!binary aGk=", "a: ! v", "<<: *x",
    ],
)
def test_the_fast_path_leaves_anchors_aliases_and_tags_to_the_strict_loader(text):
    """So the strict loader's limits apply to every document that has one."""
    assert fastyaml.parse(text) is fastyaml.UNSUPPORTED


# --- fuzzing ---------------------------------------------------------------------------------


def real_files() -> list[tuple[str, bytes]]:
    """News items and taxonomy files of the shared corpus when present, else the seed."""
    if CORPUS.is_dir():
        patterns = ("*/_news/*.md", "*/_archive/_news/*.md", "seed/*.md", "*/_data/topics/*.yaml")
        paths = sorted(path for pattern in patterns for path in CORPUS.glob(pattern))
        if paths:
            return [(path.relative_to(CORPUS).as_posix(), path.read_bytes()) for path in paths]
    return [(SEED.name, SEED.read_bytes())]


REAL = real_files()
SNIPPETS = [
    "&a ", "*a", "*a9", "&a [*a, *a]", "!!python/object/apply:os.system [echo]", "!!python/name:os.system", "!custom ",
    "!!binary ", "!!set ", "!!omap ", "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!str ", "!!null ", "!<tag:x> ",
    "[", "]", "{", "}", "[" * 40, "- ", "? ", ": ", ", ", '"', "'", "#", "# c", "|", ">-", "|+2", "\t", "\r", "\r\n",
    "\n", "\n  ", "\x00", "\x1b", "\x85", "\u2028", "\ufeff", "\ufffe", "---", "---\n", "...\n", "%YAML 1.1\n",
    "%TAG ! tag:x,2020:\n", '"\\0"', '"\\e"', '"\\ud800"', '"\\U0010FFFF"', '"\\x85"', "~", "null", "<<: ", "=",
    "9" * 30, "-9223372036854775809", "1e309", ".nan", "0x7f", "1:2:3", "javascript:alert(1)", "data:,x",
    "file:///etc/passwd", "https://", "http://[::1", "2020-13-45", "0001-01-01T00:00:00+01:00", "k" * 1100 + ": ",
]
SNIPPET_BYTES = [s.encode() for s in SNIPPETS] + [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xef\xbb\xbf"]


@st.composite
def mutated_real_file(draw) -> tuple[str, bytes]:
    """A real file after one to four byte flips, truncations, line edits or YAML insertions."""
    path, data = draw(st.sampled_from(REAL))
    for _ in range(draw(st.integers(1, 4))):
        lines = data.split(b"\n")
        at = draw(st.integers(0, max(len(data), 1) - 1))
        line = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["flip", "truncate", "delete", "duplicate", "swap", "insert", "value", "indent"]))
        if operation == "flip" and data:
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
        elif operation == "truncate":
            data = data[:at]
        elif operation == "delete":
            data = b"\n".join(lines[:line] + lines[line + 1 :])
        elif operation == "duplicate":
            data = b"\n".join(lines[: line + 1] + lines[line:])
        elif operation == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[line], lines[other] = lines[other], lines[line]
            data = b"\n".join(lines)
        elif operation == "insert":
            data = data[:at] + draw(st.sampled_from(SNIPPET_BYTES)) + data[at:]
        elif operation == "value" and b": " in lines[line]:
            key = lines[line].split(b": ", 1)[0]
            lines[line] = key + b": " + draw(st.sampled_from(SNIPPET_BYTES))
            data = b"\n".join(lines)
        elif operation == "indent":
            lines[line] = b" " * draw(st.integers(1, 9)) + lines[line]
            data = b"\n".join(lines)
    return path, data


@FUZZ
@given(st.binary(max_size=4000), st.sampled_from(["x.md", "_data/topics/x.yaml", "x.txt"]))
def test_fuzz_arbitrary_bytes(data, path):
    record("fuzz", "test_fuzz_arbitrary_bytes")
    outcome(path, data)


yaml_soup = st.lists(
    st.sampled_from(SNIPPETS) | st.sampled_from(["title", "webUrl", "publishedDateTime", "quality", "a", "b", "x y"]) | st.text(max_size=5),
    max_size=60,
).map("".join)


@FUZZ
@given(yaml_soup, st.sampled_from([b"---\n", b"\xef\xbb\xbf---\r\n", b"--- \n"]), st.sampled_from([b"\n---\n", b"\r\n---", b""]))
def test_fuzz_front_matter_soup(front_matter, opening, closing):
    """Front matter made of YAML syntax, hostile snippets and arbitrary text."""
    record("fuzz", "test_fuzz_front_matter_soup")
    outcome("x.md", opening + front_matter.encode() + closing)


@FUZZ
@given(mutated_real_file())
def test_fuzz_mutated_real_files(file):
    record("fuzz", "test_fuzz_mutated_real_files")
    outcome(*file)


class IndentedDumper(yaml.SafeDumper):
    """Sequences indented under their key, as news front matter writes them (the fast path's shape)."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


scalars = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats() | st.text(max_size=30) | st.sampled_from(SNIPPETS)
    | st.datetimes(timezones=st.sampled_from([None, UTC, dt.timezone(dt.timedelta(hours=-9, minutes=-30))])) | st.dates()
    | st.binary(max_size=8) | st.complex_numbers(allow_nan=False, max_magnitude=10)
)
yaml_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner) | st.frozensets(st.text(max_size=3), max_size=3)
    | st.dictionaries(st.sampled_from(["title", "webUrl", "url", "name", "quality"]) | st.text(max_size=8) | st.integers(), inner, max_size=5),
    max_leaves=25,
)
dump_styles = st.fixed_dictionaries(
    {
        "Dumper": st.sampled_from([yaml.Dumper, yaml.SafeDumper, IndentedDumper]),  # yaml.Dumper writes !!python tags
        "default_flow_style": st.sampled_from([False, True, None]),
        "default_style": st.sampled_from([None, '"', "'", "|", ">"]),
        "canonical": st.booleans(),
        "indent": st.sampled_from([2, 4, 7]),
        "width": st.sampled_from([20, 80, 10**6]),
        "allow_unicode": st.booleans(),
        "line_break": st.sampled_from([None, "\r\n"]),
        "explicit_end": st.booleans(),
        "sort_keys": st.booleans(),
    }
)


def dump(value, style: dict) -> bytes | None:
    try:
        return yaml.dump(value, **style).encode()
    except yaml.YAMLError:  # SafeDumper refuses tuples, complex numbers and the like
        return None


@FUZZ
@given(yaml_values, dump_styles, st.booleans())
def test_fuzz_yaml_documents(document, style, taxonomy):
    """Any YAML document a dumper writes, with its tags, as front matter or as a taxonomy file."""
    record("fuzz", "test_fuzz_yaml_documents")
    text = dump(document, style)
    if text is None:
        return
    result = outcome("_data/topics/x.yaml", text) if taxonomy else outcome("x.md", b"---\n" + text + b"---\n")
    if result.record is not None:
        assert isinstance(result.record, TopicEntry if taxonomy else Article)


good_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(str.strip)
good_urls = st.builds("https://{}.example/{}".format, st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.from_regex(r"[a-z0-9-]{0,12}", fullmatch=True))
good_times = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2030, 1, 1)).map(lambda t: t.isoformat() + "Z")
HOSTILE_VALUES = [
    "", " ", "~", "null", "0", "-1", "9" * 25, "-9223372036854775809", "9223372036854775807", "1e3", "6.5", "0x41",
    "yes", "no", "maybe", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "file:///etc/passwd",
    "https://", "https://e.com:99999/", "//e.com/a", "http://[::1]/", "http://[bad/", "https://例え.jp/パス",
    "https://user:pw@e.com:8080/a?utm_source=x&b=1#f", "2020-06-10", "2020-06-10T22:17:00", "June 10, 2020",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2020-06-10T22:17:00.123456789Z", "\u202e", "\x85",
]
safe_values = st.recursive(  # what SafeDumper can write: no tuples, sets or complex numbers
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30) | st.sampled_from(SNIPPETS)
    | st.datetimes() | st.dates() | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
hostile = st.sampled_from(HOSTILE_VALUES) | st.integers() | st.floats() | st.booleans() | st.none() | safe_values


good_numbers = st.integers(INT64_MIN, INT64_MAX) | st.integers(INT64_MIN, INT64_MAX).map(str) | st.integers(-5, 200)
good_booleans = st.booleans() | st.sampled_from(["yes", "no", "on", "off", "True", "FALSE"])
good_images = st.lists(
    st.fixed_dictionaries({"url": good_urls}, optional={"width": good_numbers, "height": good_numbers, "isCached": good_booleans, "title": good_text}),
    max_size=3,
)
good_provider = st.fixed_dictionaries(
    {}, optional={"name": good_text, "domain": good_text | st.sampled_from(["/", ".", "www.", "WWW.Example.COM/"]), "images": good_images}
)
good_news = st.fixed_dictionaries(
    {"title": good_text, "webUrl": good_urls, "publishedDateTime": good_times},
    optional={
        "excerpt": good_text, "category": good_text, "type": good_text, "ampWebUrl": good_urls, "cdnAmpWebUrl": good_urls,
        "originalUrl": good_urls, "quality": good_numbers, "heat": good_numbers, "published": good_booleans,
        "provider": good_provider, "topics": st.lists(good_text, max_size=4), "images": good_images,
        "related": st.lists(
            st.fixed_dictionaries(
                {"webUrl": good_urls},
                optional={"title": good_text, "publishedDateTime": good_times, "quality": good_numbers, "provider": good_provider, "images": good_images},
            ),
            max_size=3,
        ),
    },
)
NEWS_FIELDS = ["title", "webUrl", "publishedDateTime", "excerpt", "ampWebUrl", "quality", "heat", "published", "provider", "topics", "images", "related"]
NESTED_FIELDS = {"related": ["webUrl", "title", "publishedDateTime", "quality", "provider", "images"], "provider": ["name", "domain", "images"],
                 "images": ["url", "width", "height", "isCached", "title"]}


@st.composite
def news_items(draw) -> dict:
    """A valid news item with up to three fields (at any depth) given a hostile value: so that a
    third or so load, reach Arrow and combine, and the rest are rejected for one field or two."""
    document = draw(good_news)
    for _ in range(draw(st.integers(0, 3))):
        places = [(document, NEWS_FIELDS)]
        for name in ("provider", "images", "related"):
            value = document.get(name)
            for item in [value] if isinstance(value, dict) else value if isinstance(value, list) else []:
                if isinstance(item, dict):
                    places.append((item, NESTED_FIELDS[name]))
                    if isinstance(item.get("provider"), dict):
                        places.append((item["provider"], NESTED_FIELDS["provider"]))
        container, names = draw(st.sampled_from(places))
        container[draw(st.sampled_from(names))] = draw(hostile)
    return document


news_styles = st.fixed_dictionaries(  # what tools that write front matter use; dump_styles has the rest
    {
        "Dumper": st.sampled_from([yaml.SafeDumper, IndentedDumper]),
        "default_flow_style": st.sampled_from([False, False, None, True]),
        "default_style": st.sampled_from([None, None, '"', "'"]),
        "allow_unicode": st.booleans(),
        "sort_keys": st.booleans(),
        "width": st.sampled_from([80, 10**6]),
        "line_break": st.sampled_from([None, "\r\n"]),
    }
)


@FUZZ
@given(news_items(), st.one_of(news_styles, news_styles, news_styles, dump_styles))
def test_fuzz_news_shaped_documents(document, style):
    """Real news fields with values of every form; what loads has its promised types."""
    record("fuzz", "test_fuzz_news_shaped_documents")
    text = dump(document, style)
    if text is None:
        return
    article = outcome("x.md", b"---\n" + text + b"---\n").record
    if article is not None:
        assert article.published_at.tzinfo == UTC
        for item in (article, *article.related):  # webUrl or originalUrl may be missing, not both
            assert item.key_url is not None
            for url in (item.web_url, item.original_url):
                assert url is None or url.split(":", 1)[0].lower() in ("http", "https")
        for number in (article.quality, article.heat, *(item.quality for item in article.related)):
            assert number is None or INT64_MIN <= number <= INT64_MAX


@st.composite
def mutated_front_matter(draw) -> str:
    """The front matter text of a real file after one to four line edits or YAML insertions."""
    path, data = draw(st.sampled_from(REAL))
    text = data.decode("utf-8")
    if path.endswith(".md"):
        text = split_front_matter(text)[0]  # real news files all have one
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        line = draw(st.integers(0, len(lines) - 1))
        at = draw(st.integers(0, len(text)))
        operation = draw(st.sampled_from(["insert", "value", "delete", "duplicate", "indent", "crlf"]))
        if operation == "insert":
            text = text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
        elif operation == "value" and ": " in lines[line]:
            lines[line] = lines[line].split(": ", 1)[0] + ": " + draw(st.sampled_from(SNIPPETS) | st.text(max_size=8))
            text = "\n".join(lines)
        elif operation == "delete":
            text = "\n".join(lines[:line] + lines[line + 1 :])
        elif operation == "duplicate":
            text = "\n".join(lines[: line + 1] + lines[line:])
        elif operation == "indent":
            lines[line] = " " * draw(st.integers(1, 5)) + lines[line]
            text = "\n".join(lines)
        elif operation == "crlf":
            text = text.replace("\n", "\r\n")
    return text


@FUZZ
@given(mutated_front_matter())
def test_fuzz_fast_path_agrees_with_the_strict_loader(text):
    """Whenever the fast reader answers, the strict loader (with its limits) gives the same value."""
    record("fuzz", "test_fuzz_fast_path_agrees_with_the_strict_loader")
    fast = fastyaml.parse(text)
    if fast is not fastyaml.UNSUPPORTED:
        assert parse_yaml(text, fast=False) == fast


def test_real_files_load():
    assert all(isinstance(extract(path, data).record, (Article, TopicEntry)) for path, data in REAL)


@pytest.mark.parametrize(
    "strategy, condition",
    [
        (mutated_real_file(), lambda file: extract(*file).record is not None),
        (mutated_real_file(), lambda file: extract(*file).reason == "yaml_error"),
        (mutated_real_file(), lambda file: extract(*file).reason == "bad_value"),
        (mutated_real_file(), lambda file: extract(*file).reason == "not_utf8"),
        (mutated_front_matter(), lambda text: fastyaml.parse(text) is not fastyaml.UNSUPPORTED),
        (st.tuples(news_items(), news_styles), lambda drawn: loads(*drawn)),
        (st.tuples(news_items(), news_styles), lambda drawn: loads(*drawn, via_fast_path=True)),
        (st.tuples(news_items(), news_styles), lambda drawn: "bad_value" == extract("x.md", b"---\n" + (dump(*drawn) or b"") + b"---\n").reason),
        (st.tuples(yaml_values, dump_styles), lambda drawn: "is not allowed" in (extract("x.md", b"---\n" + (dump(*drawn) or b"") + b"---\n").message or "")),
    ],
)
def test_the_fuzz_inputs_reach_what_they_are_meant_to(strategy, condition):
    """The generators are not vacuous: each kind of outcome they exist for does come up."""
    find(strategy, condition, settings=settings(max_examples=1_000, database=None, phases=[Phase.generate]))


def loads(document, style, via_fast_path=False) -> bool:
    text = dump(document, style)
    if text is None or extract("x.md", b"---\n" + text + b"---\n").record is None:
        return False
    return not via_fast_path or fastyaml.parse(text.decode()) is not fastyaml.UNSUPPORTED
