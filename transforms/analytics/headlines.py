"""The headline figures of a build: pure functions of the warehouse and analytics frames.

The flow publishes them as a Prefect Markdown artifact and the HTML report shows them as cards.
"""

from __future__ import annotations

import pandas as pd

Tables = dict[str, pd.DataFrame]
# The tables `headline` reads, and the columns it reads of the long ones (None: all).
HEADLINE_COLUMNS = {"sources": ["status"], "articles": ["article_id"], "providers": None, "topics": None,
                    "provider_quality": None, "topic_coverage": None, "stories": ["n_providers"]}


def provider_names(tables: Tables) -> dict[str, str]:
    """provider_domain → display name (the provider's name, else its domain)."""
    providers = tables["providers"]
    names = providers["provider_name"].fillna(providers["provider_domain"])
    return dict(zip(providers["provider_domain"], names))


def ranked_providers(tables: Tables) -> pd.DataFrame:
    """Providers with a quality rank, best first (ties: more scored appearances, then domain)."""
    quality = tables["provider_quality"]
    ranked = quality[quality["quality_rank"].notna()]
    return ranked.sort_values(["quality_rank", "n_scored", "provider_domain"], ascending=[True, False, True])


def headline(tables: Tables) -> dict[str, str]:
    """The headline figures, label → formatted value."""
    status = tables["sources"]["status"]
    stories = tables["stories"]
    ranked = ranked_providers(tables)
    coverage = tables["topic_coverage"].sort_values(["n_articles", "topic_id"], ascending=[False, True])
    best = "—"
    if not ranked.empty:
        top = ranked.iloc[0]
        best = f"{provider_names(tables).get(top.provider_domain, top.provider_domain)} ({top.quality_shrunk:.1f})"
    covered = "—"
    if not coverage.empty and coverage.iloc[0].n_articles > 0:
        n = coverage.iloc[0].n_articles
        covered = f"{coverage.iloc[0].topic_name} ({n:,} article{'s' if n > 1 else ''})"
    return {
        "files": f"{len(status):,}",
        "loaded articles": f"{len(tables['articles']):,}",
        "duplicates": f"{(status == 'duplicate').sum():,}",
        "rejects": f"{(status == 'rejected').sum():,}",
        "skipped": f"{(status == 'skipped').sum():,}",
        "providers": f"{len(tables['providers']):,}",
        "topics": f"{len(tables['topics']):,}",
        "stories": f"{len(stories):,}",
        "multi-provider stories": f"{(stories['n_providers'] >= 2).sum():,}",
        "best-ranked provider": best,
        "most-covered topic": covered,
    }


def escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def headlines_markdown(snapshot: str, tables: Tables) -> str:
    """The headline figures as a Markdown table (for a Prefect artifact)."""
    lines = [f"### newsfm headlines (snapshot `{snapshot}`)", "", "| figure | value |", "| --- | --- |"]
    lines += [f"| {label} | {escape_cell(value)} |" for label, value in headline(tables).items()]
    return "\n".join(lines) + "\n"
