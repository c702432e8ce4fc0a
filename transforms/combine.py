"""Parts → the warehouse tables: one winner per canonical URL, its rows only, providers and topics.

`combine_parts` asks a loader for one part table at a time and yields each finished warehouse
table in turn, so a caller that writes and drops them holds one table's rows at once: memory
follows the largest table, not every batch. The heavy tables are filtered and sorted in Arrow;
only key columns and the small taxonomy and provider figures go through Python.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Callable, Iterable, Iterator, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.keys import topic_slug
from transforms.normalize import DUPLICATE, PART_SCHEMAS, append
from transforms.site import absolute_url
from transforms.schema import TABLES, check_nulls

# (part table name, columns or None for all) → that part table over every batch
Load = Callable[[str, Sequence[str] | None], pa.Table]
DUPLICATE_MESSAGE = ", which is kept (later publishedDateTime, then later path)"


def combine_parts(load: Load) -> Iterator[tuple[str, pa.Table]]:
    """Every warehouse table, one at a time, typed by its schema and sorted by its order."""
    winners = pick_winners(load("articles", ["article_id", "published_at", "source_path"]))
    winning_paths = winners.column("source_path")
    yield "sources", finish("sources", mark_duplicates(load("sources", None), winners))
    for name in ("articles", "related"):
        yield name, finish(name, of_winners(load(name, None), winning_paths))
    topic_names = of_winners(load("topic_names", None), winning_paths)
    topics, article_topics = build_topics(load("taxonomy", None), topic_names)
    yield "topics", finish("topics", topics)
    yield "article_topics", finish("article_topics", article_topics)
    providers, provider_images = build_providers(of_winners(load("mentions", None), winning_paths), load("organizations", None))
    yield "providers", finish("providers", providers)
    images = of_winners(load("images", None), winning_paths)
    images = pa.concat_tables([images, provider_images.cast(images.schema)])
    yield "images", finish("images", with_absolute_urls(images, load("sites", None)))


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


def most_frequent(values: Iterable[str | None]) -> str | None:
    """The most frequent value; ties go to the alphabetically first, so the choice is stable."""
    counts = Counter(v for v in values if v is not None)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


def build_providers(mentions: pa.Table, organizations: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Provider rows and provider image rows (with the source_path they came from) from the
    organization entries and the winners' provider mentions.

    An organization entry (the first by path, where several give one domain) gives the name
    and every logo. Otherwise the name is the most frequent on items, and the logo and images
    come from the latest mention that has images (undated mentions count as earliest; ties go
    to the later path).
    """
    names: dict[str, list] = defaultdict(list)
    for domain, name in zip(mentions.column("provider_domain").to_pylist(), mentions.column("provider_name").to_pylist()):
        names[domain].append(name)
    entries: dict[str, dict] = {}
    for entry in sorted(organizations.to_pylist(), key=lambda row: row["source_path"]):
        entries.setdefault(entry["provider_domain"], entry)
    with_images = mentions.filter(pc.greater(pc.list_value_length(mentions.column("images")), 0))
    with_images = with_images.append_column("dated", pc.is_valid(with_images.column("published_at")))
    order = pc.sort_indices(with_images, sort_keys=[
        ("provider_domain", "ascending"), ("dated", "descending"), ("published_at", "descending"),
        ("source_path", "descending"),
    ])
    latest = with_images.take(order)
    latest = latest.filter(first_of_runs(latest.column("provider_domain")))
    logos = {row["provider_domain"]: row for row in latest.select(["provider_domain", "source_path", "images"]).to_pylist()}
    logos |= {domain: entry for domain, entry in entries.items() if entry["images"]}
    providers = {name: [] for name in TABLES["providers"].columns}
    images = {name: [] for name in PART_SCHEMAS["images"].names}
    for domain in sorted(names.keys() | entries.keys()):
        own_name = entries.get(domain, {}).get("provider_name")
        item_name = most_frequent(names.get(domain, ()))
        logo = logos.get(domain)
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


def build_topics(taxonomy: pa.Table, topic_names: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Topic rows (taxonomy first, then observed) and the article_topics rows.

    Taxonomy files are read in path order: where several define one `_id`, the first gives
    the name and parent and the keywords are united (case-insensitively, first spelling kept).
    Names match case-insensitively. A topic repeated in one article keeps its first position.
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

    resolved: dict[str, str] = {}

    def resolve(name: str) -> str:
        if name not in resolved:
            resolved[name] = id_by_name.get(name.casefold()) or topic_slug(name)
        return resolved[name]

    observed: dict[str, list[str]] = defaultdict(list)
    for topic in by_id.values():
        parent = topic["parent"]
        topic["parent_id"] = (parent if parent in by_id else resolve(parent)) if parent else None
        if topic["parent_id"] and topic["parent_id"] not in by_id:
            observed[topic["parent_id"]].append(parent)
    names = topic_names.column("topic_name").to_pylist()
    topic_ids = [resolve(name) for name in names]
    for topic_id, name in zip(topic_ids, names):
        if topic_id not in by_id:
            observed[topic_id].append(name)

    rows = [
        (topic_id, by_id[topic_id]["name"], by_id[topic_id]["parent_id"], list(by_id[topic_id]["keywords"].values()), "taxonomy")
        if topic_id in by_id else (topic_id, most_frequent(observed[topic_id]), None, [], "observed")
        for topic_id in sorted(set(by_id) | set(observed))
    ]
    schema = TABLES["topics"].schema
    topics = pa.Table.from_pydict(dict(zip(schema.names, map(list, zip(*rows)))) if rows else {n: [] for n in schema.names},
                                 schema=schema)
    filed = topic_names.select(["article_id", "position"]).append_column("topic_id", pa.array(topic_ids, pa.string()))
    filed = filed.take(pc.sort_indices(filed, sort_keys=[("article_id", "ascending"), ("position", "ascending")]))
    first = filed.to_pandas(types_mapper=pd.ArrowDtype).duplicated(["article_id", "topic_id"]).to_numpy()
    return topics, filed.filter(pa.array(~first))
