"""Chapter 11: the learner's pytest test must pass on a correct handler and fail on planted bugs.

The test function is called as pytest would call it, with the two fixtures it names: ``env`` (a
``WorkflowEnvironment`` on the check's own namespace) and ``fraud_handler``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import nexusrpc
import nexusrpc.handler

from nexus_lab.checker.checks.common import RefFraudService, Score, Tx, Verdict, reference_score
from nexus_lab.checker.context import HANDLER_NAMESPACE, Check, learner_location
from nexus_lab.registry import delete_endpoint, list_endpoints

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment


def _scoring_handler(score: Callable[[Tx], Score]) -> object:
    """A fraud.v1 handler whose getQuickScore answers ``score(tx)`` (checkTransaction: low risk)."""

    @nexusrpc.handler.service_handler(service=RefFraudService)
    class Handler:
        @nexusrpc.handler.sync_operation
        async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Tx) -> Score:
            return score(tx)

        @nexusrpc.handler.sync_operation
        async def check_transaction(self, ctx: nexusrpc.handler.StartOperationContext, tx: Tx) -> Verdict:
            return Verdict(tx.id, True, "low risk")

    return Handler()


CORRECT = _scoring_handler(lambda tx: Score(tx.id, reference_score(tx.amount, tx.country)))
BUGS = {  # what the planted bug does -> the broken handler
    "ignores blocked countries (a card used in XX scores like any other)":
        _scoring_handler(lambda tx: Score(tx.id, min(90, tx.amount // 100))),
    "forgets the cap (99 000 € scores 990, not 90)":
        _scoring_handler(lambda tx: Score(tx.id, 100 if tx.country == "XX" else tx.amount // 100)),
    "answers with an empty transaction ID":
        _scoring_handler(lambda tx: Score("", reference_score(tx.amount, tx.country))),
    "divides by 1000 instead of 100":
        _scoring_handler(lambda tx: Score(tx.id, 100 if tx.country == "XX" else min(90, tx.amount // 1000))),
}


def _why(err: BaseException, c: Check) -> str:
    """The learner's failing assertion or error, in one or two lines, with their line."""
    from temporalio.client import WorkflowFailureError

    text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    if isinstance(err, WorkflowFailureError):
        causes = []
        cause: BaseException | None = err.cause
        while cause is not None:
            causes.append(f"{type(cause).__name__}: {cause}")
            cause = cause.__cause__
        text = "the caller workflow failed: " + " ← ".join(causes)
    if "timed out" in text:
        text += (" (no worker answered: does the endpoint route to the task queue your Worker polls, and does "
                 "that Worker serve fraud_handler?)")
    where = learner_location(err, c.learner_file)
    return c.unscoped(text + (f"\n  at {where}" if where else ""))


async def _run(c: Check, test: Any, env: WorkflowEnvironment, handler: object) -> BaseException | None:
    """Run the learner's test once; the exception it ended with (None: it passed)."""
    try:
        await test(env=env, fraud_handler=handler)
    except Exception as err:  # a failing test is an outcome here, not a check error
        return err
    return None


async def check_catch_bug(c: Check) -> None:
    from temporalio.testing import WorkflowEnvironment

    test = c.attr("test_quick_score", "async def test_quick_score(env, fraud_handler)")
    c.attr("ScoreCaller", "the caller workflow")
    await c.lab.namespace(HANDLER_NAMESPACE)
    namespace = c.lab.namespace_name(HANDLER_NAMESPACE)
    env = WorkflowEnvironment.from_client(c.lab.client(HANDLER_NAMESPACE))
    before = {e.name for e in await list_endpoints(c.lab.client())}
    try:
        async with c.test("your test passes against a correct handler"):
            err = await _run(c, test, env, CORRECT)
            c.expect(err is None, f"Your test fails against a handler that follows the rule, so it would block a "
                                  f"correct release: {_why(err, c) if err else ''}")
        for bug, handler in BUGS.items():
            async with c.test(f"your test fails against a handler that {bug.split(' (')[0]}"):
                err = await _run(c, test, env, handler)
                c.expect(err is not None, f"Your test passes against a handler that {bug}: that bug would ship. "
                                          "Add the case (or the assertion) that tells them apart.")
        async with c.test("your test deletes the endpoints it created"):
            left = [e.name for e in await list_endpoints(c.lab.client())
                    if e.name not in before and e.namespace == namespace]
            c.expect(not left, f"After your test the endpoint(s) {', '.join(left)} are still registered: every run "
                               "leaves one more. Delete it in a `finally:` with env.delete_nexus_endpoint(...).")
    finally:
        for endpoint in await list_endpoints(c.lab.client()):  # raw names: the learner's are not scoped
            if endpoint.name not in before and endpoint.namespace == namespace:
                with contextlib.suppress(Exception):
                    await delete_endpoint(c.lab.client(), endpoint.name)


# --- ch11-fake-handler -------------------------------------------------------------------------------
async def check_fake_handler(c: Check) -> None:
    from temporalio.worker import Worker

    from nexus_lab.checker.checks.common import ProbeCaller
    from nexus_lab.checker.context import CALLER_NAMESPACE, CALLER_QUEUE

    make = c.attr("fake_fraud", "def fake_fraud(verdict)")
    verdict_type = c.attr("Verdict", "imported from fraud_contract")
    await c.lab.namespace(CALLER_NAMESPACE)
    await c.lab.namespace(HANDLER_NAMESPACE)
    await c.lab.worker(namespace=CALLER_NAMESPACE, task_queue=CALLER_QUEUE, workflows=[ProbeCaller])
    cases = {"approving": verdict_type("T-1", True, "ok"), "declining": verdict_type("T-1", False, "too risky"),
             "failing": None}
    async with c.test("fake_fraud(verdict) returns a fraud.v1 handler instance"):
        fakes = {name: make(verdict) for name, verdict in cases.items()}  # all made first: each keeps its own
        for fake in fakes.values():
            c.expect(not isinstance(fake, type), f"fake_fraud returned the class {getattr(fake, '__name__', fake)}; "
                                                 "return an instance (FakeFraud()), as Worker(nexus_service_handlers="
                                                 "...) takes.")
    async with contextlib.AsyncExitStack() as workers:
        for name, fake in fakes.items():  # plain SDK workers, as the learner's own test would run them
            queue = f"fake-{name}"
            await c.lab.endpoint(queue, namespace=HANDLER_NAMESPACE, task_queue=queue)
            await workers.enter_async_context(Worker(c.lab.client(HANDLER_NAMESPACE), task_queue=queue,
                                                     nexus_service_handlers=[fake]))
        await _judge_fakes(c, cases)


async def _judge_fakes(c: Check, cases: dict[str, Any]) -> None:
    from nexus_lab.checker.checks.common import Call, ProbeCaller

    async def call(name: str) -> Any:
        transaction = {"id": "T-1", "amount": 7_000, "country": "DE"}
        return await c.run_caller(ProbeCaller.run, Call("checkTransaction", transaction, endpoint=f"fake-{name}",
                                                        timeout_s=3), timeout=15)  # slack for a busy machine

    for name in ("approving", "declining"):
        verdict = cases[name]
        async with c.test(f"the {name} fake answers its own verdict"):
            outcome = await call(name)
            c.expect(outcome.ok, f"fake_fraud({verdict!r}) made checkTransaction fail: {outcome.describe()}.")
            expected = {"transaction_id": "T-1", "approved": verdict.approved, "reason": verdict.reason}
            c.expect(outcome.result == expected,
                     f"fake_fraud({verdict!r}) answered {outcome.result!r}. Each fake must answer the verdict it "
                     "was made with (three fakes were made before any was called).")

    async with c.test("fake_fraud(None) fails the operation at once, without retries"):
        outcome = await call("failing")
        c.expect(not outcome.ok, f"fake_fraud(None) answered {outcome.result!r}: the operation must fail, so the "
                                 "caller's except NexusOperationError branch runs.")
        cause = outcome.cause()
        c.expect(cause.get("class") != "TimeoutError",
                 "fake_fraud(None) raised an error the caller retries: the payment waited until its timeout. "
                 "Raise nexusrpc.OperationError(..., state=nexusrpc.OperationErrorState.FAILED) to fail the "
                 f"operation at once (the caller saw {outcome.describe()}).")
        c.expect(cause.get("class") == "ApplicationError" or cause.get("retryable") is False,
                 f"The caller saw {outcome.describe()}; expected a failed operation (OperationError).")
