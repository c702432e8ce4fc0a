"""Parts → the warehouse tables, a segment at a time, combining again only what a change touches.

Every live file's rows are kept by segment (`pipelines.segments`): a range of article ids, so
the files that give one article (and so its winner and duplicates) are in one segment, which
`transforms.combine.combine_segment` combines on its own into a file of each large warehouse
table and a few small partials. What crosses segments is small: the taxonomy, sites and
site folders (which every segment's combine is given) and the partials, from which the whole
tables (topics, providers, fields, the providers' images) are made each build.

- A full build scatters every live part's rows into a new store, then combines every segment.
- An incremental build (the published snapshot's store at hand, `reusable`) drops the rows of
  the files changed or deleted from the segments that held them, adds the rows parsed this run
  to theirs, and combines only those segments; the others' store files and warehouse files
  are hard links to the last build's. A change of the taxonomy, of a site's `_config.yml` or of
  the sites' folders reaches every segment: all are combined again.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from newsfm.pipelines.layout import Layout, table_folder
from newsfm.pipelines.parts import LiveFiles, read_part_table
from newsfm.pipelines.segments import DIMENSIONS, PART_DIMENSIONS, PARTIALS, SegmentStore, dimension_schema
from newsfm.pipelines.spill import (
    Ranges,
    fresh_folder,
    hex_bounds,
    open_files_allowed,
    open_files_needed,
    range_count,
    ranges_allowed,
)
from newsfm.pipelines.store import OutputError, SnapshotWriter, current_snapshot, read_manifest
from newsfm.transforms.combine import (
    CANDIDATES,
    SEGMENT_TABLES,
    combine_segment,
    combine_whole,
    segment_keys,
    site_configs,
)
from newsfm.transforms.normalize import PART_SCHEMAS
from newsfm.transforms.seen_fields import not_read
from newsfm.transforms.site import site_root
from newsfm.transforms.summary import file_figures

NOT_READ_SHOWN = 5  # fields not read that the run summary names
PROVIDER_IMAGES = "part-providers.parquet"  # the file of `images` that holds the providers' images
EVERY_SEGMENT = ("taxonomy", "sites", "configs")  # dimensions whose change reaches every segment


def segment_file(segment: int) -> str:
    return f"part-{segment:05d}.parquet"


@dataclass
class Build:
    """What a build's combine is given: the live files, what changed, the parts of this run."""

    live: LiveFiles
    gone: pa.Table  # the files changed or deleted since the state record, with the part it names for each
    part_ids: list[str]  # the parts of this run's batches
    recorded_snapshot: str | None  # the snapshot the state record describes, when made by this combining code
    segments: int  # the segment count asked for (0: by size)


def combine_into(out: Path, snapshot: SnapshotWriter, build: Build) -> tuple[dict[str, int], dict]:
    """Write every warehouse table into `snapshot` (and the store of its segments), in a process
    of its own; returns the rows written and the file figures (with the fields most often not read)."""
    previous = reusable(out, build)
    if previous:
        store = SegmentStore.create(out, snapshot.id, previous.count)
        whole = combine_changed(out, snapshot, store, previous, build)
        fresh_folder(Layout(out).spill).rmdir()
    else:
        whole = combine_full(out, snapshot, build.live, build.segments)
    unread = not_read(whole["fields"].to_pylist(), NOT_READ_SHOWN)
    figures = file_figures(whole["ledger"].to_pandas())
    return snapshot.rows, {**figures, "not_read": [[row["kind"], row["key_path"], row["files"]] for row in unread]}


def reusable(out: Path, build: Build) -> SegmentStore | None:
    """The store of the published snapshot, when this build may start from it: the state record
    describes that snapshot, its combining code is this one and the segment count is the one asked."""
    published = current_snapshot(out)
    if not (published and published.name == build.recorded_snapshot):
        return None
    store = SegmentStore.open(out, read_manifest(out).get("segments"))
    fits = store and ranges_allowed(store.count, len(CANDIDATES)) == store.count  # else made anew, with fewer
    return store if fits and build.segments in (0, store.count) else None


def segment_count(out: Path, live: LiveFiles, segments: int) -> int:
    """The segments of a new store: `segments`, or (0) about RANGE_BYTES of parts each (a power of
    two), as many as this process may hold a file of each candidate table open for (`ranges_allowed`)."""
    if segments:
        check_segments(segments)
        return segments
    layout = Layout(out)
    size = sum(file.stat().st_size for part_id in live.per_part for file in layout.part(part_id).iterdir())
    return ranges_allowed(range_count(size), len(CANDIDATES))


def check_segments(segments: int) -> None:
    """OutputError unless this process may hold a file of every candidate table open for each of
    `segments` segments (its soft limit raised as far as the hard one allows; the processes it
    starts inherit that). 0, newsfm's choice, always fits: it chooses fewer."""
    if segments and ranges_allowed(segments, len(CANDIDATES)) < segments:
        raise OutputError(
            f"--segments {segments} needs about {open_files_needed(segments, len(CANDIDATES)):,} open files and "
            f"this system allows {open_files_allowed(0):,} (ulimit -n): ask for fewer, or 0 to let newsfm choose")


def combine_full(out: Path, snapshot: SnapshotWriter, live: LiveFiles, segments: int = 0) -> dict[str, pa.Table]:
    """A full build: every live file's rows scattered into a new store of `segments` segments
    (see `segment_count`), every segment combined. Returns `combine_whole`'s tables."""
    store = SegmentStore.create(out, snapshot.id, segment_count(out, live, segments))
    ranges = {name: store.ranges(name) for name in CANDIDATES}
    dimensions = {name: [dimension_schema(name).empty_table()] for name in DIMENSIONS}
    for part_id, paths in live.by_part(fresh_folder(Layout(out).spill) / "live", store.count):
        candidates, part_dimensions = part_rows(out, part_id, paths)
        for name, (table, keys) in candidates.items():
            ranges[name].add(table, keys)
        for name, table in part_dimensions.items():
            dimensions[name].append(table)
    for scattered in ranges.values():
        scattered.close()
    dimensions = {name: pa.concat_tables(tables) for name, tables in dimensions.items()}
    whole = combine_segments(out, snapshot, store, None, range(store.count), dimensions)
    fresh_folder(Layout(out).spill).rmdir()
    return whole


def part_rows(out: Path, part_id: str, paths: pa.Array | None
              ) -> tuple[dict[str, tuple[pa.Table, pa.Array]], dict[str, pa.Table]]:
    """A part's rows of the files `paths` (every file: None): each candidate table with the
    segment key of each row (its file's), and each dimension table (with `configs`)."""
    sources = read_part_table(out, part_id, "sources")
    every_file = paths is None or len(paths) == sources.num_rows  # a row per file
    if not every_file:
        sources = sources.filter(pc.is_in(sources.column("source_path"), value_set=paths))
    file_keys, file_paths = segment_keys(sources), sources.column("source_path").combine_chunks()

    def read(name: str) -> pa.Table:
        if name == "sources":
            return sources
        table = read_part_table(out, part_id, name)
        return table if every_file else table.filter(pc.is_in(table.column("source_path"), value_set=paths))

    candidates = {name: (table, file_keys.take(pc.index_in(table.column("source_path"), value_set=file_paths)))
                  for name, table in ((name, read(name)) for name in CANDIDATES)}
    dimensions = {name: read(name) for name in PART_DIMENSIONS}
    return candidates, {**dimensions, "configs": site_configs(sources)}


def combine_changed(out: Path, snapshot: SnapshotWriter, store: SegmentStore, previous: SegmentStore,
                    build: Build) -> dict[str, pa.Table]:
    """An incremental build: the segments holding rows of files changed, deleted or parsed this
    run are made again from `previous`'s rows and this run's parts; the others are linked."""
    gone = build.gone.column("source_path").combine_chunks()
    touched = set(previous.segments_of(old_keys(out, build.gone)).tolist())
    scratch = fresh_folder(Layout(out).spill)
    added = {name: Ranges(scratch / name, PART_SCHEMAS[name], None, hex_bounds(store.count)) for name in CANDIDATES}
    last = {name: previous.read_dimension(name) for name in DIMENSIONS}
    dimensions = {name: [without(last[name], gone)] for name in DIMENSIONS}
    for part_id in build.part_ids:
        candidates, part_dimensions = part_rows(out, part_id, None)
        for name, (table, keys) in candidates.items():
            added[name].add(table, keys)
        touched |= set(store.segments_of(candidates["sources"][1]).tolist())  # a sources row per file
        for name, table in part_dimensions.items():
            dimensions[name].append(table)
    dimensions = {name: pa.concat_tables(tables) for name, tables in dimensions.items()}
    for scattered in added.values():
        scattered.close()
    if any(not same_rows(dimensions[name], last[name]) for name in EVERY_SEGMENT):
        touched = set(range(store.count))
    candidates = (merged_candidates(previous, added, gone, segment, segment in touched)
                  for segment in range(store.count))
    return combine_segments(out, snapshot, store, previous, touched, dimensions, candidates)


def old_keys(out: Path, gone: pa.Table) -> pa.Array:
    """The segment keys the files `gone` (changed or deleted) had: from their rows in the parts
    the state record names for them."""
    keys = [pa.array([], pa.string())]
    for part_id in pc.unique(gone.column("part_id")).to_pylist():
        paths = gone.filter(pc.equal(gone.column("part_id"), part_id)).column("source_path").combine_chunks()
        sources = read_part_table(out, part_id, "sources", ["source_path", "article_id"])
        keys.append(segment_keys(sources.filter(pc.is_in(sources.column("source_path"), value_set=paths))))
    return pa.concat_arrays(keys)


def without(table: pa.Table, paths: pa.Array) -> pa.Table:
    """`table`'s rows of files not in `paths`."""
    if not len(paths) or not table.num_rows:
        return table
    return table.filter(pc.invert(pc.is_in(table.column("source_path"), value_set=paths)))


def same_rows(a: pa.Table, b: pa.Table) -> bool:
    """Whether two tables hold the same rows, whatever the order of their files (a file's rows
    keep their order: both come from parts)."""
    if a.num_rows != b.num_rows:
        return False
    order = [("source_path", "ascending")]
    return a.sort_by(order).equals(b.sort_by(order)) if a.num_rows else True


def merged_candidates(previous: SegmentStore, added: dict[str, Ranges], gone: pa.Array, segment: int,
                      touched: bool) -> dict[str, pa.Table] | None:
    """A touched segment's rows: the previous store's, without the files `gone`, and this run's."""
    if not touched:
        return None
    return {name: pa.concat_tables([without(previous.read(name, segment), gone), added[name].read(segment)])
            for name in CANDIDATES}


def combine_segments(out: Path, snapshot: SnapshotWriter, store: SegmentStore, previous: SegmentStore | None,
                     touched: Iterable[int], dimensions: dict[str, pa.Table],
                     candidates: Iterator[dict[str, pa.Table] | None] | None = None) -> dict[str, pa.Table]:
    """Combine the `touched` segments (their rows: `candidates`, else the store's) into the
    snapshot and the store; link the others from `previous` and the published snapshot; then
    write the whole tables. Returns `combine_whole`'s tables."""
    touched = set(touched)
    roots = {site_root(path) for path in dimensions["configs"].column("source_path").to_pylist()}
    published = current_snapshot(out)
    rows = {name: [0] * store.count for name in SEGMENT_TABLES}
    partials = {name: [] for name in PARTIALS}
    writes = Writes()
    for segment in range(store.count):
        given = next(candidates) if candidates is not None else None
        if segment in touched:
            if given is None:
                given = {name: store.read(name, segment) for name in CANDIDATES}
            tables, made = combine_segment(given, dimensions["taxonomy"], dimensions["sites"], roots)
            writes.next_segment()
            for name, table in (given.items() if candidates is not None else ()):
                writes.submit(store.write, name, segment, table)
            for name, table in tables.items():
                writes.submit(snapshot.write_piece, "warehouse", name, segment_file(segment), table)
                rows[name][segment] = table.num_rows
            for name, table in made.items():
                writes.submit(store.write, f"partials/{name}", segment, table)
                partials[name].append(table)
        else:
            store.link(previous, segment)
            for name in SEGMENT_TABLES:
                rows[name][segment] = previous.rows[name][segment]
                snapshot.link_piece("warehouse", name, table_folder(published, "warehouse", name) / segment_file(segment),
                                    rows[name][segment])
            for name in PARTIALS:
                partials[name].append(previous.read(f"partials/{name}", segment))
    writes.close()
    for name, table in dimensions.items():
        store.write_dimension(name, table)
    whole = combine_whole(partials, dimensions["taxonomy"], dimensions["organizations"], dimensions["sites"])
    for name in ("topics", "providers", "fields"):
        snapshot.write_arrow("warehouse", name, whole[name])
    snapshot.write_piece("warehouse", "images", PROVIDER_IMAGES, whole["provider_images"])
    store.complete(rows)
    return whole


class Writes:
    """Files written on threads of their own (Arrow lets go of the GIL while it encodes,
    compresses and writes) while the next segment is combined; at most one segment's files
    wait, so memory holds two segments at most. Two threads: writing a segment took twice as
    long as combining it, so one thread left a core idle."""

    def __init__(self) -> None:
        self.thread = ThreadPoolExecutor(max_workers=2, thread_name_prefix="segment-writes")
        self.waiting: list[Future] = []

    def submit(self, write: Callable[..., None], *args) -> None:
        self.waiting.append(self.thread.submit(write, *args))

    def next_segment(self) -> None:
        """Wait for the last segment's files (raising what writing them raised)."""
        waiting, self.waiting = self.waiting, []
        for future in waiting:
            future.result()
        pa.default_memory_pool().release_unused()

    def close(self) -> None:
        try:
            self.next_segment()
        finally:
            self.thread.shutdown()
