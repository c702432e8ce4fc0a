"""Batches parsed in worker processes give the parts that parsing in this process gives."""

import os
import shutil

import pytest

from newsfm.pipelines import parallel
from newsfm.pipelines.parts import read_part_table
from newsfm.transforms.normalize import PART_SCHEMAS
from tests.conftest import SEED

pytestmark = pytest.mark.integration  # subprocesses, Prefect or worker processes


def test_worker_pool_parses_in_other_processes_with_the_same_result(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    for i in range(3):
        shutil.copy(SEED, raw / f"{i}.md")
    (raw / "bad.md").write_text("no front matter\n")
    paths = sorted(p.name for p in raw.iterdir())
    here = parallel.parse_in_pool(raw, paths, 1 << 20, out)
    with parallel.worker_pool(2):
        pool = parallel._pool[-1]
        assert pool.submit(os.getpid).result() != os.getpid()
        there = parallel.parse_in_pool(raw, paths, 1 << 20, out)
    assert not parallel._pool
    assert here != there
    for name in PART_SCHEMAS:
        assert read_part_table(out, here, name).equals(read_part_table(out, there, name)), name
    assert read_part_table(out, here, "sources").num_rows == 4
    assert read_part_table(out, here, "related").num_rows == 3 * 14
