"""What a user installs: the wheel, under one import name, working from outside the repository.

The wheel is built as `pip install .` builds it, installed apart from the editable checkout
(`pip install --target`), and run from a folder outside the repository, where the checkout's
own folders cannot stand in for what the wheel lacks. `.ci/run` does the same into a fresh
virtual environment without extras.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration  # pip builds and installs, newsfm runs in subprocesses

PACKAGE_FOLDERS = {"pipelines": "newsfm/pipelines", "transforms": "newsfm/transforms", "synthetic": "newsfm/synthetic",
                   "src/newsfm": "newsfm"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(folder), str(REPO)],
                   check=True, capture_output=True, timeout=600)
    return next(folder.glob("newsfm-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a folder of its own (its dependencies are this environment's)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    return target


def run_installed(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`python ARGS` with the installed wheel first on the path, from `cwd` (outside the repository)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env.update(PYTHONPATH=str(installed), PREFECT_HOME=str(cwd / "prefect-home"))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_wheel_holds_every_module_under_newsfm_and_no_other_top_level_name(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    expected = {f"{PACKAGE_FOLDERS[folder]}/{path.relative_to(REPO / folder).as_posix()}"
                for folder in PACKAGE_FOLDERS for path in (REPO / folder).rglob("*.py")}
    assert expected <= set(names), sorted(expected - set(names))
    assert {"newsfm/__init__.py", "newsfm/__main__.py", "newsfm/pipelines/sql/engine.py",
            "newsfm/transforms/analytics/stories.py"} <= expected
    top_level = {name.split("/")[0] for name in names}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"newsfm"}
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("dist-info/METADATA"))).decode()
    requires = {line.split(":", 1)[1].split(";")[0].strip().split(">")[0].split("[")[0].strip()
                for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert {"pandas", "pyarrow", "pyyaml", "prefect", "duckdb", "matplotlib"} <= requires


def test_the_sdist_makes_the_same_wheel(wheel, tmp_path):
    """`pip install` of the source distribution installs what the wheel does."""
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path), str(REPO)],
                   check=True, capture_output=True, timeout=600)
    sdist = next(tmp_path.glob("newsfm-*.tar.gz"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "from-sdist"),
                    str(sdist)], check=True, capture_output=True, timeout=600)
    from_sdist = next((tmp_path / "from-sdist").glob("newsfm-*.whl"))
    assert zipfile.ZipFile(from_sdist).namelist() == zipfile.ZipFile(wheel).namelist()


def test_the_installed_package_builds_reports_and_reads_from_outside_the_checkout(installed, tmp_path):
    script = f"""
import sys, newsfm

assert newsfm.__file__.startswith({str(installed)!r}), newsfm.__file__
summary = newsfm.build({str(REPO / "data" / "raw")!r}, "out")
with newsfm.open("out") as snap:
    assert snap.id == summary["snapshot"] and len(snap.table("articles")) == summary["rows"]["articles"] == 1
    assert snap.duckdb().sql("select count(*) from related join providers using (provider_domain)").fetchall()[0][0] > 0
generic = sorted(name for name in sys.modules if name.split(".")[0] in ("pipelines", "transforms", "synthetic"))
assert not generic, generic
print("ok", newsfm.__version__)
"""
    built = run_installed(installed, tmp_path, "-c", script)
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("ok ")
    version = run_installed(installed, tmp_path, "-m", "newsfm", "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"newsfm, version {built.stdout.split()[1]}"
    report = run_installed(installed, tmp_path, "-m", "newsfm", "report", "out")
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "out" / "report" / "index.html").stat().st_size > 10_000
