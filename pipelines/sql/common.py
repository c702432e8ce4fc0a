"""Small helpers the SQL analytics modules share: literals, durations, temporary tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

import pyarrow as pa

if TYPE_CHECKING:
    import duckdb

# Every temporary table and view the analytics create starts with this, so they neither
# collide with the warehouse's names nor with another module's.
PREFIX = "analytics_"


def sql_text(path: Path) -> str:
    """A path as the text of a SQL string literal."""
    return str(path).replace("'", "''")


def double(value: float) -> str:
    """A DOUBLE literal with exactly the value of the Python float (a bare `10.0` is a DECIMAL in DuckDB)."""
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def ranked(value: str, group: str) -> str:
    """The window columns `interpolated` needs: `value_rank`, the rank of `value` among the
    group's non-null values, and `value_count`, how many there are."""
    return (f"row_number() OVER (PARTITION BY {group}, {value} IS NULL ORDER BY {value}) AS value_rank, "
            f"count({value}) OVER (PARTITION BY {group}) AS value_count")


def interpolated(value: str, q: float, flip: bool) -> str:
    """The q-quantile of `value` over each group, linearly interpolated, as an aggregate over
    rows with the `ranked` columns; bit-equal to pandas and numpy, which `quantile_cont` is not
    (it differs in the last bit for about one group in ten).

    Both take the virtual index h = (n - 1) × q and the values a, b at floor(h) and the next;
    pandas' groupby `quantile` gives a + (b - a) × f (f = h - floor(h)), `np.percentile`
    (`flip`) gives b - (b - a) × (1 - f) when f ≥ 0.5.
    """
    h = f"(CAST(value_count - 1 AS DOUBLE) * {double(q)})"
    a = f"max({value}) FILTER (WHERE value_rank = floor({h}) + 1)"
    b = f"coalesce(max({value}) FILTER (WHERE value_rank = floor({h}) + 2), {a})"
    f = f"any_value({h} - floor({h}))"
    if flip:
        return f"CASE WHEN {f} < 0.5 THEN {a} + ({b} - {a}) * {f} ELSE {b} - ({b} - {a}) * (1 - {f}) END"
    return f"{a} + ({b} - {a}) * {f}"


def elapsed(later: str, earlier: str, unit_seconds: int) -> str:
    """(later - earlier) in units of `unit_seconds` as DOUBLE, computed as pandas computes
    `(later - earlier).dt.total_seconds() / unit_seconds` on microsecond timestamps:
    microseconds / 1e6, then / unit. NULL when either is NULL."""
    return (
        f"(CAST(epoch_us({later}) - epoch_us({earlier}) AS DOUBLE) / CAST(1000000 AS DOUBLE) / "
        f"CAST({int(unit_seconds)} AS DOUBLE))"
    )


def arrow_reader(con: duckdb.DuckDBPyConnection, sql: str, batch_rows: int) -> pa.RecordBatchReader:
    """Stream the rows of `sql` as Arrow record batches of about `batch_rows` rows.

    DuckDB 2 streams a relation with `to_arrow_reader` (a connection's `execute(...)` result
    would copy every row first, and has no `fetch_record_batch` any more); DuckDB 1 with
    `fetch_record_batch`.
    """
    relation = con.sql(sql)
    stream = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
    return stream(batch_rows)


def statement_batches(con: duckdb.DuckDBPyConnection, statements: Sequence[str], batch_rows: int
                      ) -> Iterator[pa.RecordBatch]:
    """The rows of `statements`, one after the other (`arrow_reader`)."""
    for sql in statements:
        yield from arrow_reader(con, sql, batch_rows)


def create_from_arrow(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Copy an Arrow table into DuckDB as TEMP table `name` (replacing one of that name)."""
    view = f"{name}_arrow"
    con.register(view, table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {view}")
    finally:
        con.unregister(view)
