"""Scheduled runs: `newsfm serve` against a real Prefect server, and the `prefect.yaml` deployment."""

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from newsfm.pipelines.store import read_table
from tests.conftest import SEED
from tests.prefect_server import clean_env, prefect_server, stop, wait_for

pytestmark = pytest.mark.integration  # subprocesses, Prefect or worker processes

REPO = Path(__file__).resolve().parent.parent
NEWSFM = Path(sys.executable).parent / "newsfm"


def test_serve_without_a_server_says_how_to_start_one(tmp_path):
    env = clean_env(tmp_path / "home")
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
    with prefect_server(tmp_path) as env, open(tmp_path / "serve.log", "w") as log:
        api = env["PREFECT_API_URL"]
        serving = subprocess.Popen(
            [str(NEWSFM), "serve", str(raw), str(out), "--cron", "0 0 1 1 *", "--name", "test", "--workers", "1"],
            env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            def deployment():
                response = httpx.get(f"{api}/deployments/name/build-warehouse/test", timeout=5)
                return response.json() if response.status_code == 200 else None

            deployed = wait_for(deployment, 120, "the deployment is served", serving)
            assert deployed["schedules"][0]["schedule"]["cron"] == "0 0 1 1 *"
            assert deployed["parameters"]["settings"] == {"workers": 1}  # only the settings given
            def created():  # a server busy with the deployment's start-up may answer an error first: ask again
                response = httpx.post(f"{api}/deployments/{deployed['id']}/create_flow_run", json={}, timeout=10)
                return response.json() if response.status_code == 201 else None

            run = wait_for(created, 60, "a flow run is created through the API", serving)

            def finished():
                state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=5).json()["state"]
                return state if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

            state = wait_for(finished, 240, "the triggered run finishes", serving)
            assert state["type"] == "COMPLETED", (tmp_path / "serve.log").read_text()[-3000:]
        finally:
            stop(serving)
    articles = read_table(out, "articles")
    assert articles["article_id"].tolist() == ["84bf9470fdcd92f2"] and len(read_table(out, "related")) == 14


def test_the_prefect_yaml_deployment_matches_the_flow():
    from prefect.client.schemas.schedules import CronSchedule

    from newsfm.pipelines.flows import build_warehouse
    from newsfm.transforms.settings import Settings

    project = yaml.safe_load((REPO / "prefect.yaml").read_text())
    (deployment,) = project["deployments"]
    path, function = deployment["entrypoint"].split(":")
    assert (REPO / path).is_file() and function == build_warehouse.fn.__name__
    build_warehouse.validate_parameters(deployment["parameters"])  # raises on an unknown or mistyped one
    given = build_warehouse.validate_parameters({"settings": {"workers": 2, "batch_size": 10}})["settings"]
    assert given == Settings(workers=2, batch_size=10)  # a deployment's mapping of settings: the rest default
    assert CronSchedule(cron=deployment["schedules"][0]["cron"]).cron == "*/15 * * * *"
    assert deployment["concurrency_limit"] == 1
