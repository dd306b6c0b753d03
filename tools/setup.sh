#!/usr/bin/env bash
# The one install step of the course, used by `make` (any user), .devcontainer/ and binder/:
# a virtual environment in $VENV with the course installed editable plus the test tools.
# Re-running it is cheap and safe. Set VENV=none to install into the current Python instead
# (Binder images already run inside an environment of their own).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
if [ "$VENV" = "none" ]; then
    PIP=("$PYTHON" -m pip)
else
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    PIP=("$VENV/bin/python" -m pip)
fi
"${PIP[@]}" install --quiet --upgrade pip
"${PIP[@]}" install --quiet -e ".[test]"
