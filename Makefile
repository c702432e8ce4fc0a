# `make run` and `make test` set everything up on a fresh machine: the virtual environment is
# created and the project installed whenever .venv is missing or pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test docs clean

run: $(STAMP)
	$(VENV)/bin/newsfm build data/raw data/out
	$(VENV)/bin/newsfm report data/out

test: $(STAMP)
	$(VENV)/bin/python -m pytest

docs: $(STAMP)
	$(VENV)/bin/newsfm docs

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) data/out/current data/out/warehouse data/out/snapshots
