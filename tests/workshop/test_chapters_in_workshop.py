"""Every chapter runs unchanged on a shared cluster under a learner's scope (workshop mode)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import nbformat
import pytest

from nexus_lab.course.manifest import load_manifest
from nexus_lab.registry import list_namespaces
from nexus_lab.workshop.scope import Scope

from ..processes import run_notebook

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = [c.notebook for c in load_manifest(ROOT).chapters]


def _run(path: str, env: dict[str, str]) -> nbformat.NotebookNode:
    return run_notebook(nbformat.read(ROOT / path, 4), env, str(ROOT / "notebooks"))


async def _names(lab) -> tuple[set[str], set[str]]:
    return set(await list_namespaces(lab.client())), {e.name for e in await lab.endpoints()}


@pytest.mark.parametrize("path", CHAPTERS, ids=[Path(p).stem for p in CHAPTERS])
async def test_chapter_runs_as_a_learner_on_the_shared_cluster(lab, path, tmp_path):
    env = dict(os.environ, NEXUS_LAB_LEARNER="ws-learner", TEMPORAL_ADDRESS=lab.server.address,
               NEXUS_LAB_HOME=str(tmp_path))
    namespaces_before, endpoints_before = await _names(lab)
    # In a thread: the shared server's own event loop (this session's lab) keeps running meanwhile.
    await asyncio.to_thread(_run, path, env)  # raises on any failing cell
    namespaces_after, endpoints_after = await _names(lab)
    created = (namespaces_after - namespaces_before) | (endpoints_after - endpoints_before)
    assert all(Scope("ws-learner").owns(name) for name in created), f"names outside the learner's scope: {created}"
