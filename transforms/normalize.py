"""Extracted files → the relational warehouse tables.

Two steps, so that the first can run per batch (in parallel) and the second once:
`normalize_batch` turns a batch of `Extracted` into column lists (a `Batch`), keeping every
row's `source_path`; `combine` merges batches, picks one winner per canonical URL, keeps only
the winners' rows, resolves providers and topics, and returns typed frames sorted by key.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable

import pandas as pd

from transforms.article import Article, Image, Provider, TopicEntry
from transforms.extract import Extracted
from transforms.keys import article_id, canonical_url, short_hash, topic_slug
from transforms.schema import TABLES, frame

LOADED, DUPLICATE, REJECTED = "loaded", "duplicate", "rejected"
IMAGE_COLUMNS = ("url", "width", "height", "is_cached", "title")


def columns(*names: str) -> dict[str, list]:
    return {name: [] for name in names}


@dataclass
class Batch:
    """Column lists for one batch of files; `source_path` on every row says which file made it."""

    sources: dict[str, list] = field(default_factory=lambda: columns(*TABLES["sources"].columns))
    articles: dict[str, list] = field(default_factory=lambda: columns(*TABLES["articles"].columns))
    related: dict[str, list] = field(default_factory=lambda: columns("source_path", *TABLES["related"].columns))
    images: dict[str, list] = field(default_factory=lambda: columns("source_path", *TABLES["images"].columns))
    topic_names: dict[str, list] = field(
        default_factory=lambda: columns("source_path", "article_id", "position", "topic_name")
    )
    # (source_path, published_at, Provider): every provider mention, of articles and related items
    providers: list[tuple] = field(default_factory=list)
    taxonomy: list[tuple[str, TopicEntry]] = field(default_factory=list)

    def extend(self, other: "Batch") -> None:
        for name in ("sources", "articles", "related", "images", "topic_names"):
            mine, theirs = getattr(self, name), getattr(other, name)
            for column in mine:
                mine[column].extend(theirs[column])
        self.providers.extend(other.providers)
        self.taxonomy.extend(other.taxonomy)


def append(table: dict[str, list], **row) -> None:
    for column, values in table.items():
        values.append(row[column])


def add_images(batch: Batch, path: str, owner_type: str, owner_id: str, images: Iterable[Image]) -> None:
    for position, image in enumerate(images):
        append(
            batch.images,
            source_path=path,
            owner_type=owner_type,
            owner_id=owner_id,
            position=position,
            **{name: getattr(image, name) for name in IMAGE_COLUMNS},
        )


def add_article(batch: Batch, path: str, article: Article) -> str:
    canonical = canonical_url(article.web_url)
    key = short_hash(canonical)
    provider = article.provider
    append(
        batch.articles,
        article_id=key,
        source_path=path,
        title=article.title,
        excerpt=article.excerpt,
        category=article.category,
        type=article.type,
        published_at=article.published_at,
        web_url=article.web_url,
        canonical_url=canonical,
        amp_web_url=article.amp_web_url,
        cdn_amp_web_url=article.cdn_amp_web_url,
        original_url=article.original_url,
        quality=article.quality,
        heat=article.heat,
        published=article.published,
        provider_domain=provider.domain if provider else None,
    )
    if provider:
        batch.providers.append((path, article.published_at, provider))
    for position, name in enumerate(article.topics):
        append(batch.topic_names, source_path=path, article_id=key, position=position, topic_name=name)
    add_images(batch, path, "article", key, article.images)
    for position, item in enumerate(article.related):
        append(
            batch.related,
            source_path=path,
            article_id=key,
            position=position,
            related_article_id=article_id(item.web_url),
            title=item.title,
            excerpt=item.excerpt,
            published_at=item.published_at,
            web_url=item.web_url,
            amp_web_url=item.amp_web_url,
            cdn_amp_web_url=item.cdn_amp_web_url,
            type=item.type,
            provider_domain=item.provider.domain if item.provider else None,
            quality=item.quality,
        )
        if item.provider:
            batch.providers.append((path, item.published_at, item.provider))
        add_images(batch, path, "related", f"{key}:{position}", item.images)
    return key


def normalize_batch(files: Iterable[Extracted]) -> Batch:
    batch = Batch()
    for file in files:
        key = None
        if isinstance(file.record, Article):
            key = add_article(batch, file.path, file.record)
        elif isinstance(file.record, TopicEntry):
            batch.taxonomy.append((file.path, file.record))
        append(
            batch.sources,
            source_path=file.path,
            kind=file.kind,
            content_sha256=file.content_sha256,
            size_bytes=file.size_bytes,
            status=REJECTED if file.reason else LOADED,
            article_id=key,
            reason=file.reason,
            message=file.message,
            line=file.line,
            column=file.column,
        )
    return batch


def pick_winners(articles: dict[str, list]) -> dict[str, str]:
    """article_id → winning source_path: the later `published_at`, then the later path."""
    best: dict[str, tuple] = {}
    for key, published_at, path in zip(articles["article_id"], articles["published_at"], articles["source_path"]):
        if key not in best or (published_at, path) > best[key]:
            best[key] = (published_at, path)
    return {key: path for key, (_, path) in best.items()}


def take(table: dict[str, list], keep: Iterable[int], names: Iterable[str]) -> dict[str, list]:
    keep = list(keep)
    return {name: [table[name][i] for i in keep] for name in names}


def sorted_frame(name: str, table: dict[str, list], keep: Iterable[int] | None = None) -> pd.DataFrame:
    """The rows `keep` (default all) of column lists → frame `name`, sorted by the table's key."""
    spec = TABLES[name]
    keep = range(len(table[spec.columns[0]])) if keep is None else keep
    order = sorted(keep, key=lambda i: tuple(table[k][i] for k in spec.order))
    return frame(name, take(table, order, spec.columns))


def most_frequent(values: Iterable[str]) -> str | None:
    """The most frequent value; ties go to the alphabetically first, so the choice is stable."""
    counts = Counter(v for v in values if v is not None)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


def build_providers(mentions: list[tuple], winning_paths: set[str]) -> tuple[dict[str, list], dict[str, list]]:
    """Provider rows and provider image rows from the winners' provider mentions."""
    names: dict[str, list] = defaultdict(list)
    logos: dict[str, tuple] = {}
    for path, published_at, provider in mentions:
        if path not in winning_paths:
            continue
        names[provider.domain].append(provider.name)
        if provider.images:
            stamp = (published_at is not None, published_at, path)
            if provider.domain not in logos or stamp > logos[provider.domain][0]:
                logos[provider.domain] = (stamp, provider)
    providers = columns(*TABLES["providers"].columns)
    images = columns(*TABLES["images"].columns)
    for domain in sorted(names):
        logo: Provider | None = logos.get(domain, (None, None))[1]
        append(providers, provider_domain=domain, provider_name=most_frequent(names[domain]),
               logo_url=logo.images[0].url if logo else None)
        for position, image in enumerate(logo.images if logo else ()):
            append(images, owner_type="provider", owner_id=domain, position=position,
                   **{name: getattr(image, name) for name in IMAGE_COLUMNS})
    return providers, images


def build_topics(taxonomy: list[tuple[str, TopicEntry]], topic_names: dict[str, list]) -> tuple[dict[str, list], list[str]]:
    """Topic rows (taxonomy first, then observed) and the topic_id of each topic_names row.

    Taxonomy files are read in path order: where several define one `_id`, the first gives
    the name and parent and the keywords are united (case-insensitively, first spelling kept).
    Names match case-insensitively.
    """
    by_id: dict[str, dict] = {}
    id_by_name: dict[str, str] = {}
    for _path, entry in sorted(taxonomy, key=lambda pair: pair[0]):
        topic_id = entry.topic_id or topic_slug(entry.name)
        if topic_id not in by_id:
            by_id[topic_id] = {"name": entry.name, "parent": entry.parent_name, "keywords": {}}
        for keyword in entry.keywords:  # one spelling per keyword, the first met
            by_id[topic_id]["keywords"].setdefault(keyword.casefold(), keyword)
        id_by_name.setdefault(entry.name.casefold(), topic_id)

    def resolve(name: str) -> str:
        return id_by_name.get(name.casefold()) or topic_slug(name)

    observed: dict[str, list[str]] = defaultdict(list)
    for topic in by_id.values():
        parent = topic["parent"]
        topic["parent_id"] = (parent if parent in by_id else resolve(parent)) if parent else None
        if topic["parent_id"] and topic["parent_id"] not in by_id:
            observed[topic["parent_id"]].append(parent)
    topic_ids = [resolve(name) for name in topic_names["topic_name"]]
    for topic_id, name in zip(topic_ids, topic_names["topic_name"]):
        if topic_id not in by_id:
            observed[topic_id].append(name)

    topics = columns(*TABLES["topics"].columns)
    for topic_id in sorted(set(by_id) | set(observed)):
        if topic_id in by_id:
            topic = by_id[topic_id]
            append(topics, topic_id=topic_id, topic_name=topic["name"], parent_topic_id=topic["parent_id"],
                   keywords=list(topic["keywords"].values()), origin="taxonomy")
        else:
            append(topics, topic_id=topic_id, topic_name=most_frequent(observed[topic_id]), parent_topic_id=None,
                   keywords=[], origin="observed")
    return topics, topic_ids


def mark_duplicates(sources: dict[str, list], winners: dict[str, str]) -> None:
    for i, (key, path) in enumerate(zip(sources["article_id"], sources["source_path"])):
        if key is not None and winners[key] != path:
            sources["status"][i] = DUPLICATE
            sources["message"][i] = (
                f"same canonical URL as {winners[key]}, which is kept (later publishedDateTime, then later path)"
            )


def combine(batches: Iterable[Batch]) -> dict[str, pd.DataFrame]:
    """All batches → the warehouse frames, keyed by table name, each sorted by its key."""
    merged = Batch()
    for batch in batches:
        merged.extend(batch)
    winners = pick_winners(merged.articles)
    winning_paths = set(winners.values())
    mark_duplicates(merged.sources, winners)

    def winning(table: dict[str, list]) -> list[int]:
        return [i for i, path in enumerate(table["source_path"]) if path in winning_paths]

    topic_names = take(merged.topic_names, winning(merged.topic_names), ("article_id", "position", "topic_name"))
    topics, topic_ids = build_topics(merged.taxonomy, topic_names)
    article_topics = dict(topic_names, topic_id=topic_ids)
    first_position: dict[tuple[str, str], int] = {}
    for i, key in enumerate(zip(article_topics["article_id"], topic_ids)):
        first_position.setdefault(key, i)

    providers, provider_images = build_providers(merged.providers, winning_paths)
    images = take(merged.images, winning(merged.images), TABLES["images"].columns)
    for column, values in provider_images.items():
        images[column].extend(values)
    return {
        "sources": sorted_frame("sources", merged.sources),
        "articles": sorted_frame("articles", merged.articles, winning(merged.articles)),
        "providers": sorted_frame("providers", providers),
        "topics": sorted_frame("topics", topics),
        "article_topics": sorted_frame("article_topics", article_topics, first_position.values()),
        "related": sorted_frame("related", merged.related, winning(merged.related)),
        "images": sorted_frame("images", images),
    }
