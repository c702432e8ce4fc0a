"""Every path under an output folder, in one place.

    OUT/.newsfm.lock                        the lock a run holds while it writes OUT
    OUT/snapshots/<id>/                     one complete run: manifest.json and
        {warehouse,analytics}/<table>/part-*.parquet  (a file per segment, or part-00000)
        _kept/topic_sums.parquet            the analytics' topic sums, for the next change's
                                            (pipelines.sql.topics; not a table: `_` hides it from readers)
    OUT/snapshots/.staging-<id>/            a snapshot being written
    OUT/snapshots/.removed-<id>/            an old snapshot being removed
    OUT/current   -> snapshots/<id>         the published snapshot, switched by one rename
    OUT/warehouse -> current/warehouse      what readers open
    OUT/analytics -> current/analytics
    OUT/state/files.arrow                   the state record (see pipelines.state)
    OUT/state/parts/<part id>/<part>.arrow  each parsed batch (see pipelines.parts)
    OUT/state/segments/<id>/                every live file's rows by segment (see pipelines.segments)
    OUT/state/spill/                        scratch of a running build's combine and analytics (see pipelines.spill)
    OUT/state/walk.arrow                    scratch: the files found, while the walk sets some aside (pipelines.discover)
    OUT/state/changes.arrow                 scratch: the files found and what changed (see pipelines.state)
    OUT/state/live.arrow                    scratch: the live files' parts (see pipelines.parts.LiveFiles)
    OUT/state/head-start-<pid>/             scratch: walk.arrow and changes.arrow of a head start (pipelines.head_start)
    OUT/leases/<id>.<reader>.lease          a reader's hold on snapshot <id> (see pipelines.store)
    OUT/leases/.lock                        taken briefly to take a lease or remove snapshots
    OUT/report/index.html                   `newsfm report`
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsfm.transforms.schema import LAYERS

LOCK, SNAPSHOTS, CURRENT, STATE, REPORT, LEASES = ".newsfm.lock", "snapshots", "current", "state", "report", "leases"
STAGING_PREFIX, REMOVED_PREFIX, HEAD_START_PREFIX = ".staging-", ".removed-", "head-start-"
MANIFEST, TABLE_FILE = "manifest.json", "part-00000.parquet"
KEPT = "_kept"  # what a snapshot keeps for the next build beside its tables
# what newsfm writes in an output folder: discovery skips these when OUT is inside the input
ENTRIES = frozenset({SNAPSHOTS, CURRENT, STATE, REPORT, LEASES, *LAYERS})


@dataclass(frozen=True)
class Layout:
    out: Path

    @property
    def lock(self) -> Path:
        return self.out / LOCK

    @property
    def snapshots(self) -> Path:
        return self.out / SNAPSHOTS

    def snapshot(self, snapshot_id: str) -> Path:
        return self.snapshots / snapshot_id

    def staging(self, snapshot_id: str) -> Path:
        return self.snapshots / f"{STAGING_PREFIX}{snapshot_id}"

    def removed(self, snapshot_id: str) -> Path:
        return self.snapshots / f"{REMOVED_PREFIX}{snapshot_id}"

    @property
    def leases(self) -> Path:
        return self.out / LEASES

    @property
    def leases_lock(self) -> Path:
        return self.leases / ".lock"

    @property
    def current(self) -> Path:
        return self.out / CURRENT

    def current_link_target(self, snapshot_id: str) -> Path:
        """What `current` points to: relative, so the folder can be moved."""
        return Path(SNAPSHOTS) / snapshot_id

    def layer(self, layer: str) -> Path:
        return self.out / layer

    @property
    def state(self) -> Path:
        return self.out / STATE

    @property
    def state_file(self) -> Path:
        return self.state / "files.arrow"

    @property
    def parts(self) -> Path:
        return self.state / "parts"

    def part(self, part_id: str) -> Path:
        return self.parts / part_id

    @property
    def segments(self) -> Path:
        return self.state / "segments"

    @property
    def spill(self) -> Path:
        return self.state / "spill"

    @property
    def walk_file(self) -> Path:
        return self.state / "walk.arrow"

    @property
    def live_file(self) -> Path:
        return self.state / "live.arrow"

    @property
    def changes_file(self) -> Path:
        return self.state / "changes.arrow"

    def head_start(self, pid: int) -> Path:
        return self.state / f"{HEAD_START_PREFIX}{pid}"

    @property
    def head_starts(self) -> list[Path]:
        """The scratch folders of head starts, finished or not."""
        return sorted(self.state.glob(f"{HEAD_START_PREFIX}*"))

    @property
    def report(self) -> Path:
        return self.out / REPORT / "index.html"


# A snapshot, its staging folder and OUT itself (through its layer links) share one shape.
def table_folder(root: Path, layer: str, name: str) -> Path:
    """`root/<layer>/<table>`: a table, a Parquet dataset folder of one file (TABLE_FILE) or, for
    the large warehouse tables, of one per segment (see pipelines.combine)."""
    return root / layer / name


def table_glob(root: Path, layer: str, name: str) -> Path:
    """The pattern that names every Parquet file of a table (for DuckDB's `read_parquet`, Polars)."""
    return table_folder(root, layer, name) / "*.parquet"


def manifest(root: Path) -> Path:
    return root / MANIFEST


def topic_sums(root: Path) -> Path:
    """The topic sums a snapshot's analytics were made with (see pipelines.sql.topics)."""
    return root / KEPT / "topic_sums.parquet"
