"""Chapter 3: synchronous operations."""


from __future__ import annotations

from nexus_lab.checker.checks.common import (
    Call,
    ProbeBatch,
    ProbeCaller,
    events_text,
    probe_many,
    quiet,
    tx,
)
from nexus_lab.checker.context import HANDLER_NAMESPACE, Check, def_location

OPERATIONS = {"checkTransaction": ("check_transaction", "Transaction", "Verdict"),
              "getQuickScore": ("get_quick_score", "Transaction", "QuickScore")}


def _type_name(t: object) -> str:
    return getattr(t, "__name__", repr(t))


async def _nexus_events_of(c: Check, wid: str) -> list[str]:
    return (await c.caller_history(wid)).nexus_event_types()


async def check_quick_score(c: Check) -> None:
    await c.setup(handlers=[c.attr("FraudServiceHandler")()], callers=[ProbeCaller, ProbeBatch])
    # The rule at and beside each of its edges: floor (not round), the cap's start, zero, a blocked
    # country whatever the amount. All calls run at once; each gets its own named test.
    cases = [(2_500, "DE", 25), (2_599, "DE", 25), (50, "FR", 0), (8_999, "DE", 89), (9_000, "DE", 90),
             (99_000, "DE", 90), (300, "XX", 100), (99_000, "XX", 100)]
    sent = [tx(c, amount, country) for amount, country, _ in cases]
    wid = c.unique("payment")
    outcomes: list = []
    for n, ((amount, country, expected), transaction) in enumerate(zip(cases, sent)):
        async with c.test(f"score of {amount} € in {country} is {expected}"):
            outcomes = outcomes or await probe_many(c, [Call("getQuickScore", t) for t in sent], id=wid)
            outcome = outcomes[n]
            c.expect(outcome.ok, f"The call failed: {outcome.describe()}.")
            c.expect(outcome.result is not None,
                     "getQuickScore returned None: return a QuickScore(transaction_id, score).\n  at "
                     + def_location(c.learner_file, "get_quick_score"))
            result = outcome.result if isinstance(outcome.result, dict) else {}
            c.expect(result.get("score") == expected, f"Expected score {expected}; got {outcome.result!r}. "
                                                      "The rule: min(90, amount // 100), 100 for a blocked country.")
            c.expect(result.get("transaction_id") == transaction["id"],
                     f"The score carries transaction_id {result.get('transaction_id')!r}; expected "
                     f"{transaction['id']!r}: the transaction ID must be echoed back.")
    async with c.test("the operation is synchronous (Scheduled → Completed)"):
        events = await _nexus_events_of(c, wid)
        c.expect(events == ["NexusOperationScheduled"] * len(sent) + ["NexusOperationCompleted"] * len(sent),
                 "Expected NexusOperationScheduled → NexusOperationCompleted for each call; the history shows "
                 f"{events_text(events)}.")


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
