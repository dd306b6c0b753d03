"""Chapter 13: Nexus across languages. The learner's Python caller runs against the TypeScript
Payments team's real handler (``polyglot/``), so only what crosses the wire decides."""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowFailureError

from nexus_lab import polyglot
from nexus_lab.checker.checks.common import events_text
from nexus_lab.checker.context import Check

CALLER_NAMESPACE, CALLER_QUEUE = "fraud", "fraud-tq"  # here the Python Fraud team is the caller
WIRE = ["payments.v1 › quoteRefund", "payments.v1 › refund"]
EVENTS = ["NexusOperationScheduled", "NexusOperationCompleted",                            # quoteRefund: sync
          "NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCompleted"]  # refund: a workflow run


def _advice(text: str) -> str:
    """What the TypeScript side's answer means, in the learner's terms."""
    lowered = text.lower()
    if "not registered for operation" in text:
        return ("\nThe TypeScript handler has no operation of that name: payments.v1's wire names are quoteRefund "
                "and refund.")
    if "service" in lowered and any(word in lowered for word in ("not registered", "no service", "not found")):
        return "\nNo service of that name behind the endpoint: the TypeScript team named it payments.v1."
    if "got fields" in text:
        return "\nThe TypeScript handler read your request's JSON: its field names are your dataclass's field names."
    return ""


async def _result(c: Check, handle: Any) -> Any:
    """The workflow's result; a failure is told as the chain of errors that crossed the wire."""
    try:
        return await handle.result()
    except WorkflowFailureError as err:
        chain: list[str] = []
        cause: BaseException | None = err.cause
        while cause is not None:
            chain.append(f"{type(cause).__name__}: {getattr(cause, 'message', None) or cause}")
            cause = cause.__cause__
        text = " ← ".join(chain)
        c.fail(f"RefundWorkflow failed: {text}{_advice(text)}")


def _expected(transaction_id: str, amount: int) -> str:
    """What polyglot/src/workflows.ts computes: a 1 % fee, at least 1."""
    fee = max(1, amount // 100)
    return f"{transaction_id}: refunded {amount - fee} (fee {fee}), R-{transaction_id}"


async def check_refund_across_languages(c: Check) -> None:
    workflow_cls = c.attr("RefundWorkflow")
    request_cls = c.attr("RefundRequest")
    await c.lab.namespace(CALLER_NAMESPACE)
    await c.lab.namespace(polyglot.TS_NAMESPACE)
    await c.lab.endpoint(polyglot.PAYMENTS_ENDPOINT, namespace=polyglot.TS_NAMESPACE,
                         task_queue=polyglot.TS_HANDLER_QUEUE)
    try:
        workers = await polyglot.start(c.lab, roles=("handler",))
    except polyglot.PolyglotError as err:
        c.fail(str(err))
    try:
        await c.lab.worker(namespace=CALLER_NAMESPACE, task_queue=CALLER_QUEUE, workflows=[workflow_cls])
        await _check_calls(c, workflow_cls, request_cls)
    finally:
        workers.stop()


async def _check_calls(c: Check, workflow_cls: type, request_cls: type) -> None:
    wid = c.unique("refund")
    transaction_id = c.unique("T")
    async with c.test("RefundWorkflow gets a quote and a refund from the TypeScript payments.v1"):
        handle = await c.lab.start_workflow(workflow_cls.run, request_cls(transaction_id, 250),  # type: ignore[attr-defined]
                                            namespace=CALLER_NAMESPACE, task_queue=CALLER_QUEUE, id=wid, timeout=8)
        result = await _result(c, handle)
        c.expect(result == _expected(transaction_id, 250),
                 f"Expected {_expected(transaction_id, 250)!r}; got {result!r}.")
    history = await c.lab.history(wid, namespace=CALLER_NAMESPACE)
    async with c.test("it calls payments.v1 › quoteRefund (sync), then payments.v1 › refund (a workflow run)"):
        calls = [f"{e.fields['service']} › {e.fields['operation']}" for e in history.find("NexusOperationScheduled")]
        c.expect(calls == WIRE,
                 f"Expected the calls {', '.join(WIRE)}; the history shows {', '.join(calls) or 'none'}.")
        events = history.nexus_event_types()
        c.expect(events == EVENTS, f"Expected {events_text(EVENTS)}; the history shows {events_text(events)}.")
    async with c.test("the TypeScript refund workflow received transactionId and amount"):
        backing = await c.lab.history(f"refund-{transaction_id}", namespace=polyglot.TS_NAMESPACE)
        started = backing.find("WorkflowExecutionStarted")[0].fields.get("input")
        c.expect(transaction_id in str(started) and "transactionId" in str(started),
                 f"The TypeScript workflow refund-{transaction_id} started with {started!r}.")
    async with c.test("a second refund: 1 000 € (fee 10)"):
        other = c.unique("T")
        handle = await c.lab.start_workflow(workflow_cls.run, request_cls(other, 1_000),  # type: ignore[attr-defined]
                                            namespace=CALLER_NAMESPACE, task_queue=CALLER_QUEUE,
                                            id=c.unique("refund"), timeout=8)
        result = await _result(c, handle)
        c.expect(result == _expected(other, 1_000), f"Expected {_expected(other, 1_000)!r}; got {result!r}.")
