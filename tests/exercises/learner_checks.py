"""The exercise checks as pytest tests, for JUnit XML (CI, learning platforms)::

    NEXUS_LAB_CHECK=exercises pytest tests/exercises/learner_checks.py --junitxml=results.xml

``NEXUS_LAB_CHECK=solutions`` checks the reference solutions instead. Not collected by the normal
suite (its file name does not start with ``test_``): ``nexus-lab verify`` covers the same ground there.
"""

from __future__ import annotations

import os

import pytest

from nexus_lab.checker.runner import run_check_process
from nexus_lab.course.manifest import load_manifest

from .conftest import ROOT

EXERCISES = load_manifest(ROOT).exercises


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_exercise(exercise, check_server):
    target = os.environ.get("NEXUS_LAB_CHECK", "exercises")
    path = exercise.solution_path(ROOT) if target == "solutions" else exercise.path(ROOT)
    result = run_check_process(exercise, path, check_server.address)
    assert result.passed, result.text()
