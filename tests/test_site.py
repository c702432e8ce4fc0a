"""A whole Smartable-style site checkout (tests/site, written for these tests): what each file
becomes, row for row, and the rules of `transforms.site` one by one.

    tests/site/
      _config.yml                         url https://example.github.io, baseurl /ai-news; its collections'
                                          defaults shared by anchors, aliases and merge keys, as Smartable's
      _news/2021-03-01-alpha-ships-a-robot.md   an article; its related item is a video without webUrl
      _news/2021-03-02-a-talk-on-robots.md      a video item: originalUrl and featuredContent, no webUrl
      _archive/_news/2020-11-20-alpha-opens-a-lab.md   an archived item (a nested `_news`), with a key newsfm does not read
      _data/topics/ai.yaml                topic AI
      _data/organizations/alpha.com.md    front matter; two logo sizes, site-relative
      _data/organizations/gamma.net.yaml  plain YAML, no `domain` (its `_id` gives it); bare logo URLs
      _learning/courses/..., _learning/videos/... (the latter with webUrl and publishedDateTime),
      _samples/..., _people/..., _newsletters/2021-03.html, about.md   not news: skipped
      README.md (no front matter)                                       a page of the site: skipped
      api/news/index.json, assets/css/site.css, Gemfile, sitemap.xml    unsupported: skipped
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePosixPath

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsfm.pipelines.discover import read_folder
from newsfm.transforms.article import (
    Article,
    Image,
    OrganizationEntry,
    SiteConfig,
    to_logos,
    to_organization,
    to_site_config,
)
from newsfm.transforms.combine import PAGE_MESSAGE
from newsfm.transforms.extract import extract
from newsfm.transforms.frontmatter import Rejected, read_yaml_mapping
from newsfm.transforms.keys import article_id
from newsfm.transforms.pipeline import tables_of
from newsfm.transforms.site import (
    ARTICLE,
    MARKDOWN,
    NEWS_COLLECTION,
    ORGANIZATION,
    OTHER,
    SITE_CONFIG,
    SITE_CONFIG_NAMES,
    TAXONOMY,
    YAML,
    absolute_url,
    collection_of,
    file_kind,
    news_verdict,
    site_base_url,
    site_root,
)
from tests.conftest import examples

SITE = Path(__file__).parent / "site"
ROBOT, TALK = article_id("https://www.alpha.com/news/robot"), article_id("https://youtube.com/watch?v=talk42")
LAB = article_id("https://www.alpha.com/news/lab")
BETA_VIDEO = article_id("https://youtube.com/watch?v=beta123")
BASE = "https://example.github.io/ai-news"
UTC = dt.timezone.utc
IN_COLLECTION = "not a news item: a file of the `{}` collection; news items are read from `_news` folders"
UNSUPPORTED = (
    "not a news item (*.md), a topic (_data/topics/*.yaml), an organization (_data/organizations/*) "
    "nor a site's _config.yml; it was read but not loaded"
)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return tables_of(read_folder(SITE))


def records(frame: pd.DataFrame, *columns: str) -> list[tuple]:
    return [tuple(None if v is pd.NA or v is None else v for v in row) for row in frame[list(columns)].itertuples(index=False)]


def test_every_file_of_the_site_has_its_row(tables):
    assert records(tables["sources"], "source_path", "kind", "status", "article_id", "reason", "message") == [
        ("Gemfile", "other", "skipped", None, "unsupported_file", UNSUPPORTED),
        ("README.md", "other", "skipped", None, "not_news", PAGE_MESSAGE),
        ("_archive/_news/2020-11-20-alpha-opens-a-lab.md", "article", "loaded", LAB, None, None),
        ("_config.yml", "site_config", "loaded", None, None, None),
        ("_data/organizations/alpha.com.md", "organization", "loaded", None, None, None),
        ("_data/organizations/gamma.net.yaml", "organization", "loaded", None, None, None),
        ("_data/topics/ai.yaml", "taxonomy", "loaded", None, None, None),
        ("_learning/courses/intro-to-robotics.md", "other", "skipped", None, "not_news",
         IN_COLLECTION.format("_learning") + " (type: course, category: learning)"),
        ("_learning/videos/robots-explained.md", "other", "skipped", None, "not_news",
         IN_COLLECTION.format("_learning") + " (type: video)"),
        ("_news/2021-03-01-alpha-ships-a-robot.md", "article", "loaded", ROBOT, None, None),
        ("_news/2021-03-02-a-talk-on-robots.md", "article", "loaded", TALK, None, None),
        ("_newsletters/2021-03.html", "other", "skipped", None, "not_news",
         "not a news item: an HTML page with front matter (a page, a layout or a newsletter) (layout: newsletter)"),
        ("_people/ada-lovelace.md", "other", "skipped", None, "not_news",
         IN_COLLECTION.format("_people") + " (layout: person)"),
        ("_samples/parcel-sorter.md", "other", "skipped", None, "not_news",
         IN_COLLECTION.format("_samples") + " (type: sample)"),
        ("about.md", "other", "skipped", None, "not_news",
         "not a news item: it has no `category: news` and none of webUrl, originalUrl, publishedDateTime; "
         "add `category: news` if it is one (layout: page)"),
        ("api/news/index.json", "other", "skipped", None, "unsupported_file", UNSUPPORTED),
        ("assets/css/site.css", "other", "skipped", None, "unsupported_file", UNSUPPORTED),
        ("sitemap.xml", "other", "skipped", None, "unsupported_file", UNSUPPORTED),
    ]
    assert not (tables["sources"]["status"] == "rejected").any()


def test_a_markdown_file_without_front_matter_is_a_page_only_in_a_site(tmp_path):
    """Outside any site (no `_config.yml` at or above it) it may be a news item that lost its front
    matter; in a site, outside `_news`, it is a page; in `_news`, a broken news item."""
    files = {"README.md": b"# notes\n", "site/_config.yml": b"url: https://a.io\n", "site/docs/README.md": b"# docs\n",
             "site/_news/broken.md": b"no front matter\n"}
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    sources = tables_of(read_folder(tmp_path))["sources"]
    assert records(sources, "source_path", "kind", "status", "reason", "line") == [
        ("README.md", "article", "rejected", "no_front_matter", 1),
        ("site/_config.yml", "site_config", "loaded", None, None),
        ("site/_news/broken.md", "article", "rejected", "no_front_matter", 1),
        ("site/docs/README.md", "other", "skipped", "not_news", None),
    ]


def test_the_config_with_anchors_aliases_and_merge_keys_is_read_as_yaml_merges_it():
    document = read_yaml_mapping((SITE / "_config.yml").read_bytes())
    values = [entry["values"] for entry in document["defaults"]]
    assert values == [{"layout": "post", "comments": "false", "share": "true"},
                      {"layout": "course", "comments": "false", "share": "true"},
                      {"layout": "post", "comments": "false", "share": "true", "sitemap": "false"}]
    assert extract("_config.yml", (SITE / "_config.yml").read_bytes()).record == SiteConfig(
        "https://example.github.io", "/ai-news")


def test_a_video_item_is_keyed_by_its_original_url_and_keeps_its_embed(tables):
    columns = ("article_id", "source_path", "title", "type", "published_at", "web_url", "url_source", "canonical_url",
               "original_url", "quality", "heat", "provider_domain")
    assert records(tables["articles"], *columns) == [
        (TALK, "_news/2021-03-02-a-talk-on-robots.md", "A talk on robots", "video",
         pd.Timestamp("2021-03-02T18:00Z"), None, "originalUrl", "https://youtube.com/watch?v=talk42",
         "https://youtube.com/watch?v=talk42", 70, 3, "beta.org"),
        (LAB, "_archive/_news/2020-11-20-alpha-opens-a-lab.md", "Alpha opens a lab", "article",
         pd.Timestamp("2020-11-20T08:00Z"), "https://www.alpha.com/news/lab", "webUrl", "https://www.alpha.com/news/lab",
         None, None, None, "alpha.com"),
        (ROBOT, "_news/2021-03-01-alpha-ships-a-robot.md", "Alpha ships a robot", "article",
         pd.Timestamp("2021-03-01T09:30Z"), "https://www.alpha.com/news/robot?utm_source=feed", "webUrl",
         "https://www.alpha.com/news/robot", "https://www.alpha.com/news/robot", 80, 12, "alpha.com"),
    ]
    featured = tables["articles"].set_index("article_id")["featured_content"]
    assert featured[TALK] == (
        '<iframe width="560" height="315" src="https://www.youtube.com/embed/talk42" frameborder="0" allowfullscreen></iframe>'
    )
    assert featured.isna()[ROBOT]
    assert "secured" not in tables["articles"].columns  # deliberately not read


def test_a_related_item_without_web_url_is_keyed_by_its_original_url(tables):
    assert records(tables["related"], "article_id", "position", "related_article_id", "web_url", "original_url",
                   "url_source", "type", "provider_domain", "quality") == [
        (ROBOT, 0, BETA_VIDEO, None, "https://youtube.com/watch?v=beta123", "originalUrl", "video", "beta.org", 60),
    ]


def test_organizations_name_their_providers_and_known_only_ones_have_a_row(tables):
    assert records(tables["providers"], "provider_domain", "provider_name", "name_source", "logo_url", "origin") == [
        ("alpha.com", "Alpha", "organization", "/assets/images/organizations/alpha.com-50x50.jpg", "organization"),
        ("beta.org", "Beta Video", "items", None, "observed"),
        ("gamma.net", "Gamma Network", "organization", "/assets/images/organizations/gamma.net-50x50.png", "organization"),
    ]


def test_every_logo_size_is_kept_and_site_relative_urls_get_the_sites_absolute_url(tables):
    assert records(tables["images"], "owner_type", "owner_id", "position", "url", "absolute_url", "width", "height") == [
        ("article", TALK, 0, "https://i.ytimg.com/vi/talk42/hqdefault.jpg",
         "https://i.ytimg.com/vi/talk42/hqdefault.jpg", 480, 360),
        ("article", ROBOT, 0, "https://cdn.alpha.com/robot.jpg", "https://cdn.alpha.com/robot.jpg", 1200, 630),
        ("provider", "alpha.com", 0, "/assets/images/organizations/alpha.com-50x50.jpg",
         f"{BASE}/assets/images/organizations/alpha.com-50x50.jpg", 50, 50),
        ("provider", "alpha.com", 1, "/assets/images/organizations/alpha.com-400x400.jpg",
         f"{BASE}/assets/images/organizations/alpha.com-400x400.jpg", 400, 400),
        ("provider", "gamma.net", 0, "/assets/images/organizations/gamma.net-50x50.png",
         f"{BASE}/assets/images/organizations/gamma.net-50x50.png", 50, 50),
        ("provider", "gamma.net", 1, "https://cdn.gamma.net/logo.png", "https://cdn.gamma.net/logo.png", None, None),
        ("related", f"{ROBOT}:0", 0, "/assets/images/cache/beta-thumb.jpg", f"{BASE}/assets/images/cache/beta-thumb.jpg",
         320, 180),
    ]


def test_topics_of_the_site(tables):
    assert records(tables["topics"], "topic_id", "topic_name", "origin") == [("ai", "AI", "taxonomy"),
                                                                          ("robots", "Robots", "observed")]
    assert records(tables["article_topics"], "article_id", "topic_id", "position") == [
        (TALK, "ai", 0), (TALK, "robots", 1), (LAB, "ai", 0), (ROBOT, "ai", 0)
    ]


def test_without_a_site_url_relative_logos_have_no_absolute_url(tmp_path):
    for path in ("_data/organizations/alpha.com.md", "_news/2021-03-01-alpha-ships-a-robot.md"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes((SITE / path).read_bytes())
    images = tables_of(read_folder(tmp_path))["images"]
    assert images.loc[images["owner_type"] == "provider", "absolute_url"].isna().all()
    assert images.loc[images["owner_type"] == "article", "absolute_url"].tolist() == ["https://cdn.alpha.com/robot.jpg"]


def test_each_file_takes_the_nearest_sites_url(tmp_path):
    """Two sites in one input folder, one inside the other's folder."""
    (tmp_path / "outer/inner/_data/organizations").mkdir(parents=True)
    (tmp_path / "outer/_data/organizations").mkdir(parents=True)
    (tmp_path / "outer/_config.yml").write_text("url: https://outer.io\n")
    (tmp_path / "outer/inner/_config.yml").write_text("url: https://inner.io/\nbaseurl: /sub/\n")
    for site, domain in (("outer", "x.com"), ("outer/inner", "y.com")):
        (tmp_path / site / f"_data/organizations/{domain}.yaml").write_text("images: [/logo.png]\n")
    images = tables_of(read_folder(tmp_path))["images"]
    assert records(images, "owner_id", "absolute_url") == [("x.com", "https://outer.io/logo.png"),
                                                            ("y.com", "https://inner.io/sub/logo.png")]


# --- the rules, one by one -----------------------------------------------------------------


@pytest.mark.parametrize("path, collection, kind", [
    ("_news/a.md", "_news", "article"),
    ("site/_archive/_news/2020/a.md", "_news", "article"),
    ("a.md", None, "article"),
    ("news/2020/a.markdown", None, "article"),
    ("_learning/videos/a.md", "_learning", "other"),
    ("_news/_drafts/a.md", "_drafts", "other"),
    ("_data/topics/ai.yaml", "_data", "taxonomy"),
    ("_data/topics/ai.md", "_data", "other"),
    ("_data/organizations/x.com.md", "_data", "organization"),
    ("_data/organizations/x.com.YML", "_data", "organization"),
    ("_data/organizations/x.com.json", "_data", "other"),
    ("_data/tags/ai.yaml", "_data", "other"),
    ("_config.yml", None, "site_config"),
    ("site/_config.yaml", None, "site_config"),
    ("_newsletters/a.html", "_newsletters", "other"),
])
def test_what_a_path_says_a_file_is(path, collection, kind):
    assert (collection_of(path), file_kind(path)) == (collection, kind)


@pytest.mark.parametrize("front_matter, is_news", [
    ({"category": "news"}, True),
    ({"category": " News "}, True),
    ({"category": ["ai", "news"]}, True),
    ({"webUrl": "https://a.com/x"}, True),
    ({"originalUrl": "https://a.com/x"}, True),
    ({"publishedDateTime": "2020-01-01"}, True),
    ({"category": "", "webUrl": "https://a.com/x"}, True),  # a blank category says nothing
    ({"category": "course", "webUrl": "https://a.com/x"}, False),
    ({"category": ["ai"], "webUrl": "https://a.com/x"}, False),
    ({"title": "About", "layout": "page"}, False),
    ({}, False),
])
def test_outside_collections_the_front_matter_decides(front_matter, is_news):
    verdict = news_verdict("a.md", front_matter)
    assert (verdict is None) == is_news
    if verdict:
        assert verdict.reason == "not_news"


def test_in_the_news_collection_every_document_is_a_news_item():
    assert news_verdict("_news/a.md", {"category": "course"}) is None
    assert extract("_news/a.md", b"---\ntitle: T\n---\n").reason == "missing_field"


def test_a_news_item_needs_web_url_or_original_url():
    data = b"---\ncategory: news\ntitle: T\npublishedDateTime: 2020-01-01\n---\n"
    file = extract("_news/a.md", data)
    assert (file.reason, file.message) == (
        "missing_field", "the required field webUrl is missing, and there is no originalUrl to stand in for it"
    )
    empty = extract("_news/a.md", data[:-4] + b'webUrl: ""\n---\n')
    assert empty.message == "the required field webUrl is empty, and there is no originalUrl to stand in for it"
    assert extract("_news/a.md", data[:-4] + b"originalUrl: javascript:x\n---\n").reason == "bad_value"


def test_documents_of_other_collections_are_not_news_even_when_unreadable():
    for data in (b"no front matter", b"---\n[unclosed\n---\n", b"\xff"):
        file = extract("_people/a.md", data)
        assert (file.kind, file.reason, file.message) == ("other", "not_news", IN_COLLECTION.format("_people"))
    assert extract("_includes/head.html", b"<meta>").reason == "unsupported_file"


def test_organization_entries():
    assert to_organization({"taxonomy": "organization", "_id": "x.com", "domain": "www.X.com/", "name": " X "},
                           "_data/organizations/x.com.md") == OrganizationEntry("x.com", "X", ())
    assert to_organization({"name": "Y"}, "_data/organizations/y.org.yaml").domain == "y.org"  # the file's name
    with pytest.raises(Rejected, match="taxonomy should be 'organization'"):
        to_organization({"taxonomy": "topic", "domain": "x.com"}, "_data/organizations/x.com.md")
    with pytest.raises(Rejected, match="domain should be text"):
        to_organization({"domain": ["x.com"]}, "_data/organizations/x.com.md")


def test_logos_may_be_bare_urls_with_their_size_in_the_name():
    assert to_logos("images", ["/a/x.com-50x50.jpg?v=2", "/a/x.com.png", {"url": "/b.jpg", "width": 7}]) == (
        Image("/a/x.com-50x50.jpg?v=2", 50, 50, None, None),
        Image("/a/x.com.png", None, None, None, None),
        Image("/b.jpg", 7, None, None, None),
    )


def test_site_config_and_absolute_urls():
    assert to_site_config({"url": "https://a.io", "baseurl": "/b", "title": "T"}) == SiteConfig("https://a.io", "/b")
    assert to_site_config({"url": ""}) == SiteConfig(None, None)
    with pytest.raises(Rejected, match="url should be an http"):
        to_site_config({"url": "a.io"})
    assert site_root("_config.yml") == "" and site_root("x/y/_config.yml") == "x/y"
    assert site_base_url("https://a.io/", "/b/") == "https://a.io/b"
    assert site_base_url("https://a.io", None) == site_base_url("https://a.io", "/") == "https://a.io"
    assert site_base_url(None, "/b") is None
    assert absolute_url("/x.png", "https://a.io/b") == "https://a.io/b/x.png"
    assert absolute_url("x.png", "https://a.io/b") == "https://a.io/b/x.png"
    assert absolute_url("//cdn.io/x.png", "https://a.io/b") == "https://cdn.io/x.png"
    assert absolute_url("HTTP://cdn.io/x.png", None) == "HTTP://cdn.io/x.png"
    assert absolute_url("/x.png", None) is None
    assert absolute_url("data:image/png;base64,AA", "https://a.io") is None


def test_a_provider_known_only_from_the_dimension_has_an_empty_quality_row(tables):
    quality = tables["provider_quality"].set_index("provider_domain")
    assert list(quality.index) == ["alpha.com", "beta.org", "gamma.net"]
    gamma = quality.loc["gamma.net"]
    assert (gamma["provider_name"], gamma["n_articles"], gamma["n_related"], gamma["n_scored"]) == ("Gamma Network", 0, 0, 0)
    assert pd.isna(gamma["quality_mean"]) and pd.isna(gamma["quality_rank"])


DOCUMENTS = [
    (SITE / "_news/2021-03-02-a-talk-on-robots.md").read_bytes(),
    (SITE / "_learning/videos/robots-explained.md").read_bytes(),
    (SITE / "_data/organizations/alpha.com.md").read_bytes(),
    (SITE / "about.md").read_bytes(),
    b"---\ntitle: T\n---\n",
    b"---\n[unclosed\n---\n",
    b"name: X\n",
]


@settings(max_examples=examples(300), deadline=None)
@given(
    folders=st.lists(st.sampled_from(["_news", "_learning", "news", "_data", "topics", "organizations", "_archive"]),
                     max_size=4),
    name=st.sampled_from(["a.md", "a.markdown", "a.html", "a.yaml", "_config.yml", "a.json"]),
    data=st.sampled_from(DOCUMENTS),
)
def test_only_news_candidates_become_articles_and_other_files_never_miss_fields(folders, name, data):
    path = "/".join([*folders, name])
    file = extract(path, data)
    if isinstance(file.record, Article):
        assert file_kind(path) == file.kind == "article"
    if file_kind(path) == "other":
        assert file.reason not in ("missing_field", "no_front_matter")
    if collection_of(path) not in (None, "_news") and name.endswith((".md", ".markdown")) and file.kind == "other":
        assert file.reason == "not_news"


def kind_by_path_parts(path: str) -> tuple[str, str | None]:
    """file_kind and collection_of as PurePosixPath reads the path: the reference for the text split."""
    parts = PurePosixPath(path)
    suffix, folders = parts.suffix.lower(), parts.parent.parts
    collection = next((folder for folder in reversed(folders) if folder.startswith("_")), None)
    if folders[-2:] == ("_data", "topics") and suffix in YAML:
        return TAXONOMY, collection
    if folders[-2:] == ("_data", "organizations") and suffix in YAML | MARKDOWN:
        return ORGANIZATION, collection
    if parts.name in SITE_CONFIG_NAMES:
        return SITE_CONFIG, collection
    if suffix in MARKDOWN and collection in (None, NEWS_COLLECTION):
        return ARTICLE, collection
    return OTHER, collection


@settings(max_examples=examples(2000))
@given(st.lists(st.sampled_from(["_news", "_data", "topics", "organizations", "a", ".", "..", "", "x.md", ".md", "x.MD",
                                 "_config.yml", "y.yaml", "x.", "_learning", "/"]), max_size=6).map("/".join))
def test_a_paths_kind_is_what_its_parts_say(path):
    assert (file_kind(path), collection_of(path)) == kind_by_path_parts(path)
