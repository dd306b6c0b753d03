"""Fixtures for the exercise and checker tests: one Temporal server for all checks of the session.

Checks run in child processes that connect to ``NEXUS_LAB_PORT`` (set per session by
``tests/conftest.py``), so the session's server is shared with the core tests when both run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nexus_lab.course.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def manifest():
    return load_manifest(ROOT)


@pytest.fixture(scope="session")
def check_server():
    from nexus_lab.checker.server import CheckServer

    with CheckServer() as server:
        yield server


@pytest.fixture
def course_copy(tmp_path, monkeypatch):
    """A throwaway copy of the course (manifest, exercises, solutions) with its own progress file."""
    for name in ("course.toml",):
        shutil.copy2(ROOT / name, tmp_path / name)
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("NEXUS_LAB_COURSE", str(tmp_path))
    monkeypatch.setenv("NEXUS_LAB_PROGRESS", str(tmp_path / ".nexus-lab" / "progress.json"))
    return tmp_path
