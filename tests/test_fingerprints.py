"""Builds follow the code: a changed parser means a full build, changed analytics code means
analytics computed again with no file parsed (`pipelines.fingerprints`, `pipelines.state.Keys`)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from newsfm.pipelines import fingerprints, flows
from newsfm.pipelines.discover import read_folder
from newsfm.pipelines.flows import build_warehouse
from newsfm.pipelines.sql import providers as sql_providers
from newsfm.pipelines.store import read_table
from newsfm.transforms import extract
from newsfm.transforms.pipeline import tables_of
from newsfm.transforms.schema import TABLES
from newsfm.transforms.settings import Settings
from tests.conftest import REPO
from tests.test_incremental import age, tree

PACKAGE_FOLDERS = {"src/newsfm": "", "pipelines": "pipelines", "transforms": "transforms", "synthetic": "synthetic"}


def test_each_fingerprint_covers_the_code_its_step_runs():
    parsing, analytics = fingerprints.closure(fingerprints.PARSING_ROOTS), fingerprints.closure(fingerprints.ANALYTICS_ROOTS)
    assert {"newsfm.transforms.fastyaml", "newsfm.transforms.fields", "newsfm.transforms.keys",
            "newsfm.pipelines.discover"} <= parsing
    assert not any(".sql" in name or ".analytics" in name for name in parsing)
    assert {"newsfm.pipelines.sql.stories", "newsfm.pipelines.sql.common"} <= analytics
    assert "newsfm.transforms.fastyaml" not in analytics
    assert "newsfm.transforms.combine" in fingerprints.closure(fingerprints.COMBINING_ROOTS)
    assert fingerprints.SCHEMA_MODULE not in parsing | analytics  # its schemas are taken as text instead


def copy_of_the_package(folder: Path) -> Path:
    """The package as the wheel lays it out (newsfm/, newsfm/pipelines/, ...), in `folder`."""
    for source, target in PACKAGE_FOLDERS.items():
        shutil.copytree(REPO / source, folder / "newsfm" / target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def fingerprints_of(copy: Path) -> tuple[str, str, str]:
    script = "from newsfm.pipelines import fingerprints as f; print(f.parsing(), f.combining(), f.analytics())"
    done = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(copy)}, cwd=copy,
                          capture_output=True, text=True, timeout=120, check=True)
    return tuple(done.stdout.split())


def edit(copy: Path, path: str, old: str, new: str) -> None:
    file = copy / "newsfm" / path
    text = file.read_text()
    assert text.count(old) == 1, (path, old)
    file.write_text(text.replace(old, new))


@pytest.mark.integration  # a subprocess
@pytest.mark.parametrize("path, old, new, changed", [
    ("transforms/article.py", "title=title,", "title=title.upper(),", "parsing combining"),
    ("transforms/fastyaml.py", "MAX_KEY = 1024", "MAX_KEY = 1000", "parsing combining"),
    ("transforms/combine.py", '"same canonical URL as "', '"same URL as "', "combining"),
    ("pipelines/sql/providers.py", "FROM articles WHERE provider_domain IS NOT NULL",
     "FROM articles WHERE provider_domain IS NOT NULL AND true", "analytics"),
    ("transforms/schema.py", '"Hours from the first to the last item', '"Hours from first to last item', "analytics"),
    ("transforms/schema.py", '"`title`.", False', '"The `title`.", False', "parsing combining analytics"),
])
def test_an_edit_changes_the_fingerprints_of_the_steps_that_run_it(tmp_path, path, old, new, changed):
    copy = copy_of_the_package(tmp_path)
    before = fingerprints_of(copy)
    assert before == (fingerprints.parsing(), fingerprints.combining(), fingerprints.analytics())
    edit(copy, path, old, new)
    after = fingerprints_of(copy)
    differ = {name for name, a, b in zip(("parsing", "combining", "analytics"), before, after) if a != b}
    assert differ == set(changed.split())


def built_tree(tmp_path: Path) -> tuple[Path, Path]:
    """A small input tree (its files' times old enough to trust) built once, in this process."""
    raw, out = tree(tmp_path), tmp_path / "out"
    for path in (raw / "_news").iterdir():
        age(path)
    build_warehouse(str(raw), str(out), Settings(workers=1))
    return raw, out


@pytest.mark.usefixtures("prefect_harness")
def test_a_changed_parser_makes_the_next_build_full_and_equal_to_a_full_rebuild(tmp_path, monkeypatch):
    raw, out = built_tree(tmp_path)
    original = extract.to_article
    monkeypatch.setattr(extract, "to_article", lambda front_matter: dataclasses.replace(
        original(front_matter), title=original(front_matter).title.upper()))  # the edited converter
    monkeypatch.setattr(fingerprints, "parsing", lambda: "edited")  # as the edit changes the fingerprint
    summary = build_warehouse(str(raw), str(out), Settings(workers=1))
    assert summary["notices"] == ["the parsing code changed since the last build: full build"]
    assert (summary["new"], summary["unchanged"]) == (3, 0)
    titles = read_table(out, "articles")["title"].tolist()
    assert titles and titles == [title.upper() for title in titles]
    expected = tables_of(read_folder(raw))
    for name in TABLES:
        pd.testing.assert_frame_equal(read_table(out, name), expected[name], obj=name)


@pytest.mark.usefixtures("prefect_harness")
def test_changed_analytics_code_recomputes_the_analytics_and_parses_no_file(tmp_path, monkeypatch):
    raw, out = built_tree(tmp_path)
    warehouse = {name: read_table(out, name) for name, spec in TABLES.items() if spec.layer == "warehouse"}
    original = sql_providers.provider_quality
    monkeypatch.setattr(sql_providers, "provider_quality",
                        lambda prior_weight, min_scored, since=False: original(1.0, 1, since))
    monkeypatch.setattr(fingerprints, "analytics", lambda: "edited")
    monkeypatch.setattr(flows, "parse_in_pool", lambda *args: pytest.fail("a file was parsed"))
    summary = build_warehouse(str(raw), str(out), Settings(workers=1))
    assert summary["notices"] == ["the analytics code changed since the last build: the analytics are computed "
                                  "again (no file parsed)"]
    assert (summary["new"], summary["changed"], summary["published"]) == (0, 0, True)
    for name, frame in warehouse.items():
        pd.testing.assert_frame_equal(read_table(out, name), frame, obj=name)
    expected = tables_of(read_folder(raw), Settings(prior_weight=1.0, min_scored=1))["provider_quality"]
    pd.testing.assert_frame_equal(read_table(out, "provider_quality"), expected)
    assert build_warehouse(str(raw), str(out), Settings(workers=1))["published"] is False  # recorded: nothing to do


@pytest.mark.integration  # a subprocess
def test_an_edited_installed_parser_is_followed_by_the_next_build(tmp_path):
    """The issue's case, as a user meets it: the same tree built, the title converter of the
    installed package edited, built again: every title follows the new code."""
    copy = copy_of_the_package(tmp_path / "site")
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env.update(PYTHONPATH=str(copy), PREFECT_HOME=str(tmp_path / "prefect-home"))

    def build() -> str:
        done = subprocess.run([sys.executable, "-m", "newsfm", "build", str(REPO / "data" / "raw"), "out", "--workers", "2"],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout

    build()
    edit(copy, "transforms/article.py", "title=title,", "title=title.upper(),")
    assert "note: the parsing code changed since the last build: full build" in build()
    titles = read_table(tmp_path / "out", "articles")["title"].tolist()
    assert titles == [title.upper() for title in titles] and any(c.isalpha() for c in titles[0])


def test_a_module_is_read_where_cpython_refuses_to_parse_it_in_this_thread(monkeypatch):
    """CPython 3.11.7 raises SystemError from ast.parse after hypothesis changed the recursion
    limit (python/cpython#106905): the module is parsed in a thread of its own instead."""
    import ast
    import threading

    parse, main = ast.parse, threading.current_thread()

    def refusing(text, *args, **kwargs):
        if threading.current_thread() is main:
            raise SystemError("AST constructor recursion depth mismatch (before=213, after=75)")
        return parse(text, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", refusing)
    assert "newsfm.pipelines.layout" in fingerprints.imported("newsfm.pipelines.state")
