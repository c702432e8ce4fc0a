# `make run` and `make test` set everything up on a fresh machine: the virtual environment is
# created and the project installed whenever .venv is missing or pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test reliability docs clean

run: $(STAMP)
	$(VENV)/bin/newsfm build data/raw data/out
	$(VENV)/bin/newsfm report data/out

test: $(STAMP)
	$(VENV)/bin/python -m pytest

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
