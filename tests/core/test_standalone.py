"""Standalone Nexus operations: started by a client with no caller workflow, shown by the lab, and the
official samples-python ``nexus_standalone_operations`` sample run unchanged against a lab-made server."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest

from .story import FraudCheckWorkflow, FraudService, FraudServiceHandler, Transaction

# A short-lived client process can abort in interpreter teardown after its work is done: the SDK's native
# threads take the GIL while Python finalizes (temporalio/sdk-python#300; 2 of 20 runs of this sample's
# starter here, see docs/nexus-facts.md). That is the SDK's, not the lab's; any other exit is a failure.
TEARDOWN_ABORT = "Python runtime state: finalizing"

SAMPLES_GIT = Path(os.environ.get("NEXUS_LAB_SAMPLES_PYTHON", "/work/.mirror/temporalio+samples-python/repo"))


@pytest.fixture
async def fraud_endpoint(lab, unique):
    """The Fraud team's own handler behind an endpoint of this test; callers start operations from a client."""
    await lab.namespace("payments")
    await lab.namespace("fraud")
    endpoint = f"fraud-standalone-{unique}"
    await lab.endpoint(endpoint, namespace="fraud", task_queue=f"fraud-{unique}")
    await lab.worker(namespace="fraud", task_queue=f"fraud-{unique}", workflows=[FraudCheckWorkflow],
                     nexus_services=[FraudServiceHandler()])
    yield endpoint
    await lab.stop_worker(namespace="fraud", task_queue=f"fraud-{unique}")
    await lab.delete_endpoint(endpoint)


async def test_standalone_operations_are_shown(lab, fraud_endpoint, unique):
    nexus_client = lab.client("payments").create_nexus_client(service=FraudService, endpoint=fraud_endpoint)
    score = await nexus_client.execute_operation(FraudService.get_quick_score, Transaction(f"q-{unique}", 4200),
                                                 id=f"score-{unique}", schedule_to_close_timeout=timedelta(seconds=10))
    assert score.score == 42

    sync = await lab.operation(f"score-{unique}", namespace="payments")
    assert (sync.endpoint, sync.service, sync.operation, sync.status) == (
        fraud_endpoint, "fraud.v1", "getQuickScore", "COMPLETED")
    assert sync.input == {"id": f"q-{unique}", "amount": 4200, "country": "DE"}
    assert sync.result == {"transaction_id": f"q-{unique}", "score": 42}
    assert not sync.operation_token and not sync.links()

    handle = await nexus_client.start_operation(FraudService.check_transaction, Transaction(f"c-{unique}", 120, "ÄÖ"),
                                                id=f"check-{unique}", schedule_to_close_timeout=timedelta(seconds=10))
    await handle.result()
    operation = await lab.describe(f"check-{unique}", namespace="payments")  # describe finds it too
    assert operation.status == "COMPLETED" and operation.operation == "checkTransaction"
    assert operation.result == {"transaction_id": f"c-{unique}", "approved": True, "reason": "low risk"}
    assert operation.operation_token
    text = operation.text()
    assert f"payments/check-{unique} · standalone Nexus operation · COMPLETED" in text
    assert f"{fraud_endpoint} › fraud.v1 › checkTransaction" in text and '"country": "ÄÖ"' in text
    assert f'"wid": "fraud-check-c-{unique}"' in text
    [handler] = await lab.follow(operation)
    assert (handler.namespace, handler.workflow_id, handler.status) == ("fraud", f"fraud-check-c-{unique}", "COMPLETED")
    assert "white-space:nowrap" in operation._repr_html_()

    with pytest.raises(LookupError, match=r"standalone Nexus operation.*lab\.operation"):
        await lab.history(f"check-{unique}", namespace="payments")
    with pytest.raises(LookupError, match="No workflow or standalone Nexus operation"):
        await lab.describe(f"nothing-{unique}", namespace="payments")


def _sample_copy(into: Path) -> Path | None:
    """The sample's files, copied out of the stored samples-python repository (never into this repo)."""
    if (SAMPLES_GIT / "nexus_standalone_operations").is_dir():  # a checkout
        shutil.copytree(SAMPLES_GIT / "nexus_standalone_operations", into / "nexus_standalone_operations")
        return into
    if not (SAMPLES_GIT / "HEAD").is_file() or shutil.which("git") is None:
        return None
    archive = subprocess.run(["git", "--git-dir", str(SAMPLES_GIT), "archive", "HEAD", "nexus_standalone_operations"],
                             capture_output=True, timeout=30)
    if archive.returncode != 0:
        return None
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


async def test_official_sample_runs_unchanged_on_a_lab_server(lab, tmp_path):
    root = _sample_copy(tmp_path)
    if root is None:
        pytest.skip(f"samples-python not found at {SAMPLES_GIT} (set NEXUS_LAB_SAMPLES_PYTHON)")
    # What the sample's README asks for, made by the lab: two namespaces and the endpoint.
    await lab.namespace("my-caller-namespace")
    await lab.namespace("my-handler-namespace")
    await lab.endpoint("my-nexus-endpoint", namespace="my-handler-namespace", task_queue="nexus-handler-queue")
    env = {**os.environ, "TEMPORAL_ADDRESS": lab.address, "PYTHONPATH": str(root)}
    env.pop("TEMPORAL_PROFILE", None)
    worker = subprocess.Popen([sys.executable, "nexus_standalone_operations/worker.py"], cwd=root,
                              env={**env, "TEMPORAL_NAMESPACE": "my-handler-namespace"},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        started = time.monotonic()
        starter = subprocess.run([sys.executable, "nexus_standalone_operations/starter.py"], cwd=root,
                                 env={**env, "TEMPORAL_NAMESPACE": "my-caller-namespace"},
                                 capture_output=True, text=True, timeout=60)
        took = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    out = starter.stdout
    aborted_in_teardown = starter.returncode == -signal.SIGABRT and TEARDOWN_ABORT in starter.stderr
    assert starter.returncode == 0 or aborted_in_teardown, starter.stderr[-2000:]
    assert "Echo result: hello\nEcho result from existing operation handle: hello" in out
    assert "`MyNexusService.Hello` result: Hello, World!" in out
    assert re.search(r"Operation: echo,\s+Status: COMPLETED", out)
    assert re.search(r"Operation: hello,\s+Status: COMPLETED", out)
    hello_id = next(line.split("OperationID: ")[1] for line in out.splitlines() if "OperationID: " in line)
    shown = await lab.operation(hello_id.strip(), namespace="my-caller-namespace")
    assert "my-nexus-endpoint › MyNexusService › hello" in shown.text()
    assert shown.result == {"greeting": "Hello, World!"}
    print(f"samples-python nexus_standalone_operations ran unchanged in {took:.1f} s"
          f"{' (then aborted in interpreter teardown, sdk-python#300)' if aborted_in_teardown else ''}:\n{out}")
