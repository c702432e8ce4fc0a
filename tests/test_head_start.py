"""Batches parsed while Prefect's API starts: taken over by the build only where the files are
the ones the build finds, and the published tables are those of a build without a head start."""

import os
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

from newsfm.pipelines import head_start, store
from newsfm.pipelines.flows import build_warehouse
from newsfm.pipelines.layout import Layout
from newsfm.pipelines.runner import check_folders, run_build
from newsfm.pipelines.store import output_lock, read_table
from newsfm.synthetic.write import write_corpus
from newsfm.transforms.schema import TABLES
from newsfm.transforms.settings import Settings

pytestmark = pytest.mark.usefixtures("prefect_harness")

SETTINGS = Settings(batch_size=10, workers=2)


def corpus(tmp_path: Path) -> Path:
    """A generated corpus (86 files: 35 news, the rest taxonomies and archives) last modified a
    minute ago: a head start parses no file written within RACY_NS of its walk."""
    raw = tmp_path / "raw"
    write_corpus(35, raw, seed=5)
    for path in in_walk_order(raw):
        os.utime(raw / path, (time.time() - 60,) * 2)
    return raw


def in_walk_order(raw: Path) -> list[str]:
    """The input files, as batches take them: sorted by relative path."""
    return sorted(path.relative_to(raw).as_posix() for path in raw.rglob("*") if path.is_file())


def parts_on_disk(out: Path) -> set[str]:
    return {path.name for path in Layout(out).parts.iterdir()}


def build_with_head_start(raw: Path, out: Path, settings: Settings = SETTINGS, before_flow=lambda: None
                          ) -> tuple[dict, set[str]]:
    """A build whose head start parsed every batch it could before the flow ran; the summary and
    the head start's parts."""
    with head_start.while_api_starts(raw, out, SETTINGS, False, api_starting=True):
        head = head_start._running[-1]
        head.thread.join()  # every batch parsed ahead
        ahead = {future.result() for future in head.parsed.values()}
        before_flow()
        summary = build_warehouse(str(raw), str(out), settings)
    return summary, ahead


def assert_same_tables(out: Path, expected: Path) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(read_table(out, name), read_table(expected, name), obj=name)


def test_the_build_takes_over_every_batch_parsed_ahead(tmp_path):
    raw = corpus(tmp_path)
    summary, ahead = build_with_head_start(raw, tmp_path / "out")
    assert summary["files"] == 86 and len(ahead) == 9  # a part per batch of 10
    assert parts_on_disk(tmp_path / "out") == ahead  # each batch's part is the head start's
    assert not Layout(tmp_path / "out").head_starts  # its scratch folder removed
    build_warehouse(str(raw), str(tmp_path / "plain"), SETTINGS)
    assert_same_tables(tmp_path / "out", tmp_path / "plain")


def edited_in_the_fourth_batch(raw: Path) -> Callable[[], None]:
    """A function that edits the title of a news file of the fourth batch (of 10 files)."""
    changed = raw / next(path for path in in_walk_order(raw)[30:40] if "/_news/" in path)
    return lambda: changed.write_text(changed.read_text().replace("title: ", "title: Edited ", 1))


def edited_titles(out: Path) -> int:
    return read_table(out, "articles")["title"].str.startswith("Edited ").sum()


def test_the_flow_takes_the_head_starts_walk_and_the_next_build_finds_a_file_changed_after_it(tmp_path):
    """The input is walked once per command: a file edited after the head start's walk is in
    the build as that walk found it (its part parsed ahead is taken), and in the next build as edited."""
    raw = corpus(tmp_path)
    summary, ahead = build_with_head_start(raw, tmp_path / "out", before_flow=edited_in_the_fourth_batch(raw))
    assert summary["files"] == 86 and parts_on_disk(tmp_path / "out") == ahead and edited_titles(tmp_path / "out") == 0
    again = build_warehouse(str(raw), str(tmp_path / "out"), SETTINGS)
    assert (again["changed"], again["new"], again["deleted"]) == (1, 0, 0) and edited_titles(tmp_path / "out") == 1
    build_warehouse(str(raw), str(tmp_path / "plain"), SETTINGS)
    assert_same_tables(tmp_path / "out", tmp_path / "plain")


def test_a_flow_that_waited_for_another_run_walks_the_input_again(tmp_path, monkeypatch):
    """The lock held by another run for longer than LOCK_AT_ONCE_S after the flow asked for it:
    the head start's walk may be old, so the flow walks, finds the file edited meanwhile and
    parses its batch again. (The other run waits for the flow to ask: Prefect may take longer
    than LOCK_AT_ONCE_S to start a flow.)"""
    raw = corpus(tmp_path)
    edit = edited_in_the_fourth_batch(raw)
    locked, flow_asked = threading.Event(), threading.Event()
    acquire = store.acquire

    def acquire_noted(handle, out_dir, timeout) -> None:
        if threading.current_thread() is not other:
            flow_asked.set()
        acquire(handle, out_dir, timeout)

    def other_run() -> None:
        with output_lock(tmp_path / "out"):
            edit()
            locked.set()
            flow_asked.wait(timeout=60)
            time.sleep(head_start.LOCK_AT_ONCE_S + 0.5)

    other = threading.Thread(target=other_run)
    monkeypatch.setattr(store, "acquire", acquire_noted)

    def edit_while_another_run_holds_the_lock() -> None:
        other.start()
        locked.wait()

    _summary, ahead = build_with_head_start(raw, tmp_path / "out", before_flow=edit_while_another_run_holds_the_lock)
    on_disk = parts_on_disk(tmp_path / "out")
    assert len(on_disk & ahead) == 8 and len(on_disk - ahead) == 1  # the fourth batch parsed by the flow
    assert edited_titles(tmp_path / "out") == 1
    build_warehouse(str(raw), str(tmp_path / "plain"), SETTINGS)
    assert_same_tables(tmp_path / "out", tmp_path / "plain")


def test_files_written_just_before_the_walk_are_not_parsed_ahead(tmp_path):
    raw = corpus(tmp_path)
    (raw / in_walk_order(raw)[-1]).touch()  # in the last batch
    summary, ahead = build_with_head_start(raw, tmp_path / "out")
    assert summary["files"] == 86 and len(ahead) == 8
    assert len(parts_on_disk(tmp_path / "out")) == 9


def test_parts_parsed_ahead_but_not_taken_over_are_deleted(tmp_path):
    """The flow's batches are other ones (another batch size): nothing is taken over."""
    raw = corpus(tmp_path)
    summary, ahead = build_with_head_start(raw, tmp_path / "out", settings=Settings(batch_size=7, workers=2))
    assert len(ahead) == 9 and not parts_on_disk(tmp_path / "out") & ahead
    assert summary["files"] == 86


def test_batch_keys_differ_by_file_size_time_and_parsing_keys(tmp_path):
    import pyarrow as pa

    from newsfm.pipelines.discover import FOUND_SCHEMA
    from newsfm.pipelines.state import build_keys

    keys = build_keys(tmp_path, SETTINGS)
    files = pa.RecordBatch.from_pylist([{"source_path": "a.md", "size_bytes": 10, "mtime_ns": 5}], schema=FOUND_SCHEMA)
    key = head_start.batch_key(files, keys, 1 << 20)
    assert key == head_start.batch_key(pa.RecordBatch.from_pylist(files.to_pylist(), schema=FOUND_SCHEMA), keys, 1 << 20)
    for column, value in (("source_path", "b.md"), ("size_bytes", 11), ("mtime_ns", 6)):
        other = pa.RecordBatch.from_pylist([{**files.to_pylist()[0], column: value}], schema=FOUND_SCHEMA)
        assert head_start.batch_key(other, keys, 1 << 20) != key, column
    assert head_start.batch_key(files, keys, 1 << 19) != key
    assert head_start.batch_key(files, build_keys(tmp_path / "other", SETTINGS), 1 << 20) != key
    assert head_start.settled(files, 6) and not head_start.settled(files, 5)
    assert not head_start.settled(pa.RecordBatch.from_pylist([{"source_path": "a.md"}], schema=FOUND_SCHEMA), 6)


class ApiComingUp:
    """A temporary API that is still starting (the harness's server serves the flow)."""

    def coming_up(self) -> bool:
        return True

    def settings(self):
        return nullcontext()


def test_a_command_parses_ahead_while_its_api_comes_up(tmp_path, monkeypatch):
    raw = corpus(tmp_path)
    heads = []
    real = head_start.HeadStart.__init__

    def started(self, *args):
        real(self, *args)
        heads.append(self)

    monkeypatch.setattr(head_start.HeadStart, "__init__", started)
    check_folders(raw, tmp_path / "out")
    summary = run_build(raw, tmp_path / "out", SETTINGS, ApiComingUp())
    assert summary["files"] == 86 and len(heads) == 1 and not head_start._running
    ahead = {future.result() for future in heads[0].parsed.values()}
    assert parts_on_disk(tmp_path / "out") >= ahead  # whatever it parsed before the flow ran was taken over

    monkeypatch.setenv(head_start.SWITCH, "0")
    check_folders(raw, tmp_path / "off")
    run_build(raw, tmp_path / "off", SETTINGS, ApiComingUp())
    assert len(heads) == 1


def test_an_output_folder_inside_the_input_is_not_walked_as_input(tmp_path):
    """The head start walks before the flow creates anything in the output folder: its own
    scratch folder there must not become input files of the build that takes its walk over."""
    raw = corpus(tmp_path)
    summary, _ahead = build_with_head_start(raw, raw / "out")
    assert summary["files"] == 86
    assert not read_table(raw / "out", "sources")["source_path"].str.startswith("out/").any()
