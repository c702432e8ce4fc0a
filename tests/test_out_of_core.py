"""The out-of-core combine (`pipelines.combine`) writes exactly the tables the pure reference
combines in memory, whatever the number of segments: on generated corpora with duplicates
and rejects, on the shared real corpus and on a Smartable site, with stale rows in parts."""

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from newsfm.pipelines import combine, spill
from newsfm.pipelines.combine import combine_full
from newsfm.pipelines.discover import read_folder
from newsfm.pipelines.parts import LiveFiles, write_part
from newsfm.pipelines.spill import Ranges, hex_bounds, range_count
from newsfm.pipelines.store import OutputError, SnapshotWriter
from newsfm.synthetic import corpus as g
from newsfm.transforms.extract import extract
from newsfm.transforms.normalize import normalize_batch
from newsfm.transforms.pipeline import warehouse_frames
from newsfm.transforms.schema import TABLES, to_frame
from tests.conftest import Limits

WAREHOUSE = [name for name, spec in TABLES.items() if spec.layer == "warehouse"]


def combined_out_of_core(out: Path, files: list, batch: int, stale: int = 0, segments: int = 0
                         ) -> dict[str, pd.DataFrame]:
    """Write `files` as parts of `batch` files, plus `stale` of them again in a part that is not
    live (an older version of those files), combine them out of core; the tables written."""
    live = {}
    for start in range(0, len(files), batch):
        part_id = write_part(out, normalize_batch(files[start:start + batch]).parts())
        live |= {file.path: part_id for file in files[start:start + batch]}
    if stale:
        write_part(out, normalize_batch(files[:stale]).parts())
    snapshot = SnapshotWriter(out)
    combine_full(out, snapshot, LiveFiles(pa.table({"source_path": list(live), "part_id": list(live.values())})),
                 segments)
    assert not (out / "state" / "spill").exists()
    return {name: to_frame(snapshot.read("warehouse", name)) for name in WAREHOUSE}


def assert_equal_to_the_reference(tables: dict[str, pd.DataFrame], files: list) -> None:
    reference = warehouse_frames([normalize_batch(files)])
    for name in WAREHOUSE:
        pd.testing.assert_frame_equal(tables[name], reference[name], obj=name)


@pytest.mark.parametrize("range_bytes", [1 << 30, 4096])  # one range, hundreds of them
def test_generated_corpus_with_duplicates_and_rejects(tmp_path, monkeypatch, range_bytes):
    monkeypatch.setattr(spill, "RANGE_BYTES", range_bytes)
    files = [extract(f.path, f.data) for f in g.generate_files(800, seed=5)]
    tables = combined_out_of_core(tmp_path, files, batch=97, stale=40)
    statuses = set(tables["sources"]["status"])
    assert {"loaded", "duplicate", "rejected"} <= statuses
    assert_equal_to_the_reference(tables, files)


@pytest.mark.parametrize("segments", [1, 3, 64])
def test_any_segment_count_gives_the_reference_tables(tmp_path, segments):
    files = [extract(f.path, f.data) for f in g.generate_files(300, seed=8)]
    tables = combined_out_of_core(tmp_path, files, batch=61, stale=20, segments=segments)
    assert len(list((tmp_path / "state" / "segments").glob("*/sources/*.arrow"))) <= segments
    assert_equal_to_the_reference(tables, files)


@pytest.mark.parametrize("soft, hard, segments, raised_to", [
    (256, 256, 16, 256),  # (256 - 128 spare) // 7 tables = 18 files each: 16 segments
    (256, 100_000, 64, 64 * 7 + 128),  # raised to what 64 segments need
    (150, 150, 2, 150),
])
def test_newsfm_chooses_no_more_segments_than_files_it_may_hold_open(tmp_path, monkeypatch, soft, hard, segments,
                                                                      raised_to):
    """Scattering holds a file open per segment of each candidate table: the soft limit is raised
    toward what the segments wanted need (64 here), and past the hard limit fewer are chosen."""
    limits = Limits(soft, hard)
    monkeypatch.setattr(spill, "resource", limits)
    monkeypatch.setattr(combine, "range_count", lambda size: 64)
    files = [extract(f.path, f.data) for f in g.generate_files(200, seed=3)]
    tables = combined_out_of_core(tmp_path, files, batch=50)
    (store,) = (tmp_path / "state" / "segments").iterdir()
    assert json.loads((store / "segments.json").read_text())["count"] == segments
    assert limits.soft == raised_to
    assert_equal_to_the_reference(tables, files)


def test_segments_asked_for_beyond_the_open_files_allowed_are_refused_saying_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(spill, "resource", Limits(256, 256))
    with pytest.raises(OutputError, match=r"^--segments 64 needs about 576 open files and this system allows 256 "
                                          r"\(ulimit -n\): ask for fewer, or 0 to let newsfm choose$"):
        combined_out_of_core(tmp_path, [extract(f.path, f.data) for f in g.generate_files(20, seed=3)], batch=10,
                             segments=64)


def test_shared_corpus_and_site_in_many_ranges(tmp_path, monkeypatch, corpus):
    monkeypatch.setattr(spill, "RANGE_BYTES", 1024)
    files = read_folder(corpus) + [replace(f, path="site/" + f.path) for f in read_folder(Path(__file__).parent / "site")]
    files.sort(key=lambda f: f.path)
    assert_equal_to_the_reference(combined_out_of_core(tmp_path, files, batch=50, stale=30), files)


def test_no_files_give_empty_tables_with_their_schemas(tmp_path):
    snapshot = SnapshotWriter(tmp_path)
    combine_full(tmp_path, snapshot, LiveFiles(pa.table({"source_path": pa.array([], pa.string()),
                                                        "part_id": pa.array([], pa.string())})))
    assert snapshot.rows == {name: 0 for name in snapshot.rows} and set(snapshot.rows) == set(WAREHOUSE)


def test_ranges_give_back_every_row_in_key_order(tmp_path):
    keys = [f"{i * 7919 % 10007:04x}" for i in range(3000)]
    ranges = Ranges(tmp_path / "r", pa.schema([("key", pa.string()), ("i", pa.int64())]), "key", hex_bounds(16))
    for start in range(0, 3000, 700):
        ranges.add(pa.table({"key": keys[start:start + 700], "i": range(start, min(start + 700, 3000))}))
    pieces = list(ranges)
    assert len(pieces) == 16
    assert all(max(a.column("key").to_pylist()) < min(b.column("key").to_pylist()) for a, b in zip(pieces, pieces[1:]) if
               a.num_rows and b.num_rows)
    assert sorted(pa.concat_tables(pieces).column("i").to_pylist()) == list(range(3000))


def test_range_counts_and_hex_bounds():
    assert range_count(0) == 1 and range_count(spill.RANGE_BYTES) == 1 and range_count(spill.RANGE_BYTES + 1) == 2
    assert range_count(1 << 50) == spill.MAX_RANGES
    assert hex_bounds(1) == [] and hex_bounds(4) == ["4000", "8000", "c000"]
