"""Chapter 5: calling from a workflow."""


from __future__ import annotations

from nexus_lab.checker.checks.common import (
    RefFraudCheckWorkflow,
    RefFraudHandler,
    events_text,
    learner_transaction,
    quiet,
)
from nexus_lab.checker.context import (
    ENDPOINT,
    HANDLER_NAMESPACE,
    Check,
)

ASYNC_OK = ["NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCompleted"]


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
