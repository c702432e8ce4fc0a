"""Combining parts: on disk, one part table at a time, exactly what combining in memory gives;
and analytics need no more than the columns builds hand them."""

import pandas as pd
import pyarrow as pa
import pytest

from newsfm.pipelines.parts import loader, remove_parts_except, write_part
from newsfm.synthetic import corpus as g
from newsfm.transforms.analytics import INPUT_COLUMNS, analytics_tables
from newsfm.transforms.combine import combine_parts, segment_keys
from newsfm.transforms.extract import extract
from newsfm.transforms.keys import short_hash
from newsfm.transforms.normalize import normalize_batch
from newsfm.transforms.pipeline import warehouse_frames
from newsfm.transforms.schema import TABLES, to_frame
from tests.conftest import live_of


@pytest.fixture(scope="module")
def batches():
    files = [extract(f.path, f.data) for f in g.generate_files(600, seed=3)]
    return [normalize_batch(files[start : start + 150]) for start in range(0, len(files), 150)]


@pytest.fixture(scope="module")
def warehouse(batches):
    return warehouse_frames(batches)


def test_parts_on_disk_combine_to_the_tables_combined_in_memory(tmp_path, batches, warehouse):
    part_ids = [write_part(tmp_path, batch.parts()) for batch in batches]
    live = live_of({path: part_id for part_id, batch in zip(part_ids, batches)
                    for path in batch["sources"]["source_path"]})
    (tmp_path / "state" / "parts" / ".tmp-interrupted").mkdir()  # a leftover is not a part
    streamed = {name: to_frame(table) for name, table in combine_parts(loader(tmp_path, live))}
    assert list(streamed) == ["sources", "articles", "related", "topics", "article_topics", "providers", "images", "fields"]
    for name, frame in warehouse.items():
        pd.testing.assert_frame_equal(streamed[name], frame, obj=name)
    remove_parts_except(tmp_path, keep=part_ids[:1])
    assert [p.name for p in (tmp_path / "state" / "parts").iterdir()] == part_ids[:1]


def test_no_parts_give_empty_tables_with_their_schemas(tmp_path):
    tables = dict(combine_parts(loader(tmp_path, live_of({}))))
    assert all(table.num_rows == 0 and table.schema == TABLES[name].schema for name, table in tables.items())


def test_analytics_from_the_input_columns_equal_analytics_from_whole_tables(warehouse):
    """Readers of a large warehouse give the pandas analytics only INPUT_COLUMNS: a column they start to read must be added there."""
    projected = {name: frame[INPUT_COLUMNS.get(name, list(frame.columns))] for name, frame in warehouse.items()}
    assert len(projected["articles"].columns) < len(warehouse["articles"].columns)
    whole, narrow = analytics_tables(warehouse), analytics_tables(projected)
    for name, frame in whole.items():
        pd.testing.assert_frame_equal(narrow[name], frame, obj=name)


def test_small_parts_are_merged_into_one_with_the_same_rows(tmp_path, batches):
    """Incremental runs add a small part each; `compact` merges them once there are enough."""
    from newsfm.pipelines.parts import LiveFiles, compact

    live = {}
    for batch in batches:  # batches of up to 150 files, written as parts of up to 30 files each
        for start in range(0, len(batch["sources"]["source_path"]), 30):
            part = normalize_batch_slice(batch, start, start + 30)
            part_id = write_part(tmp_path, part)
            live |= {path: part_id for path in part["sources"].column("source_path").to_pylist()}
    assert len(set(live.values())) >= 20
    live = live_of(live)
    untouched = compact(tmp_path, LiveFiles(live), small=10).table  # no part is that small
    assert untouched.equals(live)
    merged = compact(tmp_path, LiveFiles(live), small=31).table
    assert len(set(merged["part_id"].to_pylist())) == 1 and merged["source_path"].equals(live["source_path"])
    before = dict(combine_parts(loader(tmp_path, live)))
    after = dict(combine_parts(loader(tmp_path, merged)))
    assert all(after[name].equals(before[name]) for name in before)


def normalize_batch_slice(batch, start, stop):
    """Parts of the files `start:stop` of a batch (rows are tagged by path, so filter on it)."""
    import pyarrow.compute as pc

    paths = pa.array(batch["sources"]["source_path"][start:stop], pa.string())
    return {name: table.filter(pc.is_in(table.column("source_path"), value_set=paths))
            for name, table in batch.parts().items()}


def test_a_file_is_placed_by_its_article_id_or_else_by_the_hash_of_its_path():
    sources = pa.table({"source_path": ["_news/a.md", "_news/broken.md", "_news/dup.md"],
                        "article_id": ["00ff00ff00ff00ff", None, "00ff00ff00ff00ff"]})
    assert segment_keys(sources).to_pylist() == ["00ff00ff00ff00ff", short_hash("_news/broken.md"), "00ff00ff00ff00ff"]
