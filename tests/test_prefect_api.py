"""The temporary Prefect API a command starts as it begins: used when nothing else is configured,
stopped when the command ends, and never in the way of a configured server or of Prefect's own."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
from contextlib import nullcontext

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED, temporary_settings

from newsfm.pipelines.prefect_api import TemporaryApi
from tests.conftest import REPO

pytestmark = pytest.mark.integration  # subprocesses, Prefect or worker processes

NEWSFM = REPO / ".venv" / "bin" / "newsfm"
SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


@pytest.fixture
def no_server_configured(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


def test_a_build_runs_against_the_api_it_started_and_stops_it(tmp_path):
    """Prefect does not start its own temporary server, and the one the command started is gone after it."""
    raw = tmp_path / "raw"
    shutil.copytree(REPO / "data" / "raw", raw)
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    # a new home's first start runs every migration: on a loaded CI machine that passed Prefect's
    # 20 s default, and the command then rightly left the start to Prefect
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
    finished = subprocess.run([str(NEWSFM), "build", str(raw), str(tmp_path / "out"), "-v"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
    log = finished.stdout + finished.stderr
    assert finished.returncode == 0, log
    assert "Starting temporary server" not in log  # Prefect's own start-up, when it starts one
    api = re.search(r"View at (http://127\.0\.0\.1:\d+)/runs/flow-run/", log)
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
