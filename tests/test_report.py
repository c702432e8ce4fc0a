"""The HTML report, the analysis notebook, and the report in a real headless browser."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from newsfm.pipelines.discover import read_folder
from newsfm.pipelines.report import SECTIONS, headline_markdown, write_report
from newsfm.pipelines.store import publish
from newsfm.transforms.pipeline import tables_of
from newsfm.transforms.schema import BOOL, DATE, FLOAT, INT, SMALL_INT, TABLES, TEXT, TEXT_LIST, UTC_TIME, frame
from tests.conftest import write_snapshot

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "analysis.ipynb"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
OUTLETS = [
    f"{a} {b}"
    for a in ("Daily", "Morning", "Tech", "Global", "Metro")
    for b in ("Herald", "Post", "Wire", "Times", "Review", "Journal")
]
TOPICS = [
    "Machine Learning",
    "Computer Vision",
    "Robotics",
    "AI Ethics",
    "Autonomous Cars",
    "Healthcare AI",
    "NLP",
    "Chips",
    "Cloud AI",
    "Startups",
]
REJECTS = ["yaml_error", "yaml_error", "yaml_error", "no_front_matter"]
SKIPS = ["unsupported_file", "not_news"]
N_ARTICLES, N_DUPLICATES, N_TAXONOMY, N_STORIES, N_MULTI = 120, 3, 10, 90, 25


def rows(name: str, n: int, **columns: list) -> pd.DataFrame:
    """`n` rows of table `name`: the given columns, and plain values by type for the others."""
    defaults = {
        TEXT: lambda column, i: f"{column}-{i}",
        INT: lambda column, i: i,
        SMALL_INT: lambda column, i: i,
        FLOAT: lambda column, i: 0.5,
        BOOL: lambda column, i: False,
        UTC_TIME: lambda column, i: START + dt.timedelta(hours=i),
        DATE: lambda column, i: START.date(),
        TEXT_LIST: lambda column, i: [],
    }
    spec = TABLES[name]
    return frame(
        name,
        {
            f.name: columns[f.name] if f.name in columns else [defaults[f.type](f.name, i) for i in range(n)]
            for f in spec.schema
        },
    )


def warehouse(sources: list[tuple[str, str | None]], n_articles: int, providers: list[str], topics: list[str]) -> dict:
    """Warehouse frames with `sources` given as (status, reason) pairs."""
    return {
        "sources": rows("sources", len(sources), status=[s for s, _ in sources], reason=[r for _, r in sources]),
        "articles": rows("articles", n_articles),
        "providers": rows(
            "providers",
            len(providers),
            provider_domain=[f"{i:02d}.example" for i in range(len(providers))],
            provider_name=providers,
        ),
        "topics": rows("topics", len(topics), topic_id=[f"t{i}" for i in range(len(topics))], topic_name=topics),
        "fields": rows("fields", 3, kind=["article"] * 3, key_path=["secured", "title", "trackingId"],
                       read_into=[None, "articles.title", None]),
    }


def populated_analytics(rng: np.random.Generator) -> dict:
    """Analytics frames over 30 providers (24 ranked) and 10 topics, for 150 days."""
    n_providers, n_ranked = len(OUTLETS), 24
    domains = [f"{i:02d}.example" for i in range(n_providers)]
    shrunk = np.sort(rng.uniform(40, 85, n_providers))[::-1]
    mean = shrunk + rng.normal(0, 8, n_providers)
    scored = [int(x) for x in rng.integers(3, 40, n_providers)]
    scored[n_ranked:] = [1] * (n_providers - n_ranked)
    quality = rows(
        "provider_quality",
        n_providers,
        provider_domain=domains,
        provider_name=OUTLETS,
        n_scored=scored,
        quality_mean=list(mean),
        quality_p10=list(mean - rng.uniform(3, 15, n_providers)),
        quality_p90=list(mean + rng.uniform(3, 15, n_providers)),
        quality_shrunk=list(shrunk),
        quality_rank=[i + 1 if i < n_ranked else None for i in range(n_providers)],
        top_topic_id=[f"t{i % len(TOPICS)}" for i in range(n_providers)],
    )
    topics = [f"t{i}" for i in range(len(TOPICS))]
    days = [START.date() + dt.timedelta(days=d) for d in range(150)]
    daily_pairs = [(t, d) for t in topics for d in days if rng.random() < 0.6]
    daily_shares = rng.dirichlet(np.ones(len(topics)), len(days))
    pairs = [(t, p) for t in topics for p in domains if rng.random() < 0.3]
    co_pairs = [(a, b) for i, a in enumerate(topics) for b in topics[i + 1 :] if rng.random() < 0.5]
    leaders = domains[:18]
    n_stories = [int(x) for x in rng.integers(1, 12, len(leaders))]
    n_first = [int(rng.integers(0, n + 1)) for n in n_stories]
    return {
        "provider_quality": quality,
        "topic_coverage": rows(
            "topic_coverage", len(topics), topic_id=topics, topic_name=TOPICS, n_articles=list(range(60, 0, -6))
        ),
        "topic_coverage_daily": rows(
            "topic_coverage_daily",
            len(daily_pairs),
            topic_id=[t for t, _ in daily_pairs],
            day=[d for _, d in daily_pairs],
            n_articles=[int(x) for x in rng.integers(1, 6, len(daily_pairs))],
            share_of_day=[daily_shares[(d - START.date()).days, int(t[1:])] for t, d in daily_pairs],
        ),
        "topic_provider": rows(
            "topic_provider",
            len(pairs),
            topic_id=[t for t, _ in pairs],
            provider_domain=[p for _, p in pairs],
            n_articles=[int(x) for x in rng.integers(1, 9, len(pairs))],
        ),
        "topic_cooccurrence": rows(
            "topic_cooccurrence",
            len(co_pairs),
            topic_a=[a for a, _ in co_pairs],
            topic_b=[b for _, b in co_pairs],
            jaccard=list(rng.uniform(0.01, 0.5, len(co_pairs))),
        ),
        "stories": rows("stories", N_STORIES, n_providers=[2 + i % 3 if i < N_MULTI else 1 for i in range(N_STORIES)]),
        "provider_timeliness": rows(
            "provider_timeliness",
            len(leaders),
            provider_domain=leaders,
            n_stories=n_stories,
            n_first=n_first,
            first_rate=[f / n for f, n in zip(n_first, n_stories)],
            median_lag_minutes=list(rng.uniform(0, 5000, len(leaders))),
        ),
    }


def published(out: Path, layers: dict) -> Path:
    """Write and publish one snapshot of every table (missing ones empty) into `out`."""
    frames = {spec.layer: {} for spec in TABLES.values()}
    for name, spec in TABLES.items():
        frames[spec.layer][name] = layers.get(name, rows(name, 0))
    publish(out, write_snapshot(out, frames, info={}))
    return out


@pytest.fixture(scope="module")
def full_out(tmp_path_factory) -> Path:
    sources = [("loaded", None)] * (N_ARTICLES + N_TAXONOMY) + [("duplicate", None)] * N_DUPLICATES
    sources += [("rejected", reason) for reason in REJECTS] + [("skipped", reason) for reason in SKIPS]
    tables = {**warehouse(sources, N_ARTICLES, OUTLETS, TOPICS), **populated_analytics(np.random.default_rng(7))}
    return published(tmp_path_factory.mktemp("full"), tables)


@pytest.fixture(scope="module")
def empty_out(tmp_path_factory) -> Path:
    """One article, one provider, no topics: every analytics table empty."""
    return published(tmp_path_factory.mktemp("empty"), warehouse([("loaded", None)], 1, ["Seed News"], []))


def built(raw: Path, out: Path) -> Path:
    """`out` published from the files of `raw` by the real transforms (without Prefect)."""
    return published(out, tables_of(read_folder(raw)))


@pytest.fixture(scope="module")
def bundled_out(tmp_path_factory) -> Path:
    """The bundled data/raw: one article with related items from 14 providers, all on one day."""
    return built(REPO / "data" / "raw", tmp_path_factory.mktemp("bundled"))


def charts_and_notes(page: str) -> tuple[int, int]:
    return page.count('src="data:image/png;base64,'), page.count('class="empty"')


def references(page: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)|url\(\s*["']?([^"')]+)""", page)


def test_report_has_a_chart_per_section_headlines_and_no_outside_references(full_out):
    path = write_report(full_out)
    assert path == full_out / "report" / "index.html"
    assert sorted(p.name for p in path.parent.iterdir()) == ["index.html"]  # no temporary file left
    page = path.read_text()
    sections = re.findall(r"<section><h2>(.*?)</h2>(.*?)</section>", page)
    images = {html.unescape(title): body.count('src="data:image/png;base64,') for title, body in sections}
    assert images == {"Top 10 providers": 0, "Fields not read": 0} | {section.title: 1 for section in SECTIONS}
    assert "<td>trackingId</td>" in page and "<td>secured</td>" in page and "<td>title</td>" not in page
    assert len(SECTIONS) == 6 and 'class="empty"' not in page
    links = [a or b for a, b in references(page)]
    assert all(link.startswith("data:") for link in links), links
    assert not re.search(r"https?://", page)
    cards = {
        label: value
        for value, label in re.findall(r'<div class="value[^"]*">([^<]*)</div><div class="label">([^<]*)</div>', page)
    }
    assert cards.pop("best-ranked provider").startswith("Daily Herald (")
    assert cards == {
        "files": str(N_ARTICLES + N_TAXONOMY + N_DUPLICATES + len(REJECTS) + len(SKIPS)),
        "loaded articles": str(N_ARTICLES),
        "duplicates": str(N_DUPLICATES),
        "rejects": str(len(REJECTS)),
        "skipped": str(len(SKIPS)),
        "providers": str(len(OUTLETS)),
        "topics": str(len(TOPICS)),
        "stories": str(N_STORIES),
        "multi-provider stories": str(N_MULTI),
        "most-covered topic": "Machine Learning (60 articles)",
    }
    assert page.count("<tr>") == 1 + 10 + 1 + 2  # header and the top 10 providers; header and 2 fields not read


def test_report_renders_with_empty_analytics(empty_out):
    page = write_report(empty_out).read_text()
    assert "data:image/png" not in page
    assert page.count('class="empty"') == len(SECTIONS) + 1  # every chart, and the providers table
    assert '<div class="value">1</div><div class="label">files</div>' in page
    assert '<div class="value">—</div><div class="label">best-ranked provider</div>' in page


def test_report_over_the_bundled_article(bundled_out):
    page = write_report(bundled_out).read_text()
    assert charts_and_notes(page) == (3, 4)  # attention (one day), topics × providers, co-occurrence
    assert '<div class="value">1</div><div class="label">files</div>' in page
    assert '<div class="value text">AI (1 article)</div>' in page


def test_report_over_the_corpus(corpus, tmp_path):
    page = write_report(built(corpus, tmp_path)).read_text()
    charts, notes = charts_and_notes(page)
    assert charts + notes == len(SECTIONS) and charts >= 4
    assert '<div class="value">105</div><div class="label">files</div>' in page
    assert '<div class="value">1</div><div class="label">rejects</div>' in page  # the corpus README: no site
    assert '<div class="value">6</div><div class="label">skipped</div>' in page  # the tag definitions


def test_report_replaces_the_previous_one(empty_out):
    first = write_report(empty_out)
    first.write_text("stale")
    assert "newsfm report" in write_report(empty_out).read_text()


def test_headline_markdown(full_out, empty_out):
    markdown = headline_markdown(full_out)
    assert "| loaded articles | 120 |" in markdown and "| rejects | 4 |" in markdown and "| skipped | 2 |" in markdown
    assert "| most-covered topic | Machine Learning (60 articles) |" in markdown
    assert "| best-ranked provider | — |" in headline_markdown(empty_out)


@pytest.mark.integration  # a Jupyter kernel
@pytest.mark.parametrize("output", ["full_out", "empty_out", "bundled_out"])
def test_notebook_runs(output, request, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("NEWSFM_OUT", str(request.getfixturevalue(output)))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), "clear the outputs"
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert not errors


@pytest.mark.integration  # Chromium
@pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK), reason="Debian's chromium is not installed (apt-get install chromium)"
)
def test_report_renders_in_headless_chromium(full_out, tmp_path):
    report = write_report(full_out)
    shot = tmp_path / "shot.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,4000",
        f"--screenshot={shot}",
    ]
    done = subprocess.run([CHROMIUM, *flags, report.as_uri()], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # Page console messages (any level) and uncaught errors; the report has no script, so none is expected.
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    assert shot.stat().st_size > 50_000
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (4000, 1280)
    assert pixels[..., :3].std() > 0.05  # not one flat colour
