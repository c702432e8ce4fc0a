"""Crashes: `newsfm build` killed with SIGKILL at its kill points, a full disk, an interrupted
state record. After every crash readers see exactly the previous complete snapshot or the new
one, never a mix, and the next run completes and leaves nothing behind."""

from __future__ import annotations

import errno
import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from newsfm.pipelines import flows, parallel, store
from newsfm.pipelines.discover import read_folder
from newsfm.pipelines.durable import temporary_name
from newsfm.pipelines.flows import build_warehouse
from newsfm.pipelines.layout import Layout
from newsfm.pipelines.state import build_keys, read_state
from newsfm.pipelines.store import current_snapshot, read_table
from newsfm.transforms.pipeline import tables_of
from newsfm.transforms.schema import TABLES
from newsfm.transforms.settings import DEFAULTS, Settings
from tests.conftest import SEED, news
from tests.prefect_server import prefect_server
from tests.reliability import KILL_POINTS, record

pytestmark = pytest.mark.integration  # subprocesses, Prefect or worker processes

NEWSFM = Path(sys.executable).parent / "newsfm"

# Two versions of one input folder: every run goes from the one published to the other.
COMMON = {"_news/seed.md": SEED.read_bytes(),
          "_data/topics/ai.yaml": b"_id: ai\nname: AI\nkeywords: [ai]\n"}
VERSIONS = {
    "X": {**COMMON,
          "_news/a.md": news("title: A\npublishedDateTime: 2020-01-01T00:00:00Z\nwebUrl: https://a.com/1\ntopics: [AI]"),
          "_news/b.md": news("title: B\npublishedDateTime: 2020-01-02T00:00:00Z\nwebUrl: https://b.com/2"),
          "_news/bad.md": b"no front matter\n"},
    "Y": {**COMMON,
          "_news/a.md": news("title: A, revised\npublishedDateTime: 2020-01-01T00:00:00Z\nwebUrl: https://a.com/1"),
          "_news/c.md": news("title: C\npublishedDateTime: 2020-01-03T00:00:00Z\nwebUrl: https://a.com/1?utm_source=x"),
          "_news/bad.md": news("title: Fixed\npublishedDateTime: 2020-01-04T00:00:00Z\nwebUrl: https://d.com/4")},
}


def write_version(raw: Path, version: str) -> None:
    shutil.rmtree(raw, ignore_errors=True)
    for name, data in VERSIONS[version].items():
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).write_bytes(data)


def expected_tables(tmp_path: Path, version: str) -> dict[str, pd.DataFrame]:
    """What a full build of `version` publishes, computed in memory."""
    raw = tmp_path / f"expected-{version}"
    write_version(raw, version)
    return tables_of(read_folder(raw))


def published(out: Path) -> dict[str, pd.DataFrame]:
    return {name: read_table(out, name) for name in TABLES}


def same(tables: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> bool:
    return all(tables[name].equals(expected[name]) for name in TABLES)


def leftovers(out: Path) -> list[str]:
    """Traces of an interrupted run that a completed run must have removed."""
    layout = Layout(out)
    found = [p.name for p in layout.snapshots.iterdir() if p.name.startswith(".")]
    found += [p.name for p in out.glob(".current-*")]
    found += [p.name for p in layout.parts.iterdir() if p.name.startswith(".")]
    found += [p.name for p in layout.state.glob(".*.tmp-*")]
    state, notice = read_state(out, build_keys(out.parent / "raw", DEFAULTS))
    assert state is not None, notice
    unused = {p.name for p in layout.parts.iterdir()} - set(state.files.column("part_id").to_pylist())
    found += sorted(f"unused part {name}" for name in unused)
    if layout.lock.read_text():
        found.append("lock file still names a run")
    return found


def run_build(env: dict, raw: Path, out: Path, *options: str, kill_at: int | None = None,
              trace: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(env)
    if kill_at is not None:
        env["NEWSFM_KILL_AT"] = str(kill_at)
    if trace is not None:
        env["NEWSFM_KILL_TRACE"] = str(trace)
    command = [str(NEWSFM), "build", str(raw), str(out), "--workers", "1", "--no-progress", *options]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


# Each kind of run passes its own kill points: an incremental run each way, and a full refresh
# with one file per part (the most points, every part write among them).
KINDS = {"X→Y": ("Y", ()), "Y→X": ("X", ()), "refresh→Y": ("Y", ("--full-refresh", "--batch-size", "1")),
         "refresh→X": ("X", ("--full-refresh", "--batch-size", "1"))}


def kill_plan(traces: dict[str, list[str]], count: int) -> list[tuple[str, int, str]]:
    """`count` (kind, point number, point name) over every kind's points. Each kind lists the
    publish step's points first (each kind from another one), then the others spread out; kinds
    take turns, so that most runs start where the one before ended."""
    ordered = []
    for turn, (kind, names) in enumerate(traces.items()):
        numbered = list(enumerate(names, 1))
        publish = sorted((p for p in numbered if p[1] in PUBLISH_POINTS), key=lambda p: PUBLISH_POINTS.index(p[1]))
        rest = [p for p in numbered if p[1] not in PUBLISH_POINTS]
        ordered.append([(kind, *p) for p in publish[turn:] + publish[:turn] + rest[::2] + rest[1::2]])
    turns = [point for round_ in itertools.zip_longest(*ordered) for point in round_ if point]
    return turns[:count]


PUBLISH_POINTS = ("new current link made", "published", "state record written", "snapshot complete", "manifest written")


def test_killed_builds_leave_the_old_or_the_new_snapshot_and_the_next_run_repairs(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    expected = {version: expected_tables(tmp_path, version) for version in VERSIONS}
    with prefect_server(tmp_path) as env:
        write_version(raw, "X")
        assert run_build(env, raw, out).returncode == 0
        version = "X"
        traces = {}
        for kind, (target, options) in KINDS.items():  # one clean run of each kind, counting its points
            write_version(raw, target)
            trace = tmp_path / f"trace-{len(traces)}.txt"
            finished = run_build(env, raw, out, *options, trace=trace)
            assert finished.returncode == 0, finished.stderr
            traces[kind] = [line.split(" ", 1)[1] for line in trace.read_text().splitlines()]
            version = target
        assert sum(map(len, traces.values())) >= 50, traces
        survived = []
        for kind, number, name in kill_plan(traces, KILL_POINTS):
            target, options = KINDS[kind]
            source = "X" if target == "Y" else "Y"
            if version != source:  # get to the run's starting point first
                write_version(raw, source)
                assert run_build(env, raw, out).returncode == 0
            write_version(raw, target)
            killed = run_build(env, raw, out, *options, kill_at=number)
            assert killed.returncode == -9, (kind, number, name, killed.stdout, killed.stderr)
            now = published(out)
            assert same(now, expected[source]) or same(now, expected[target]), (kind, number, name)
            repaired = run_build(env, raw, out)
            assert repaired.returncode == 0, (kind, number, name, repaired.stderr)
            assert same(published(out), expected[target]), (kind, number, name)
            assert leftovers(out) == [], (kind, number, name)
            version = target
            survived.append(f"{kind} #{number} {name}")
            record("killpoint", f"{kind} #{number} {name}")
    assert len(survived) == KILL_POINTS


# --- a full disk, in process ------------------------------------------------------------------


@pytest.fixture
def built(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_version(raw, "X")
    build_warehouse(str(raw), str(out), Settings(workers=1))
    write_version(raw, "Y")
    return raw, out


def no_space_after(calls: int, real):
    """`real`, failing with ENOSPC from its (calls + 1)-th call on: a disk that fills up."""
    seen = []

    def writer(*args, **kwargs):
        seen.append(args)
        if len(seen) > calls:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    return writer


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("where", ["a warehouse table", "a part", "the state record"])
def test_a_full_disk_fails_the_run_and_readers_keep_a_complete_snapshot(tmp_path, built, monkeypatch, where):
    raw, out = built
    before, first = published(out), current_snapshot(out)
    expected_after = expected_tables(tmp_path, "Y")
    if where == "a warehouse table":
        monkeypatch.setattr(store, "table_file", no_space_after(2, store.table_file))
    elif where == "a part":
        monkeypatch.setattr(parallel, "write_part", no_space_after(0, parallel.write_part))
    else:
        monkeypatch.setattr(flows, "write_state", no_space_after(0, flows.write_state))
    with pytest.raises(OSError) as error:
        build_warehouse(str(raw), str(out), Settings(workers=1))
    assert error.value.errno == errno.ENOSPC
    monkeypatch.undo()
    now = published(out)
    if where == "the state record":  # it failed after publishing: the new snapshot is complete
        assert same(now, expected_after) and current_snapshot(out) != first
    else:
        assert same(now, before) and current_snapshot(out) == first
    build_warehouse(str(raw), str(out), Settings(workers=1))  # the disk has room again
    assert same(published(out), expected_after) and leftovers(out) == []
    record("adversarial", f"disk full while writing {where}")


@pytest.mark.usefixtures("prefect_harness")
def test_an_interrupted_state_record_write_leaves_the_previous_record(tmp_path, built):
    raw, out = built
    path = Layout(out).state_file
    previous = path.read_bytes()
    temporary_name(path).write_bytes(previous[: len(previous) // 2])  # killed mid-write
    summary = build_warehouse(str(raw), str(out), Settings(workers=1))
    assert summary["notices"] == [] and summary["new"] == 1 and summary["changed"] == 2  # the old record was used
    assert leftovers(out) == []
    record("adversarial", "interrupted state record")
