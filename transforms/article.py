"""Front matter mapping → typed `Article` record (and the taxonomy's `TopicEntry`).

The field names of the format (camelCase) are read here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from transforms import fields as f
from transforms.keys import provider_domain, url_host


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


@dataclass(frozen=True)
class RelatedItem:
    title: str | None
    excerpt: str | None
    published_at: dt.datetime | None
    web_url: str
    amp_web_url: str | None
    cdn_amp_web_url: str | None
    type: str | None
    provider: Provider | None
    quality: int | None
    images: tuple[Image, ...] = ()


@dataclass(frozen=True)
class Article:
    title: str
    excerpt: str | None
    category: str | None
    type: str | None
    published_at: dt.datetime
    web_url: str
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


def to_provider(path: str, value: object, web_url: str) -> Provider | None:
    """The provider mapping; its domain falls back to the host of the item's own URL (also when
    the domain written is empty once normalized, like `/` or `.`)."""
    item = f.mapping(path, value)
    written = f.text(f"{path}.domain", item.get("domain"))
    domain = provider_domain(written or "") or provider_domain(url_host(web_url) or "")
    if not domain:
        return None
    return Provider(
        domain=domain,
        name=f.text(f"{path}.name", item.get("name")),
        images=to_images(f"{path}.images", item.get("images")),
    )


def to_related(path: str, value: object) -> RelatedItem:
    item = f.mapping(path, value)
    url = f.web_url(f"{path}.webUrl", f.required(f"{path}.webUrl", item.get("webUrl")))
    return RelatedItem(
        title=f.text(f"{path}.title", item.get("title")),
        excerpt=f.text(f"{path}.excerpt", item.get("excerpt")),
        published_at=f.timestamp(f"{path}.publishedDateTime", item.get("publishedDateTime")),
        web_url=url,
        amp_web_url=f.web_url(f"{path}.ampWebUrl", item.get("ampWebUrl")),
        cdn_amp_web_url=f.web_url(f"{path}.cdnAmpWebUrl", item.get("cdnAmpWebUrl")),
        type=f.text(f"{path}.type", item.get("type")),
        provider=to_provider(f"{path}.provider", item.get("provider"), url),
        quality=f.integer(f"{path}.quality", item.get("quality")),
        images=to_images(f"{path}.images", item.get("images")),
    )


def to_article(front_matter: dict) -> Article:
    """A news item's front matter → Article, or Rejected (missing_field / bad_value)."""
    get = front_matter.get
    title = f.text("title", f.required("title", get("title")))
    url = f.web_url("webUrl", f.required("webUrl", get("webUrl")))
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
        category=f.text("category", get("category")),
        type=f.text("type", get("type")),
        published_at=published_at,
        web_url=url,
        amp_web_url=f.web_url("ampWebUrl", get("ampWebUrl")),
        cdn_amp_web_url=f.web_url("cdnAmpWebUrl", get("cdnAmpWebUrl")),
        original_url=f.web_url("originalUrl", get("originalUrl")),
        quality=f.integer("quality", get("quality")),
        heat=f.integer("heat", get("heat")),
        published=f.boolean("published", get("published")),
        provider=to_provider("provider", get("provider"), url),
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
