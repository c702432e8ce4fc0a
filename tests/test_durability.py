"""Durability: nothing is renamed into the output folder before what it names is on disk, and
every such rename is itself made durable (its folder fsynced).

`kill -9` tests cannot see a missing fsync, since the page cache survives the process; so this
test records every `os.fsync`, `os.rename` and `os.replace` of real runs (a full build in
several parts, an incremental one with compaction, one with nothing to do but new file times,
an analytics rebuild that carries the warehouse over by hard links, and the report) and checks
the order of those calls.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from newsfm.pipelines import flows
from newsfm.pipelines.flows import build_analytics, build_warehouse
from newsfm.pipelines.layout import Layout
from newsfm.pipelines.report import write_report
from newsfm.transforms.settings import Settings
from tests.conftest import SEED, news

pytestmark = pytest.mark.usefixtures("prefect_harness")


class Recorder:
    """The fsync, rename and replace calls of this process, in order."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.real = {name: getattr(os, name) for name in ("fsync", "rename", "replace")}

    def install(self, monkeypatch) -> None:
        monkeypatch.setattr(os, "fsync", self.fsync)
        monkeypatch.setattr(os, "rename", lambda source, target, **kw: self.move("rename", source, target, **kw))
        monkeypatch.setattr(os, "replace", lambda source, target, **kw: self.move("replace", source, target, **kw))

    def fsync(self, descriptor: int) -> None:
        info = os.fstat(descriptor)
        self.events.append(("fsync", (info.st_dev, info.st_ino)))
        self.real["fsync"](descriptor)

    def move(self, call: str, source, target, **kw) -> None:
        source, target = Path(source).absolute(), Path(target).absolute()
        info = os.lstat(source)
        if stat.S_ISDIR(info.st_mode):
            content = [identity(path) for path in source.rglob("*") if path.is_file() and not path.is_symlink()]
            kind = "folder"
        else:
            content = [] if stat.S_ISLNK(info.st_mode) else [identity(source)]
            kind = "link" if stat.S_ISLNK(info.st_mode) else "file"
        self.events.append(("move", kind, source, target, (info.st_dev, info.st_ino), content))
        self.real[call](source, target, **kw)


def identity(path: Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def problems(events: list[tuple], out: Path) -> tuple[list[str], list[Path]]:
    """What is wrong with every move into `out`, and the targets checked."""
    found, checked = [], []
    for at, event in enumerate(events):
        if event[0] != "move" or not event[3].is_relative_to(out.absolute()):
            continue
        _, kind, source, target, itself, content = event
        checked.append(target)
        synced_before = {e[1] for e in events[:at] if e[0] == "fsync"}
        unsynced = [inode for inode in content if inode not in synced_before]
        if unsynced:
            found.append(f"{source} → {target}: {len(unsynced)} of its files were not fsynced before the rename")
        if kind == "folder" and itself not in synced_before:
            found.append(f"{source} → {target}: the folder was not fsynced before the rename")
        if identity(target.parent) not in {e[1] for e in events[at + 1:] if e[0] == "fsync"}:
            found.append(f"{source} → {target}: the folder {target.parent} was not fsynced after the rename")
    return found, checked


def test_every_rename_into_the_output_folder_publishes_bytes_already_on_disk(tmp_path, monkeypatch):
    raw, out = tmp_path / "raw", tmp_path / "out"
    (raw / "_news").mkdir(parents=True)
    shutil.copy(SEED, raw / "_news" / "seed.md")
    for i in range(12):
        (raw / "_news" / f"{i}.md").write_bytes(
            news(f"title: t{i}\npublishedDateTime: 2020-01-01T00:00:00Z\nwebUrl: https://example.com/{i}")
        )
    recorder = Recorder()
    recorder.install(monkeypatch)
    # the recorder sees this process only: combine and analytics run here (as with --workers 1)
    monkeypatch.setattr(flows, "in_own_process", lambda function, *args, workers: function(*args))

    build_warehouse(str(raw), str(out), Settings(batch_size=2, workers=1))  # seven parts
    for i in range(9):  # nine small changes: compaction merges their parts
        (raw / "_news" / f"{i}.md").write_bytes(news(f"title: changed {i}\npublishedDateTime: 2021-01-01\nwebUrl: https://example.com/{i}"))
        build_warehouse(str(raw), str(out), Settings(batch_size=20, workers=1))
    os.utime(raw / "_news" / "seed.md", ns=(0, 10**18))  # a new time, the same bytes: the record is rewritten
    assert not build_warehouse(str(raw), str(out), Settings(batch_size=20, workers=1))["published"]
    build_analytics(str(out), Settings(prior_weight=2.0))
    write_report(out)

    found, checked = problems(recorder.events, out)
    assert found == []
    layout = Layout(out.absolute())
    assert {path.parent for path in checked} >= {layout.parts, layout.snapshots, layout.out, layout.state,
                                                   layout.report.parent}
    assert layout.current in checked and layout.state_file in checked and layout.report in checked


def test_the_check_finds_a_rename_of_bytes_never_fsynced(tmp_path, monkeypatch):
    """The recorder and the rules above catch what they are for."""
    out = tmp_path / "out"
    out.mkdir()
    recorder = Recorder()
    recorder.install(monkeypatch)
    (tmp_path / "file.tmp").write_bytes(b"never synced")
    os.rename(tmp_path / "file.tmp", out / "file")
    folder = tmp_path / "folder.tmp"
    folder.mkdir()
    (folder / "a").write_bytes(b"x")
    os.rename(folder, out / "folder")
    found, checked = problems(recorder.events, out)
    assert checked == [(out / "file").absolute(), (out / "folder").absolute()]
    assert len(found) == 5  # the file, its folder after; the folder's file, the folder itself, its folder after
