"""The Payments → Fraud story for the core tests: the course's one story plus test-only operations.

The ``fraud.v1`` contract, its types and the Fraud team's handler come from :mod:`nexus_lab.story`
unchanged. What the course never teaches as the happy path lives in a second service here,
``fraud.testing``, served beside it on the same endpoint: a rejected request, an outage, a check
that never ends, and signal- and update-backed operations. The caller takes the endpoint name and
what to call as input, so each test can route through endpoints of its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import nexusrpc
import nexusrpc.handler
from temporalio import nexus, workflow
from temporalio.client import WorkflowUpdateStage
from temporalio.exceptions import ApplicationError

from nexus_lab.story.fraud_team import FraudCheckWorkflow, FraudServiceHandler
from nexus_lab.story.fraud_v1 import FraudService, QuickScore, Transaction, Verdict

__all__ = ["FraudCheckWorkflow", "FraudService", "FraudServiceHandler", "QuickScore", "Transaction", "Verdict"]


@dataclass
class Call:
    endpoint: str
    operation: str  # fraud.v1: "score", "check"; fraud.testing: "reject", "outage", "slow", "review", "escalate"
    payment: Transaction
    timeout_s: float = 10.0
    cancellation: str = ""  # a workflow.NexusOperationCancellationType name; "" for the default


@dataclass
class Review:
    transaction_id: str
    approved: bool


@nexusrpc.service(name="fraud.testing")
class FaultService:
    reject: nexusrpc.Operation[Transaction, int] = nexusrpc.Operation(name="reject")
    outage: nexusrpc.Operation[Transaction, int] = nexusrpc.Operation(name="outage")
    slow: nexusrpc.Operation[Transaction, Verdict] = nexusrpc.Operation(name="slowCheck")
    review: nexusrpc.Operation[Review, str] = nexusrpc.Operation(name="review")
    escalate: nexusrpc.Operation[Transaction, str] = nexusrpc.Operation(name="escalate")
    broken: nexusrpc.Operation[Transaction, Verdict] = nexusrpc.Operation(name="brokenCheck")
    decline: nexusrpc.Operation[Transaction, Verdict] = nexusrpc.Operation(name="declineCheck")
    deny: nexusrpc.Operation[Transaction, int] = nexusrpc.Operation(name="deny")


@workflow.defn
class SlowFraudCheckWorkflow:
    @workflow.run
    async def run(self, payment: Transaction) -> Verdict:
        await workflow.sleep(timedelta(hours=1))
        return Verdict(payment.id, True, "slow check")


@workflow.defn
class BrokenFraudCheckWorkflow:
    """A handler workflow with a bug: its workflow task fails (and the server retries it forever)."""

    @workflow.run
    async def run(self, payment: Transaction) -> Verdict:
        raise ValueError(f"no risk model for {payment.country}")


@workflow.defn
class DecliningCheckWorkflow:
    """A handler workflow that fails: the caller's operation ends NexusOperationFailed."""

    @workflow.run
    async def run(self, payment: Transaction) -> Verdict:
        raise ApplicationError(f"card reported stolen in {payment.country}", type="CardStolen", non_retryable=True)


@workflow.defn
class AnalystDeskWorkflow:
    """A long-running desk that takes escalations by update (the handler of ``escalate``)."""

    def __init__(self) -> None:
        self.cases: list[str] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.update
    async def escalate(self, payment: Transaction) -> str:
        await workflow.sleep(timedelta(milliseconds=200))  # async: the operation starts, then completes
        self.cases.append(payment.id)
        return f"case {len(self.cases)}: {payment.id} ✓ مراجعة"


@nexusrpc.handler.service_handler(service=FaultService)
class FaultServiceHandler:
    @nexusrpc.handler.sync_operation
    async def reject(self, ctx: nexusrpc.handler.StartOperationContext, payment: Transaction) -> int:
        raise nexusrpc.HandlerError("amount must be positive", type=nexusrpc.HandlerErrorType.BAD_REQUEST)

    @nexusrpc.handler.sync_operation
    async def outage(self, ctx: nexusrpc.handler.StartOperationContext, payment: Transaction) -> int:
        raise nexusrpc.HandlerError("fraud model offline", type=nexusrpc.HandlerErrorType.UNAVAILABLE)

    @nexus.workflow_run_operation
    async def slow(self, ctx: nexus.WorkflowRunOperationContext, payment: Transaction) -> nexus.WorkflowHandle[Verdict]:
        return await ctx.start_workflow(SlowFraudCheckWorkflow.run, payment, id=f"slow-check-{payment.id}")

    @nexus.workflow_run_operation
    async def broken(self, ctx: nexus.WorkflowRunOperationContext,
                     payment: Transaction) -> nexus.WorkflowHandle[Verdict]:
        return await ctx.start_workflow(BrokenFraudCheckWorkflow.run, payment, id=f"broken-check-{payment.id}")

    @nexus.workflow_run_operation
    async def decline(self, ctx: nexus.WorkflowRunOperationContext,
                      payment: Transaction) -> nexus.WorkflowHandle[Verdict]:
        return await ctx.start_workflow(DecliningCheckWorkflow.run, payment, id=f"declining-check-{payment.id}")

    @nexusrpc.handler.sync_operation
    async def deny(self, ctx: nexusrpc.handler.StartOperationContext, payment: Transaction) -> int:
        raise nexusrpc.OperationError(f"{payment.country} is not served", state=nexusrpc.OperationErrorState.FAILED)

    @nexusrpc.handler.sync_operation
    async def review(self, ctx: nexusrpc.handler.StartOperationContext, review: Review) -> str:
        """Signal-backed: an analyst's decision reaches the waiting FraudCheckWorkflow."""
        handle = nexus.client().get_workflow_handle(f"fraud-check-{review.transaction_id}")
        await handle.signal(FraudCheckWorkflow.review, review.approved)
        return "reviewed"

    @nexus.temporal_operation
    async def escalate(self, ctx: nexus.TemporalStartOperationContext, client: nexus.TemporalNexusClient,
                       payment: Transaction) -> nexus.TemporalOperationResult[str]:
        """Update-backed: the case lands on the analyst desk workflow (``desk-<transaction id>``)."""
        return await client.start_workflow_update(f"desk-{payment.id}", AnalystDeskWorkflow.escalate, payment,
                                                  wait_for_stage=WorkflowUpdateStage.ACCEPTED)


_OPERATIONS = {
    "score": (FraudService, FraudService.get_quick_score), "check": (FraudService, FraudService.check_transaction),
    "reject": (FaultService, FaultService.reject), "outage": (FaultService, FaultService.outage),
    "slow": (FaultService, FaultService.slow), "escalate": (FaultService, FaultService.escalate),
    "broken": (FaultService, FaultService.broken),
    "decline": (FaultService, FaultService.decline), "deny": (FaultService, FaultService.deny),
}


@workflow.defn
class PaymentWorkflow:
    @workflow.run
    async def run(self, call: Call) -> str:
        timeout = timedelta(seconds=call.timeout_s)
        if call.operation == "review":
            client = workflow.create_nexus_client(service=FaultService, endpoint=call.endpoint)
            result: object = await client.execute_operation(
                FaultService.review, Review(call.payment.id, True), schedule_to_close_timeout=timeout)
            return f"{call.payment.id}: {result}"
        service, operation = _OPERATIONS[call.operation]
        client = workflow.create_nexus_client(service=service, endpoint=call.endpoint)
        options = {}
        if call.cancellation:
            options["cancellation_type"] = workflow.NexusOperationCancellationType[call.cancellation]
        result = await client.execute_operation(operation, call.payment, schedule_to_close_timeout=timeout, **options)
        return f"{call.payment.id}: {result}"


@workflow.defn(name="PaymentWorkflow")
class PaymentWorkflowRedefined:
    """Stands for PaymentWorkflow after a learner ran its cell again: same name, new class object."""

    @workflow.run
    async def run(self, call: Call) -> str:
        raise NotImplementedError("only its identity matters")


@workflow.defn
class ClockReadingWorkflow:
    """Breaks the sandbox's rules on purpose: workflow code must not read the wall clock."""

    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()


@workflow.defn(name="ChangingWorkflow")
class ChangingWorkflowV1:
    """With V2 below, the classic nondeterminism mistake: code changed under a running execution."""

    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(timedelta(hours=1))
        await workflow.wait_condition(lambda: self.go)
        return "v1"

    @workflow.signal
    def proceed(self) -> None:
        self.go = True


@workflow.defn(name="ChangingWorkflow")
class ChangingWorkflowV2:
    """V1 without its timer: replaying V1's history (which has TimerStarted) cannot match."""

    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.go)
        return "v2"

    @workflow.signal
    def proceed(self) -> None:
        self.go = True


@workflow.defn
class WaitForeverWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


@workflow.defn
class TypedInputWorkflow:
    @workflow.run
    async def run(self, payment: Transaction) -> int:
        return payment.amount


async def never_returns() -> None:  # used to prove interrupts end a lab wait
    await asyncio.Event().wait()
