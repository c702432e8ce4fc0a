"""The HTML report: headline figures and charts over one published snapshot, in a single file.

`write_report(OUT)` writes `OUT/report/index.html`: no network, no JavaScript; the charts are
matplotlib figures rendered by the Agg canvas and embedded as base64 PNG. `headline_markdown(OUT)`
gives the headline figures as Markdown (the flow's Prefect artifact). Every chart copes with an
empty table by showing a short note instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from newsfm.pipelines.durable import durable_file
from newsfm.pipelines.layout import Layout
from newsfm.pipelines.reader import Snapshot
from newsfm.transforms.analytics.headlines import headline, headlines_markdown, provider_names, ranked_providers
from newsfm.transforms.seen_fields import not_read

USED = (
    "sources",
    "articles",
    "providers",
    "topics",
    "provider_quality",
    "topic_coverage",
    "topic_coverage_daily",
    "topic_provider",
    "topic_cooccurrence",
    "stories",
    "provider_timeliness",
    "fields",
)
TOP_PROVIDERS = 10  # top and bottom providers in the quality chart; rows of the providers table
TOP_TOPICS = 8  # lines in the attention chart
STRAY_SHARE, STRAY_GAP = 0.02, pd.Timedelta(days=90)  # old items the attention chart leaves out (see `attention_start`)
MATRIX_TOPICS, MATRIX_PROVIDERS = 12, 15  # heatmap sizes
MIN_STORIES = 3  # multi-provider stories a provider needs to appear among first-to-publish leaders
TOP_LEADERS = 15
LABEL_CHARS = 32
DPI = 110
ACCENT, MUTED, GRID = "#2563eb", "#94a3b8", "#e5e7eb"
STYLE = {
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#9ca3af",
    "axes.grid": True,
    "grid.color": GRID,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "ytick.major.size": 0,
}

Tables = dict[str, pd.DataFrame]


def load(out_dir: Path) -> tuple[dict, Tables]:
    """The published manifest and the tables the report uses, all from that manifest's snapshot,
    pinned while they are read (`newsfm.open`), so another run publishing meanwhile changes nothing."""
    with Snapshot(out_dir) as snapshot:
        return snapshot.manifest, {name: snapshot.table(name) for name in USED}


def topic_names(tables: Tables) -> dict[str, str]:
    """topic_id → topic name."""
    return dict(zip(tables["topics"]["topic_id"], tables["topics"]["topic_name"]))


def short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def largest(frame: pd.DataFrame, column: str, count: int) -> pd.Index:
    """The `count` values of `column` with most articles (ties: smallest value first)."""
    totals = frame.groupby(column)["n_articles"].sum()
    return totals.sort_values(ascending=False, kind="stable").index[:count]


def headline_markdown(out_dir: Path) -> str:
    """The headline figures of the published snapshot as a Markdown table."""
    manifest, tables = load(out_dir)
    return headlines_markdown(manifest["snapshot"], tables)


# Charts: each takes the tables and returns a Figure, or None when there is nothing to draw.


def new_figure(width: float, height: float) -> Figure:
    """A figure drawn by the Agg canvas: no GUI backend, no pyplot global state."""
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def providers_chart(tables: Tables) -> Figure | None:
    """Top and bottom ranked providers by shrunk quality, with p10–p90 whiskers and the mean."""
    ranked = ranked_providers(tables)
    if ranked.empty:
        return None
    split = len(ranked) > 2 * TOP_PROVIDERS
    shown = pd.concat([ranked.head(TOP_PROVIDERS), ranked.tail(TOP_PROVIDERS)]) if split else ranked
    rows = np.arange(len(shown)) + (np.arange(len(shown)) >= TOP_PROVIDERS) * split  # a gap row when split
    names = provider_names(tables)
    labels = [
        f"{row.quality_rank}. {short(names.get(row.provider_domain, row.provider_domain))}  (n={row.n_scored})"
        for row in shown.itertuples()
    ]
    figure = new_figure(9.5, 1.2 + 0.3 * (rows[-1] + 1))
    axes = figure.add_subplot()
    axes.hlines(rows, shown["quality_p10"], shown["quality_p90"], color=MUTED, linewidth=2.2, label="p10–p90")
    axes.scatter(
        shown["quality_mean"], rows, marker="|", s=140, color="#111827", linewidths=1.8, label="mean", zorder=3
    )
    axes.scatter(
        shown["quality_shrunk"], rows, marker="D", s=38, color=ACCENT, label="shrunk (ranking score)", zorder=4
    )
    quality = tables["provider_quality"]
    overall = (quality["n_scored"] * quality["quality_mean"]).sum() / quality["n_scored"].sum()
    axes.axvline(overall, color="#f59e0b", linestyle="--", linewidth=1, label=f"overall mean {overall:.1f}")
    if split:
        axes.axhline(TOP_PROVIDERS, color=GRID, linewidth=6)
        hidden = len(ranked) - 2 * TOP_PROVIDERS
        axes.text(
            0.5,
            TOP_PROVIDERS,
            f"{hidden} more ranked providers",
            transform=axes.get_yaxis_transform(),
            ha="center",
            va="center",
            fontsize=8.5,
            color="#6b7280",
            backgroundcolor="white",
        )
    axes.set_yticks(rows, labels)
    axes.set_ylim(rows[-1] + 0.7, -0.7)
    axes.grid(axis="y", visible=False)
    axes.set_xlabel("quality")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4)
    return figure


def attention_start(days: pd.Series, n_articles: pd.Series) -> pd.Timestamp:
    """The first day the attention chart shows: the day after the last long gap (over STRAY_GAP)
    that only stray old items precede (at most STRAY_SHARE of the topic-articles), else the first day.

    A corpus often holds a few items years older than the rest; they would squeeze the time axis."""
    per_day = n_articles.groupby(days).sum().astype(float)
    before = (per_day.cumsum() - per_day) / per_day.sum()
    gap = per_day.index.to_series().diff()
    starts = per_day.index[(before <= STRAY_SHARE) & (gap > STRAY_GAP)]
    return starts.max() if len(starts) else per_day.index[0]


def attention_chart(tables: Tables) -> Figure | None:
    """Share of daily attention of the most covered topics, averaged per week (or month, or day)."""
    daily = tables["topic_coverage_daily"]
    if daily.empty:
        return None
    top = largest(daily, "topic_id", TOP_TOPICS)
    days = pd.to_datetime(daily["day"].astype(str))
    shares = daily.assign(day=days).pivot_table(index="day", columns="topic_id", values="share_of_day", fill_value=0)
    start = attention_start(days, daily["n_articles"])
    hidden = days[days < start].nunique()
    span = (days.max() - start).days
    period, unit = ("D", "day") if span <= 31 else ("W-MON", "week") if span <= 240 else ("MS", "month")
    shares = shares.loc[start:, top].astype(float).resample(period, label="left", closed="left").mean()
    names = topic_names(tables)
    if len(shares) == 1:  # one period: bars say more than lone points
        first = shares.index[0].strftime("%Y-%m-%d")
        when = first if unit == "day" else f"the {unit} from {first}"
        labels = [short(names.get(t, t), 28) for t in top]
        return bar_chart(labels, shares.iloc[0].to_numpy(), ACCENT, f"share of the articles of {when}", percent=True)
    figure = new_figure(9.5, 4.2)
    axes = figure.add_subplot()
    for topic in top:
        axes.plot(
            shares.index,
            shares[topic],
            marker="o",
            markersize=3.5,
            linewidth=1.6,
            label=short(names.get(topic, topic), 28),
        )
    axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes.set_ylim(bottom=0)
    locator = mdates.AutoDateLocator(maxticks=10)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.set_ylabel(f"share of the day's articles (mean per {unit})")
    if hidden:
        days_text = "1 earlier day" if hidden == 1 else f"{hidden} earlier days"
        axes.set_xlabel(f"{days_text} with stray old items left out", fontsize=8.5, color="#6b7280")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="topic", alignment="left")
    return figure


def heatmap(axes, matrix: np.ndarray, rows: list[str], columns: list[str], cmap: str, fmt: str) -> None:
    """Colour cells by value, write the value in each non-empty cell, label both axes.

    `fmt` ".0f" marks counts: the colour bar then has whole-number ticks."""
    image = axes.imshow(np.ma.masked_less_equal(matrix, 0), cmap=cmap, aspect="auto", vmin=0)
    for (row, column), value in np.ndenumerate(matrix):
        if value > 0:
            colour = "white" if value > 0.6 * matrix.max() else "#111827"
            axes.text(column, row, format(value, fmt), ha="center", va="center", fontsize=8, color=colour)
    axes.set_xticks(range(len(columns)), columns, rotation=40, ha="right", rotation_mode="anchor")
    axes.set_yticks(range(len(rows)), rows)
    axes.set_facecolor("#f9fafb")
    axes.grid(False)
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    ticks = MaxNLocator(integer=True) if fmt == ".0f" else None
    axes.figure.colorbar(image, ax=axes, shrink=0.8, pad=0.02, aspect=30, ticks=ticks)


def topic_provider_chart(tables: Tables) -> Figure | None:
    """Articles per topic × provider: the providers with most articles, and their main topics."""
    pairs = tables["topic_provider"]
    if pairs.empty:
        return None
    providers = largest(pairs, "provider_domain", MATRIX_PROVIDERS)
    shown = pairs[pairs["provider_domain"].isin(providers)]
    topics = largest(shown, "topic_id", MATRIX_TOPICS)
    matrix = shown.pivot_table(index="topic_id", columns="provider_domain", values="n_articles", aggfunc="sum")
    matrix = matrix.reindex(index=topics, columns=providers).fillna(0).to_numpy(dtype=float)
    t_names, p_names = topic_names(tables), provider_names(tables)
    figure = new_figure(min(9.5, 3.2 + 0.5 * len(providers)), 1.6 + 0.32 * len(topics))
    heatmap(
        figure.add_subplot(),
        matrix,
        [short(t_names.get(t, t), 28) for t in topics],
        [short(p_names.get(p, p), 24) for p in providers],
        "Blues",
        ".0f",
    )
    return figure


def cooccurrence_chart(tables: Tables) -> Figure | None:
    """Jaccard similarity of the most covered topics that share articles with another topic."""
    pairs = tables["topic_cooccurrence"]
    if pairs.empty:
        return None
    paired = set(pairs["topic_a"]) | set(pairs["topic_b"])
    coverage = tables["topic_coverage"].sort_values(["n_articles", "topic_id"], ascending=[False, True])
    topics = [t for t in coverage["topic_id"] if t in paired][:MATRIX_TOPICS]
    position = {topic: i for i, topic in enumerate(topics)}
    matrix = np.zeros((len(topics), len(topics)))
    for row in pairs[pairs["topic_a"].isin(position) & pairs["topic_b"].isin(position)].itertuples():
        a, b = position[row.topic_a], position[row.topic_b]
        matrix[a, b] = matrix[b, a] = row.jaccard
    names = [short(topic_names(tables).get(t, t), 28) for t in topics]
    figure = new_figure(min(9.5, 3.2 + 0.55 * len(topics)), 1.8 + 0.36 * len(topics))
    heatmap(figure.add_subplot(), matrix, names, names, "Purples", ".2f")
    return figure


def minutes(value: float) -> str:
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h" if value < 2880 else f"{value / 1440:.1f} d"


def timeliness_chart(tables: Tables) -> Figure | None:
    """Providers that publish a multi-provider story's first item most often."""
    timeliness = tables["provider_timeliness"]
    leaders = (
        timeliness[timeliness["n_stories"] >= MIN_STORIES]
        .sort_values(["n_first", "first_rate", "provider_domain"], ascending=[False, False, True])
        .head(TOP_LEADERS)
    )
    if leaders.empty:
        return None
    names = provider_names(tables)
    rows = np.arange(len(leaders))
    figure = new_figure(9.5, 1.1 + 0.32 * len(leaders))
    axes = figure.add_subplot()
    axes.barh(rows, leaders["n_stories"], color=GRID, height=0.7, label="multi-provider stories")
    axes.barh(rows, leaders["n_first"], color=ACCENT, height=0.7, label="published first")
    for row, leader in zip(rows, leaders.itertuples()):
        lag = minutes(leader.median_lag_minutes)
        note = f"  {leader.n_first} of {leader.n_stories} ({leader.first_rate:.0%}) · median lag {lag}"
        axes.text(leader.n_stories, row, note, va="center", fontsize=8.5, color="#374151")
    axes.set_yticks(rows, [short(names.get(d, d)) for d in leaders["provider_domain"]])
    axes.set_ylim(len(leaders) - 0.4, -0.6)
    axes.set_xlim(0, leaders["n_stories"].max() * 1.55)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", visible=False)
    axes.set_xlabel("stories")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2)
    return figure


def bar_chart(labels: list[str], values: np.ndarray, colour: str, xlabel: str, percent: bool = False) -> Figure:
    """One labelled horizontal bar per value, top to bottom; values as counts or as shares."""
    figure = new_figure(9.5, 0.9 + 0.32 * len(values))
    axes = figure.add_subplot()
    bars = axes.barh(range(len(values)), values, color=colour, height=0.6)
    axes.bar_label(bars, fmt="{:.0%}" if percent else "{:,.0f}", padding=3, fontsize=8.5)
    axes.set_yticks(range(len(values)), labels)
    axes.set_ylim(len(values) - 0.5, -0.5)
    axes.set_xlim(0, values.max() * 1.12)
    if percent:
        axes.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    else:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", visible=False)
    axes.set_xlabel(xlabel)
    return figure


def rejects_chart(tables: Tables) -> Figure | None:
    """Rejected input files per reason code."""
    sources = tables["sources"]
    counts = sources.loc[sources["status"] == "rejected", "reason"].fillna("(none)").value_counts()
    if counts.empty:
        return None
    counts = counts.sort_values(ascending=False, kind="stable")
    return bar_chart(list(counts.index), counts.to_numpy(dtype=float), "#dc2626", "files")


class Section(NamedTuple):
    title: str
    caption: str
    chart: Callable[[Tables], Figure | None]
    empty: str


SECTIONS = [
    Section(
        "Providers by shrunk quality",
        f"The {TOP_PROVIDERS} best and {TOP_PROVIDERS} worst ranked providers. The diamond is the ranking score: "
        "the mean quality pulled towards the overall mean, the more so the fewer scored appearances (n). The bar "
        "spans the 10th to 90th percentile; the tick is the plain mean.",
        providers_chart,
        "No ranked providers: a provider needs a few scored appearances to be ranked.",
    ),
    Section(
        "Topic attention over time",
        f"The {TOP_TOPICS} topics with most articles: their share of each day's articles (an article with several "
        "topics is split among them), averaged over the days with articles in each period.",
        attention_chart,
        "No dated articles with topics.",
    ),
    Section(
        "Topics × providers",
        f"Articles per topic and provider, for the {MATRIX_TOPICS} topics and {MATRIX_PROVIDERS} providers with most "
        "articles; empty cells have none.",
        topic_provider_chart,
        "No articles filed under a topic.",
    ),
    Section(
        "Topic co-occurrence",
        "Jaccard similarity of two topics: the articles filed under both over the articles filed under either.",
        cooccurrence_chart,
        "No article is filed under two topics.",
    ),
    Section(
        "First to publish",
        f"Providers with at least {MIN_STORIES} stories covered by several providers: how often their item was the "
        "story's first, and the median delay of their first item after the story's first.",
        timeliness_chart,
        f"No provider has {MIN_STORIES} or more stories covered by several providers.",
    ),
    Section(
        "Rejected files",
        "News items, dimension entries and site configs that could not be read, per reason code (files newsfm "
        "does not load, such as a site's pages and assets, are skipped, not rejected).",
        rejects_chart,
        "No rejected files.",
    ),
]
UNREAD_SHOWN = 20  # rows of the fields-not-read table
NOT_READ_CAPTION = (
    "Key paths the input's files hold that no table reads, most common first (a path is named once for all that "
    "lies below it); the `fields` table has every path. A field a feed starts to send, or renames, shows up here."
)


def png(figure: Figure, alt: str) -> str:
    """The figure as an <img> with a base64 PNG data URL."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def section_html(title: str, caption: str, body: str) -> str:
    return f'<section><h2>{html.escape(title)}</h2><p class="caption">{html.escape(caption)}</p>{body}</section>'


def empty_note(text: str) -> str:
    return f'<p class="empty">{html.escape(text)}</p>'


def render_section(section: Section, tables: Tables) -> str:
    """A chart section: its figure drawn in the report's style, or its note when there is no data."""
    with matplotlib.rc_context(STYLE):
        figure = section.chart(tables)
        body = empty_note(section.empty) if figure is None else png(figure, section.title)
    return section_html(section.title, section.caption, body)


def cards(figures: dict[str, str]) -> str:
    items = "".join(
        f'<div class="card"><div class="{"value text" if any(c.isalpha() for c in value) else "value"}">'
        f'{html.escape(value)}</div><div class="label">{html.escape(label)}</div></div>'
        for label, value in figures.items()
    )
    return f'<div class="cards">{items}</div>'


def number(value, fmt: str) -> str:
    return "—" if pd.isna(value) else format(value, fmt)


def providers_table(tables: Tables) -> str:
    """The top ranked providers with their volume and quality figures, as an HTML table."""
    top = ranked_providers(tables).head(TOP_PROVIDERS)
    if top.empty:
        return empty_note("No ranked providers.")
    names, topics = provider_names(tables), topic_names(tables)
    head = ["rank", "provider", "articles", "related", "scored", "mean", "shrunk", "p10–p90", "with image", "top topic"]
    rows = [
        [
            str(row.quality_rank),
            names.get(row.provider_domain, row.provider_domain),
            str(row.n_articles),
            str(row.n_related),
            str(row.n_scored),
            number(row.quality_mean, ".1f"),
            number(row.quality_shrunk, ".1f"),
            f"{number(row.quality_p10, '.0f')}–{number(row.quality_p90, '.0f')}",
            number(row.share_with_image, ".0%"),
            "—" if pd.isna(row.top_topic_id) else topics.get(row.top_topic_id, row.top_topic_id),
        ]
        for row in top.itertuples()
    ]
    header = "".join(f"<th>{html.escape(cell)}</th>" for cell in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def not_read_table(tables: Tables) -> str:
    """The most common key paths of the input that no table holds, as an HTML table."""
    rows = not_read(tables["fields"].to_dict("records"), UNREAD_SHOWN)
    if not rows:
        return empty_note("Every key path of the input is read into a table.")
    head = ["files", "key path", "kind", "first seen", "last seen", "example file"]
    cells = [[f"{row['files']:,}", row["key_path"], row["kind"], date(row["first_published_at"]),
              date(row["last_published_at"]), row["example_path"]] for row in rows]
    header = "".join(f"<th>{html.escape(cell)}</th>" for cell in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in cells)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def date(value) -> str:
    return "—" if pd.isna(value) else value.strftime("%Y-%m-%d")


CSS = """
body { margin: 0; background: #f3f4f6; color: #111827; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { margin: 0; font-size: 28px; }
h2 { margin: 0 0 4px; font-size: 19px; }
.meta { margin: 4px 0 20px; color: #6b7280; font-size: 13px; }
section { background: white; border: 1px solid #e5e7eb; border-radius: 10px; padding: 18px 20px; margin: 18px 0; }
.caption { margin: 0 0 12px; color: #4b5563; font-size: 13.5px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px; }
.card { background: white; border: 1px solid #e5e7eb; border-radius: 10px; padding: 12px 14px; }
.card .value { font-size: 22px; font-weight: 600; overflow-wrap: anywhere; }
.card .value.text { font-size: 16px; line-height: 1.35; padding-top: 4px; }
.card .label { color: #6b7280; font-size: 12.5px; text-transform: uppercase; letter-spacing: 0.04em; }
img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
table { width: 100%; border-collapse: collapse; font-size: 13.5px; }
th, td { padding: 6px 8px; border-bottom: 1px solid #e5e7eb; text-align: right; white-space: nowrap; }
th:nth-child(2), td:nth-child(2), th:last-child, td:last-child { text-align: left; white-space: normal; }
th { color: #4b5563; font-weight: 600; }
.empty { color: #6b7280; font-style: italic; margin: 8px 0; }
"""


def render_html(manifest: dict, tables: Tables) -> str:
    """The whole report page."""
    created = dt.datetime.fromisoformat(manifest["created_at"]).strftime("%Y-%m-%d %H:%M UTC")
    snapshot = html.escape(manifest["snapshot"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsfm report · {snapshot}</title><style>{CSS}</style></head>
<body><main>
<h1>newsfm report</h1>
<p class="meta">snapshot <code>{snapshot}</code> · built {html.escape(created)}</p>
{cards(headline(tables))}
{section_html(f"Top {TOP_PROVIDERS} providers", "Ranked by shrunk quality.", providers_table(tables))}
{"".join(render_section(section, tables) for section in SECTIONS)}
{section_html("Fields not read", NOT_READ_CAPTION, not_read_table(tables))}
</main></body></html>
"""


def write_report(out_dir: Path) -> Path:
    """Write `OUT/report/index.html` for the published snapshot, atomically; returns its path."""
    manifest, tables = load(out_dir)
    page = render_html(manifest, tables)
    path = Layout(Path(out_dir)).report
    path.parent.mkdir(parents=True, exist_ok=True)
    with durable_file(path, written="report written", placed="report replaced") as handle:
        handle.write(page.encode("utf-8"))
    return path
