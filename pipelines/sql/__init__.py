"""The build's out-of-core path: the warehouse and analytics computed by DuckDB over Parquet.

The pure pandas modules (`transforms.analytics`, `transforms.pipeline`) stay the reference; the
modules here compute the same tables inside DuckDB, so a build's memory stays flat however many
files it reads: `analytics` yields one SELECT per analytics table (its logic split by family in
`providers`, `topics` and `stories`, mirroring the pandas modules), which the caller streams
into Parquet, and only the small dimension tables (topics, providers) and the story graph's
integer edges ever reach Python. tests/test_sql_analytics.py checks every table against the
reference.
"""
