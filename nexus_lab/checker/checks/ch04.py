"""Chapter 4: workflow-run (asynchronous) operations."""


from __future__ import annotations

import asyncio

from nexus_lab.checker.checks.common import (
    Call,
    ProbeCaller,
    events_text,
    probe,
    tx,
)
from nexus_lab.checker.context import HANDLER_NAMESPACE, Check

OPERATIONS = {"checkTransaction": ("check_transaction", "Transaction", "Verdict"),
              "getQuickScore": ("get_quick_score", "Transaction", "QuickScore")}


def _type_name(t: object) -> str:
    return getattr(t, "__name__", repr(t))


async def check_workflow_run_operation(c: Check) -> None:
    await c.setup(handlers=[c.attr("FraudServiceHandler")()], handler_workflows=[c.attr("FraudCheckWorkflow")],
                  callers=[ProbeCaller])
    transaction = tx(c, 300)
    wid = c.unique("payment")
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
        c.expect(outcome.result.get("reason") == "low risk",
                 f"Expected FraudCheckWorkflow's verdict (reason 'low risk'); got {outcome.result!r}.")
    async with c.test("the handler workflow has the business ID fraud-check-<transaction id>"):
        token = history.find("NexusOperationStarted")[0].fields.get("token_decoded") or {}
        expected = f"fraud-check-{transaction['id']}"
        c.expect(token.get("wid") == expected,
                 f"The handler workflow's ID is {token.get('wid')!r}; expected the business ID {expected!r}. "
                 "A request ID or a random ID would start a second check for the same transaction.")


async def check_attach_callers(c: Check) -> None:
    await c.setup(handlers=[c.attr("FraudServiceHandler")()], handler_workflows=[c.attr("FraudCheckWorkflow")],
                  callers=[ProbeCaller])
    transaction = tx(c, 8_000)
    check_id = f"fraud-check-{transaction['id']}"
    handles = [await c.start_caller(ProbeCaller.run, Call("checkTransaction", transaction)) for _ in range(3)]
    async with c.test("three callers of the same transaction all start their operation"):
        async def started() -> list[list[str]]:
            histories = [await c.caller_history(h.id) for h in handles]
            events = [h.nexus_event_types() for h in histories]
            return events if all("NexusOperationStarted" in e or len(e) > 1 for e in events) else None
        events = await c.eventually(started, within=3)
        if not events:
            described = await c.lab.describe(handles[1].id, namespace="payments")
            failure = next((op.last_failure for op in described.pending_operations), "")
            c.fail("Not every caller got NexusOperationStarted: the second start of "
                   f"{check_id!r} is refused{' (' + failure + ')' if failure else ''}. Attach to the existing "
                   "workflow with the right id_conflict_policy.")
        bad = [e for e in events if e != ["NexusOperationScheduled", "NexusOperationStarted"]]
        c.expect(not bad, f"Expected Scheduled → Started for each caller; one shows {events_text(bad[0]) if bad else ''}.")
    async with c.test("all three share one handler workflow and get its verdict"):
        tokens = {(await c.caller_history(h.id)).operation_tokens()[0] for h in handles}
        c.expect(len(tokens) == 1, f"Expected one operation token for all callers; got {len(tokens)} different ones.")
        await c.lab.client(HANDLER_NAMESPACE).get_workflow_handle(check_id).signal("review", True)
        outcomes = await asyncio.gather(*(h.result(timeout=3) for h in handles))
        c.expect(all(o.ok and o.result.get("approved") is True for o in outcomes),
                 f"Expected every caller to get approved=True; got {[o.describe() for o in outcomes]}.")
