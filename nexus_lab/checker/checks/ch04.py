"""Chapter 4: workflow-run (asynchronous) operations."""


from __future__ import annotations

from temporalio.service import RPCError

from nexus_lab.checker.checks.common import (
    Call,
    ProbeCaller,
    events_text,
    probe,
    quiet,
    tx,
)
from nexus_lab.checker.context import HANDLER_NAMESPACE, Check
from nexus_lab.story.fraud_v1 import REVIEW_THRESHOLD


async def check_workflow_run_operation(c: Check) -> None:
    await c.setup(handlers=[c.attr("FraudServiceHandler")()], handler_workflows=[c.attr("FraudCheckWorkflow")],
                  callers=[ProbeCaller])
    transaction, big = tx(c, 300), tx(c, REVIEW_THRESHOLD)
    wid = c.unique("payment")
    # The analyst's branch runs alongside: from the threshold on, the check waits for a review.
    waiting = await c.start_caller(ProbeCaller.run, Call("checkTransaction", big), timeout=8)
    async with c.test("it is asynchronous: Scheduled → Started → Completed"):
        outcome = await probe(c, "checkTransaction", transaction, id=wid)
        history = await c.caller_history(wid)
        events = history.nexus_event_types()
        c.expect(events == ["NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCompleted"],
                 f"Expected NexusOperationScheduled → NexusOperationStarted → NexusOperationCompleted; the history "
                 f"shows {events_text(events)}. "
                 + ("With no Started event the operation completed synchronously: use @nexus.workflow_run_operation."
                    if "NexusOperationStarted" not in events else ""))
    async with c.test("checkTransaction returns the workflow's verdict"):
        c.expect(outcome.ok, f"The call failed: {outcome.describe()}.")
        expected = {"transaction_id": transaction["id"], "approved": True, "reason": "low risk"}
        c.expect({k: outcome.result.get(k) for k in expected} == expected,
                 f"Expected FraudCheckWorkflow's verdict {expected}; got {outcome.result!r}.")
    async with c.test("the handler workflow has the business ID fraud-check-<transaction id>"):
        token = history.find("NexusOperationStarted")[0].fields.get("token_decoded") or {}
        expected_id = f"fraud-check-{transaction['id']}"
        c.expect(token.get("wid") == expected_id,
                 f"The handler workflow's ID is {c.unscoped(str(token.get('wid')))!r}; expected the business ID "
                 f"{expected_id!r}. A request ID or a random ID would start a second check for the same transaction.")
    async with c.test(f"a payment of {REVIEW_THRESHOLD} waits for the analyst, and gets the analyst's 'no'"):
        check_id = f"fraud-check-{big['id']}"

        async def status() -> str:
            try:
                return (await c.lab.describe(check_id, namespace=HANDLER_NAMESPACE)).status
            except Exception:
                return ""
        if await quiet(c.eventually(status, within=3), seconds=4) != "RUNNING":
            outcome = await quiet(c.result(waiting, 2))
            c.fail(f"No workflow {check_id!r} is waiting for a review: the payment of {REVIEW_THRESHOLD} got "
                   f"{outcome.describe() if outcome else 'no answer'}. From REVIEW_THRESHOLD on, an analyst decides.")
        await c.lab.client(HANDLER_NAMESPACE).get_workflow_handle(check_id).signal("review", False)
        outcome = await c.guard(c.result(waiting, 5))
        expected = {"transaction_id": big["id"], "approved": False, "reason": "analyst review"}
        c.expect(outcome.ok and {k: outcome.result.get(k) for k in expected} == expected,
                 f"The analyst said approved=False; the caller got {outcome.describe()}, expected {expected}.")


async def check_attach_callers(c: Check) -> None:
    await c.setup(handlers=[c.attr("FraudServiceHandler")()], handler_workflows=[c.attr("FraudCheckWorkflow")],
                  callers=[ProbeCaller])
    transaction = tx(c, 8_000)
    check_id = f"fraud-check-{transaction['id']}"
    handles = [await c.start_caller(ProbeCaller.run, Call("checkTransaction", transaction)) for _ in range(3)]
    async with c.test("three callers of the same transaction all start their operation"):
        async def started() -> list[list[str]] | None:
            histories = [await c.caller_history(h.id) for h in handles]
            events = [h.nexus_event_types() for h in histories]
            return events if all("NexusOperationStarted" in e or len(e) > 1 for e in events) else None
        events = await c.eventually(started, within=8)
        if not events or any("NexusOperationFailed" in e for e in events):
            described = await c.lab.describe(handles[1].id, namespace="payments")
            failure = next((op.last_failure for op in described.pending_operations), "")
            shown = events_text(next((e for e in events or [] if e[-1:] == ["NexusOperationFailed"]), []))
            c.fail("Not every caller got NexusOperationStarted: the second start of "
                   f"{check_id!r} is refused{' (' + failure + ')' if failure else ''}"
                   f"{'; one caller shows ' + shown if events else ''}. Attach to the existing workflow "
                   "instead: start it with id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING.")
        bad = [e for e in events if e != ["NexusOperationScheduled", "NexusOperationStarted"]]
        done_at_once = any(e[-1:] == ["NexusOperationCompleted"] for e in bad)
        c.expect(not bad, "Expected Scheduled → Started for each caller; one shows "
                          f"{events_text(bad[0]) if bad else ''}."
                          + (f" The check of {REVIEW_THRESHOLD:,} € or more completed at once: the check ended "
                             "before anyone looked. From REVIEW_THRESHOLD on it waits for the analyst's review "
                             "signal." if done_at_once else ""))
    async with c.test("all three share one handler workflow and get the analyst's verdict"):
        tokens = {(await c.caller_history(h.id)).operation_tokens()[0] for h in handles}
        c.expect(len(tokens) == 1, f"Expected one operation token for all callers; got {len(tokens)} different ones: "
                                   "each caller started a workflow of its own. Use the business ID and attach.")
        first = (await c.caller_history(handles[0].id)).find("NexusOperationStarted")[0]
        wid = (first.fields.get("token_decoded") or {}).get("wid")
        c.expect(wid == check_id, f"The shared workflow's ID is {c.unscoped(str(wid))!r}; expected the business ID "
                                  f"{check_id!r}.")
        try:
            await c.lab.client(HANDLER_NAMESPACE).get_workflow_handle(check_id).signal("review", False)
        except RPCError as err:
            c.fail(f"The analyst could not review {check_id!r} ({err}): the check ended before anyone looked. "
                   f"From REVIEW_THRESHOLD on it waits for the review signal.")
        outcomes = [await c.guard(c.result(h, 4)) for h in handles]
        described = [o.describe() for o in outcomes]
        c.expect(all(o.ok and o.result.get("approved") is False and o.result.get("transaction_id") == transaction["id"]
                     for o in outcomes),
                 f"The analyst said approved=False; expected every caller to get that verdict for "
                 f"{transaction['id']}; got {described}."
                 + (" A later caller terminated the running check: attach to it with "
                    "id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING."
                    if "Terminated" in str(described) else ""))
        c.expect(all(o.result.get("reason") == "analyst review" for o in outcomes),
                 f"Expected the reason 'analyst review'; got {[o.result.get('reason') for o in outcomes]}.")
