"""Chapter 9: the capstone, judged by four situations a payment can meet across the two namespaces."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import nexusrpc
import nexusrpc.handler
from temporalio import nexus
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import CancelledError

from nexus_lab.checker.checks.common import (
    RefFraudCheckWorkflow,
    RefFraudService,
    Score,
    Tx,
    Verdict,
    caller_saw_start,
    events_text,
    learner_transaction,
    quiet,
    reference_score,
)
from nexus_lab.checker.context import (
    CALLER_NAMESPACE,
    CALLER_QUEUE,
    HANDLER_NAMESPACE,
    HANDLER_QUEUE,
    Check,
)

if TYPE_CHECKING:
    from typing import Protocol

    class _PaymentWorkflow(Protocol):
        """The learner's PaymentWorkflow: a workflow class whose ``run`` takes a Transaction."""

        async def run(self, tx: Any) -> Any: ...


BLOCKED_COUNTRY = "XX"
SCORED_AND_CHECKED = ["NexusOperationScheduled", "NexusOperationCompleted",
                      "NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCompleted"]


@nexusrpc.handler.service_handler(service=RefFraudService)
class RefCapstoneHandler:
    """The Fraud team of chapter 9: a blocked card fails the check outright, without a workflow."""

    @nexus.workflow_run_operation
    async def check_transaction(self, ctx: nexus.WorkflowRunOperationContext, tx: Tx) -> nexus.WorkflowHandle[Verdict]:
        if tx.country == BLOCKED_COUNTRY:
            raise nexusrpc.OperationError(f"cards used in {tx.country} are blocked",
                                          state=nexusrpc.OperationErrorState.FAILED)
        return await ctx.start_workflow(RefFraudCheckWorkflow.run, tx, id=f"fraud-check-{tx.id}")

    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Tx) -> Score:
        return Score(tx.id, reference_score(tx.amount, tx.country))


async def _start_workers(c: Check, workflow_cls: type[_PaymentWorkflow]) -> None:
    await c.setup(handlers=[RefCapstoneHandler()], handler_workflows=[RefFraudCheckWorkflow], callers=[workflow_cls])


async def _wait_for_check_started(c: Check, handle, what: str) -> None:
    if not await caller_saw_start(c, handle.id):
        events = (await c.caller_history(handle.id)).nexus_event_types()
        await quiet(handle.raw.terminate())
        c.fail(f"{what}: checkTransaction should be running (waiting for its analyst) by now; after 3 s the "
               f"history shows {events_text(events)}.")


def _receipt_text(receipt: object) -> str:
    return repr(receipt) if not hasattr(receipt, "approved") else \
        f"approved={receipt.approved!r}, quick_score={getattr(receipt, 'quick_score', None)!r}"


async def check_capstone(c: Check) -> None:
    workflow_cls = c.attr("PaymentWorkflow")
    await _start_workers(c, workflow_cls)

    small = learner_transaction(c, 300, label="small")
    async with c.test("1 · a small payment is scored, checked and approved"):
        handle = await c.start_caller(workflow_cls.run, small)
        receipt = await c.guard(c.result(handle))
        history = await c.caller_history(handle.id)
        operations = [e.fields.get("operation") for e in history.find("NexusOperationScheduled")]
        c.expect(operations, f"PaymentWorkflow returned {_receipt_text(receipt)} without calling the Fraud team: "
                             "no NexusOperationScheduled in its history.")
        c.expect(operations == ["getQuickScore", "checkTransaction"],
                 f"Expected getQuickScore, then checkTransaction; the history schedules {', '.join(operations)}.")
        events = history.nexus_event_types()
        c.expect(events == SCORED_AND_CHECKED, f"Expected {events_text(SCORED_AND_CHECKED)}; "
                                               f"the history shows {events_text(events)}.")
        c.expect(getattr(receipt, "approved", None) is True and getattr(receipt, "quick_score", None) == 3,
                 f"Expected an approved receipt with quick_score 3 (what getQuickScore said); got "
                 f"{_receipt_text(receipt)}.")
        c.expect(getattr(receipt, "transaction_id", None) == small.id,
                 f"The receipt is for {getattr(receipt, 'transaction_id', None)!r}; expected the payment's "
                 f"transaction ID {small.id!r}.")
        timeout = history.find("NexusOperationScheduled")[1].fields.get("schedule_to_close_timeout")
        c.expect(timeout and timedelta(seconds=float(timeout.rstrip("s"))) >= timedelta(days=7),
                 f"checkTransaction is allowed {timeout or 'no schedule_to_close_timeout'}; an analyst may "
                 "take days: allow it 7 days (schedule_to_close_timeout=timedelta(days=7)).")

    blocked = learner_transaction(c, 300, BLOCKED_COUNTRY, label="blocked")
    async with c.test("2 · a failing fraud check (blocked card) declines the payment"):
        try:
            receipt = await c.run_caller(workflow_cls.run, blocked)
        except WorkflowFailureError as err:
            c.fail("The blocked card's fraud check failed (OperationError in the handler) and PaymentWorkflow failed "
                   f"with it ({type(err.cause).__name__}: {err.cause}). A failed operation is an answer: catch "
                   "NexusOperationError around checkTransaction and return a declined Receipt.")
        c.expect(getattr(receipt, "approved", None) is False and getattr(receipt, "quick_score", None) == 100,
                 f"Expected a declined receipt with quick_score 100; got {_receipt_text(receipt)}.")

    await _check_cancellation(c, workflow_cls)
    await _check_worker_restart(c, workflow_cls)


async def _check_cancellation(c: Check, workflow_cls: type[_PaymentWorkflow]) -> None:
    big = learner_transaction(c, 7_000, label="cancelled")
    async with c.test("3 · a cancelled payment ends Canceled, and so does the Fraud team's check"):
        handle = await c.start_caller(workflow_cls.run, big)
        await _wait_for_check_started(c, handle, "A 7 000 payment")
        await handle.raw.cancel()
        try:
            receipt = await c.result(handle)
        except WorkflowFailureError as err:
            c.expect(isinstance(err.cause, CancelledError),
                     f"The cancelled payment failed with {type(err.cause).__name__}: {err.cause}; expected it to "
                     "end Canceled (re-raise the NexusOperationError whose cause is a CancelledError).")
        else:
            c.fail(f"The cancelled payment completed with {_receipt_text(receipt)}. Cancelling the payment also "
                   "reaches checkTransaction as a NexusOperationError caused by CancelledError; your except block "
                   "turned it into an answer. Re-raise it when isinstance(err.__cause__, CancelledError).")

        async def fraud_check_cancelled() -> bool:
            return (await c.handler_history(f"fraud-check-{big.id}")).status == "CANCELED"
        if not await c.eventually(fraud_check_cancelled, within=3):
            status = (await c.handler_history(f"fraud-check-{big.id}")).status
            events = (await c.caller_history(handle.id)).nexus_event_types()
            await quiet(c.lab.terminate(f"fraud-check-{big.id}", namespace=HANDLER_NAMESPACE))
            c.fail(f"The payment ended, but the Fraud team's check workflow is {status}: the cancellation never "
                   f"reached it (the payment's history shows {events_text(events)}). Keep the default "
                   "cancellation type (WAIT_COMPLETED) for checkTransaction.")


async def _check_worker_restart(c: Check, workflow_cls: type[_PaymentWorkflow]) -> None:
    big = learner_transaction(c, 7_000, label="restart")
    async with c.test("4 · both workers restart mid-check, and the payment still completes"):
        handle = await c.start_caller(workflow_cls.run, big, timeout=8)
        await _wait_for_check_started(c, handle, "A 7 000 payment")
        await c.lab.stop_worker(namespace=HANDLER_NAMESPACE, task_queue=HANDLER_QUEUE)
        await c.lab.stop_worker(namespace=CALLER_NAMESPACE, task_queue=CALLER_QUEUE)
        # The analyst declines while no worker runs: the server keeps the signal in the history.
        await c.lab.client(HANDLER_NAMESPACE).get_workflow_handle(f"fraud-check-{big.id}").signal("review", False)
        await _start_workers(c, workflow_cls)
        receipt = await c.guard(c.result(handle))
        c.expect(getattr(receipt, "approved", None) is False and getattr(receipt, "quick_score", None) == 70,
                 "The analyst said no while the workers were down; expected a declined receipt with quick_score 70 "
                 f"after the restart, got {_receipt_text(receipt)}.")
