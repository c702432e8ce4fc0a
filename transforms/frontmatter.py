"""Bytes → YAML mapping: decode, split the front matter off, parse it safely.

Every way this can fail raises `Rejected` with a reason code from `REASONS`, a message a person
can act on, and where known the 1-based line and column in the file.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from transforms import fastyaml

DEFAULT_MAX_BYTES = 1024 * 1024

REASONS = {
    "not_utf8": "the file is not valid UTF-8 text",
    "too_large": "the file is larger than the configured limit (default 1 MiB)",
    "no_front_matter": "the file does not start with a `---` line",
    "unterminated_front_matter": "the front matter is never closed by a second `---` line",
    "yaml_error": "the front matter is not valid YAML, or uses a tag that is not allowed",
    "not_a_mapping": "the front matter is valid YAML but not a mapping of field names to values",
    "duplicate_key": "a mapping repeats a key (YAML parsers silently keep the last one)",
    "missing_field": "a required field (title, webUrl, publishedDateTime) is absent or empty",
    "bad_value": "a field has a value of the wrong type or form",
    "unsupported_file": "the file is neither a news item (`*.md`) nor a topic (`_data/topics/*.yaml`)",
    "unreadable": "the file could not be read (permissions, vanished, not a regular file)",
}


class Rejected(Exception):
    """A file that cannot become a record; carries what the `sources` ledger needs."""

    def __init__(self, reason: str, message: str, line: int | None = None, column: int | None = None):
        assert reason in REASONS, reason
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.line = line
        self.column = column


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present
_NULL_TAG = "tag:yaml.org,2002:null"


class StrictLoader(_Base):  # type: ignore[misc, valid-type]
    """A safe loader that resolves plain scalars to strings (or null) and refuses duplicate keys.

    Types are converted explicitly by `transforms.fields`, so `1e3`, `no` or `2020-06-10` stay
    the text the author wrote until a field says what it should be. Tags outside YAML's safe
    set (`!!python/...`, custom tags) raise a ConstructorError and are never constructed.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag == _NULL_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        if any(tag == _NULL_TAG for tag, _ in resolvers)
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                is_repeat = key in seen
            except TypeError:  # an unhashable key: let the base class report it
                break
            if is_repeat:
                raise _DuplicateKey(key, key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, mark: yaml.Mark):
        super().__init__(key)
        self.key = key
        self.mark = mark


def decode(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """UTF-8 bytes → text without a byte order mark."""
    if len(data) > max_bytes:
        raise Rejected("too_large", f"the file has {len(data):,} bytes, over the limit of {max_bytes:,}; raise --max-file-bytes to accept it")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise Rejected(
            "not_utf8",
            f"byte 0x{data[error.start]:02x} at offset {error.start} is not valid UTF-8; re-save the file as UTF-8",
            line,
            column,
        ) from None
    return text.removeprefix("\ufeff")


_OPENING = re.compile(r"---[ \t]*\r?(?:\n|$)")
_CLOSING = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)


def split_front_matter(text: str) -> tuple[str, str]:
    """Text → (front matter YAML, body). The YAML's first line is line 2 of the file."""
    opening = _OPENING.match(text)
    if not opening:
        raise Rejected("no_front_matter", "the first line is not '---', so the file has no front matter", 1, 1)
    closing = _CLOSING.search(text, opening.end())
    if not closing:
        raise Rejected(
            "unterminated_front_matter",
            "the front matter opened by '---' on line 1 is never closed: add a line '---' after the last field",
            1,
            1,
        )
    return text[opening.end() : closing.start()], text[closing.end() :].lstrip("\r\n")


def parse_yaml(text: str, first_line: int = 1, fast: bool = True) -> Any:
    """YAML text → Python value, with errors placed at `first_line` + their line in `text`.

    With `fast`, text in the plain block style of front matter is read by `fastyaml`, which
    gives the same value; everything else, and every error, goes through `StrictLoader`.
    A stream of several documents is accepted when all but the first are empty (taxonomy files
    sometimes end in a stray `---`).
    """
    if fast:
        value = fastyaml.parse(text)
        if value is not fastyaml.UNSUPPORTED:
            return value
    loader = StrictLoader(text)
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
    except _DuplicateKey as error:
        raise Rejected(
            "duplicate_key",
            f"the key {error.key!r} appears twice in one mapping; YAML would silently keep the last value, remove one",
            first_line + error.mark.line,
            error.mark.column + 1,
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {first_line + mark.line}, column {mark.column + 1}" if mark else ""
        raise Rejected(
            "yaml_error",
            f"invalid YAML{where}: {error.problem or error.context}",
            first_line + mark.line if mark else None,
            mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as error:  # reader errors (control characters) carry no mark
        raise Rejected("yaml_error", f"invalid YAML: {error}") from None
    finally:
        loader.dispose()
    content = [document for document in documents if document is not None]
    if len(content) > 1:
        raise Rejected("yaml_error", f"expected one YAML document, found {len(content)}")
    return content[0] if content else None


def read_front_matter(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """A news file's bytes → its front matter as a mapping of field names to values."""
    front_matter, _body = split_front_matter(decode(data, max_bytes))
    return require_mapping(parse_yaml(front_matter, first_line=2), "front matter")


def read_yaml_mapping(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """A YAML data file's bytes (a taxonomy entry) → its mapping."""
    return require_mapping(parse_yaml(decode(data, max_bytes)), "YAML document")


def require_mapping(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        shape = "empty" if value is None else f"a {type(value).__name__}"
        raise Rejected("not_a_mapping", f"the {what} is {shape}, not a mapping of field names to values")
    return value
