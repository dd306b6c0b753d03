"""The TypeScript side for chapter 13's tests: installed with ``npm ci`` when missing (CI has Node.js
and the npm registry), compiled once, and its workers started on the session's lab."""

from __future__ import annotations

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
async def polyglot_lab(lab, ts_project):
    """The session's lab with both teams running: the Python Fraud team (fraud.v1, errors.v1) in
    ``fraud``, the TypeScript Payments team's caller and handler workers in ``payments``."""
    from nexus_lab.story.fraud_team import FraudCheckWorkflow, FraudServiceHandler

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


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for step, seconds in NPM_TIMES.items():
        terminalreporter.write_line(f"polyglot {step}: {seconds:.1f} s")
