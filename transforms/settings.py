"""Every setting of a build, declared once: its default, its help, its bounds, what it changes.

The CLI's options (`pipelines/cli.py`, and so docs/cli.md), the flows' `settings` parameter
(and so `prefect.yaml`, which names only the folders), the state record's keys (`parsing` and
`analytics` below) and the pure reference pipeline all read them here. Adding a setting is one
`setting(...)` line here; `newsfm docs` then documents its option.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

PARSING, ANALYTICS = "parsing", "analytics"  # what a setting changes, beyond how a build runs
BUILD_COMMANDS = ("build", "serve")


def setting(default, help: str, minimum: float, changes: str | None = None, commands: tuple[str, ...] = BUILD_COMMANDS,
            shown_default: str | None = None):
    """A field of `Settings`: its default and what the CLI and the state record need to know of it.

    `changes`: PARSING when it changes a file's rows (another value: a full build), ANALYTICS
    when it changes only the analytics (another value: they are computed again), None otherwise.
    `commands`: the `newsfm` commands that take it as an option.
    """
    return field(default=default, metadata={"help": help, "minimum": minimum, "changes": changes,
                                            "commands": commands, "shown_default": shown_default})


@dataclass(frozen=True)
class Settings:
    batch_size: int = setting(
        2000, "Files per Prefect task run and per part (about 30 MB of rows in a worker).", minimum=1)
    max_file_bytes: int = setting(
        1024 * 1024, "Larger files are rejected as too_large, unread.", minimum=1, changes=PARSING)
    prior_weight: float = setting(
        10.0, "Weight k of the all-provider mean in provider_quality.quality_shrunk.", minimum=0, changes=ANALYTICS,
        commands=(*BUILD_COMMANDS, "analytics"))
    min_scored: int = setting(
        3, "Scores a provider needs to get a quality_rank.", minimum=1, changes=ANALYTICS,
        commands=(*BUILD_COMMANDS, "analytics"))
    workers: int | None = setting(
        None, "Processes that parse batches; combine and analytics run in one more (1: all in the flow's own "
        "process).", minimum=1, shown_default="one per core")
    memory_mb: int = setting(
        160, "DuckDB's memory limit for the analytics, in MB (its process's RSS is about 100-200 MB more); beyond it DuckDB "
        "spills to OUT_DIR/state/spill. Below 128 its joins and windows failed for want of memory, even at "
        "100,000 files.", minimum=128, commands=(*BUILD_COMMANDS, "analytics"))
    segments: int = setting(
        0, "Files each large warehouse table is cut into (by article id), each combined again only when a change "
        "touches it; 0: one per about 16 MB of parsed rows, chosen at a full build, fewer where the open files "
        "allowed (ulimit -n) would not hold seven per segment. Another number than the last build's combines every "
        "segment again, at the next build that has a change to make.", minimum=0, shown_default="by size")
    lock_timeout: float = setting(
        600.0, "Seconds to wait for another run writing OUT_DIR before giving up (exit 2).", minimum=0)

    def __post_init__(self) -> None:
        """Refuse what the CLI's options refuse (a type, a minimum), wherever settings come from:
        `newsfm.build(...)` and a deployment's parameters as well. A whole number given for a
        float setting becomes a float, as the CLI makes it (the state record's keys compare them)."""
        for spec in fields(self):
            value, minimum = getattr(self, spec.name), spec.metadata["minimum"]
            if value is None and spec.default is None:
                continue
            integer = not isinstance(spec.default, float)
            if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)) or value < minimum:
                raise ValueError(f"setting {spec.name}={value!r} refused: it takes {'an integer' if integer else 'a number'}"
                                 f" of at least {minimum:g}. {spec.name}: {spec.metadata['help']}")
            if not integer:
                object.__setattr__(self, spec.name, float(value))

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    @property
    def analytics(self) -> dict:
        """What the analytics tables depend on besides the warehouse."""
        return self.changing(ANALYTICS)

    @property
    def parsing(self) -> dict:
        """What a file's rows depend on besides its bytes."""
        return self.changing(PARSING)

    def changing(self, what: str) -> dict:
        return {spec.name: getattr(self, spec.name) for spec in fields(self) if spec.metadata["changes"] == what}


DEFAULTS = Settings()
