"""classify on Arrow columns decides exactly what the rules before it decided on Python dicts.

The oracle is those rules as they were (`reference`), a file at a time. Inputs are generated:
files found and recorded with sizes, times and hashes from small sets (so that they often agree),
with every category in each example (new, changed, touched, unchanged, racy, unreadable,
deleted), and the record cut into batches anywhere (classify reads it a batch at a time).
"""

from __future__ import annotations

from unittest.mock import patch

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsfm.pipelines import state as state_module
from newsfm.pipelines.discover import FOUND_SCHEMA
from newsfm.pipelines.state import Entry, Keys, State, classify, entries, read_state, record_table, write_state
from tests.reliability import FUZZ_EXAMPLES as EXAMPLES

KEYS = Keys(parsing={"raw_dir": "/raw"}, combining="c", analytics={})


def reference(found, known: dict[str, Entry], content_hash):
    """The dict-based classify before issue 12, verbatim but for its result's types."""
    new, changed, unchanged, touched, seen = [], [], {}, 0, set()
    for path, size, mtime_ns in found:
        seen.add(path)
        entry = known.get(path)
        if entry is None:
            new.append(path)
        elif size is not None and (entry.size_bytes, entry.mtime_ns) == (size, mtime_ns) and (
            entry.content_sha256 is not None or content_hash(path) is None
        ):
            unchanged[path] = entry
        elif entry.content_sha256 is not None and content_hash(path) == entry.content_sha256:
            unchanged[path] = Entry(size, mtime_ns, entry.content_sha256, entry.part_id)
            touched += 1
        else:
            changed.append(path)
    return {"new": new, "changed": changed, "unchanged": unchanged, "deleted": sorted(set(known) - seen),
            "touched": touched}


def decided(changes) -> dict:
    return {"new": changes.new.to_pylist(), "changed": changes.changed.to_pylist(),
            "unchanged": entries(changes.unchanged), "deleted": changes.deleted.to_pylist(), "touched": changes.touched}


# One file of each category: (found (size, mtime) or None, recorded entry or None, its hash now)
CATEGORIES = {
    "new.md": ((3, 30), None, "h-new"),
    "deleted.md": (None, Entry(5, 50, "h-gone", "p2"), None),
    "unchanged.md": ((1, 10), Entry(1, 10, "h1", "p1"), "h1"),
    "touched.md": ((1, 11), Entry(1, 10, "h1", "p1"), "h1"),
    "changed.md": ((2, 10), Entry(1, 10, "h1", "p1"), "h2"),
    "racy.md": ((1, 10), Entry(1, None, "h1", "p2"), "h1"),
    "racy-changed.md": ((1, 10), Entry(1, None, "h1", "p2"), "h2"),
    "unreadable.md": ((1, 10), Entry(1, 10, None, "p1"), None),  # unchanged while it stays unreadable
    "unreadable-now-readable.md": ((1, 10), Entry(1, 10, None, "p1"), "h1"),
    "unreadable-moved.md": ((1, 12), Entry(1, 10, None, "p1"), None),
    "unstatable.md": ((None, None), Entry(1, 10, "h1", "p2"), "h1"),
    "unstatable-unreadable.md": ((None, None), Entry(None, None, None, "p2"), None),
}

NAMES = ["a.md", "b.md", "a b.md", "a-b.md", "a/b.md", "a.b/c.md", "é.md", "e\u0301.md", "日本.md", "𝒜.md",
         "Z.md"]
STATS = st.one_of(st.none(), st.integers(0, 2))
HASHES = st.sampled_from([None, "h1", "h2"])


@st.composite
def inputs(draw):
    """Files found, the record, the hashes of files now, and where the record is cut into batches."""
    files = dict(CATEGORIES)
    for name in draw(st.lists(st.sampled_from(NAMES), unique=True)):
        seen = draw(st.one_of(st.none(), st.tuples(STATS, STATS)))
        entry = draw(st.one_of(st.none(), st.builds(Entry, STATS, STATS, HASHES, st.sampled_from(["p1", "p2", "p3"]))))
        files[name] = (seen, entry, draw(HASHES))
    found = sorted((path, *seen) for path, (seen, _entry, _hash) in files.items() if seen is not None)
    known = {path: entry for path, (_seen, entry, _hash) in files.items() if entry is not None}
    hashes = {path: digest for path, (_seen, _entry, digest) in files.items()}
    cuts = sorted(draw(st.lists(st.integers(0, len(known)), max_size=4)))
    return found, known, hashes, cuts, draw(st.integers(1, 8))


def found_table(found) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(FOUND_SCHEMA.names, row)) for row in found], schema=FOUND_SCHEMA)


def batched(table: pa.Table, cuts: list[int]) -> pa.Table:
    """The table as record batches cut at `cuts` (empty batches included)."""
    bounds = [0, *cuts, table.num_rows]
    return pa.Table.from_batches([batch for start, end in zip(bounds, bounds[1:])
                                  for batch in table.slice(start, end - start).to_batches() or
                                  [pa.RecordBatch.from_pylist([], schema=table.schema)]], schema=table.schema)


def hashing(hashes: dict[str, str | None], calls: list[str]):
    def content_hash(path: str) -> str | None:
        calls.append(path)
        return hashes[path]

    return content_hash


@settings(max_examples=EXAMPLES, deadline=None)
@given(inputs())
def test_classify_decides_what_the_dict_based_rules_decided(case):
    found, known, hashes, cuts, piece_rows = case
    expected_calls, calls = [], []
    expected = reference(found, known, hashing(hashes, expected_calls))
    changes = classify(found_table(found), State(batched(record_table(known), cuts)), hashing(hashes, calls))
    with patch.object(state_module, "STATE_BATCH_ROWS", piece_rows):  # columns are made this many files at a time
        assert all(len(piece) <= piece_rows for _files, piece in changes.pieces("part_id"))
        unchanged = changes.unchanged
    assert {**decided(changes), "unchanged": entries(unchanged)} == expected
    assert calls == expected_calls  # the same files hashed, once each, in path order
    assert changes.to_parse.to_pylist() == sorted(expected["new"] + expected["changed"])
    assert changes.counts() == {name: len(expected[name]) for name in ("new", "changed", "unchanged", "deleted")}
    assert changes.any == bool(expected["new"] or expected["changed"] or expected["deleted"])
    # a column for the files found: the record's for the unchanged ones, the parts' for the others
    parsed = pa.chunked_array([[f"parsed {path}" for path in changes.to_parse.to_pylist()]], pa.string())
    recorded = {path: entry.part_id for path, entry in expected["unchanged"].items()}
    assert changes.recorded("part_id", parsed).to_pylist() == [
        recorded.get(path, f"parsed {path}") for path, *_ in found]
    assert changes.recorded("part_id").to_pylist() == [recorded.get(path) for path, *_ in found]


@settings(max_examples=EXAMPLES, deadline=None)
@given(inputs())
def test_without_a_record_every_file_is_new_and_none_is_hashed(case):
    found, *_ = case
    changes = classify(found_table(found), None, lambda path: pytest.fail("no hashing without a record"))
    assert decided(changes) == reference(found, {}, None)


def test_a_record_written_and_read_back_in_small_batches_gives_the_same_decisions(tmp_path, monkeypatch):
    """The same, through the record file: write_state in batches of 2 rows, read_state, classify."""
    found = sorted((path, *seen) for path, (seen, _entry, _hash) in CATEGORIES.items() if seen is not None)
    known = {path: entry for path, (_seen, entry, _hash) in CATEGORIES.items() if entry is not None}
    hashes = {path: digest for path, (_seen, _entry, digest) in CATEGORIES.items()}
    monkeypatch.setattr(state_module, "STATE_BATCH_ROWS", 2)
    write_state(tmp_path, record_table(known), KEYS, "snap", racy_after_ns=2**62)
    for part_id in ("p1", "p2"):
        (tmp_path / "state" / "parts" / part_id).mkdir(parents=True)
    state, notice = read_state(tmp_path, KEYS)
    assert notice is None and entries(state.files) == known
    assert sum(1 for _batch in state.batches()) == (len(known) + 1) // 2
    changes = classify(found_table(found), state, hashing(hashes, []))
    assert decided(changes) == reference(found, known, hashing(hashes, []))
    assert changes.counts() == {"new": 1, "changed": 5, "unchanged": 5, "deleted": 1} and changes.touched == 3


def test_a_record_not_sorted_by_path_is_not_trusted(tmp_path):
    table = record_table({"a.md": Entry(1, 1, "h", "p1"), "b.md": Entry(1, 1, "h", "p1")})
    (tmp_path / "state" / "parts" / "p1").mkdir(parents=True)
    write_state(tmp_path, table, KEYS, "snap", racy_after_ns=2**62)
    path = tmp_path / "state" / "files.arrow"
    unsorted = pa.ipc.open_file(path).read_all().take([1, 0])
    with pa.ipc.new_file(path, unsorted.schema) as writer:
        writer.write_table(unsorted)
    state, notice = read_state(tmp_path, KEYS)
    assert state is None and notice.endswith("is unreadable (its rows are not sorted by source_path): full build")


def test_the_record_is_written_from_batches_sorted_by_path_and_only_so(tmp_path):
    rows = record_table({f"{name}.md": Entry(1, 10, "h", "p1") for name in "abcd"})
    write_state(tmp_path, iter(rows.to_batches(max_chunksize=3)), KEYS, "snap", racy_after_ns=10)
    (tmp_path / "state" / "parts" / "p1").mkdir(parents=True)
    state, _ = read_state(tmp_path, KEYS)
    assert entries(state.files) == {f"{name}.md": Entry(1, None, "h", "p1") for name in "abcd"}  # 10 is racy
    with pytest.raises(ValueError, match="sorted by source_path"):
        write_state(tmp_path, iter(rows.to_batches(max_chunksize=2)[::-1]), KEYS, "snap", racy_after_ns=10)
    assert entries(read_state(tmp_path, KEYS)[0].files) == entries(state.files)  # the record before stands


def test_classify_trusts_size_and_time_and_hashes_only_when_they_differ():
    state = State(record_table({
        "same.md": Entry(10, 100, "h-same", "p1"),
        "touched.md": Entry(10, 100, "h-touched", "p1"),
        "edited.md": Entry(10, 100, "h-old", "p1"),
        "racy.md": Entry(10, None, "h-racy", "p2"),  # time not recorded: always compared by hash
        "gone.md": Entry(5, 50, "h-gone", "p2"),
    }))
    hashed = []

    def content_hash(path):
        hashed.append(path)
        return {"touched.md": "h-touched", "edited.md": "h-new", "racy.md": "h-racy"}[path]

    found = [("same.md", 10, 100), ("touched.md", 10, 999), ("edited.md", 11, 100), ("racy.md", 10, 100),
             ("fresh.md", 3, 300)]
    changes = classify(found_table(sorted(found)), state, content_hash)
    assert hashed == ["edited.md", "racy.md", "touched.md"]  # never same.md, never the new file (in path order)
    assert changes.new.to_pylist() == ["fresh.md"] and changes.changed.to_pylist() == ["edited.md"]
    assert changes.deleted.to_pylist() == ["gone.md"]
    assert entries(changes.unchanged) == {
        "same.md": Entry(10, 100, "h-same", "p1"),
        "touched.md": Entry(10, 999, "h-touched", "p1"),
        "racy.md": Entry(10, 100, "h-racy", "p2"),
    }
    assert changes.touched == 2 and changes.to_parse.to_pylist() == ["edited.md", "fresh.md"]
    assert changes.counts() == {"new": 1, "changed": 1, "unchanged": 3, "deleted": 1}


def test_without_a_state_everything_is_new():
    changes = classify(found_table([("a.md", 1, 1), ("b.md", None, None)]), None, lambda path: pytest.fail("no hashing"))
    assert changes.new.to_pylist() == ["a.md", "b.md"] and not changes.unchanged.num_rows and not len(changes.deleted)
