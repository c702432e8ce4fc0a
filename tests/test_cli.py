"""The `newsfm` command line: help, early exits and one real build (the `docs` command: test_docs.py).

Only paths that exit before Prefect starts run in-process (through click's CliRunner); the
flow itself runs once, end to end, through the installed console script in a subprocess.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from newsfm.pipelines.cli import main
from newsfm.pipelines.discover import read_folder
from newsfm.pipelines.store import current_snapshot, read_manifest, read_table
from newsfm.transforms.pipeline import tables_of
from newsfm.transforms.schema import LAYERS, TABLES

REPO = Path(__file__).resolve().parents[1]
NEWSFM = Path(sys.executable).parent / "newsfm"
BUILD_OPTIONS = ["--batch-size", "--max-file-bytes", "--workers", "--memory-mb", "--dask-address", "--prior-weight", "--min-scored", "--fail-on-reject", "--full-refresh", "--segments", "--lock-timeout", "--progress", "--no-progress", "--verbose", "-v", "--keep-api"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def without_prefect(monkeypatch):
    """Make importing pipelines.flows (and so Prefect) fail: a command that still exits as
    expected has provably exited before Prefect starts."""
    monkeypatch.setitem(sys.modules, "newsfm.pipelines.flows", None)


# --- help ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_the_commands(runner, flag):
    """`newsfm --help` (or -h) exits 0, says what the tool does and lists build and docs."""
    result = runner.invoke(main, [flag])
    assert result.exit_code == 0, result.output
    assert "Turn a folder of news items" in result.output
    assert re.search(r"^\s+build\s+Build the warehouse", result.output, re.MULTILINE)
    assert re.search(r"^\s+docs\s+Write the data dictionary", result.output, re.MULTILINE)


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_is_the_installed_distributions(runner, flag):
    result = runner.invoke(main, [flag])
    assert result.exit_code == 0 and result.output == f"newsfm, version {importlib.metadata.version('newsfm')}\n"


def test_build_help_mentions_every_option(runner):
    """`newsfm build --help` exits 0 and documents every option of build, with its defaults."""
    result = runner.invoke(main, ["build", "--help"])
    assert result.exit_code == 0, result.output
    for option in BUILD_OPTIONS:
        assert re.search(rf"(^|[\s,/]){re.escape(option)}\b", result.output, re.MULTILINE), option
    declared = [
        name
        for param in main.commands["build"].params
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
    ]
    assert sorted(declared) == sorted(BUILD_OPTIONS)  # a new option needs adding to BUILD_OPTIONS
    flowing = " ".join(result.output.split())  # help text is wrapped to the terminal width
    assert "--batch-size INTEGER RANGE Files per Prefect task run and per part" in flowing
    assert "[default: 2000; x>=1]" in flowing
    assert "[default: 1048576; x>=1]" in flowing
    assert "RAW_DIR" in result.output and "OUT_DIR" in result.output
    assert "Exit status" in result.output


# --- early exits (in-process, no Prefect) -------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_build_with_an_unusable_input_folder_exits_2_before_prefect(runner, tmp_path, without_prefect, kind):
    """A missing input folder, or a file given as one, exits 2 at once naming it; nothing is created."""
    raw = tmp_path / "nonexistent"
    if kind == "file":
        raw.write_text("a file, not a folder\n")
    out = tmp_path / "out"
    result = runner.invoke(main, ["build", str(raw), str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr == f"newsfm: input folder {raw} does not exist or is not a folder\n"
    assert result.stdout == ""
    assert not out.exists()


def test_build_into_a_path_under_a_regular_file_exits_2_before_prefect(runner, tmp_path, without_prefect):
    """An output folder that cannot be created (its parent is a file) exits 2 with the reason."""
    raw = tmp_path / "raw"
    raw.mkdir()
    parent = tmp_path / "notes.txt"
    parent.write_text("not a folder\n")
    out = parent / "out"
    result = runner.invoke(main, ["build", str(raw), str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr == f"newsfm: cannot write to output folder {out}: Not a directory\n"
    assert result.stdout == ""


def test_build_into_a_folder_with_a_real_warehouse_folder_exits_2_before_prefect(runner, tmp_path, without_prefect):
    """An output folder whose warehouse/ is a real folder (not newsfm's link) exits 2 and is left alone."""
    raw = tmp_path / "raw"
    raw.mkdir()
    out = tmp_path / "out"
    (out / "warehouse").mkdir(parents=True)
    result = runner.invoke(main, ["build", str(raw), str(out)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.startswith(f"newsfm: {out / 'warehouse'} is a real folder, not newsfm's link")
    assert (out / "warehouse").is_dir() and not (out / "warehouse").is_symlink()


def test_build_rejects_a_batch_size_below_1(runner, tmp_path, without_prefect):
    """--batch-size 0 is a usage error (exit 2) reported by click, before anything runs."""
    result = runner.invoke(main, ["build", str(tmp_path), str(tmp_path / "out"), "--batch-size", "0"])
    assert result.exit_code == 2
    assert "Invalid value for '--batch-size'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_analytics_refuse_a_memory_limit_duckdb_cannot_work_in(runner, tmp_path, without_prefect):
    """--memory-mb 127 is a usage error: at 64, 80 and 100 MB DuckDB ran out of memory in the
    analytics of 100,000 or 1,000,000 generated files (two threads); 128 ran both."""
    result = runner.invoke(main, ["build", str(tmp_path), str(tmp_path / "out"), "--memory-mb", "127"])
    assert result.exit_code == 2
    assert "Invalid value for '--memory-mb'" in result.stderr and "128" in result.stderr
    assert not (tmp_path / "out").exists()


# --- one real build -----------------------------------------------------------------------


@pytest.mark.integration  # a subprocess
def test_build_end_to_end_publishes_reports_rejects_and_fail_on_reject_exits_1(tmp_path):
    """A real build of the seed plus a file without front matter: exit 0, a clean log, an exact summary;
    the same build with --fail-on-reject still publishes but exits 1."""
    raw = tmp_path / "raw"
    shutil.copytree(REPO / "data" / "raw", raw)
    (raw / "broken.md").write_text("no front matter here\n")
    out = tmp_path / "out"
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")  # a temporary server with its own database

    def build(*options: str) -> subprocess.CompletedProcess:
        command = [str(NEWSFM), "build", str(raw), str(out), *options]
        finished = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        log = finished.stdout + finished.stderr
        for bad in ("Traceback", "ERROR", "database is locked"):
            assert bad not in log, log
        return finished

    first = build()
    assert first.returncode == 0, first.stdout + first.stderr
    snapshot = current_snapshot(out)
    assert snapshot is not None
    summary = first.stdout.splitlines()  # stdout is the summary alone; Prefect's log stays quiet
    expected = tables_of(read_folder(raw))  # the rows of every table, as the pure pipeline makes them
    assert summary[:7] == [
        "2 files: 1 loaded (1 article), 0 duplicates, 1 rejected, 0 skipped",
        "  rejected no_front_matter: 1",
        "not read: secured (1 article file) (see the `fields` table)",
        *(f"{layer} rows: " + ", ".join(f"{name} {len(frame)}" for name, frame in expected.items()
                                         if TABLES[name].layer == layer) for layer in LAYERS),
        "since the last build: 2 new, 0 changed, 0 unchanged, 0 deleted",
        f"output: {out}/{{warehouse,analytics}} (snapshot {snapshot.name})",
    ]
    assert re.fullmatch(r"took \d+\.\d s \(\d+\.\d s in the flow; the rest: imports, Prefect's start-up and shut-down\)", summary[7])
    assert len(summary) == 8

    sources = read_table(out, "sources")
    broken = sources[sources["source_path"] == "broken.md"].iloc[0]
    assert (broken["status"], broken["reason"], broken["line"]) == ("rejected", "no_front_matter", 1)
    assert read_manifest(out)["raw_dir"] == str(raw.resolve())

    second = build("--fail-on-reject")  # nothing changed: nothing parsed, the same snapshot, still exit 1
    assert second.returncode == 1, second.stdout + second.stderr
    lines = second.stdout.splitlines()
    assert "  rejected no_front_matter: 1" in lines
    assert "since the last build: 0 new, 0 changed, 2 unchanged, 0 deleted" in lines
    assert f"nothing changed: {out}/{{warehouse,analytics}} stays at snapshot {snapshot.name}" in lines
    assert current_snapshot(out) == snapshot

    third = build("--fail-on-reject", "--full-refresh")  # publishes again, and exits 1 all the same
    assert third.returncode == 1, third.stdout + third.stderr
    assert "note: --full-refresh: the state record is ignored" in third.stdout.splitlines()
    assert current_snapshot(out) not in (None, snapshot)
    assert len(read_table(out, "sources")) == 2


@pytest.mark.integration  # a subprocess
@pytest.mark.integration
def test_build_raises_the_open_files_limit_its_segments_need_or_says_what_to_do(tmp_path):
    """Combine holds a file open per segment of each candidate table while it scatters (7 × 64
    here). Under a real soft limit of 150 with a hard one of 4,096 the build raises its own and
    completes; with both at 256 it refuses `--segments 64` with exit 2 and what to do."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")

    def build(out: Path, soft: int, hard: int) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(NEWSFM), "build", str(REPO / "data" / "raw"), str(out), "--segments", "64", "--workers", "1"],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)))

    raised = build(tmp_path / "raised", 150, 4096)
    assert raised.returncode == 0, raised.stdout + raised.stderr
    assert len(list((current_snapshot(tmp_path / "raised") / "warehouse" / "articles").iterdir())) == 64
    refused = build(tmp_path / "refused", 256, 256)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert ("newsfm: --segments 64 needs about 576 open files and this system allows 256 (ulimit -n): ask for "
            "fewer, or 0 to let newsfm choose") in refused.stderr
    assert "Traceback" not in refused.stderr and current_snapshot(tmp_path / "refused") is None


def test_a_second_build_gives_up_on_a_locked_output_folder_with_exit_2(tmp_path):
    """Another run holds OUT_DIR: `newsfm build` waits --lock-timeout seconds, then says who holds it."""
    from newsfm.pipelines.store import output_lock, prepare_output

    out = tmp_path / "out"
    prepare_output(out)
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    with output_lock(out):
        finished = subprocess.run(
            [str(NEWSFM), "build", str(REPO / "data" / "raw"), str(out), "--lock-timeout", "1"],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )
    assert finished.returncode == 2, finished.stdout + finished.stderr
    assert re.search(rf"newsfm: newsfm run pid {os.getpid()} \(started .* UTC\) is writing {re.escape(str(out))}; "
                     r"gave up waiting after 1 s \(see --lock-timeout\)", finished.stderr), finished.stderr
    assert "Traceback" not in finished.stderr and current_snapshot(out) is None
