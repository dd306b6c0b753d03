"""Chapters 2–4: contracts, synchronous operations and workflow-run operations."""

from __future__ import annotations

import asyncio

import nexusrpc

from ..checking import HANDLER_NAMESPACE, Check
from .common import Call, ProbeCaller, RefFraudCheckWorkflow, RefFraudHandler, events_text, probe, quiet, tx

OPERATIONS = {"checkTransaction": ("check_transaction", "Transaction", "Verdict"),
              "getQuickScore": ("get_quick_score", "Transaction", "QuickScore")}


def _type_name(t: object) -> str:
    return getattr(t, "__name__", repr(t))


# --- ch02 -----------------------------------------------------------------------------------------
async def check_define_contract(c: Check) -> None:
    service = c.attr("FraudService")
    async with c.test("FraudService is a Nexus service named 'fraud.v1'"):
        definition = nexusrpc.get_service_definition(service)
        c.expect(definition is not None, "FraudService is a plain class: decorate it with @nexusrpc.service(name=...).")
        c.expect(definition.name == "fraud.v1",
                 f"The service is named {definition.name!r}; callers ask for 'fraud.v1'. Without name=..., "
                 "the class name is used.")
    async with c.test("it has the operations checkTransaction and getQuickScore"):
        found = definition.operation_definitions
        c.expect(set(found) == set(OPERATIONS),
                 f"Expected the wire names {sorted(OPERATIONS)}; found {sorted(found) or 'no operations'}. "
                 "Wire names come from nexusrpc.Operation(name=...).")
        for wire, (attr, _, _) in OPERATIONS.items():
            c.expect(found[wire].method_name == attr,
                     f"{wire!r} is declared as attribute {found[wire].method_name!r}; expected {attr!r}.")
    async with c.test("the operations take and return the contract's types"):
        for wire, (_, expected_in, expected_out) in OPERATIONS.items():
            op = found[wire]
            got = (_type_name(op.input_type), _type_name(op.output_type))
            c.expect(got == (expected_in, expected_out),
                     f"{wire} is typed Operation[{got[0]}, {got[1]}]; expected Operation[{expected_in}, {expected_out}].")
    async with c.test("a Payments workflow calls getQuickScore through your contract"):
        await c.setup(handlers=[RefFraudHandler()], handler_workflows=[RefFraudCheckWorkflow],
                      callers=[c.attr("QuickScoreCaller")])
        transaction = c.module.Transaction(c.unique("T"), 4_200)
        wid = c.unique("payment")
        result = await c.run_caller(c.module.QuickScoreCaller.run, transaction, id=wid)
        scheduled = (await c.caller_history(wid)).find("NexusOperationScheduled")[0].fields
        c.expect((scheduled["service"], scheduled["operation"]) == ("fraud.v1", "getQuickScore"),
                 f"The caller's history shows {scheduled['service']}/{scheduled['operation']}; expected fraud.v1/getQuickScore.")
        c.expect(getattr(result, "score", None) == 42, f"Expected QuickScore(score=42); got {result!r}.")


async def _call_both(c: Check) -> None:
    for wire, expected in (("getQuickScore", {"score": 25}), ("checkTransaction", {"approved": True})):
        outcome = await probe(c, wire, tx(c, 2_500))
        c.expect(outcome.ok, f"Payments calls {wire!r} on fraud.v1 and got {outcome.describe()}. The published "
                             "names must not change: callers would break.")
        got = {k: outcome.result.get(k) for k in expected} if isinstance(outcome.result, dict) else outcome.result
        c.expect(got == expected, f"{wire} answered {outcome.result!r}; expected fields {expected}.")


async def check_fix_mismatch(c: Check) -> None:
    async with c.test("the handler matches the contract (the file imports)"):
        definition = nexusrpc.get_service_definition(c.attr("FraudService"))
        c.expect(definition is not None and definition.name == "fraud.v1", "FraudService must stay the service 'fraud.v1'.")
        for wire, (attr, t_in, t_out) in OPERATIONS.items():
            op = definition.operation_definitions.get(wire)
            c.expect(op is not None, f"The contract has no operation {wire!r} any more; it has "
                                     f"{sorted(definition.operation_definitions)}. Payments calls {wire!r}.")
            c.expect((_type_name(op.input_type), _type_name(op.output_type)) == (t_in, t_out),
                     f"{wire} must stay Operation[{t_in}, {t_out}] (published types).")
    async with c.test("Payments' calls by the published names succeed"):
        await c.setup(handlers=[c.attr("FraudServiceHandler")()], handler_workflows=[c.attr("FraudCheckWorkflow")],
                      callers=[ProbeCaller])
        await _call_both(c)


# --- ch03 -----------------------------------------------------------------------------------------
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


# --- ch04 -----------------------------------------------------------------------------------------
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
