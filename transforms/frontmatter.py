"""Bytes → YAML mapping: decode, split the front matter off, parse it safely.

Every way this can fail raises `Rejected` with a reason code from `REASONS`, a message a person
can act on, and where known the 1-based line and column in the file.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from newsfm.transforms import fastyaml
from newsfm.transforms.settings import DEFAULTS

# Lists and mappings nested deeper than this are refused. Real front matter nests 6 deep at most
# (article → related → item → provider → images → image); 32 leaves room, and keeps every walk
# over a value (construction, messages, the converters) far from Python's recursion limit.
MAX_DEPTH = 32
MAX_TYPED_SCALAR = 100  # characters of a !!int, !!float, !!bool or !!timestamp value
# Aliases (`*name`) and merge keys (`<<: *name`) repeat a value written once: Jekyll configs
# share defaults so. What they add is bounded, for it is the only way a YAML value outgrows its
# text: at most ALIAS_FACTOR times the values written, and ALIAS_CAP values in all.
ALIAS_FACTOR = 10
ALIAS_CAP = 100_000

REASONS = {
    "not_utf8": "the bytes are not valid UTF-8 text (the message gives the byte and its offset)",
    "too_large": "the file is larger than the configured limit (`--max-file-bytes`, default 1 MiB); it is not decoded",
    "no_front_matter": "the file does not start with a `---` line (a UTF-8 byte order mark before it is fine)",
    "unterminated_front_matter": "the front matter is never closed by a second `---` line",
    "yaml_error": "the front matter is not valid YAML, or uses what front matter may not: a tag other than YAML's "
    "standard `!!str`, `!!null`, `!!bool`, `!!int`, `!!float`, `!!timestamp`, `!!seq`, `!!map`, `!!merge` "
    "(so no `!!python/...`, local tags such as `!custom`, `!!binary`, `!!set`, `!!omap`, `!!pairs`); lists and "
    f"mappings nested more than {MAX_DEPTH} deep (aliases included); a control character, raw or written as an "
    f"escape (`\"\\0\"`); a malformed `!!int`, `!!float`, `!!bool` or `!!timestamp` value or one over "
    f"{MAX_TYPED_SCALAR} characters; several documents",
    "alias_budget": "anchors and aliases (`&name`, `*name`, `<<: *name`) are read, within a budget: the values "
    f"aliases repeat may add at most {ALIAS_FACTOR} times the values written and {ALIAS_CAP:,} values in all (an "
    "alias bomb adds millions), and an alias may not repeat a value inside itself",
    "not_a_mapping": "the front matter is valid YAML but not a mapping of field names to values: a list, a scalar, or empty",
    "duplicate_key": "a mapping repeats a key (YAML parsers silently keep the last one)",
    "missing_field": "a required field is absent or empty: a news item's `title`, `publishedDateTime`, or both `webUrl` "
    "and `originalUrl`; a related item's `webUrl` and `originalUrl`; an image's `url`",
    "bad_value": "a field has a value of the wrong type or form; the message names the field path "
    "(`related[3].quality`) and the value",
    "not_news": "a document that is not a news item: another collection of a site (`_learning`, `_people`, "
    "...), a page, a layout or a newsletter, a site's own Markdown without front matter (`README.md`; see "
    "docs/sites.md)",
    "unsupported_file": "the file is none of a news item (`*.md`, `*.markdown`), a topic (`_data/topics/*.yaml`), an organization "
    "(`_data/organizations/*`) or a site's `_config.yml`; it is read and hashed, not loaded",
    "unreadable": "the file could not be read: permissions, a file that vanished, a FIFO, socket or device, a link "
    "out of the input folder, a broken link or link loop, a folder that cannot be listed, a name that is not UTF-8, "
    "a path longer than the system allows",
}


# The files newsfm reads no rows from because they are not something it loads: `skipped`, not
# `rejected` (a news item, a dimension entry or a site config that cannot be read).
SKIPPED_REASONS = frozenset({"not_news", "unsupported_file"})


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
_YAML_TAG = "tag:yaml.org,2002:"
_NULL_TAG, _MERGE_TAG = _YAML_TAG + "null", _YAML_TAG + "merge"
# Tags a document may carry: what plain YAML resolves to here (str, null, seq, map, and `<<`,
# the merge key), and the standard scalar types a dumper writes (`!!int "65"`), which the
# guarded constructors build.
_SCALAR_TYPES = ("bool", "int", "float", "timestamp")
ALLOWED_TAGS = frozenset(_YAML_TAG + name for name in ("str", "null", "seq", "map", "merge", *_SCALAR_TYPES))
# What YAML allows in a stream (PyYAML's reader refuses the rest), applied after escapes too.
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def shorten(value: Any, limit: int = 80) -> str:
    """`repr(value)` cut to `limit` characters, for messages."""
    shown = repr(value[: limit + 1] if isinstance(value, str) else value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


class StrictLoader(_Base):  # type: ignore[misc, valid-type]
    """A safe loader that resolves plain scalars to strings (or null) and refuses duplicate keys.

    Types are converted explicitly by `transforms.fields`, so `1e3`, `no` or `2020-06-10` stay
    the text the author wrote until a field says what it should be. Merge keys (`<<: *name`)
    merge as YAML 1.1 says (keys written in the mapping win). Before anything is constructed,
    `check_node` refuses tags outside ALLOWED_TAGS, deep nesting, control characters and aliases
    past their budget; explicit `!!int`, `!!float`, `!!bool` and `!!timestamp` values are built
    by guarded constructors that fail only as YAML errors.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag in (_NULL_TAG, _MERGE_TAG)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        if any(tag in (_NULL_TAG, _MERGE_TAG) for tag, _ in resolvers)
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        self.refuse_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """Merging changes the merged mappings' nodes: their own keys are checked first."""
        self.refuse_duplicate_keys(node)
        super().flatten_mapping(node)

    def refuse_duplicate_keys(self, node: yaml.MappingNode) -> None:
        """A key written twice in one mapping (merge keys aside, once per mapping)."""
        checked = self.__dict__.setdefault("duplicates_checked", set())
        if id(node) in checked:
            return
        checked.add(id(node))
        seen: set = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                is_repeat = key in seen
            except TypeError:  # an unhashable key: let the base class report it
                break
            if is_repeat:
                raise _DuplicateKey(key, key_node.start_mark)
            seen.add(key)


def _guarded(construct, name: str):
    """PyYAML's constructor for a standard scalar tag, failing only as a YAML error.

    Its own failures on a malformed value (`!!int abc`, `!!int ""`, `!!timestamp x`, `!!bool
    maybe`) are a ValueError, IndexError, AttributeError or KeyError; a long value is refused
    before it is read, since an `!!int` of many `:`-separated parts costs quadratic time.
    """

    def guarded(loader: yaml.constructor.BaseConstructor, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode) and len(node.value) > MAX_TYPED_SCALAR:
            problem = f"a !!{name} value longer than {MAX_TYPED_SCALAR} characters is not allowed"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
        try:
            return construct(loader, node)
        except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError):
            problem = f"{shorten(node.value)} is not a valid !!{name}"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None

    return guarded


for _name in _SCALAR_TYPES:
    StrictLoader.add_constructor(_YAML_TAG + _name, _guarded(StrictLoader.yaml_constructors[_YAML_TAG + _name], _name))


class _DuplicateKey(Exception):
    def __init__(self, key: Any, mark: yaml.Mark):
        super().__init__(key)
        self.key = key
        self.mark = mark


class _NotAllowed(Exception):
    def __init__(self, problem: str, mark: yaml.Mark, reason: str = "yaml_error"):
        super().__init__(problem)
        self.problem, self.mark, self.reason = problem, mark, reason


def check_node(root: yaml.Node) -> None:
    """Refuse a composed document that front matter never needs and that could cost a reader dearly.

    - a tag outside ALLOWED_TAGS: `!!python/...` and `!custom` must never be constructed,
      `!!binary` (bytes), `!!set` (unordered, so its text is not deterministic), `!!omap` and
      `!!pairs` (lists of pairs) are values no field takes.
    - lists and mappings nested deeper than MAX_DEPTH.
    - a character YAML does not allow in a stream, written as an escape (`"\\0"`, `"\\e"`).
    - aliases past their budget (`check_aliases`). The composer shares an anchored node, so an
      alias is a node met twice.

    One pass over the nodes written, level by level without recursion, before any value is
    constructed; a second one, over the nodes aliases repeat, only when there are any.
    """
    seen: set[int] = set()
    repeated: dict[int, yaml.Node] = {}
    level, depth = [root], 0
    while level:
        depth += 1
        below: list = []
        for node in level:
            if id(node) in seen:
                repeated[id(node)] = node
                continue
            seen.add(id(node))
            if node.tag not in ALLOWED_TAGS:
                tag = "!!" + node.tag[len(_YAML_TAG) :] if node.tag.startswith(_YAML_TAG) else node.tag
                problem = f"the tag {shorten(tag, 60)} is not allowed; remove it, each field converts its own value"
                raise _NotAllowed(problem, node.start_mark)
            if node.id == "scalar":
                # only escapes bring in what the reader refuses, and only double quotes have escapes
                bad = node.style == '"' and _NOT_PRINTABLE.search(node.value)
                if bad:
                    problem = f"an escape gives the control character U+{ord(bad.group()):04X}, which text may not contain"
                    raise _NotAllowed(problem, node.start_mark)
            elif depth > MAX_DEPTH:
                raise _NotAllowed(_TOO_DEEP, node.start_mark)
            else:
                below += children(node)
        level = below
    if repeated:
        check_aliases(root, list(repeated.values()), written=len(seen))


_TOO_DEEP = f"lists and mappings are nested more than {MAX_DEPTH} deep"


def children(node: yaml.Node) -> list[yaml.Node]:
    """A list's items, a mapping's keys and values in turn, none for a scalar."""
    if node.id == "scalar":
        return []
    return node.value if node.id == "sequence" else [item for pair in node.value for item in pair]


def check_aliases(root: yaml.Node, repeated: list[yaml.Node], written: int) -> None:
    """Refuse a document whose aliases (the nodes `repeated`) repeat a value inside itself, add
    more values than their budget allows (ALIAS_FACTOR times those `written`, ALIAS_CAP in all),
    or nest values more than MAX_DEPTH deep once repeated.

    Each node's size (values, repeats included) and height (levels of lists and mappings) are
    counted once, after its children's, walking the nodes depth first without recursion; a
    node met again while its own children are being walked is an alias of itself.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    walking: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            below = children(node)
            size[key] = 1 + sum(size[id(child)] for child in below)
            height[key] = 0 if node.id == "scalar" else 1 + max((height[id(child)] for child in below), default=0)
            walking.discard(key)
        elif key in walking:
            problem = "the value anchored here holds an alias of itself (*name), which repeats it without end"
            raise _NotAllowed(problem, node.start_mark, "alias_budget")
        elif key not in size:
            walking.add(key)
            stack.append((node, True))
            stack += [(child, False) for child in children(node)]
    added = size[id(root)] - written
    if added > ALIAS_FACTOR * written or added > ALIAS_CAP:
        heaviest = max(repeated, key=lambda node: size[id(node)])
        problem = (f"aliases (*name) repeat values until the YAML holds {size[id(root)]:,} of them, {written:,} written: "
                   f"more than the {ALIAS_FACTOR} times as many, or {ALIAS_CAP:,} in all, that aliases may add; "
                   "the largest value repeated is anchored here")
        raise _NotAllowed(problem, heaviest.start_mark, "alias_budget")
    if height[id(root)] > MAX_DEPTH:
        raise _NotAllowed(_TOO_DEEP, deepest(root, height).start_mark)


def deepest(root: yaml.Node, height: dict[int, int]) -> yaml.Node:
    """The first list or mapping (in document order) at level MAX_DEPTH + 1, given each node's height."""
    node = root
    for level in range(1, MAX_DEPTH + 1):
        node = next(child for child in children(node) if height[id(child)] >= MAX_DEPTH + 1 - level)
    return node


def decode(data: bytes, max_bytes: int = DEFAULTS.max_file_bytes) -> str:
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
_CLOSING_REST = re.compile(r"[ \t]*\r?$", re.MULTILINE)  # what may follow `---` on the closing line


def split_front_matter(text: str) -> tuple[str, str]:
    """Text → (front matter YAML, body). The YAML's first line is line 2 of the file."""
    opening = _OPENING.match(text)
    if not opening:
        raise Rejected("no_front_matter", "the first line is not '---', so the file has no front matter", 1, 1)
    closing = closing_line(text, opening.end())
    if not closing:
        raise Rejected(
            "unterminated_front_matter",
            "the front matter opened by '---' on line 1 is never closed: add a line '---' after the last field",
            1,
            1,
        )
    return text[opening.end() : closing[0]], text[closing[1] :].lstrip("\r\n")


def closing_line(text: str, start: int) -> tuple[int, int] | None:
    """Where the first line from `start` that is `---` (and spaces) begins and ends; None if none is.

    A `---` at a line start is looked for as text, which is quicker than a multi-line regex over
    the whole front matter; what follows it on its line is then checked.
    """
    at = start - 1  # the opening line's break: a closing line may start right at `start`
    while (at := text.find("\n---", at)) >= 0:
        rest = _CLOSING_REST.match(text, at + 4)
        if rest:
            return at + 1, rest.end()
        at += 4
    return None


def parse_yaml(text: str, first_line: int = 1, fast: bool = True) -> Any:
    """YAML text → Python value, with errors placed at `first_line` + their line in `text`.

    With `fast`, text in the styles front matter is written in is read by `fastyaml`, which
    gives the same value; everything else, and every error, goes through `StrictLoader`.
    A stream of several documents is accepted when all but the first are empty (taxonomy files
    sometimes end in a stray `---`).
    """
    if fast:
        value = fastyaml.parse(text)
        if value is not fastyaml.UNSUPPORTED:
            return value
    loader = StrictLoader(text)
    documents: list = []
    try:
        while loader.check_node():
            node = loader.get_node()
            check_node(node)
            document = loader.construct_document(node)
            if document is not None:
                documents.append(document)
            if len(documents) > 1:
                raise Rejected("yaml_error", "expected one YAML document, found several")
    except _DuplicateKey as error:
        raise Rejected(
            "duplicate_key",
            f"the key {shorten(error.key)} appears twice in one mapping; YAML would silently keep the last value, remove one",
            first_line + error.mark.line,
            error.mark.column + 1,
        ) from None
    except _NotAllowed as error:
        line, column = first_line + error.mark.line, error.mark.column + 1
        raise Rejected(error.reason, f"not allowed at line {line}, column {column}: {error.problem}", line, column) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {first_line + mark.line}, column {mark.column + 1}" if mark else ""
        raise Rejected(
            "yaml_error",
            f"invalid YAML{where}: {error.problem or error.context}",
            first_line + mark.line if mark else None,
            mark.column + 1 if mark else None,
        ) from None
    except yaml.reader.ReaderError as error:  # a character YAML refuses (NUL, ESC, U+FFFE): no mark
        # the reader stops at the first one, so its first occurrence is the place
        at = text.find(chr(error.character)) if isinstance(error.character, int) else -1
        if at < 0:
            raise Rejected("yaml_error", f"invalid YAML: {error}") from None
        line, column = first_line + text.count("\n", 0, at), at - text.rfind("\n", 0, at)
        problem = f"the character U+{error.character:04X} is not allowed ({error.reason})"
        raise Rejected("yaml_error", f"invalid YAML at line {line}, column {column}: {problem}", line, column) from None
    except yaml.YAMLError as error:
        raise Rejected("yaml_error", f"invalid YAML: {error}") from None
    except RecursionError:  # only the pure-Python composer recurses (libyaml stops at 1,000 levels)
        raise Rejected("yaml_error", f"lists and mappings are nested more than {MAX_DEPTH} deep") from None
    finally:
        loader.dispose()
    return documents[0] if documents else None


def read_front_matter(data: bytes, max_bytes: int = DEFAULTS.max_file_bytes) -> dict:
    """A news file's bytes → its front matter as a mapping of field names to values."""
    front_matter, _body = split_front_matter(decode(data, max_bytes))
    return require_mapping(parse_yaml(front_matter, first_line=2), "front matter")


def read_yaml_mapping(data: bytes, max_bytes: int = DEFAULTS.max_file_bytes) -> dict:
    """A YAML data file's bytes (a taxonomy entry) → its mapping."""
    return require_mapping(parse_yaml(decode(data, max_bytes)), "YAML document")


def require_mapping(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        shape = "empty" if value is None else f"a {type(value).__name__}"
        raise Rejected("not_a_mapping", f"the {what} is {shape}, not a mapping of field names to values")
    return value
