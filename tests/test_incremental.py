"""Incremental builds: only new and changed files are parsed, and the published result is always
exactly what a full rebuild of the same input gives."""

import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from newsfm.pipelines.discover import read_folder
from newsfm.pipelines.flows import build_warehouse
from newsfm.pipelines.layout import Layout, topic_sums
from newsfm.pipelines.state import build_keys, entries, find_changes_in, read_state, walk_into
from newsfm.pipelines.store import current_snapshot, read_table
from newsfm.synthetic import corpus as g
from newsfm.transforms.pipeline import tables_of
from newsfm.transforms.schema import TABLES
from newsfm.transforms.settings import DEFAULTS, Settings
from tests.conftest import SEED, Limits, news

pytestmark = pytest.mark.usefixtures("prefect_harness")


# --- classify: the decision, with no files at all -----------------------------------------


# --- the flow -----------------------------------------------------------------------------


def tree(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    (raw / "_news").mkdir(parents=True)
    shutil.copy(SEED, raw / "_news" / "seed.md")
    for name, url in (("a", "https://a.com/1"), ("b", "https://b.com/2")):
        (raw / "_news" / f"{name}.md").write_bytes(news(f"title: {name}\npublishedDateTime: 2020-01-0{len(name)}T00:00:00Z\nwebUrl: {url}"))
    return raw


def assert_published_equals_full_rebuild(out: Path, raw: Path) -> None:
    """The published tables are what the pure reference pipeline makes of `raw`."""
    expected = tables_of(read_folder(raw))
    for name in TABLES:
        pd.testing.assert_frame_equal(read_table(out, name), expected[name], obj=name)


def age(path: Path, seconds: int = 60) -> None:
    """Make a file's time old enough to be trusted (files written moments before a run are hashed)."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - seconds * 10**9))


def test_a_rerun_with_nothing_changed_parses_nothing_and_keeps_the_snapshot(tmp_path):
    raw, out = tree(tmp_path), tmp_path / "out"
    first = build_warehouse(str(raw), str(out))
    assert (first["new"], first["published"]) == (3, True)
    snapshot = current_snapshot(out)
    second = build_warehouse(str(raw), str(out))
    assert (second["new"], second["changed"], second["unchanged"], second["deleted"]) == (0, 0, 3, 0)
    assert second["published"] is False and current_snapshot(out) == snapshot
    assert second["rows"] == first["rows"] and second["loaded"] == first["loaded"] == 3


def test_changed_and_deleted_files_replace_and_drop_their_rows(tmp_path):
    raw, out = tree(tmp_path), tmp_path / "out"
    build_warehouse(str(raw), str(out))
    (raw / "_news" / "a.md").write_bytes(news("title: a, revised\npublishedDateTime: 2020-01-01T00:00:00Z\nwebUrl: https://a.com/1"))
    (raw / "_news" / "seed.md").unlink()
    summary = build_warehouse(str(raw), str(out))
    assert (summary["new"], summary["changed"], summary["unchanged"], summary["deleted"]) == (0, 1, 1, 1)
    assert sorted(read_table(out, "articles")["title"]) == ["a, revised", "b"]
    assert len(read_table(out, "related")) == 0 and len(read_table(out, "stories")) == 2  # the seed's 14 are gone
    assert_published_equals_full_rebuild(out, raw)


def test_a_file_that_turns_invalid_and_back_moves_between_loaded_and_rejected(tmp_path):
    raw, out = tree(tmp_path), tmp_path / "out"
    build_warehouse(str(raw), str(out))
    path, good = raw / "_news" / "b.md", (raw / "_news" / "b.md").read_bytes()
    path.write_bytes(b"---\ntitle: [unclosed\n---\n")
    build_warehouse(str(raw), str(out))
    status = read_table(out, "sources").set_index("source_path")["status"]
    assert status["_news/b.md"] == "rejected" and "b" not in set(read_table(out, "articles")["title"])
    path.write_bytes(good)
    build_warehouse(str(raw), str(out))
    assert read_table(out, "sources").set_index("source_path")["status"]["_news/b.md"] == "loaded"
    assert_published_equals_full_rebuild(out, raw)


def test_the_duplicate_winner_is_decided_again_when_the_winner_goes(tmp_path):
    raw, out = tree(tmp_path), tmp_path / "out"
    later = raw / "_news" / "z-copy.md"  # same URL as b.md, later path: it wins
    later.write_bytes((raw / "_news" / "b.md").read_bytes())
    build_warehouse(str(raw), str(out))
    status = read_table(out, "sources").set_index("source_path")["status"]
    assert (status["_news/b.md"], status["_news/z-copy.md"]) == ("duplicate", "loaded")
    later.unlink()
    build_warehouse(str(raw), str(out))
    status = read_table(out, "sources").set_index("source_path")["status"]
    assert status["_news/b.md"] == "loaded" and "_news/z-copy.md" not in status.index


def test_a_touched_file_is_hashed_once_and_not_parsed(tmp_path):
    raw, out = tree(tmp_path), tmp_path / "out"
    for path in (raw / "_news").iterdir():
        age(path)
    build_warehouse(str(raw), str(out))
    os.utime(raw / "_news" / "a.md")  # new time, same bytes
    summary = build_warehouse(str(raw), str(out))
    assert (summary["changed"], summary["unchanged"], summary["published"]) == (0, 3, False)
    state, _ = read_state(out, build_keys(raw, DEFAULTS))
    files = entries(state.files)
    assert files["_news/a.md"].mtime_ns is None  # touched moments ago: compared by hash next time
    assert files["_news/b.md"].mtime_ns == (raw / "_news" / "b.md").stat().st_mtime_ns


def test_changes_found_from_a_kept_walk_are_those_of_a_walk(tmp_path):
    """`find_changes_in(found=...)`, as a flow compares its head start's walk: the same decisions,
    hashes and counts as a walk of its own, for a new, a changed, a touched (unchanged) and a deleted file."""
    raw, out = tree(tmp_path), tmp_path / "out"
    for path in (raw / "_news").iterdir():
        age(path)
    build_warehouse(str(raw), str(out))
    (raw / "_news" / "a.md").write_bytes(news("title: Edited\npublishedDateTime: 2020-01-01T00:00:00Z\nwebUrl: https://a.com/1"))
    os.utime(raw / "_news" / "b.md")  # the same bytes
    (raw / "_news" / "seed.md").unlink()
    (raw / "_news" / "d.md").write_bytes(news("title: d\npublishedDateTime: 2020-01-01T00:00:00Z\nwebUrl: https://d.com/4"))
    keys = build_keys(raw, DEFAULTS)
    walked, _ = find_changes_in(raw, out, keys, False, scratch=tmp_path / "walked")
    kept, _ = find_changes_in(raw, out, keys, False, scratch=tmp_path / "kept", found=walk_into(raw, tmp_path / "walk"))
    assert walked.counts() == kept.counts() == {"new": 1, "changed": 1, "unchanged": 1, "deleted": 1}
    assert pa.Table.from_batches(list(kept.batches())).equals(pa.Table.from_batches(list(walked.batches())))
    assert kept.deleted.equals(walked.deleted)


@pytest.mark.parametrize("damage, notice", [
    (lambda path: path.write_bytes(b"not arrow at all"), "is unreadable"),
    (lambda path: path.unlink(), "no state record: full build"),
])
def test_a_damaged_or_missing_state_record_means_a_full_build_with_a_notice(tmp_path, damage, notice):
    raw, out = tree(tmp_path), tmp_path / "out"
    build_warehouse(str(raw), str(out))
    damage(Layout(out).state_file)
    summary = build_warehouse(str(raw), str(out))
    assert summary["new"] == 3 and summary["published"] and len(summary["notices"]) == 1
    assert notice in summary["notices"][0]
    assert_published_equals_full_rebuild(out, raw)


def test_a_state_record_of_another_version_or_other_settings_is_not_used(tmp_path, monkeypatch):
    raw, out = tree(tmp_path), tmp_path / "out"
    build_warehouse(str(raw), str(out))
    assert "--max-file-bytes changed" in build_warehouse(str(raw), str(out), Settings(max_file_bytes=5000))["notices"][0]
    monkeypatch.setattr("newsfm.pipelines.state.__version__", "99.0")  # in this process: the keys are made in it
    summary = build_warehouse(str(raw), str(out), Settings(max_file_bytes=5000, workers=1))
    assert summary["new"] == 3 and "newsfm changed version since the last build" in summary["notices"][0]


def test_other_analytics_settings_recompute_the_analytics_without_parsing(tmp_path):
    raw, out = tree(tmp_path), tmp_path / "out"
    build_warehouse(str(raw), str(out))
    summary = build_warehouse(str(raw), str(out), Settings(min_scored=1))
    assert (summary["new"], summary["changed"], summary["unchanged"], summary["published"]) == (0, 0, 3, True)
    assert summary["notices"] == ["--min-scored changed since the last build: the analytics are computed again "
                                  "(no file parsed)"]
    assert read_table(out, "provider_quality")["quality_rank"].notna().any()
    assert build_warehouse(str(raw), str(out), Settings(min_scored=1))["published"] is False  # recorded: nothing to do again


def generated_tree(tmp_path: Path, count: int) -> Path:
    raw = tmp_path / "raw"
    for file in g.generate_files(count, seed=3):
        (raw / file.path).parent.mkdir(parents=True, exist_ok=True)
        (raw / file.path).write_bytes(file.data)
        age(raw / file.path)
    return raw


def linked_files(before: Path, after: Path, name: str) -> tuple[int, int]:
    """Of table `name`'s files in snapshot `after`: how many are the same files as in `before`, of how many."""
    folder = TABLES[name].layer + "/" + name
    inodes = {file.stat().st_ino for file in (before / folder).iterdir()}
    files = list((after / folder).iterdir())
    return sum(file.stat().st_ino in inodes for file in files), len(files)


@pytest.mark.parametrize("edit, rewritten, analytics_linked", [
    # one segment; the analytics read no title: theirs are the last build's files
    (lambda text: text.replace('title: "', 'title: "Edited ', 1), 1, True),
    # from one segment to another; a new article id: the analytics are computed again
    (lambda text: text.replace('webUrl: "https://', 'webUrl: "https://moved.', 1), 2, False),
])
def test_a_change_combines_again_only_the_segments_it_touches(tmp_path, edit, rewritten, analytics_linked):
    raw, out = generated_tree(tmp_path, 120), tmp_path / "out"
    settings = Settings(segments=16, workers=1)
    build_warehouse(str(raw), str(out), settings)
    before = current_snapshot(out)
    news_file = sorted(path for path in raw.rglob("*.md") if path.parent.name == "_news")[7]
    edited = edit(news_file.read_text())
    assert edited != news_file.read_text()
    news_file.write_text(edited)
    summary = build_warehouse(str(raw), str(out), settings)
    assert summary["changed"] == 1 and summary["notices"] == []
    after = current_snapshot(out)
    assert linked_files(before, after, "articles") == (16 - rewritten, 16)
    assert linked_files(before, after, "sources") == (16 - rewritten, 16)
    assert linked_files(before, after, "topics") == (0, 1)  # the whole tables are made each build
    assert all(linked_files(before, after, name) == (int(analytics_linked), 1)
               for name, spec in TABLES.items() if spec.layer == "analytics")
    assert_published_equals_full_rebuild(out, raw)


def test_a_change_computes_again_only_the_analytics_groups_it_touches(tmp_path, monkeypatch):
    """A moved URL: two articles touched (the old id and the new), the change's analytics used
    (`with_previous`), and every table equal to the reference."""
    from newsfm.pipelines.sql import engine
    from newsfm.pipelines.sql.changed import TOUCHED

    raw, out = generated_tree(tmp_path, 120), tmp_path / "out"
    settings = Settings(segments=16, workers=1)  # one process: the analytics run in this one
    build_warehouse(str(raw), str(out), settings)
    news_file = sorted(path for path in raw.rglob("*.md") if path.parent.name == "_news")[7]
    news_file.write_text(news_file.read_text().replace('webUrl: "https://', 'webUrl: "https://moved.', 1))
    touched = []

    def with_previous(con, *args):
        used = original(con, *args)
        touched.append((used, con.execute(f"SELECT count(*) FROM {TOUCHED}").fetchone()[0]))
        return used

    original = engine.with_previous
    monkeypatch.setattr(engine, "with_previous", with_previous)
    build_warehouse(str(raw), str(out), settings)
    assert touched == [(True, 2)]
    assert_published_equals_full_rebuild(out, raw)


def test_the_topic_sums_are_kept_carried_with_the_analytics_and_made_anew_where_missing(tmp_path, monkeypatch):
    """Each snapshot keeps the topic sums its analytics were made with: linked when the
    analytics are (a title edited); a published snapshot without them (a newsfm before them)
    makes the next change's analytics anew, which keep them again."""
    from newsfm.pipelines.sql import engine

    raw, out = generated_tree(tmp_path, 60), tmp_path / "out"
    settings = Settings(segments=4, workers=1)
    build_warehouse(str(raw), str(out), settings)
    first = topic_sums(current_snapshot(out))
    news = sorted(path for path in raw.rglob("*.md") if path.parent.name == "_news")
    news[3].write_text(news[3].read_text().replace("title: ", "title: Edited ", 1))
    build_warehouse(str(raw), str(out), settings)
    assert topic_sums(current_snapshot(out)).stat().st_ino == first.stat().st_ino
    used = []

    def with_previous(*args):
        used.append(original(*args))
        return used[-1]

    original = engine.with_previous
    monkeypatch.setattr(engine, "with_previous", with_previous)
    shutil.rmtree(topic_sums(current_snapshot(out)).parent)
    for news_file in news[5:7]:  # a URL moved: the analytics read it
        news_file.write_text(news_file.read_text().replace('webUrl: "https://', 'webUrl: "https://moved.', 1))
        build_warehouse(str(raw), str(out), settings)
        assert topic_sums(current_snapshot(out)).is_file()
        assert_published_equals_full_rebuild(out, raw)
    assert used == [False, True]


def test_a_store_whose_segments_no_longer_fit_the_open_files_allowed_is_made_anew(tmp_path, monkeypatch):
    """A store of 16 segments, then a build where this process may hold too few files open for
    16 (another shell's `ulimit -n`): it does not reuse the store, and combines in full, into as
    many segments as fit; the tables equal a full rebuild's."""
    from newsfm.pipelines import spill

    raw, out = generated_tree(tmp_path, 60), tmp_path / "out"
    build_warehouse(str(raw), str(out), Settings(segments=16, workers=1))
    (raw / "_news").mkdir()
    (raw / "_news" / "new.md").write_bytes(SEED.read_bytes())
    monkeypatch.setattr(spill, "resource", Limits(150, 150))  # (150 - 128) // 7: 3 files each, 2 segments
    monkeypatch.setattr(spill, "RANGE_BYTES", 1024)  # so newsfm would choose many
    build_warehouse(str(raw), str(out), Settings(workers=1))
    assert len(list((current_snapshot(out) / "warehouse" / "articles").iterdir())) == 2
    assert_published_equals_full_rebuild(out, raw)


def test_another_segment_count_combines_every_segment_again(tmp_path):
    raw, out = generated_tree(tmp_path, 60), tmp_path / "out"
    build_warehouse(str(raw), str(out), Settings(segments=4, workers=1))
    (raw / "_news").mkdir()
    (raw / "_news" / "new.md").write_bytes(SEED.read_bytes())
    build_warehouse(str(raw), str(out), Settings(segments=8, workers=1))
    assert len(list((current_snapshot(out) / "warehouse" / "articles").iterdir())) == 8
    assert_published_equals_full_rebuild(out, raw)
    assert [path.name for path in (out / "state" / "segments").iterdir()] == [current_snapshot(out).name]


# --- any sequence of changes: the published result equals a full rebuild --------------------

POOL = [f.data for f in g.generate_files(40, seed=11) if f.path.endswith(".md")][:12] + [
    SEED.read_bytes(),
    b"---\ntitle: [unclosed\n---\n",  # a YAML error
    b"no front matter\n",
    b"\xff\xfe not utf-8",
]
NAMES = [f"_news/{name}.md" for name in "abcdefgh"] + ["_archive/_news/x.md", "_data/topics/t.yaml"]
TAXONOMY = b"_id: robotics\nname: Robotics\nparent: AI\nkeywords: [robots]\n"
# The provider dimension and the site's URL: entries for the seed's providers, with site-relative logos
SITE_FILES = {
    "_data/organizations/businessinsider.com.md": [
        b"---\ntaxonomy: organization\n_id: businessinsider.com\nname: Insider\nimages:\n"
        b"  - /assets/images/organizations/businessinsider.com-50x50.jpg\n  - /assets/bi-400x400.jpg\n---\n",
        b"---\ntaxonomy: organization\ndomain: www.businessinsider.com\n---\n",  # no name, no logo
        b"---\ntaxonomy: organization\nname: [not text]\n---\n",  # rejected
    ],
    "_data/organizations/cnet.yaml": [
        b"domain: cnet.com\nname: CNET Networks\nimages:\n  - url: https://cdn.cnet.com/logo.png\n    width: 50\n    height: 50\n",
        b"domain: newprovider.org\nname: Only In The Dimension\n",
    ],
    "_config.yml": [b"url: https://site.github.io\nbaseurl: /news\n", b"title: no url\n"],
}


class IncrementalBuilds(RuleBasedStateMachine):
    """Random add / modify / delete / rename / corrupt / duplicate / touch steps, organization entries
    and the site's _config.yml added, changed and removed, another segment count, a build after each."""

    def __init__(self):
        super().__init__()
        self.root = Path(self.make_root())
        self.raw, self.out = self.root / "raw", self.root / "out"
        self.raw.mkdir()
        self.segments = 4  # a file's rows move between segments when its URL (its article id) changes

    @staticmethod
    def make_root() -> str:
        import tempfile

        return tempfile.mkdtemp(prefix="newsfm-incremental-")

    def files(self) -> list[Path]:
        return sorted(p for p in self.raw.rglob("*") if p.is_file())

    def write(self, name: str, data: bytes) -> None:
        path = self.raw / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    @rule(name=st.sampled_from(NAMES), data=st.sampled_from(POOL))
    def add_or_modify(self, name, data):
        self.write(name, TAXONOMY if name.endswith(".yaml") else data)

    @rule(name=st.sampled_from(sorted(SITE_FILES)), pick=st.integers(0, 100))
    def add_or_modify_site_file(self, name, pick):
        self.write(name, SITE_FILES[name][pick % len(SITE_FILES[name])])

    @rule(name=st.sampled_from(sorted(SITE_FILES)))
    def remove_site_file(self, name):
        (self.raw / name).unlink(missing_ok=True)

    @precondition(lambda self: self.files())
    @rule(pick=st.integers(0, 100))
    def delete(self, pick):
        files = self.files()
        files[pick % len(files)].unlink()

    @precondition(lambda self: self.files())
    @rule(pick=st.integers(0, 100), name=st.sampled_from(NAMES[:-1]))
    def rename(self, pick, name):
        files = self.files()
        target = self.raw / name
        target.parent.mkdir(parents=True, exist_ok=True)
        files[pick % len(files)].replace(target)

    @precondition(lambda self: self.files())
    @rule(pick=st.integers(0, 100), cut=st.integers(1, 200))
    def corrupt(self, pick, cut):
        path = self.files()[pick % len(self.files())]
        data = path.read_bytes()
        path.write_bytes(data[: max(0, len(data) - cut)] + b"\x00\xff")

    @precondition(lambda self: self.files())
    @rule(pick=st.integers(0, 100), name=st.sampled_from(NAMES[:-2]))
    def duplicate(self, pick, name):
        source = self.files()[pick % len(self.files())]
        self.write(name, source.read_bytes())

    @precondition(lambda self: self.files())
    @rule(pick=st.integers(0, 100))
    def touch(self, pick):
        os.utime(self.files()[pick % len(self.files())])

    @rule(segments=st.sampled_from([0, 1, 3, 4]))
    def segment_anew(self, segments):
        self.segments = segments

    @invariant()
    def published_equals_a_full_rebuild(self):
        build_warehouse(str(self.raw), str(self.out), Settings(segments=self.segments))
        assert_published_equals_full_rebuild(self.out, self.raw)

    def teardown(self):
        shutil.rmtree(self.root, ignore_errors=True)


IncrementalBuilds.TestCase.settings = settings(
    max_examples=int(os.environ.get("NEWSFM_STATE_MACHINE_EXAMPLES", "8")), stateful_step_count=5, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_incremental_builds_equal_full_rebuilds = IncrementalBuilds.TestCase


def test_only_io_errors_a_retry_can_cure_are_retried():
    import errno

    from prefect.states import Failed

    from newsfm.pipelines.flows import transient_io_error

    def retried(error: BaseException) -> bool:
        return transient_io_error(None, None, Failed(data=error))

    assert retried(OSError(errno.EIO, "input/output error"))
    assert retried(TimeoutError(errno.ETIMEDOUT, "timed out"))  # an OSError too
    assert not retried(OSError(errno.ENOSPC, "no space left on device"))
    assert not retried(PermissionError(errno.EACCES, "permission denied"))
    assert not retried(ValueError("a bug is not retried"))
