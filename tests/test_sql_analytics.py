"""The SQL analytics (`pipelines.sql`) against the pandas reference (`transforms.analytics`).

Every warehouse here is registered in DuckDB table by table (Arrow tables of the warehouse
schemas); each of the nine statements is streamed as Arrow batches, cast to its table's schema
and compared with the reference frame: the same rows in the same order, the same nulls, floats
equal to 1e-9 relative.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from newsfm.pipelines.discover import read_folder
from newsfm.pipelines.sql import stories
from newsfm.pipelines.sql.analytics import analytics_queries
from newsfm.pipelines.sql.common import arrow_reader
from newsfm.pipelines.sql.stories import component_roots
from newsfm.synthetic.corpus import generate_corpus
from newsfm.transforms.analytics import analytics_tables
from newsfm.transforms.analytics.stories import component_roots as reference_roots
from newsfm.transforms.extract import extract
from newsfm.transforms.normalize import normalize_batch
from newsfm.transforms.pipeline import warehouse_frames
from newsfm.transforms.schema import TABLES, conform, frame, to_frame
from tests.conftest import REPO, examples
from tests.handbuilt import handbuilt_warehouse
from tests.test_analytics_stories import HAND_BUILT
from tests.test_analytics_topics import warehouses as topic_warehouses

UTC = dt.timezone.utc
WAREHOUSE = [name for name, spec in TABLES.items() if spec.layer == "warehouse"]
ANALYTICS = [name for name, spec in TABLES.items() if spec.layer == "analytics"]


def connect(warehouse: dict[str, pd.DataFrame | pa.Table]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding the warehouse tables given (the analytics read all but
    `fields`), as the build's views would."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    for name in WAREHOUSE:
        if name not in warehouse:
            continue
        table = warehouse[name]
        con.register(name, table if isinstance(table, pa.Table) else conform(name, table))
    return con


def sql_tables(warehouse: dict, prior_weight: float, min_scored: int, sums_into: Path | None = None
               ) -> dict[str, pd.DataFrame]:
    """Each statement run before the next is asked for and streamed in small batches, as the
    build does; its columns have the names and the Arrow types of the schema (only the
    nullability is not declared), so a writer needs no conversion."""
    con = connect(warehouse)
    tables = {}
    for name, statements in analytics_queries(con, prior_weight, min_scored, sums_into=sums_into):
        schema = TABLES[name].schema
        table = pa.concat_tables([arrow_reader(con, sql, 1000).read_all() for sql in statements])
        assert [(f.name, f.type) for f in table.schema] == [(f.name, f.type) for f in schema], name
        tables[name] = to_frame(table.cast(schema))
    con.close()
    return tables


SUMMED = {"topic_coverage_daily"}  # share_of_day sums fractions (`fsum`, compensated)


def assert_same(warehouse: dict, prior_weight: float = 10.0, min_scored: int = 3) -> dict[str, pd.DataFrame]:
    """The SQL tables equal the reference's; returns them."""
    frames = {name: to_frame(t) if isinstance(t, pa.Table) else t for name, t in warehouse.items()}
    expected = analytics_tables(frames, prior_weight=prior_weight, min_scored=min_scored)
    actual = sql_tables(warehouse, prior_weight, min_scored)
    assert list(actual) == ANALYTICS
    for name in ANALYTICS:
        reference = expected[name].sort_values(list(TABLES[name].order), ignore_index=True)
        if name in SUMMED:  # floats added in no fixed order: equal to within rounding
            assert_frame_equal(actual[name], reference, check_exact=False, rtol=1e-12, obj=name)
        else:  # bit for bit: counts, exact sums of integer scores, picked and interpolated values
            assert_frame_equal(actual[name], reference, check_exact=True, obj=name)
    return actual


def folder_warehouse(root: Path) -> dict[str, pd.DataFrame]:
    return warehouse_frames([normalize_batch(read_folder(root))])


def files_warehouse(files: list[tuple[str, bytes]]) -> dict[str, pd.DataFrame]:
    """The warehouse of (path, bytes) pairs, as one batch."""
    return warehouse_frames([normalize_batch([extract(path, data, 1 << 20) for path, data in files])])


def generated_warehouse(count: int, seed: int) -> dict[str, pd.DataFrame]:
    return files_warehouse(list(generate_corpus(count, seed)))


# -- real, seed, site and generated corpora ------------------------------------------------


def test_shared_real_corpus(corpus):
    actual = assert_same(folder_warehouse(corpus))
    assert len(actual["stories"]) > 10 and actual["provider_quality"]["quality_rank"].notna().any()


def test_seed():
    actual = assert_same(folder_warehouse(REPO / "data" / "raw"))
    assert len(actual["story_members"]) == 15


def test_smartable_site():
    assert_same(folder_warehouse(REPO / "tests" / "site"))


@pytest.fixture(scope="module")
def generated() -> dict[str, pd.DataFrame]:
    """A few thousand generated files, duplicates and rejects included."""
    return generated_warehouse(3000, seed=11)


def test_generated_corpus_with_defaults(generated):
    statuses = set(generated["sources"]["status"])
    assert {"loaded", "duplicate", "rejected"} <= statuses
    actual = assert_same(generated)
    quality = actual["provider_quality"]
    ranks = quality["quality_rank"].dropna()
    assert ranks.nunique() < len(ranks), "generated providers tie on their shrunk quality"
    assert (actual["stories"]["n_items"] > 2).any()


@pytest.mark.parametrize(("prior_weight", "min_scored"), [(0.0, 1), (2.5, 2), (37.1, 0)])
def test_generated_corpus_with_other_settings(generated, prior_weight, min_scored):
    assert_same(generated, prior_weight, min_scored)


def test_another_generated_corpus():
    assert_same(generated_warehouse(1200, seed=3), prior_weight=1.0, min_scored=5)


def test_stories_sorted_a_range_of_story_ids_at_a_time(generated, monkeypatch):
    monkeypatch.setattr(stories, "RANGE_ROWS", 100)  # 64 ranges of a few thousand members
    queries = dict(analytics_queries(connect(generated), 10.0, 3))
    assert len(queries["stories"]) == len(queries["story_members"]) > 16
    assert_same(generated)


# -- hand-made warehouses and edge cases -----------------------------------------------------


def test_handbuilt_warehouses():
    for settings_ in [(10.0, 3), (10.0, 2), (0.0, 2)]:
        assert_same(handbuilt_warehouse(), *settings_)
    assert_same(HAND_BUILT)


def empty(name: str) -> pd.DataFrame:
    return frame(name, {column: [] for column in TABLES[name].columns})


def test_empty_warehouse():
    actual = assert_same({name: empty(name) for name in WAREHOUSE})
    assert all(len(table) == 0 for table in actual.values())


def table(name: str, **columns: list) -> pd.DataFrame:
    """Frame `name` from the given columns; the others null, or a placeholder when declared not null."""
    n_rows = len(next(iter(columns.values())))
    filler = {"string": "-", "list<item: string>": []}

    def default(field: pa.Field) -> list:
        return [None if field.nullable else filler.get(str(field.type), "-") for _ in range(n_rows)]

    return frame(name, {f.name: columns[f.name] if f.name in columns else default(f) for f in TABLES[name].schema})


def at(hour: int, minute: int = 0, day: int = 1, month: int = 5) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, tzinfo=UTC)


def warehouse(
    articles: dict, related: dict | None = None, topics: dict | None = None, article_topics: dict | None = None,
    providers: list[str] | None = None, images: list[tuple[str, str]] = (),
) -> dict[str, pd.DataFrame]:
    """A warehouse from column dicts; `related`, `topics`, `article_topics` may be left out."""
    ids = articles["article_id"]
    seen = set(articles.get("provider_domain", [])) | set((related or {}).get("provider_domain", []))
    providers = sorted(d for d in seen if d) if providers is None else providers
    return {
        "sources": table("sources", source_path=[f"{i}.md" for i in ids], status=["loaded"] * len(ids), article_id=ids),
        "articles": table("articles", **articles),
        "providers": table("providers", provider_domain=providers, provider_name=[p.upper() for p in providers]),
        "topics": table("topics", **topics) if topics else empty("topics"),
        "article_topics": table("article_topics", **article_topics) if article_topics else empty("article_topics"),
        "related": table("related", **related) if related else empty("related"),
        "images": table(
            "images",
            owner_type=[kind for kind, _ in images],
            owner_id=[owner for _, owner in images],
            position=[0] * len(images),
            url=["u"] * len(images),
        )
        if images
        else empty("images"),
    }


def test_one_article():
    actual = assert_same(
        warehouse({"article_id": ["a"], "published_at": [at(10)], "quality": [70], "provider_domain": ["p.com"]})
    )
    quality = actual["provider_quality"]
    assert quality["quality_std"].isna().all() and quality["n_scored"].tolist() == [1]
    assert actual["stories"]["topic_ids"].tolist() == [[]]


def test_taxonomy_cycles_and_unknown_parents():
    # t1 ⇄ t2 is a cycle, t3 its own parent, t4's parent is no topic, t5 under t1; x is filed but no topic
    topics = {
        "topic_id": ["t1", "t2", "t3", "t4", "t5"],
        "topic_name": ["T1", "T2", "T3", "T4", "T5"],
        "parent_topic_id": ["t2", "t1", "t3", "nowhere", "t1"],
    }
    # t4 has more articles without a provider (c, e) than with one (f): its top provider is f's
    links = [("a", "t1"), ("a", "t5"), ("b", "t2"), ("b", "t3"), ("c", "t4"), ("c", "x"), ("d", "t5"),
             ("e", "t4"), ("f", "t4")]
    actual = assert_same(
        warehouse(
            {
                "article_id": ["a", "b", "c", "d", "e", "f"],
                "published_at": [at(1), at(2), at(3, day=2), at(23, 59), at(4), at(5)],
                "quality": [10, None, 30, 40, None, 7],
                "provider_domain": ["p.com", "q.com", None, "p.com", None, "q.com"],
            },
            topics=topics,
            article_topics={
                "article_id": [a for a, _ in links],
                "topic_id": [t for _, t in links],
                "position": [0, 1, 0, 1, 0, 1, 0, 0, 0],
            },
        )
    )
    coverage = actual["topic_coverage"].set_index("topic_id")
    assert coverage.loc["t1", "n_articles_rollup"] == coverage.loc["t2", "n_articles_rollup"] == 3
    assert coverage.loc["t4", "top_provider_domain"] == "q.com"


def test_ties_single_scores_and_undated_items():
    # p.com (c, b and a's listing of c: 50, 70, 60) and q.com (a and b's listing of y: 60, 60) both
    # average 60: they tie in rank with prior_weight 0; r.com has one score (std null), s.com none, t.com
    # no appearance. In a's story b, c and z are the earliest, at 09:00: b is first, the smallest id; y
    # has no date, z no provider, b:9 is no related row. e lists itself. In g's story p.com has the
    # first item and a later one.
    articles = {
        "article_id": ["c", "b", "a", "e", "g"],
        "published_at": [at(9), at(9), at(12), at(9), at(9, day=3)],
        "quality": [50, 70, 60, None, None],
        "provider_domain": ["p.com", "p.com", "q.com", "s.com", "p.com"],
    }
    related = {
        "article_id": ["a", "a", "a", "b", "b", "e", "g", "g"],
        "position": [0, 1, 2, 0, 1, 0, 0, 1],
        "related_article_id": ["c", "y", "z", "y", "x", "e", "h", "i"],
        "published_at": [at(9), None, at(9), at(10), at(10), at(9), at(10, day=3), at(11, day=3)],
        "provider_domain": ["p.com", "r.com", None, "q.com", "r.com", "s.com", "p.com", "q.com"],
        "quality": [60, None, 20, 60, 80, None, None, None],
    }
    topics = {"topic_id": ["k", "m"], "topic_name": ["K", "M"], "parent_topic_id": [None, None]}
    article_topics = {"article_id": ["a", "b", "c", "c"], "topic_id": ["m", "k", "k", "m"], "position": [0, 0, 0, 1]}
    images = [("article", "a"), ("related", "a:1"), ("related", "b:9"), ("provider", "p.com")]
    providers = ["p.com", "q.com", "r.com", "s.com", "t.com"]
    built = warehouse(articles, related, topics, article_topics, providers=providers, images=images)
    for prior_weight, min_scored in [(10.0, 1), (0.0, 2), (3.0, 0)]:
        actual = assert_same(built, prior_weight, min_scored)
        ranks = dict(zip(actual["provider_quality"]["provider_domain"], actual["provider_quality"]["quality_rank"]))
        if prior_weight == 0.0:
            assert ranks["p.com"] == ranks["q.com"] == 1
    members = actual["story_members"].set_index("item_id")
    assert members["is_first"].sum() == actual["stories"]["first_published_at"].notna().sum() == 3
    assert members.loc["b", "is_first"] and not members.loc["c", "is_first"]


def test_chains_merge_stories_across_files():
    # a → b → c → d through related lists of articles, and e lists d: one story, first published by g,
    # an item without a provider; f alone
    ids = ["a", "b", "c", "d", "e", "f"]
    related = {
        "article_id": ["a", "b", "c", "e", "e"],
        "position": [0, 0, 0, 0, 1],
        "related_article_id": ["b", "c", "d", "d", "g"],
        "published_at": [at(2), at(3), None, at(1), at(0)],
        "provider_domain": ["p2.com", "p3.com", "p4.com", "p4.com", None],
        "quality": [1, 2, 3, 4, 5],
    }
    articles = {
        "article_id": ids,
        "published_at": [at(i + 1) for i in range(6)],
        "quality": [None] * 6,
        "provider_domain": ["p1.com", "p2.com", "p3.com", None, "p5.com", "p1.com"],
    }
    actual = assert_same(warehouse(articles, related))
    assert actual["stories"]["n_items"].sort_values().tolist() == [1, 6]
    assert actual["stories"]["first_provider_domain"].isna().sum() == 1


def test_articles_without_dates_agree_although_the_schema_forbids_them():
    built = warehouse(
        {
            "article_id": ["a", "b", "c"],
            "published_at": [at(1), at(2), at(3)],
            "quality": [1, 2, 3],
            "provider_domain": ["p.com", "q.com", "q.com"],
        },
        related={
            "article_id": ["a", "c"], "position": [0, 0], "related_article_id": ["b", "z"],
            "published_at": [None, None], "provider_domain": ["q.com", "r.com"], "quality": [None, 4],
        },
        topics={"topic_id": ["k"], "topic_name": ["K"], "parent_topic_id": [None]},
        article_topics={"article_id": ["b", "c"], "topic_id": ["k", "k"], "position": [0, 0]},
    )
    schema = TABLES["articles"].schema
    relaxed = schema.set(schema.get_field_index("published_at"), schema.field("published_at").with_nullable(True))
    articles = built["articles"].assign(published_at=built["articles"]["published_at"].where([True, False, False]))
    arrow = {name: conform(name, frame) for name, frame in built.items() if name != "articles"}
    arrow["articles"] = pa.Table.from_pandas(articles, schema=relaxed, preserve_index=False)
    actual = assert_same(arrow)
    assert actual["story_members"]["is_first"].sum() == 1


def test_inconsistent_related_rows_fail_like_the_reference():
    built = warehouse(
        {"article_id": ["a"], "published_at": [at(1)], "quality": [1], "provider_domain": ["p.com"]},
        related={"article_id": ["ghost"], "position": [0], "related_article_id": ["a"]},
    )
    with pytest.raises(ValueError, match="inconsistent"):
        analytics_tables(built)
    with pytest.raises(ValueError, match="inconsistent"):
        sql_tables(built, 10.0, 3)


def test_temporary_tables_can_be_made_again_on_one_connection():
    con = connect(handbuilt_warehouse())
    for _ in range(2):
        counts = {name: sum(len(con.sql(sql).to_arrow_table()) for sql in statements)
                  for name, statements in analytics_queries(con, 10.0, 3)}
    assert counts["stories"] == 4


# -- properties --------------------------------------------------------------------------


@st.composite
def story_warehouses(draw) -> tuple[dict[str, pd.DataFrame], float, int]:
    """The topic tests' random warehouses, with related items that are often other articles or
    items listed by several articles, so stories merge; and random settings."""
    built = draw(topic_warehouses())
    article_ids = built["articles"]["article_id"].tolist()
    related = built["related"]
    pool = article_ids + ["r1", "r2", "r3"]
    targets = [draw(st.sampled_from(pool)) for _ in range(len(related))]
    built["related"] = related.assign(related_article_id=pd.array(targets, dtype=related["related_article_id"].dtype))
    return built, draw(st.sampled_from([0.0, 1.0, 10.0])), draw(st.integers(0, 3))


@settings(max_examples=examples(40), deadline=None)
@given(story_warehouses())
def test_random_warehouses(case):
    built, prior_weight, min_scored = case
    assert_same(built, prior_weight, min_scored)


@st.composite
def graphs(draw) -> tuple[int, list[tuple[int, int]]]:
    n_nodes = draw(st.integers(0, 60))
    if n_nodes == 0:
        return 0, []
    node = st.integers(0, n_nodes - 1)
    return n_nodes, draw(st.lists(st.tuples(node, node), max_size=90))


@settings(max_examples=examples(300), deadline=None)
@given(graphs())
def test_component_roots_match_the_reference(graph):
    n_nodes, edges = graph
    sources = np.array([a for a, _ in edges], dtype=np.int64)
    targets = np.array([b for _, b in edges], dtype=np.int64)
    assert component_roots(n_nodes, sources, targets).tolist() == reference_roots(n_nodes, edges)


@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled", "zigzag"])
def test_component_roots_of_long_chains(order):
    n_nodes = 20_000
    path = np.arange(n_nodes, dtype=np.int64)
    if order == "descending":
        path = path[::-1].copy()
    elif order == "shuffled":
        path = np.random.default_rng(0).permutation(n_nodes)
    elif order == "zigzag":  # 0, n-1, 1, n-2, ...: every other node a local minimum
        path = np.ravel(np.column_stack([path[: n_nodes // 2], path[::-1][: n_nodes // 2]]))
    edges = list(zip(path[:-1].tolist(), path[1:].tolist()))
    roots = component_roots(n_nodes, path[:-1], path[1:])
    assert roots.tolist() == reference_roots(n_nodes, edges) == [0] * n_nodes


def test_each_pandas_reference_and_its_sql_twin_name_each_other():
    """transforms/analytics/<family>.py and pipelines/sql/<family>.py: found from either side."""
    families = sorted(path.stem for path in (REPO / "transforms" / "analytics").glob("*.py")
                      if path.stem not in ("__init__", "headlines"))
    assert families == sorted(path.stem for path in (REPO / "pipelines" / "sql").glob("*.py")
                              if path.stem not in ("__init__", "analytics", "changed", "common", "engine"))
    for family in families:
        reference = (REPO / "transforms" / "analytics" / f"{family}.py").read_text().split('"""')[1]
        twin = (REPO / "pipelines" / "sql" / f"{family}.py").read_text().split('"""')[1]
        assert f"pipelines/sql/{family}.py" in reference and f"transforms.analytics.{family}" in twin, family
