"""Parts → the warehouse tables: one winner per canonical URL, its rows only, providers and topics.

`combine_parts` asks a loader for one part table at a time and yields each finished warehouse
table in turn, so a caller that writes and drops them holds one table's rows at once: memory
follows the largest table, not every batch. The heavy tables are filtered and sorted in Arrow;
only key columns and the small taxonomy and provider figures go through Python.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from newsfm.transforms.keys import short_hash, topic_slug
from newsfm.transforms.normalize import DUPLICATE, PART_SCHEMAS, SKIPPED, append
from newsfm.transforms.schema import TABLES, check_nulls
from newsfm.transforms.seen_fields import COUNTS_SCHEMA, field_counts, fields_table, merged
from newsfm.transforms.site import ARTICLE, NEWS_COLLECTION, OTHER, SITE_CONFIG, absolute_url, collection_of, site_root

# (part table name, columns or None for all) → that part table over every batch
Load = Callable[[str, Sequence[str] | None], pa.Table]
DUPLICATE_MESSAGE = ", which is kept (later publishedDateTime, then later path)"


def combine_parts(load: Load) -> Iterator[tuple[str, pa.Table]]:
    """Every warehouse table, one at a time, typed by its schema and sorted by its order."""
    winners = pick_winners(load("articles", ["article_id", "published_at", "source_path"]))
    winning_paths = winners.column("source_path")
    sources = load("sources", None)
    yield "sources", finish("sources", mark_site_pages(mark_duplicates(sources, winners), site_roots(sources)))
    for name in ("articles", "related"):
        yield name, finish(name, of_winners(load(name, None), winning_paths))
    topic_names = of_winners(load("topic_names", None), winning_paths)
    topics, topic_ids = build_topics(load("taxonomy", None), counts_of(topic_names, ["topic_name"]))
    yield "topics", finish("topics", topics)
    yield "article_topics", finish("article_topics", file_under_topics(topic_names, topic_ids))
    mentions = of_winners(load("mentions", None), winning_paths)
    providers, provider_images = build_providers(
        counts_of(mentions, ["provider_domain", "provider_name"]), latest_logos(mentions), load("organizations", None)
    )
    yield "providers", finish("providers", providers)
    images = of_winners(load("images", None), winning_paths)
    images = pa.concat_tables([images, provider_images.cast(images.schema)])
    yield "images", finish("images", with_absolute_urls(images, load("sites", None)))
    yield "fields", finish("fields", fields_table(field_counts(load("field_paths", None))))


# --- a warehouse in segments: the rows of one range of article ids at a time -------------------

SEGMENT_TABLES = ("sources", "articles", "related", "article_topics", "images")  # a file per segment
CANDIDATES = ("sources", "articles", "related", "topic_names", "mentions", "images", "field_paths")
LEDGER_KEYS = ["status", "kind", "reason"]


def segment_keys(sources: pa.Table) -> pa.Array:
    """The key that places a file's rows in a segment: its article id, or for a file without one
    (rejected, skipped, a dimension file) the short hash of its path. A file's rows and the
    rows of every file giving the same article id are then in one segment: a segment's winners
    and duplicates are decided within it."""
    article_ids = sources.column("article_id").combine_chunks()
    missing = pc.indices_nonzero(pc.is_null(article_ids))
    if not len(missing):
        return article_ids
    hashed = [short_hash(path) for path in sources.column("source_path").take(missing).to_pylist()]
    return pc.replace_with_mask(article_ids, pc.is_null(article_ids), pa.array(hashed, pa.string()))


def combine_segment(candidates: Mapping[str, pa.Table], taxonomy: pa.Table, sites: pa.Table, roots: set[str]
                    ) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    """One segment's warehouse rows (SEGMENT_TABLES, finished) and its partials (what the whole
    tables are made of, `combine_whole`), from the rows of every live file in it (`CANDIDATES`)
    and what the whole input gives every segment: the taxonomy, the sites and their folders."""
    winners = pick_winners(candidates["articles"].select(["article_id", "published_at", "source_path"]))
    paths = winners.column("source_path")
    sources = finish("sources", mark_site_pages(mark_duplicates(candidates["sources"], winners), roots))
    topic_names = of_winners(candidates["topic_names"], paths)
    mentions = of_winners(candidates["mentions"], paths)
    topic_counts = counts_of(topic_names, ["topic_name"])
    _topics, topic_ids = build_topics(taxonomy, topic_counts)
    tables = {
        "sources": sources,
        "articles": finish("articles", of_winners(candidates["articles"], paths)),
        "related": finish("related", of_winners(candidates["related"], paths)),
        "article_topics": finish("article_topics", file_under_topics(topic_names, topic_ids)),
        "images": finish("images", with_absolute_urls(of_winners(candidates["images"], paths), sites)),
    }
    partials = {
        "topic_names": topic_counts,
        "provider_names": counts_of(mentions, ["provider_domain", "provider_name"]),
        "logos": latest_logos(mentions),
        "fields": field_counts(candidates["field_paths"]),
        "ledger": counts_of(sources, LEDGER_KEYS).cast(PARTIAL_SCHEMAS["ledger"]),
    }
    return tables, partials


PARTIAL_SCHEMAS = {
    "topic_names": pa.schema([("topic_name", pa.string()), ("n", pa.int64())]),
    "provider_names": pa.schema([("provider_domain", pa.string()), ("provider_name", pa.string()), ("n", pa.int64())]),
    "fields": COUNTS_SCHEMA,
    "ledger": pa.schema([(key, pa.string()) for key in LEDGER_KEYS] + [("n", pa.int64())]),
}


def partial_schema(name: str) -> pa.Schema:
    """The schema of a segment's partial `name` (the logos: as `latest_logos` makes them)."""
    if name == "logos":
        return latest_logos(PART_SCHEMAS["mentions"].empty_table()).schema
    return PARTIAL_SCHEMAS[name]


def combine_whole(partials: Mapping[str, list[pa.Table]], taxonomy: pa.Table, organizations: pa.Table,
                  sites: pa.Table) -> dict[str, pa.Table]:
    """The tables made of every segment's partials: topics, providers, fields, the providers'
    images (a piece of `images`) and `ledger` (`counts_of` the sources' LEDGER_KEYS)."""
    def whole(name: str) -> pa.Table:
        return pa.concat_tables([partial_schema(name).empty_table(), *partials[name]])

    def total(name: str) -> pa.Table:  # of counts
        return summed(whole(name), partial_schema(name).empty_table())

    topics, _topic_ids = build_topics(taxonomy, total("topic_names"))
    providers, provider_images = build_providers(total("provider_names"), latest_logos(whole("logos")), organizations)
    fields = fields_table(merged(whole("fields"), COUNTS_SCHEMA.empty_table()))
    return {
        "topics": finish("topics", topics),
        "providers": finish("providers", providers),
        "fields": finish("fields", fields),
        "provider_images": finish("images", with_absolute_urls(provider_images, sites)),
        "ledger": total("ledger"),
    }


def counts_of(table: pa.Table, keys: list[str]) -> pa.Table:
    """The distinct values of `keys` (nulls included) and `n`, how many rows have each."""
    counts = table.select(keys).group_by(keys, use_threads=False).aggregate([([], "count_all")])
    return counts.rename_columns([*keys, "n"])


def summed(counts: pa.Table, more: pa.Table) -> pa.Table:
    """Two `counts_of` tables of the same keys as one."""
    keys = counts.column_names[:-1]
    total = pa.concat_tables([counts, more]).group_by(keys, use_threads=False).aggregate([("n", "sum")])
    return total.rename_columns([*keys, "n"])


def finish(name: str, table: pa.Table) -> pa.Table:
    """`table` with exactly the schema of `name`, sorted by its order (keys are unique)."""
    spec = TABLES[name]
    table = table.select(spec.columns).cast(spec.schema)
    check_nulls(spec, {column: table.column(column).null_count for column in spec.columns})
    order = pc.sort_indices(table, sort_keys=[(column, "ascending") for column in spec.order])
    return table.take(order)


def first_of_runs(values: pa.ChunkedArray) -> pa.Array:
    """True where a sorted column starts a new run of equal values."""
    values = values.combine_chunks()
    if len(values) == 0:
        return pa.array([], pa.bool_())
    changed = pc.not_equal(values.slice(1), values.slice(0, len(values) - 1))
    return pa.concat_arrays([pa.array([True]), changed.cast(pa.bool_())])


def pick_winners(keys: pa.Table) -> pa.Table:
    """article_id → the winning source_path: the later `published_at`, then the later path."""
    order = pc.sort_indices(
        keys, sort_keys=[("article_id", "ascending"), ("published_at", "descending"), ("source_path", "descending")]
    )
    ranked = keys.take(order)
    return ranked.filter(first_of_runs(ranked.column("article_id"))).select(["article_id", "source_path"])


def of_winners(part: pa.Table, winning_paths: pa.ChunkedArray) -> pa.Table:
    """The rows of files that won (every file with rows here made at most one article)."""
    return part.filter(pc.is_in(part.column("source_path"), value_set=winning_paths.combine_chunks()))


def mark_duplicates(sources: pa.Table, winners: pa.Table) -> pa.Table:
    """Files whose article another file won become `duplicate`, with the winner in the message."""
    article_ids = sources.column("article_id")
    winner = winners.column("source_path").take(pc.index_in(article_ids, value_set=winners.column("article_id")))
    duplicate = pc.fill_null(pc.not_equal(winner, sources.column("source_path")), False)
    message = pc.binary_join_element_wise("same canonical URL as ", winner, DUPLICATE_MESSAGE, "")
    sources = sources.set_column(
        sources.schema.get_field_index("status"), "status", pc.if_else(duplicate, DUPLICATE, sources.column("status"))
    )
    return sources.set_column(
        sources.schema.get_field_index("message"), "message", pc.if_else(duplicate, message, sources.column("message"))
    )


def site_configs(sources: pa.Table) -> pa.Table:
    """The `source_path` of the input's site configs (`_config.yml`), read or not."""
    return sources.filter(pc.equal(sources.column("kind"), SITE_CONFIG)).select(["source_path"])


def site_roots(sources: pa.Table) -> set[str]:
    """The folders of the input's sites (`site_root` of each of `site_configs`)."""
    return {site_root(path) for path in site_configs(sources).column("source_path").to_pylist()}


PAGE_MESSAGE = "not a news item: a page of the site without front matter; news items are read from `_news` folders"


def mark_site_pages(sources: pa.Table, roots: set[str]) -> pa.Table:
    """In a site (a folder of `roots`, or below one), a Markdown file outside `_news` without front
    matter is one of the site's own pages (`README.md`), not a broken news item: `skipped`, `not_news`."""
    if not roots or not sources.num_rows:  # (pyarrow 19 crashes on indices_nonzero of no chunks)
        return sources
    maybe = pc.and_(pc.equal(sources.column("kind"), ARTICLE), pc.equal(sources.column("reason"), "no_front_matter"))
    at = pc.indices_nonzero(pc.fill_null(maybe, False))
    if not len(at):
        return sources
    pages = [index for index, path in zip(at.to_pylist(), sources.column("source_path").take(at).to_pylist())
             if collection_of(path) != NEWS_COLLECTION and any(not root or path.startswith(root + "/") for root in roots)]
    if not pages:
        return sources
    page = pa.array(np.isin(np.arange(sources.num_rows), pages))
    for name, value in (("status", SKIPPED), ("kind", OTHER), ("reason", "not_news"), ("message", PAGE_MESSAGE),
                        ("line", None), ("column", None)):
        index = sources.schema.get_field_index(name)
        replacement = pa.scalar(value, sources.schema.field(name).type)
        sources = sources.set_column(index, name, pc.if_else(page, replacement, sources.column(name)))
    return sources


def most_frequent(counts: Mapping[str | None, int]) -> str | None:
    """The most frequent value (None aside); ties go to the alphabetically first, so the choice is stable."""
    values = [value for value, n in counts.items() if value is not None and n > 0]
    return min(values, key=lambda v: (-counts[v], v)) if values else None


def latest_logos(mentions: pa.Table) -> pa.Table:
    """Per provider, its latest mention that has images (undated mentions count as earliest;
    ties go to the later path). Applied again to several results, it picks among them: a
    build that reads the mentions in pieces keeps one row per provider."""
    with_images = mentions.filter(pc.greater(pc.list_value_length(mentions.column("images")), 0))
    if "dated" not in with_images.column_names:
        with_images = with_images.append_column("dated", pc.is_valid(with_images.column("published_at")))
    with_images = with_images.select(["provider_domain", "dated", "published_at", "source_path", "images"])
    order = pc.sort_indices(with_images, sort_keys=[
        ("provider_domain", "ascending"), ("dated", "descending"), ("published_at", "descending"),
        ("source_path", "descending"),
    ])
    latest = with_images.take(order)
    return latest.filter(first_of_runs(latest.column("provider_domain")))


def build_providers(name_counts: pa.Table, logos: pa.Table, organizations: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Provider rows and provider image rows (with the source_path they came from), from how
    often the winners' mentions give each (provider_domain, provider_name) (`counts_of`), each
    provider's `latest_logos` and the organization entries.

    An organization entry (the first by path, where several give one domain) gives the name
    and every logo. Otherwise the name is the most frequent on items, and the logo and images
    come from the latest mention that has images.
    """
    names: dict[str, Counter] = defaultdict(Counter)
    for row in name_counts.to_pylist():
        names[row["provider_domain"]][row["provider_name"]] += row["n"]
    entries: dict[str, dict] = {}
    for entry in sorted(organizations.to_pylist(), key=lambda row: row["source_path"]):
        entries.setdefault(entry["provider_domain"], entry)
    latest = {row["provider_domain"]: row for row in logos.select(["provider_domain", "source_path", "images"]).to_pylist()}
    latest |= {domain: entry for domain, entry in entries.items() if entry["images"]}
    providers = {name: [] for name in TABLES["providers"].columns}
    images = {name: [] for name in PART_SCHEMAS["images"].names}
    for domain in sorted(names.keys() | entries.keys()):
        own_name = entries.get(domain, {}).get("provider_name")
        item_name = most_frequent(names.get(domain, {}))
        logo = latest.get(domain)
        append(providers, provider_domain=domain, provider_name=own_name or item_name,
               name_source="organization" if own_name else "items" if item_name else None,
               logo_url=logo["images"][0]["url"] if logo else None,
               origin="organization" if domain in entries else "observed")
        for position, image in enumerate(logo["images"] if logo else ()):
            append(images, source_path=logo["source_path"], owner_type="provider", owner_id=domain, position=position,
                   **image)
    return pa.table(providers, schema=TABLES["providers"].schema), pa.table(images, schema=PART_SCHEMAS["images"])


def with_absolute_urls(images: pa.Table, sites: pa.Table) -> pa.Table:
    """`images` (with the source_path each came from) and its `absolute_url` column.

    Only the few URLs that are not http(s) go through Python: each is resolved against the
    site of the nearest `_config.yml` above its file (see `transforms.site.absolute_url`).
    """
    urls = images.column("url").combine_chunks()
    relative = pc.invert(pc.fill_null(pc.match_substring_regex(urls, r"^[hH][tT][tT][pP][sS]?://"), False))
    at = pc.indices_nonzero(relative)
    bases = site_bases(sites) if len(at) else []
    resolved = [absolute_url(url, base_of(path, bases)) for url, path in
                zip(urls.take(at).to_pylist(), images.column("source_path").take(at).to_pylist())]
    absolute = pc.replace_with_mask(urls, relative, pa.array(resolved, pa.string()))
    return images.append_column("absolute_url", absolute)


def site_bases(sites: pa.Table) -> list[tuple[str, str | None]]:
    """(site folder, base URL) of every site, deepest folder first; one config per folder
    (the first by path where a folder has both `_config.yml` and `_config.yaml`)."""
    bases: dict[str, str | None] = {}
    for site in sorted(sites.to_pylist(), key=lambda row: row["source_path"]):
        bases.setdefault(site["site_root"], site["base_url"])
    return sorted(bases.items(), key=lambda item: -len(item[0]))


def base_of(path: str, bases: list[tuple[str, str | None]]) -> str | None:
    """The base URL of the site `path` belongs to: the deepest site folder above it."""
    for root, base in bases:
        if not root or path.startswith(root + "/"):
            return base
    return None


def build_topics(taxonomy: pa.Table, name_counts: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Topic rows (taxonomy first, then observed) and each filed topic name's topic_id, from the
    taxonomy entries and how often the winners give each topic name (`counts_of`).

    Taxonomy files are read in path order: where several define one `_id`, the first gives
    the name and parent and the keywords are united (case-insensitively, first spelling kept).
    Names match case-insensitively.
    """
    by_id: dict[str, dict] = {}
    id_by_name: dict[str, str] = {}
    for entry in sorted(taxonomy.to_pylist(), key=lambda row: row["source_path"]):
        topic_id = entry["topic_id"] or topic_slug(entry["name"])
        if topic_id not in by_id:
            by_id[topic_id] = {"name": entry["name"], "parent": entry["parent_name"], "keywords": {}}
        for keyword in entry["keywords"]:  # one spelling per keyword, the first met
            by_id[topic_id]["keywords"].setdefault(keyword.casefold(), keyword)
        id_by_name.setdefault(entry["name"].casefold(), topic_id)

    def resolve(name: str) -> str:
        return id_by_name.get(name.casefold()) or topic_slug(name)

    observed: dict[str, Counter] = defaultdict(Counter)
    for topic in by_id.values():
        parent = topic["parent"]
        topic["parent_id"] = (parent if parent in by_id else resolve(parent)) if parent else None
        if topic["parent_id"] and topic["parent_id"] not in by_id:
            observed[topic["parent_id"]][parent] += 1
    names = name_counts.column("topic_name").to_pylist()
    topic_ids = [resolve(name) for name in names]
    for topic_id, name, n in zip(topic_ids, names, name_counts.column("n").to_pylist()):
        if topic_id not in by_id:
            observed[topic_id][name] += n

    rows = [
        (topic_id, by_id[topic_id]["name"], by_id[topic_id]["parent_id"], list(by_id[topic_id]["keywords"].values()), "taxonomy")
        if topic_id in by_id else (topic_id, most_frequent(observed[topic_id]), None, [], "observed")
        for topic_id in sorted(set(by_id) | set(observed))
    ]
    schema = TABLES["topics"].schema
    topics = pa.Table.from_pydict(dict(zip(schema.names, map(list, zip(*rows)))) if rows else {n: [] for n in schema.names},
                                 schema=schema)
    return topics, pa.table({"topic_name": pa.array(names, pa.string()), "topic_id": pa.array(topic_ids, pa.string())})


def file_under_topics(topic_names: pa.Table, topic_ids: pa.Table) -> pa.Table:
    """The article_topics rows: each article's topic names as topic ids (`build_topics`); a topic
    repeated in one article keeps its first position."""
    filed = topic_names.select(["article_id", "position", "topic_name"]).join(topic_ids, "topic_name", use_threads=False)
    first = filed.group_by(["article_id", "topic_id"], use_threads=False).aggregate([("position", "min")])
    return first.rename_columns(["article_id", "topic_id", "position"])
