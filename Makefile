# Two commands on a fresh machine: `make lab` opens the course, `make test` runs every test.
# Both create the virtual environment in .venv first (nothing else needs to be installed).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test demo bench verify clean-notebooks

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00-welcome.ipynb

test: $(STAMP)
	./tools/ensure_chromium.sh
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/nexus-lab demo

bench: $(STAMP)
	$(BIN)/nexus-lab bench

verify: $(STAMP)
	$(BIN)/nexus-lab verify

clean-notebooks: $(STAMP)
	$(BIN)/python tools/clean_notebooks.py notebooks/*.ipynb
