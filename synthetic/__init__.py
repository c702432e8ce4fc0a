"""Synthetic news corpora, calibrated on the real sample: a tool for benchmarks, demos and tests.

Not a step of the build: nothing under `pipelines/` or `transforms/` imports it, apart from the
`newsfm generate` command. The same (count, seed) always gives the same bytes.

- `calibration`: the figures measured on the real corpus (shares, distributions, counts), and
  the sampling weights they imply.
- `vocabulary`: provider names and domains, topics, words and templates, URL styles.
- `corpus`: stories and items written as front matter: `generate_files`, `generate_corpus`.
- `write`: `write_corpus`, a corpus written to a folder.
"""
