"""A fast reader for the YAML that news front matter is written in.

PyYAML's C parser still builds every node and value in Python, which makes it most of the
cost of a build. Front matter, whether a tool or a person writes it, uses a small part of
YAML: block mappings with plain keys; block sequences (indented under their key, or not, as
`yaml.dump` writes them); plain, single- or double-quoted scalars, with a trailing comment or
not; plain and single-quoted scalars folded over several lines (as `yaml.dump` folds long
text); literal (`|`) and folded (`>`) block scalars with any chomping (`-`, `+`); one-line
flow sequences and mappings of scalars (`[a, "b"]`, `{name: x}`); comment lines and blank
lines between entries. This module reads exactly that part and returns `UNSUPPORTED` for
anything else (anchors, aliases, tags, nested or multi-line flow collections, block scalars
with an indentation indicator or starting with a blank line, blank lines within a quoted or
plain scalar, double-quoted scalars over several lines, escapes other than `\\"` and `\\\\`,
repeated keys, tabs, odd indentation, nesting deeper than MAX_DEPTH...), so the caller falls
back to `StrictLoader`, which reads or refuses it. On what it accepts, it returns what
`StrictLoader` returns: strings, None for null, lists and dicts in order.
"""

from __future__ import annotations

import re

UNSUPPORTED = object()
_GENERAL = object()  # a line the one-line shortcut leaves to the general path
MAX_DEPTH = 32  # lists and mappings nested deeper are left to StrictLoader, which refuses them (the same limit)
MAX_KEY = 1024  # YAML's limit on an implicit key, which libyaml enforces

# What PyYAML's reader refuses, tabs, and the line breaks other than \n that YAML 1.1 knows.
_SPECIAL = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_KEY_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"  # the keys this reader takes: plain, one word
_KEY = re.compile(rf"({_KEY_NAME}):(?: +(.*))?$")
_PLAIN_START_PATTERN = r"[^-?:,\[\]{}#&*!|>'\"%@`\s]|[-?:][^\s,\[\]{}]"  # how a plain scalar may begin
_PLAIN_START = re.compile(_PLAIN_START_PATTERN)
_QUOTED = {"'": re.compile(r"'(?:[^']|'')*'"), '"': re.compile(r'"(?:[^"\\]|\\.)*"')}
# A scalar in a flow collection, as far as this reader goes: quoted, or plain without `:?#,[]{}'"`.
_FLOW_SCALAR = rf"""({_QUOTED['"'].pattern}|{_QUOTED["'"].pattern}|[^:?#,\[\]{{}}'"]+)"""
_FLOW_SEQUENCE_ITEM = re.compile(rf" *{_FLOW_SCALAR} *(,|$)")
_FLOW_MAPPING_ITEM = re.compile(rf" *({_KEY_NAME}): +{_FLOW_SCALAR} *(,|$)")
_NULLS = frozenset({"~", "null", "Null", "NULL"})
# One line's whole scalar as `_scalar` reads it, in one match: single-quoted, double-quoted
# without escapes, or plain (a plain start; no `: `, ` #` or final `:`). The group that matched
# says which; anything else (escapes, comments, flow, block headers) takes the general path.
_ONE_LINE_SCALAR = rf"""(?:'([^']*(?:''[^']*)*)'|"([^"\\]*)"|(?={_PLAIN_START_PATTERN})(.+))$"""
_KEY_AND_SCALAR = re.compile(rf"({_KEY_NAME}): +{_ONE_LINE_SCALAR}")
_ITEM_SCALAR = re.compile(rf"- +(?!{_KEY_NAME}:(?: |$)){_ONE_LINE_SCALAR}")  # not `- key: ...`
_BLOCK_HEADERS = {"|": (False, None), "|-": (False, False), "|+": (False, True),
                  ">": (True, None), ">-": (True, False), ">+": (True, True)}  # (folded, chomping: strip, clip or keep)


# Ends the list of lines: indented less than anything and after every line, so the readers
# stop at it without counting lines.
_END = (-1, "", float("inf"))


class _Unsupported(Exception):
    """Raised inside the reader; turned into UNSUPPORTED at the surface."""


def parse(text: str) -> object:
    """YAML text → value, or UNSUPPORTED when the text is outside the subset."""
    if not text.replace("\n", " ").isprintable() and _SPECIAL.search(text):  # printable text has none (and is quick to tell)
        return UNSUPPORTED
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return UNSUPPORTED  # a lone carriage return is a line break to YAML
    raw = text.split("\n")  # every line as written, which block scalars read
    # (indent, content, line number) of each line that is neither blank nor a comment
    lines = [
        (len(line) - len(content), content.rstrip(" "), number)
        for number, line in enumerate(raw)
        if (content := line.lstrip(" ")) and content[0] != "#"
    ]
    if not lines:
        return None
    lines.append(_END)
    try:
        if lines[0][0] != 0 or lines[0][1].startswith("-"):
            raise _Unsupported
        value, end = _mapping(lines, raw, 0, 0, 1)
        if lines[end] is not _END:
            raise _Unsupported
    except _Unsupported:
        return UNSUPPORTED
    return value


def _mapping(lines: list, raw: list, i: int, indent: int, depth: int) -> tuple[dict, int]:
    if depth > MAX_DEPTH:
        raise _Unsupported
    result: dict = {}
    while lines[i][0] == indent:
        simple, value = _KEY_AND_SCALAR.match(lines[i][1]), _GENERAL
        if simple and lines[i + 1][0] <= indent:  # `key: scalar` on one line, the most common entry
            key, single, double, plain = simple.groups()
            value = _one_line_scalar(single, double, plain)
        if value is not _GENERAL:
            i += 1
        else:
            match = _KEY.match(lines[i][1])
            if match is None:
                raise _Unsupported
            key, rest = match.groups()
            i += 1
            if rest and rest[0] != "#":
                value, i = _scalar_lines(rest, lines, raw, i, indent, depth + 1)
            elif lines[i][0] > indent:
                value, i = _block(lines, raw, i, lines[i][0], depth + 1)
            elif lines[i][0] == indent and lines[i][1].startswith("- "):
                value, i = _sequence(lines, raw, i, indent, depth + 1)  # not indented under its key
            elif lines[i][0] == indent and lines[i][1].startswith("-"):
                raise _Unsupported
            else:
                value = None
        if key in result or key in _NULLS or len(key) > MAX_KEY:
            raise _Unsupported  # StrictLoader reports repeated keys with their place; `null:` is a None key
        result[key] = value
    if lines[i][0] > indent:
        raise _Unsupported
    return result, i


def _block(lines: list, raw: list, i: int, indent: int, depth: int) -> tuple[object, int]:
    if lines[i][1].startswith("- ") or lines[i][1] == "-":
        return _sequence(lines, raw, i, indent, depth)
    return _mapping(lines, raw, i, indent, depth)


def _sequence(lines: list, raw: list, i: int, indent: int, depth: int) -> tuple[list, int]:
    if depth > MAX_DEPTH:
        raise _Unsupported
    items = []
    while lines[i][0] == indent and lines[i][1].startswith("- "):
        simple = _ITEM_SCALAR.match(lines[i][1])
        if simple and lines[i + 1][0] <= indent:  # `- scalar` on one line
            value = _one_line_scalar(*simple.groups())
            if value is not _GENERAL:
                items.append(value)
                i += 1
                continue
        rest = lines[i][1][2:]
        item = rest.lstrip(" ")
        if item.startswith(("-", "#")) or not item:
            raise _Unsupported
        if _KEY.match(item):
            lines[i] = (indent + 2 + len(rest) - len(item), item, lines[i][2])  # the item's mapping starts here
            value, i = _mapping(lines, raw, i, lines[i][0], depth + 1)
        else:
            value, i = _scalar_lines(item, lines, raw, i + 1, indent, depth + 1)
        items.append(value)
    if lines[i][0] > indent:
        raise _Unsupported
    return items, i


def _scalar_lines(text: str, lines: list, raw: list, i: int, indent: int, depth: int) -> tuple[object, int]:
    """The value that starts with `text` on line `i - 1` and goes on over the lines from `i`
    that are indented more than `indent` (its key's or dash's); the index of the line after it."""
    value_text = _without_comment(text) if " #" in text else text
    first = value_text[0]
    if first in "|>" and value_text in _BLOCK_HEADERS:
        return _block_scalar(value_text, lines, raw, i, indent)
    if lines[i][0] <= indent:
        if first in "[{":
            return _flow(value_text, depth), i
        return _scalar(value_text), i
    if value_text != text or first in "[{":
        raise _Unsupported  # a comment ends the scalar, and flow collections here fit on one line
    more = []
    while lines[i][0] > indent:
        if lines[i][2] != lines[i - 1][2] + 1:
            raise _Unsupported  # a blank line within a scalar is a line break in it; a comment line ends it
        more.append(lines[i][1])
        i += 1
    if text[0] == "'":
        return _single_quoted(" ".join([text, *more])), i  # each line break between text folds to a space
    if text[0] == '"' or any(map(_ends_plain, more)):
        raise _Unsupported
    value = _scalar(text)
    if value is None or text in _NULLS:
        raise _Unsupported
    return " ".join([value, *more]), i


def _one_line_scalar(single: str | None, double: str | None, plain: str | None) -> object:
    """The value of a `_ONE_LINE_SCALAR` match, from the group that matched; `_GENERAL` for
    plain text that the general path must judge (it holds `: ` or ` #`, or ends with `:`)."""
    if double is not None:
        return double
    if single is not None:
        return single.replace("''", "'")
    if _ends_plain(plain):
        return _GENERAL
    return None if plain in _NULLS else plain


def _ends_plain(text: str) -> bool:
    """`text` holds what ends a plain scalar on its line: `: `, ` #` or a final `:`."""
    return ": " in text or " #" in text or text.endswith(":")


def _without_comment(text: str) -> str:
    """`text` without a trailing ` # comment`; quoted text left whole when it is not closed on
    this line (it may go on over the next lines), or when what follows is not a comment."""
    if text[0] not in "'\"":
        cut = text.find(" #")
        return text if cut < 0 else text[:cut].rstrip(" ")
    end = _closing_quote(text, 0)
    if end is None or end + 1 == len(text):
        return text
    tail = text[end + 1 :]
    return text[: end + 1] if tail.lstrip(" ").startswith("#") and tail[0] == " " else text


def _closing_quote(text: str, start: int) -> int | None:
    """Where the quoted scalar that opens at `start` closes, or None if not on this line."""
    match = _QUOTED[text[start]].match(text, start)
    return None if match is None else match.end() - 1


def _scalar(text: str) -> str | None:
    if text[0] == '"':
        return _double_quoted(text)
    if text[0] == "'":
        return _single_quoted(text)
    if not _PLAIN_START.match(text) or _ends_plain(text):
        raise _Unsupported
    return None if text in _NULLS else text


def _block_scalar(header: str, lines: list, raw: list, i: int, indent: int) -> tuple[str, int]:
    """A literal or folded block scalar whose header ends line `i - 1`, as PyYAML's scanner
    reads it: content indented as its first line, which must hold text."""
    folded, chomping = _BLOCK_HEADERS[header]
    start = lines[i - 1][2] + 1
    first = raw[start] if start < len(raw) else ""
    block_indent = len(first) - len(first.lstrip(" "))
    if not first.strip(" ") or block_indent <= indent:
        raise _Unsupported  # leading blank lines or an empty block scalar
    chunks: list[str] = []
    previous = ""
    at = start
    while True:
        line = raw[at]
        chunks.append(line[block_indent:])
        previous = line
        at += 1
        line_break = "\n" if at < len(raw) else ""
        breaks = 0
        while at < len(raw) and not raw[at]:
            at += 1
            breaks += at < len(raw)  # an empty last line has no line break after it
        if at < len(raw) and not raw[at].strip(" "):
            raise _Unsupported  # a line of spaces only
        if at >= len(raw) or len(raw[at]) - len(raw[at].lstrip(" ")) < block_indent:
            break
        following = raw[at]
        if folded and line_break and previous[block_indent] != " " and following[block_indent] != " ":
            chunks.append("" if breaks else " ")
        else:
            chunks.append(line_break)
        chunks.append("\n" * breaks)
    if chomping is not False:
        chunks.append(line_break)
    if chomping is True:
        chunks.append("\n" * breaks)
    while lines[i][2] < at:
        i += 1
    return "".join(chunks), i


def _flow(text: str, depth: int) -> list | dict:
    """A flow sequence or mapping of scalars, on one line: `[a, "b c"]`, `{name: 'x', id: 1}`."""
    if depth > MAX_DEPTH or text[-1] != {"[": "]", "{": "}"}[text[0]] or "#" in text:
        raise _Unsupported
    body, at = text[1:-1], 0
    if not body.strip(" "):
        return [] if text[0] == "[" else {}
    pattern = _FLOW_SEQUENCE_ITEM if text[0] == "[" else _FLOW_MAPPING_ITEM
    items = []
    while at < len(body):
        item = pattern.match(body, at)
        if item is None or (item[item.lastindex] == "," and item.end() == len(body)):
            raise _Unsupported  # not a scalar, or a trailing comma
        items.append(item.groups()[:-1])
        at = item.end()
    if text[0] == "[":
        return [_flow_scalar(value) for value, in items]
    result: dict = {}
    for key, value in items:
        if key in result or key in _NULLS:
            raise _Unsupported
        result[key] = _flow_scalar(value)
    return result


def _flow_scalar(text: str) -> str | None:
    if text[0] in "'\"":
        return _scalar(text)
    text = text.rstrip(" ")
    if not _PLAIN_START.match(text):
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
