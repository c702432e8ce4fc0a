"""Scheduled runs: `newsfm serve` against a real Prefect server, and the `prefect.yaml` deployment."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from pipelines.store import read_table
from tests.conftest import SEED

REPO = Path(__file__).resolve().parent.parent
NEWSFM = Path(sys.executable).parent / "newsfm"
PREFECT = Path(sys.executable).parent / "prefect"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float, what: str, *processes: subprocess.Popen):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                pytest.fail(f"{what}: {process.args[:3]} exited with {process.returncode}")
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    """Stop a process and everything it started (its own session), whatever state it is in."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_serve_without_a_server_says_how_to_start_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "home")
    finished = subprocess.run([str(NEWSFM), "serve", "--cron", "*/15 * * * *"], env=env, capture_output=True,
                              text=True, timeout=120, cwd=tmp_path)
    assert finished.returncode == 2
    assert "Prefect cannot schedule runs on its temporary API" in finished.stderr
    assert "prefect server start" in finished.stderr and "PREFECT_API_URL" in finished.stderr


def test_a_served_deployment_runs_when_triggered_and_publishes_the_tables(tmp_path):
    """A real server on loopback, `newsfm serve`, a run triggered through the API, the tables checked."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    (raw / "_news").mkdir(parents=True)
    shutil.copy(SEED, raw / "_news" / SEED.name)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_API_URL=api,
               PREFECT_SERVER_ANALYTICS_ENABLED="false")
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("server", "serve", "run")}
    server = subprocess.Popen([str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=logs["server"], stderr=subprocess.STDOUT, start_new_session=True)
    serving = None
    try:
        def healthy():
            try:
                return httpx.get(f"{api}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, 180, "the Prefect server answers", server)
        serving = subprocess.Popen(
            [str(NEWSFM), "serve", str(raw), str(out), "--cron", "0 0 1 1 *", "--name", "test", "--workers", "1"],
            env=env, cwd=tmp_path, stdout=logs["serve"], stderr=subprocess.STDOUT, start_new_session=True,
        )

        def deployment():
            response = httpx.get(f"{api}/deployments/name/build-warehouse/test", timeout=5)
            return response.json() if response.status_code == 200 else None

        deployed = wait_for(deployment, 120, "the deployment is served", server, serving)
        assert deployed["schedules"][0]["schedule"]["cron"] == "0 0 1 1 *"
        run = httpx.post(f"{api}/deployments/{deployed['id']}/create_flow_run", json={}, timeout=10).json()

        def finished():
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=5).json()["state"]
            return state if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

        state = wait_for(finished, 240, "the triggered run finishes", server, serving)
        assert state["type"] == "COMPLETED", (tmp_path / "serve.log").read_text()[-3000:]
        articles = read_table(out, "articles")
        assert articles["article_id"].tolist() == ["84bf9470fdcd92f2"] and len(read_table(out, "related")) == 14
    finally:
        for process in (serving, server):
            if process is not None:
                stop(process)
        for handle in logs.values():
            handle.close()


def test_the_prefect_yaml_deployment_matches_the_flow():
    from prefect.client.schemas.schedules import CronSchedule

    from pipelines.flows import build_warehouse

    project = yaml.safe_load((REPO / "prefect.yaml").read_text())
    (deployment,) = project["deployments"]
    path, function = deployment["entrypoint"].split(":")
    assert (REPO / path).is_file() and function == build_warehouse.fn.__name__
    build_warehouse.validate_parameters(deployment["parameters"])  # raises on an unknown or mistyped one
    assert CronSchedule(cron=deployment["schedules"][0]["cron"]).cron == "*/15 * * * *"
    assert deployment["concurrency_limit"] == 1
