"""Every table's Arrow schema, key and column descriptions: the contract, in one place.

`docs/tables.md` is rendered from here (`newsfm docs`), frames are built to these schemas
(`frame`), and writers check them (`conform`): a mismatch raises `SchemaMismatch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import pandas as pd
import pyarrow as pa

UTC_TIME = pa.timestamp("us", tz="UTC")
TEXT = pa.string()
INT = pa.int64()
SMALL_INT = pa.int32()
BOOL = pa.bool_()
TEXT_LIST = pa.list_(pa.string())


class SchemaMismatch(ValueError):
    """A frame does not have exactly the columns, types or nullability of its table."""


@dataclass(frozen=True)
class Table:
    name: str
    layer: str
    description: str
    key: tuple[str, ...]
    order: tuple[str, ...]
    schema: pa.Schema

    @property
    def columns(self) -> list[str]:
        return self.schema.names


def col(name: str, type_: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"description": description})


def table(
    name: str, layer: str, description: str, key: Iterable[str], *fields: pa.Field, order: Iterable[str] = ()
) -> Table:
    """A table whose rows are unique by `key` and sorted by `order` (default: the key)."""
    schema = pa.schema(fields, metadata={"table": name, "description": description})
    key, order = tuple(key), tuple(order) or tuple(key)
    assert set(key) <= set(schema.names) and set(order) <= set(schema.names), (name, key, order)
    return Table(name, layer, description, key, order, schema)


ARTICLE_ID = "First 16 hex digits of the SHA-256 of the article's canonical URL (see `canonical_url`)."

WAREHOUSE = [
    table(
        "sources",
        "warehouse",
        "One row per input file: the proof that nothing is lost.",
        ["source_path"],
        col("source_path", TEXT, "Path of the file relative to the input folder, with `/` separators.", False),
        col("kind", TEXT, "`article` (`*.md`), `taxonomy` (`_data/topics/*.yaml`) or `other`.", False),
        col("content_sha256", TEXT, "SHA-256 of the file's bytes, hex; null when it could not be read."),
        col("size_bytes", INT, "Size of the file in bytes; null when it could not be read."),
        col("status", TEXT, "`loaded`, `duplicate` (another file has the same canonical URL and wins) or `rejected`.", False),
        col("article_id", TEXT, "The article the file became, or for a duplicate the winner's id; null otherwise."),
        col("reason", TEXT, "Reason code of a rejection (see the README); null unless rejected."),
        col("message", TEXT, "What is wrong and what to do, for a person; for a duplicate, which file won."),
        col("line", INT, "1-based line in the file where the problem is, when known."),
        col("column", INT, "1-based column in that line, when known."),
    ),
    table(
        "articles",
        "warehouse",
        "One row per distinct canonical URL among loaded news files.",
        ["article_id"],
        col("article_id", TEXT, ARTICLE_ID, False),
        col("source_path", TEXT, "The file this row comes from (the winner among duplicates).", False),
        col("title", TEXT, "`title`.", False),
        col("excerpt", TEXT, "`excerpt`."),
        col("category", TEXT, "`category` (e.g. `news`)."),
        col("type", TEXT, "`type` (e.g. `article`, `video`)."),
        col("published_at", UTC_TIME, "`publishedDateTime` in UTC; a value without a zone is read as UTC.", False),
        col("web_url", TEXT, "`webUrl` as written (trimmed).", False),
        col("canonical_url", TEXT, "`webUrl` canonicalized: the input of `article_id`.", False),
        col("amp_web_url", TEXT, "`ampWebUrl`."),
        col("cdn_amp_web_url", TEXT, "`cdnAmpWebUrl`."),
        col("original_url", TEXT, "`originalUrl`."),
        col("quality", INT, "`quality`: the aggregator's quality score."),
        col("heat", INT, "`heat`: the aggregator's popularity score (may be negative)."),
        col("published", BOOL, "`published`."),
        col("provider_domain", TEXT, "The provider's domain (`provider.domain`, else the host of `webUrl`); joins `providers`."),
    ),
    table(
        "providers",
        "warehouse",
        "One row per provider domain seen in an article or a related item.",
        ["provider_domain"],
        col("provider_domain", TEXT, "Lowercase domain without `www.`.", False),
        col("provider_name", TEXT, "The most frequent `provider.name` for the domain (ties: alphabetical first)."),
        col("logo_url", TEXT, "First `provider.images` URL of the provider's latest article that has one (may be site-relative)."),
    ),
    table(
        "topics",
        "warehouse",
        "One row per topic: taxonomy topics and topics only seen in articles.",
        ["topic_id"],
        col("topic_id", TEXT, "Taxonomy `_id`, or for an observed topic the slug of its name (`AWS AI` → `aws-ai`).", False),
        col("topic_name", TEXT, "Taxonomy `name`, or the most frequent spelling in articles.", False),
        col("parent_topic_id", TEXT, "The parent topic's id (taxonomy `parent`, given there as a name); null for a root."),
        col("keywords", TEXT_LIST, "Taxonomy `keywords` (union over files defining the topic); empty for observed topics.", False),
        col("origin", TEXT, "`taxonomy` or `observed`.", False),
    ),
    table(
        "article_topics",
        "warehouse",
        "Which topics an article is filed under.",
        ["article_id", "topic_id"],
        col("article_id", TEXT, "The article; joins `articles`.", False),
        col("topic_id", TEXT, "The topic; joins `topics`.", False),
        col("position", SMALL_INT, "0-based index in the article's `topics` list (a repeated topic keeps its first).", False),
        order=["article_id", "position"],
    ),
    table(
        "related",
        "warehouse",
        "Other articles on the same story listed by an article.",
        ["article_id", "position"],
        col("article_id", TEXT, "The article listing the item; joins `articles`.", False),
        col("position", SMALL_INT, "0-based index in its `related` list.", False),
        col("related_article_id", TEXT, "`article_id` of the item's own URL: joins `articles` when the item is also a file.", False),
        col("title", TEXT, "`title`."),
        col("excerpt", TEXT, "`excerpt`."),
        col("published_at", UTC_TIME, "`publishedDateTime` in UTC."),
        col("web_url", TEXT, "`webUrl`.", False),
        col("amp_web_url", TEXT, "`ampWebUrl`."),
        col("cdn_amp_web_url", TEXT, "`cdnAmpWebUrl`."),
        col("type", TEXT, "`type`."),
        col("provider_domain", TEXT, "The item's provider domain; joins `providers`."),
        col("quality", INT, "`quality`."),
    ),
    table(
        "images",
        "warehouse",
        "Images of articles, related items and providers.",
        ["owner_type", "owner_id", "position"],
        col("owner_type", TEXT, "`article`, `related` or `provider`.", False),
        col(
            "owner_id",
            TEXT,
            "`article_id`; for a related item `<article_id>:<position>` of its `related` row; for a provider its domain.",
            False,
        ),
        col("position", SMALL_INT, "0-based index in the owner's `images` list.", False),
        col("url", TEXT, "`url` as written (provider logos may be site-relative).", False),
        col("width", INT, "`width` in pixels."),
        col("height", INT, "`height` in pixels."),
        col("is_cached", BOOL, "`isCached`; null when absent."),
        col("title", TEXT, "`title`."),
    ),
]

TABLES: dict[str, Table] = {t.name: t for t in WAREHOUSE}

_PANDAS_TYPES = {
    INT: pd.Int64Dtype(),
    SMALL_INT: pd.Int32Dtype(),
    BOOL: pd.BooleanDtype(),
    TEXT: pd.StringDtype(),
    pa.float64(): pd.Float64Dtype(),
}


def pandas_type(arrow_type: pa.DataType):
    """The pandas dtype a column of `arrow_type` gets: nullable, never object."""
    if pa.types.is_list(arrow_type):
        return pd.ArrowDtype(arrow_type)
    return _PANDAS_TYPES.get(arrow_type)


def to_frame(arrow: pa.Table) -> pd.DataFrame:
    """Arrow table → pandas frame with nullable dtypes and UTC timestamps."""
    return arrow.to_pandas(types_mapper=pandas_type, coerce_temporal_nanoseconds=False)


def arrow_table(name: str, columns: Mapping[str, list]) -> pa.Table:
    """Column lists → Arrow table of table `name`, typed and checked by its schema."""
    spec = TABLES[name]
    if list(columns) != spec.columns:
        raise SchemaMismatch(f"{name}: columns {list(columns)} differ from the schema's {spec.columns}")
    arrow = pa.Table.from_pydict(dict(columns), schema=spec.schema)
    check_nulls(spec, {name: arrow.column(name).null_count for name in spec.columns})
    return arrow


def frame(name: str, columns: Mapping[str, list]) -> pd.DataFrame:
    """Column lists → pandas frame of table `name`."""
    return to_frame(arrow_table(name, columns))


def conform(name: str, df: pd.DataFrame) -> pa.Table:
    """A frame → Arrow table with exactly the schema of `name`, or SchemaMismatch."""
    spec = TABLES[name]
    if list(df.columns) != spec.columns:
        raise SchemaMismatch(f"{name}: columns {list(df.columns)} differ from the schema's {spec.columns}")
    objects = [c for c in df.columns if df[c].dtype == object]
    if objects:
        raise SchemaMismatch(f"{name}: object columns {objects}; build frames with transforms.schema.frame")
    check_nulls(spec, {field.name: df[field.name].isna().sum() for field in spec.schema})
    try:
        arrow = pa.Table.from_pandas(df, schema=spec.schema, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise SchemaMismatch(f"{name}: {error}") from error
    return arrow.replace_schema_metadata(spec.schema.metadata)


def check_nulls(spec: Table, null_counts: Mapping[str, int]) -> None:
    for field in spec.schema:
        if not field.nullable and null_counts[field.name]:
            raise SchemaMismatch(f"{spec.name}.{field.name} is declared not null but has nulls")


def render_markdown() -> str:
    """The data dictionary, `docs/tables.md`."""
    lines = [
        "# Tables",
        "",
        "Generated from `transforms/schema.py` by `newsfm docs`; do not edit by hand.",
        "Timestamps are UTC (`timestamp[us, tz=UTC]`); integers are nullable unless marked not null.",
        "",
    ]
    for layer in dict.fromkeys(t.layer for t in TABLES.values()):
        lines += [f"## {layer}", ""]
        for spec in (t for t in TABLES.values() if t.layer == layer):
            lines += [
                f"### `{spec.layer}/{spec.name}`",
                "",
                spec.description,
                "",
                f"Key: {', '.join(f'`{k}`' for k in spec.key)}. Sorted by {', '.join(f'`{k}`' for k in spec.order)}.",
                "",
                "| column | type | null | description |",
                "| --- | --- | --- | --- |",
            ]
            for field in spec.schema:
                description = field.metadata[b"description"].decode()
                nullable = "yes" if field.nullable else "no"
                lines.append(f"| `{field.name}` | `{field.type}` | {nullable} | {description} |")
            lines.append("")
    return "\n".join(lines)
