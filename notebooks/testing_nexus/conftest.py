"""Fixtures for chapter 11's tests: a Temporal test environment and a Nexus endpoint in it.

``env`` connects to the server named by ``TEMPORAL_ADDRESS`` (the notebook passes the lab's), or
starts a local dev server of its own with the SDK's ``WorkflowEnvironment.start_local`` (what CI
would do). Async tests run with anyio's pytest plugin (``pytestmark = pytest.mark.anyio``);
Temporal's samples use pytest-asyncio instead, which works the same way.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # fraud_v1, fraud_team live beside the notebook


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def env():
    address = os.environ.get("TEMPORAL_ADDRESS")
    if address:
        client = await Client.connect(address, namespace=os.environ.get("TEMPORAL_NAMESPACE", "default"))
        yield WorkflowEnvironment.from_client(client)
        return
    async with await WorkflowEnvironment.start_local(dev_server_existing_path=shutil.which("temporal")) as local:
        yield local


@pytest.fixture
async def endpoint(env):
    """A fresh endpoint routed to a fresh task queue in the env's namespace, deleted afterwards."""
    name = f"fraud-test-{uuid.uuid4().hex[:8]}"
    created = await env.create_nexus_endpoint(name, task_queue=name)
    yield name
    await env.delete_nexus_endpoint(created)
