"""Chapter 3: synchronous operations."""


from __future__ import annotations

from nexus_lab.checker.checks.common import (
    Call,
    ProbeCaller,
    events_text,
    probe,
    quiet,
    tx,
)
from nexus_lab.checker.context import HANDLER_NAMESPACE, Check

OPERATIONS = {"checkTransaction": ("check_transaction", "Transaction", "Verdict"),
              "getQuickScore": ("get_quick_score", "Transaction", "QuickScore")}


def _type_name(t: object) -> str:
    return getattr(t, "__name__", repr(t))


async def _nexus_events_of(c: Check, wid: str) -> list[str]:
    return (await c.caller_history(wid)).nexus_event_types()


async def check_quick_score(c: Check) -> None:
    await c.setup(handlers=[c.attr("FraudServiceHandler")()], callers=[ProbeCaller])
    cases = [(2_500, "DE", 25), (50, "FR", 0), (99_000, "DE", 90), (300, "XX", 100)]
    for amount, country, expected in cases:
        async with c.test(f"score of {amount} € in {country} is {expected}"):
            outcome = await probe(c, "getQuickScore", tx(c, amount, country))
            c.expect(outcome.ok, f"The call failed: {outcome.describe()}.")
            c.expect(outcome.result.get("score") == expected, f"Expected score {expected}; got {outcome.result!r}.")
    async with c.test("the operation is synchronous (Scheduled → Completed)"):
        wid = c.unique("payment")
        await probe(c, "getQuickScore", tx(c, 100), id=wid)
        events = await _nexus_events_of(c, wid)
        c.expect(events == ["NexusOperationScheduled", "NexusOperationCompleted"],
                 f"Expected NexusOperationScheduled → NexusOperationCompleted; the history shows {events_text(events)}.")


async def check_submit_review(c: Check) -> None:
    await c.setup(handlers=[c.attr("FraudReviewHandler")()], handler_workflows=[c.attr("FraudCheckWorkflow")],
                  callers=[ProbeCaller])
    transaction = c.module.Transaction(c.unique("T"), 9_000)
    check = await c.lab.start_workflow(c.module.FraudCheckWorkflow.run, transaction, namespace=HANDLER_NAMESPACE,
                                       task_queue="fraud-tq", id=f"fraud-check-{transaction.id}", timeout=3)
    async with c.test("submitReview answers 'delivered' synchronously"):
        wid = c.unique("analyst")
        call = Call("submitReview", {"transaction_id": transaction.id, "approved": False}, service="fraudReview.v1")
        outcome = await c.run_caller(ProbeCaller.run, call, id=wid, timeout=4)
        c.expect(outcome.ok, f"The call failed: {outcome.describe()}.")
        c.expect(outcome.result == "delivered", f"Expected the answer 'delivered'; got {outcome.result!r}.")
        events = await _nexus_events_of(c, wid)
        c.expect("NexusOperationStarted" not in events, f"Expected a synchronous operation; the history shows {events_text(events)}.")
    async with c.test(f"the workflow fraud-check-{transaction.id} got the decision"):
        try:
            verdict = await check.result(timeout=2)
        except Exception:  # noqa: BLE001 - still waiting: say so in the learner's terms
            await quiet(check.raw.terminate())
            c.fail(f"fraud-check-{transaction.id} is still waiting for its review signal after submitReview "
                   "returned: signal FraudCheckWorkflow.review on the workflow with that ID.")
        c.expect(verdict.approved is False, f"The analyst said approved=False; the workflow decided {verdict!r}.")
