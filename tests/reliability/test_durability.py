"""Temporal's promise, tested: a handler worker killed in the middle of an operation is restarted
and the operation completes; a handler that never answers ends in an explanation, not a spinner."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nexus_lab
from nexus_lab import demo
from nexus_lab.story.payments import CheckTransactionWorkflow, QuickScoreWorkflow

from .slow_fraud import SlowFraudCheckWorkflow, SlowFraudServiceHandler

HANDLER_SCRIPT = Path(__file__).with_name("slow_fraud.py")


def start_handler_process() -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(HANDLER_SCRIPT)], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert proc.stdout.readline().strip() == "READY"
    return proc


@pytest.fixture
async def caller(lab):
    await lab.namespace("payments")
    await lab.namespace("fraud")
    await lab.endpoint("fraud-detection", namespace="fraud", task_queue="fraud-tq")
    await lab.stop_worker(namespace="fraud", task_queue="fraud-tq")  # the handler runs elsewhere here
    await lab.worker(namespace="payments", task_queue="durable-payments-tq", workflows=demo.CALLER_WORKFLOWS)
    yield lab
    await lab.stop_worker(namespace="payments", task_queue="durable-payments-tq")


async def test_handler_worker_killed_mid_operation_then_restarted_completes(caller, unique):
    first = start_handler_process()
    wid = f"durable-{unique}"
    handle = await caller.start_workflow(CheckTransactionWorkflow.run, demo.PaymentRequest(demo.Transaction(wid, 5)),
                                         namespace="payments", task_queue="durable-payments-tq", id=wid, timeout=30)
    for _ in range(100):  # until the handler workflow has started (the operation is in flight)
        if "NexusOperationStarted" in (await handle.history()).event_types():
            break
        await asyncio.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(5)
    second = start_handler_process()
    try:
        verdict = await handle.result()
        assert verdict.transaction_id == wid and verdict.approved
        history = await handle.history()
        assert history.nexus_event_types() == [
            "NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCompleted"]
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(5)


async def test_handler_that_never_answers_ends_with_an_explanation(caller, unique):
    await caller.worker(namespace="fraud", task_queue="fraud-tq", workflows=[SlowFraudCheckWorkflow],
                        nexus_services=[SlowFraudServiceHandler()])
    wid = f"silent-{unique}"
    started = time.monotonic()
    with pytest.raises(nexus_lab.LabTimeoutError) as caught:
        await caller.execute(QuickScoreWorkflow.run, demo.PaymentRequest(demo.Transaction(wid, 5)),
                             namespace="payments", task_queue="durable-payments-tq", id=wid, timeout=2)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert "Pending Nexus operations" in message and "getQuickScore" in message
    await caller.terminate(wid, namespace="payments")
    await caller.stop_worker(namespace="fraud", task_queue="fraud-tq")


async def test_a_timeout_message_follows_the_workflows_state(lab, unique):
    """A workflow that ended between the deadline and the explanation is never called "still running"."""
    from nexus_lab.runs import _timeout_error

    await lab.namespace("payments")
    handle = await lab.start_workflow("NobodyRunsThis", namespace="payments", task_queue=f"none-{unique}",
                                      id=f"ended-{unique}")
    error, ended = await _timeout_error(handle.raw, 2)
    assert "It is still running." in str(error) and "RUNNING" in str(error) and not ended
    await lab.terminate(f"ended-{unique}", namespace="payments")
    error, ended = await _timeout_error(handle.raw, 2)
    assert "still running" not in str(error) and ended
    assert "It has ended meanwhile (TERMINATED)" in str(error)


async def test_a_workflow_that_ended_at_its_deadline_gives_its_outcome_not_a_timeout(lab, unique):
    """A busy machine delivers a result just after the deadline: the outcome is the answer."""
    from temporalio.client import WorkflowFailureError

    from nexus_lab.runs import wait_for_result

    await lab.namespace("payments")
    handle = await lab.start_workflow("NobodyRunsThis", namespace="payments", task_queue=f"none-{unique}",
                                      id=f"late-{unique}")
    await lab.terminate(f"late-{unique}", namespace="payments")
    with pytest.raises(WorkflowFailureError):  # the run's own outcome, not LabTimeoutError
        await wait_for_result(handle.raw, timeout=0)


async def test_an_ended_workflow_whose_pending_wait_never_returns_is_asked_afresh(lab, unique):
    """A long poll that misses the close (seen once in CI: > 5 s after the workflow had COMPLETED) must
    not turn the outcome into a time-out: the result is asked for again."""
    from temporalio.client import WorkflowFailureError

    from nexus_lab.runs import wait_for_result

    class FirstWaitHangs:
        def __init__(self, raw):
            self.raw, self.calls = raw, 0

        def __getattr__(self, name):
            return getattr(self.raw, name)

        async def result(self):
            self.calls += 1
            if self.calls == 1:
                await asyncio.Event().wait()  # the missed notification
            return await self.raw.result()

    await lab.namespace("payments")
    handle = await lab.start_workflow("NobodyRunsThis", namespace="payments", task_queue=f"none-{unique}",
                                      id=f"missed-{unique}")
    await lab.terminate(f"missed-{unique}", namespace="payments")
    hanging = FirstWaitHangs(handle.raw)
    with pytest.raises(WorkflowFailureError):
        await wait_for_result(hanging, timeout=0.5)
    assert hanging.calls == 2
