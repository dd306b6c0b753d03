# Two commands on a fresh machine: `make lab` opens the course, `make test` runs every test.
# Both create the virtual environment in .venv first (nothing else needs to be installed), as root
# or as a normal user.
#
# `make lab` opens JupyterLab on workspace/ (git-ignored): the learner's own copy of the course,
# laid out by `nexus-lab init`, so saved notebooks and solved exercises never conflict with a
# `git pull` of course updates (re-running it adds new course files, never overwrites yours).
# Course authors edit the checkout itself: `make author-lab`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKSPACE ?= workspace
# Extra JupyterLab options, e.g. `make lab LAB_ARGS="--no-browser --port 9999"`.
LAB_ARGS ?=

.PHONY: install polyglot gates lab author-lab test demo bench verify clean-notebooks

# The one install step, shared with .devcontainer/ and binder/ (tools/setup.sh).
$(STAMP): pyproject.toml setup.py tools/setup.sh
	PYTHON=$(PYTHON) VENV=$(VENV) ./tools/setup.sh
	touch $(STAMP)

install: $(STAMP)

# Chapter 13's TypeScript side (polyglot/): installed from its lock file and compiled once when Node.js >= 18
# is on PATH; without it, say so and go on (every other chapter works without Node.js).
polyglot: $(STAMP)
	@if node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' 2>/dev/null; then \
	  [ -d polyglot/node_modules/@temporalio/worker ] || npm ci --prefix polyglot --no-audit --no-fund; \
	  $(BIN)/python -c 'from nexus_lab import polyglot; polyglot.ensure_built()'; \
	else echo "Chapter 13 (Nexus across languages) needs Node.js >= 18 and npm: install them, then run make polyglot."; fi

lab: $(STAMP) polyglot
	$(BIN)/nexus-lab init $(WORKSPACE)
	$(BIN)/nexus-lab lab $(WORKSPACE) $(LAB_ARGS)

author-lab: $(STAMP)
	$(BIN)/nexus-lab lab . $(LAB_ARGS)

test: $(STAMP) polyglot gates
	./tools/ensure_chromium.sh
	$(BIN)/python -m pytest

# Lint and type gates on the package (rule set and reasons in pyproject.toml), and the author's lint.
gates: $(STAMP)
	$(BIN)/ruff check nexus_lab
	$(BIN)/mypy
	$(BIN)/nexus-lab dev check

demo: $(STAMP)
	$(BIN)/nexus-lab demo

bench: $(STAMP)
	$(BIN)/nexus-lab bench

verify: $(STAMP)
	$(BIN)/nexus-lab verify

clean-notebooks: $(STAMP)
	$(BIN)/python tools/clean_notebooks.py notebooks/*.ipynb
