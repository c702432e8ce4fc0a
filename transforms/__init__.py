"""Pure functions from text to records and frames: no Prefect, no file I/O."""
