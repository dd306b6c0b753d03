"""The checks' own Fraud and Payments code: a reference handler for checking callers, and a
probe caller for checking handlers.

The checker's own workflows run without the sandbox (``sandboxed=False``): they are deterministic by
construction, and re-importing this module into a sandbox per check costs more CPU than the check.

Its types and rules are the one story's (``nexus_lab.story``: the contract, REVIEW_THRESHOLD,
AMOUNT_LIMIT, quick_score, FraudCheckWorkflow); only the wire matters between the two sides, and the
learner's ``fraud_contract`` is a generated copy of the same contract, so the checker never imports it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeAlias

import nexusrpc
import nexusrpc.handler
from temporalio import nexus, workflow
from temporalio.exceptions import ApplicationError, NexusOperationError

with workflow.unsafe.imports_passed_through():
    from nexus_lab.story.fraud_team import FraudCheckWorkflow, quick_score
    from nexus_lab.story.fraud_v1 import (
        AMOUNT_LIMIT,
        REVIEW_THRESHOLD,
        FraudService,
        QuickScore,
        Transaction,
        Verdict,
    )

# The one story (nexus_lab.story), under the names the chapter checks use.
SERVICE = "fraud.v1"
Tx: TypeAlias = Transaction
Score: TypeAlias = QuickScore
RefFraudService: TypeAlias = FraudService
RefFraudCheckWorkflow: TypeAlias = FraudCheckWorkflow
__all__ = ["AMOUNT_LIMIT", "REVIEW_THRESHOLD", "Verdict"]  # re-exported for the chapter checks


def reference_score(amount: int, country: str) -> int:
    """The story's quick score (chapter 3) of an amount and country."""
    return quick_score(Transaction("", amount, country))


@nexusrpc.handler.service_handler(service=FraudService)
class RefFraudHandler:
    """The Fraud team's side as the course teaches it, errors included (chapter 6)."""

    @nexus.workflow_run_operation
    async def check_transaction(self, ctx: nexus.WorkflowRunOperationContext,
                                tx: Transaction) -> nexus.WorkflowHandle[Verdict]:
        return await ctx.start_workflow(FraudCheckWorkflow.run, tx, id=f"fraud-check-{tx.id}")

    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> QuickScore:
        if tx.amount <= 0:
            raise nexusrpc.HandlerError("amount must be positive", type=nexusrpc.HandlerErrorType.BAD_REQUEST)
        if tx.amount > AMOUNT_LIMIT:
            raise nexusrpc.OperationError("amount over the limit", state=nexusrpc.OperationErrorState.FAILED)
        if tx.country == "ZZ":
            raise nexusrpc.HandlerError("issuer not supported", type=nexusrpc.HandlerErrorType.NOT_IMPLEMENTED)
        return QuickScore(tx.id, reference_score(tx.amount, tx.country))


# --- the probe caller ------------------------------------------------------------------------------
@dataclass
class Call:
    operation: str
    input: Any
    service: str = SERVICE
    endpoint: str = "fraud-detection"
    timeout_s: float = 10.0


@dataclass
class Outcome:
    result: Any = None
    errors: list[dict] = field(default_factory=list)  # the NexusOperationError's cause chain, outermost first
    operation_token: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def cause(self) -> dict:
        return self.errors[1] if len(self.errors) > 1 else {}

    def describe(self) -> str:
        if self.ok:
            return f"the result {self.result!r}"
        return "NexusOperationError ← " + " ← ".join(e["text"] for e in self.errors[1:]) if len(self.errors) > 1 \
            else self.errors[0]["text"]


def error_chain(err: BaseException | None) -> list[dict]:
    """An exception and its causes as plain data (it crosses the workflow boundary as JSON)."""
    chain = []
    while err is not None:
        entry: dict[str, Any] = {"class": type(err).__name__, "message": str(getattr(err, "message", err))}
        if isinstance(err, nexusrpc.HandlerError):
            entry.update(type=err.type.name, retryable=err.retryable)
            entry["text"] = f"HandlerError({err.type.name}): {entry['message']}"
        elif isinstance(err, ApplicationError):
            entry.update(type=err.type or "", non_retryable=err.non_retryable)
            entry["text"] = f"ApplicationError(type={err.type!r}): {entry['message']}"
        else:
            entry["text"] = f"{entry['class']}: {entry['message']}"
        chain.append(entry)
        err = err.__cause__
    return chain


@workflow.defn(name="NexusLabProbeCaller", sandboxed=False)
class ProbeCaller:
    """Calls one operation by name and reports the result or the error chain the caller saw."""

    @workflow.run
    async def run(self, call: Call) -> Outcome:
        return await _call(call)


async def _call(call: Call) -> Outcome:
    client = workflow.create_nexus_client(service=call.service, endpoint=call.endpoint)
    try:
        handle: workflow.NexusOperationHandle[Any] = await client.start_operation(
            call.operation, call.input, schedule_to_close_timeout=timedelta(seconds=call.timeout_s))
        result = await handle
        return Outcome(result=result, operation_token=handle.operation_token)
    except NexusOperationError as err:
        return Outcome(errors=error_chain(err))


@workflow.defn(name="NexusLabProbeBatch", sandboxed=False)
class ProbeBatch:
    """Several calls at once from one Payments workflow: one workflow start for a whole table of
    inputs keeps a check fast."""

    @workflow.run
    async def run(self, calls: list[Call]) -> list[Outcome]:
        return list(await asyncio.gather(*(_call(call) for call in calls)))


async def probe_many(c: Any, calls: list[Call], *, timeout: float = 5.0, id: str | None = None) -> list[Outcome]:
    """Run ``calls`` at once from one workflow (``ProbeBatch`` must be among the caller workflows)."""
    return await c.run_caller(ProbeBatch.run, calls, timeout=timeout, id=id)


async def probe(c: Any, operation: str, payload: Any, *, timeout: float = 5.0, op_timeout: float = 10.0,
                id: str | None = None) -> Outcome:
    """Call ``operation`` of ``fraud.v1`` through the endpoint from a Payments workflow."""
    call = Call(operation, payload, timeout_s=op_timeout)
    return await c.run_caller(ProbeCaller.run, call, timeout=timeout, id=id)


def tx(c: Any, amount: int, country: str = "DE", label: str = "T") -> dict:
    """A transaction with an ID unique to this run, as plain JSON."""
    return {"id": c.unique(label), "amount": amount, "country": country}


def learner_transaction(c: Any, amount: int, country: str = "DE", label: str = "T") -> Transaction:
    """A transaction for the learner's caller: the story's type, which is the learner's
    ``fraud_contract.Transaction`` on the wire (the checker never imports the learner's modules)."""
    return Transaction(c.unique(label), amount, country)


async def caller_saw_start(c: Any, workflow_id: str, within: float = 3.0) -> bool:
    """Whether the caller's code has seen its operation start (safe to cancel it "mid-operation")."""
    async def probe():
        return (await c.caller_history(workflow_id)).workflow_saw("NexusOperationStarted")
    return await c.eventually(probe, within=within)


def events_text(events: list[str]) -> str:
    return " → ".join(events) if events else "(no Nexus events)"


async def quiet(awaitable: Any, seconds: float = 2.0) -> Any:
    """Best-effort clean-up that must never fail a check."""
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except Exception:
        return None


# --- cancellation ----------------------------------------------------------------------------------
CLEANUP_S = 0.6


@workflow.defn(name="SlowCleanupFraudCheck")
class RefSlowCleanupWorkflow:
    """Waits for a review; when cancelled, its clean-up takes CLEANUP_S before it ends Canceled."""

    @workflow.run
    async def run(self, tx: Transaction) -> Verdict:
        try:
            await workflow.wait_condition(lambda: False)
        except asyncio.CancelledError:
            await workflow.sleep(CLEANUP_S)
            raise
        return Verdict(tx.id, False, "unreachable")


@nexusrpc.handler.service_handler(service=FraudService)
class RefSlowCleanupHandler:
    @nexus.workflow_run_operation
    async def check_transaction(self, ctx: nexus.WorkflowRunOperationContext,
                                tx: Transaction) -> nexus.WorkflowHandle[Verdict]:
        return await ctx.start_workflow(RefSlowCleanupWorkflow.run, tx, id=f"fraud-check-{tx.id}")

    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> QuickScore:
        return QuickScore(tx.id, reference_score(tx.amount, tx.country))


@workflow.defn(name="NexusLabWithdrawingCaller", sandboxed=False)
class WithdrawingCaller:
    """Starts checkTransaction, and cancels it (WAIT_COMPLETED) when the ``withdraw`` signal comes."""

    def __init__(self) -> None:
        self.withdrawn = False

    @workflow.signal
    def withdraw(self) -> None:
        self.withdrawn = True

    @workflow.run
    async def run(self, tx: Transaction) -> str:
        client = workflow.create_nexus_client(service=SERVICE, endpoint="fraud-detection")
        handle: workflow.NexusOperationHandle[Any] = await client.start_operation(
            "checkTransaction", tx, schedule_to_close_timeout=timedelta(minutes=1))
        await workflow.wait_condition(lambda: self.withdrawn)
        handle.cancel()
        try:
            await handle
        except NexusOperationError:
            return "withdrawn"
        return "completed"
