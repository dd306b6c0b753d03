"""Chapter 7: cancellation."""


from __future__ import annotations

import asyncio

from nexus_lab.checker.checks.common import (
    RefSlowCleanupHandler,
    RefSlowCleanupWorkflow,
    WithdrawingCaller,
    caller_saw_start,
    events_text,
    learner_transaction,
    tx,
)
from nexus_lab.checker.context import (
    CALLER_NAMESPACE,
    Check,
)
from nexus_lab.runs import LabTimeoutError

CANCEL_EVENTS = {
    "ABANDON": ["NexusOperationScheduled", "NexusOperationStarted"],
    "TRY_CANCEL": ["NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCancelRequested"],
    "WAIT_REQUESTED": ["NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCancelRequested",
                       "NexusOperationCancelRequestCompleted"],
    "WAIT_COMPLETED": ["NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCancelRequested",
                       "NexusOperationCancelRequestCompleted", "NexusOperationCanceled"],
}
CANCEL_ADVICE = {
    "ABANDON": "The Fraud team was never told (no NexusOperationCancelRequested): that is ABANDON.",
    "TRY_CANCEL": "The workflow went on right after sending the request, before the Fraud team acknowledged it "
                  "(no NexusOperationCancelRequestCompleted): that is TRY_CANCEL.",
    "WAIT_COMPLETED": "The workflow waited until the Fraud team's clean-up had finished (NexusOperationCanceled "
                      "came first): that is WAIT_COMPLETED.",
}


async def check_cancel_type(c: Check) -> None:
    workflow_cls = c.attr("PaymentWorkflow")
    await c.setup(handlers=[RefSlowCleanupHandler()], handler_workflows=[RefSlowCleanupWorkflow],
                  callers=[workflow_cls])
    transaction = learner_transaction(c, 9_000)
    handle = await c.start_caller(workflow_cls.run, transaction, timeout=4)
    async with c.test("the withdrawn payment ends 'withdrawn'"):
        if not await c.guard(caller_saw_start(c, handle.id, within=8)):
            described = (await c.lab.describe(handle.id, namespace=CALLER_NAMESPACE)).text()
            c.fail("PaymentWorkflow has not seen checkTransaction start:\n" + c.unscoped(described))
        await asyncio.sleep(0.3)  # a payment nobody withdrew keeps its check running
        early = (await c.caller_history(handle.id)).nexus_event_types()
        c.expect("NexusOperationCancelRequested" not in early,
                 f"The check was cancelled before the customer withdrew ({events_text(early)}): cancel only "
                 "once the withdraw signal has come.")
        await handle.raw.signal("withdraw")
        try:
            result = await c.guard(c.result(handle, 4))
        except LabTimeoutError:
            events = (await c.caller_history(handle.id)).nexus_event_types()
            c.fail(f"After the withdraw signal PaymentWorkflow did not end; its history shows {events_text(events)}. "
                   "Cancel the operation's handle (handle.cancel()) once self.withdrawn is set, then await it.")
        c.expect(result == "withdrawn", f"Expected 'withdrawn'; PaymentWorkflow returned {result!r}.")
    async with c.test("it returns once the cancel request is acknowledged, without waiting for the clean-up"):
        events = (await c.caller_history(handle.id)).nexus_event_types()
        chosen = next((kind for kind, expected in CANCEL_EVENTS.items() if events == expected), None)
        c.expect(chosen == "WAIT_REQUESTED",
                 f"The history shows {events_text(events)}. " + CANCEL_ADVICE.get(chosen or "", "")
                 + " Payments must know the request arrived, and not wait for the clean-up.")
    async with c.test("the Fraud team's workflow ends Canceled"):
        async def canceled():
            return (await c.handler_history(f"fraud-check-{transaction.id}")).status == "CANCELED"
        c.expect(await c.eventually(canceled, within=3), "The handler workflow did not end Canceled.")


async def check_cleanup(c: Check) -> None:
    await c.setup(handlers=[c.attr("FraudServiceHandler")()], handler_workflows=[c.attr("FraudCheckWorkflow")],
                  handler_activities=[c.attr("release_hold")], callers=[WithdrawingCaller])
    transaction = tx(c, 9_000)
    handle = await c.start_caller(WithdrawingCaller.run, transaction, timeout=4)
    check_id = f"fraud-check-{transaction['id']}"
    async with c.test("Payments cancels the check and sees NexusOperationCanceled"):
        c.expect(await c.guard(caller_saw_start(c, handle.id, within=8)), "checkTransaction never started.")
        await handle.raw.signal("withdraw")
        await c.guard(c.result(handle, 5))
        events = (await c.caller_history(handle.id)).nexus_event_types()
        if events[-1:] != ["NexusOperationCanceled"]:
            handler = await c.handler_history(check_id)
            c.fail(f"Expected the operation to end NexusOperationCanceled; the caller's history shows "
                   f"{events_text(events)} and the handler workflow ended {handler.status}. After cleaning up, "
                   "re-raise the CancelledError so the workflow ends Canceled.")
    handler = await c.handler_history(check_id)
    types = handler.event_types()
    async with c.test("the handler workflow ran release_hold after the cancel request"):
        scheduled = handler.find("ActivityTaskScheduled")
        activities = [e.fields.get("activity") for e in scheduled]
        c.expect("release_hold" in activities, "release_hold never ran: the hold on the card stays. "
                                               f"The handler workflow's events: {' → '.join(types)}.")
        given = scheduled[activities.index("release_hold")].fields.get("input")
        c.expect(given == transaction["id"], f"release_hold got {given!r}; expected the transaction's ID "
                                             f"{transaction['id']!r}: the hold to release is that one.")
        c.expect(types.index("WorkflowExecutionCancelRequested") < types.index("ActivityTaskScheduled"),
                 "release_hold ran before the cancellation was requested.")
        c.expect("ActivityTaskCompleted" in types, "release_hold was scheduled but did not complete.")
    async with c.test("and then ended Canceled"):
        c.expect(handler.status == "CANCELED", f"The handler workflow ended {handler.status}; expected CANCELED.")
