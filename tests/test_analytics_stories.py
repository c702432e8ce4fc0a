"""Stories: exact tables on a hand-built warehouse, and properties over generated ones."""

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from newsfm.transforms.analytics.stories import component_roots, story_tables
from newsfm.transforms.keys import short_hash
from newsfm.transforms.schema import TABLES, conform, frame
from tests.conftest import examples

UTC = dt.timezone.utc
FILLER = {"string": "-", "list<item: string>": []}


def table(name: str, **columns: list) -> pd.DataFrame:
    """Frame `name` from the given column lists; columns the stories do not read get None,
    or a placeholder when they are declared not null."""
    n_rows = len(next(iter(columns.values())))

    def filler(field) -> list:
        return [None if field.nullable else FILLER[str(field.type)] for _ in range(n_rows)]

    return frame(
        name,
        {field.name: columns[field.name] if field.name in columns else filler(field) for field in TABLES[name].schema},
    )


def expected(name: str, rows: list[tuple]) -> pd.DataFrame:
    """Frame `name` from literal rows (in schema column order), sorted as the table is."""
    columns = TABLES[name].columns
    keys = [columns.index(column) for column in TABLES[name].order]
    rows = sorted(rows, key=lambda row: [row[k] for k in keys])
    return frame(name, {column: [row[i] for row in rows] for i, column in enumerate(columns)})


def at(hour: int, minute: int = 0, day: int = 1) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, tzinfo=UTC)


def warehouse(articles: pd.DataFrame, related: pd.DataFrame, article_topics: pd.DataFrame) -> dict:
    """The seven warehouse frames; the four the stories do not read are left minimal."""
    ids = articles["article_id"].tolist()
    return {
        "sources": table("sources", source_path=[f"{i}.md" for i in ids], status=["loaded"] * len(ids), article_id=ids),
        "articles": articles,
        "providers": table("providers", provider_domain=["p1.com", "p2.com", "p3.com", "p4.com", "p5.com", "p9.com"]),
        "topics": table("topics", topic_id=["ai", "cloud", "security"]),
        "article_topics": article_topics,
        "related": related,
        "images": table("images", owner_type=[], owner_id=[], position=[], url=[]),
    }


# Story 1: article a (p1.com, 10:00) lists x (p2.com, 10:30), y (p3.com, 12:00) and v (p2.com, 11:00).
# Story 2: articles c and d, both at 08:00, merge through d listing c and both listing z; the tie goes
#   to c, the smaller id. d's rows for c and z are ignored: c is an article, and c lists z first.
#   w has neither date nor provider.
# Story 3: article e alone.
HAND_BUILT = warehouse(
    articles=table(
        "articles",
        article_id=["a", "c", "d", "e"],
        published_at=[at(10), at(8), at(8), at(6, day=2)],
        quality=[50, 40, None, None],
        provider_domain=["p1.com", "p2.com", "p4.com", "p1.com"],
    ),
    related=table(
        "related",
        article_id=["a", "a", "a", "c", "d", "d", "d"],
        position=[0, 1, 2, 0, 0, 1, 2],
        related_article_id=["x", "y", "v", "z", "c", "z", "w"],
        published_at=[at(10, 30), at(12), at(11), at(8, 15), at(7), at(7), None],
        provider_domain=["p2.com", "p3.com", "p2.com", "p3.com", "p5.com", "p9.com", None],
        quality=[70, None, None, 80, 99, 20, 30],
    ),
    article_topics=table(
        "article_topics",
        article_id=["a", "a", "c", "d", "d"],
        topic_id=["cloud", "ai", "ai", "security", "ai"],
        position=[0, 1, 0, 0, 1],
    ),
)
STORY_1, STORY_2, STORY_3 = (short_hash(f"story:{item}") for item in "ace")


def test_stories_of_the_hand_built_warehouse():
    assert_same(
        story_tables(HAND_BUILT)["stories"],
        expected(
            "stories",
            [
                (STORY_1, 4, 3, at(10), "p1.com", 2.0, 60.0, ["ai", "cloud"]),
                (STORY_2, 4, 3, at(8), "p2.com", 0.25, 50.0, ["ai", "security"]),
                (STORY_3, 1, 1, at(6, day=2), "p1.com", 0.0, None, []),
            ],
        ),
    )


def test_story_members_of_the_hand_built_warehouse():
    assert_same(
        story_tables(HAND_BUILT)["story_members"],
        expected(
            "story_members",
            [
                (STORY_1, "a", "p1.com", at(10), 0.0, True),
                (STORY_1, "v", "p2.com", at(11), 60.0, False),
                (STORY_1, "x", "p2.com", at(10, 30), 30.0, False),
                (STORY_1, "y", "p3.com", at(12), 120.0, False),
                (STORY_2, "c", "p2.com", at(8), 0.0, True),
                (STORY_2, "d", "p4.com", at(8), 0.0, False),
                (STORY_2, "w", None, None, None, False),
                (STORY_2, "z", "p3.com", at(8, 15), 15.0, False),
                (STORY_3, "e", "p1.com", at(6, day=2), 0.0, True),
            ],
        ),
    )


def test_provider_timeliness_of_the_hand_built_warehouse():
    # Story 3 has one provider, so it counts for nobody; p2.com is judged in story 1 by x, its
    # earliest item; p5.com and p9.com appear only in ignored rows.
    assert_same(
        story_tables(HAND_BUILT)["provider_timeliness"],
        expected(
            "provider_timeliness",
            [
                ("p1.com", 1, 1, 1.0, 0.0, 0.0),
                ("p2.com", 2, 1, 0.5, 15.0, 27.0),
                ("p3.com", 2, 0, 0.0, 67.5, 109.5),
                ("p4.com", 1, 0, 0.0, 0.0, 0.0),
            ],
        ),
    )


def test_an_empty_warehouse_has_no_stories():
    empty = warehouse(
        table("articles", article_id=[]), table("related", article_id=[]), table("article_topics", article_id=[])
    )
    for name, result in story_tables(empty).items():
        assert result.empty
        conform(name, result)


def test_a_long_chain_is_one_component_without_recursion():
    n_nodes = 200_000
    edges = [(i + 1, i) for i in reversed(range(n_nodes - 1))]
    assert set(component_roots(n_nodes, edges)) == {0}


def assert_same(result: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(result, want, check_exact=True)


ITEM_IDS = st.text("abcdef", min_size=1, max_size=2)
RELATED_ONLY = ["r1", "r2", "r3"]
PROVIDERS = st.sampled_from([None, "p1.com", "p2.com", "p3.com"])
TIMES = st.integers(0, 4).map(lambda half_hours: at(8) + dt.timedelta(minutes=30 * half_hours))
QUALITIES = st.none() | st.integers(0, 100)


@st.composite
def warehouses(draw) -> dict:
    """Small warehouses with few ids and times, so merges, shared items and ties are common."""
    ids = draw(st.lists(ITEM_IDS, unique=True, max_size=8))
    articles = {"article_id": ids, "published_at": [], "quality": [], "provider_domain": []}
    related = {
        k: [] for k in ("article_id", "position", "related_article_id", "published_at", "provider_domain", "quality")
    }
    topics = {"article_id": [], "topic_id": [], "position": []}
    for article in ids:
        articles["published_at"].append(draw(TIMES))
        articles["quality"].append(draw(QUALITIES))
        articles["provider_domain"].append(draw(PROVIDERS))
        targets = draw(st.lists(st.sampled_from(ids + RELATED_ONLY), max_size=3))
        for position, target in enumerate(targets):
            for column, value in zip(
                related,
                (article, position, target, draw(st.none() | TIMES), draw(PROVIDERS), draw(QUALITIES)),
            ):
                related[column].append(value)
        for position, topic in enumerate(draw(st.lists(st.sampled_from(["t1", "t2", "t3"]), unique=True))):
            for column, value in zip(topics, (article, topic, position)):
                topics[column].append(value)
    return warehouse(table("articles", **articles), table("related", **related), table("article_topics", **topics))


@settings(max_examples=examples(50), deadline=None)
@given(warehouses())
def test_properties_of_generated_warehouses(wh):
    result = story_tables(wh)
    stories, members = result["stories"], result["story_members"]
    related = wh["related"]
    for name, frame_ in result.items():
        conform(name, frame_)

    nodes = set(wh["articles"]["article_id"]) | set(related["related_article_id"])
    assert members["item_id"].is_unique and set(members["item_id"]) == nodes
    assert stories["n_items"].sum() == len(members)
    assert set(stories["story_id"]) == set(members["story_id"])

    story_of = dict(zip(members["item_id"], members["story_id"]))
    assert all(story_of[a] == story_of[b] for a, b in zip(related["article_id"], related["related_article_id"]))
    smallest = members.groupby("story_id")["item_id"].min()
    assert all(story == short_hash(f"story:{item}") for story, item in smallest.items())

    dated = members[members["published_at"].notna()]
    firsts = members[members["is_first"]]
    assert firsts["story_id"].is_unique and set(firsts["story_id"]) == set(dated["story_id"])
    assert (members["lag_minutes"].isna() == members["published_at"].isna()).all()
    assert (dated["lag_minutes"] >= 0).all()

    timeliness = result["provider_timeliness"]
    assert (timeliness["n_first"] <= timeliness["n_stories"]).all()
