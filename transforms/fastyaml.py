"""A fast reader for the block-style YAML subset that news front matter is written in.

PyYAML's C parser still builds every node and value in Python, which makes it most of the
cost of a build. Front matter uses a small part of YAML: block mappings with plain keys,
indented block sequences, and one-line plain, single- or double-quoted scalars. This module
reads exactly that part and returns `UNSUPPORTED` for anything else (comments, flow style,
anchors, aliases, tags, multi-line scalars, escapes other than `\\"` and `\\\\`, repeated keys,
tabs, odd indentation, nesting deeper than MAX_DEPTH...), so the caller falls back to
`StrictLoader`, which reads or refuses it. On what it accepts, it returns what `StrictLoader`
returns: strings, None for null, lists and dicts in order.
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
    lines = []
    for raw in text.split("\n"):
        line = raw[:-1] if raw.endswith("\r") else raw
        if "\r" in line:
            return UNSUPPORTED  # a lone carriage return is a line break to YAML
        content = line.lstrip(" ")
        if content:
            lines.append([len(line) - len(content), content.rstrip(" ")])
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
            result[key] = _scalar(rest)
        elif i < len(lines) and lines[i][0] > indent:
            result[key], i = _block(lines, i, lines[i][0], depth + 1)
        elif i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-"):
            raise _Unsupported  # a sequence not indented under its key
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
            lines[i] = [indent + 2 + len(rest) - len(item), item]  # the item's mapping starts here
            value, i = _mapping(lines, i, lines[i][0], depth + 1)
            items.append(value)
        else:
            items.append(_scalar(item))
            i += 1
    if i < len(lines) and lines[i][0] > indent:
        raise _Unsupported
    return items, i


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
