"""pipelines/store.py: snapshots on disk, published by one atomic switch of `OUT/current`.

The frames written here are the real ones: the seed news file of data/raw run through
`extract` → `normalize_batch` → `combine`, so what is checked is what `newsfm build` writes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsfm.pipelines import store
from newsfm.pipelines.layout import CURRENT, LAYERS, LEASES, SNAPSHOTS, TABLE_FILE
from newsfm.pipelines.store import (
    KEEP_SNAPSHOTS,
    ROW_GROUP_BYTES,
    OutputError,
    current_snapshot,
    dictionary_columns,
    output_lock,
    prepare_output,
    publish,
    read_manifest,
    read_table,
    remove_old_snapshots,
    table_file,
)
from newsfm.transforms.pipeline import build_tables
from newsfm.transforms.schema import TABLES, WAREHOUSE, SchemaMismatch, conform
from tests.conftest import write_snapshot

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "data" / "raw" / "2020-06-10-amazon-suspends-police-use-of-rekognition.md"
PART = "part-00000.parquet"
WAREHOUSE_TABLES = [spec.name for spec in WAREHOUSE]

# The seed file: one article listing 14 related items, filed under 3 topics; 13 related providers
# besides the article's own, and 15 images (1 article image, 13 related-item images, 1 provider logo).
SEED_ROWS = {
    "sources": 1,
    "articles": 1,
    "providers": 14,
    "topics": 3,
    "article_topics": 3,
    "related": 14,
    "images": 15,
    "fields": 48,
    "provider_quality": 14,
    "provider_quality_monthly": 14,
    "topic_coverage": 3,
    "topic_coverage_daily": 3,
    "topic_provider": 3,
    "topic_cooccurrence": 3,
    "stories": 1,
    "story_members": 15,
    "provider_timeliness": 14,
}

# What DuckDB calls each Arrow type of the schemas.
DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.bool_(): "BOOLEAN",
    pa.timestamp("us", tz="UTC"): "TIMESTAMP WITH TIME ZONE",
    pa.list_(pa.string()): "VARCHAR[]",
    pa.float64(): "DOUBLE",
    pa.date32(): "DATE",
}

TAXONOMY_AI = b"""\
_id: ai
name: AI
keywords: [artificial intelligence, machine learning]
"""


@pytest.fixture(scope="module")
def seed_tables() -> dict[str, pd.DataFrame]:
    """The seed file alone."""
    return build_tables([(SEED.name, SEED.read_bytes())])


@pytest.fixture(scope="module")
def other_tables(seed_tables) -> dict[str, pd.DataFrame]:
    """Different content in every table: the seed moved to another domain, a taxonomy topic, a reject."""
    moved = SEED.read_bytes().replace(b"businessinsider", b"insider-example")
    tables = build_tables(
        [
            ("2020-06-11-moved.md", moved),
            ("_data/topics/ai.yaml", TAXONOMY_AI),
            ("notes/broken.md", b"no front matter here\n"),
        ]
    )
    for name in WAREHOUSE_TABLES:  # guard: a test comparing the two runs must be able to tell them apart
        assert not tables[name].equals(seed_tables[name]), name
    return tables


def layers_of(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, pd.DataFrame]]:
    return {layer: {name: frame for name, frame in tables.items() if TABLES[name].layer == layer} for layer in LAYERS}


def publish_tables(out: Path, tables: dict[str, pd.DataFrame], info: dict | None = None) -> Path:
    """What the flow does with its frames: check the folder, write a snapshot, publish it."""
    prepare_output(out)
    snapshot = write_snapshot(out, layers_of(tables), info or {})
    publish(out, snapshot)
    return snapshot


def published_tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: read_table(out, name) for name in TABLES}


def assert_tables_equal(actual: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    assert list(actual) == list(expected)
    for name in expected:
        pd.testing.assert_frame_equal(actual[name], expected[name], check_exact=True, obj=name)


def snapshot_names(out: Path) -> list[str]:
    return sorted(path.name for path in (out / SNAPSHOTS).iterdir())


@pytest.fixture
def published_seed(tmp_path, seed_tables) -> Path:
    """An output folder with the seed tables published once."""
    out = tmp_path / "out"
    publish_tables(out, seed_tables, {"raw_dir": "data/raw"})
    return out


# --- layout -------------------------------------------------------------------------------


def test_publish_lays_out_one_parquet_file_per_table_behind_the_current_link(published_seed):
    """Every table is OUT/warehouse/<table>/part-00000.parquet, reached via current -> snapshots/<id>."""
    out = published_seed
    for name, spec in TABLES.items():
        assert (out / spec.layer / name / PART).is_file(), name
    for layer in LAYERS:
        assert sorted(p.name for p in (out / layer).iterdir()) == sorted(n for n, t in TABLES.items() if t.layer == layer)

    assert (out / CURRENT).is_symlink()
    target = Path(os.readlink(out / CURRENT))
    assert not target.is_absolute() and target.parent == Path(SNAPSHOTS)  # relative: the folder can move
    assert (out / SNAPSHOTS / target.name).is_dir() and not target.name.startswith(".")
    assert (out / "warehouse").is_symlink() and os.readlink(out / "warehouse") == "current/warehouse"
    assert current_snapshot(out) == out / SNAPSHOTS / target.name


def test_manifest_records_snapshot_rows_and_run_info(published_seed, seed_tables):
    """manifest.json of the published snapshot names it, counts each table's rows and keeps the run's info."""
    manifest = read_manifest(published_seed)
    assert manifest["snapshot"] == current_snapshot(published_seed).name
    assert manifest["rows"] == SEED_ROWS == {name: len(frame) for name, frame in seed_tables.items()}
    assert manifest["raw_dir"] == "data/raw"
    created = dt.datetime.fromisoformat(manifest["created_at"])
    assert created.utcoffset() == dt.timedelta(0)


def test_read_manifest_of_an_unpublished_folder_is_empty(tmp_path):
    """Before the first publish there is no current snapshot and no manifest."""
    prepare_output(tmp_path / "out")
    assert current_snapshot(tmp_path / "out") is None
    assert read_manifest(tmp_path / "out") == {}


# --- reading back -------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["seed_tables", "other_tables"])
def test_tables_read_back_exactly_as_written(tmp_path, request, which):
    """read_table returns each frame exactly: values, nulls, nullable dtypes, UTC timestamps, row order."""
    tables = request.getfixturevalue(which)
    out = tmp_path / "out"
    publish_tables(out, tables)
    assert_tables_equal(published_tables(out), tables)


@pytest.mark.parametrize("name", list(TABLES))
def test_pandas_reads_each_table_with_the_schema_columns_and_rows(published_seed, name):
    """pandas.read_parquet of OUT/warehouse/<table> gives the schema's columns in order and all rows."""
    df = pd.read_parquet(published_seed / TABLES[name].layer / name)
    assert list(df.columns) == TABLES[name].columns
    assert len(df) == SEED_ROWS[name]


@pytest.mark.parametrize("name", list(TABLES))
def test_parquet_schema_is_the_declared_schema(published_seed, name):
    """The Arrow schema stored in the file has the declared names, types, nullability and descriptions."""
    spec = TABLES[name]
    schema = pq.read_schema(published_seed / TABLES[name].layer / name / PART)
    assert schema.names == spec.columns
    assert [f.type for f in schema] == [f.type for f in spec.schema]
    assert [f.nullable for f in schema] == [f.nullable for f in spec.schema]
    assert [f.metadata for f in schema] == [f.metadata for f in spec.schema]
    assert schema.metadata == spec.schema.metadata  # table name and description; no pandas index metadata
    assert schema.equals(spec.schema, check_metadata=False)


def test_parquet_types_are_utc_microseconds_sized_ints_and_string_lists(published_seed):
    """Spot checks of the physical types readers depend on."""
    def field(table: str, column: str) -> pa.Field:
        return pq.read_schema(published_seed / TABLES[table].layer / table / PART).field(column)

    assert str(field("articles", "published_at").type) == "timestamp[us, tz=UTC]"
    assert str(field("related", "published_at").type) == "timestamp[us, tz=UTC]"
    assert field("articles", "quality").type == pa.int64()
    assert field("articles", "heat").type == pa.int64()
    assert field("sources", "size_bytes").type == pa.int64()
    assert field("article_topics", "position").type == pa.int32()
    assert field("images", "position").type == pa.int32()
    assert field("articles", "published").type == pa.bool_()
    keywords = field("topics", "keywords").type
    assert pa.types.is_list(keywords) and keywords.value_type == pa.string()
    assert not field("topics", "keywords").nullable
    assert not field("articles", "published_at").nullable and field("related", "published_at").nullable


@pytest.mark.parametrize("name", list(TABLES))
def test_duckdb_reads_each_table_with_the_schema_columns_types_and_rows(published_seed, name):
    """DuckDB over OUT/warehouse/<table>/*.parquet sees the schema's columns, in order, typed, all rows."""
    spec = TABLES[name]
    glob = f"{published_seed}/{TABLES[name].layer}/{name}/*.parquet"
    with duckdb.connect() as con:
        described = con.sql(f"DESCRIBE SELECT * FROM read_parquet('{glob}')").fetchall()
        [(count,)] = con.sql(f"SELECT count(*) FROM read_parquet('{glob}')").fetchall()
    assert [(row[0], row[1]) for row in described] == [(f.name, DUCKDB_TYPES[f.type]) for f in spec.schema]
    assert count == SEED_ROWS[name]


def test_duckdb_column_types_and_values_of_note(tmp_path, other_tables):
    """DuckDB types of the columns of note, and the values it reads from them."""
    out = tmp_path / "out"
    publish_tables(out, other_tables)
    with duckdb.connect() as con:
        def sql(query: str):
            return con.sql(query.replace("{w}", f"{out}/warehouse"))

        def types(table: str) -> dict[str, str]:
            return {row[0]: row[1] for row in sql(f"DESCRIBE SELECT * FROM read_parquet('{{w}}/{table}/*.parquet')").fetchall()}

        assert types("articles")["published_at"] == "TIMESTAMP WITH TIME ZONE"
        assert types("related")["published_at"] == "TIMESTAMP WITH TIME ZONE"
        assert types("articles")["quality"] == "BIGINT"
        assert types("articles")["published"] == "BOOLEAN"
        assert types("topics")["keywords"] == "VARCHAR[]"
        assert types("images")["position"] == "INTEGER"
        assert types("images")["is_cached"] == "BOOLEAN"

        row = sql(
            "SELECT epoch(published_at), quality, heat, published, provider_domain "
            "FROM read_parquet('{w}/articles/*.parquet')"
        ).fetchall()
        published_at = dt.datetime(2020, 6, 10, 22, 17, tzinfo=dt.timezone.utc).timestamp()
        assert row == [(published_at, 65, -1, False, "insider-example.com")]
        keywords = sql(
            "SELECT topic_id, keywords, origin FROM read_parquet('{w}/topics/*.parquet') ORDER BY topic_id"
        ).fetchall()
        assert keywords == [
            ("ai", ["artificial intelligence", "machine learning"], "taxonomy"),
            ("aws-ai", [], "observed"),
            ("computer-vision", [], "observed"),
        ]
        rejects = sql(
            "SELECT source_path, status, reason, line, \"column\", size_bytes "
            "FROM read_parquet('{w}/sources/*.parquet') WHERE status = 'rejected'"
        ).fetchall()
        assert rejects == [("notes/broken.md", "rejected", "no_front_matter", 1, 1, 21)]


@pytest.mark.parametrize("name", list(TABLES))
def test_parquet_files_are_zstd_compressed(published_seed, name):
    """Every column chunk of every table is compressed with zstd."""
    metadata = pq.ParquetFile(published_seed / TABLES[name].layer / name / PART).metadata
    assert metadata.num_row_groups == 1
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    group = metadata.row_group(0)
    assert {group.column(i).compression for i in range(group.num_columns)} == {"ZSTD"}


def test_segment_files_keep_a_dictionary_only_for_text_that_repeats(tmp_path):
    """Mostly distinct text (titles, paths) is written plain; repeated text and other types keep
    their dictionary, and the file reads back equal."""
    rows = 2_000
    table = pa.table({
        "title": [f"title {i}" for i in range(rows)],
        "category": ["business" if i % 3 else "sports" for i in range(rows)],
        "half": [f"h{i // 2}" for i in range(rows)],  # as many values as half the rows: still a dictionary
        "quality": pa.array([i % 7 for i in range(rows)], pa.int64()),
        "missing": pa.nulls(rows, pa.string()),
    })
    assert dictionary_columns(table) == ["category", "half", "quality", "missing"]
    assert dictionary_columns(table.slice(0, 0)) == table.column_names  # nothing to judge by: the default
    path = tmp_path / "piece.parquet"
    pq.write_table(table, path, use_dictionary=dictionary_columns(table))
    group = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {group.column(i).path_in_schema: group.column(i).encodings for i in range(group.num_columns)}
    assert "RLE_DICTIONARY" not in encodings["title"] and "RLE_DICTIONARY" in encodings["category"]
    assert pq.read_table(path).equals(table)


# --- switching snapshots ------------------------------------------------------------------


def test_second_publish_switches_current_and_keeps_the_previous_snapshot(published_seed, seed_tables, other_tables):
    """Readers see the new tables after the switch; the previous snapshot stays, intact, for readers on it."""
    out = published_seed
    first = current_snapshot(out)
    second = publish_tables(out, other_tables)
    assert second != first
    assert current_snapshot(out) == second
    assert os.readlink(out / CURRENT) == f"{SNAPSHOTS}/{second.name}"
    assert_tables_equal(published_tables(out), other_tables)
    assert read_manifest(out)["rows"]["sources"] == 3
    assert snapshot_names(out) == sorted([first.name, second.name])
    previous = {name: read_table(first, name) for name in TABLES}  # a snapshot reads like an output folder
    assert_tables_equal(previous, seed_tables)


def test_publishing_beyond_keep_removes_the_oldest_snapshots(published_seed, seed_tables, other_tables):
    """Only the newest KEEP_SNAPSHOTS complete snapshots remain after each publish."""
    assert KEEP_SNAPSHOTS == 2
    out = published_seed
    made = [current_snapshot(out).name]
    for tables in (other_tables, seed_tables, other_tables):
        made.append(publish_tables(out, tables).name)
        assert snapshot_names(out) == sorted(made[-KEEP_SNAPSHOTS:])
        assert current_snapshot(out).name == made[-1]
    assert_tables_equal(published_tables(out), other_tables)


def test_the_published_snapshot_is_never_removed_even_when_oldest(published_seed, seed_tables, other_tables):
    """Newer unpublished snapshots do not push the published one out; older unpublished ones go."""
    out = published_seed
    published = current_snapshot(out)
    newer = [write_snapshot(out, layers_of(other_tables), {}) for _ in range(3)]
    remove_old_snapshots(out)
    assert snapshot_names(out) == sorted([published.name, newer[1].name, newer[2].name])
    assert current_snapshot(out) == published
    publish(out, published)  # publishing it again (the tidy-up runs again) changes nothing
    assert snapshot_names(out) == sorted([published.name, newer[1].name, newer[2].name])
    assert_tables_equal(published_tables(out), seed_tables)


def test_next_publish_removes_staging_and_link_leftovers(published_seed, other_tables):
    """A crashed run's snapshots/.staging-* folder and temporary current link are removed by the next publish."""
    out = published_seed
    staging = out / SNAPSHOTS / ".staging-20200101T000000000000Z-dead00"
    (staging / "warehouse" / "sources").mkdir(parents=True)
    (staging / "warehouse" / "sources" / PART).write_bytes(b"half a file")
    stale_link = out / ".current.tmp-dead00"
    os.symlink(Path(SNAPSHOTS) / staging.name, stale_link)

    second = publish_tables(out, other_tables)

    assert not staging.exists()
    assert not stale_link.is_symlink()
    assert [p.name for p in (out / SNAPSHOTS).iterdir() if p.name.startswith(".")] == []
    assert sorted(p.name for p in out.iterdir()) == sorted([CURRENT, SNAPSHOTS, LEASES, *LAYERS])
    assert current_snapshot(out) == second


# --- interrupted runs ---------------------------------------------------------------------


def test_run_failing_midway_through_writing_leaves_the_published_output_unchanged(
    published_seed, seed_tables, other_tables, monkeypatch
):
    """A run that dies after writing some tables publishes nothing: readers still get the first run."""
    out = published_seed
    first = current_snapshot(out)
    real_write_table, written = store.write_table, []

    def write_then_fail(folder: Path, name: str, frame: pd.DataFrame) -> int:
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(name)
        return real_write_table(folder, name, frame)

    monkeypatch.setattr(store, "write_table", write_then_fail)
    with pytest.raises(OSError, match="No space left"):
        write_snapshot(out, layers_of(other_tables), {})
    assert written == list(TABLES)[:3]  # the second run really wrote part of its output

    assert current_snapshot(out) == first
    assert_tables_equal(published_tables(out), seed_tables)
    for name in TABLES:  # what any Parquet reader sees through OUT/warehouse
        assert len(pd.read_parquet(out / TABLES[name].layer / name)) == SEED_ROWS[name]
    staging = [p for p in (out / SNAPSHOTS).iterdir() if p.name.startswith(".staging-")]
    assert len(staging) == 1 and snapshot_names(out) == sorted([first.name, staging[0].name])

    monkeypatch.undo()
    publish_tables(out, other_tables)  # the next good run publishes and tidies up
    assert not staging[0].exists()
    assert_tables_equal(published_tables(out), other_tables)


def test_run_interrupted_at_the_switch_leaves_the_published_output_unchanged(
    published_seed, seed_tables, other_tables, monkeypatch
):
    """Ctrl-C just before `current` is replaced leaves the first run published and readable."""
    out = published_seed
    first = current_snapshot(out)
    second = write_snapshot(out, layers_of(other_tables), {})

    def interrupted(source, destination):
        raise KeyboardInterrupt

    monkeypatch.setattr(store.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        publish(out, second)
    monkeypatch.undo()

    assert current_snapshot(out) == first
    assert_tables_equal(published_tables(out), seed_tables)
    with duckdb.connect() as con:
        titles = con.sql(f"SELECT title FROM read_parquet('{out}/warehouse/articles/*.parquet')").fetchall()
    assert titles == [(seed_tables["articles"]["title"][0],)]

    assert list(out.glob(".current*")) == []  # the interrupted switch removed its temporary link

    third = publish_tables(out, other_tables)
    assert current_snapshot(out) == third
    assert snapshot_names(out) == sorted([second.name, third.name])
    assert_tables_equal(published_tables(out), other_tables)


# --- prepare_output -----------------------------------------------------------------------


def test_prepare_output_creates_the_folder_and_leaves_no_probe(tmp_path):
    """A missing output folder (and its parents) is created with an empty snapshots/ inside."""
    out = tmp_path / "a" / "b" / "out"
    prepare_output(out)
    assert sorted(p.name for p in out.iterdir()) == [SNAPSHOTS]
    assert list((out / SNAPSHOTS).iterdir()) == []


def test_prepare_output_accepts_a_folder_it_published_before(published_seed):
    """OUT/warehouse as newsfm's own link is fine: a rebuild into the same folder is allowed."""
    prepare_output(published_seed)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_prepare_output_rejects_a_read_only_folder(tmp_path):
    """An output folder without write permission fails early, naming the folder and the reason."""
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    out.chmod(0o500)
    try:
        with pytest.raises(OutputError) as raised:
            prepare_output(out)
    finally:
        out.chmod(0o700)
    message = str(raised.value)
    assert message.startswith(f"cannot write to output folder {out}: ")
    assert "Permission denied" in message
    assert list(out.iterdir()) == []


def test_prepare_output_rejects_a_path_under_a_regular_file(tmp_path):
    """An output path whose parent is a file fails early (also as root), naming the folder and the reason."""
    parent = tmp_path / "notes.txt"
    parent.write_text("not a folder\n")
    out = parent / "out"
    with pytest.raises(OutputError) as raised:
        prepare_output(out)
    assert str(raised.value) == f"cannot write to output folder {out}: Not a directory"
    assert parent.read_text() == "not a folder\n"


def test_prepare_output_rejects_a_real_warehouse_folder(tmp_path):
    """A real OUT/warehouse folder is never replaced by the link: the user is told to move it."""
    out = tmp_path / "out"
    (out / "warehouse" / "articles").mkdir(parents=True)
    with pytest.raises(OutputError, match="is a real folder, not newsfm's link") as raised:
        prepare_output(out)
    assert str(out / "warehouse") in str(raised.value)
    assert "move it away or pick another output folder" in str(raised.value)
    assert (out / "warehouse").is_dir() and not (out / "warehouse").is_symlink()


# --- conform --------------------------------------------------------------------------------


def test_conform_accepts_the_frames_combine_builds(seed_tables):
    """The frames of the seed file conform to their tables, row for row."""
    for name, frame in seed_tables.items():
        arrow = conform(name, frame)
        assert arrow.schema.equals(TABLES[name].schema, check_metadata=True)
        assert arrow.num_rows == SEED_ROWS[name]


def test_conform_rejects_a_wrong_column_order(seed_tables):
    """Columns must be in the schema's order, not merely all present."""
    articles = seed_tables["articles"]
    swapped = articles[["source_path", "article_id", *articles.columns[2:]]]
    with pytest.raises(SchemaMismatch, match=r"articles: columns \['source_path', 'article_id', .*differ from the schema's"):
        conform("articles", swapped)


def test_conform_rejects_a_missing_or_extra_column(seed_tables):
    """A frame with a column dropped or added does not conform."""
    articles = seed_tables["articles"]
    with pytest.raises(SchemaMismatch, match="differ from the schema's"):
        conform("articles", articles.drop(columns=["heat"]))
    with pytest.raises(SchemaMismatch, match="differ from the schema's"):
        conform("articles", articles.assign(extra=1))


def test_conform_rejects_an_object_column(seed_tables):
    """A column of Python objects is refused, even when its values would convert."""
    articles = seed_tables["articles"].astype({"title": object})
    with pytest.raises(SchemaMismatch, match=r"articles: object columns \['title'\]"):
        conform("articles", articles)


def null_title(seed_tables) -> pd.DataFrame:
    articles = seed_tables["articles"].copy()
    articles["title"] = pd.array([pd.NA], dtype="string")
    return articles


def test_conform_refuses_a_null_in_a_not_null_column(seed_tables):
    """A null where the schema says not null is refused (today as pyarrow's ValueError, see below)."""
    with pytest.raises(ValueError, match="title"):
        conform("articles", null_title(seed_tables))


def test_conform_reports_a_null_in_a_not_null_column_as_schema_mismatch(seed_tables):
    """A null where the schema says not null is a SchemaMismatch naming the table and column."""
    with pytest.raises(SchemaMismatch, match=r"^articles\.title is declared not null but has nulls$"):
        conform("articles", null_title(seed_tables))


def test_conform_rejects_a_value_of_the_wrong_type(seed_tables):
    """Text in an integer column is a SchemaMismatch, not a bare Arrow error."""
    articles = seed_tables["articles"].copy()
    articles["quality"] = pd.array(["high"], dtype="string")
    with pytest.raises(SchemaMismatch, match="^articles: .*quality"):
        conform("articles", articles)


def test_a_frame_that_does_not_conform_is_never_published(published_seed, seed_tables, other_tables):
    """Writing a snapshot raises SchemaMismatch and the published output stays the first run's."""
    out = published_seed
    bad = dict(other_tables, images=other_tables["images"].astype({"url": object}))
    with pytest.raises(SchemaMismatch, match="images: object columns"):
        write_snapshot(out, {"warehouse": bad}, {})
    assert_tables_equal(published_tables(out), seed_tables)
    assert json.loads((current_snapshot(out) / "manifest.json").read_text())["rows"] == SEED_ROWS


def test_a_second_writer_waits_for_the_lock_and_then_gives_up(tmp_path):
    """Only one run writes an output folder at a time; the other fails with a clear message."""
    prepare_output(tmp_path)
    with output_lock(tmp_path) as notice:
        assert notice is None
        with pytest.raises(OutputError, match=rf"newsfm run pid {os.getpid()} \(started .*\) is writing .*"
                                              r"gave up waiting after 0.3 s \(see --lock-timeout\)"):
            with output_lock(tmp_path, timeout=0.3):
                pass
    with output_lock(tmp_path, timeout=0.3) as notice:  # released, and cleanly: free again, no notice
        assert notice is None


@pytest.mark.integration  # a subprocess
def test_the_lock_of_a_killed_run_is_recovered_at_once_with_a_notice(tmp_path):
    """flock dies with its process; the pid the killed run left in the lock file becomes a notice."""
    prepare_output(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from newsfm.pipelines.store import output_lock\n"
         "with output_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)", str(tmp_path)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent,
    )
    assert holder.stdout.readline() == "locked\n"
    with pytest.raises(OutputError):
        with output_lock(tmp_path, timeout=0.2):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with output_lock(tmp_path, timeout=0.2) as notice:
        assert re.fullmatch(rf"the previous run \(newsfm run pid {holder.pid} \(started .*\)\) did not finish; "
                            r"its leftovers are cleaned up", notice)


def test_snapshot_writer_refuses_an_arrow_table_of_another_schema(tmp_path):
    import pyarrow as pa

    from newsfm.pipelines.store import SnapshotWriter
    from newsfm.transforms.schema import SchemaMismatch

    writer = SnapshotWriter(tmp_path)
    with pytest.raises(SchemaMismatch):
        writer.write_arrow("warehouse", "topics", pa.table({"topic_id": ["x"]}))
    assert not (writer.staging / "warehouse" / "topics").exists()


def test_a_table_written_in_pieces_is_cut_into_row_groups_of_about_row_group_bytes(tmp_path):
    """What a writer holds is bounded by ROW_GROUP_BYTES, not by the table: pieces are joined
    until that many bytes are pending, then written as one row group; the rows keep their order."""
    piece = pa.table({name: pa.array(range(40_000), pa.int64()) for name in ("a", "b", "c")})
    per_group = -(-ROW_GROUP_BYTES // piece.get_total_buffer_size())  # pieces until a row group is written
    pieces = 2 * per_group + 3
    with table_file(tmp_path / "t", piece.schema) as writer:
        for _ in range(pieces):
            writer.write(piece)
    written = pq.ParquetFile(tmp_path / "t" / TABLE_FILE)
    groups = [written.metadata.row_group(i).num_rows for i in range(written.metadata.num_row_groups)]
    assert groups == [per_group * 40_000, per_group * 40_000, 3 * 40_000]
    assert written.read().equals(pa.concat_tables([piece] * pieces))
