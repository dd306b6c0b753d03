"""Chapters 5–7: the caller, errors and cancellation."""

from __future__ import annotations


from ..checking import CALLER_NAMESPACE, ENDPOINT, HANDLER_NAMESPACE, Check
from .common import (Call, ProbeCaller, RefFraudCheckWorkflow, RefFraudHandler, RefSlowCleanupHandler,
                     RefSlowCleanupWorkflow, WithdrawingCaller, caller_saw_start, events_text, learner_transaction,
                     quiet, tx)

ASYNC_OK = ["NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCompleted"]


# --- ch05 -----------------------------------------------------------------------------------------
async def check_execute_with_timeout(c: Check) -> None:
    workflow_cls = c.attr("PaymentWorkflow")
    await c.setup(handlers=[RefFraudHandler()], handler_workflows=[RefFraudCheckWorkflow], callers=[workflow_cls])
    wid = c.unique("payment")
    async with c.test("PaymentWorkflow approves a small payment through checkTransaction"):
        result = await c.run_caller(workflow_cls.run, learner_transaction(c, 300), id=wid)
        history = await c.caller_history(wid)
        scheduled = history.find("NexusOperationScheduled")
        c.expect(scheduled, f"The workflow returned {result!r} without calling the Fraud team: no NexusOperationScheduled.")
        c.expect(result == "approved", f"Expected 'approved' for 300 €; got {result!r}.")
    fields = scheduled[0].fields
    async with c.test("it calls fraud-detection › fraud.v1 › checkTransaction"):
        got = (c.unscoped(fields["endpoint"]), fields["service"], fields["operation"])
        c.expect(got == (ENDPOINT, "fraud.v1", "checkTransaction"),
                 f"Expected fraud-detection › fraud.v1 › checkTransaction; the history shows {' › '.join(got)}.")
        events = history.nexus_event_types()
        c.expect(events == ASYNC_OK, f"Expected {events_text(ASYNC_OK)}; the history shows {events_text(events)}.")
    async with c.test("with a schedule-to-close timeout of 10 s"):
        timeout = fields.get("schedule_to_close_timeout")
        c.expect(timeout, "NexusOperationScheduled has no schedule_to_close_timeout: without one the caller waits "
                          "as long as the handler takes. Pass schedule_to_close_timeout=timedelta(seconds=10).")
        c.expect(timeout == "10s", f"The operation's schedule_to_close_timeout is {timeout}; expected 10s.")


async def check_start_and_handle(c: Check) -> None:
    workflow_cls = c.attr("PaymentWorkflow")
    await c.setup(handlers=[RefFraudHandler()], handler_workflows=[RefFraudCheckWorkflow], callers=[workflow_cls])
    transaction = learner_transaction(c, 8_000)
    handle = await c.start_caller(workflow_cls.run, transaction, timeout=4)
    async with c.test("getQuickScore runs while checkTransaction is still running"):
        async def score_done() -> bool:
            events = (await c.caller_history(handle.id)).nexus_event_types()
            return events.count("NexusOperationCompleted") >= 1
        if not await c.eventually(score_done, within=3):
            events = (await c.caller_history(handle.id)).nexus_event_types()
            await quiet(handle.raw.terminate())
            c.fail("While checkTransaction waits for its analyst, getQuickScore should already be done; after 3 s "
                   f"the history shows {events_text(events)}. execute_operation waits for the verdict: use "
                   "start_operation for checkTransaction, and await its handle later.")
    async with c.test("the verdict arrives through the handle, with its operation token"):
        await c.lab.client(HANDLER_NAMESPACE).get_workflow_handle(f"fraud-check-{transaction.id}").signal("review", True)
        decision = await handle.result(timeout=3)
        tokens = (await c.caller_history(handle.id)).operation_tokens()
        c.expect(decision.approved is True and decision.quick_score == 80,
                 f"Expected quick_score 80 and approved=True; got {decision!r}.")
        c.expect(tokens and decision.fraud_check_token == tokens[0],
                 f"fraud_check_token is {decision.fraud_check_token!r}; the history's NexusOperationStarted has "
                 "the token of checkTransaction: return handle.operation_token.")


# --- ch06 -----------------------------------------------------------------------------------------
def _handler_error(outcome) -> dict:
    cause = outcome.cause()
    return cause if cause.get("class") == "HandlerError" else {}


async def check_error_classes(c: Check) -> None:
    await c.setup(handlers=[c.attr("FraudServiceHandler")()], callers=[ProbeCaller])
    import fraud_contract

    async with c.test("invalid input (amount -5) → HandlerError BAD_REQUEST"):
        outcome = await c.run_caller(ProbeCaller.run, Call("getQuickScore", {"id": c.unique("T"), "amount": -5}))
        got = _handler_error(outcome).get("type")
        c.expect(got == "BAD_REQUEST",
                 f"Expected the caller to see NexusOperationError ← HandlerError(BAD_REQUEST); it got {outcome.describe()}.")
    async with c.test("a business rule (amount over the limit) → OperationError FAILED"):
        amount = fraud_contract.AMOUNT_LIMIT + 1
        outcome = await c.run_caller(ProbeCaller.run, Call("getQuickScore", {"id": c.unique("T"), "amount": amount}))
        cause = outcome.cause()
        c.expect(cause.get("class") == "ApplicationError" and cause.get("type") == "OperationError",
                 f"Expected NexusOperationError ← ApplicationError(type='OperationError'), which is how "
                 f"OperationError(state=FAILED) reaches the caller; it got {outcome.describe()}. "
                 + ("BAD_REQUEST says the *request* is malformed; here the request is fine and a rule said no."
                    if _handler_error(outcome).get("type") == "BAD_REQUEST" else ""))
    async with c.test("an outage is retried: HandlerError UNAVAILABLE"):
        handle = await c.start_caller(ProbeCaller.run, Call("getQuickScore", {"id": c.unique("outage"), "amount": 100}))

        async def retrying():
            described = await c.lab.describe(handle.id, namespace=CALLER_NAMESPACE)
            ops = described.pending_operations
            if described.status != "RUNNING":
                return "ended"
            return ops[0] if ops and ops[0].attempt >= 2 and ops[0].last_failure else None
        op = await c.eventually(retrying, within=3)
        if op in (None, "ended"):
            outcome = await quiet(handle.result(timeout=1))
            await quiet(handle.raw.terminate())
            c.fail("A transient outage must be retried, but the operation "
                   + (f"ended at once: {outcome.describe()}." if outcome else "showed no retry within 3 s.")
                   + " Raise a retryable HandlerError (type UNAVAILABLE).")
        await quiet(handle.raw.terminate())
        c.expect("UNAVAILABLE" in op.last_failure,
                 f"The operation is retried (attempt {op.attempt}), but its last failure is {op.last_failure!r}; "
                 "expected HandlerError UNAVAILABLE, which tells the caller the service is briefly down "
                 "(an unexpected exception is retried as INTERNAL).")


async def check_branch_on_cause(c: Check) -> None:
    workflow_cls = c.attr("PaymentWorkflow")
    await c.setup(handlers=[RefFraudHandler()], callers=[workflow_cls])
    cases = [("a valid small payment", 1_000, "DE", "approved"),
             ("invalid input (HandlerError BAD_REQUEST)", -1, "DE", "rejected"),
             ("a business rule (OperationError FAILED)", 5_000_000, "DE", "declined")]
    for name, amount, country, expected in cases:
        async with c.test(f"{name} → {expected!r}"):
            result = await c.run_caller(workflow_cls.run, learner_transaction(c, amount, country))
            c.expect(result == expected, f"Expected {expected!r}; PaymentWorkflow returned {result!r}.")
    async with c.test("anything else (HandlerError NOT_IMPLEMENTED) fails the workflow"):
        from temporalio.client import WorkflowFailureError

        try:
            result = await c.run_caller(workflow_cls.run, learner_transaction(c, 100, "ZZ"))
        except WorkflowFailureError:
            return
        c.fail(f"An unexpected error must not be hidden: PaymentWorkflow returned {result!r}; re-raise it instead.")


# --- ch07 -----------------------------------------------------------------------------------------
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
    await c.setup(handlers=[RefSlowCleanupHandler()], handler_workflows=[RefSlowCleanupWorkflow], callers=[workflow_cls])
    transaction = learner_transaction(c, 9_000)
    handle = await c.start_caller(workflow_cls.run, transaction, timeout=4)
    async with c.test("the withdrawn payment ends 'withdrawn'"):
        c.expect(await caller_saw_start(c, handle.id), "checkTransaction never started.")
        await handle.raw.signal("withdraw")
        result = await handle.result(timeout=3)
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
        c.expect(await caller_saw_start(c, handle.id), "checkTransaction never started.")
        await handle.raw.signal("withdraw")
        await handle.result(timeout=3)
        events = (await c.caller_history(handle.id)).nexus_event_types()
        if events[-1:] != ["NexusOperationCanceled"]:
            handler = await c.handler_history(check_id)
            c.fail(f"Expected the operation to end NexusOperationCanceled; the caller's history shows "
                   f"{events_text(events)} and the handler workflow ended {handler.status}. After cleaning up, "
                   "re-raise the CancelledError so the workflow ends Canceled.")
    handler = await c.handler_history(check_id)
    types = handler.event_types()
    async with c.test("the handler workflow ran release_hold after the cancel request"):
        activities = [e.fields.get("activity") for e in handler.find("ActivityTaskScheduled")]
        c.expect("release_hold" in activities, "release_hold never ran: the hold on the card stays. "
                                               f"The handler workflow's events: {' → '.join(types)}.")
        c.expect(types.index("WorkflowExecutionCancelRequested") < types.index("ActivityTaskScheduled"),
                 "release_hold ran before the cancellation was requested.")
        c.expect("ActivityTaskCompleted" in types, "release_hold was scheduled but did not complete.")
    async with c.test("and then ended Canceled"):
        c.expect(handler.status == "CANCELED", f"The handler workflow ended {handler.status}; expected CANCELED.")
