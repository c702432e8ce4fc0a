"""The same news in the front-matter styles other writers use, for benchmarks and tests.

- `smartable`: the real files' own (what `synthetic.corpus` writes): block lists indented under
  their key, text double-quoted.
- `pydump`: as a Python tool writes it (`yaml.safe_dump(..., allow_unicode=True, sort_keys=False)`,
  as python-frontmatter does; libyaml's dumper where there is one, which writes the same text): lists not indented under their key, plain scalars where YAML
  allows them, single quotes elsewhere, long lines folded at 80 columns; numbers and booleans
  as values, not text.
- `hand`: as a person keeps it: a comment, blank lines, the title single-quoted (with `''`),
  excerpts folded (`>-`), the opaque `secured` blob a literal block (`|-`), topics a flow
  sequence and the provider a flow mapping.
- `mix`: each file in one of the three, drawn per file.

Only the bytes of the front matter change: the same news gives the same rows in every style
(source paths and hashes aside; `tests/test_generate.py` checks it). Files made without a
front matter or with an unterminated one keep the real style; one with a bad date is restyled
like the others and stays rejected for it.
"""

from __future__ import annotations

import json
import random
import re
import zlib

import yaml

STYLES = ("smartable", "pydump", "hand", "mix")
ONE_STYLE = ("smartable", "pydump", "hand")
INTEGERS = frozenset({"quality", "heat", "width", "height"})
BOOLEANS = frozenset({"published", "isCached"})
FOLD_AT = 72  # columns of a folded excerpt in the hand style
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9][^\s#:,\[\]{}'\"]*")  # what the hand style writes unquoted: URLs, numbers, words
# libyaml's when there, 5-10× faster: the same values, the same text (2,994 of 2,994 files compared)
BASE_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_FOLD_POINT = re.compile(r"(?<! ) (?! )")  # a single space: folding there gives the text back exactly


def restyle(path: str, data: bytes, style: str, seed: int) -> bytes:
    """A news file's bytes with its front matter written in `style`; `mix` draws one style per
    file from (`seed`, `path`). Files without a well-formed front matter are returned as they are."""
    if style == "mix":
        style = random.Random(zlib.crc32(f"{seed}:{path}".encode())).choice(ONE_STYLE)
    if style == "smartable":
        return data
    text = data.decode("utf-8")
    if not text.startswith("---\n") or "\n---\n" not in text:
        return data
    front, body = text[4:].split("\n---\n", 1)
    try:
        document = yaml.load(front, Loader=BASE_LOADER)  # every scalar as its text
    except yaml.YAMLError:
        return data
    if not isinstance(document, dict):
        return data
    written = pydump(document) if style == "pydump" else hand(document)
    return f"---\n{written}---\n{body}".encode("utf-8")


def pydump(document: dict) -> str:
    return yaml.dump(typed(document), Dumper=SAFE_DUMPER, allow_unicode=True, sort_keys=False)


def typed(value: object, key: str | None = None) -> object:
    """Numbers and booleans as a Python tool would hold them; everything else as text."""
    if isinstance(value, dict):
        return {k: typed(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v, key) for v in value]
    if key in INTEGERS and isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    if key in BOOLEANS and value in ("true", "false"):
        return value == "true"
    return value


def hand(document: dict) -> str:
    lines = [f"# {document.get('title', 'news')[:60]}: kept by hand"]
    for key, value in document.items():
        if key in ("provider", "topics", "related", "images", "secured"):
            lines.append("")
        lines += hand_field(key, value, "")
    return "\n".join(lines) + "\n"


def hand_field(key: str, value: object, indent: str) -> list[str]:
    if key == "topics" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [f"{indent}{key}: [{', '.join(map(flow_text, value))}]"]
    if key == "provider" and isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return [f"{indent}{key}: {{{', '.join(f'{k}: {flow_text(v)}' for k, v in value.items())}}}"]
    if isinstance(value, dict):
        return [f"{indent}{key}:", *(line for k, v in value.items() for line in hand_field(k, v, indent + "  "))]
    if isinstance(value, list):
        lines = [f"{indent}{key}:"]
        for item in value:
            if isinstance(item, dict):
                fields = [line for k, v in item.items() for line in hand_field(k, v, indent + "    ")]
                lines += [f"{indent}  - {fields[0].lstrip()}", *fields[1:]] if fields else [f"{indent}  - {{}}"]
            else:
                lines.append(f"{indent}  - {hand_scalar(item)}")
        return lines
    if value is None:
        return [f"{indent}{key}:"]
    if key == "excerpt" and _FOLD_POINT.search(value) and value == value.strip() and len(value) > FOLD_AT:
        return [f"{indent}{key}: >-", *(f"{indent}  {line}" for line in folded(value))]
    if key == "secured" and value and value == value.strip():
        return [f"{indent}{key}: |-", f"{indent}  {value}"]
    if key == "title":
        return [f"{indent}{key}: {single_quoted(value)}"]
    return [f"{indent}{key}: {hand_scalar(value)}"]


def hand_scalar(value: str) -> str:
    return value if _PLAIN_SAFE.fullmatch(value) and value not in ("null", "Null", "NULL") else single_quoted(value)


def single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def flow_text(text: str) -> str:
    """Text in a flow collection: double-quoted, escaped as JSON (which YAML reads alike)."""
    return json.dumps(text, ensure_ascii=False)


def folded(text: str) -> list[str]:
    """`text` in lines of about FOLD_AT columns, cut only at single spaces (so `>-` joins them back)."""
    lines, start, last = [], 0, None
    for match in _FOLD_POINT.finditer(text):
        if match.start() - start > FOLD_AT and last is not None:
            lines.append(text[start:last])
            start = last + 1
        last = match.start()
    if len(text) - start > FOLD_AT and last is not None and last > start:
        lines.append(text[start:last])
        start = last + 1
    return [*lines, text[start:]]
