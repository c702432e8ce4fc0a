"""One input file (path + bytes) → `Extracted`: its ledger facts and its record or rejection.

What a file is comes from `transforms.site`: its path, and for Markdown and HTML documents
its front matter.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from newsfm.transforms.article import (
    Article,
    OrganizationEntry,
    SiteConfig,
    TopicEntry,
    to_article,
    to_organization,
    to_site_config,
    to_topic_entry,
)
from newsfm.transforms.frontmatter import Rejected, read_front_matter, read_yaml_mapping
from newsfm.transforms.seen_fields import key_paths
from newsfm.transforms.settings import DEFAULTS
from newsfm.transforms.site import (
    ARTICLE,
    HTML,
    MARKDOWN,
    ORGANIZATION,
    OTHER,
    SITE_CONFIG,
    TAXONOMY,
    file_kind,
    news_verdict,
    other_content,
)

DOCUMENT_SUFFIXES = tuple(MARKDOWN | HTML)
Record = Article | TopicEntry | OrganizationEntry | SiteConfig


@dataclass(frozen=True)
class Extracted:
    path: str
    kind: str
    content_sha256: str | None
    size_bytes: int | None
    record: Record | None = None
    reason: str | None = None
    message: str | None = None
    line: int | None = None
    column: int | None = None
    key_paths: list[str] | None = None  # of a document of its kind that was read (see transforms.seen_fields)


def extract(path: str, data: bytes, max_bytes: int = DEFAULTS.max_file_bytes) -> Extracted:
    """Never raises for bad content: every failure becomes a rejection with a reason."""
    kind = file_kind(path)
    facts = dict(path=path, kind=kind, content_sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    try:
        if kind == ARTICLE:
            front_matter = read_front_matter(data, max_bytes)
            verdict = news_verdict(path, front_matter)
            if verdict:
                return rejected(verdict, **{**facts, "kind": OTHER})
            facts["key_paths"] = key_paths(front_matter)
            record = to_article(front_matter)
        elif kind in CONVERTERS:
            document = read_document(path, data, max_bytes)
            facts["key_paths"] = key_paths(document)
            record = CONVERTERS[kind](document, path)
        else:
            raise other_verdict(path, data, max_bytes)
    except Rejected as rejection:
        return rejected(rejection, **facts)
    except RecursionError:
        return rejected(Rejected("yaml_error", "the YAML is nested too deeply to read"), **facts)
    return Extracted(record=record, **facts)


CONVERTERS = {  # the dimension entries and site configs: their document → their record
    TAXONOMY: lambda document, path: to_topic_entry(document),
    ORGANIZATION: to_organization,
    SITE_CONFIG: lambda document, path: to_site_config(document),
}


def read_document(path: str, data: bytes, max_bytes: int) -> dict:
    """A data entry's mapping: the front matter of a Markdown file, or a YAML file's document."""
    if path.lower().endswith(tuple(MARKDOWN)):
        return read_front_matter(data, max_bytes)
    return read_yaml_mapping(data, max_bytes)


def other_verdict(path: str, data: bytes, max_bytes: int) -> Rejected:
    """Why a file of kind `other` is not loaded: its front matter, when it has one that can be
    read, names what it is (a document of another collection that cannot be read is still not news)."""
    if not path.lower().endswith(DOCUMENT_SUFFIXES):
        return other_content(path, None)
    try:
        front_matter = read_front_matter(data, max_bytes)
    except Rejected:
        front_matter = None
    return other_content(path, front_matter)


def rejected(rejection: Rejected, **facts) -> Extracted:
    return Extracted(
        reason=rejection.reason, message=rejection.message, line=rejection.line, column=rejection.column, **facts
    )


def unreadable(path: str, message: str) -> Extracted:
    """A file that could not be read at all (permissions, vanished, not a regular file)."""
    return rejected(Rejected("unreadable", message), path=path, kind=file_kind(path), content_sha256=None, size_bytes=None)
