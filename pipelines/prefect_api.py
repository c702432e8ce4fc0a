"""The temporary Prefect API of a command run without a Prefect server, started as it begins.

Prefect starts its temporary server when a flow first calls the API: after the command has
imported Prefect, pandas and pyarrow, and after importing Prefect's server code in the calling
process as well, with the second core idle all the while. That was 4.9 s of a trivial flow's
8.5 s (measured). Started here, as the command begins, the same server (uvicorn over Prefect's
app, without the UI, in ephemeral mode, as Prefect runs it) comes up on the other core while
the command imports, and the flow runs against it as against any server (`PREFECT_API_URL`).

A server configured by the user (`PREFECT_API_URL`, in the environment or the Prefect profile)
is used as before; so is Prefect's own start-up where temporary servers are turned off
(`PREFECT_SERVER_EPHEMERAL_ENABLED=false`) or when this one does not come up. A temporary API
kept by an earlier command (`newsfm build --keep-api`, `pipelines.kept_api`) is used instead
of starting one.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
from contextlib import AbstractContextManager, nullcontext

from newsfm.pipelines import kept_api

STOP_WAIT_S = 5  # as Prefect waits for its own temporary server to stop before killing it
HEALTH_POLL_S = 0.05


class TemporaryApi:
    """A Prefect server process for this command only, or kept for later ones (`keep_s` seconds
    unused); a kept one already running; nothing when a server is configured."""

    def __init__(self, command: list[str] | None = None, keep_s: float = 0):
        self.process: subprocess.Popen | None = None  # what this command started: the server, or its keeper
        self.lease: kept_api.Lease | None = None  # a kept API, held while this command runs
        self.url = ""
        if os.environ.get("PREFECT_API_URL"):
            return
        self.lease = kept_api.hold()
        if self.lease:
            self.url = self.lease.url
        elif keep_s and (kept := start_kept(keep_s, command)):
            self.process, self.lease = kept
            self.url = self.lease.url
        else:
            port = free_port()
            self.url = f"http://127.0.0.1:{port}/api"
            self.process = subprocess.Popen(command or server_command(port), env=server_environment(),
                                            stdin=subprocess.DEVNULL)
        atexit.register(self.stop)  # after Prefect's own exit hooks, which send the last logs and events

    def settings(self) -> AbstractContextManager:
        """Prefect's settings for the flow: this server's address once it answers, or unchanged.

        Called after Prefect is imported, since only Prefect reads its profile: a server named
        there, or temporary servers turned off, stop this one unused.
        """
        if not self.url:
            return nullcontext()
        from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

        current = get_current_settings()
        if current.api.url or not current.server.ephemeral.enabled:
            self.discard()
            return nullcontext()
        if not self.wait_until_answering(current.server.ephemeral.startup_timeout_seconds):
            self.discard()  # Prefect starts its own and says what fails
            return nullcontext()
        return temporary_settings(updates={PREFECT_API_URL: self.url})

    def coming_up(self) -> bool:
        """This command started the server, which does not answer yet (the command waits for it)."""
        return self.process is not None and self.process.poll() is None and not kept_api.answers(self.url)

    @property
    def died(self) -> bool:
        """Its process ended without being stopped (a later build needs another)."""
        return self.process is not None and self.process.poll() is not None

    def wait_until_answering(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and (self.process is None or self.process.poll() is None):
            if kept_api.answers(self.url):
                return True
            time.sleep(HEALTH_POLL_S)
        return False

    def stop(self) -> None:
        """At the command's end: a kept API is let go (its keeper stops it when idle), a
        temporary one stopped."""
        if self.lease:
            self.lease.release()
            self.lease = self.process = None
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


    def discard(self) -> None:
        """This API is not used: stopped even if kept, when this command started it."""
        if self.lease and self.process:
            self.lease.release()
            self.lease = None  # the keeper is stopped below, and stops its server
        self.stop()


def start_kept(keep_s: float, command: list[str] | None) -> tuple[subprocess.Popen, kept_api.Lease] | None:
    """A kept API started; None where PREFECT_HOME cannot hold its lock (a temporary one serves)."""
    try:
        return kept_api.start(free_port(), keep_s, command)
    except OSError:
        return None


def server_environment() -> dict[str, str]:
    """The environment of Prefect's temporary server: no UI, ephemeral mode."""
    return {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}


def server_command(port: int) -> list[str]:
    """What Prefect runs for its temporary server (`SubprocessASGIServer`)."""
    return [
        sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on",
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
