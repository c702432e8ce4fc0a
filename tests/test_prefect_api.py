"""The temporary Prefect API a command starts as it begins: used when nothing else is configured,
stopped when the command ends, and never in the way of a configured server or of Prefect's own."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import nullcontext

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED, temporary_settings

from newsfm.pipelines import kept_api, prefect_api
from newsfm.pipelines.kept_api import answers
from newsfm.pipelines.prefect_api import TemporaryApi, free_port
from tests.conftest import REPO

pytestmark = pytest.mark.integration  # subprocesses, Prefect or worker processes

NEWSFM = REPO / ".venv" / "bin" / "newsfm"
SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


@pytest.fixture
def no_server_configured(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


@pytest.fixture
def build_seed(tmp_path):
    """`build(*options)`: the installed `newsfm build -v` of the seed, in a Prefect home of the
    test's own and no server configured; returns its output (the command must succeed)."""
    raw = tmp_path / "raw"
    shutil.copytree(REPO / "data" / "raw", raw)
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    # a new home's first start runs every migration: on a loaded CI machine that passed Prefect's
    # 20 s default, and the command then rightly left the start to Prefect
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"

    def build(*options: str) -> str:
        finished = subprocess.run([str(NEWSFM), "build", str(raw), str(tmp_path / "out"), "-v", *options], env=env,
                                  cwd=tmp_path, capture_output=True, text=True, timeout=300)
        log = finished.stdout + finished.stderr
        assert finished.returncode == 0, log
        return log

    build.env = env
    return build


def flow_run_api(log: str) -> re.Match | None:
    """The address of the API the build's flow ran against, from its "View at" line."""
    return re.search(r"View at (http://127\.0\.0\.1:\d+)/runs/flow-run/", log)


def test_a_build_runs_against_the_api_it_started_and_stops_it(build_seed):
    """Prefect does not start its own temporary server, and the one the command started is gone after it."""
    log = build_seed()
    assert "Starting temporary server" not in log  # Prefect's own start-up, when it starts one
    api = flow_run_api(log)
    assert api is not None, log
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{api[1]}/api/health", timeout=5)


def test_nothing_is_started_when_a_server_is_configured(monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    api = TemporaryApi(SLEEPER)
    assert api.process is None
    assert isinstance(api.settings(), nullcontext)


def test_the_flow_is_pointed_at_the_server_once_it_answers(no_server_configured):
    api = TemporaryApi()
    try:
        with api.settings():
            assert PREFECT_API_URL.value() == api.url
        with urllib.request.urlopen(f"{api.url}/health", timeout=5) as response:
            assert response.status == 200
    finally:
        api.stop()
    assert api.process is None


def test_a_server_that_does_not_come_up_leaves_prefect_to_start_its_own(no_server_configured):
    api = TemporaryApi([sys.executable, "-c", "raise SystemExit(3)"])
    assert isinstance(api.settings(), nullcontext)
    assert api.process is None


def test_with_temporary_servers_turned_off_the_one_started_is_stopped_unused(no_server_configured):
    api = TemporaryApi(SLEEPER)
    process = api.process
    with temporary_settings(updates={PREFECT_SERVER_EPHEMERAL_ENABLED: False}):
        assert isinstance(api.settings(), nullcontext)
    assert api.process is None and process.poll() is not None


def health_server(port: int) -> list[str]:
    """A stand-in for Prefect's server: answers `/api/health` on `port`, as the API does."""
    code = f"""
import http.server
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", {port}), Health).serve_forever()
"""
    return [sys.executable, "-c", code]


@pytest.fixture
def kept_home(tmp_path, monkeypatch, no_server_configured):
    """A PREFECT_HOME of the test's own; any API kept there is stopped after the test."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    yield tmp_path / "prefect-home"
    kept_api.stop()


def kept(idle_s: float, monkeypatch) -> TemporaryApi:
    """A command's API, kept `idle_s` seconds unused (the stand-in server), once it answers."""
    port = free_port()
    monkeypatch.setattr(prefect_api, "free_port", lambda: port)
    api = TemporaryApi(health_server(port), keep_s=idle_s)
    assert api.wait_until_answering(30)
    return api


def wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_kept_api_outlives_its_command_serves_the_next_and_stops_once_unused(kept_home, monkeypatch):
    first = kept(2, monkeypatch)
    first.stop()  # the command ends
    assert answers(first.url)
    second = TemporaryApi(SLEEPER)  # a later command, not asking to keep anything
    assert second.url == first.url and second.process is None
    with second.settings():
        assert PREFECT_API_URL.value() == first.url
    time.sleep(2 + 2 * kept_api.CHECK_S)  # unused for longer than asked, but held by the command
    assert answers(first.url)
    second.stop()
    assert wait_for(lambda: not answers(first.url), 2 + 5 * kept_api.CHECK_S)
    assert wait_for(lambda: not (kept_home / kept_api.RECORD).exists(), 5)
    third = TemporaryApi(SLEEPER)
    try:
        assert third.lease is None and third.process is not None  # starts one of its own again
    finally:
        third.stop()


def test_stop_api_stops_a_kept_api(kept_home, monkeypatch):
    api = kept(600, monkeypatch)
    keeper = api.process
    api.stop()
    assert kept_api.stop() == api.url
    keeper.wait(timeout=10)  # here a child of the test (a command's keeper outlives the command)
    assert not answers(api.url) and not (kept_home / kept_api.RECORD).exists()
    assert kept_api.stop() is None


def test_a_record_of_a_kept_api_that_is_gone_is_not_used(kept_home):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    kept_home.mkdir(parents=True)
    kept_api.write_record(kept_home, {"url": "http://127.0.0.1:9/api", "keeper": gone.pid, "idle_s": 60})
    api = TemporaryApi(SLEEPER)
    try:
        assert api.url != "http://127.0.0.1:9/api" and api.process is not None
    finally:
        api.stop()


def test_a_kept_api_this_command_started_but_cannot_use_is_stopped(kept_home, monkeypatch):
    api = kept(600, monkeypatch)
    keeper = api.process
    with temporary_settings(updates={PREFECT_SERVER_EPHEMERAL_ENABLED: False}):
        assert isinstance(api.settings(), nullcontext)
    assert keeper.wait(timeout=10) is not None
    assert wait_for(lambda: not answers(api.url), 10)


def test_later_builds_run_against_the_kept_api(build_seed):
    """`newsfm build --keep-api` leaves the API up; the next build's flow runs against it, not a new one."""
    try:
        first = flow_run_api(build_seed("--keep-api", "120"))[1]
        assert answers(f"{first}/api")
        assert flow_run_api(build_seed("--full-refresh"))[1] == first
    finally:
        stopped = subprocess.run([str(NEWSFM), "stop-api"], env=build_seed.env, capture_output=True, text=True,
                                 timeout=60)
    assert stopped.stdout.strip() == f"stopped the kept Prefect API at {first}/api"
    assert wait_for(lambda: not answers(f"{first}/api"), 15)


def test_where_prefect_home_cannot_hold_the_lock_a_temporary_api_serves(tmp_path, monkeypatch, no_server_configured):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "a-file" / "prefect-home"))  # cannot be made
    api = TemporaryApi(SLEEPER, keep_s=600)
    try:
        assert api.lease is None and api.process is not None and api.process.args == SLEEPER
    finally:
        api.stop()
