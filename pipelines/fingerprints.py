"""Fingerprints of newsfm's own code, so that a build's output follows the code that makes it.

A fingerprint is the SHA-256 of the source of some root modules and of every newsfm module they
import, directly or through others (imports inside functions included), found by reading
their source: an edit anywhere in that code changes it, with or without a new version number.

`transforms.schema` is not walked into: it holds every table's schema, and a fingerprint takes
the schemas it depends on as text instead (`schemas_text`), so that a new analytics column
does not make a build parse every file again.

- `parsing()`: the code that turns a file's bytes into its part (reading, splitting, YAML,
  converters, keys, normalizing). A change means a full build.
- `combining()`: the code that turns parts into the warehouse tables. A change means the
  warehouse is combined again from the parts (no file is parsed).
- `analytics()`: the SQL that builds run for the analytics tables, and every table's schema.
  A change means the analytics are recomputed from the published warehouse.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import marshal
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Iterable

import pyarrow as pa

PACKAGE = "newsfm"
SCHEMA_MODULE = "newsfm.transforms.schema"
PARSING_ROOTS = ("newsfm.transforms.normalize", "newsfm.pipelines.discover")
COMBINING_ROOTS = ("newsfm.pipelines.combine",)
ANALYTICS_ROOTS = ("newsfm.pipelines.sql.engine",)


def parsing() -> str:
    from newsfm.transforms.normalize import PART_SCHEMAS

    return fingerprint(PARSING_ROOTS, schemas_text(PART_SCHEMAS.values()))


def combining() -> str:
    from newsfm.transforms.normalize import PART_SCHEMAS
    from newsfm.transforms.schema import TABLES

    warehouse = [spec.schema for spec in TABLES.values() if spec.layer == "warehouse"]
    return fingerprint(COMBINING_ROOTS, schemas_text([*PART_SCHEMAS.values(), *warehouse]))


def analytics() -> str:
    from newsfm.transforms.schema import TABLES

    return fingerprint(ANALYTICS_ROOTS, schemas_text(spec.schema for spec in TABLES.values()))


def schemas_text(schemas: Iterable[pa.Schema]) -> str:
    """Schemas as text, with their metadata (the descriptions, which the docs are made of)."""
    return "\n".join(schema.to_string(show_field_metadata=True, show_schema_metadata=True) for schema in schemas)


@lru_cache(maxsize=None)
def fingerprint(roots: tuple[str, ...], extra: str = "") -> str:
    """SHA-256 (hex, 16 digits) of the sources of `roots` and of the newsfm modules they import, and `extra`."""
    digest = hashlib.sha256(extra.encode())
    for name in sorted(closure(roots)):
        digest.update(f"\0{name}\0".encode())
        digest.update(source(name))
    return digest.hexdigest()[:16]


def closure(roots: Iterable[str]) -> set[str]:
    """`roots` and every newsfm module they import, transitively; `transforms.schema` left out."""
    seen: set[str] = set()
    waiting = list(roots)
    while waiting:
        name = waiting.pop()
        if name in seen or name == SCHEMA_MODULE:
            continue
        seen.add(name)
        waiting += imported(name)
    return seen


def imported(name: str) -> list[str]:
    """The newsfm modules that module `name` imports (of `from package import name`, the
    module when `name` is one, else the package)."""
    spec = importlib.util.find_spec(name)
    package = name if spec.submodule_search_locations is not None else name.rpartition(".")[0]
    found = []
    for node in ast.walk(parsed(source(name))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1 packages
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.append(base)
            found += [f"{base}.{alias.name}" for alias in node.names if is_module(f"{base}.{alias.name}")]
    return [module for module in found if module == PACKAGE or module.startswith(PACKAGE + ".")]


def parsed(text: bytes) -> ast.Module:
    """`ast.parse(text)`, in a thread of its own where CPython 3.11.7 and older refuse it: they raise
    "AST constructor recursion depth mismatch" when the recursion limit was changed since the
    thread started (hypothesis changes it while a test runs; python/cpython#106905)."""
    try:
        return ast.parse(text)
    except SystemError:
        with ThreadPoolExecutor(max_workers=1) as thread:
            return thread.submit(ast.parse, text).result()


def is_module(name: str) -> bool:
    if not name.startswith(PACKAGE + "."):
        return False
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@lru_cache(maxsize=None)
def source(name: str) -> bytes:
    """A module's source (its compiled code where only that is installed)."""
    spec = importlib.util.find_spec(name)
    text = spec.loader.get_source(name)
    return text.encode() if text is not None else marshal.dumps(spec.loader.get_code(name))
