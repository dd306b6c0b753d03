"""A check leaves nothing behind on the learner's server: its namespaces and endpoints go with it."""

from __future__ import annotations

import asyncio

from nexus_lab.checker.runner import run_check_process
from nexus_lab.connection import connect_client
from nexus_lab.lab import Lab
from nexus_lab.registry import list_namespaces

from .conftest import ROOT


async def _check_names(address: str) -> set[str]:
    lab = Lab(await connect_client(address))
    live = set(await list_namespaces(lab.client())) | {e.name for e in await lab.endpoints()}
    return {name for name in live if name.startswith("chk-")}


def test_a_check_removes_its_namespaces_and_endpoints(manifest, check_server):
    exercise = manifest.exercise("ch04-attach-callers")
    before = asyncio.run(_check_names(check_server.address))
    result = run_check_process(exercise, ROOT / exercise.solution, check_server.address)
    assert result.passed, result.text()
    assert asyncio.run(_check_names(check_server.address)) <= before
