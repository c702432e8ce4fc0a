"""Front matter mapping → typed `Article` record (and the taxonomy's `TopicEntry`).

The field names of the format (camelCase) are read here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from newsfm.transforms import fields as f
from newsfm.transforms.frontmatter import Rejected
from newsfm.transforms.keys import provider_domain, url_host


@dataclass(frozen=True)
class Image:
    url: str
    width: int | None
    height: int | None
    is_cached: bool | None
    title: str | None


@dataclass(frozen=True)
class Provider:
    domain: str  # normalized, see keys.provider_domain
    name: str | None
    images: tuple[Image, ...] = ()


WEB_URL, ORIGINAL_URL = "webUrl", "originalUrl"


class KeyedByUrl:
    """An item keyed by its `webUrl`, else its `originalUrl`; `url_source` says which."""

    web_url: str | None
    original_url: str | None
    url_source: str

    @property
    def key_url(self) -> str:
        return self.web_url if self.url_source == WEB_URL else self.original_url


@dataclass(frozen=True)
class RelatedItem(KeyedByUrl):
    title: str | None
    excerpt: str | None
    published_at: dt.datetime | None
    web_url: str | None
    original_url: str | None
    url_source: str
    amp_web_url: str | None
    cdn_amp_web_url: str | None
    type: str | None
    provider: Provider | None
    quality: int | None
    images: tuple[Image, ...] = ()


@dataclass(frozen=True)
class Article(KeyedByUrl):
    title: str
    excerpt: str | None
    featured_content: str | None
    category: str | None
    type: str | None
    published_at: dt.datetime
    web_url: str | None
    url_source: str
    amp_web_url: str | None
    cdn_amp_web_url: str | None
    original_url: str | None
    quality: int | None
    heat: int | None
    published: bool | None
    provider: Provider | None
    topics: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    related: tuple[RelatedItem, ...] = ()


@dataclass(frozen=True)
class TopicEntry:
    """One taxonomy file: a topic with its parent given by name."""

    topic_id: str | None
    name: str
    parent_name: str | None
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class OrganizationEntry:
    """One entry of a site's provider dimension (`_data/organizations/<domain>.md`)."""

    domain: str  # normalized, see keys.provider_domain
    name: str | None
    images: tuple[Image, ...]


@dataclass(frozen=True)
class SiteConfig:
    """A site's `_config.yml`: what its site-relative URLs are relative to."""

    url: str | None
    baseurl: str | None


_SIZE_IN_NAME = re.compile(r"-(\d{1,5})x(\d{1,5})\.[A-Za-z0-9]+$")


def key_urls(path: str, item: dict) -> tuple[str | None, str | None, str]:
    """(webUrl, originalUrl, the field the item's key comes from): `webUrl`, else `originalUrl`
    (Smartable's video items have no webUrl); missing_field when it has neither."""
    web = f.web_url(f"{path}webUrl", item.get("webUrl"))
    original = f.web_url(f"{path}originalUrl", item.get("originalUrl"))
    if web is None and original is None:
        state = "empty" if item.get("webUrl") is not None else "missing"
        raise Rejected(
            "missing_field",
            f"the required field {path}webUrl is {state}, and there is no {path}originalUrl to stand in for it",
        )
    return web, original, WEB_URL if web is not None else ORIGINAL_URL


def to_images(path: str, value: object) -> tuple[Image, ...]:
    images = []
    for i, item in enumerate(f.sequence(path, value)):
        at = f"{path}[{i}]"
        item = f.mapping(at, item)
        url = f.text(f"{at}.url", f.required(f"{at}.url", item.get("url")))
        images.append(
            Image(
                url=url.strip(),
                width=f.integer(f"{at}.width", item.get("width")),
                height=f.integer(f"{at}.height", item.get("height")),
                is_cached=f.boolean(f"{at}.isCached", item.get("isCached")),
                title=f.text(f"{at}.title", item.get("title")),
            )
        )
    return tuple(images)


def to_provider(path: str, value: object, item_url: str) -> Provider | None:
    """The provider mapping; its domain falls back to the host of the item's own URL (also when
    the domain written is empty once normalized, like `/` or `.`)."""
    item = f.mapping(path, value)
    written = f.text(f"{path}.domain", item.get("domain"))
    domain = provider_domain(written or "") or provider_domain(url_host(item_url) or "")
    if not domain:
        return None
    return Provider(
        domain=domain,
        name=f.text(f"{path}.name", item.get("name")),
        images=to_images(f"{path}.images", item.get("images")),
    )


def to_related(path: str, value: object) -> RelatedItem:
    item = f.mapping(path, value)
    web, original, source = key_urls(f"{path}.", item)
    return RelatedItem(
        title=f.text(f"{path}.title", item.get("title")),
        excerpt=f.text(f"{path}.excerpt", item.get("excerpt")),
        published_at=f.timestamp(f"{path}.publishedDateTime", item.get("publishedDateTime")),
        web_url=web,
        original_url=original,
        url_source=source,
        amp_web_url=f.web_url(f"{path}.ampWebUrl", item.get("ampWebUrl")),
        cdn_amp_web_url=f.web_url(f"{path}.cdnAmpWebUrl", item.get("cdnAmpWebUrl")),
        type=f.text(f"{path}.type", item.get("type")),
        provider=to_provider(f"{path}.provider", item.get("provider"), web or original),
        quality=f.integer(f"{path}.quality", item.get("quality")),
        images=to_images(f"{path}.images", item.get("images")),
    )


def to_article(front_matter: dict) -> Article:
    """A news item's front matter → Article, or Rejected (missing_field / bad_value)."""
    get = front_matter.get
    title = f.text("title", f.required("title", get("title")))
    web, original, source = key_urls("", front_matter)
    published_at = f.timestamp("publishedDateTime", f.required("publishedDateTime", get("publishedDateTime")))
    topics = []
    for i, value in enumerate(f.sequence("topics", get("topics"))):
        name = f.text(f"topics[{i}]", value)
        if name is None:
            raise f.bad_value(f"topics[{i}]", value, "a topic name")
        topics.append(name.strip())
    return Article(
        title=title,
        excerpt=f.text("excerpt", get("excerpt")),
        featured_content=f.text("featuredContent", get("featuredContent")),
        category=f.text("category", get("category")),
        type=f.text("type", get("type")),
        published_at=published_at,
        web_url=web,
        url_source=source,
        amp_web_url=f.web_url("ampWebUrl", get("ampWebUrl")),
        cdn_amp_web_url=f.web_url("cdnAmpWebUrl", get("cdnAmpWebUrl")),
        original_url=original,
        quality=f.integer("quality", get("quality")),
        heat=f.integer("heat", get("heat")),
        published=f.boolean("published", get("published")),
        provider=to_provider("provider", get("provider"), web or original),
        topics=tuple(topics),
        images=to_images("images", get("images")),
        related=tuple(to_related(f"related[{i}]", item) for i, item in enumerate(f.sequence("related", get("related")))),
    )


def to_topic_entry(document: dict) -> TopicEntry:
    """A taxonomy file's mapping (`_id`, `name`, `parent` as a name, `keywords`) → TopicEntry."""
    kind = document.get("taxonomy")
    if kind is not None and kind != "topic":
        raise f.bad_value("taxonomy", kind, "'topic' in a topics folder")
    name = f.text("name", f.required("name", document.get("name")))
    keywords = []
    for i, keyword in enumerate(f.sequence("keywords", document.get("keywords"))):
        keyword = f.text(f"keywords[{i}]", keyword)
        if keyword is not None:
            keywords.append(keyword.strip())
    topic_id = f.text("_id", document.get("_id"))
    parent = f.text("parent", document.get("parent"))
    return TopicEntry(
        topic_id=topic_id.strip() if topic_id else None,
        name=name.strip(),
        parent_name=parent.strip() if parent else None,
        keywords=tuple(keywords),
    )


def to_logos(path: str, value: object) -> tuple[Image, ...]:
    """An organization's `images`: mappings as items have them, or bare URLs, whose width and
    height are read from a `-<width>x<height>` ending of the file name when it has one."""
    images = []
    for i, item in enumerate(f.sequence(path, value)):
        if isinstance(item, dict):
            images += to_images(path, [item])
            continue
        url = f.text(f"{path}[{i}]", f.required(f"{path}[{i}]", item)).strip()
        size = _SIZE_IN_NAME.search(url.split("?")[0])
        width, height = (int(size[1]), int(size[2])) if size else (None, None)
        images.append(Image(url=url, width=width, height=height, is_cached=None, title=None))
    return tuple(images)


def to_organization(document: dict, path: str) -> OrganizationEntry:
    """An organization entry (`taxonomy: organization`, `_id`, `name`, `domain`, `images`)."""
    kind = document.get("taxonomy")
    if kind is not None and kind != "organization":
        raise f.bad_value("taxonomy", kind, "'organization' in an organizations folder")
    # entries are named <domain>.md, so the file's name stands in for a missing domain and _id
    written = f.text("domain", document.get("domain")) or f.text("_id", document.get("_id")) or PurePosixPath(path).stem
    domain = provider_domain(written)
    if not domain:
        raise f.bad_value("domain", written, "a domain such as example.com")
    name = f.text("name", document.get("name"))
    return OrganizationEntry(domain=domain, name=name.strip() if name else None, images=to_logos("images", document.get("images")))


def to_site_config(document: dict) -> SiteConfig:
    """A `_config.yml`: its `url` (an http(s) URL, or blank) and `baseurl`."""
    baseurl = f.text("baseurl", document.get("baseurl"))
    return SiteConfig(url=f.web_url("url", document.get("url")), baseurl=baseurl.strip() if baseurl else None)
