"""A fast reader for the block-style YAML subset that news front matter is written in.

PyYAML's C parser still builds every node and value in Python, which makes it most of the
cost of a build. Front matter uses a small part of YAML: block mappings with plain keys,
block sequences (indented under their key, or not, as `yaml.dump` writes them), one-line
plain, single- or double-quoted scalars, and plain or single-quoted scalars folded over
several lines (as `yaml.dump` folds long text). This module reads exactly that part and
returns `UNSUPPORTED` for anything else (comments, flow style, anchors, aliases, tags, block
scalars, blank lines within a scalar, double-quoted scalars over several lines, escapes
other than `\\"` and `\\\\`, repeated keys, tabs, odd indentation, nesting deeper than
MAX_DEPTH...), so the caller falls back to `StrictLoader`, which reads or refuses it. On
what it accepts, it returns what `StrictLoader` returns: strings, None for null, lists and
dicts in order.
"""

from __future__ import annotations

import re

UNSUPPORTED = object()
MAX_DEPTH = 32  # lists and mappings nested deeper are left to StrictLoader, which refuses them (the same limit)
MAX_KEY = 1024  # YAML's limit on an implicit key, which libyaml enforces

# What PyYAML's reader refuses, tabs, and the line breaks other than \n that YAML 1.1 knows.
_SPECIAL = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?$")
_PLAIN_START = re.compile(r"[^-?:,\[\]{}#&*!|>'\"%@`\s]|[-?:][^\s,\[\]{}]")
_NULLS = frozenset({"~", "null", "Null", "NULL"})


class _Unsupported(Exception):
    """Raised inside the reader; turned into UNSUPPORTED at the surface."""


def parse(text: str) -> object:
    """YAML text → value, or UNSUPPORTED when the text is outside the subset."""
    if _SPECIAL.search(text):
        return UNSUPPORTED
    lines = []  # [indent, content, line number] of each line that is not blank
    for number, raw in enumerate(text.split("\n")):
        line = raw[:-1] if raw.endswith("\r") else raw
        if "\r" in line:
            return UNSUPPORTED  # a lone carriage return is a line break to YAML
        content = line.lstrip(" ")
        if content:
            lines.append([len(line) - len(content), content.rstrip(" "), number])
    if not lines:
        return None
    try:
        if lines[0][0] != 0 or lines[0][1].startswith("-"):
            raise _Unsupported
        value, end = _mapping(lines, 0, 0, 1)
        if end != len(lines):
            raise _Unsupported
    except _Unsupported:
        return UNSUPPORTED
    return value


def _mapping(lines: list, i: int, indent: int, depth: int) -> tuple[dict, int]:
    if depth > MAX_DEPTH:
        raise _Unsupported
    result: dict = {}
    while i < len(lines) and lines[i][0] == indent:
        match = _KEY.match(lines[i][1])
        if match is None:
            raise _Unsupported
        key, rest = match.group(1), match.group(2)
        if key in result or key in _NULLS or len(key) > MAX_KEY:
            raise _Unsupported  # StrictLoader reports repeated keys with their place; `null:` is a None key
        i += 1
        if rest:
            result[key], i = _scalar_lines(rest, lines, i, indent)
        elif i < len(lines) and lines[i][0] > indent:
            result[key], i = _block(lines, i, lines[i][0], depth + 1)
        elif i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            result[key], i = _sequence(lines, i, indent, depth + 1)  # not indented under its key
        elif i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-"):
            raise _Unsupported
        else:
            result[key] = None
    if i < len(lines) and lines[i][0] > indent:
        raise _Unsupported
    return result, i


def _block(lines: list, i: int, indent: int, depth: int) -> tuple[object, int]:
    if lines[i][1].startswith("- ") or lines[i][1] == "-":
        return _sequence(lines, i, indent, depth)
    return _mapping(lines, i, indent, depth)


def _sequence(lines: list, i: int, indent: int, depth: int) -> tuple[list, int]:
    if depth > MAX_DEPTH:
        raise _Unsupported
    items = []
    while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
        rest = lines[i][1][2:]
        item = rest.lstrip(" ")
        if item.startswith("-") or not item:
            raise _Unsupported
        if _KEY.match(item):
            lines[i] = [indent + 2 + len(rest) - len(item), item, lines[i][2]]  # the item's mapping starts here
            value, i = _mapping(lines, i, lines[i][0], depth + 1)
        else:
            value, i = _scalar_lines(item, lines, i + 1, indent)
        items.append(value)
    if i < len(lines) and lines[i][0] > indent:
        raise _Unsupported
    return items, i


def _scalar_lines(text: str, lines: list, i: int, indent: int) -> tuple[str | None, int]:
    """The scalar that starts with `text` and goes on over the lines from `i` that are indented
    more than `indent` (its key's or dash's); the index of the line after it."""
    if i >= len(lines) or lines[i][0] <= indent:
        return _scalar(text), i
    more = []
    while i < len(lines) and lines[i][0] > indent:
        if lines[i][2] != lines[i - 1][2] + 1:
            raise _Unsupported  # a blank line within a scalar is a line break in it
        more.append(lines[i][1])
        i += 1
    if text[0] == "'":
        return _single_quoted(" ".join([text, *more])), i  # each line break between text folds to a space
    if text[0] == '"' or any(line.startswith("#") or ": " in line or " #" in line or line.endswith(":") for line in more):
        raise _Unsupported  # past its first line, a plain scalar may start with any character but `#` (a comment)
    value = _scalar(text)
    if value is None or text in _NULLS:
        raise _Unsupported
    return " ".join([value, *more]), i


def _scalar(text: str) -> str | None:
    if text[0] == '"':
        return _double_quoted(text)
    if text[0] == "'":
        return _single_quoted(text)
    if not _PLAIN_START.match(text) or ": " in text or " #" in text or text.endswith(":"):
        raise _Unsupported
    return None if text in _NULLS else text


def _double_quoted(text: str) -> str:
    if len(text) < 2 or not text.endswith('"'):
        raise _Unsupported
    body = text[1:-1]
    if "\\" not in body:
        if '"' in body:
            raise _Unsupported
        return body
    parts, i = [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            escaped = body[i + 1 : i + 2]
            if escaped not in ('"', "\\"):
                raise _Unsupported
            parts.append(escaped)
            i += 2
        elif char == '"':
            raise _Unsupported
        else:
            parts.append(char)
            i += 1
    return "".join(parts)


def _single_quoted(text: str) -> str:
    if len(text) < 2 or not text.endswith("'"):
        raise _Unsupported
    body = text[1:-1]
    if "'" in body.replace("''", ""):
        raise _Unsupported
    return body.replace("''", "'")
