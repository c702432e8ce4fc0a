"""One input file (path + bytes) → `Extracted`: its ledger facts and its record or rejection."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from transforms.article import Article, TopicEntry, to_article, to_topic_entry
from transforms.frontmatter import DEFAULT_MAX_BYTES, Rejected, read_front_matter, read_yaml_mapping

ARTICLE, TAXONOMY, OTHER = "article", "taxonomy", "other"


@dataclass(frozen=True)
class Extracted:
    path: str
    kind: str
    content_sha256: str | None
    size_bytes: int | None
    record: Article | TopicEntry | None = None
    reason: str | None = None
    message: str | None = None
    line: int | None = None
    column: int | None = None


def file_kind(path: str) -> str:
    """`*.md` is a news item; `_data/topics/*.yaml` (or `.yml`) a taxonomy topic; the rest other."""
    parts = PurePosixPath(path)
    if parts.suffix.lower() == ".md":
        return ARTICLE
    if parts.suffix.lower() in (".yaml", ".yml") and parts.parent.parts[-2:] == ("_data", "topics"):
        return TAXONOMY
    return OTHER


def extract(path: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Extracted:
    """Never raises for bad content: every failure becomes a rejection with a reason."""
    kind = file_kind(path)
    facts = dict(path=path, kind=kind, content_sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    try:
        if kind == ARTICLE:
            record = to_article(read_front_matter(data, max_bytes))
        elif kind == TAXONOMY:
            record = to_topic_entry(read_yaml_mapping(data, max_bytes))
        else:
            raise Rejected(
                "unsupported_file",
                "not a news item (*.md) nor a topic (_data/topics/*.yaml); it was read but not loaded",
            )
    except Rejected as rejection:
        return rejected(rejection, **facts)
    except RecursionError:
        return rejected(Rejected("yaml_error", "the YAML is nested too deeply to read"), **facts)
    return Extracted(record=record, **facts)


def rejected(rejection: Rejected, **facts) -> Extracted:
    return Extracted(
        reason=rejection.reason, message=rejection.message, line=rejection.line, column=rejection.column, **facts
    )


def unreadable(path: str, message: str) -> Extracted:
    """A file that could not be read at all (permissions, vanished, not a regular file)."""
    return rejected(Rejected("unreadable", message), path=path, kind=file_kind(path), content_sha256=None, size_bytes=None)
