"""The shell around `transforms`: discovery, reading, snapshots, Prefect flows and the CLI."""

import os

# Prefect's server sends an anonymous telemetry heartbeat. On the embedded ephemeral API its
# first write (TELEMETRY_SESSION into SQLite) races the server's start-up writes and logs
# "database is locked" with a traceback, and without a network the send itself logs an ERROR.
# Users can still opt in by setting the variable themselves.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
