"""The summary of a build run: one dict, made here from what the run found and wrote, and the
two ways it is shown: lines for the CLI and Markdown for the Prefect artifact."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from newsfm.transforms.schema import LAYERS, TABLES


def ledger_counts(sources: pa.Table) -> pd.DataFrame:
    """The (status, kind, reason) combinations of the sources ledger and `n`, the files of each:
    all `file_figures` needs, a few rows whatever the number of files."""
    keys = ["status", "kind", "reason"]
    counts = sources.select(keys).group_by(keys, use_threads=False).aggregate([([], "count_all")])
    return counts.rename_columns([*keys, "n"]).to_pandas()


def file_figures(ledger: pd.DataFrame) -> dict:
    """What the sources ledger (as `ledger_counts`) says of the files: the figures a summary
    starts with (the manifest keeps them, so a run with nothing to do can report them without
    reading tables)."""
    def total(rows: pd.DataFrame, by: str) -> dict[str, int]:
        return {key: int(n) for key, n in sorted(rows.dropna(subset=[by]).groupby(by)["n"].sum().items())}

    status = total(ledger, "status")
    return {
        "files": int(ledger["n"].sum()),
        "loaded": status.get("loaded", 0),
        "duplicates": status.get("duplicate", 0),
        "rejected": status.get("rejected", 0),
        "skipped": status.get("skipped", 0),
        "loaded_by_kind": total(ledger[ledger["status"] == "loaded"], "kind"),
        "rejects_by_reason": total(ledger[ledger["status"] == "rejected"], "reason"),
        "skipped_by_reason": total(ledger[ledger["status"] == "skipped"], "reason"),
    }


def run_summary(
    figures: dict, changes: dict[str, int], notices: list[str], rows: dict[str, int], out_dir: str,
    snapshot: str, published: bool, seconds: float,
) -> dict:
    """One run: its file figures, the changes since the last build, the rows of every table and
    the snapshot it published (or, with nothing to do, the one that stays published)."""
    return {**figures, **changes, "notices": notices, "rows": {name: rows[name] for name in TABLES if name in rows},
            "out_dir": out_dir, "snapshot": snapshot, "published": published, "seconds": round(seconds, 3)}


def summary_lines(summary: dict, seconds: float) -> list[str]:
    """The CLI's report of a run that took `seconds` in all (Prefect's start-up included)."""
    kinds = ", ".join(f"{n} {kind}" for kind, n in summary["loaded_by_kind"].items())
    skipped = ", ".join(f"{n} {reason}" for reason, n in summary["skipped_by_reason"].items())
    folders = f"{summary['out_dir']}/{{{','.join(LAYERS)}}}"
    return [
        f"{summary['files']} files: {summary['loaded']} loaded ({kinds or 'none'}), "
        f"{summary['duplicates']} duplicates, {summary['rejected']} rejected, {summary['skipped']} skipped"
        + (f" ({skipped})" if skipped else ""),
        *(f"  rejected {reason}: {count}" for reason, count in summary["rejects_by_reason"].items()),
        *([not_read_line(summary["not_read"])] if summary.get("not_read") else []),
        *(f"{layer} rows: " + ", ".join(f"{name} {n}" for name, n in summary["rows"].items() if TABLES[name].layer == layer)
          for layer in LAYERS),
        f"since the last build: {summary['new']} new, {summary['changed']} changed, "
        f"{summary['unchanged']} unchanged, {summary['deleted']} deleted",
        *(f"note: {notice}" for notice in summary["notices"]),
        f"output: {folders} (snapshot {summary['snapshot']})" if summary["published"]
        else f"nothing changed: {folders} stays at snapshot {summary['snapshot']}",
        f"took {seconds:.1f} s ({summary['seconds']:.1f} s in the flow; the rest: imports, Prefect's start-up and shut-down)",
    ]


def not_read_line(not_read: list[list]) -> str:
    """`not read: secured (120 article files), ...`: the most common fields no table holds."""
    return "not read: " + ", ".join(f"{path} ({files:,} {kind} file{'s' if files > 1 else ''})"
                                    for kind, path, files in not_read) + " (see the `fields` table)"


def summary_markdown(summary: dict) -> str:
    """The run's Prefect artifact."""
    outcome = "published as snapshot" if summary["published"] else "nothing to do; still published: snapshot"
    lines = [
        "# newsfm build",
        "",
        f"{summary['files']} files: {summary['loaded']} loaded, {summary['duplicates']} duplicates, "
        f"{summary['rejected']} rejected, {summary['skipped']} skipped; {outcome} `{summary['snapshot']}` in "
        f"`{summary['out_dir']}`.",
        "",
        f"Since the last build: {summary['new']} new, {summary['changed']} changed, {summary['unchanged']} unchanged, "
        f"{summary['deleted']} deleted.",
        *(f"\n{notice}" for notice in summary["notices"]),
        "",
        "| table | rows |",
        "| --- | ---: |",
        *(f"| {name} | {rows} |" for name, rows in summary["rows"].items()),
        "",
        "| status | reason | files |",
        "| --- | --- | ---: |",
        *(f"| rejected | {reason} | {n} |" for reason, n in summary["rejects_by_reason"].items()),
        *(f"| skipped | {reason} | {n} |" for reason, n in summary["skipped_by_reason"].items()),
        *(["", not_read_line(summary["not_read"])] if summary.get("not_read") else []),
    ]
    return "\n".join(lines)
