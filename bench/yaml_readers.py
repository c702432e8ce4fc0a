"""µs per news file: newsfm's front matter readers against rapidyaml, the compiled parser issue 24 named.

    pip install rapidyaml        # not a dependency of newsfm: see docs/performance.md
    python bench/yaml_readers.py [FILES]

For each front-matter style of `newsfm generate`, on the same generated news files: `fastyaml`
(what a build uses), the strict PyYAML loader (its fallback), and each step of the two ways a
compiled tree reaches Python values: walking ryml's tree node by node (`Tree.type`, `key`, `val`:
one call into the extension each), or writing it out as JSON and reading that with `json.loads`.
It also counts the files where the JSON way gives another value than the strict loader (before
any of the checks that would be needed to step aside there). Best of 5 rounds, one process.
"""

from __future__ import annotations

import json
import sys

import ryml
from timing import best_seconds

from newsfm.synthetic.corpus import STYLES, generate_files
from newsfm.transforms import fastyaml
from newsfm.transforms.frontmatter import decode, parse_yaml, split_front_matter


def per_file_us(function, items: list) -> float:
    def every_item() -> None:
        for item in items:
            function(item)

    return best_seconds(every_item) / len(items) * 1e6


def walk(tree: ryml.Tree) -> list:
    """The least a node-by-node reading needs: each node's type, key and value."""
    return [(tree.type(node), tree.key(node) if node else None, tree.val(node) if tree.is_val(node) else None)
            for node in range(tree.size())]


def as_json(text: str) -> object:
    return json.loads(ryml.emit_json(ryml.parse_in_arena(text.encode())), parse_int=str, parse_float=str)


def main(count: int) -> None:
    print(f"{count} news files per style; µs per file (best of 5)\n")
    print("| style | fastyaml | strict PyYAML | ryml parse | + node walk | + emit JSON | + json.loads | JSON way ≠ strict |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for style in STYLES:
        texts = [split_front_matter(decode(file.data))[0] for file in generate_files(count, seed=3, style=style)
                 if file.expect == "article"]
        encoded = [text.encode() for text in texts]
        trees = [ryml.parse_in_arena(data) for data in encoded]
        emitted = [ryml.emit_json(tree) for tree in trees]
        differ = sum(as_json(text) != fastyaml.parse(text) for text in texts)
        print(f"| {style} | {per_file_us(fastyaml.parse, texts):.0f} | "
              f"{per_file_us(lambda text: parse_yaml(text, fast=False), texts):.0f} | "
              f"{per_file_us(ryml.parse_in_arena, encoded):.0f} | {per_file_us(walk, trees):.0f} | "
              f"{per_file_us(ryml.emit_json, trees):.0f} | "
              f"{per_file_us(lambda text: json.loads(text, parse_int=str, parse_float=str), emitted):.0f} | "
              f"{differ} of {len(texts)} |", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
