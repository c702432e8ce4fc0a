"""What a file of a site checkout is, from its path and front matter; and the site's own URL.

A Smartable site is a Jekyll repository. Jekyll names its own folders with a leading `_`:
collections (`_news`, `_learning`, `_samples`, `_people`, `_newsletters`, ...), `_data`,
`_layouts`, `_includes`. The rule, from the real sites and the seed:

- `_data/topics/*.yaml|yml` is the topic taxonomy; `_data/organizations/*.md|yaml|yml` is the
  provider dimension; `_config.yml` (or `.yaml`) is a site's settings, whose `url` and
  `baseurl` turn site-relative image URLs into absolute ones.
- A Markdown file (`.md`, `.markdown`) whose innermost `_` folder is `_news` is a news item.
  In any other `_` folder it is other content of the site (`not_news`), whatever its fields.
- A Markdown file in no `_` folder (a plain folder of items, or a site's own pages) is a news
  item when its front matter says `category: news` (any case; or a `category` list holding
  `news`), or has no `category` and carries a field only news items have (`webUrl`,
  `originalUrl`, `publishedDateTime`); otherwise `not_news`.
- An HTML file with front matter (a newsletter, a page, a layout) is `not_news`; without front
  matter it is `unsupported_file`, like every other file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from newsfm.transforms.fields import WEB_SCHEMES, is_absent
from newsfm.transforms.frontmatter import Rejected

ARTICLE, TAXONOMY, ORGANIZATION, SITE_CONFIG, OTHER = "article", "taxonomy", "organization", "site_config", "other"
NEWS_COLLECTION = "_news"
MARKDOWN = frozenset({".md", ".markdown"})
HTML = frozenset({".html", ".htm"})
YAML = frozenset({".yaml", ".yml"})
SITE_CONFIG_NAMES = frozenset({"_config.yml", "_config.yaml"})
NEWS_ONLY_FIELDS = ("webUrl", "originalUrl", "publishedDateTime")
DESCRIBING_FIELDS = ("type", "category", "layout", "taxonomy")  # named in a not_news message
NOT_SUPPORTED = (
    "not a news item (*.md), a topic (_data/topics/*.yaml), an organization (_data/organizations/*) "
    "nor a site's _config.yml; it was read but not loaded"
)


def collection_of(path: str) -> str | None:
    """The innermost folder of `path` whose name starts with `_` (Jekyll's), or None."""
    return folder_facts(folder_and_name(path)[0])[1]


def file_kind(path: str) -> str:
    """What the path says a file is: `article` (a news item, or a Markdown file that may be
    one), `taxonomy`, `organization`, `site_config`, or `other`."""
    folder, name = folder_and_name(path)
    dot = name.rfind(".")
    suffix = name[dot:].lower() if 0 < dot < len(name) - 1 else ""  # as PurePosixPath.suffix
    last_two, collection = folder_facts(folder)
    if last_two == ("_data", "topics") and suffix in YAML:
        return TAXONOMY
    if last_two == ("_data", "organizations") and suffix in YAML | MARKDOWN:
        return ORGANIZATION
    if name in SITE_CONFIG_NAMES:
        return SITE_CONFIG
    if suffix in MARKDOWN and collection in (None, NEWS_COLLECTION):
        return ARTICLE
    return OTHER


def folder_and_name(path: str) -> tuple[str, str]:
    """`path`'s folder and name, as PurePosixPath splits them (split as text when that is the same)."""
    folder, _, name = path.rpartition("/")
    if name in ("", ".", ".."):
        parts = PurePosixPath(path)
        return str(parts.parent), parts.name
    return folder, name


@lru_cache(maxsize=4096)
def folder_facts(folder: str) -> tuple[tuple[str, ...], str | None]:
    """(its last two folder names, its innermost `_` folder) of a folder: once per folder, not per file."""
    folders = PurePosixPath(folder).parts
    return folders[-2:], next((name for name in reversed(folders) if name.startswith("_")), None)


def other_content(path: str, front_matter: dict | None) -> Rejected:
    """Why a file of kind `other` is not loaded, given its front matter (None when it has none
    or it cannot be read): a Markdown file of another collection and an HTML file with front
    matter are `not_news`; everything else is `unsupported_file`."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in MARKDOWN:
        what = f"a file of the `{collection_of(path)}` collection; news items are read from `_news` folders"
        return not_news(what, front_matter)
    if suffix in HTML and front_matter is not None:
        return not_news("an HTML page with front matter (a page, a layout or a newsletter)", front_matter)
    return Rejected("unsupported_file", NOT_SUPPORTED)


def not_news(what: str, front_matter: dict | None = None) -> Rejected:
    return Rejected("not_news", f"not a news item: {what}{described(front_matter)}")


def described(front_matter: dict | None) -> str:
    """` (type: course, layout: page)`: the fields that say what a document is, when it has them."""
    if not front_matter:
        return ""
    shown = [f"{name}: {value.strip()[:40]}" for name in DESCRIBING_FIELDS
             if isinstance(value := front_matter.get(name), str) and value.strip()]
    return f" ({', '.join(shown)})" if shown else ""


def news_verdict(path: str, front_matter: dict) -> Rejected | None:
    """None when a Markdown document outside other collections is a news item, else `not_news`."""
    if collection_of(path) == NEWS_COLLECTION:
        return None
    category = front_matter.get("category")
    categories = category if isinstance(category, list) else [category]
    written = [value.strip().lower() for value in categories if isinstance(value, str) and value.strip()]
    if "news" in written:
        return None
    if written or not all(is_absent(value) for value in categories):
        return not_news("its `category` is not `news`", front_matter)
    if any(front_matter.get(name) is not None for name in NEWS_ONLY_FIELDS):
        return None
    return not_news(
        "it has no `category: news` and none of webUrl, originalUrl, publishedDateTime; "
        "add `category: news` if it is one", front_matter
    )


def site_root(config_path: str) -> str:
    """The folder a `_config.yml` governs, as a path prefix ('' for the input folder itself)."""
    folder = str(PurePosixPath(config_path).parent)
    return "" if folder == "." else folder


def site_base_url(url: str | None, baseurl: str | None) -> str | None:
    """`url` + `baseurl` of a Jekyll site, without a trailing slash; None without `url`."""
    if not url:
        return None
    base = (baseurl or "").strip().strip("/")
    return url.strip().rstrip("/") + (f"/{base}" if base else "")


def absolute_url(url: str, base: str | None) -> str | None:
    """An image URL as a browser on the site would fetch it.

    An http(s) URL is itself; a site-relative one (`/assets/x.jpg`, `assets/x.jpg`) is put
    under the site's base URL, a protocol-relative one (`//cdn/x.jpg`) takes the base URL's
    scheme; None when the URL is relative and the site gives no `url`, or is anything else.
    """
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme in WEB_SCHEMES:
        return url
    if scheme or base is None:
        return None
    if url.startswith("//"):
        return f"{urlsplit(base).scheme}:{url}"
    return f"{base}/{url.lstrip('/')}"

