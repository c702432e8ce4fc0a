"""Shared fixtures: the repository's seed file, the shared real corpus, a news-file builder; and
the two tiers of the suite.

`make test` runs every test. `make test-fast` (NEWSFM_TEST_TIER=fast) runs the tests not marked
`integration`, with a tenth of the examples of each property test (`examples`) and a third of
the files of the larger generated corpora (`corpus_files`). A test is
`integration` when it runs Prefect (it takes the `prefect_harness` fixture: marked here), a
subprocess, worker processes, Chromium or kill points (marked where it is written).
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings

from newsfm.pipelines.prefect_api import free_port

FAST = os.environ.get("NEWSFM_TEST_TIER") == "fast"
PREFECT_FIXTURES = {"prefect_harness", "prefect_test_server"}

# No time limit per example: a test asserts what a run gives, how long it takes is for bench/
# (hypothesis' default 200 ms deadline failed a test on a busy machine).
settings.register_profile("newsfm", deadline=None, max_examples=10 if FAST else 100)
settings.load_profile("newsfm")


def examples(full: int) -> int:
    """A property test's examples: `full` in `make test`, a tenth (10 at least) in `make test-fast`."""
    return max(10, full // 10) if FAST else full


def corpus_files(full: int) -> int:
    """A generated corpus' files for a test: `full` in `make test`, a third in `make test-fast`."""
    return full // 3 if FAST else full


def pytest_configure(config) -> None:
    """Prefect's events client keeps a websocket open on a background thread after its test, and
    `websockets` draws each keepalive ping's payload from the global `random` (every 20 s); a
    hypothesis test running meanwhile sees the global state move and warns that its strategy
    used `random`. Those modules get a generator of their own."""
    import importlib
    import random

    for name in ("websockets.asyncio.connection", "websockets.sync.connection", "websockets.legacy.protocol",
                 "websockets.legacy.client", "websockets.client"):
        importlib.import_module(name).random = random.Random()


def pytest_collection_modifyitems(items) -> None:
    """A test that runs Prefect is `integration`, whichever module it is in."""
    for item in items:
        if PREFECT_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)

REPO = Path(__file__).resolve().parents[1]
SEED = next((REPO / "data" / "raw").glob("*.md"))
CORPUS = REPO.parent / "shared" / "corpus"


SERVER_STARTUP_S = 180  # a new database runs every migration: 20-30 s on a loaded 2-core CI machine


@pytest.fixture(scope="session")
def prefect_test_server(tmp_path_factory):
    """One Prefect server on a temporary database for every module whose flows use it, as
    Prefect's `prefect_test_harness` starts it, but once: per module, its start cost 20-30 s."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

    database = tmp_path_factory.mktemp("prefect") / "prefect-test.db"
    with temporary_settings(updates={PREFECT_SERVER_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{database}"}):
        server = SubprocessASGIServer(port=free_port())
        server.start(timeout=SERVER_STARTUP_S)  # the server process takes the settings as they are now
    yield server
    server.stop()  # as the harness does: at exit, pytest's output is closed to its log line


@pytest.fixture(scope="module")
def prefect_harness(prefect_test_server):
    """Flows in the module run against the session's test server; other modules see the
    settings they had (`tests/test_prefect_api.py` tests what a command does without a server)."""
    from prefect.context import _temporary_global_settings_context, get_settings_context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_test_server.api_url}):
        with _temporary_global_settings_context(get_settings_context()):  # as the harness does, for copied contexts
            yield


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared real corpus is not beside the repository ({CORPUS} is absent)")
    return CORPUS


def news(front_matter: str, body: str = "") -> bytes:
    """A news file from an indented front matter block."""
    return f"---\n{textwrap.dedent(front_matter).strip()}\n---\n{body}".encode()


MINIMAL = """
    title: "A title"
    publishedDateTime: 2020-06-10T22:17:00Z
    webUrl: "https://example.com/a"
"""


def write_snapshot(out: Path, layers: dict, info: dict) -> Path:
    """A complete, unpublished snapshot of `layers` (layer → table name → frame), as a build writes one."""
    from newsfm.pipelines.store import SnapshotWriter

    snapshot = SnapshotWriter(out)
    for layer, frames in layers.items():
        for name, frame in frames.items():
            snapshot.write_frame(layer, name, frame)
    return snapshot.complete(info)


def paths_under(root: Path) -> list[str]:
    """The relative paths of the files a build finds under `root`, sorted."""
    from newsfm.pipelines.discover import walk

    return walk(root).column("source_path").to_pylist()


def walked(root: Path) -> list[tuple[str, int | None, int | None]]:
    """What `walk` finds under `root`, as (path, size, mtime_ns) tuples sorted by path."""
    from newsfm.pipelines.discover import walk

    return list(zip(*(column.to_pylist() for column in walk(root).columns)))


def live_of(parts: dict[str, str]):
    """source_path → part id as a table of the live files (`pipelines.parts.LiveFiles`), sorted by path."""
    import pyarrow as pa

    paths = sorted(parts)
    return pa.table({"source_path": pa.array(paths, pa.string()),
                     "part_id": pa.array([parts[path] for path in paths], pa.string())})


class Limits:
    """Stands in for the `resource` module: an open-files limit that can be raised up to its hard limit."""
    RLIMIT_NOFILE, RLIM_INFINITY = 7, -1

    def __init__(self, soft: int, hard: int) -> None:
        self.soft, self.hard = soft, hard

    def getrlimit(self, which: int) -> tuple[int, int]:
        return self.soft, self.hard

    def setrlimit(self, which: int, limits: tuple[int, int]) -> None:
        if limits[0] > self.hard:
            raise ValueError("not allowed to raise maximum limit")
        self.soft = limits[0]
