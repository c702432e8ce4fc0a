"""`python -m newsfm`: the `newsfm` command."""

from newsfm.pipelines.cli import main

main(prog_name="newsfm")
