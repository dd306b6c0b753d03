"""Chapter 6: errors."""


from __future__ import annotations

from typing import Any

import nexusrpc
import nexusrpc.handler
from temporalio.client import WorkflowFailureError

from nexus_lab.checker.checks.common import (
    Call,
    Outcome,
    ProbeBatch,
    ProbeCaller,
    RefFraudCheckWorkflow,
    RefFraudHandler,
    learner_transaction,
    probe_many,
    quiet,
    tx,
)
from nexus_lab.checker.context import (
    CALLER_NAMESPACE,
    HANDLER_NAMESPACE,
    Check,
    _chain,
)
from nexus_lab.story.fraud_v1 import AMOUNT_LIMIT, REVIEW_THRESHOLD, FraudService, QuickScore, Transaction, Verdict


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


# --- ch06-endpoint-status: pending operations as describe shows them ------------------------------
DOWN_QUEUE = "fraud-down-tq"
DOWN_MESSAGE = "fraud model reloading"


@nexusrpc.handler.service_handler(service=FraudService)
class _DownFraudHandler:
    """A Fraud team in trouble: every request fails with a retryable UNAVAILABLE."""

    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> QuickScore:
        raise nexusrpc.HandlerError(DOWN_MESSAGE, type=nexusrpc.HandlerErrorType.UNAVAILABLE)

    @nexusrpc.handler.sync_operation
    async def check_transaction(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> Verdict:
        raise nexusrpc.HandlerError(DOWN_MESSAGE, type=nexusrpc.HandlerErrorType.UNAVAILABLE)


def _state(op: Any) -> str:
    from temporalio.api.enums.v1 import PendingNexusOperationState

    return PendingNexusOperationState.Name(op.state).removeprefix("PENDING_NEXUS_OPERATION_STATE_")


async def _pending(c: Check, workflow_id: str) -> list[Any]:
    description = await c.lab.client(CALLER_NAMESPACE).get_workflow_handle(workflow_id).describe()
    return list(description.raw_description.pending_nexus_operations)


async def _pending_when(c: Check, workflow_id: str, ready: Any, what: str, within: float = 8.0) -> list[Any]:
    """The workflow's pending operations once ``ready(ops)`` holds (the server's retries take a moment)."""
    async def probe() -> list[Any] | None:
        ops = await _pending(c, workflow_id)
        return ops if ready(ops) else None

    ops = await c.eventually(probe, within=within, every=0.1)
    if not ops:
        now = ", ".join(f"{_state(op)} attempt {op.attempt}" for op in await _pending(c, workflow_id)) or "none"
        raise RuntimeError(f"{what} did not happen within {within:g} s (pending operations: {now}).")
    return ops


def _on(endpoint: str, ops: list[Any]) -> Any:
    return next(op for op in ops if op.endpoint.endswith(endpoint))


async def check_endpoint_status(c: Check) -> None:
    status_fn = c.attr("fraud_status", "async def fraud_status(client, workflow_id) -> str")
    await c.setup(handlers=[RefFraudHandler()], handler_workflows=[RefFraudCheckWorkflow],
                  callers=[ProbeCaller, ProbeBatch])
    async with c.test("the troubled Fraud endpoints start", shown=False):
        for endpoint in ("fraud-flaky", "fraud-flaky-2", "fraud-flaky-3", "fraud-breaker"):
            await c.lab.endpoint(endpoint, namespace=HANDLER_NAMESPACE, task_queue=DOWN_QUEUE)
        await c.lab.worker(namespace=HANDLER_NAMESPACE, task_queue=DOWN_QUEUE, nexus_services=[_DownFraudHandler()])
    client = c.lab.client(CALLER_NAMESPACE)

    def in_flight() -> Call:  # a fraud check that waits for an analyst: STARTED until someone decides
        return Call("checkTransaction", tx(c, REVIEW_THRESHOLD + 1_000), timeout_s=120)

    def failing(endpoint: str) -> Call:
        return Call("getQuickScore", tx(c, 100), endpoint=endpoint, timeout_s=120)

    async def answer(workflow_id: str) -> Any:
        return await c.call(status_fn, client, workflow_id, name="fraud_status(client, workflow_id)")

    def judge(given: Any, situation: str, expected: set[str]) -> None:
        wanted = " or ".join(repr(e) for e in sorted(expected))
        shown = repr(given) if len(repr(given)) <= 160 else repr(given)[:150] + " …"
        c.expect(given in expected, f"For {situation}, expected {wanted}; fraud_status returned {shown}.")

    async def ask(workflow_id: str, situation: str, expected: set[str]) -> None:
        judge(await answer(workflow_id), situation, expected)

    # Start every situation at once: the server's retries and the breaker take their seconds side by side.
    flaky = await c.start_caller(ProbeCaller.run, failing("fraud-flaky"), id=c.unique("flaky"))
    mixed = await c.start_caller(ProbeBatch.run, [in_flight(), failing("fraud-flaky-2")], id=c.unique("mixed"))
    tripping = [await c.start_caller(ProbeCaller.run, failing("fraud-breaker"), id=c.unique("trip"))
                for _ in range(5)]  # five failures in a row open the endpoint's circuit breaker
    waiting = await c.start_caller(ProbeCaller.run, in_flight(), id=c.unique("waiting"))

    async with c.test("a payment whose quick score has completed: 'ok'"):
        paid = c.unique("paid")
        await c.run_caller(ProbeCaller.run, Call("getQuickScore", tx(c, 100)), id=paid)
        await ask(paid, "a payment with no pending Nexus operation", {"ok"})

    async with c.test("a fraud check waiting for an analyst (STARTED): 'waiting'"):
        await _pending_when(c, waiting.id, lambda ops: ops and _state(ops[0]) == "STARTED", "checkTransaction start")
        await ask(waiting.id, "a payment whose checkTransaction is STARTED (its handler workflow waits for an "
                              "analyst): in flight, nothing failing", {"waiting"})

    def retrying(ops: list[Any], endpoint: str) -> bool:
        return any(_state(op) == "BACKING_OFF" and op.attempt >= 2 and op.endpoint.endswith(endpoint) for op in ops)

    for name, workflow, endpoint, situation in (
            ("'retrying (attempt N): MESSAGE' for a handler failing with UNAVAILABLE", flaky, "fraud-flaky",
             "a payment whose getQuickScore keeps failing with UNAVAILABLE"),
            ("a failing operation beside one in flight: 'retrying (...)'", mixed, "fraud-flaky-2",
             "a payment with a fraud check in flight and a getQuickScore that keeps failing (a retrying operation "
             "outranks one in flight)")):
        async with c.test(name):
            before = _on(endpoint, await _pending_when(c, workflow.id, lambda ops, e=endpoint: retrying(ops, e),
                                                       f"a second failed attempt on {endpoint}"))
            given = await answer(workflow.id)
            after = _on(endpoint, await _pending(c, workflow.id))  # the count may move while the learner reads
            judge(given, situation, {f"retrying (attempt {n}): {before.last_attempt_failure.message}"
                                     for n in range(before.attempt, after.attempt + 1)})

    async with c.test("an endpoint whose circuit breaker is open: 'blocked: REASON'"):
        async def any_blocked() -> tuple[str, list[Any]] | None:  # whichever of the five is held back first
            for trip in tripping:
                ops = await _pending(c, trip.id)
                if ops and _state(ops[0]) == "BLOCKED":
                    return trip.id, ops
            return None

        found = await c.eventually(any_blocked, within=15, every=0.2)
        if not found:
            raise RuntimeError("The checker could not open the circuit breaker (no operation was BLOCKED).")
        blocked_id, blocked_ops = found
        await ask(blocked_id, "a payment whose getQuickScore the circuit breaker holds back (BLOCKED)",
                  {f"blocked: {blocked_ops[0].blocked_reason}"})

    async with c.test("blocked beside retrying and in flight: 'blocked: REASON'"):
        held = await c.start_caller(ProbeBatch.run, [in_flight(), failing("fraud-flaky-3"), failing("fraud-breaker")],
                                    id=c.unique("held"))

        def all_three(ops: list[Any]) -> bool:
            return len(ops) == 3 and sorted(_state(o) for o in ops) == ["BACKING_OFF", "BLOCKED", "STARTED"]
        ops = await _pending_when(c, held.id, all_three, "a payment with one operation of each kind")
        await ask(held.id, "a payment with a fraud check in flight, a getQuickScore being retried and one held back "
                           "by the open circuit breaker (blocked outranks everything)",
                  {f"blocked: {_on('fraud-breaker', ops).blocked_reason}"})
