"""The analytics of a change (`since`, `pipelines.sql.changed`): the published analytics kept for
the groups a change leaves alone and the touched providers and stories made again equal the
analytics computed anew over the changed warehouse, whatever files are added, deleted or edited."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from newsfm.pipelines.sql.analytics import analytics_queries
from newsfm.pipelines.sql.changed import ARTICLE_OF, PREVIOUS, PROVIDERS, TOUCHED, create_touched
from newsfm.pipelines.sql.common import arrow_reader
from newsfm.pipelines.sql.engine import ANALYTICS_READS
from newsfm.pipelines.sql.topics import PREVIOUS_SUMS
from newsfm.synthetic.corpus import generate_corpus
from newsfm.transforms.analytics import INPUT_COLUMNS
from newsfm.transforms.schema import TABLES, conform, to_frame
from tests.conftest import REPO, examples
from tests.test_sql_analytics import ANALYTICS, SUMMED, WAREHOUSE, files_warehouse, sql_tables

GENERATED = list(generate_corpus(240, seed=5))
SITE = [(path, data) for path, data in GENERATED if "/_news/" not in path]  # the taxonomy: kept as it is
NEWS = [data for path, data in GENERATED if "/_news/" in path]
URL = re.compile(rb'^webUrl: .*$', re.MULTILINE)

# Edits of a news file's bytes, each moving what some analytics group by
EDITS = {
    "date": lambda data, other: data.replace(b"publishedDateTime: 20", b"publishedDateTime: 19", 1),
    "provider": lambda data, other: data.replace(b"  domain: ", b"  domain: moved.", 1),
    "topics": lambda data, other: data.replace(b"\ntopics:\n", b"\ntopicz:\n", 1),
    "images": lambda data, other: data.replace(b"\nimages:\n", b"\nimagez:\n", 1),
    "related": lambda data, other: data.replace(b"\nrelated:\n", b"\nrelatez:\n", 1),
    "quality": lambda data, other: re.sub(rb"quality: \d+", b"quality: 7", data, count=1),
    "url": lambda data, other: URL.sub(URL.search(other).group(0), data, count=1),  # a duplicate of `other`
}


def warehouse(news: dict[str, bytes]) -> dict[str, pa.Table]:
    return {name: conform(name, frame) for name, frame in files_warehouse([*SITE, *sorted(news.items())]).items()}


def published_analytics(before: dict[str, pa.Table]) -> tuple[dict, pa.Table]:
    """The analytics of `before`, made anew, and the topic sums a build keeps with them."""
    with tempfile.TemporaryDirectory() as folder:
        kept = Path(folder) / "topic_sums.parquet"
        return sql_tables(before, 10.0, 3, sums_into=kept), pq.read_table(kept)


def changed_analytics(before: dict[str, pa.Table], published: tuple[dict, pa.Table], after: dict[str, pa.Table]
                      ) -> dict:
    """The `since` statements over `after`, with `before`, its analytics and topic sums
    `published` as the previous snapshot's and the touched articles found by comparing whole tables."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    for name in WAREHOUSE:
        con.register(name, after[name])
        con.register(PREVIOUS + name, before[name])
    tables, sums = published
    for name in ANALYTICS:
        con.register(PREVIOUS + name, conform(name, tables[name]))
    con.register(PREVIOUS_SUMS, sums)
    create_touched(con, {name: (name, PREVIOUS + name) for name in ARTICLE_OF}, INPUT_COLUMNS)
    touched = {name: {row[0] for row in con.execute(f"SELECT * FROM {name}").fetchall()} for name in (TOUCHED, PROVIDERS)}
    tables = {}
    for name, statements in analytics_queries(con, 10.0, 3, since=True):
        table = pa.concat_tables([arrow_reader(con, sql, 1000).read_all() for sql in statements])
        tables[name] = to_frame(table.cast(TABLES[name].schema))
    con.close()
    return tables, touched


@settings(max_examples=examples(30), deadline=None)
@given(data=st.data())
def test_the_analytics_of_a_change_equal_the_analytics_made_anew(data):
    indices = st.integers(0, len(NEWS) - 1)
    before = {f"site-0/_news/{i}.md": NEWS[i] for i in data.draw(st.sets(indices, min_size=20, max_size=60))}
    after = dict(before)
    for path in data.draw(st.lists(st.sampled_from(sorted(before)), max_size=4, unique=True)):
        del after[path]
    for i in data.draw(st.lists(indices, max_size=4)):
        after[f"site-0/_news/added-{i}.md"] = NEWS[i]
    for path, edit, other in data.draw(st.lists(st.tuples(st.sampled_from(sorted(after)), st.sampled_from(sorted(EDITS)),
                                                          indices), max_size=4)):
        after[path] = EDITS[edit](after[path], NEWS[other])
    old, new = warehouse(before), warehouse(after)
    assume(old["topics"].equals(new["topics"]))  # another taxonomy (or topic seen first) is computed anew
    expected = sql_tables(new, 10.0, 3)
    actual, touched = changed_analytics(old, published_analytics(old), new)
    if after == before:
        assert touched == {TOUCHED: set(), PROVIDERS: set()}
    for name in ANALYTICS:
        assert_frame_equal(actual[name], expected[name], check_exact=name not in SUMMED, obj=name)


def test_a_change_to_one_article_touches_it_and_its_providers_only():
    before = {f"site-0/_news/{i}.md": NEWS[i] for i in range(40)}
    edited = next(path for path, data in before.items() if b"\nrelated:\n" in data)
    after = {**before, edited: EDITS["quality"](before[edited], b"")}
    old, new = warehouse(before), warehouse(after)
    actual, touched = changed_analytics(old, published_analytics(old), new)
    article = new["sources"].to_pandas().set_index("source_path").loc[edited, "article_id"]
    assert touched[TOUCHED] == {article}
    articles = new["articles"].to_pandas().set_index("article_id")
    assert articles.loc[article, "provider_domain"] in touched[PROVIDERS]
    assert len(touched[PROVIDERS]) < len(new["providers"]) / 2
    expected = sql_tables(new, 10.0, 3)
    for name in ANALYTICS:
        assert_frame_equal(actual[name], expected[name], check_exact=name not in SUMMED, obj=name)


def test_every_table_the_analytics_read_is_compared():
    """A table the analytics read row by row names the article of each row (ARTICLE_OF); the
    small ones are compared whole (topics, providers); `sources` the SQL does not read."""
    assert set(ARTICLE_OF) | {"topics", "providers"} == set(ANALYTICS_READS)
    for module in (REPO / "pipelines" / "sql").glob("*.py"):
        assert not re.search(r"(FROM|JOIN)\s+sources\b", module.read_text()), module.name
