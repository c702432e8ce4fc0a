"""The input tree as hostile ground: links in and out, loops, hidden folders, FIFOs, sockets and
devices, odd and non-UTF-8 names, files that vanish or change while a run reads them, files and
folders the system refuses, an output folder inside the input folder.

Every entry ends in the `sources` ledger (or is skipped by a documented rule), nothing outside
the input folder is read, nothing outside the output folder is written, and the build completes.
Links, FIFOs and odd names are made at test time in `tmp_path`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import stat
import threading
import tracemalloc
import unicodedata
from pathlib import Path
from unittest.mock import patch

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import newsfm.pipelines.discover as discover_module
import newsfm.pipelines.flows as flows
import newsfm.pipelines.state as state
from newsfm.pipelines.discover import (
    LINK_LOOP,
    NOT_UTF8_NAME,
    OUTSIDE_LINK,
    content_hash,
    printable_path,
    read_batch,
    read_file,
    read_folder,
    undecodable_path,
    walk,
)
from newsfm.pipelines.flows import build_warehouse
from newsfm.pipelines.layout import ENTRIES, LOCK, Layout
from newsfm.pipelines.spill import record_batches
from newsfm.pipelines.store import current_snapshot, read_table
from newsfm.transforms.extract import extract
from newsfm.transforms.pipeline import tables_of
from newsfm.transforms.settings import DEFAULTS
from tests.conftest import news, paths_under, walked
from tests.reliability import FUZZ_EXAMPLES, record

AS_ROOT = os.geteuid() == 0
ROOT_SKIP = "runs as root, whom chmod does not stop; the same code path is covered by a refused os.open/os.scandir"
GONE = "could not be read: No such file or directory"
FIFO = "not a regular file (a FIFO); it is not read"
UNLISTABLE = "a folder that cannot be listed (Permission denied); the files in it are not read"


def article(url: str, title: str = "A title") -> bytes:
    return news(f'title: "{title}"\npublishedDateTime: 2020-06-10T22:17:00Z\nwebUrl: "{url}"')


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def none(value):
    return None if value is None or value is pd.NA else value


def rows_of(sources: pd.DataFrame) -> dict[str, dict]:
    return {row["source_path"]: {k: none(v) for k, v in row.items()} for row in sources.to_dict("records")}


def ledger(raw: Path, max_bytes: int = DEFAULTS.max_file_bytes) -> dict[str, dict]:
    """The sources ledger a build of `raw` gives, without Prefect: path → row."""
    return rows_of(tables_of(read_folder(raw, max_bytes))["sources"])


def published(out: Path) -> dict[str, dict]:
    return rows_of(read_table(out, "sources"))


def assert_row(rows: dict, path: str, status: str, reason: str | None = None, message: str | None = None) -> None:
    row = rows[path]
    assert (row["status"], row["reason"]) == (status, reason), row
    if message is not None:
        assert message in row["message"], row


def finishes(call, *args, seconds: float = 60):
    """`call(*args)` in a daemon thread: its result, or a failure if it still runs after `seconds`.

    A guard so that a regression that blocks (a FIFO opened for reading) or loops (a walk down
    a linked folder) fails the test instead of hanging the suite; not a timing check.
    """
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call(*args)
        except BaseException as error:  # handed to the test below
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{getattr(call, '__name__', call)} still runs after {seconds} s: it blocks or loops")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture(autouse=True)
def steps_in_this_process(monkeypatch):
    """The flow's steps run in this process, where the tests' refusals and recorders (`os`
    patched here) reach them: finding the changes, combine and analytics run in a process of
    their own otherwise (`pipelines.parallel.in_own_process`)."""
    monkeypatch.setattr(flows, "in_own_process", lambda function, *args, workers: function(*args))


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """The real paths of everything `os.open` opens while the test runs."""
    paths: list[str] = []
    real_open = os.open

    def recording_open(path, flags, *args, **kwargs):
        paths.append(os.path.realpath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    return paths


def refuse(monkeypatch, name: str, path: Path, error: int = errno.EACCES) -> None:
    """Make `os.<name>` (open or scandir) fail with `error` for `path` only, as the system would."""
    real = getattr(os, name)
    target = os.path.realpath(path)

    def refusing(*args, **kwargs):
        candidate = args[0] if args else kwargs.get("path")
        if isinstance(candidate, (str, os.PathLike)) and os.path.realpath(candidate) == target:
            raise OSError(error, os.strerror(error), os.fspath(candidate))
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, refusing)


def age(*tops: Path, seconds: int = 60) -> None:
    """Make the times of everything under `tops` (links themselves included) old enough for the
    state record to trust them (files written moments before a run are compared by hash)."""
    for top in tops:
        for folder, dirs, files in os.walk(top):
            for name in [*dirs, *files]:
                path = os.path.join(folder, name)
                info = os.lstat(path)
                os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - seconds * 10**9), follow_symlinks=False)


def make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def make_socket(path: Path) -> Path:
    """A Unix socket file (bound by a relative name: socket paths are limited to 108 bytes)."""
    here = os.getcwd()
    os.chdir(path.parent)
    try:
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(path.name)
    finally:
        os.chdir(here)
    return path


def make_device(path: Path) -> Path:
    """A character device like /dev/zero (endless zeros: reading it whole never ends)."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except OSError as error:
        pytest.skip(f"cannot make a device node here: {error.strerror}")
    return path


# --- links -------------------------------------------------------------------------------


def test_links_to_files_outside_the_input_folder_are_refused_and_never_opened(tmp_path, opened):
    raw, outside = tmp_path / "raw", tmp_path / "outside"
    secret = write(outside / "secret.md", article("https://example.com/secret"))
    make_fifo(outside / "pipe.md")
    write(raw / "a.md", article("https://example.com/a"))
    links = {
        "relative.md": "../outside/secret.md",
        "absolute.md": str(secret),
        "to-outside-fifo.md": "../outside/pipe.md",
        "to-a-device.md": "/dev/zero",
        "sub/up-and-out.md": "../../outside/secret.md",
        "hop.md": "../outside/secret.md",
        "chain.md": "hop.md",  # inside → inside → outside: the whole chain is resolved
        "through-self.md": "../raw/../outside/secret.md",
    }
    for name, target in links.items():
        (raw / name).parent.mkdir(exist_ok=True)
        os.symlink(target, raw / name)
        record("adversarial", f"link out of the input folder: {name}")
    info = secret.stat()
    os.utime(secret, ns=(info.st_mtime_ns - 86_400 * 10**9, info.st_mtime_ns))  # relatime updates an atime older than mtime
    atime = secret.stat().st_atime_ns

    rows = finishes(ledger, raw)

    assert sorted(rows) == sorted(["a.md", *links])
    assert_row(rows, "a.md", "loaded")
    for name in links:
        assert_row(rows, name, "rejected", "unreadable", OUTSIDE_LINK)
        assert rows[name]["content_sha256"] is None and rows[name]["size_bytes"] is None
    assert os.path.realpath(raw / "a.md") in opened
    assert not [path for path in opened if not path.startswith(os.path.realpath(raw) + "/")], "something outside was opened"
    assert secret.stat().st_atime_ns == atime, "the outside file was read"
    for name in links:
        assert content_hash(raw, name) is None


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="the check after the open needs Linux's /proc")
def test_a_folder_swapped_for_a_link_out_between_the_checks_and_the_open_is_not_read(tmp_path, monkeypatch):
    """The race the checks before `open` cannot close: the file opened is outside, so it is
    closed unread and the row says it is a link out."""
    raw, outside = tmp_path / "raw", tmp_path / "outside"
    secret = write(outside / "a.md", article("https://example.com/secret"))
    write(raw / "sub" / "a.md", article("https://example.com/a"))
    info = secret.stat()
    os.utime(secret, ns=(info.st_mtime_ns - 86_400 * 10**9, info.st_mtime_ns))
    atime = secret.stat().st_atime_ns
    paths = paths_under(raw)
    real_open, descriptors = os.open, []

    def swap_then_open(path, flags, *args, **kwargs):
        if os.fspath(path).endswith("sub/a.md") and not (raw / "sub").is_symlink():
            (raw / "sub").rename(raw / "moved")
            os.symlink("../outside", raw / "sub")
        descriptors.append(real_open(path, flags, *args, **kwargs))
        return descriptors[-1]

    monkeypatch.setattr(os, "open", swap_then_open)
    record("adversarial", "folder swapped for a link out between the checks and the open")

    (row,) = read_batch(raw, paths)

    assert (row.path, row.reason, row.message, row.content_sha256) == ("sub/a.md", "unreadable", OUTSIDE_LINK, None)
    assert os.readlink(raw / "sub") == "../outside" and secret.stat().st_atime_ns == atime
    with pytest.raises(OSError) as closed:
        os.fstat(descriptors[0])
    assert closed.value.errno == errno.EBADF


def test_a_link_to_a_file_inside_is_read_and_its_article_is_a_duplicate_of_the_original(tmp_path):
    """A second path to the same bytes: read like any file, so the same canonical URL makes it a
    duplicate, and the usual rule picks the winner (the later path; the link here)."""
    raw = tmp_path / "raw"
    data = write(raw / "a.md", article("https://example.com/a")).read_bytes()
    os.symlink("a.md", raw / "b-link.md")
    (raw / "sub").mkdir()
    os.symlink("../a.md", raw / "sub" / "c-link.md")
    record("adversarial", "link to a file inside the input folder")

    rows = ledger(raw)

    assert sorted(rows) == ["a.md", "b-link.md", "sub/c-link.md"]
    assert {row["content_sha256"] for row in rows.values()} == {hashlib.sha256(data).hexdigest()}
    assert {row["size_bytes"] for row in rows.values()} == {len(data)}
    assert_row(rows, "sub/c-link.md", "loaded")
    for path in ("a.md", "b-link.md"):
        assert_row(rows, path, "duplicate", None, "same canonical URL as sub/c-link.md")
    assert len({row["article_id"] for row in rows.values()}) == 1


def test_broken_links_and_link_loops_are_rejected_saying_what_is_wrong(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    os.symlink("missing.md", raw / "dangling.md")
    os.symlink("loop-b.md", raw / "loop-a.md")
    os.symlink("loop-a.md", raw / "loop-b.md")
    os.symlink("self.md", raw / "self.md")
    for case in ("dangling link", "two-link loop", "link to itself"):
        record("adversarial", case)

    rows = finishes(ledger, raw)

    assert sorted(rows) == ["dangling.md", "loop-a.md", "loop-b.md", "self.md"]
    assert_row(rows, "dangling.md", "rejected", "unreadable", "a symbolic link to missing.md, which does not exist")
    for path in ("loop-a.md", "loop-b.md", "self.md"):
        assert_row(rows, path, "rejected", "unreadable", LINK_LOOP)
    # their sizes and times are the links' own, so an unchanged broken link is not read again
    assert all(size is not None and mtime is not None for _path, size, mtime in walked(raw))


def test_linked_folders_are_not_descended_so_the_walk_stays_inside_and_ends(tmp_path):
    """Linked folders are skipped without a ledger row (they are not files; their files, when
    inside the input folder, are found by their real paths)."""
    raw, outside = tmp_path / "raw", tmp_path / "outside"
    write(outside / "folder" / "inner.md", article("https://example.com/outside"))
    write(raw / "real" / "x.md", article("https://example.com/x"))
    os.symlink("../outside/folder", raw / "folder-outside")
    os.symlink("/", raw / "folder-root")
    os.symlink(".", raw / "folder-self")
    os.symlink("..", raw / "folder-up")
    os.symlink("..", raw / "real" / "back")
    os.symlink("real", raw / "real-again")
    os.mkdir(raw / "loop")
    os.symlink("../loop", raw / "loop" / "deeper")
    for case in ("linked folder outside", "link to /", "link to its own folder", "link to the parent folder",
                 "folder link loop", "linked folder inside"):
        record("adversarial", case)

    assert finishes(paths_under, raw) == ["real/x.md"]
    assert_row(ledger(raw), "real/x.md", "loaded")


def test_hidden_files_and_folders_like_git_and_obsidian_are_skipped(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "visible.md", article("https://example.com/v"))
    write(raw / ".git" / "HEAD.md", article("https://example.com/git"))
    write(raw / ".obsidian" / "workspace.md", b"{}")
    write(raw / ".hidden.md", article("https://example.com/hidden"))
    write(raw / "sub" / ".DS_Store", b"\0\0\0\1Bud1")
    write(raw / "sub" / ".trash" / "old.md", article("https://example.com/old"))
    for case in (".git folder", ".obsidian folder", "hidden file", ".DS_Store", "nested hidden folder"):
        record("adversarial", case)

    assert paths_under(raw) == ["visible.md"]


def test_a_link_to_a_file_in_a_hidden_folder_is_read_as_the_visible_file_it_is(tmp_path):
    raw = tmp_path / "raw"
    write(raw / ".drafts" / "a.md", article("https://example.com/a"))
    os.symlink(".drafts/a.md", raw / "published.md")
    record("adversarial", "link into a hidden folder")

    rows = ledger(raw)

    assert sorted(rows) == ["published.md"]
    assert_row(rows, "published.md", "loaded")


# --- what is not a regular file -------------------------------------------------------------


def test_a_folder_named_like_a_news_file_is_descended_into(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "x.md" / "inner.md", article("https://example.com/inner"))
    write(raw / "x.md" / "y.md" / "deeper.md", article("https://example.com/deeper"))
    record("adversarial", "folder named x.md")

    rows = ledger(raw)

    assert sorted(rows) == ["x.md/inner.md", "x.md/y.md/deeper.md"]
    assert_row(rows, "x.md/inner.md", "loaded")


@pytest.mark.parametrize("kind, make, message", [
    ("fifo", make_fifo, FIFO),
    ("socket", make_socket, "not a regular file (a socket); it is not read"),
    ("device", make_device, "not a regular file (a device); it is not read"),
])
def test_a_fifo_socket_or_device_named_like_a_news_file_is_refused_without_being_opened(
    tmp_path, opened, kind, make, message
):
    raw = tmp_path / "raw"
    write(raw / "a.md", article("https://example.com/a"))
    special = make(raw / "y.md")
    os.symlink("y.md", raw / "link-to-y.md")
    record("adversarial", f"{kind} named y.md")
    record("adversarial", f"link to a {kind} inside")

    rows = finishes(ledger, raw)

    assert sorted(rows) == ["a.md", "link-to-y.md", "y.md"]
    assert_row(rows, "y.md", "rejected", "unreadable", message)
    assert_row(rows, "link-to-y.md", "rejected", "unreadable", message)
    assert finishes(content_hash, raw, "y.md") is None
    assert os.path.realpath(raw / "a.md") in opened and os.path.realpath(special) not in opened


# --- files that change under the run ----------------------------------------------------------


def test_a_file_that_vanishes_between_discovery_and_reading_is_rejected(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "a.md", article("https://example.com/a"))
    write(raw / "gone.md", article("https://example.com/gone"))
    paths = paths_under(raw)
    (raw / "gone.md").unlink()
    record("adversarial", "file deleted between discovery and reading")

    (row,) = [file for file in read_batch(raw, paths) if file.path == "gone.md"]

    assert (row.reason, row.message, row.content_sha256, row.size_bytes) == ("unreadable", GONE, None, None)
    assert content_hash(raw, "gone.md") is None


@pytest.mark.parametrize("replacement, message", [
    ("folder", "a folder where a file was found; the input changed during the build, the next build reads it"),
    ("fifo", FIFO),
    ("link out", OUTSIDE_LINK),
])
def test_a_file_replaced_after_discovery_is_rejected_for_what_it_has_become(tmp_path, replacement, message):
    raw = tmp_path / "raw"
    write(tmp_path / "outside.md", article("https://example.com/outside"))
    path = write(raw / "a.md", article("https://example.com/a"))
    paths = paths_under(raw)
    path.unlink()
    {"folder": path.mkdir, "fifo": lambda: os.mkfifo(path), "link out": lambda: os.symlink("../outside.md", path)}[replacement]()
    record("adversarial", f"file replaced by a {replacement} after discovery")

    (row,) = finishes(read_batch, raw, paths)

    assert (row.path, row.reason, row.message) == ("a.md", "unreadable", message)


# --- permissions ------------------------------------------------------------------------------


@pytest.mark.skipif(AS_ROOT, reason=ROOT_SKIP)
def test_a_file_without_read_permission_is_rejected(tmp_path):
    raw = tmp_path / "raw"
    locked = write(raw / "locked.md", article("https://example.com/locked"))
    locked.chmod(0)
    try:
        assert_row(ledger(raw), "locked.md", "rejected", "unreadable", "could not be read: Permission denied")
    finally:
        locked.chmod(0o644)


def test_a_file_the_system_refuses_to_open_is_rejected(tmp_path, monkeypatch):
    """What chmod 000 does for a user who is not root, made by a refused os.open."""
    raw = tmp_path / "raw"
    write(raw / "a.md", article("https://example.com/a"))
    write(raw / "locked.md", article("https://example.com/locked"))
    refuse(monkeypatch, "open", raw / "locked.md")
    record("adversarial", "file refused by the system (permissions)")

    rows = ledger(raw)

    assert_row(rows, "a.md", "loaded")
    assert_row(rows, "locked.md", "rejected", "unreadable", "could not be read: Permission denied")
    assert rows["locked.md"]["content_sha256"] is None
    assert content_hash(raw, "locked.md") is None


@pytest.mark.skipif(AS_ROOT, reason=ROOT_SKIP)
def test_a_folder_without_permission_is_one_unreadable_row(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "locked" / "a.md", article("https://example.com/a"))
    (raw / "locked").chmod(0)
    try:
        assert_row(ledger(raw), "locked", "rejected", "unreadable", UNLISTABLE)
    finally:
        (raw / "locked").chmod(0o755)


def test_a_folder_the_system_refuses_to_list_is_one_unreadable_row_not_a_silent_loss(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    write(raw / "a.md", article("https://example.com/a"))
    write(raw / "locked" / "b.md", article("https://example.com/b"))
    write(raw / "locked" / "c.md", article("https://example.com/c"))
    refuse(monkeypatch, "scandir", raw / "locked")
    record("adversarial", "folder refused by the system (permissions)")

    rows = ledger(raw)

    assert sorted(rows) == ["a.md", "locked"]
    assert_row(rows, "locked", "rejected", "unreadable", UNLISTABLE)
    info = (raw / "locked").stat()
    assert ("locked", info.st_size, info.st_mtime_ns) in walked(raw)  # stable: not read again while it stays so


def test_an_input_folder_that_cannot_be_listed_is_an_error_not_an_empty_input(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    write(raw / "a.md", article("https://example.com/a"))
    refuse(monkeypatch, "scandir", raw)
    with pytest.raises(OSError, match="the input folder .* cannot be listed: Permission denied") as caught:
        walk(raw)
    assert caught.value.errno == errno.EACCES  # a refusal is not retried (flows.PERMANENT_ERRNOS)


# --- names --------------------------------------------------------------------------------

SEGMENTS = st.text(alphabet="ab-._0/é日", min_size=1, max_size=9).map(
    lambda path: "/".join(part for part in path.split("/") if part and not part.startswith(".")))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.lists(SEGMENTS.filter(bool), min_size=1, max_size=30), st.sampled_from([1, 2, 3, 1000]),
       st.sampled_from(["", "0"]), st.sampled_from([b"", b"x\xe9"]))
def test_the_walk_gives_every_file_in_path_order_however_names_and_folders_interleave(
        tmp_path_factory, paths, chunk_rows, refused, bad_name):
    """Folders are visited in path order, not sorted as a whole (a folder `a` sorts as `a/`:
    after `a-b` and `a.md`): the rows must still come sorted, in batches of any size, with the
    folders that cannot be listed (named `0` here) and names that are not UTF-8 merged in."""
    raw = tmp_path_factory.mktemp("raw")
    files = set()
    for path in paths:  # a path both a file and a folder: the folder wins
        if not any(other.startswith(path + "/") for other in paths) and not any(
                path.startswith(folder + "/") for folder in files):
            write(raw / path, b"x")
            files.add(path)
    if bad_name:
        write(Path(os.fsdecode(os.fsencode(raw / "bad") + b"/" + bad_name)), b"x")  # "d": not in SEGMENTS
        files.add("bad/x\\xe9")
    expected = set()
    for path in files:
        parts = path.split("/")
        blocked = next((i for i in range(1, len(parts)) if refused and parts[i - 1] == refused), None)
        expected.add("/".join(parts[:blocked]) if blocked else path)
    real_scandir = os.scandir

    def refusing(path):
        if refused and os.path.basename(path) == refused:
            raise OSError(errno.EACCES, "Permission denied", path)
        return real_scandir(path)

    with patch.object(discover_module, "CHUNK_ROWS", chunk_rows), patch.object(os, "scandir", refusing):
        batches = list(discover_module.walk_batches(raw))
    found = [path for batch in batches for path in batch.column("source_path").to_pylist()]
    assert found == sorted(expected)
    assert all(batch.num_rows <= chunk_rows + 2 for batch in batches)  # the two set aside may be merged into one

def test_the_walk_gives_the_same_rows_when_processes_stat_its_files(tmp_path, monkeypatch):
    """With stat processes (chunks of 2 files here), every entry of the hostile tree comes out
    as the walk alone gives it: broken links and loops with their own times, names that are not
    UTF-8, the folder that cannot be listed; the files of a folder that went away get Nones."""
    raw, _outside, _expected = hostile_tree(tmp_path, monkeypatch)
    for i in range(7):
        write(raw / "many" / f"{i}.md", b"x" * i)
    os.symlink("missing.md", raw / "many" / "dangling.md")
    monkeypatch.setattr(discover_module, "STAT_CHUNK", 2)
    alone = walk(raw)

    with discover_module.stat_processes(2) as stats:
        together = pa.Table.from_batches(list(discover_module.walk_batches(raw, stats=stats)))
        assert stats.pool is not None, "no chunk went to the processes"
        sizes, mtimes = stats.submit(discover_module.stat_names, str(raw / "many"), ["3.md", "dangling.md"]).result()

    assert together.equals(alone)
    assert sizes == [3, None] and mtimes[1] is None
    assert discover_module.stat_names(str(raw / "no such folder"), ["a.md", "b.md"]) == ([None, None], [None, None])


def test_a_walk_kept_in_a_file_holds_the_rows_of_the_walk(tmp_path, monkeypatch):
    """`walk_into`, the head start's walk that its flow compares instead of walking again: every
    entry of the hostile tree, names that are not UTF-8 and the folder that cannot be listed
    merged in, in order."""
    raw, _outside, _expected = hostile_tree(tmp_path, monkeypatch)
    kept = state.walk_into(raw, tmp_path / "scratch")
    assert pa.Table.from_batches(list(record_batches(kept))).equals(walk(raw))


NAMES = {
    "spaces": "with  two spaces .md",
    "nfc": unicodedata.normalize("NFC", "café.md"),
    "newline": "line\nbreak.md",
    "carriage return": "cr\rhere.md",
    "tab": "tab\there.md",
    "leading dash": "-rf.md",
    "leading dash double": "--help.md",
    "emoji": "📰 news.md",
    "right-to-left override": "\u202eevil\u202c.md",
    "backslash": "back\\slash.md",
    "quote and glob": "it's [a] *glob*?.md",
    "255 ascii bytes": "a" * 252 + ".md",
    "255 multibyte bytes": "é" * 126 + ".md",
}
BAD_NAMES = {  # bytes that are not UTF-8 → the path the ledger shows
    b"caf\xe9.md": "caf\\xe9.md",
    b"bad\xff\xfe.md": "bad\\xff\\xfe.md",
    b"\xed\xa0\x80.md": "\\xed\\xa0\\x80.md",  # a UTF-16 surrogate encoded as UTF-8 (CESU-8)
    b"back\\slash\xe9.md": "back\\x5cslash\\xe9.md",
    b"dos\x81/in.md": "dos\\x81/in.md",  # a folder name
    b"\xe9" * 252 + b".md": "\\xe9" * 252 + ".md",
}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_odd_names_are_read_and_recorded_as_they_are(tmp_path, name):
    raw = tmp_path / "raw"
    write(raw / "sub" / name, article("https://example.com/odd"))
    assert len(os.fsencode(name)) <= 255
    record("adversarial", f"file name with {name!r}")

    rows = ledger(raw)

    assert list(rows) == [f"sub/{name}"]
    assert_row(rows, f"sub/{name}", "loaded")


def test_a_path_longer_than_the_system_allows_is_one_unreadable_row(tmp_path):
    """Folders nested past PATH_MAX (4096 bytes), made relative to open folders: the walk lists
    what it can, and the first folder it cannot reach by path is a row saying why."""
    raw = tmp_path / "raw"
    write(raw / "a.md", article("https://example.com/a"))
    name, depth = "d" * 200, 25
    folder = os.open(raw, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=folder)
            inner = os.open(name, os.O_RDONLY, dir_fd=folder)
            os.close(folder)
            folder = inner
        os.close(os.open("deep.md", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=folder))
    finally:
        os.close(folder)
    record("adversarial", "path longer than PATH_MAX")

    rows = ledger(raw)

    (deep,) = [path for path in rows if path != "a.md"]
    assert len(os.fsencode(raw / deep)) >= 4096 and (deep + "/").startswith(f"{name}/") and set(deep.split("/")) == {name}
    assert_row(rows, "a.md", "loaded")
    assert_row(rows, deep, "rejected", "unreadable", "could not be read: File name too long")


def test_the_nfc_and_nfd_spellings_of_a_name_are_two_files(tmp_path):
    raw = tmp_path / "raw"
    nfc, nfd = unicodedata.normalize("NFC", "café.md"), unicodedata.normalize("NFD", "café.md")
    assert nfc != nfd
    write(raw / nfc, article("https://example.com/nfc"))
    write(raw / nfd, article("https://example.com/nfd"))
    record("adversarial", "NFC and NFD spellings of one name")

    rows = ledger(raw)

    assert sorted(rows) == sorted([nfc, nfd])
    assert_row(rows, nfc, "loaded")
    assert_row(rows, nfd, "loaded")


@pytest.mark.parametrize("name, shown", BAD_NAMES.items(), ids=[repr(name)[:24] for name in BAD_NAMES])
def test_a_name_that_is_not_utf8_is_recorded_printably_and_rejected_with_a_rename_message(tmp_path, name, shown):
    raw = tmp_path / "raw"
    write(raw / "ok.md", article("https://example.com/ok"))
    real = write(Path(os.fsdecode(os.fsencode(raw) + b"/" + name)), article("https://example.com/bad"))
    record("adversarial", f"file name not UTF-8: {name!r}")

    found = walked(raw)
    rows = ledger(raw)

    assert (shown, real.stat().st_size, real.stat().st_mtime_ns) in found
    assert sorted(rows) == sorted(["ok.md", shown])
    assert_row(rows, shown, "rejected", "unreadable", NOT_UTF8_NAME)
    assert (rows[shown]["content_sha256"], rows[shown]["size_bytes"]) == (None, None)
    assert content_hash(raw, shown) is None
    assert undecodable_path(shown) == os.fsdecode(name)


def test_a_printable_name_never_takes_the_path_of_a_real_file(tmp_path):
    """`caf\\xe9.md` may be a real UTF-8 name: the Latin-1 `café.md` beside it is then shown
    as `caf\\xxe9.md`, and each row says what its own file is."""
    raw = tmp_path / "raw"
    write(raw / "caf\\xe9.md", article("https://example.com/literal"))
    write(Path(os.fsdecode(os.fsencode(raw) + b"/caf\xe9.md")), article("https://example.com/latin1"))
    record("adversarial", "non-UTF-8 name whose printable form is a real name")

    rows = ledger(raw)

    escaped = "caf\\xxe9.md"
    assert sorted(rows) == sorted(["caf\\xe9.md", escaped])
    assert_row(rows, "caf\\xe9.md", "loaded")
    assert_row(rows, escaped, "rejected", "unreadable", NOT_UTF8_NAME)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=12).filter(lambda part: b"/" not in part and b"\0" not in part),
                min_size=1, max_size=3))
def test_the_printable_form_of_a_path_that_is_not_utf8_gives_it_back(parts):
    raw = b"/".join(parts)
    path = os.fsdecode(raw)
    record("fuzz", "printable path round trip")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        taken: set[str] = set()
        for _level in range(3):  # each time, the form before is a real name
            shown = printable_path(path, taken)
            shown.encode("utf-8")  # storable by Arrow
            assert shown not in taken and shown.count("/") == raw.count(b"/")
            assert undecodable_path(shown) == path
            taken.add(shown)
    else:
        assert discover_module.printable([(path, 1, 2)]) == [(path, 1, 2)]  # UTF-8 paths are left as they are


# --- size ---------------------------------------------------------------------------------


def test_a_huge_sparse_file_is_hashed_in_chunks_and_never_held_in_memory(tmp_path):
    raw = tmp_path / "raw"
    size = 256 << 20
    for name in ("huge.md", "huge.iso"):
        write(raw / name, b"")
        os.truncate(raw / name, size)  # sparse: no disk used
    record("adversarial", "sparse 256 MiB news file")
    record("adversarial", "sparse 256 MiB other file")
    zeros, digest = bytes(1 << 20), hashlib.sha256()
    for _ in range(size >> 20):
        digest.update(zeros)
    del zeros

    tracemalloc.start()
    try:
        rows = {file.path: file for file in read_batch(raw, paths_under(raw))}
        hashed = content_hash(raw, "huge.md")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 16 << 20, f"{peak:,} bytes held while reading two files of {size:,}"
    assert (rows["huge.md"].reason, rows["huge.iso"].reason) == ("too_large", "unsupported_file")
    assert "the file has 268,435,456 bytes, over the limit of 1,048,576" in rows["huge.md"].message
    for file in rows.values():
        assert (file.size_bytes, file.content_sha256) == (size, digest.hexdigest())
    assert hashed == digest.hexdigest()


@pytest.mark.parametrize("path", ["a.md", "_data/topics/t.yaml", "notes.bin"])
@pytest.mark.parametrize("over", [1, 4 * 64 + 3])
def test_a_file_over_the_limit_gets_the_same_row_extract_gives_its_bytes(tmp_path, path, over):
    raw = tmp_path / "raw"
    data = write(raw / path, article("https://example.com/a") + b"x" * over).read_bytes()
    limit = len(data) - over
    record("adversarial", f"{path} {over} bytes over the limit")

    assert read_file(raw, path, limit) == extract(path, data, limit)
    assert read_file(raw, path, limit).reason == ("unsupported_file" if path == "notes.bin" else "too_large")


# --- an output folder inside the input folder -------------------------------------------------


def test_newsfm_output_entries_are_skipped_only_in_a_folder_holding_its_lock(tmp_path):
    raw = tmp_path / "raw"
    for folder in ("old-out", "not-out"):
        for entry in ("snapshots/1/warehouse/sources/part-00000.parquet", "state/files.arrow", "report/index.html",
                      "mine.md"):
            write(raw / folder / entry, b"x")
    write(raw / "old-out" / LOCK, b"")
    record("adversarial", "old newsfm output folder inside the input folder")

    assert paths_under(raw) == [
        "not-out/mine.md", "not-out/report/index.html", "not-out/snapshots/1/warehouse/sources/part-00000.parquet",
        "not-out/state/files.arrow", "old-out/mine.md",
    ]
    layout = Layout(raw / "old-out")  # every entry newsfm writes is one discovery skips
    assert {layout.report.parent.name, layout.state.name, layout.snapshots.name, layout.current.name} <= ENTRIES


# --- through the flow ---------------------------------------------------------------------------


def guarded_read(raw: Path) -> None:
    """Read the tree once under the hang guard before a flow does, so a regression fails rather than hangs."""
    finishes(ledger, raw)


def hostile_tree(tmp_path: Path, monkeypatch) -> tuple[Path, Path, dict[str, tuple]]:
    """An input folder with one of everything, an outside folder beside it, and the ledger
    expected: path → (status, reason, message part)."""
    raw, outside = tmp_path / "raw", tmp_path / "outside"
    write(outside / "secret.md", article("https://example.com/secret"))
    write(outside / "folder" / "inner.md", article("https://example.com/outside-inner"))
    make_fifo(outside / "pipe.md")
    expected: dict[str, tuple] = {}

    def add(path: str, data: bytes | None, *row) -> None:
        if data is not None:
            write(raw / path, data)
        expected[path] = row or ("loaded", None, None)

    add("a.md", article("https://example.com/a"), "duplicate", None, "same canonical URL as link-inside.md")
    add("notes.txt", b"plain text", "skipped", "unsupported_file", "not a news item")
    add("x.md/inner.md", article("https://example.com/x-inner"))
    for i, name in enumerate([*NAMES.values(), unicodedata.normalize("NFD", "café.md")]):
        add(f"names/{name}", article(f"https://example.com/names/{i}"))
    for name, shown in BAD_NAMES.items():
        write(Path(os.fsdecode(os.fsencode(raw / "bad") + b"/" + name)), article("https://example.com/bad"))
        expected[f"bad/{shown}"] = ("rejected", "unreadable", NOT_UTF8_NAME)
    links = {
        "link-inside.md": ("a.md", ("loaded", None, None)),
        "link-outside.md": ("../outside/secret.md", ("rejected", "unreadable", OUTSIDE_LINK)),
        "link-outside-fifo.md": ("../outside/pipe.md", ("rejected", "unreadable", OUTSIDE_LINK)),
        "link-device.md": ("/dev/zero", ("rejected", "unreadable", OUTSIDE_LINK)),
        "link-dangling.md": ("missing.md", ("rejected", "unreadable", "which does not exist")),
        "loop-a.md": ("loop-b.md", ("rejected", "unreadable", LINK_LOOP)),
        "loop-b.md": ("loop-a.md", ("rejected", "unreadable", LINK_LOOP)),
        "folder-outside": ("../outside/folder", None),
        "folder-self": (".", None),
        "folder-up": ("..", None),
        "folder-root": ("/", None),
    }
    for name, (target, row) in links.items():
        os.symlink(target, raw / name)
        if row:
            expected[name] = row
    make_fifo(raw / "y.md")
    expected["y.md"] = ("rejected", "unreadable", FIFO)
    make_socket(raw / "s.md")
    expected["s.md"] = ("rejected", "unreadable", "not a regular file (a socket)")
    write(raw / ".git" / "HEAD.md", article("https://example.com/git"))
    write(raw / ".obsidian" / "w.md", b"{}")
    write(raw / "locked" / "in.md", article("https://example.com/locked"))
    expected["locked"] = ("rejected", "unreadable", UNLISTABLE)
    refuse(monkeypatch, "scandir", raw / "locked")
    age(raw, outside)
    return raw, outside, expected


def tree_state(top: Path, skip: Path) -> dict[str, tuple]:
    """Every entry under `top` but `skip`, with what a write would change (links not followed)."""
    state = {}
    for folder, dirs, files in os.walk(top):
        dirs[:] = [name for name in dirs if Path(folder, name) != skip]
        for name in [".", *dirs, *files]:
            info = os.lstat(os.path.join(folder, name))
            state[os.path.join(folder, name)] = (info.st_mode, info.st_ino, info.st_size, info.st_mtime_ns)
    return state


@pytest.mark.usefixtures("prefect_harness")
def test_a_hostile_tree_builds_records_every_entry_and_writes_only_in_the_output_folder(tmp_path, monkeypatch):
    raw, outside, expected = hostile_tree(tmp_path, monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    guarded_read(raw)
    secret = outside / "secret.md"
    info = secret.stat()
    os.utime(secret, ns=(info.st_mtime_ns - 86_400 * 10**9, info.st_mtime_ns))
    before = tree_state(tmp_path, skip=out)
    record("adversarial", "hostile tree through the flow")

    summary = build_warehouse(str(raw), str(out))

    rows = published(out)
    assert sorted(rows) == sorted(expected)
    for path, (status, reason, message) in expected.items():
        assert_row(rows, path, status, reason, message)
    assert summary["files"] == len(expected)
    assert tree_state(tmp_path, skip=out) == before, "something outside the output folder was written"
    assert secret.stat().st_atime_ns == info.st_mtime_ns - 86_400 * 10**9, "the outside file was read"

    again = build_warehouse(str(raw), str(out))  # nothing changed: nothing is read again

    assert (again["published"], again["new"], again["changed"], again["deleted"]) == (False, 0, 0, 0)
    assert tree_state(tmp_path, skip=out) == before


@pytest.mark.usefixtures("prefect_harness")
def test_a_file_deleted_after_discovery_is_rejected_then_gone_from_the_next_build(tmp_path, monkeypatch):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write(raw / "a.md", article("https://example.com/a"))
    write(raw / "gone.md", article("https://example.com/gone"))
    real_walk = state.walk_batches

    def walk_then_delete(root, scratch, **options):
        found = list(real_walk(root, scratch, **options))
        (raw / "gone.md").unlink()
        return found

    monkeypatch.setattr(state, "walk_batches", walk_then_delete)
    build_warehouse(str(raw), str(out))
    monkeypatch.undo()
    record("adversarial", "file deleted between discovery and reading (flow)")

    assert_row(published(out), "gone.md", "rejected", "unreadable", GONE)
    assert_row(published(out), "a.md", "loaded")

    after = build_warehouse(str(raw), str(out))

    assert (after["deleted"], sorted(published(out))) == (1, ["a.md"])


@pytest.mark.usefixtures("prefect_harness")
def test_a_file_changed_after_discovery_is_recorded_as_read_and_not_read_again(tmp_path, monkeypatch):
    raw, out = tmp_path / "raw", tmp_path / "out"
    path = write(raw / "live.md", article("https://example.com/live", "Version A"))
    version_b = article("https://example.com/live", "Version B, longer")
    real_walk = state.walk_batches

    def walk_then_change(root, scratch, **options):
        found = list(real_walk(root, scratch, **options))
        path.write_bytes(version_b)
        return found

    monkeypatch.setattr(state, "walk_batches", walk_then_change)
    build_warehouse(str(raw), str(out))
    monkeypatch.undo()
    record("adversarial", "file changed between discovery and reading")

    row = published(out)["live.md"]
    assert (row["content_sha256"], row["size_bytes"]) == (hashlib.sha256(version_b).hexdigest(), len(version_b))
    assert list(read_table(out, "articles")["title"]) == ["Version B, longer"]

    again = build_warehouse(str(raw), str(out))  # its new time differs, its hash is the one recorded

    assert (again["published"], again["changed"], again["unchanged"]) == (False, 0, 1)


@pytest.mark.usefixtures("prefect_harness")
def test_a_file_changed_while_it_is_parsed_is_recorded_with_the_bytes_parsed(tmp_path, monkeypatch):
    """The ledger's hash and the rows come from one read: a change after it waits for the next build."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    version_b = article("https://example.com/live", "Version B")
    version_c = article("https://example.com/live", "Version C, written during the parse")
    path = write(raw / "live.md", version_b)
    real_extract = discover_module.extract
    parsed = []

    def change_then_extract(name, data, max_bytes):
        if name == "live.md":
            path.write_bytes(version_c)
            parsed.append(data)
        return real_extract(name, data, max_bytes)

    monkeypatch.setattr(discover_module, "extract", change_then_extract)
    build_warehouse(str(raw), str(out))
    monkeypatch.undo()
    record("adversarial", "file changed while it is read")

    assert parsed == [version_b]
    assert published(out)["live.md"]["content_sha256"] == hashlib.sha256(version_b).hexdigest()
    assert list(read_table(out, "articles")["title"]) == ["Version B"]

    again = build_warehouse(str(raw), str(out))

    assert (again["published"], again["changed"]) == (True, 1)
    assert published(out)["live.md"]["content_sha256"] == hashlib.sha256(version_c).hexdigest()
    assert list(read_table(out, "articles")["title"]) == ["Version C, written during the parse"]


@pytest.mark.usefixtures("prefect_harness")
def test_an_input_folder_that_cannot_be_listed_fails_the_build_and_keeps_the_published_output(tmp_path, monkeypatch):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write(raw / "a.md", article("https://example.com/a"))
    build_warehouse(str(raw), str(out))
    snapshot, rows = current_snapshot(out), published(out)
    refuse(monkeypatch, "scandir", raw)
    record("adversarial", "input folder that cannot be listed")

    with pytest.raises(OSError, match="cannot be listed: Permission denied"):
        build_warehouse(str(raw), str(out))

    monkeypatch.undo()
    assert current_snapshot(out) == snapshot and published(out) == rows


@pytest.mark.usefixtures("prefect_harness")
def test_a_file_refused_then_allowed_is_read_by_the_next_build(tmp_path, monkeypatch):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write(raw / "a.md", article("https://example.com/a"))
    age(raw)
    with monkeypatch.context() as patched:
        refuse(patched, "open", raw / "a.md")
        build_warehouse(str(raw), str(out))
    assert_row(published(out), "a.md", "rejected", "unreadable", "could not be read: Permission denied")
    record("adversarial", "file refused, then allowed")

    build_warehouse(str(raw), str(out))  # permissions fixed: same size, same time

    assert_row(published(out), "a.md", "loaded")


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("inside", ["out", "."], ids=["output folder inside the input", "output folder is the input"])
def test_an_output_folder_in_the_input_folder_is_not_read_back(tmp_path, inside):
    raw = tmp_path / "raw"
    out = raw / inside
    write(raw / "a.md", article("https://example.com/a"))
    write(raw / "b.md", article("https://example.com/b"))
    age(raw)
    record("adversarial", f"newsfm build data data/{inside}")

    build_warehouse(str(raw), str(out))
    write(out / "report" / "index.html", b"<html>")  # what `newsfm report` adds
    again = build_warehouse(str(raw), str(out))

    assert (again["published"], again["new"], again["changed"], again["deleted"]) == (False, 0, 0, 0)
    assert sorted(published(out)) == ["a.md", "b.md"]

    write(raw / "c.md", article("https://example.com/c"))
    third = build_warehouse(str(raw), str(out))

    assert (third["published"], third["new"], third["files"]) == (True, 1, 3)
    assert sorted(published(out)) == ["a.md", "b.md", "c.md"]


@pytest.mark.usefixtures("prefect_harness")
def test_newsfm_build_on_an_input_folder_that_cannot_be_listed_exits_2_saying_why(tmp_path, monkeypatch):
    """The message walk gives reaches the user, with the exit status of an unusable folder."""
    from click.testing import CliRunner

    from newsfm.pipelines.cli import main

    raw, out = tmp_path / "raw", tmp_path / "out"
    write(raw / "a.md", article("https://example.com/a"))
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "WARNING")  # what the CLI sets, restored after the test
    refuse(monkeypatch, "scandir", raw)

    result = CliRunner().invoke(main, ["build", str(raw), str(out), "--no-progress", "--workers", "1"])

    assert (result.exit_code, type(result.exception)) == (2, SystemExit), result.output
    assert f"the input folder {raw} cannot be listed: Permission denied" in result.output
