"""The Prefect flow, run against a temporary Prefect database."""

import shutil

import pandas as pd
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from newsfm.pipelines.discover import read_folder
from newsfm.pipelines.flows import build_analytics, build_warehouse, reporting_progress
from newsfm.pipelines.store import current_snapshot, read_manifest, read_table
from newsfm.transforms.pipeline import tables_of
from newsfm.transforms.schema import TABLES
from newsfm.transforms.settings import Settings
from tests.conftest import SEED

pytestmark = pytest.mark.usefixtures("prefect_harness")


def raw_tree(tmp_path):
    raw = tmp_path / "raw"
    (raw / "_news").mkdir(parents=True)
    shutil.copy(SEED, raw / "_news" / SEED.name)
    (raw / "_news" / "broken.md").write_text("---\ntitle: [unclosed\n---\n")
    (raw / ".git").mkdir()
    (raw / ".git" / "HEAD.md").write_text("hidden folders are skipped")
    return raw


def test_flow_builds_publishes_and_summarizes(tmp_path):
    raw, out = raw_tree(tmp_path), tmp_path / "out"
    seen = []
    with reporting_progress(lambda done, total: seen.append((done, total))):
        summary = build_warehouse(str(raw), str(out), Settings(batch_size=1))
    assert (summary["files"], summary["loaded"], summary["duplicates"], summary["rejected"]) == (2, 1, 0, 1)
    assert summary["rejects_by_reason"] == {"yaml_error": 1}
    assert summary["rows"] == {name: len(frame) for name, frame in tables_of(read_folder(raw)).items()}
    assert list(summary["rows"]) == list(TABLES) and summary["rows"]["related"] == 14
    assert seen[0] == (0, 2) and seen[-1] == (2, 2) and len(seen) == 3  # one update per batch
    for name in TABLES:
        assert len(read_table(out, name)) == summary["rows"][name]
    assert read_manifest(out)["rows"] == summary["rows"]


def test_batches_are_submitted_as_others_finish_two_per_worker_at_most(tmp_path, monkeypatch):
    """The flow does not hold every batch's paths in task parameters at once: a batch is
    submitted when another one finishes, at most two per worker process in flight."""
    from newsfm.pipelines import flows

    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(9):
        (raw / f"{i}.md").write_text("no front matter\n")
    submitted, finished, in_flight = [], set(), []
    real = flows.parse_batch.submit

    def submit(*args, **kwargs):
        future = real(*args, **kwargs)
        future.add_done_callback(lambda done: finished.add(done.task_run_id))
        submitted.append(future)
        in_flight.append(len(submitted) - len(finished))
        return future

    monkeypatch.setattr(flows.parse_batch, "submit", submit)
    summary = build_warehouse(str(raw), str(tmp_path / "out"), Settings(batch_size=1, workers=1))
    assert summary["rejected"] == 9 and len(submitted) == 9
    assert max(in_flight) <= 2


def test_same_input_gives_the_same_rows_in_the_same_order(tmp_path):
    """Whatever the batch size, and whether batches are parsed here or in worker processes."""
    raw = raw_tree(tmp_path)
    build_warehouse(str(raw), str(tmp_path / "one"), Settings(batch_size=1))
    build_warehouse(str(raw), str(tmp_path / "two"), Settings(batch_size=500, workers=2))
    for name in TABLES:
        pd.testing.assert_frame_equal(read_table(tmp_path / "one", name), read_table(tmp_path / "two", name))


def test_flow_leaves_a_summary_artifact(tmp_path):
    build_warehouse(str(raw_tree(tmp_path)), str(tmp_path / "out"))
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["newsfm-build-summary"])))
    latest = max(artifacts, key=lambda a: a.created)
    assert "| related | 14 |" in latest.data and "| yaml_error | 1 |" in latest.data
    with get_client(sync_client=True) as client:
        headlines = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["newsfm-headlines"])))
    assert headlines, "the flow publishes the headline figures as a Markdown artifact"


def test_analytics_flow_republishes_analytics_with_the_same_warehouse(tmp_path):
    out = tmp_path / "out"
    build_warehouse(str(raw_tree(tmp_path)), str(out))
    before = {name: read_table(out, name) for name in TABLES}
    first = current_snapshot(out)
    result = build_analytics(str(out), Settings(min_scored=1))
    assert current_snapshot(out) != first and result["snapshot"] == current_snapshot(out).name
    for name, spec in TABLES.items():
        after = read_table(out, name)
        if spec.layer == "warehouse" or name != "provider_quality":
            pd.testing.assert_frame_equal(after, before[name])
    ranks = read_table(out, "provider_quality")["quality_rank"]
    assert before["provider_quality"]["quality_rank"].isna().all() and ranks.notna().all()  # min_scored 3 → 1
    assert (current_snapshot(out) / "warehouse" / "articles" / "part-00000.parquet").stat().st_nlink == 2  # hard link


def test_missing_input_folder_fails_the_flow(tmp_path):
    from newsfm.pipelines.flows import InputError

    with pytest.raises(InputError):
        build_warehouse(str(tmp_path / "absent"), str(tmp_path / "out"))


def test_corpus_build_accounts_for_every_file(tmp_path, corpus):
    summary = build_warehouse(str(corpus), str(tmp_path / "out"))
    sources = read_table(tmp_path / "out", "sources")
    assert summary["files"] == len(sources) == sum(1 for p in corpus.rglob("*") if p.is_file())
    assert sources["source_path"].is_unique
