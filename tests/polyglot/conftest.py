"""The TypeScript side for chapter 13's tests: installed with ``npm ci`` when missing (CI has Node.js
and the npm registry), compiled once, and its workers started on the session's lab."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from nexus_lab import polyglot

NPM_TIMES: dict[str, float] = {}


@pytest.fixture(scope="session")
def ts_project():
    """``polyglot/`` with its npm packages installed and its TypeScript compiled."""
    version = polyglot.node_version()
    if version is None or version[0] < polyglot.MIN_NODE or shutil.which("npm") is None:
        pytest.skip(f"chapter 13 needs Node.js >= {polyglot.MIN_NODE} and npm")
    root = polyglot.project_dir()
    if not (root / "node_modules" / "@temporalio" / "worker").is_dir():
        started = time.monotonic()
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=root, check=True, capture_output=True)
        NPM_TIMES["npm ci"] = time.monotonic() - started
    started = time.monotonic()
    polyglot.ensure_built(root)
    NPM_TIMES["build (tsc + bundle, 0 when cached)"] = time.monotonic() - started
    return root


@pytest.fixture(scope="session")
async def polyglot_lab(ts_project):
    """A lab of its own (the story's endpoint names are global on a server, other tests route them
    elsewhere) with both teams running: the Python Fraud team (fraud.v1, errors.v1) in ``fraud``, the
    TypeScript Payments team's caller and handler workers in ``payments``."""
    import nexus_lab
    from nexus_lab.server import find_free_port_pair
    from nexus_lab.story.fraud_team import FraudCheckWorkflow, FraudServiceHandler

    lab = await nexus_lab.start(find_free_port_pair(int(os.environ["NEXUS_LAB_PORT"]) + 2), reuse=False)
    for name in ("payments", "fraud"):
        await lab.namespace(name)
    await lab.endpoint("fraud-detection", namespace="fraud", task_queue="fraud-tq")
    await lab.endpoint(polyglot.PY_ERRORS_ENDPOINT, namespace="fraud", task_queue=polyglot.PY_ERRORS_QUEUE)
    await lab.endpoint(polyglot.TS_ERRORS_ENDPOINT, namespace="payments", task_queue=polyglot.TS_HANDLER_QUEUE)
    await lab.endpoint(polyglot.PAYMENTS_ENDPOINT, namespace="payments", task_queue=polyglot.TS_HANDLER_QUEUE)
    await lab.worker(namespace="fraud", task_queue="fraud-tq", workflows=[FraudCheckWorkflow],
                     nexus_services=[FraudServiceHandler()])
    await lab.worker(namespace="fraud", task_queue=polyglot.PY_ERRORS_QUEUE,
                     workflows=[polyglot.DescribeFailureWorkflow], nexus_services=[polyglot.ErrorsHandler()])
    workers = await polyglot.start(lab)
    yield lab
    workers.stop()
    await lab.stop()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for step, seconds in NPM_TIMES.items():
        terminalreporter.write_line(f"polyglot {step}: {seconds:.1f} s")
