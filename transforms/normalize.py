"""Extracted files → parts: everything a batch of files contributes, as Arrow tables.

The first of two steps, run per batch (in parallel): `normalize_batch` turns a batch of
`Extracted` into column lists (a `Batch`) with every row's `source_path`, and `Batch.parts`
types them by `PART_SCHEMAS`. Parts are what workers hand back and what the output folder
caches between runs; `transforms.combine` turns all parts into the warehouse tables.
"""

from __future__ import annotations

from typing import Iterable

import pyarrow as pa

from transforms.article import Article, Image, Provider, TopicEntry
from transforms.extract import Extracted
from transforms.keys import article_id, canonical_url, short_hash
from transforms.schema import BOOL, INT, SMALL_INT, TABLES, TEXT, TEXT_LIST, UTC_TIME

LOADED, DUPLICATE, REJECTED = "loaded", "duplicate", "rejected"
IMAGE_COLUMNS = ("url", "width", "height", "is_cached", "title")
IMAGE = pa.struct([("url", TEXT), ("width", INT), ("height", INT), ("is_cached", BOOL), ("title", TEXT)])
SOURCE_PATH = pa.field("source_path", TEXT, nullable=False)


def with_source_path(name: str) -> pa.Schema:
    return pa.schema([SOURCE_PATH, *TABLES[name].schema])


PART_SCHEMAS = {
    "sources": TABLES["sources"].schema,  # status is `loaded` or `rejected`: duplicates are decided in combine
    "articles": TABLES["articles"].schema,
    "related": with_source_path("related"),
    "images": with_source_path("images"),  # of articles and related items
    "topic_names": pa.schema([SOURCE_PATH, ("article_id", TEXT), ("position", SMALL_INT), ("topic_name", TEXT)]),
    # every provider mention, of articles and related items
    "mentions": pa.schema(
        [SOURCE_PATH, ("published_at", UTC_TIME), ("provider_domain", TEXT), ("provider_name", TEXT),
         ("images", pa.list_(IMAGE))]
    ),
    "taxonomy": pa.schema(
        [SOURCE_PATH, ("topic_id", TEXT), ("name", TEXT), ("parent_name", TEXT), ("keywords", TEXT_LIST)]
    ),
}


def columns(*names: str) -> dict[str, list]:
    return {name: [] for name in names}


class Batch(dict):
    """Column lists per part table (name → column → values) for one batch of files."""

    def __init__(self) -> None:
        super().__init__({name: columns(*schema.names) for name, schema in PART_SCHEMAS.items()})

    def parts(self) -> dict[str, pa.Table]:
        """The batch as Arrow tables, typed by PART_SCHEMAS."""
        return {name: pa.Table.from_pydict(self[name], schema=schema) for name, schema in PART_SCHEMAS.items()}


def append(table: dict[str, list], **row) -> None:
    for column, values in table.items():
        values.append(row[column])


def add_images(batch: Batch, path: str, owner_type: str, owner_id: str, images: Iterable[Image]) -> None:
    for position, image in enumerate(images):
        append(
            batch["images"],
            source_path=path,
            owner_type=owner_type,
            owner_id=owner_id,
            position=position,
            **{name: getattr(image, name) for name in IMAGE_COLUMNS},
        )


def add_mention(batch: Batch, path: str, published_at, provider: Provider) -> None:
    images = [{name: getattr(image, name) for name in IMAGE_COLUMNS} for image in provider.images]
    append(batch["mentions"], source_path=path, published_at=published_at, provider_domain=provider.domain,
           provider_name=provider.name, images=images)


def add_taxonomy(batch: Batch, path: str, entry: TopicEntry) -> None:
    append(batch["taxonomy"], source_path=path, topic_id=entry.topic_id, name=entry.name,
           parent_name=entry.parent_name, keywords=list(entry.keywords))


def add_article(batch: Batch, path: str, article: Article) -> str:
    canonical = canonical_url(article.web_url)
    key = short_hash(canonical)
    provider = article.provider
    append(
        batch["articles"],
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
        add_mention(batch, path, article.published_at, provider)
    for position, name in enumerate(article.topics):
        append(batch["topic_names"], source_path=path, article_id=key, position=position, topic_name=name)
    add_images(batch, path, "article", key, article.images)
    for position, item in enumerate(article.related):
        append(
            batch["related"],
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
            add_mention(batch, path, item.published_at, item.provider)
        add_images(batch, path, "related", f"{key}:{position}", item.images)
    return key


def normalize_batch(files: Iterable[Extracted]) -> Batch:
    batch = Batch()
    for file in files:
        key = None
        if isinstance(file.record, Article):
            key = add_article(batch, file.path, file.record)
        elif isinstance(file.record, TopicEntry):
            add_taxonomy(batch, file.path, file.record)
        append(
            batch["sources"],
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


