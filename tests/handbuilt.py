"""A small warehouse written out row by row, so analytics tests can check values by hand.

    provider    seen in                    topics (parent → children)
    alpha.com   articles a1 a2 a3          ai → ml, robotics   (taxonomy)
    beta.org    articles a4 a5 a6, related aws-ai              (observed)
    gamma.net   related only

    article  provider   published_at (UTC)   quality  topics          related (position: item, provider, quality)
    a1       alpha.com  2024-02-29 10:00     80       ml, robotics    0: a4 beta 40 [image]  1: g1 gamma 90
    a2       alpha.com  2024-03-01 09:00     60       robotics, ml    0: g2 gamma –, undated [image]
    a3       alpha.com  2024-03-01 23:30     –        aws-ai, ml
    a4       beta.org   2024-03-01 12:00     40       robotics        0: g1 gamma 90
    a5       beta.org   2024-03-02 00:10     50       –
    a6       beta.org   2024-03-02 08:00     70       aws-ai          0: a5 beta 50

Images: a1 has two, a4 one, related a1:0 and a2:0 one each; alpha.com has a logo (a
provider image, which is no appearance's image). Topic `ai` has no article of its own.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from newsfm.transforms.schema import TABLES, frame

UTC = dt.timezone.utc


URLS = [f"https://alpha.com/{key}" for key in ("a1", "a2", "a3")] + [
    f"https://beta.org/{key}" for key in ("a4", "a5", "a6")
]


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, tzinfo=UTC)


def table(name: str, columns: dict[str, list]) -> pd.DataFrame:
    """Frame `name` of `columns`, its other columns null (they must be nullable): a new column
    of a table needs no change here unless it may not be null."""
    rows = len(next(iter(columns.values())))
    return frame(name, {column: columns.get(column, [None] * rows) for column in TABLES[name].columns})


def handbuilt_warehouse() -> dict[str, pd.DataFrame]:
    """The seven warehouse frames the analytics read, of the module docstring, typed by the schema."""
    return {
        "sources": table(
            "sources",
            {
                "source_path": [f"news/{a}.md" for a in ("a1", "a2", "a3", "a4", "a5", "a6")],
                "kind": ["article"] * 6,
                "content_sha256": ["0" * 64] * 6,
                "size_bytes": [100] * 6,
                "status": ["loaded"] * 6,
                "article_id": ["a1", "a2", "a3", "a4", "a5", "a6"],
            },
        ),
        "articles": table(
            "articles",
            {
                "article_id": ["a1", "a2", "a3", "a4", "a5", "a6"],
                "source_path": ["news/a1.md", "news/a2.md", "news/a3.md", "news/a4.md", "news/a5.md", "news/a6.md"],
                "title": ["A1", "A2", "A3", "A4", "A5", "A6"],
                "category": ["news"] * 6,
                "type": ["article"] * 6,
                "published_at": [at(29, 10, month=2), at(1, 9), at(1, 23, 30), at(1, 12), at(2, 0, 10), at(2, 8)],
                "web_url": URLS,
                "url_source": ["webUrl"] * 6,
                "canonical_url": URLS,
                "quality": [80, 60, None, 40, 50, 70],
                "published": [True] * 6,
                "provider_domain": ["alpha.com", "alpha.com", "alpha.com", "beta.org", "beta.org", "beta.org"],
            },
        ),
        "providers": table(
            "providers",
            {
                "provider_domain": ["alpha.com", "beta.org", "gamma.net"],
                "provider_name": ["Alpha News", "Beta", "Gamma Daily"],
                "name_source": ["items"] * 3,
                "logo_url": ["/logo.png", None, None],
                "origin": ["observed"] * 3,
            },
        ),
        "topics": table(
            "topics",
            {
                "topic_id": ["ai", "aws-ai", "ml", "robotics"],
                "topic_name": ["AI", "AWS AI", "Machine Learning", "Robotics"],
                "parent_topic_id": [None, None, "ai", "ai"],
                "keywords": [["ai"], [], ["ml", "deep learning"], ["robots"]],
                "origin": ["taxonomy", "observed", "taxonomy", "taxonomy"],
            },
        ),
        "article_topics": table(
            "article_topics",
            {
                "article_id": ["a1", "a1", "a2", "a2", "a3", "a3", "a4", "a6"],
                "topic_id": ["ml", "robotics", "robotics", "ml", "aws-ai", "ml", "robotics", "aws-ai"],
                "position": [0, 1, 0, 1, 0, 1, 0, 0],
            },
        ),
        "related": table(
            "related",
            {
                "article_id": ["a1", "a1", "a2", "a4", "a6"],
                "position": [0, 1, 0, 0, 0],
                "related_article_id": ["a4", "g1", "g2", "g1", "a5"],
                "title": ["A4", "G1", "G2", "G1", "A5"],
                "published_at": [at(1, 12), at(28, 20, month=2), None, at(28, 20, month=2), at(2, 0, 10)],
                "web_url": [
                    "https://beta.org/a4",
                    "https://gamma.net/g1",
                    "https://gamma.net/g2",
                    "https://gamma.net/g1",
                    "https://beta.org/a5",
                ],
                "url_source": ["webUrl"] * 5,
                "type": ["article"] * 5,
                "provider_domain": ["beta.org", "gamma.net", "gamma.net", "gamma.net", "beta.org"],
                "quality": [40, 90, None, 90, 50],
            },
        ),
        "images": table(
            "images",
            {
                "owner_type": ["article", "article", "article", "provider", "related", "related"],
                "owner_id": ["a1", "a1", "a4", "alpha.com", "a1:0", "a2:0"],
                "position": [0, 1, 0, 0, 0, 0],
                "url": [
                    "https://img/a1-0.jpg",
                    "https://img/a1-1.jpg",
                    "https://img/a4.jpg",
                    "/logo.png",
                    "https://img/r-a1-0.jpg",
                    "https://img/r-a2-0.jpg",
                ],
                "absolute_url": [
                    "https://img/a1-0.jpg",
                    "https://img/a1-1.jpg",
                    "https://img/a4.jpg",
                    None,
                    "https://img/r-a1-0.jpg",
                    "https://img/r-a2-0.jpg",
                ],
                "width": [640, 640, 640, 32, None, None],
                "height": [480, 480, 480, 32, None, None],
                "is_cached": [True, None, False, None, None, None],
            },
        ),
    }
