"""The one place keys come from: canonical URLs, article ids, provider domains, topic slugs.

Keys are derived from content, never from run order, so reruns, incremental runs and other
tools that apply the same rule agree on them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, not a page.
TRACKING_PARAMETERS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_hsenc", "_hsmi"}
)
DEFAULT_PORTS = {"http": 80, "https": 443}
# http(s):// and a host of ASCII letters, digits, dots and dashes (no user, no port): what
# `urlsplit` would only split, both for canonical URLs and for `fields.web_url`'s check.
PLAIN_SCHEME_AND_HOST = r"([hH][tT][tT][pP][sS]?)://([A-Za-z0-9.-]+)"
# ... and a path: nothing for the rule to drop.
_PLAIN_URL = re.compile(PLAIN_SCHEME_AND_HOST + r"((?:/[^?#\s]*)?)")


def is_tracking_parameter(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMETERS


def canonical_url(url: str) -> str:
    """Return the URL two copies of one article share.

    The rule: trim white space; lowercase the scheme and the host; drop a default port, the
    fragment, and `utm_*` and other click-tracking query parameters (the others keep their
    order); drop trailing slashes from the path. Nothing else changes: `http` and `https`,
    `www.` and the path's case still tell pages apart.
    """
    url = url.strip()
    plain = _PLAIN_URL.fullmatch(url)
    if plain:  # most URLs: no port, user, query or fragment to look at (a test checks it is the same)
        return f"{plain[1].lower()}://{plain[2].lower()}{plain[3].rstrip('/')}"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        host = f"{userinfo}@{host}"
    query = parts.query
    if query:
        query = urlencode(
            [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not is_tracking_parameter(k)]
        )
    return urlunsplit((scheme, host, parts.path.rstrip("/"), query, ""))


def short_hash(text: str) -> str:
    """First 16 hex digits of the SHA-256 of `text` (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def article_id(url: str) -> str:
    """The key of the article at `url`: short_hash of its canonical URL."""
    return short_hash(canonical_url(url))


def related_owner_id(article_id: str, position: int) -> str:
    """`images.owner_id` of a related item: its article's id and its position in `related`."""
    return f"{article_id}:{position}"


def related_owner_ids(article_ids, positions):
    """`related_owner_id` over two pandas columns (the `related` table's key)."""
    return article_ids + ":" + positions.astype("string")


def url_host(url: str) -> str | None:
    """Lowercase host of an absolute URL, or None for a relative or malformed one."""
    try:
        return urlsplit(url.strip()).hostname or None
    except ValueError:
        return None


def provider_domain(domain: str) -> str:
    """`www.Example.com` and `example.com/` are one provider: lowercase, no `www.`, no slash."""
    domain = domain.strip().lower().rstrip("/.")
    return domain[4:] if domain.startswith("www.") else domain


def topic_slug(name: str) -> str:
    """`AWS AI` → `aws-ai`: ASCII-folded, lowercase, runs of other characters become one `-`.

    A name with no ASCII letter or digit (say, only CJK characters) gets `topic-` and a short
    hash, so it still has a stable id.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug or f"topic-{short_hash(name.strip())[:8]}"
