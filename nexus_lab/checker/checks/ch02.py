"""Chapter 2: contracts."""


from __future__ import annotations

import asyncio

import nexusrpc

from nexus_lab.checker.checks.common import (
    ProbeCaller,
    RefFraudCheckWorkflow,
    RefFraudHandler,
    probe,
    tx,
)
from nexus_lab.checker.context import Check

OPERATIONS = {"checkTransaction": ("check_transaction", "Transaction", "Verdict"),
              "getQuickScore": ("get_quick_score", "Transaction", "QuickScore")}


def _type_name(t: object) -> str:
    return getattr(t, "__name__", repr(t))


async def check_define_contract(c: Check) -> None:
    service = c.attr("FraudService")
    async with c.test("FraudService is a Nexus service named 'fraud.v1'"):
        definition = nexusrpc.get_service_definition(service)
        if definition is None:
            c.fail("FraudService is a plain class: decorate it with @nexusrpc.service(name=...).")
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
            c.expect(got == (expected_in, expected_out), f"{wire} is typed Operation[{got[0]}, {got[1]}]; "
                                                         f"expected Operation[{expected_in}, {expected_out}].")
    async with c.test("a Payments workflow calls getQuickScore through your contract"):
        await c.setup(handlers=[RefFraudHandler()], handler_workflows=[RefFraudCheckWorkflow],
                      callers=[c.attr("QuickScoreCaller")])
        transaction = c.module.Transaction(c.unique("T"), 4_200)
        wid = c.unique("payment")
        result = await c.run_caller(c.module.QuickScoreCaller.run, transaction, id=wid)
        scheduled = (await c.caller_history(wid)).find("NexusOperationScheduled")[0].fields
        c.expect((scheduled["service"], scheduled["operation"]) == ("fraud.v1", "getQuickScore"),
                 f"The caller's history shows {scheduled['service']}/{scheduled['operation']}; "
                 "expected fraud.v1/getQuickScore.")
        c.expect(getattr(result, "score", None) == 42, f"Expected QuickScore(score=42); got {result!r}.")


async def _call_both(c: Check) -> None:
    """What Payments sees of both operations, at and beside their rules (score cap, floor division,
    the review threshold) and with the transaction ID echoed back."""
    cases: list[tuple[str, int, dict[str, object]]] = [
        ("getQuickScore", 2_599, {"score": 25}), ("getQuickScore", 99_000, {"score": 90}),
        ("checkTransaction", 4_999, {"approved": True}), ("checkTransaction", 5_000, {"approved": False})]
    sent = [tx(c, amount) for _, amount, _ in cases]
    outcomes = await asyncio.gather(*(probe(c, wire, t) for (wire, _, _), t in zip(cases, sent, strict=True)))
    for (wire, amount, fields), transaction, outcome in zip(cases, sent, outcomes, strict=True):
        c.expect(outcome.ok, f"Payments calls {wire!r} on fraud.v1 and got {outcome.describe()}. The published "
                             "names must not change: callers would break.")
        result = outcome.result if isinstance(outcome.result, dict) else {}
        wanted = {**fields, "transaction_id": transaction["id"]}
        got = {k: result.get(k) for k in wanted}
        c.expect(got == wanted, f"{wire} for {amount} answered {outcome.result!r}; expected the fields {wanted}."
                                  + (" The transaction ID must be echoed back." if
                                     got["transaction_id"] != wanted["transaction_id"] else ""))


async def check_fix_mismatch(c: Check) -> None:
    async with c.test("the handler matches the contract (the file imports)"):
        definition = nexusrpc.get_service_definition(c.attr("FraudService"))
        if definition is None or definition.name != "fraud.v1":
            c.fail("FraudService must stay the service 'fraud.v1'.")
        for wire, (_, t_in, t_out) in OPERATIONS.items():
            op = definition.operation_definitions.get(wire)
            if op is None:
                c.fail(f"The contract has no operation {wire!r} any more; it has "
                       f"{sorted(definition.operation_definitions)}. Payments calls {wire!r}.")
            c.expect((_type_name(op.input_type), _type_name(op.output_type)) == (t_in, t_out),
                     f"{wire} must stay Operation[{t_in}, {t_out}] (published types).")
    async with c.test("Payments' calls by the published names succeed"):
        await c.setup(handlers=[c.attr("FraudServiceHandler")()], handler_workflows=[c.attr("FraudCheckWorkflow")],
                      callers=[ProbeCaller])
        await _call_both(c)
