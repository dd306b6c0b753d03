"""Chapter 5: calling from a workflow."""


from __future__ import annotations

from nexus_lab.checker.checks.common import (
    events_text,
    learner_transaction,
    quiet,
)
from nexus_lab.checker.context import (
    ENDPOINT,
    HANDLER_NAMESPACE,
    Check,
)
from nexus_lab.story.fraud_team import FraudCheckWorkflow, FraudServiceHandler

ASYNC_OK = ["NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCompleted"]


def _timeout_of(scheduled: object) -> str:
    return scheduled.fields.get("schedule_to_close_timeout") or ""  # type: ignore[attr-defined]


async def check_execute_with_timeout(c: Check) -> None:
    workflow_cls = c.attr("PaymentWorkflow")
    await c.setup(handlers=[FraudServiceHandler()], handler_workflows=[FraudCheckWorkflow], callers=[workflow_cls])
    wid, blocked_id = c.unique("payment"), c.unique("payment")
    blocked = await c.start_caller(workflow_cls.run, learner_transaction(c, 300, "XX"), id=blocked_id)
    async with c.test("PaymentWorkflow approves a small payment through checkTransaction"):
        result = await c.run_caller(workflow_cls.run, learner_transaction(c, 300), id=wid)
        history = await c.caller_history(wid)
        scheduled = history.find("NexusOperationScheduled")
        c.expect(scheduled, f"The workflow returned {result!r} without calling the Fraud team: "
                            "no NexusOperationScheduled.")
        c.expect(result == "approved", f"Expected 'approved' for 300 €; got {result!r}.")
    async with c.test("and declines what the Fraud team declines (a card used in XX)"):
        result = await c.guard(c.result(blocked, 5))
        c.expect(result == "declined", f"The Fraud team's verdict for a card used in XX is approved=False; "
                                       f"PaymentWorkflow returned {result!r}, expected 'declined'.")
    fields = scheduled[0].fields
    async with c.test("it calls fraud-detection › fraud.v1 › checkTransaction"):
        got = (c.unscoped(fields["endpoint"]), fields["service"], fields["operation"])
        c.expect(got == (ENDPOINT, "fraud.v1", "checkTransaction"),
                 f"Expected fraud-detection › fraud.v1 › checkTransaction; the history shows {' › '.join(got)}.")
        events = history.nexus_event_types()
        c.expect(events == ASYNC_OK, f"Expected {events_text(ASYNC_OK)}; the history shows {events_text(events)}.")
    async with c.test("with a schedule-to-close timeout of 10 s"):
        timeout = _timeout_of(scheduled[0])
        c.expect(timeout, "NexusOperationScheduled has no schedule_to_close_timeout: without one the caller waits "
                          "as long as the handler takes. Pass schedule_to_close_timeout=timedelta(seconds=10).")
        c.expect(timeout == "10s", f"The operation's schedule_to_close_timeout is {timeout}; expected 10s.")


TIMEOUTS = {"checkTransaction": ("600s", "10 minutes", "timedelta(minutes=10)"),
            "getQuickScore": ("10s", "10 seconds", "timedelta(seconds=10)")}


async def check_start_and_handle(c: Check) -> None:
    workflow_cls = c.attr("PaymentWorkflow")
    await c.setup(handlers=[FraudServiceHandler()], handler_workflows=[FraudCheckWorkflow], callers=[workflow_cls])
    transaction = learner_transaction(c, 8_000)
    handle = await c.start_caller(workflow_cls.run, transaction, timeout=6)
    async with c.test("getQuickScore runs while checkTransaction is still running"):
        async def score_done() -> bool:
            events = (await c.caller_history(handle.id)).nexus_event_types()
            return events.count("NexusOperationCompleted") >= 1
        if not await c.guard(c.eventually(score_done, within=5)):
            events = (await c.caller_history(handle.id)).nexus_event_types()
            await quiet(handle.raw.terminate())
            c.fail("While checkTransaction waits for its analyst, getQuickScore should already be done; by now "
                   f"the history shows {events_text(events)}. execute_operation waits for the verdict: use "
                   "start_operation for checkTransaction, and await its handle later.")
    async with c.test("each call has the schedule-to-close timeout the exercise names"):
        scheduled = (await c.caller_history(handle.id)).find("NexusOperationScheduled")
        for event in scheduled:
            operation = event.fields.get("operation")
            if operation not in TIMEOUTS:
                continue
            want, words, code = TIMEOUTS[operation]
            got = event.fields.get("schedule_to_close_timeout")
            c.expect(got, f"{operation} has no schedule_to_close_timeout; allow it {words} ({code}).")
            c.expect(got == want, f"{operation} is allowed {got}; the exercise allows it {words} ({code}).")
    async with c.test("the analyst's verdict arrives through the handle, with its operation token"):
        await c.lab.client(HANDLER_NAMESPACE).get_workflow_handle(f"fraud-check-{transaction.id}").signal(
            "review", False)
        decision = await c.guard(c.result(handle, 4))
        tokens = (await c.caller_history(handle.id)).operation_tokens()
        c.expect(getattr(decision, "approved", None) is False and getattr(decision, "quick_score", None) == 80,
                 f"The analyst said approved=False and getQuickScore said 80; expected quick_score=80 and "
                 f"approved=False, got {decision!r}.")
        c.expect(tokens and decision.fraud_check_token == tokens[0],
                 f"fraud_check_token is {decision.fraud_check_token!r}; the history's NexusOperationStarted has "
                 "the token of checkTransaction: return handle.operation_token.")
