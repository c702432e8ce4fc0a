"""`newsfm.open`: one published snapshot per handle, pinned while the handle is open.

Snapshots are published here as a build publishes them (`pipelines.store`), without Prefect.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

import newsfm
from newsfm.pipelines import reader
from newsfm.pipelines.layout import SNAPSHOTS, Layout
from newsfm.pipelines.store import KEEP_SNAPSHOTS, current_snapshot, output_lock, prepare_output, publish
from newsfm.transforms.pipeline import build_tables
from newsfm.transforms.schema import TABLES, frame
from tests.conftest import MINIMAL, SEED, examples, news, write_snapshot
from tests.test_store import layers_of


def sources_of(files: int) -> pd.DataFrame:
    """A `sources` table of `files` rows: the row count tells snapshots apart."""
    return frame("sources", {
        "source_path": [f"f{i}.md" for i in range(files)], "kind": ["other"] * files, "content_sha256": [None] * files,
        "size_bytes": [None] * files, "status": ["rejected"] * files, "article_id": [None] * files,
        "reason": ["unsupported_file"] * files, "message": ["x"] * files, "line": [None] * files,
        "column": [None] * files,
    })


def publish_layers(out: Path, layers: dict) -> str:
    """Write and publish a snapshot as a build does (under the output lock); returns its id."""
    prepare_output(out)
    with output_lock(out):
        snapshot = write_snapshot(out, layers, {"raw_dir": "raw"})
        publish(out, snapshot)
    return snapshot.name


def on_disk(out: Path) -> set[str]:
    return {path.name for path in (out / SNAPSHOTS).iterdir()}


@pytest.fixture(scope="module")
def seed_tables() -> dict[str, pd.DataFrame]:
    return build_tables([("_news/seed.md", SEED.read_bytes()), ("_news/min.md", news(MINIMAL))])


def test_a_handle_reads_every_table_of_its_snapshot_typed(tmp_path, seed_tables):
    out = tmp_path / "out"
    snapshot_id = publish_layers(out, layers_of(seed_tables))
    with newsfm.open(out) as snap:
        assert snap.id == snapshot_id and snap.tables() == list(TABLES)
        assert snap.rows == {name: len(table) for name, table in seed_tables.items()}
        for name, expected in seed_tables.items():
            pd.testing.assert_frame_equal(snap.table(name), expected, check_exact=True, obj=name)
            assert snap.arrow(name).schema == TABLES[name].schema
        assert list(snap.table("articles", columns=["article_id", "title"]).columns) == ["article_id", "title"]
        assert str(snap.table("related")["published_at"].dtype) == "datetime64[us, UTC]"
        joined = snap.duckdb().sql(
            "select count(*), count(provider_name) from related join providers using (provider_domain)").fetchall()
        assert joined == [(14, 14)]
        assert snap.duckdb() is snap.duckdb()
        with pytest.raises(KeyError, match="no table 'article'"):
            snap.table("article")
    assert snap.closed
    with pytest.raises(ValueError, match="is closed"):
        snap.table("articles")


def test_the_snapshot_survives_publishes_while_open_and_is_removed_after_close(tmp_path, seed_tables):
    out = tmp_path / "out"
    first = publish_layers(out, layers_of(seed_tables))
    snap = newsfm.open(out)
    later = [publish_layers(out, {"warehouse": {"sources": sources_of(files)}}) for files in (1, 2, 3)]
    assert current_snapshot(out).name == later[-1]
    assert on_disk(out) == {first, *later[-KEEP_SNAPSHOTS:]}  # the first is held; the second is not
    for name, expected in seed_tables.items():
        pd.testing.assert_frame_equal(snap.table(name), expected, check_exact=True, obj=name)
    snap.close()
    assert on_disk(out) == set(later[-KEEP_SNAPSHOTS:])  # no build running: closing tidied it away
    snap.close()  # twice is fine


def test_a_closed_handle_leaves_its_snapshot_to_the_next_publish_while_a_build_runs(tmp_path):
    out = tmp_path / "out"
    first = publish_layers(out, {"warehouse": {"sources": sources_of(1)}})
    snap = newsfm.open(out)
    later = [publish_layers(out, {"warehouse": {"sources": sources_of(files)}}) for files in (2, 3)]
    with output_lock(out):  # a build is running
        snap.close()
        assert first in on_disk(out)
    publish_layers(out, {"warehouse": {"sources": sources_of(4)}})
    assert first not in on_disk(out) and later[0] not in on_disk(out)


def test_every_table_read_through_a_handle_comes_from_its_snapshot_while_builds_publish(tmp_path):
    out = tmp_path / "out"
    publish_layers(out, {"warehouse": {"sources": sources_of(0)}, "analytics": {}})
    done, failures = threading.Event(), []

    def builds():
        for files in range(1, 25):
            publish_layers(out, {"warehouse": {"sources": sources_of(files)}})
        done.set()

    writer = threading.Thread(target=builds)
    writer.start()
    while not done.is_set():
        with newsfm.open(out) as snap:
            first = len(snap.table("sources"))
            for _ in range(3):
                if len(snap.table("sources")) != first or snap.rows["sources"] != first:
                    failures.append(snap.id)
    writer.join()
    assert not failures


class Handles(RuleBasedStateMachine):
    """Any interleaving of publishes, opens and closes: an open handle's snapshot is always on
    disk and reads as it was published; on disk are exactly the newest KEEP_SNAPSHOTS and the held ones."""

    handles = Bundle("handles")

    def __init__(self) -> None:
        super().__init__()
        self.out = Path(self.tmp) / f"out-{uuid.uuid4().hex}"
        self.rows: dict[str, int] = {}
        self.published: list[str] = []
        self.open: list[newsfm.Snapshot] = []
        self.publish_one()

    tmp = ""

    @rule()
    def publish_one(self) -> None:
        files = len(self.published) + 1
        self.published.append(publish_layers(self.out, {"warehouse": {"sources": sources_of(files)}}))
        self.rows[self.published[-1]] = files

    @rule(target=handles)
    def open_one(self):
        self.open.append(newsfm.open(self.out))
        return self.open[-1]

    @rule(snap=consumes(handles))
    def close_one(self, snap) -> None:
        snap.close()
        self.open.remove(snap)

    @rule(snap=handles)
    def read(self, snap) -> None:
        assert len(snap.table("sources")) == self.rows[snap.id]

    @invariant()
    def only_the_newest_and_the_held_are_on_disk(self) -> None:
        held = {snap.id for snap in self.open}
        assert on_disk(self.out) == set(self.published[-KEEP_SNAPSHOTS:]) | held

    def teardown(self) -> None:
        for snap in self.open:
            snap.close()


def test_any_interleaving_of_publishes_opens_and_closes(tmp_path):
    Handles.tmp = str(tmp_path)
    runner = Handles.TestCase
    runner.settings = settings(max_examples=examples(25), stateful_step_count=12, deadline=None)
    runner().runTest()


@pytest.mark.integration  # a subprocess
def test_a_dead_readers_lease_does_not_hold_its_snapshot(tmp_path):
    out = tmp_path / "out"
    first = publish_layers(out, {"warehouse": {"sources": sources_of(1)}})
    script = f"import newsfm, sys, time; snap = newsfm.open({str(out)!r}); print(snap.id, flush=True); time.sleep(600)"
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == first
        for files in (2, 3, 4):
            publish_layers(out, {"warehouse": {"sources": sources_of(files)}})
        assert first in on_disk(out)  # held by a live reader
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    publish_layers(out, {"warehouse": {"sources": sources_of(5)}})
    assert first not in on_disk(out) and not list(Layout(out).leases.glob("*.lease"))


def test_without_a_published_snapshot_open_says_to_build_first(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `newsfm build` first"):
        newsfm.open(tmp_path)


def test_a_folder_where_no_lease_can_be_taken_is_read_unpinned_with_a_warning(tmp_path, monkeypatch):
    out = tmp_path / "out"
    snapshot_id = publish_layers(out, {"warehouse": {"sources": sources_of(2)}})

    def refused(out_dir):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(reader, "take_lease", refused)
    with pytest.warns(UserWarning, match="read unpinned"):
        snap = newsfm.open(out)
    assert snap.id == snapshot_id and len(snap.table("sources")) == 2
    snap.close()


def test_snapshot_is_the_public_type():
    assert newsfm.Snapshot is reader.Snapshot
