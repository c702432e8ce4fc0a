"""Parts → the warehouse tables, out of core: what `transforms.combine.combine_parts` does, in
memory bounded by a key range rather than by the corpus.

Every part is read once, a part at a time, and its live rows are scattered into key ranges
on disk (`pipelines.spill`): the rows of articles, related items, topic names, mentions and
images by the article id of their file, sources by path. The rows of one article id are
then in one range, so each range is combined on its own with the pure functions of
`transforms.combine` (winners, their rows, sorted), and a table written range after range
is in its order. What crosses ranges is small and kept in memory: the contested article
ids' winners (for marking duplicates), topic-name and provider-name counts, each provider's
latest logo, the taxonomy, organizations and sites (dimension files), the folders holding a
`_config.yml`, and the count of each key path the files hold (`fields`), added up a part at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from newsfm.pipelines.layout import Layout
from newsfm.pipelines.parts import LiveFiles, read_part_table
from newsfm.pipelines.spill import Ranges, bounds_of, fresh_folder, hex_bounds, range_count
from newsfm.pipelines.store import SnapshotWriter
from newsfm.transforms.combine import (
    build_providers,
    build_topics,
    contested,
    counts_of,
    file_under_topics,
    finish,
    latest_logos,
    mark_duplicates,
    mark_site_pages,
    of_winners,
    pick_winners,
    site_roots,
    summed,
    with_absolute_urls,
)
from newsfm.transforms.normalize import PART_SCHEMAS
from newsfm.transforms.seen_fields import COUNTS_SCHEMA, field_counts, fields_table, merged, not_read
from newsfm.transforms.summary import file_figures, ledger_counts

BY_ARTICLE = {"articles": "article_id", "related": "article_id", "topic_names": "article_id",
              "mentions": "article_id", "images": "owner_id"}  # owner_id starts with its article's id
DIMENSIONS = ("taxonomy", "organizations", "sites")
OWNER_TYPES = ("article", "provider", "related")  # the order of `images`


NOT_READ_SHOWN = 5  # fields not read that the run summary names


def combine_into(out: Path, snapshot: SnapshotWriter, live: LiveFiles) -> tuple[dict[str, int], dict]:
    """`combine_out_of_core` as the flow runs it, in a process of its own; returns the rows
    written and the file figures (with the fields most often not read)."""
    combine_out_of_core(out, live, snapshot)
    ledger = snapshot.read("warehouse", "sources", ["status", "kind", "reason"])
    figures = file_figures(ledger_counts(ledger))
    unread = not_read(snapshot.read("warehouse", "fields").to_pylist(), NOT_READ_SHOWN)
    return snapshot.rows, {**figures, "not_read": [[row["kind"], row["key_path"], row["files"]] for row in unread]}


def combine_out_of_core(out: Path, live: LiveFiles, snapshot: SnapshotWriter) -> None:
    """Write every warehouse table of the `live` files into `snapshot`."""
    layout = Layout(out)
    scratch = fresh_folder(layout.spill)
    count = range_count(sum(file.stat().st_size for part_id in live.per_part for file in layout.part(part_id).iterdir()))
    ranges = {name: Ranges(scratch / name, PART_SCHEMAS[name], key, hex_bounds(count)) for name, key in BY_ARTICLE.items()}
    ranges["sources"] = Ranges(scratch / "sources", PART_SCHEMAS["sources"], "source_path",
                               bounds_of(live.paths(), live.files, count))
    dimensions = {name: [PART_SCHEMAS[name].empty_table()] for name in DIMENSIONS}
    counts, roots = COUNTS_SCHEMA.empty_table(), set()
    for part_id, paths in live.by_part(scratch / "live", count):
        every_file_live = len(paths) == read_part_table(out, part_id, "sources", ["source_path"]).num_rows  # a row per file
        for name in [*ranges, *DIMENSIONS, "field_paths"]:
            table = read_part_table(out, part_id, name)
            if not every_file_live:
                table = table.filter(pc.is_in(table.column("source_path"), value_set=paths))
            if name == "field_paths":
                counts = merged(counts, field_counts(table))
            elif name in ranges:
                ranges[name].add(table)
                if name == "sources":
                    roots |= site_roots(table)
            else:
                dimensions[name].append(table)
    taxonomy, organizations, sites = (pa.concat_tables(dimensions[name]) for name in DIMENSIONS)
    pa.default_memory_pool().release_unused()  # the parts' buffers, freed: back to the system

    won = {name: Ranges(scratch / f"won-{name}", PART_SCHEMAS[name], BY_ARTICLE[name], hex_bounds(count))
           for name in ("topic_names", "images")}  # the winners' rows, for tables made after the articles
    found = combine_articles(snapshot, ranges, won)
    with snapshot.writing("warehouse", "sources") as writer:
        for sources in ranges["sources"]:
            writer.write(finish("sources", mark_site_pages(mark_duplicates(sources, found.contested), roots)))
    snapshot.write_arrow("warehouse", "fields", finish("fields", fields_table(counts)))
    topics, topic_ids = build_topics(taxonomy, found.topic_names)
    snapshot.write_arrow("warehouse", "topics", finish("topics", topics))
    with snapshot.writing("warehouse", "article_topics") as writer:
        for topic_names in won["topic_names"]:
            writer.write(finish("article_topics", file_under_topics(topic_names, topic_ids)))
    providers, provider_images = build_providers(found.provider_names, found.logos, organizations)
    snapshot.write_arrow("warehouse", "providers", finish("providers", providers))
    with snapshot.writing("warehouse", "images") as writer:
        for images in images_in_order(won["images"], provider_images):
            writer.write(finish("images", with_absolute_urls(images, sites)))
    fresh_folder(scratch).rmdir()
    pa.default_memory_pool().release_unused()


class Found:
    """What the article ranges leave for the tables combined after them (small: per article id
    only the contested ones)."""

    def __init__(self) -> None:
        self.contested = pick_winners(PART_SCHEMAS["articles"].empty_table())
        self.topic_names = counts_of(PART_SCHEMAS["topic_names"].empty_table(), ["topic_name"])
        self.provider_names = counts_of(PART_SCHEMAS["mentions"].empty_table(), ["provider_domain", "provider_name"])
        self.logos = latest_logos(PART_SCHEMAS["mentions"].empty_table())


def combine_articles(snapshot: SnapshotWriter, ranges: dict[str, Ranges], won: dict[str, Ranges]) -> Found:
    """Pick each range's winners; write articles and related; keep the winners' topic names and
    images (in `won`) and what the other tables need of them."""
    found = Found()
    with snapshot.writing("warehouse", "articles") as articles, snapshot.writing("warehouse", "related") as related:
        for candidates, related_rows, topic_names, mentions, images in zip(
            *(ranges[name] for name in ("articles", "related", "topic_names", "mentions", "images"))
        ):
            winners = pick_winners(candidates.select(["article_id", "published_at", "source_path"]))
            found.contested = pa.concat_tables([found.contested, contested(candidates, winners)])
            paths = winners.column("source_path")
            articles.write(finish("articles", of_winners(candidates, paths)))
            related.write(finish("related", of_winners(related_rows, paths)))
            topic_names, mentions = of_winners(topic_names, paths), of_winners(mentions, paths)
            won["topic_names"].add(topic_names)
            won["images"].add(of_winners(images, paths))
            found.topic_names = summed(found.topic_names, counts_of(topic_names, ["topic_name"]))
            found.provider_names = summed(found.provider_names, counts_of(mentions, ["provider_domain", "provider_name"]))
            found.logos = latest_logos(pa.concat_tables([found.logos, latest_logos(mentions)]))
            pa.default_memory_pool().release_unused()  # this range's rows, freed: back to the system
    return found


def images_in_order(won: Ranges, provider_images: pa.Table) -> Iterator[pa.Table]:
    """The images table's rows a range at a time, in its order: owner type, then owner id."""
    for owner_type in OWNER_TYPES:
        if owner_type == "provider":
            yield provider_images
            continue
        for images in won:
            yield images.filter(pc.equal(images.column("owner_type"), owner_type))
