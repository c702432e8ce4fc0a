"""A temporary Prefect API kept between commands (`newsfm build --keep-api SECONDS`), stopped when idle.

Without a Prefect server, every build starts a temporary API and stops it at the end: its start-up
is a fixed part of every build's wall time (docs/operations.md). Asked to keep it, a command
starts the same server under a keeper process of its own session, which outlives the command and
stops the server once no command has used it for SECONDS. Every later command of the same
`PREFECT_HOME` that finds it answering uses it instead of starting one (`hold`).

A command holds the kept API (a shared `flock` on the lock file, whose time is its last use) from
its start to its end; the keeper stops the server only when it can take that lock exclusively
and the last use is SECONDS old, so the server is never stopped under a running command, however
long. The record (address and keeper) and the lock live in `PREFECT_HOME`, beside the database
the server writes; the server listens on 127.0.0.1 only, as Prefect's own temporary server does.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

RECORD = "newsfm-kept-api.json"
LOCK = "newsfm-kept-api.lock"
CHECK_S = 1.0  # how often the keeper looks at the last use


def home() -> Path:
    """Prefect's home folder, as Prefect finds it when nothing else names it."""
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()


@dataclass
class Lease:
    """A kept API held by this command until `release` (or its end)."""

    url: str
    lock: int  # the descriptor holding the shared lock

    def release(self) -> None:
        if self.lock >= 0:
            touch(self.lock)
            os.close(self.lock)
            self.lock = -1


def hold() -> Lease | None:
    """The kept API of this `PREFECT_HOME`, held, when one is running and answers; else None
    (also when that folder cannot be written: then nothing can be kept there)."""
    folder = home()
    try:
        lock = open_lock(folder)
    except OSError:
        return None
    record = read_record(folder)
    if record and alive(record["keeper"]) and answers(record["url"]):
        touch(lock)
        return Lease(record["url"], lock)
    os.close(lock)
    return None


def start(port: int, idle_s: float, command: list[str] | None = None) -> tuple[subprocess.Popen, Lease]:
    """Start a kept API on `port` (Prefect's server, or `command`) that stops after `idle_s`
    seconds unused; returns its keeper and the API, held."""
    folder = home()
    lock = open_lock(folder)
    keeper = subprocess.Popen([sys.executable, "-m", "newsfm.pipelines.kept_api", str(port), str(idle_s), *(command or [])],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # not stopped with the command's terminal
    url = f"http://127.0.0.1:{port}/api"
    write_record(folder, {"url": url, "keeper": keeper.pid, "idle_s": idle_s})
    touch(lock)
    return keeper, Lease(url, lock)


def stop() -> str | None:
    """Stop the kept API of this `PREFECT_HOME` (its keeper stops the server); its address, or None."""
    record = read_record(home())
    if not (record and alive(record["keeper"]) and answers(record["url"])):
        return None  # nothing kept, or a record whose keeper is gone (its number may be another process's now)
    os.kill(record["keeper"], signal.SIGTERM)
    return record["url"]


def open_lock(folder: Path) -> int:
    """The lock file, opened and held shared (waits while a keeper stops its server)."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_SH)
    return lock


def touch(lock: int) -> None:
    """Mark the kept API used now (the lock file's time)."""
    os.utime(lock)


def read_record(folder: Path) -> dict | None:
    try:
        record = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and {"url", "keeper"} <= record.keys() else None


def write_record(folder: Path, record: dict) -> None:
    """Written whole or not at all: a command reading it meanwhile sees the old one or none."""
    temporary = folder / f".{RECORD}.{os.getpid()}"
    temporary.write_text(json.dumps(record))
    os.replace(temporary, folder / RECORD)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or another user's process of that number
        return False
    return True


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def keep(port: int, idle_s: float, command: list[str]) -> None:
    """The keeper: runs the server (or `command`) until it has been unused for `idle_s` seconds
    with no command holding it, or until the keeper is told to stop; then stops it and removes
    the record."""
    from newsfm.pipelines.prefect_api import server_command, server_environment  # which imports this module

    folder = home()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `newsfm stop-api`: the server is stopped below
    server = subprocess.Popen(command or server_command(port), env=server_environment(), stdin=subprocess.DEVNULL)
    lock = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while server.poll() is None:
            time.sleep(CHECK_S)
            if unused_for(lock) > idle_s and unheld(lock):
                if unused_for(lock) > idle_s:  # not used just before the lock was taken
                    break
                fcntl.flock(lock, fcntl.LOCK_UN)
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
        record = read_record(folder)
        if record and record["keeper"] == os.getpid():
            (folder / RECORD).unlink(missing_ok=True)


def unused_for(lock: int) -> float:
    return time.time() - os.fstat(lock).st_mtime


def unheld(lock: int) -> bool:
    """Whether no command holds the kept API; if so, the lock is kept exclusively until the keeper ends."""
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


if __name__ == "__main__":
    keep(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:])
