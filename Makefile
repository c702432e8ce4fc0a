# `make run` and `make test` set everything up on a fresh machine: the virtual environment is
# created and the project installed whenever .venv is missing or pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test test-fast check-wheel reliability docs clean

run: $(STAMP)
	$(VENV)/bin/newsfm build data/raw data/out
	$(VENV)/bin/newsfm report data/out

# Every test, on two processes (pytest-xdist): about 4 minutes on 2 cores.
test: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2

# The pure tests (no Prefect, subprocess, worker process or browser) with a tenth of the property
# tests' examples, and ruff: a verdict in about a minute while you work (docs/development.md).
# A Prefect API that answers nothing: a test that starts a flow fails instead of starting a server.
test-fast: $(STAMP)
	$(VENV)/bin/ruff check .
	NEWSFM_TEST_TIER=fast PREFECT_API_URL=http://127.0.0.1:9/api $(VENV)/bin/python -m pytest -n 2 -m "not integration"

# What a user gets: the wheel built from this tree, installed into a fresh virtual environment
# without extras, run from a folder outside the checkout (CI runs it after `make test`).
check-wheel:
	set -e; dir=$$(mktemp -d); \
	$(PYTHON) -m venv $$dir/venv; \
	$$dir/venv/bin/python -m pip install --quiet --upgrade pip; \
	$$dir/venv/bin/python -m pip wheel --quiet --no-deps -w $$dir/dist .; \
	$$dir/venv/bin/python -m pip install --quiet $$dir/dist/newsfm-*.whl; \
	cd $$dir; \
	venv/bin/newsfm --version; venv/bin/python -m newsfm --version; \
	venv/bin/newsfm build $(CURDIR)/data/raw out; venv/bin/newsfm report out; \
	venv/bin/python -c "import newsfm; snap = newsfm.open('out'); \
	  print(snap.id, {name: len(snap.table(name)) for name in snap.tables()}); snap.close()"; \
	rm -rf $$dir

# Not part of `make test` (about 15 minutes): many more fuzz examples, 50 kill points, a longer
# state machine; prints the figures and any failure.
reliability: $(STAMP)
	NEWSFM_FUZZ_EXAMPLES=2500 NEWSFM_KILL_POINTS=50 NEWSFM_STATE_MACHINE_EXAMPLES=25 \
	  $(VENV)/bin/python -m tests.reliability $(CURDIR)/.reliability.jsonl \
	  tests/test_hostile_input.py tests/test_input_tree.py tests/test_crashes.py tests/test_incremental.py

docs: $(STAMP)
	$(VENV)/bin/newsfm docs

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) data/out/current data/out/warehouse data/out/analytics data/out/snapshots data/out/state data/out/report data/out/.newsfm.lock
