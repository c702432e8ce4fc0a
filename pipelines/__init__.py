"""The shell around `transforms`: discovery, reading, snapshots, Prefect flows and the CLI."""

import os

# Prefect's server sends an anonymous telemetry heartbeat. On the embedded ephemeral API its
# first write (TELEMETRY_SESSION into SQLite) races the server's start-up writes and logs
# "database is locked" with a traceback, and without a network the send itself logs an ERROR.
# Users can still opt in by setting the variable themselves.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

# Arrow's default pool (mimalloc) keeps memory its tables freed; after combine that was about
# 100 MB of a 100,000-file build's flow process that analytics could not use. The system
# allocator gives it back (`release_unused` trims it): flow peak 566 → 466 MB, measured.
# Set before pyarrow allocates; users can still choose another pool with the variable.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def keep_large_blocks_apart() -> None:
    """Have glibc's malloc give every block over 256 KB its own mapping, returned when freed.

    By default glibc raises that threshold each time such a block is freed (up to 32 MB), after
    which Arrow's large buffers come from the heap, where what is freed mostly stays with the
    process: combining 1,000,000 files peaked at 383 MB so, and at 317 MB with the threshold
    fixed (measured, same run otherwise). Not glibc (macOS, musl): nothing to do.
    """
    import ctypes

    try:
        ctypes.CDLL(None).mallopt(-3, 256 << 10)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


keep_large_blocks_apart()
