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
FLOAT = pa.float64()
DATE = pa.date32()


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
URL_SOURCE = "Which field the key comes from: `webUrl`, or `originalUrl` for an item without `webUrl` (videos)."

WAREHOUSE = [
    table(
        "sources",
        "warehouse",
        "One row per input file: the proof that nothing is lost.",
        ["source_path"],
        col("source_path", TEXT, "Path of the file relative to the input folder, with `/` separators.", False),
        col(
            "kind",
            TEXT,
            "`article` (a news item: `*.md`, see docs/sites.md), `taxonomy` (`_data/topics/*.yaml`), `organization` "
            "(`_data/organizations/*`), `site_config` (`_config.yml`) or `other`.",
            False,
        ),
        col("content_sha256", TEXT, "SHA-256 of the file's bytes, hex; null when it could not be read."),
        col("size_bytes", INT, "Size of the file in bytes; null when it could not be read."),
        col(
            "status",
            TEXT,
            "`loaded`; `duplicate` (another file has the same canonical URL and wins); `rejected` (a news item, "
            "a topic or organization entry or a site config that cannot be read); `skipped` (not something newsfm "
            "loads: another collection's page, a site's own files and assets; see docs/sites.md).",
            False,
        ),
        col("article_id", TEXT, "The article the file became, or for a duplicate the winner's id; null otherwise."),
        col("reason", TEXT, "Why the file was rejected or skipped (see docs/reasons.md); null otherwise."),
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
        col("featured_content", TEXT, "`featuredContent` as written: the embed of a video item (`<iframe ...>`)."),
        col("category", TEXT, "`category` (e.g. `news`)."),
        col("type", TEXT, "`type` (e.g. `article`, `video`)."),
        col("published_at", UTC_TIME, "`publishedDateTime` in UTC; a value without a zone is read as UTC.", False),
        col("web_url", TEXT, "`webUrl` as written (trimmed); null for an item without one (see `url_source`)."),
        col("url_source", TEXT, URL_SOURCE, False),
        col("canonical_url", TEXT, "The key URL (`webUrl`, else `originalUrl`) canonicalized: the input of `article_id`.", False),
        col("amp_web_url", TEXT, "`ampWebUrl`."),
        col("cdn_amp_web_url", TEXT, "`cdnAmpWebUrl`."),
        col("original_url", TEXT, "`originalUrl`."),
        col("quality", INT, "`quality`: the aggregator's quality score."),
        col("heat", INT, "`heat`: the aggregator's popularity score (may be negative)."),
        col("published", BOOL, "`published`."),
        col("provider_domain", TEXT, "The provider's domain (`provider.domain`, else the host of the key URL); joins `providers`."),
    ),
    table(
        "providers",
        "warehouse",
        "One row per provider: every domain of the organizations dimension (`_data/organizations`) and every "
        "domain seen in an article or a related item.",
        ["provider_domain"],
        col("provider_domain", TEXT, "Lowercase domain without `www.`.", False),
        col(
            "provider_name",
            TEXT,
            "The organization entry's `name`; else the most frequent `provider.name` on items (ties: alphabetical first).",
        ),
        col("name_source", TEXT, "Where `provider_name` comes from: `organization` or `items`; null without a name."),
        col(
            "logo_url",
            TEXT,
            "First `images` URL of the organization entry; else the first `provider.images` URL of the provider's "
            "latest article that has one. As written (may be site-relative: see `images.absolute_url`).",
        ),
        col("origin", TEXT, "`organization` (an entry of the dimension) or `observed` (only seen on items).", False),
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
        col(
            "related_article_id",
            TEXT,
            "`article_id` of the item's key URL (`webUrl`, else `originalUrl`): joins `articles` when the item is also a file.",
            False,
        ),
        col("title", TEXT, "`title`."),
        col("excerpt", TEXT, "`excerpt`."),
        col("published_at", UTC_TIME, "`publishedDateTime` in UTC."),
        col("web_url", TEXT, "`webUrl`; null for an item without one (see `url_source`)."),
        col("original_url", TEXT, "`originalUrl`."),
        col("url_source", TEXT, URL_SOURCE, False),
        col("amp_web_url", TEXT, "`ampWebUrl`."),
        col("cdn_amp_web_url", TEXT, "`cdnAmpWebUrl`."),
        col("type", TEXT, "`type`."),
        col("provider_domain", TEXT, "The item's provider domain; joins `providers`."),
        col("quality", INT, "`quality`."),
    ),
    table(
        "images",
        "warehouse",
        "Images of articles, related items and providers (logos, every size).",
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
        col(
            "absolute_url",
            TEXT,
            "`url` when it is an http(s) URL; a site-relative URL under the `url` + `baseurl` of the site's `_config.yml` "
            "(the nearest above the file that gave the image); null when relative and no such site URL is known.",
        ),
        col("width", INT, "`width` in pixels."),
        col("height", INT, "`height` in pixels."),
        col("is_cached", BOOL, "`isCached`; null when absent."),
        col("title", TEXT, "`title`."),
    ),
    table(
        "fields",
        "warehouse",
        "One row per key path seen in the documents of one kind that were read (loaded, duplicate, or rejected "
        "after their YAML was read): what the input holds, how often, and where newsfm reads it into.",
        ["kind", "key_path"],
        col("kind", TEXT, "`article` (news items), `taxonomy`, `organization` or `site_config`, as `sources.kind`.", False),
        col(
            "key_path",
            TEXT,
            "Keys joined by `.`, a list's items as `[]` after the list's key; every prefix is a row of its own "
            "(`provider`, `provider.images`, `provider.images[]`, `provider.images[].url`, `topics[]`).",
            False,
        ),
        col("files", INT, "Files of that kind that hold the path at least once.", False),
        col(
            "read_into",
            TEXT,
            "The `table.column` the path feeds (`table` for a list or mapping whose items become rows); null when no "
            "table holds it.",
        ),
        col("first_published_at", UTC_TIME, "Earliest `publishedDateTime` of the news items that hold it; null for other kinds."),
        col("last_published_at", UTC_TIME, "Latest `publishedDateTime` of the news items that hold it."),
        col("example_path", TEXT, "The first file (by `source_path`) that holds it: open it to see a value.", False),
    ),
]

# Appearances of a provider: its own articles (`articles.provider_domain`) and its items in
# other articles' related lists (`related.provider_domain`), each counted once per row.
APPEARANCES = "appearances (its articles plus its rows in `related`)"
ROLLUP = "; `_rollup`: the same over the distinct articles of the topic and all its descendants"

ANALYTICS = [
    table(
        "provider_quality",
        "analytics",
        "One row per provider of `providers`: volume, quality distribution and a shrunk quality rank. "
        "Quality figures count both the provider's articles and its related appearances (see docs/analytics.md).",
        ["provider_domain"],
        col("provider_domain", TEXT, "The provider; joins `providers`.", False),
        col("provider_name", TEXT, "`providers.provider_name`."),
        col("n_articles", INT, "Number of `articles` with this provider.", False),
        col("n_related", INT, "Number of `related` rows with this provider.", False),
        col("n_scored", INT, f"Number of {APPEARANCES} that have a `quality` value.", False),
        col("quality_mean", FLOAT, "Mean `quality` over the scored appearances; null when none."),
        col("quality_median", FLOAT, "Median `quality` over the scored appearances."),
        col("quality_p10", FLOAT, "10th percentile of `quality` (linear interpolation)."),
        col("quality_p90", FLOAT, "90th percentile of `quality` (linear interpolation)."),
        col("quality_min", FLOAT, "Lowest `quality`."),
        col("quality_max", FLOAT, "Highest `quality`."),
        col("quality_std", FLOAT, "Sample standard deviation (n - 1) of `quality`; null with fewer than 2 scores."),
        col(
            "quality_shrunk",
            FLOAT,
            "(n_scored × quality_mean + k × overall mean) / (n_scored + k), k = `prior_weight` (default 10), "
            "overall mean = mean `quality` of all scored appearances of all providers; null when n_scored = 0.",
        ),
        col(
            "quality_rank",
            INT,
            "Dense rank by `quality_shrunk`, 1 = best, among providers with n_scored ≥ `min_scored` "
            "(default 3); null for the others.",
        ),
        col("share_with_image", FLOAT, f"Share of its {APPEARANCES} that have at least one image.", False),
        col("n_topics", INT, "Distinct topics of its own articles.", False),
        col("top_topic_id", TEXT, "Most frequent topic of its own articles (ties: smallest id); null when none."),
        col("first_published_at", UTC_TIME, "Earliest `published_at` of its appearances."),
        col("last_published_at", UTC_TIME, "Latest `published_at` of its appearances."),
    ),
    table(
        "provider_quality_monthly",
        "analytics",
        "Provider × calendar month (UTC) of its appearances that have a `published_at`.",
        ["provider_domain", "month"],
        col("provider_domain", TEXT, "The provider.", False),
        col("month", DATE, "First day of the month (UTC).", False),
        col("n_items", INT, f"Number of {APPEARANCES} published that month.", False),
        col("n_scored", INT, "Of those, the number with a `quality` value.", False),
        col("quality_mean", FLOAT, "Mean `quality` of those; null when none is scored."),
    ),
    table(
        "topic_coverage",
        "analytics",
        "One row per topic of `topics`: who covers it, how well, and when; with the same figures rolled up "
        "over the taxonomy in `_rollup` columns (a parent counts each article of its descendants once).",
        ["topic_id"],
        col("topic_id", TEXT, "The topic; joins `topics`.", False),
        col("topic_name", TEXT, "`topics.topic_name`.", False),
        col("parent_topic_id", TEXT, "`topics.parent_topic_id`."),
        col("n_articles", INT, "Articles filed under the topic (`article_topics`).", False),
        col("share_of_articles", FLOAT, "n_articles / number of `articles`."),
        col("n_providers", INT, "Distinct providers of those articles.", False),
        col("top_provider_domain", TEXT, "Provider with most of those articles (ties: smallest domain)."),
        col("quality_mean", FLOAT, "Mean `quality` of those articles; null when none is scored."),
        col("n_related", INT, "`related` rows of those articles.", False),
        col("first_published_at", UTC_TIME, "Earliest `published_at` of those articles."),
        col("last_published_at", UTC_TIME, "Latest `published_at` of those articles."),
        col("n_articles_rollup", INT, "n_articles" + ROLLUP + ".", False),
        col("share_of_articles_rollup", FLOAT, "share_of_articles" + ROLLUP + "."),
        col("n_providers_rollup", INT, "n_providers" + ROLLUP + ".", False),
        col("top_provider_domain_rollup", TEXT, "top_provider_domain" + ROLLUP + "."),
        col("quality_mean_rollup", FLOAT, "quality_mean" + ROLLUP + "."),
        col("n_related_rollup", INT, "n_related" + ROLLUP + ".", False),
        col("first_published_at_rollup", UTC_TIME, "first_published_at" + ROLLUP + "."),
        col("last_published_at_rollup", UTC_TIME, "last_published_at" + ROLLUP + "."),
    ),
    table(
        "topic_coverage_daily",
        "analytics",
        "Topic × UTC day, for days on which the topic has articles: attention, not raw volume.",
        ["topic_id", "day"],
        col("topic_id", TEXT, "The topic.", False),
        col("day", DATE, "The UTC day of `articles.published_at`.", False),
        col("n_articles", INT, "Articles of the topic published that day.", False),
        col("n_providers", INT, "Distinct providers of those articles.", False),
        col(
            "share_of_day",
            FLOAT,
            "The topic's share of that day's attention: each article of the day that has topics gives weight 1, "
            "split equally among its topics; the topic's weight over the number of such articles. Sums to 1 per day.",
            False,
        ),
    ),
    table(
        "topic_provider",
        "analytics",
        "Topic × provider, for pairs with at least one article.",
        ["topic_id", "provider_domain"],
        col("topic_id", TEXT, "The topic.", False),
        col("provider_domain", TEXT, "The provider.", False),
        col("n_articles", INT, "Articles of the provider filed under the topic.", False),
        col("share_of_topic", FLOAT, "n_articles / the topic's n_articles.", False),
        col("share_of_provider", FLOAT, "n_articles / the provider's n_articles.", False),
    ),
    table(
        "topic_cooccurrence",
        "analytics",
        "Unordered topic pairs (topic_a < topic_b) filed together on at least one article.",
        ["topic_a", "topic_b"],
        col("topic_a", TEXT, "The pair's smaller topic id.", False),
        col("topic_b", TEXT, "The pair's larger topic id.", False),
        col("n_articles", INT, "Articles filed under both.", False),
        col("jaccard", FLOAT, "n_articles / articles filed under either.", False),
        col("lift", FLOAT, "n_articles × number of articles / (articles of topic_a × articles of topic_b).", False),
    ),
    table(
        "stories",
        "analytics",
        "Connected components of the graph joining each article to each of its related items "
        "(`related.article_id` – `related.related_article_id`); an article without related items is a story of one.",
        ["story_id"],
        col("story_id", TEXT, "First 16 hex digits of SHA-256 of `story:` + the smallest item id of the story.", False),
        col("n_items", INT, "Distinct items (articles and related-only items).", False),
        col("n_providers", INT, "Distinct providers of the items.", False),
        col("first_published_at", UTC_TIME, "Earliest `published_at` of the items."),
        col("first_provider_domain", TEXT, "Provider of the first item (see `story_members.is_first`)."),
        col("span_hours", FLOAT, "Hours from the first to the last item's `published_at`."),
        col("quality_mean", FLOAT, "Mean `quality` of the items; null when none is scored."),
        col("topic_ids", TEXT_LIST, "Distinct topics of the story's articles, sorted.", False),
    ),
    table(
        "story_members",
        "analytics",
        "One row per item of a story. An item's attributes come from `articles` when it is an article, "
        "else from its first `related` row (by `article_id`, `position`).",
        ["story_id", "item_id"],
        col("story_id", TEXT, "The story.", False),
        col("item_id", TEXT, "`articles.article_id` or `related.related_article_id`.", False),
        col("provider_domain", TEXT, "The item's provider."),
        col("published_at", UTC_TIME, "The item's `published_at`."),
        col("lag_minutes", FLOAT, "Minutes after the story's `first_published_at`; null without `published_at`."),
        col(
            "is_first",
            BOOL,
            "True for exactly one item per story with a dated item: the earliest, ties broken by smallest item_id.",
            False,
        ),
    ),
    table(
        "provider_timeliness",
        "analytics",
        "One row per provider with an item in a story of at least two providers: who breaks stories first.",
        ["provider_domain"],
        col("provider_domain", TEXT, "The provider.", False),
        col("n_stories", INT, "Stories with at least two providers in which it has a dated item.", False),
        col("n_first", INT, "Of those, stories whose first item is its.", False),
        col("first_rate", FLOAT, "n_first / n_stories.", False),
        col("median_lag_minutes", FLOAT, "Median over those stories of its earliest item's lag_minutes.", False),
        col("p90_lag_minutes", FLOAT, "90th percentile (linear interpolation) of the same lags.", False),
    ),
]

TABLES: dict[str, Table] = {t.name: t for t in WAREHOUSE + ANALYTICS}
LAYERS = ("warehouse", "analytics")
assert LAYERS == tuple(dict.fromkeys(t.layer for t in TABLES.values()))

_PANDAS_TYPES = {
    INT: pd.Int64Dtype(),
    SMALL_INT: pd.Int32Dtype(),
    BOOL: pd.BooleanDtype(),
    TEXT: pd.StringDtype(),
    FLOAT: pd.Float64Dtype(),
}


def pandas_type(arrow_type: pa.DataType):
    """The pandas dtype a column of `arrow_type` gets: nullable, never object."""
    if pa.types.is_list(arrow_type) or pa.types.is_date(arrow_type):
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


def typed_frame(name: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of any dtypes → frame `name`: the schema's columns and types, sorted by the table's order."""
    spec = TABLES[name]
    rows = rows.sort_values(list(spec.order), ignore_index=True)
    return frame(name, {column: python_values(rows[column]) for column in spec.columns})


def python_values(column: pd.Series) -> list:
    """A column as a Python list for `frame`, with None for every kind of missing value.

    Timestamps go through `datetime` objects: Arrow converts those several times faster
    than pandas Timestamps.
    """
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = pd.Series(column.array.to_pydatetime(), dtype=object)
    return column.astype(object).where(column.notna(), None).tolist()


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
        "A table of several files (the large warehouse tables: a file per segment) is sorted within each",
        "file; `newsfm.open` gives it sorted whole ([reading.md](reading.md#a-table-of-several-files)).",
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
