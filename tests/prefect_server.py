"""A real Prefect server on loopback for tests that run `newsfm` as a subprocess against it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest

PREFECT = Path(sys.executable).parent / "prefect"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(home: Path) -> dict[str, str]:
    """This environment without PREFECT_* settings, with its own Prefect home."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    return env


def wait_for(condition: Callable, timeout: float, what: str, *processes: subprocess.Popen):
    """Poll `condition` until it returns something true; fail if a process dies or time runs out."""
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


@contextmanager
def prefect_server(folder: Path) -> Iterator[dict[str, str]]:
    """Start `prefect server start` on a free port with a Prefect home in `folder`; yields the
    environment (with PREFECT_API_URL) that processes should use. Stopped on any outcome."""
    port = free_port()
    env = clean_env(folder / "prefect-home")
    env["PREFECT_API_URL"] = api = f"http://127.0.0.1:{port}/api"
    with open(folder / "server.log", "w") as log:
        server = subprocess.Popen([str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            def healthy() -> bool:
                try:
                    return httpx.get(f"{api}/health", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(healthy, 180, "the Prefect server answers", server)
            yield env
        finally:
            stop(server)
