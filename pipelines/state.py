"""The state record: which input file was read into which part, so a build parses only what changed.

    OUT/state/files.arrow   one row per input file: source_path, size_bytes, mtime_ns,
                            content_sha256, part_id; the schema's metadata holds the record's
                            version, the parse settings and the snapshot it was published as

A file whose size and modification time match its row is unchanged and is not read. When they
differ, its content hash decides. The record is replaced by one rename after the snapshot it
describes is published, and parts are deleted only after that, so a run killed at any point
leaves a record whose parts all exist. A record that is missing, unreadable, of another
version or made with other parse settings is ignored: the build is then a full one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

import pyarrow as pa
import pyarrow.ipc as ipc

from pipelines.durable import durable_file, leftover_temporaries
from pipelines.layout import Layout
from pipelines.store import current_snapshot
from transforms.normalize import PART_SCHEMAS
from transforms.settings import Settings

STATE_VERSION = "2"  # bump when parsing changes what a file's rows are
STATE_SCHEMA = pa.schema([
    pa.field("source_path", pa.string(), nullable=False),
    pa.field("size_bytes", pa.int64()),
    pa.field("mtime_ns", pa.int64()),
    pa.field("content_sha256", pa.string()),
    pa.field("part_id", pa.string(), nullable=False),
])


class Entry(NamedTuple):
    size_bytes: int | None
    mtime_ns: int | None
    content_sha256: str | None
    part_id: str


@dataclass
class State:
    files: dict[str, Entry]
    snapshot: str | None = None
    analytics: dict = field(default_factory=dict)


@dataclass
class Changes:
    """What differs between the files found now and the state record."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: dict[str, Entry] = field(default_factory=dict)  # with their current size and time
    deleted: list[str] = field(default_factory=list)
    touched: int = 0  # unchanged files whose size or time moved (their hash did not)
    state: State | None = None  # the record compared against

    @property
    def to_parse(self) -> list[str]:
        return sorted(self.new + self.changed)

    @property
    def any(self) -> bool:
        return bool(self.new or self.changed or self.deleted)

    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "changed": len(self.changed), "unchanged": len(self.unchanged),
                "deleted": len(self.deleted)}


def settings_key(raw_dir: Path, settings: Settings) -> str:
    """What the rows of a file depend on besides its bytes: a change means a full build."""
    schemas = "|".join(f"{name}:{schema}" for name, schema in PART_SCHEMAS.items())
    return json.dumps({
        "version": STATE_VERSION, "raw_dir": str(raw_dir.resolve()), **settings.parsing,
        "parts": hashlib.sha256(schemas.encode()).hexdigest()[:16],
    }, sort_keys=True)


def nothing_to_do(changes: Changes, published: str | None, analytics: dict) -> bool:
    """True when the published snapshot is what a build would publish again: no file is new,
    changed or deleted since the state record, which describes that very snapshot, made with
    the same analytics settings."""
    state = changes.state
    return bool(state and not changes.any and published and published == state.snapshot and state.analytics == analytics)


def read_state(out_dir: Path, settings: str) -> tuple[State | None, str | None]:
    """The state record, or None and a one-line notice saying why the build must be full.

    A record whose write was interrupted before its rename left only a temporary file, which
    is removed: the record before it still stands.
    """
    path = Layout(out_dir).state_file
    for leftover in leftover_temporaries(path):
        leftover.unlink(missing_ok=True)
    if not path.exists():  # a first build needs no notice; one after a published snapshot does
        return None, "no state record: full build" if current_snapshot(out_dir) else None
    try:
        with ipc.open_file(path) as reader:
            table = reader.read_all()
        metadata = table.schema.metadata or {}
        if metadata.get(b"version") != STATE_VERSION.encode() or not table.schema.equals(STATE_SCHEMA):
            return None, f"the state record in {path.parent} is of another version: full build"
        if metadata.get(b"settings") != settings.encode():
            return None, "the input folder or --max-file-bytes changed since the last build: full build"
        columns = [table.column(name).to_pylist() for name in STATE_SCHEMA.names]
        files = dict(zip(columns[0], map(Entry, *columns[1:])))
        state = State(files, metadata.get(b"snapshot", b"").decode() or None, json.loads(metadata[b"analytics"]))
    except (OSError, pa.ArrowException, KeyError, ValueError, UnicodeDecodeError) as error:
        return None, f"the state record {path} is unreadable ({error}): full build"
    missing = {entry.part_id for entry in files.values()} - set(existing_parts(out_dir))
    if missing:
        return None, f"{len(missing)} parts named by the state record are missing: full build"
    return state, None


def existing_parts(out_dir: Path) -> list[str]:
    folder = Layout(out_dir).parts
    return [p.name for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []


def write_state(
    out_dir: Path, files: dict[str, Entry], settings: str, snapshot: str, analytics: dict, racy_after_ns: int
) -> None:
    """Replace the state record in one rename (durably: see pipelines.durable).

    A file modified after `racy_after_ns` (moments before discovery) may be written again within
    the same clock tick, keeping its size and time ("racy", as git calls it): its time is not
    recorded, so the next run compares its hash instead.
    """
    def trusted_mtime(mtime_ns: int | None) -> int | None:
        return mtime_ns if mtime_ns is not None and mtime_ns < racy_after_ns else None

    paths = sorted(files)
    columns = {
        "source_path": paths,
        "size_bytes": [files[p].size_bytes for p in paths],
        "mtime_ns": [trusted_mtime(files[p].mtime_ns) for p in paths],
        "content_sha256": [files[p].content_sha256 for p in paths],
        "part_id": [files[p].part_id for p in paths],
    }
    metadata = {"version": STATE_VERSION, "settings": settings, "snapshot": snapshot,
                "analytics": json.dumps(analytics, sort_keys=True)}
    table = pa.Table.from_pydict(columns, schema=STATE_SCHEMA.with_metadata(metadata))
    path = Layout(out_dir).state_file
    path.parent.mkdir(parents=True, exist_ok=True)
    with durable_file(path, written="state record written", placed="state record replaced") as handle, \
            ipc.new_file(handle, table.schema) as writer:
        writer.write_table(table)


def classify(
    found: Iterable[tuple[str, int | None, int | None]], state: State | None, content_hash: Callable[[str], str | None]
) -> Changes:
    """Compare the files found (path, size, mtime_ns) with the state record.

    Size and time equal: unchanged, without reading the file. Otherwise `content_hash(path)`
    decides; a file that cannot be stat-ed or hashed counts as changed, so parsing reports it.
    """
    known = state.files if state else {}
    changes = Changes(state=state)
    seen = set()
    for path, size, mtime_ns in found:
        seen.add(path)
        entry = known.get(path)
        if entry is None:
            changes.new.append(path)
        elif size is not None and (entry.size_bytes, entry.mtime_ns) == (size, mtime_ns) and (
            entry.content_sha256 is not None or content_hash(path) is None  # unreadable: unchanged while it still is
        ):
            changes.unchanged[path] = entry
        elif entry.content_sha256 is not None and content_hash(path) == entry.content_sha256:
            changes.unchanged[path] = Entry(size, mtime_ns, entry.content_sha256, entry.part_id)
            changes.touched += 1
        else:
            changes.changed.append(path)
    changes.deleted = sorted(set(known) - seen)
    return changes
