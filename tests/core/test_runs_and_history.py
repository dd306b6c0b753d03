"""Running workflows through the lab, failing fast on stuck tasks, and reading the histories."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import NexusOperationError

import nexus_lab
from nexus_lab.history import decode_operation_token

from .story import (
    AnalystDeskWorkflow,
    BrokenFraudCheckWorkflow,
    Call,
    ChangingWorkflowV1,
    ChangingWorkflowV2,
    ClockReadingWorkflow,
    FaultServiceHandler,
    FraudCheckWorkflow,
    FraudServiceHandler,
    PaymentWorkflow,
    SlowFraudCheckWorkflow,
    Transaction,
    TypedInputWorkflow,
    WaitForeverWorkflow,
)


@pytest.fixture(scope="module")
async def story(lab):
    """Fraud handler in namespace ``fraud``, payments caller in ``payments``, endpoint ``fraud-detection``."""
    await lab.namespace("payments")
    await lab.namespace("fraud")
    await lab.endpoint("fraud-detection", namespace="fraud", task_queue="fraud-tq",
                       description="Fraud team's fraud.v1 service")
    await lab.worker(namespace="fraud", task_queue="fraud-tq",
                     workflows=[FraudCheckWorkflow, SlowFraudCheckWorkflow, AnalystDeskWorkflow,
                                BrokenFraudCheckWorkflow],
                     nexus_services=[FraudServiceHandler(), FaultServiceHandler()])
    await lab.worker(namespace="payments", task_queue="payments-tq",
                     workflows=[PaymentWorkflow, ClockReadingWorkflow, WaitForeverWorkflow, TypedInputWorkflow])
    return lab


async def run_payment(lab, wid: str, operation: str, amount: int = 120, **kwargs):
    call = Call("fraud-detection", operation, Transaction(wid, amount), **kwargs)
    return await lab.execute(PaymentWorkflow.run, call, namespace="payments", task_queue="payments-tq", id=wid)


async def test_sync_operation_history_is_scheduled_then_completed(story, unique):
    assert await run_payment(story, f"sync-{unique}", "score") == (
        f"sync-{unique}: QuickScore(transaction_id='sync-{unique}', score=1)")
    history = await story.history(f"sync-{unique}", namespace="payments")
    assert history.nexus_event_types() == ["NexusOperationScheduled", "NexusOperationCompleted"]
    scheduled = history.find("NexusOperationScheduled")[0]
    assert (scheduled.fields["endpoint"], scheduled.fields["service"], scheduled.fields["operation"]) == (
        "fraud-detection", "fraud.v1", "getQuickScore")
    assert scheduled.fields["input"] == {"id": f"sync-{unique}", "amount": 120, "country": "DE"}
    assert history.find("NexusOperationCompleted")[0].fields["result"] == {
        "transaction_id": f"sync-{unique}", "score": 1}
    assert history.status == "COMPLETED"
    text = history.text()
    assert "★ NexusOperationScheduled" in text and "fraud-detection › fraud.v1 › getQuickScore" in text
    assert "WorkflowTaskScheduled" not in text and "WorkflowTaskScheduled" in history.text(tasks=True)
    assert 'style="background:#e8f0fe' in history._repr_html_()


async def test_async_operation_links_caller_and_handler_both_ways(story, unique):
    wid = f"async-{unique}"
    assert await run_payment(story, wid, "check") == (
        f"{wid}: Verdict(transaction_id='{wid}', approved=True, reason='low risk')")
    caller = await story.history(wid, namespace="payments")
    assert caller.nexus_event_types() == [
        "NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCompleted"]
    started = caller.find("NexusOperationStarted")[0]
    assert decode_operation_token(started.fields["operation_token"]) == {
        "t": 1, "ns": "fraud", "wid": f"fraud-check-{wid}"}
    [handler] = await story.follow(caller)
    assert (handler.namespace, handler.workflow_id, handler.workflow_type) == (
        "fraud", f"fraud-check-{wid}", "FraudCheckWorkflow")
    back = handler.links()
    scheduled_id = caller.find("NexusOperationScheduled")[0].id
    assert [(link.namespace, link.workflow_id, link.event_id) for link in back] == [("payments", wid, scheduled_id)]
    assert handler.find("WorkflowExecutionStarted")[0].fields["completion_callbacks"] == 1


async def test_handler_error_reaches_caller_as_nexus_operation_error(story, unique):
    with pytest.raises(WorkflowFailureError) as caught:
        await run_payment(story, f"reject-{unique}", "reject")
    nexus_error = caught.value.cause
    assert isinstance(nexus_error, NexusOperationError)
    assert "BAD_REQUEST" in repr(nexus_error.__cause__) or "BAD_REQUEST" in str(nexus_error.__cause__.type)
    assert any("Cause chain" in note and "HandlerError" in note for note in caught.value.__notes__)
    history = await story.history(f"reject-{unique}", namespace="payments")
    assert history.nexus_event_types() == ["NexusOperationScheduled", "NexusOperationFailed"]
    failure = history.find("NexusOperationFailed")[0].fields["failure"]
    assert failure[0].startswith("NexusOperationError") and "HandlerError[BAD_REQUEST" in failure[1]


async def test_retrying_operation_shows_as_pending_with_last_failure(story, unique):
    # An endpoint of its own: retryable errors trip the circuit breaker for (caller namespace, endpoint).
    endpoint = f"fraud-outage-{unique}"
    await story.endpoint(endpoint, namespace="fraud", task_queue="fraud-tq")
    wid = f"outage-{unique}"
    handle = await story.start_workflow(PaymentWorkflow.run, Call(endpoint, "outage", Transaction(wid, 5)),
                                        namespace="payments", task_queue="payments-tq", id=wid)
    for _ in range(60):
        description = await story.describe(wid, namespace="payments")
        ops = description.pending_operations
        if ops and ops[0].attempt >= 2 and ops[0].last_failure:
            break
        await asyncio.sleep(0.1)
    [op] = description.pending_operations
    assert op.state in ("BACKING_OFF", "SCHEDULED") and op.attempt >= 2
    assert "fraud model offline" in op.last_failure
    assert "Pending Nexus operations" in description.text() and "outage" in description.text()
    await handle.raw.terminate()


async def test_unknown_endpoint_fails_fast_with_the_cause(story, unique):
    call = Call(f"no-such-endpoint-{unique}", "score", Transaction("p", 1))
    started = time.monotonic()
    with pytest.raises(nexus_lab.WorkflowTaskFailedError) as caught:
        await story.execute(PaymentWorkflow.run, call, namespace="payments", task_queue="payments-tq")
    assert time.monotonic() - started < 2.0
    assert f'endpoint "no-such-endpoint-{unique}" not found' in str(caught.value)
    assert "lab.endpoints()" in str(caught.value)
    history = await story.history(caught.value.workflow_id, namespace="payments")
    assert history.status == "TERMINATED" and "WorkflowTaskFailed" in history.event_types()


async def test_stuck_handler_workflow_is_named_not_waited_out(story, unique):
    """The handler workflow raises ValueError: its task fails, the caller's operation stays STARTED."""
    wid = f"broken-{unique}"
    started = time.monotonic()
    with pytest.raises(nexus_lab.WorkflowTaskFailedError) as caught:
        await run_payment(story, wid, "broken", timeout_s=60)
    named_after = time.monotonic() - started
    named_at = datetime.now(UTC)
    err = caught.value
    assert (err.namespace, err.workflow_id, err.handler_of) == ("fraud", f"broken-check-{wid}", f"payments/{wid}")
    message = str(err)
    assert f"Nexus handler workflow fraud/broken-check-{wid} (started by payments/{wid}'s operation)" in message
    assert "ValueError" in message and "no risk model for DE" in message
    assert "story.py" in message and 'raise ValueError(f"no risk model' in message
    handler = await story.history(f"broken-check-{wid}", namespace="fraud")
    assert handler.status == "TERMINATED"  # it stops retrying, and the caller's operation fails with it
    # The lab's part: from the handler's first WorkflowTaskFailed event to the error in the cell. (Before
    # that event, a cold worker may still be loading the workflow into its sandbox: not the lab's wait.)
    failed_at = handler.find("WorkflowTaskFailed")[0].time
    lag = (named_at - failed_at).total_seconds()
    assert lag < 2.0, f"the handler failure was named {lag:.2f} s after it happened"
    with pytest.raises(WorkflowFailureError):
        await story.handle(wid, namespace="payments").result(timeout=10)
    print(f"handler-side failure named {lag:.2f} s after it happened ({named_after:.2f} s after the start)")


async def test_sandbox_violation_fails_fast_with_the_line(story):
    started = time.monotonic()
    with pytest.raises(nexus_lab.WorkflowTaskFailedError) as caught:
        await story.execute(ClockReadingWorkflow.run, namespace="payments", task_queue="payments-tq")
    assert time.monotonic() - started < 2.0
    message = str(caught.value)
    assert "datetime.datetime.now" in message and "story.py" in message and "datetime.now()" in message
    assert "workflow.now()" in message


async def test_bad_input_type_fails_fast(story):
    with pytest.raises(nexus_lab.WorkflowTaskFailedError, match=r"(?i)input|payment|decode|convert"):
        await story.execute(TypedInputWorkflow.run, "not a payment", namespace="payments", task_queue="payments-tq")


async def test_nondeterminism_is_reported(lab, unique):
    await lab.namespace("payments")
    tq = f"changing-{unique}"
    await lab.worker(namespace="payments", task_queue=tq, workflows=[ChangingWorkflowV1])
    handle = await lab.start_workflow(ChangingWorkflowV1.run, namespace="payments", task_queue=tq)
    for _ in range(50):  # wait for the first workflow task to complete under V1
        if "WorkflowTaskCompleted" in (await handle.history()).event_types(tasks=True):
            break
        await asyncio.sleep(0.05)
    await lab.worker(namespace="payments", task_queue=tq, workflows=[ChangingWorkflowV2])  # new code, empty cache
    await handle.raw.signal(ChangingWorkflowV2.proceed)
    with pytest.raises(nexus_lab.WorkflowTaskFailedError, match=r"(?i)nondetermin") as caught:
        await handle.result(timeout=10)
    assert caught.value.cause == "NonDeterministicError" or "Nondeterminism" in str(caught.value)


async def test_timeout_explains_what_the_workflow_waits_for(story, unique):
    wid = f"slow-{unique}"
    call = Call("fraud-detection", "slow", Transaction(wid, 1))
    started = time.monotonic()
    with pytest.raises(nexus_lab.LabTimeoutError) as caught:
        await story.execute(PaymentWorkflow.run, call, namespace="payments", task_queue="payments-tq",
                            id=wid, timeout=1.0)
    assert time.monotonic() - started < 4.0
    message = str(caught.value)
    assert "after 1 s" in message and "slowCheck: STARTED" in message and "lab.terminate" in message
    assert await story.terminate(wid, namespace="payments") is True
    assert await story.terminate(f"slow-check-{wid}", namespace="fraud") is True


async def test_timeout_with_no_worker_says_so(story, unique):
    with pytest.raises(nexus_lab.LabTimeoutError, match=r"No worker has picked it up.*'nobody-polls'"):
        await story.execute("NotRegisteredAnywhere", namespace="payments", task_queue="nobody-polls",
                            id=f"orphan-{unique}", timeout=0.5)
    await story.terminate(f"orphan-{unique}", namespace="payments")


async def test_schedule_to_close_timeout_ends_the_operation(story, unique):
    wid = f"stc-{unique}"
    with pytest.raises(WorkflowFailureError) as caught:
        await run_payment(story, wid, "slow", timeout_s=3.0)
    assert isinstance(caught.value.cause, NexusOperationError)
    history = await story.history(wid, namespace="payments")
    assert history.nexus_event_types() == [
        "NexusOperationScheduled", "NexusOperationStarted", "NexusOperationTimedOut"]
    assert "TimeoutError[SCHEDULE_TO_CLOSE]" in history.text()
    await story.terminate(f"slow-check-{wid}", namespace="fraud")


async def test_interrupted_wait_really_stops(story):
    """The wait itself (runs.wait_for_result) ends promptly when cancelled; LabHandle.result turns that
    into a one-line LabInterruptedError, a KeyboardInterrupt, which a test's event loop cannot carry."""
    from nexus_lab.runs import wait_for_result

    handle = await story.start_workflow(WaitForeverWorkflow.run, namespace="payments", task_queue="payments-tq")
    waiting = asyncio.ensure_future(wait_for_result(handle.raw, timeout=None))
    await asyncio.sleep(0.5)
    waiting.cancel()  # what a KeyboardInterrupt in a cell does to the awaited task
    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert time.monotonic() - started < 0.5
    await handle.raw.terminate()


async def test_redefined_workflow_class_warns_to_restart_worker(story):
    from .story import (
        PaymentWorkflowRedefined as fresh,  # the class after its cell was run again
    )

    with pytest.warns(nexus_lab.StaleWorkflowWarning, match="Run the lab.worker"):
        handle = await story.start_workflow(fresh.run, Call("fraud-detection", "score", Transaction("w", 10)),
                                            namespace="payments", task_queue="payments-tq")
    assert await handle.result() == "w: QuickScore(transaction_id='w', score=0)"


async def test_missing_history_is_a_lookup_error(story, unique):
    with pytest.raises(LookupError, match=f"nothing-{unique}"):
        await story.history(f"nothing-{unique}", namespace="payments")


async def test_circuit_breaker_shows_as_blocked(story, unique):
    """Five retryable failures in a row open the breaker for (caller namespace, endpoint)."""
    endpoint = f"fraud-breaker-{unique}"
    await story.endpoint(endpoint, namespace="fraud", task_queue="fraud-tq")
    ids = [f"breaker-{unique}-{n}" for n in range(7)]
    for wid in ids:
        await story.start_workflow(PaymentWorkflow.run, Call(endpoint, "outage", Transaction(wid, 5)),
                                   namespace="payments", task_queue="payments-tq", id=wid)
    blocked = []
    for _ in range(80):
        descriptions = [await story.describe(wid, namespace="payments") for wid in ids]
        blocked = [op for d in descriptions for op in d.pending_operations if op.state == "BLOCKED"]
        if blocked:
            break
        await asyncio.sleep(0.1)
    assert blocked, "no operation was blocked by the circuit breaker"
    assert "circuit breaker" in blocked[0].blocked_reason.lower()
    assert "blocked: The circuit breaker is open" in str(blocked[0])
    for wid in ids:
        await story.terminate(wid, namespace="payments")


async def test_caller_cancelled_once_it_saw_the_start_cancels_the_handler(story, unique):
    """``workflow_saw`` is what makes "cancel mid-operation" dependable: once the caller's code has
    run since NexusOperationStarted, a cancelled caller takes its handler workflow with it (default
    WAIT_COMPLETED). Cancelling on the bare event instead lost the handler in 3 of 10 runs here."""
    for attempt in range(3):
        wid = f"saw-{unique}-{attempt}"
        call = Call("fraud-detection", "slow", Transaction(wid, 5), timeout_s=60)
        handle = await story.start_workflow(PaymentWorkflow.run, call, namespace="payments",
                                            task_queue="payments-tq", id=wid)
        for _ in range(200):
            history = await handle.history()
            if history.workflow_saw("NexusOperationStarted"):
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the caller never saw its operation start")
        assert not history.workflow_saw("NexusOperationCanceled")
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        handler = await story.history(f"slow-check-{wid}", namespace="fraud")
        assert handler.status == "CANCELED"
        assert (await handle.history()).nexus_event_types()[-1] == "NexusOperationCanceled"
