"""Shared test setup: one embedded Temporal server for the whole test session.

The port and lab home are chosen per session (``NEXUS_LAB_PORT``, ``NEXUS_LAB_HOME``) so that test
runs, notebooks and a learner's own lab on 7233 never share a server by accident.
"""

from __future__ import annotations

import os
import tempfile
import uuid

import pytest


def _free_port_pair() -> int:
    from nexus_lab.server import find_free_port_pair

    return find_free_port_pair(21000 + (os.getpid() % 40) * 100)


def pytest_configure(config):
    os.environ.setdefault("NEXUS_LAB_HOME", tempfile.mkdtemp(prefix="nexus-lab-test-"))
    os.environ.setdefault("NEXUS_LAB_PORT", str(_free_port_pair()))
    os.environ.setdefault("NEXUS_LAB_PROGRESS", os.path.join(os.environ["NEXUS_LAB_HOME"], "progress.json"))


@pytest.fixture(scope="session")
async def lab():
    """The session's lab (embedded server on ``NEXUS_LAB_PORT``), stopped at the end."""
    import nexus_lab

    lab = await nexus_lab.start(int(os.environ["NEXUS_LAB_PORT"]))
    yield lab
    await lab.stop()


@pytest.fixture
def unique():
    """A short random suffix, so names created by one test never meet another test's."""
    return uuid.uuid4().hex[:8]
