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
