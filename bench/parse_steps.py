"""µs per news file of each step from bytes to a part, and what issue 24's "columns, not objects"
lever could take off it: the URLs keyed per file and how many of a batch's are distinct (a cache
of canonical URLs gains only on repeats), and the timestamps read in Python against Arrow's
`strptime` over the same texts (those the field reader accepts).

    python bench/parse_steps.py [FILES]

For each front-matter style of `newsfm generate`, FILES generated files (default 3,000) as one
batch, in one process, best of 5 rounds: `extract` (split, read the front matter, check and
convert the fields, key paths, SHA-256), `normalize_batch` (the records into column lists) and
`Batch.parts` (the lists into Arrow tables).
"""

from __future__ import annotations

import sys
from unittest import mock

import pyarrow as pa
import pyarrow.compute as pc
from timing import best_seconds

from newsfm.synthetic.corpus import STYLES, generate_files
from newsfm.transforms import fields, keys, normalize
from newsfm.transforms.extract import extract


def per_file_us(run, files: int) -> float:
    return best_seconds(run) / files * 1e6


def seen(module, name: str, values: list):
    """`module.name` patched to record its last argument, calling through."""
    original = getattr(module, name)

    def recording(*args):
        values.append(args[-1])
        return original(*args)

    return mock.patch.object(module, name, recording)


def accepted(text: str) -> bool:
    """Whether the field reader takes this time (the generator writes some it refuses)."""
    try:
        return fields.timestamp("", text) is not None
    except fields.Rejected:
        return False


def main(count: int) -> None:
    print(f"{count} files per style, one batch; µs per file (best of 5)\n")
    print("| style | extract | normalize_batch | Batch.parts | URLs keyed per file | distinct | canonical + hash |"
          " timestamps per file | in Python | Arrow strptime |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for style in STYLES:
        files = [(file.path, file.data) for file in generate_files(count, seed=3, style=style)]
        extracted = [extract(path, data) for path, data in files]
        batch = normalize.normalize_batch(extracted)
        urls, times = [], []
        with seen(normalize, "canonical_url", urls), seen(keys, "canonical_url", urls), seen(fields, "timestamp", times):
            normalize.normalize_batch([extract(path, data) for path, data in files])
        texts = [value for value in times if isinstance(value, str) and accepted(value)]
        arrow_texts = pa.array(texts, pa.string())
        print(f"| {style} | {per_file_us(lambda: [extract(p, d) for p, d in files], len(files)):.0f} | "
              f"{per_file_us(lambda: normalize.normalize_batch(extracted), len(files)):.0f} | "
              f"{per_file_us(batch.parts, len(files)):.0f} | {len(urls) / len(files):.1f} | "
              f"{len(set(urls)) / len(urls):.1%} | "
              f"{per_file_us(lambda: [keys.short_hash(keys.canonical_url(url)) for url in urls], len(files)):.1f} | "
              f"{len(texts) / len(files):.1f} | "
              f"{per_file_us(lambda: [fields.timestamp('', text) for text in texts], len(files)):.1f} | "
              f"{per_file_us(lambda: pc.strptime(arrow_texts, '%Y-%m-%dT%H:%M:%S%z', 'us', error_is_null=True), len(files)):.1f} |",
              flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
