"""Every setting of a build and its default, in one place.

The CLI's option defaults, the flow's parameters (and so `prefect.yaml`, which names only the
folders), the state record's settings key and the pure reference pipeline all read them here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    batch_size: int = 2000  # files per task run and per part: about 30 MB of rows in a worker
    max_file_bytes: int = 1024 * 1024  # larger files are rejected as too_large, unread
    prior_weight: float = 10.0  # k of provider_quality.quality_shrunk
    min_scored: int = 3  # scores a provider needs to get a quality_rank
    workers: int | None = None  # processes that parse batches; None: one per core
    memory_mb: int = 160  # DuckDB's memory limit for analytics (it spills beyond it); its RSS is ~100 MB more
    lock_timeout: float = 600.0  # seconds to wait for another run writing the output folder

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    @property
    def analytics(self) -> dict:
        """What the analytics tables depend on besides the warehouse."""
        return {"prior_weight": self.prior_weight, "min_scored": self.min_scored}

    @property
    def parsing(self) -> dict:
        """What a file's rows depend on besides its bytes."""
        return {"max_file_bytes": self.max_file_bytes}


DEFAULTS = Settings()
