"""Keep the course notebooks clean: outputs only in the cells CI checks.

A chapter notebook is committed without outputs, except the cells whose first lines carry
the ``nbval-check-output`` tag (cell metadata, invisible to a learner): their outputs are the reference that ``pytest --nbval-lax`` compares a
fresh run against (after ``tests/nbval_sanitize.cfg``). So a demo that stops demonstrating its
point fails CI, and a diff of a notebook shows prose and code, not run noise.

    python tools/clean_notebooks.py notebooks/*.ipynb            # strip in place
    python tools/clean_notebooks.py --execute notebooks/03-*.ipynb  # run, then keep checked outputs
    python tools/clean_notebooks.py --check notebooks/*.ipynb    # exit 1 if any notebook is not clean

Run ``--execute`` with ``NEXUS_LAB_PORT`` set to a free port (and ``NEXUS_LAB_HOME`` to a scratch
folder) so the run gets a server of its own.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat

from nexus_lab.course.notebooks import CHECK_TAG, clean, is_checked, problems  # noqa: F401 - the rules


def execute(path: Path, timeout: int = 120):
    """Run a notebook top to bottom in a fresh kernel (working directory: the notebook's folder)."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def slow_cells(nb, threshold: float = 1.0) -> list[str]:
    """Cells that took longer than ``threshold`` seconds in the last run (from nbclient's timing)."""
    from datetime import datetime

    found = []
    for index, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if not (start and end):
            continue
        seconds = (datetime.fromisoformat(end.replace("Z", "+00:00"))
                   - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
        if seconds > threshold:
            first = cell.source.splitlines()[0] if cell.source else ""
            found.append(f"cell {index}: {seconds:.1f} s  {first[:60]}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--execute", action="store_true", help="run each notebook first, then clean it")
    parser.add_argument("--check", action="store_true", help="only report notebooks that are not clean")
    args = parser.parse_args(argv)
    status = 0
    for path in args.paths:
        if args.check:
            found = problems(nbformat.read(path, as_version=4))
            for problem in found:
                print(f"{path}: {problem}")
            status |= bool(found)
            continue
        if args.execute:
            started = time.monotonic()
            nb = execute(path)
            print(f"{path}: executed in {time.monotonic() - started:.1f} s")
            for line in slow_cells(nb):
                print(f"  {line}")
        else:
            nb = nbformat.read(path, as_version=4)
        nbformat.write(clean(nb), path)
    return status


if __name__ == "__main__":
    sys.exit(main())
