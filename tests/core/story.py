"""The Payments → Fraud story in its smallest form, for the core tests.

Contract, handler and caller in one module here (the course splits them); the caller takes the
endpoint name and what to call as input, so each test can route through endpoints of its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import nexusrpc
import nexusrpc.handler
from temporalio import nexus, workflow

from nexus_lab.story.fraud_team import FraudCheckWorkflow  # the course's one story
from nexus_lab.story.fraud_v1 import Transaction, Verdict


@dataclass
class Call:
    endpoint: str
    operation: str  # "score", "check", "reject", "outage", "slow"
    payment: Transaction
    timeout_s: float = 10.0


@nexusrpc.service(name="fraud.v1")
class FraudService:
    get_quick_score: nexusrpc.Operation[Transaction, int] = nexusrpc.Operation(name="getQuickScore")
    check_transaction: nexusrpc.Operation[Transaction, Verdict] = nexusrpc.Operation(name="checkTransaction")
    reject: nexusrpc.Operation[Transaction, int] = nexusrpc.Operation(name="reject")
    outage: nexusrpc.Operation[Transaction, int] = nexusrpc.Operation(name="outage")
    slow: nexusrpc.Operation[Transaction, Verdict] = nexusrpc.Operation(name="slowCheck")


@workflow.defn
class SlowFraudCheckWorkflow:
    @workflow.run
    async def run(self, payment: Transaction) -> Verdict:
        await workflow.sleep(timedelta(hours=1))
        return Verdict(payment.id, True, "slow check")


@nexusrpc.handler.service_handler(service=FraudService)
class FraudServiceHandler:
    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, payment: Transaction) -> int:
        return payment.amount // 10

    @nexus.workflow_run_operation
    async def check_transaction(self, ctx: nexus.WorkflowRunOperationContext,
                                payment: Transaction) -> nexus.WorkflowHandle[Verdict]:
        return await ctx.start_workflow(FraudCheckWorkflow.run, payment, id=f"fraud-check-{payment.id}")

    @nexusrpc.handler.sync_operation
    async def reject(self, ctx: nexusrpc.handler.StartOperationContext, payment: Transaction) -> int:
        raise nexusrpc.HandlerError("amount must be positive", type=nexusrpc.HandlerErrorType.BAD_REQUEST)

    @nexusrpc.handler.sync_operation
    async def outage(self, ctx: nexusrpc.handler.StartOperationContext, payment: Transaction) -> int:
        raise nexusrpc.HandlerError("fraud model offline", type=nexusrpc.HandlerErrorType.UNAVAILABLE)

    @nexus.workflow_run_operation
    async def slow(self, ctx: nexus.WorkflowRunOperationContext, payment: Transaction) -> nexus.WorkflowHandle[Verdict]:
        return await ctx.start_workflow(SlowFraudCheckWorkflow.run, payment, id=f"slow-check-{payment.id}")


@workflow.defn
class PaymentWorkflow:
    @workflow.run
    async def run(self, call: Call) -> str:
        client = workflow.create_nexus_client(service=FraudService, endpoint=call.endpoint)
        operation = {
            "score": FraudService.get_quick_score, "check": FraudService.check_transaction,
            "reject": FraudService.reject, "outage": FraudService.outage, "slow": FraudService.slow,
        }[call.operation]
        result = await client.execute_operation(operation, call.payment,
                                                schedule_to_close_timeout=timedelta(seconds=call.timeout_s))
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
