"""What a build decides and reports, tested without Prefect: nothing to do, which parts to merge,
the run summary, and where every setting's default comes from."""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path

import click
import pyarrow as pa
import pytest
import yaml

from newsfm.pipelines.cli import build, serve
from newsfm.pipelines.parts import files_per_part, parts_to_merge
from newsfm.pipelines.state import (
    ANALYTICS,
    BUILD,
    CHANGED,
    CHANGES_SCHEMA,
    NEW,
    NOTHING,
    UNCHANGED,
    Changes,
    Entry,
    Keys,
    State,
    build_keys,
    record_table,
    why_full,
    work_to_do,
)
from newsfm.transforms.settings import DEFAULTS, Settings
from newsfm.transforms.summary import file_figures, ledger_counts, run_summary, summary_lines, summary_markdown
from tests.conftest import live_of

REPO = Path(__file__).resolve().parents[1]
KEYS = Keys(parsing={"raw_dir": "/raw"}, combining="c1", analytics={"prior_weight": 10.0, "min_scored": 3, "code": "a1"})
ENTRY = Entry(1, 1, "h", "p1")


def recorded(snapshot: str = "s1", keys: Keys = KEYS) -> State:
    return State(record_table({"a.md": ENTRY}), snapshot, keys.analytics, keys.combining)


def changes_of(new=(), changed=(), unchanged=(), deleted=(), state=None) -> Changes:
    """Changes with these files new, changed and unchanged, and these paths deleted."""
    status = {**dict.fromkeys(new, NEW), **dict.fromkeys(changed, CHANGED), **dict.fromkeys(unchanged, UNCHANGED)}
    files = pa.Table.from_pydict({"source_path": sorted(status), "size_bytes": [1] * len(status),
                                  "mtime_ns": [1] * len(status), "status": [status[path] for path in sorted(status)],
                                  "recorded_at": [None] * len(status)}, schema=CHANGES_SCHEMA)
    counted = {"new": len(new), "changed": len(changed), "unchanged": len(unchanged), "deleted": len(deleted)}
    return Changes(files, counted, pa.chunked_array([sorted(deleted)], pa.string()), state=state)


def test_nothing_to_do_only_when_the_record_describes_the_published_snapshot_and_nothing_moved():
    same = changes_of(unchanged=["a.md"], state=recorded())
    assert work_to_do(same, "s1", KEYS) == (NOTHING, None)
    assert work_to_do(same, "s2", KEYS) == (BUILD, None)  # a run killed after publishing, before recording
    assert work_to_do(same, None, KEYS) == (BUILD, None)  # nothing published
    assert work_to_do(changes_of(new=["b.md"], unchanged=["a.md"], state=recorded()), "s1", KEYS) == (BUILD, None)
    assert work_to_do(changes_of(deleted=["a.md"], state=recorded()), "s1", KEYS) == (BUILD, None)
    assert work_to_do(changes_of(changed=["a.md"], state=recorded()), "s1", KEYS) == (BUILD, None)
    assert work_to_do(changes_of(new=["a.md"], state=None), "s1", KEYS) == (BUILD, None)  # no record: a full build


def test_other_analytics_or_combining_keys_redo_that_step_and_say_why():
    same = changes_of(unchanged=["a.md"], state=recorded())
    settings = Keys(KEYS.parsing, KEYS.combining, {**KEYS.analytics, "min_scored": 5})
    assert work_to_do(same, "s1", settings) == (
        ANALYTICS, "--min-scored changed since the last build: the analytics are computed again (no file parsed)")
    code = Keys(KEYS.parsing, KEYS.combining, {**KEYS.analytics, "code": "a2"})
    assert work_to_do(same, "s1", code) == (
        ANALYTICS, "the analytics code changed since the last build: the analytics are computed again (no file parsed)")
    combining = Keys(KEYS.parsing, "c2", code.analytics)
    assert work_to_do(same, "s1", combining) == (
        BUILD, "the combining code changed since the last build: the warehouse is combined again (no file parsed)")
    changed = changes_of(changed=["a.md"], state=recorded())
    assert work_to_do(changed, "s1", combining) == (BUILD, None)  # the files say it


def test_a_full_build_says_which_parsing_key_changed(tmp_path):
    keys = build_keys(tmp_path, DEFAULTS).parsing
    assert why_full({**keys, "raw_dir": "/elsewhere"}, keys) == (
        "the input folder is not the last build's (/elsewhere): full build")
    assert why_full({**keys, "max_file_bytes": 10}, keys) == "--max-file-bytes changed since the last build: full build"
    assert why_full({**keys, "newsfm": "0.0.1"}, keys) == (
        f"newsfm changed version since the last build (0.0.1 → {keys['newsfm']}): full build")
    assert why_full({**keys, "code": "0" * 16}, keys) == "the parsing code changed since the last build: full build"


def test_small_parts_are_merged_once_there_are_enough_of_them():
    live = {f"f{i}.md": f"small{i % 7}" for i in range(14)} | {f"g{i}.md": "big" for i in range(40)}
    assert parts_to_merge(files_per_part(live_of(live)), small=10) == set()  # seven small parts: not yet
    live["h.md"] = "small7"
    assert parts_to_merge(files_per_part(live_of(live)), small=10) == {f"small{i}" for i in range(8)}
    assert parts_to_merge(files_per_part(live_of(live)), small=1) == set()


def test_the_summary_is_one_dict_shown_two_ways():
    sources = pa.table({"status": ["loaded", "loaded", "duplicate", "rejected", "skipped", "skipped"],
                        "kind": ["article", "taxonomy", "article", "article", "other", "other"],
                        "reason": [None, None, None, "yaml_error", "not_news", "unsupported_file"]})
    figures = file_figures(ledger_counts(sources))
    assert figures == {"files": 6, "loaded": 2, "duplicates": 1, "rejected": 1, "skipped": 2,
                       "loaded_by_kind": {"article": 1, "taxonomy": 1}, "rejects_by_reason": {"yaml_error": 1},
                       "skipped_by_reason": {"not_news": 1, "unsupported_file": 1}}
    figures["not_read"] = [["article", "secured", 3], ["site_config", "title", 1]]
    counts = {"new": 6, "changed": 0, "unchanged": 0, "deleted": 0}
    summary = run_summary(figures, counts, ["a notice"], {"stories": 2, "sources": 6}, "out", "snap", True, 1.23456)
    assert list(summary["rows"]) == ["sources", "stories"]  # in the tables' order
    assert summary["seconds"] == 1.235
    assert summary_lines(summary, 9.0) == [
        "6 files: 2 loaded (1 article, 1 taxonomy), 1 duplicates, 1 rejected, 2 skipped (1 not_news, 1 unsupported_file)",
        "  rejected yaml_error: 1",
        "not read: secured (3 article files), title (1 site_config file) (see the `fields` table)",
        "warehouse rows: sources 6",
        "analytics rows: stories 2",
        "since the last build: 6 new, 0 changed, 0 unchanged, 0 deleted",
        "note: a notice",
        "output: out/{warehouse,analytics} (snapshot snap)",
        "took 9.0 s (1.2 s in the flow; the rest: imports, Prefect's start-up and shut-down)",
    ]
    markdown = summary_markdown(summary)
    assert "published as snapshot `snap` in `out`" in markdown and "| rejected | yaml_error | 1 |" in markdown
    assert "| skipped | not_news | 1 |" in markdown and "not read: secured" in markdown
    kept = run_summary(figures, counts, [], {}, "out", "snap", False, 0)
    assert summary_lines(kept, 1)[-2] == "nothing changed: out/{warehouse,analytics} stays at snapshot snap"


def test_every_setting_is_declared_once_and_its_options_and_flow_parameters_follow():
    """A field of Settings is an option of each command it names, with its default, bounds and
    help, and the flows take one Settings: adding a setting is one `setting(...)` line."""
    from newsfm.pipelines.cli import analytics
    from newsfm.pipelines.flows import build_analytics, build_warehouse

    for command in (build, serve, analytics):
        options = {param.name: param for param in command.params if isinstance(param, click.Option)}
        for spec in fields(Settings):
            if command.name not in spec.metadata["commands"]:
                assert spec.name not in options, (command.name, spec.name)
                continue
            option = options[spec.name]
            assert (option.default, option.type.min, option.help) == (
                spec.default, spec.metadata["minimum"], spec.metadata["help"]), (command.name, spec.name)
    assert {spec.name for spec in fields(Settings) if "analytics" in spec.metadata["commands"]} == {
        "prior_weight", "min_scored", "memory_mb"}
    for flow in (build_warehouse, build_analytics):
        assert inspect.signature(flow.fn).parameters["settings"].default == DEFAULTS
    assert DEFAULTS.parsing == {"max_file_bytes": DEFAULTS.max_file_bytes}
    assert DEFAULTS.analytics == {"prior_weight": DEFAULTS.prior_weight, "min_scored": DEFAULTS.min_scored}
    deployment = yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"][0]
    assert set(deployment["parameters"]) == {"raw_dir", "out_dir"}  # the rest: the flow's defaults


@pytest.mark.parametrize("options", [
    {"memory_mb": 64}, {"batch_size": 0}, {"workers": 0}, {"batch_size": 2.5}, {"prior_weight": -1.0},
    {"lock_timeout": True}, {"segments": "4"}, {"min_scored": None},
])
def test_settings_refuse_what_the_cli_refuses_from_python_as_well(options):
    """`newsfm.build(...)` and a deployment's parameters reach `Settings` without click: it checks
    the types and minimums itself, naming the setting, what it takes, and what it is for."""
    ((name, value),) = options.items()
    spec = next(spec for spec in fields(Settings) if spec.name == name)
    with pytest.raises(ValueError) as refused:
        Settings(**options)
    assert str(refused.value).startswith(f"setting {name}={value!r} refused: it takes ")
    assert f"of at least {spec.metadata['minimum']:g}. {name}: {spec.metadata['help']}" in str(refused.value)


def test_a_whole_number_for_a_float_setting_is_the_float_the_cli_gives():
    """So a notebook's `prior_weight=10` and the command's `--prior-weight 10` are the same analytics key."""
    assert Settings(prior_weight=10, lock_timeout=5) == Settings(prior_weight=10.0, lock_timeout=5.0)
    assert type(Settings(prior_weight=10).prior_weight) is float
    assert Settings(prior_weight=10).analytics == DEFAULTS.analytics


def test_newsfm_build_refuses_a_setting_before_touching_anything(tmp_path):
    import newsfm

    with pytest.raises(ValueError, match="^setting memory_mb=100 refused"):
        newsfm.build(tmp_path / "raw", tmp_path / "out", memory_mb=100)
    assert not (tmp_path / "out").exists()


def test_only_what_changes_a_files_rows_changes_the_state_records_parsing_key(tmp_path):
    keys = build_keys(tmp_path, DEFAULTS)
    assert build_keys(tmp_path, Settings(max_file_bytes=10)).parsing != keys.parsing
    assert build_keys(tmp_path / "other", DEFAULTS).parsing != keys.parsing
    for other in (Settings(batch_size=1), Settings(workers=3), Settings(prior_weight=1.0), Settings(lock_timeout=1)):
        assert build_keys(tmp_path, other).parsing == keys.parsing
    assert build_keys(tmp_path, Settings(prior_weight=1.0)).analytics != keys.analytics
    assert Settings(workers=None).worker_count >= 1 and Settings(workers=3).worker_count == 3
