"""`newsfm.open(OUT)`: one published snapshot, read from Python, pinned while the handle is open.

Tables read one after another through `OUT/warehouse` can come from two runs when a build
publishes in between, and a snapshot is removed two publishes later. A `Snapshot` reads every
table from the one snapshot that was published when it was opened, and holds a reader's lease
on it (`pipelines.store.take_lease`), which the removal of old snapshots respects until the
handle is closed, garbage-collected or its process ends.
"""

from __future__ import annotations

import json
import warnings
import weakref
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from newsfm.pipelines.layout import Layout, manifest, table_folder, table_glob
from newsfm.pipelines.store import Lease, OutputError, current_snapshot, read_arrow, take_lease, tidy_unless_locked
from newsfm.transforms.schema import TABLES, to_frame

if TYPE_CHECKING:
    import duckdb


class Snapshot:
    """One published snapshot of an output folder, pinned until `close()`.

        with newsfm.open("data/out") as snap:
            snap.id, snap.tables()
            articles = snap.table("articles", columns=["article_id", "title"])  # typed pandas
            related = snap.arrow("related")                                     # pyarrow
            snap.duckdb().sql("select ... from related join providers using (provider_domain)")
    """

    def __init__(self, out_dir: str | PathLike) -> None:
        self.out_dir = Path(out_dir)
        lease = None
        try:
            lease = take_lease(self.out_dir)
            self.id = lease.snapshot
        except OSError as error:  # a folder this reader cannot write: read, unpinned
            published = current_snapshot(self.out_dir)
            if published is None or not published.is_dir():
                raise FileNotFoundError(f"{self.out_dir} has no published snapshot: run `newsfm build` first") from None
            self.id = published.name
            warnings.warn(f"cannot take a reader's lease in {Layout(self.out_dir).leases} ({error.strerror or error}): "
                          f"snapshot {self.id} is read unpinned, and a build may remove it two publishes later",
                          stacklevel=3)
        except OutputError as error:
            raise FileNotFoundError(str(error)) from None
        self.path = Layout(self.out_dir).snapshot(self.id)
        self.manifest = json.loads(manifest(self.path).read_text())
        self._duckdb: list[duckdb.DuckDBPyConnection] = []
        self._release = weakref.finalize(self, release, lease, self.out_dir, self._duckdb)

    def tables(self) -> list[str]:
        """The names of its tables, warehouse then analytics (docs/tables.md)."""
        return [name for name, spec in TABLES.items() if table_folder(self.path, spec.layer, name).is_dir()]

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A table, or some of its columns, as pandas with nullable dtypes and UTC timestamps."""
        return to_frame(self.arrow(name, columns))

    def arrow(self, name: str, columns: list[str] | None = None) -> pa.Table:
        """A table, or some of its columns, as an Arrow table of its schema."""
        self._check(name)
        return read_arrow(self.path, name, columns)

    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection (the same one each time, closed with the handle) with a view of
        every table of this snapshot, by name, and UTC as its time zone."""
        self._check()
        if not self._duckdb:
            import duckdb

            con = duckdb.connect()
            con.execute("SET TimeZone='UTC'")
            for name, spec in TABLES.items():
                files = str(table_glob(self.path, spec.layer, name)).replace("'", "''")
                con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet(\'{files}\')')
            self._duckdb.append(con)
        return self._duckdb[0]

    @property
    def created_at(self) -> str:
        """When the build that published it completed it (ISO 8601, UTC)."""
        return self.manifest["created_at"]

    @property
    def rows(self) -> dict[str, int]:
        """Rows per table."""
        return dict(self.manifest["rows"])

    @property
    def closed(self) -> bool:
        return not self._release.alive

    def close(self) -> None:
        """Release the snapshot: a later publish (or this call, when no build is running) removes
        it once it is neither published nor among the two newest."""
        self._release()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<newsfm.Snapshot {self.id} of {self.out_dir}{' (closed)' if self.closed else ''}>"

    def _check(self, name: str | None = None) -> None:
        if self.closed:
            raise ValueError(f"snapshot {self.id} of {self.out_dir} is closed")
        if name is not None and name not in TABLES:
            raise KeyError(f"no table {name!r}; the tables: {', '.join(TABLES)}")


def release(lease: Lease | None, out_dir: Path, connections: list) -> None:
    """Close the handle's DuckDB connection, give its lease back and tidy the output folder."""
    for con in connections:
        con.close()
    if lease is not None:
        lease.release()
        tidy_unless_locked(out_dir)
