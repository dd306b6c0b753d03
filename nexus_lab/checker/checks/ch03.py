"""Chapter 3: synchronous operations."""


from __future__ import annotations

import asyncio

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
from nexus_lab.story.fraud_v1 import Transaction

REVIEW_SERVICE = "fraudReview.v1"

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
    for n, ((amount, country, expected), transaction) in enumerate(zip(cases, sent, strict=True)):
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
                  callers=[ProbeCaller, ProbeBatch])
    decisions = {c.unique("T"): True, c.unique("T"): False}
    checks = {tid: await c.lab.start_workflow(c.module.FraudCheckWorkflow.run, Transaction(tid, 9_000),
                                              namespace=HANDLER_NAMESPACE, task_queue="fraud-tq",
                                              id=f"fraud-check-{tid}", timeout=3)
              for tid in decisions}
    # Nobody waits for this one: the signal cannot be delivered, so "delivered" would be a lie.
    unknown = c.unique("nobody")
    c.errors.expected.append(unknown)  # the signal's error is the right answer here
    nobody = c.start_caller(ProbeCaller.run, Call("submitReview", {"transaction_id": unknown,
                                                                    "approved": True},
                                                  service=REVIEW_SERVICE, timeout_s=5), timeout=8)
    orphan = asyncio.ensure_future(nobody)
    wid = c.unique("analyst")
    async with c.test("submitReview answers 'delivered' synchronously, for an approval and a refusal"):
        calls = [Call("submitReview", {"transaction_id": tid, "approved": approved}, service=REVIEW_SERVICE)
                 for tid, approved in decisions.items()]
        outcomes = await probe_many(c, calls, id=wid, timeout=8)
        for outcome in outcomes:
            c.expect(outcome.ok, f"The call failed: {outcome.describe()}.")
            c.expect(outcome.result == "delivered", f"Expected the answer 'delivered'; got {outcome.result!r}.")
        events = await _nexus_events_of(c, wid)
        c.expect("NexusOperationStarted" not in events,
                 f"Expected a synchronous operation; the history shows {events_text(events)}.")
    for tid, approved in decisions.items():
        async with c.test(f"the workflow fraud-check-{tid} got the decision approved={approved}"):
            try:
                verdict = await c.result(checks[tid], 2)
            except Exception:
                await quiet(checks[tid].raw.terminate())
                c.fail(f"fraud-check-{tid} is still waiting for its review signal after submitReview returned: "
                       "signal FraudCheckWorkflow.review, with review.approved, on the workflow with that ID.")
            c.expect(verdict.approved is approved,
                     f"The analyst said approved={approved}; the workflow decided {verdict!r}: pass "
                     "review.approved as the signal's argument.")
    async with c.test("a review for a transaction nobody checks is not 'delivered'"):
        handle = await orphan
        outcome = await c.result(handle, 7)
        c.expect(not outcome.ok,
                 "submitReview answered 'delivered' for a transaction no fraud check is waiting for: the signal "
                 "reached nobody. Let the signal's error through instead of hiding it.")
