"""The chapter notebooks: committed clean, and each one runs top to bottom under nbval.

Every notebook listed in ``course.toml`` runs in a fresh kernel through ``pytest --nbval-lax`` in a
subprocess, with a Temporal server of its own (``NEXUS_LAB_PORT``) and a scratch lab home, so its
demos cannot lean on another chapter's state. Two notebooks run at a time (``NEXUS_LAB_NOTEBOOK_JOBS``). Cells tagged ``nbval-check-output`` must print what
their committed output says (after ``tests/nbval_sanitize.cfg``): a demo that stops demonstrating its
point fails here. Times per notebook are printed at the end of the session (see ``conftest.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from nexus_lab.course.manifest import load_manifest
from nexus_lab.course.notebooks import pattern_problems

from .conftest import BUDGET_S, NOTEBOOK_TIMES, WALL_TIME

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from clean_notebooks import problems  # noqa: E402

pytestmark = pytest.mark.no_server  # the fast tier: see tests/conftest.py

NOTEBOOKS = [ROOT / chapter.notebook for chapter in load_manifest(ROOT).chapters]
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
PER_NOTEBOOK_TIMEOUT_S = 90


def _ids(paths):
    return [p.stem for p in paths]


def test_every_chapter_has_a_notebook_and_a_quiz():
    for chapter in load_manifest(ROOT).chapters:
        assert (ROOT / chapter.notebook).is_file(), chapter.notebook
        assert (ROOT / "quizzes" / f"{chapter.quiz}.toml").is_file(), chapter.quiz


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_clean(path):
    found = problems(nbformat.read(path, as_version=4))
    assert not found, (f"{path.name} is not clean: {found}. Run `python tools/clean_notebooks.py --execute "
                       f"{path.relative_to(ROOT)}` (or without --execute to only strip outputs).")


CHAPTERS = load_manifest(ROOT).chapters


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.id for c in CHAPTERS])
def test_notebook_follows_the_chapter_pattern(chapter):
    """Objectives, lab start and stop, quiz, the manifest's exercises and Next link (rules: nexus_lab.course.notebooks)."""
    manifest = load_manifest(ROOT)
    found = pattern_problems(nbformat.read(ROOT / chapter.notebook, as_version=4), manifest, chapter)
    assert not found, f"{chapter.notebook}: {found}"


JOBS = int(os.environ.get("NEXUS_LAB_NOTEBOOK_JOBS", "2"))
"""Notebooks run this many at a time (each in its own kernel with its own server): 2 cores, 2 jobs."""
_runs: dict[Path, Future] = {}
_wall = {"start": 0.0, "end": 0.0}


def _run_notebook(index: int, path: Path, home: Path) -> tuple[subprocess.CompletedProcess, float]:
    from nexus_lab.server import find_free_port_pair

    base = int(os.environ.get("NEXUS_LAB_NOTEBOOK_PORT_BASE", "24000")) + (os.getpid() % 8) * 60
    env = dict(os.environ)
    env.update(NEXUS_LAB_PORT=str(find_free_port_pair(base + index * 5)), NEXUS_LAB_HOME=str(home),
               NEXUS_LAB_PROGRESS=str(home / "progress.json"), PYTHONDONTWRITEBYTECODE="1")
    env.pop("NEXUS_LAB_LEARNER", None)  # never a workshop cluster here
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
               "--nbval-sanitize-with", str(SANITIZE), "-p", "no:cacheprovider", "-q", "--no-header",
               "--rootdir", str(ROOT), "-o", "addopts=", str(path)]
    started = time.monotonic()
    try:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=PER_NOTEBOOK_TIMEOUT_S)
    except subprocess.TimeoutExpired as err:
        result = subprocess.CompletedProcess(command, 1, str(err.stdout or ""), f"timed out: {err}")
    finally:
        _wall["end"] = time.monotonic()
    return result, time.monotonic() - started


def _start_all(tmp_root: Path, selected: list[Path]) -> None:
    """Submit every selected notebook at once (JOBS at a time), so the per-notebook tests just collect
    results; ``-k`` picks which (a notebook not selected never starts)."""
    if _runs:
        return
    pool = ThreadPoolExecutor(max_workers=JOBS, thread_name_prefix="notebook")
    _wall["start"] = time.monotonic()
    for index, path in enumerate(NOTEBOOKS):
        if path not in selected:
            continue
        home = tmp_root / path.stem
        home.mkdir(parents=True, exist_ok=True)
        _runs[path] = pool.submit(_run_notebook, index, path, home)
    pool.shutdown(wait=False)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_under_nbval(path, tmp_path_factory, request):
    selected = [item.callspec.params["path"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_notebook_runs_under_nbval"]
    _start_all(tmp_path_factory.mktemp("notebook-runs"), selected)
    result, seconds = _runs[path].result()
    NOTEBOOK_TIMES[path.stem] = seconds
    WALL_TIME["total"] = _wall["end"] - _wall["start"]
    assert result.returncode == 0, f"{path.name} failed under nbval:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"


def test_all_notebooks_fit_the_time_budget():
    """Runs after the notebooks (pytest keeps file order); skipped when they did not all run."""
    if len(NOTEBOOK_TIMES) < len(NOTEBOOKS):
        pytest.skip("not every notebook ran in this session")
    total = WALL_TIME["total"]
    assert total < BUDGET_S, f"the notebooks took {total:.0f} s together (budget {BUDGET_S:.0f} s)"
