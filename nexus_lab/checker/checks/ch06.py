"""Chapter 6: errors."""


from __future__ import annotations

from temporalio.client import WorkflowFailureError

from nexus_lab.checker.checks.common import (
    Call,
    Outcome,
    ProbeBatch,
    ProbeCaller,
    RefFraudHandler,
    learner_transaction,
    probe_many,
    quiet,
)
from nexus_lab.checker.context import (
    CALLER_NAMESPACE,
    Check,
    _chain,
)
from nexus_lab.story.fraud_v1 import AMOUNT_LIMIT


def _handler_error(outcome) -> dict:
    cause = outcome.cause()
    return cause if cause.get("class") == "HandlerError" else {}


async def check_error_classes(c: Check) -> None:
    await c.setup(handlers=[c.attr("FraudServiceHandler")()], callers=[ProbeCaller, ProbeBatch])
    # Each rule at and beside its edge: 0 is invalid, 1 is fine; the limit itself is allowed.
    amounts = [-5, 0, 1, AMOUNT_LIMIT, AMOUNT_LIMIT + 1]
    outcomes: dict[int, Outcome] = {}

    async def call_all() -> dict[int, Outcome]:
        calls = [Call("getQuickScore", {"id": c.unique("T"), "amount": a}) for a in amounts]
        return dict(zip(amounts, await probe_many(c, calls, timeout=8), strict=True))
    for amount in (-5, 0):
        async with c.test(f"invalid input (amount {amount}) → HandlerError BAD_REQUEST"):
            outcomes = outcomes or await call_all()
            outcome = outcomes[amount]
            got = _handler_error(outcome).get("type")
            c.expect(got == "BAD_REQUEST", "Expected the caller to see NexusOperationError ← "
                                           f"HandlerError(BAD_REQUEST); it got {outcome.describe()}."
                                           + (" The rule is amount <= 0." if amount == 0 else ""))
    for amount, score in ((1, 0), (AMOUNT_LIMIT, 90)):
        async with c.test(f"a valid amount ({amount}) is scored"):
            outcome = outcomes[amount]
            c.expect(outcome.ok and outcome.result.get("score") == score,
                     f"Expected the score {score} for amount {amount}; the caller got {outcome.describe()}."
                     + (" The limit itself is allowed: only amount > AMOUNT_LIMIT is refused."
                        if amount == AMOUNT_LIMIT else ""))
    async with c.test("a business rule (amount over the limit) → OperationError FAILED"):
        outcome = outcomes[AMOUNT_LIMIT + 1]
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
        op = await c.eventually(retrying, within=6)
        if op in (None, "ended"):
            outcome = await quiet(c.result(handle, 1))
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
    # Every branch, and both sides of the score's edge (4 999 → 49, 5 000 → 50).
    cases = [("a valid small payment (score 49)", 4_999, "DE", "approved"),
             ("a score of 50", 5_000, "DE", "review"),
             ("invalid input (HandlerError BAD_REQUEST)", -1, "DE", "rejected"),
             ("a business rule (OperationError FAILED)", 5_000_000, "DE", "declined")]
    handles = [await c.start_caller(workflow_cls.run, learner_transaction(c, amount, country), timeout=10)
               for _, amount, country, _ in cases]
    unexpected = await c.start_caller(workflow_cls.run, learner_transaction(c, 100, "ZZ"), timeout=10)
    for (name, _, _, expected), handle in zip(cases, handles, strict=True):
        async with c.test(f"{name} → {expected!r}"):
            try:
                result = await c.guard(c.result(handle))
            except WorkflowFailureError as err:
                c.fail(f"Expected {expected!r}; PaymentWorkflow failed instead: {' ← '.join(_chain(err.cause))}. "
                       "Branch on err.__cause__, the error the Fraud team raised.")
            c.expect(result == expected, f"Expected {expected!r}; PaymentWorkflow returned {result!r}.")
    async with c.test("anything else (HandlerError NOT_IMPLEMENTED) fails the workflow"):
        try:
            result = await c.guard(c.result(unexpected))
        except WorkflowFailureError:
            return
        c.fail(f"An unexpected error must not be hidden: PaymentWorkflow returned {result!r}; re-raise it instead.")
