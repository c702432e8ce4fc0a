"""Extracted files → parts: everything a batch of files contributes, as Arrow tables.

The first of two steps, run per batch (in parallel): `normalize_batch` turns a batch of
`Extracted` into column lists (a `Batch`) with every row's `source_path`, and `Batch.parts`
types them by `PART_SCHEMAS`. Parts are what workers hand back and what the output folder
caches between runs; `transforms.combine` turns all parts into the warehouse tables.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Iterable

import pyarrow as pa

from newsfm.transforms.article import Article, Image, OrganizationEntry, Provider, RelatedItem, SiteConfig, TopicEntry
from newsfm.transforms.extract import Extracted
from newsfm.transforms.frontmatter import SKIPPED_REASONS
from newsfm.transforms.keys import article_id, canonical_url, related_owner_id, short_hash
from newsfm.transforms.schema import BOOL, INT, SMALL_INT, TABLES, TEXT, TEXT_LIST, UTC_TIME
from newsfm.transforms.site import site_base_url, site_root

LOADED, DUPLICATE, REJECTED, SKIPPED = "loaded", "duplicate", "rejected", "skipped"
IMAGE_COLUMNS = ("url", "width", "height", "is_cached", "title")
IMAGE = pa.struct([("url", TEXT), ("width", INT), ("height", INT), ("is_cached", BOOL), ("title", TEXT)])
SOURCE_PATH = pa.field("source_path", TEXT, nullable=False)


def with_source_path(name: str) -> pa.Schema:
    return pa.schema([SOURCE_PATH, *TABLES[name].schema])


PART_SCHEMAS = {
    "sources": TABLES["sources"].schema,  # status is `loaded`, `rejected` or `skipped`: duplicates are decided in combine
    "articles": TABLES["articles"].schema,
    "related": with_source_path("related"),
    # of articles and related items; absolute_url is added in combine, which knows every site
    "images": pa.schema([SOURCE_PATH, *(field for field in TABLES["images"].schema if field.name != "absolute_url")]),
    "topic_names": pa.schema([SOURCE_PATH, ("article_id", TEXT), ("position", SMALL_INT), ("topic_name", TEXT)]),
    # every provider mention, of articles and related items, with the article_id of the file's article
    "mentions": pa.schema(
        [SOURCE_PATH, ("article_id", TEXT), ("published_at", UTC_TIME), ("provider_domain", TEXT), ("provider_name", TEXT),
         ("images", pa.list_(IMAGE))]
    ),
    "taxonomy": pa.schema(
        [SOURCE_PATH, ("topic_id", TEXT), ("name", TEXT), ("parent_name", TEXT), ("keywords", TEXT_LIST)]
    ),
    # the provider dimension's entries
    "organizations": pa.schema(
        [SOURCE_PATH, ("provider_domain", TEXT), ("provider_name", TEXT), ("images", pa.list_(IMAGE))]
    ),
    # each site's folder (a path prefix, '' for the input folder) and its url + baseurl
    "sites": pa.schema([SOURCE_PATH, ("site_root", TEXT), ("base_url", TEXT)]),
    # every document of its kind that was read (loaded or not): its key paths (transforms.seen_fields)
    "field_paths": pa.schema([SOURCE_PATH, ("kind", TEXT), ("published_at", UTC_TIME),
                              ("paths", pa.list_(pa.dictionary(pa.int32(), TEXT)))]),
}


# The columns of `articles` and `related` that are the record's field of the same name, as it is
# (the others are keys, computed here): a new field of `Article` or `RelatedItem` lands in the
# column of its name without a change here.
AS_WRITTEN = {
    table: [field.name for field in fields(record) if field.name in TABLES[table].columns]
    for table, record in (("articles", Article), ("related", RelatedItem))
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


def image_structs(images: Iterable[Image]) -> list[dict]:
    return [{name: getattr(image, name) for name in IMAGE_COLUMNS} for image in images]


def add_mention(batch: Batch, path: str, key: str, published_at, provider: Provider) -> None:
    append(batch["mentions"], source_path=path, article_id=key, published_at=published_at, provider_domain=provider.domain,
           provider_name=provider.name, images=image_structs(provider.images))


def add_organization(batch: Batch, path: str, entry: OrganizationEntry) -> None:
    append(batch["organizations"], source_path=path, provider_domain=entry.domain, provider_name=entry.name,
           images=image_structs(entry.images))


def add_site(batch: Batch, path: str, config: SiteConfig) -> None:
    append(batch["sites"], source_path=path, site_root=site_root(path), base_url=site_base_url(config.url, config.baseurl))


def add_taxonomy(batch: Batch, path: str, entry: TopicEntry) -> None:
    append(batch["taxonomy"], source_path=path, topic_id=entry.topic_id, name=entry.name,
           parent_name=entry.parent_name, keywords=list(entry.keywords))


def add_article(batch: Batch, path: str, article: Article) -> str:
    canonical = canonical_url(article.key_url)
    key = short_hash(canonical)
    provider = article.provider
    append(batch["articles"], article_id=key, source_path=path, canonical_url=canonical,
           provider_domain=provider.domain if provider else None,
           **{name: getattr(article, name) for name in AS_WRITTEN["articles"]})
    if provider:
        add_mention(batch, path, key, article.published_at, provider)
    for position, name in enumerate(article.topics):
        append(batch["topic_names"], source_path=path, article_id=key, position=position, topic_name=name)
    add_images(batch, path, "article", key, article.images)
    for position, item in enumerate(article.related):
        append(batch["related"], source_path=path, article_id=key, position=position,
               related_article_id=article_id(item.key_url), provider_domain=item.provider.domain if item.provider else None,
               **{name: getattr(item, name) for name in AS_WRITTEN["related"]})
        if item.provider:
            add_mention(batch, path, key, item.published_at, item.provider)
        add_images(batch, path, "related", related_owner_id(key, position), item.images)
    return key


def status_of(reason: str | None) -> str:
    return LOADED if reason is None else SKIPPED if reason in SKIPPED_REASONS else REJECTED


def normalize_batch(files: Iterable[Extracted]) -> Batch:
    batch = Batch()
    for file in files:
        key = None
        if isinstance(file.record, Article):
            key = add_article(batch, file.path, file.record)
        elif isinstance(file.record, TopicEntry):
            add_taxonomy(batch, file.path, file.record)
        elif isinstance(file.record, OrganizationEntry):
            add_organization(batch, file.path, file.record)
        elif isinstance(file.record, SiteConfig):
            add_site(batch, file.path, file.record)
        if file.key_paths is not None:
            append(batch["field_paths"], source_path=file.path, kind=file.kind, paths=file.key_paths,
                   published_at=file.record.published_at if isinstance(file.record, Article) else None)
        append(
            batch["sources"],
            source_path=file.path,
            kind=file.kind,
            content_sha256=file.content_sha256,
            size_bytes=file.size_bytes,
            status=status_of(file.reason),
            article_id=key,
            reason=file.reason,
            message=file.message,
            line=file.line,
            column=file.column,
        )
    return batch


