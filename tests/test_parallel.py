"""Batches parsed in worker processes give what parsing in this process gives."""

import os
import shutil

from pipelines import parallel
from tests.conftest import SEED
from transforms.normalize import combine


def test_worker_pool_parses_in_other_processes_with_the_same_result(tmp_path):
    for i in range(3):
        shutil.copy(SEED, tmp_path / f"{i}.md")
    (tmp_path / "bad.md").write_text("no front matter\n")
    paths = sorted(p.name for p in tmp_path.iterdir())
    here = parallel.parse_in_pool(tmp_path, paths, 1 << 20)
    with parallel.worker_pool(2):
        pool = parallel._pool[-1]
        assert pool.submit(os.getpid).result() != os.getpid()
        there = parallel.parse_in_pool(tmp_path, paths, 1 << 20)
    assert not parallel._pool
    for name, frame in combine([here]).items():
        assert frame.equals(combine([there])[name]), name
