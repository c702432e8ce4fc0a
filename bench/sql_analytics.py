"""The analytics layer of a built output folder, by DuckDB (pipelines.sql) or by pandas (transforms.analytics).

    python bench/sql_analytics.py duckdb OUT RESULT [--memory-limit 200MB] [--threads 2]
    python bench/sql_analytics.py pandas OUT RESULT
    python bench/sql_analytics.py compare RESULT_A RESULT_B

`OUT` is a built output folder (`newsfm build CORPUS OUT`); each mode writes the nine analytics
tables to `RESULT/<table>.parquet` and prints seconds and rows per table and the process' peak
RSS. `duckdb` reads the published warehouse through `read_parquet` views and streams each
statement into Parquet in batches; `pandas` reads the columns analytics need as the flow's
`load_warehouse` does and runs `analytics_tables`. `compare` checks two results are equal
(floats to 1e-9 relative). Run each mode under `/usr/bin/time -f '%e s %M KB'` for the
figures of the whole process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newsfm.transforms.schema import TABLES

ANALYTICS = [name for name, spec in TABLES.items() if spec.layer == "analytics"]
WAREHOUSE = [name for name, spec in TABLES.items() if spec.layer == "warehouse"]
BATCH_ROWS = 65536


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_duckdb(out: Path, result: Path, memory_limit: str, threads: int, prior_weight: float, min_scored: int) -> None:
    import duckdb

    from newsfm.pipelines.sql.analytics import analytics_queries
    from newsfm.pipelines.sql.common import statement_batches

    with tempfile.TemporaryDirectory(prefix="duckdb-spill-") as spill:
        con = duckdb.connect()
        for setting in (
            f"SET memory_limit='{memory_limit}'",
            f"SET temp_directory='{spill}'",
            f"SET threads={threads}",
            "SET TimeZone='UTC'",
            "SET preserve_insertion_order=false",
        ):
            con.execute(setting)
        for name in WAREHOUSE:
            folder = out / "warehouse" / name
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{folder}/*.parquet')")
        started = time.perf_counter()
        queries = analytics_queries(con, prior_weight, min_scored)
        while True:
            setup = time.perf_counter()
            try:
                name, statements = next(queries)
            except StopIteration:
                break
            setup = time.perf_counter() - setup
            began, rows = time.perf_counter(), 0
            schema = TABLES[name].schema
            with pq.ParquetWriter(result / f"{name}.parquet", schema) as writer:
                for batch in statement_batches(con, statements, BATCH_ROWS):
                    writer.write_table(pa.Table.from_batches([batch]).cast(schema))
                    rows += batch.num_rows
            print(f"{name:26s} {rows:>9d} rows  {time.perf_counter() - began:6.1f} s"
                  f"  (+{setup:.1f} s before)  peak {peak_mb():.0f} MB", flush=True)
        con.close()
    print(f"analytics {time.perf_counter() - started:.1f} s, peak RSS {peak_mb():.0f} MB")


def run_pandas(out: Path, result: Path, prior_weight: float, min_scored: int) -> None:
    from newsfm.pipelines.store import read_table
    from newsfm.transforms.analytics import INPUT_COLUMNS, analytics_tables
    from newsfm.transforms.schema import conform

    started = time.perf_counter()
    warehouse = {name: read_table(out, name, INPUT_COLUMNS.get(name)) for name in WAREHOUSE}
    print(f"read warehouse {time.perf_counter() - started:.1f} s, peak {peak_mb():.0f} MB", flush=True)
    began = time.perf_counter()
    tables = analytics_tables(warehouse, prior_weight=prior_weight, min_scored=min_scored)
    print(f"analytics_tables {time.perf_counter() - began:.1f} s, peak {peak_mb():.0f} MB", flush=True)
    for name in ANALYTICS:
        pq.write_table(conform(name, tables[name]), result / f"{name}.parquet")
    print(f"total {time.perf_counter() - started:.1f} s, peak RSS {peak_mb():.0f} MB")


def compare(a: Path, b: Path) -> int:
    from pandas.testing import assert_frame_equal

    from newsfm.transforms.schema import to_frame

    failures = 0
    for name in ANALYTICS:
        schema = TABLES[name].schema
        left, right = (to_frame(pq.read_table(folder / f"{name}.parquet", schema=schema)) for folder in (a, b))
        try:
            assert_frame_equal(left, right, check_exact=False, rtol=1e-9, obj=name)
            print(f"{name:26s} {len(left):>9d} rows  equal")
        except AssertionError as error:
            failures += 1
            print(f"{name:26s} DIFFERENT\n{error}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["duckdb", "pandas", "compare"])
    parser.add_argument("first", type=Path, help="OUT (duckdb, pandas) or RESULT_A (compare)")
    parser.add_argument("second", type=Path, help="RESULT (duckdb, pandas) or RESULT_B (compare)")
    parser.add_argument("--memory-limit", default="200MB")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prior-weight", type=float, default=10.0)
    parser.add_argument("--min-scored", type=int, default=3)
    args = parser.parse_args(argv)
    if args.mode == "compare":
        return compare(args.first, args.second)
    args.second.mkdir(parents=True, exist_ok=True)
    if args.mode == "duckdb":
        run_duckdb(args.first, args.second, args.memory_limit, args.threads, args.prior_weight, args.min_scored)
    else:
        run_pandas(args.first, args.second, args.prior_weight, args.min_scored)
    return 0


if __name__ == "__main__":
    sys.exit(main())
