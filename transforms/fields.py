"""Explicit field conversion: YAML values (mostly strings, see `StrictLoader`) → typed values.

Each converter takes the field's path (for messages such as `related[3].quality`) and its raw
value, returns the typed value or None for an absent one, and raises `Rejected("bad_value")`
naming the field and the value when the value cannot be what the field needs.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from newsfm.transforms.frontmatter import Rejected, shorten
from newsfm.transforms.keys import PLAIN_SCHEME_AND_HOST

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_INTEGER = re.compile(r"[+-]?[0-9]+")
_TRUE = frozenset({"true", "yes", "on"})
_FALSE = frozenset({"false", "no", "off"})
WEB_SCHEMES = frozenset({"http", "https"})
_SPACE = re.compile(r"\s")
# A plain scheme and host, then nothing or a path, query or fragment without white space: a URL
# `web_url` accepts (a test checks it).
_PLAIN_WEB_URL = re.compile(PLAIN_SCHEME_AND_HOST + r"(?:[/?#]\S*)?")


def bad_value(path: str, value: Any, expected: str) -> Rejected:
    return Rejected("bad_value", f"{path} should be {expected}, got {shorten(value)}")


def is_absent(value: Any) -> bool:
    return value is None or (isinstance(value, str) and (not value or value.isspace()))


def text(path: str, value: Any) -> str | None:
    """A scalar as text; None when absent or blank."""
    if isinstance(value, str):  # nearly always: StrictLoader gives text
        return None if not value or value.isspace() else value
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise bad_value(path, value, "text")
    return str(value)


def integer(path: str, value: Any) -> int | None:
    """`65`, `"-1"`, `+3` → int; `6.5`, `yes`, a list → bad_value."""
    if isinstance(value, str):
        written = value.strip()
        if not written:
            return None
        if not _INTEGER.fullmatch(written):
            raise bad_value(path, value, "a whole number")
        digits = written.lstrip("+-").lstrip("0") or "0"
        if len(digits) > 19:  # beyond 64 bits (and int() refuses over 4,300 digits)
            raise bad_value(path, value, "a whole number that fits in 64 bits")
        number = -int(digits) if written.startswith("-") else int(digits)
    elif value is None:
        return None
    elif isinstance(value, bool):
        raise bad_value(path, value, "a whole number")
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raise bad_value(path, value, "a whole number")
    if not INT64_MIN <= number <= INT64_MAX:
        raise bad_value(path, value, "a whole number that fits in 64 bits")
    return number


def boolean(path: str, value: Any) -> bool | None:
    """`true`/`false` (also `yes`/`no`, `on`/`off`, any case) → bool."""
    if is_absent(value):
        return None
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower() if isinstance(value, str) else None
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise bad_value(path, value, "true or false")


def timestamp(path: str, value: Any) -> dt.datetime | None:
    """An ISO 8601 date-time → aware UTC datetime.

    A value without a zone is taken as UTC (the format's own convention is `Z`); a bare date is
    midnight UTC. Other formats (`June 10, 2020`) are a bad value rather than a guess.
    """
    if is_absent(value):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise bad_value(path, value, "an ISO 8601 date-time such as 2020-06-10T22:17:00Z") from None
    else:
        raise bad_value(path, value, "an ISO 8601 date-time such as 2020-06-10T22:17:00Z")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.timezone.utc)
    try:
        return parsed.astimezone(dt.timezone.utc)
    except OverflowError:
        raise bad_value(path, value, "a date-time within years 1 to 9999 in UTC") from None


def web_url(path: str, value: Any) -> str | None:
    """An absolute http(s) URL with a host, trimmed; `javascript:` and relative URLs are bad values."""
    url = text(path, value)
    if url is None:
        return None
    url = url.strip()
    if _PLAIN_WEB_URL.fullmatch(url):  # most URLs: what the checks below accept, without splitting it
        return url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise bad_value(path, value, "an http(s) URL") from None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname or _SPACE.search(url):
        raise bad_value(path, value, "an http(s) URL")
    return url


def mapping(path: str, value: Any) -> dict:
    """A mapping, or {} when absent."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_value(path, value, "a mapping of fields")
    return value


def sequence(path: str, value: Any) -> list:
    """A list, or [] when absent."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_value(path, value, "a list")
    return value


def required(path: str, value: Any) -> Any:
    """Pass `value` through, or reject the file when it is absent or blank."""
    if is_absent(value):
        raise Rejected("missing_field", f"the required field {path} is {'empty' if value is not None else 'missing'}")
    return value
