"""Batch tasks on a Dask cluster (prefect-dask) give exactly the tables of a local run."""

import shutil

import pandas as pd
import pytest

from newsfm.pipelines.flows import build_warehouse, on_dask
from newsfm.pipelines.store import read_table
from newsfm.transforms.schema import TABLES
from newsfm.transforms.settings import Settings
from tests.conftest import SEED

distributed = pytest.importorskip("distributed", reason="needs the dask extra: pip install -e '.[dask]'")


pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_dask_cluster_run_equals_local_run(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(4):
        shutil.copy(SEED, raw / f"{i}.md")
    (raw / "5.md").write_bytes(SEED.read_bytes().replace(b"businessinsider.com/", b"businessinsider.com/other-"))
    (raw / "bad.md").write_text("no front matter\n")
    build_warehouse(str(raw), str(tmp_path / "local"), Settings(batch_size=2))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask(build_warehouse, cluster.scheduler_address)(str(raw), str(tmp_path / "dask"), Settings(batch_size=2))
    for name in TABLES:
        pd.testing.assert_frame_equal(read_table(tmp_path / "dask", name), read_table(tmp_path / "local", name))
