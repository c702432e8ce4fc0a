"""What a change that touches every warehouse file costs at least, and what more files per table
would cost readers (issue 23's 1,000-file lines; docs/performance.md, "Incremental builds").

    python bench/rewrite_floor.py OUT [--files 128 6144]

`floor`: every Parquet file of OUT's published warehouse read and written again as it is
(pyarrow, two threads, zstd, no fsync), and nothing else: no combine, no analytics. `readers`:
OUT's `articles` cut into each number of files of `--files`, then read by DuckDB (two queries)
and by a pyarrow dataset (whole, one column); best of 3.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from timing import best_seconds


def floor(out: Path, scratch: Path) -> None:
    files = sorted((out / "warehouse").glob("*/*.parquet"))

    def again(numbered: tuple[int, Path]) -> None:
        number, path = numbered
        pq.write_table(pq.read_table(path), scratch / f"{number}.parquet", compression="zstd")

    started = time.perf_counter()
    with ThreadPoolExecutor(2) as threads:
        list(threads.map(again, enumerate(files)))
    size = sum(path.stat().st_size for path in files)
    print(f"floor: {len(files)} files, {size / 1e6:.0f} MB, read and written again in {time.perf_counter() - started:.2f} s")


def readers(out: Path, scratch: Path, counts: list[int]) -> None:
    articles = ds.dataset(out / "warehouse" / "articles").to_table()
    for count in counts:
        folder = scratch / f"articles-{count}"
        folder.mkdir()
        step = -(-articles.num_rows // count)
        for number in range(count):
            pq.write_table(articles.slice(number * step, step), folder / f"part-{number:05d}.parquet", compression="zstd")
        glob = f"read_parquet('{folder}/*.parquet')"
        timings = {
            "duckdb count, distinct providers": lambda: duckdb.sql(
                f"select count(*), count(distinct provider_domain) from {glob}").fetchall(),
            "duckdb title like": lambda: duckdb.sql(f"select count(*) from {glob} where title like '%AI%'").fetchall(),
            "pyarrow whole table": lambda: ds.dataset(folder).to_table(),
            "pyarrow one column": lambda: ds.dataset(folder).to_table(columns=["provider_domain"]),
        }
        size = sum(path.stat().st_size for path in folder.iterdir())
        print(f"readers, articles in {count} files ({size / 1e6:.0f} MB): "
              + ", ".join(f"{label} {best_seconds(run, 3):.3f} s" for label, run in timings.items()), flush=True)
        shutil.rmtree(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, nargs="+", default=[128, 6144])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.out) as scratch:  # on the output's disk
        floor(args.out, Path(scratch))
        readers(args.out, Path(scratch), args.files)


if __name__ == "__main__":
    main()
