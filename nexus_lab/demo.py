"""The course's running story in one small module: Payments calls Fraud's ``fraud.v1`` service.

Used by ``nexus-lab demo`` and ``nexus-lab bench``. The chapters build the same story step by step
(and split contract, handler and caller the way real teams do).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import nexusrpc
import nexusrpc.handler
from temporalio import nexus, workflow
from temporalio.common import WorkflowIDConflictPolicy

ENDPOINT = "fraud-detection"
CALLER_NAMESPACE, HANDLER_NAMESPACE = "payments", "fraud"
CALLER_QUEUE, HANDLER_QUEUE = "payments-tq", "fraud-tq"


@dataclass
class Payment:
    id: str
    amount: int


@dataclass
class Verdict:
    payment_id: str
    approved: bool


@dataclass
class PaymentRequest:
    payment: Payment
    endpoint: str = ENDPOINT


# --- contract: what the Fraud team publishes ------------------------------------------------
@nexusrpc.service(name="fraud.v1")
class FraudService:
    check_transaction: nexusrpc.Operation[Payment, Verdict] = nexusrpc.Operation(name="checkTransaction")
    get_quick_score: nexusrpc.Operation[Payment, int] = nexusrpc.Operation(name="getQuickScore")


# --- handler: the Fraud team's implementation -------------------------------------------------
@workflow.defn
class FraudCheckWorkflow:
    @workflow.run
    async def run(self, payment: Payment) -> Verdict:
        return Verdict(payment.id, approved=payment.amount < 1000)


@nexusrpc.handler.service_handler(service=FraudService)
class FraudServiceHandler:
    @nexus.workflow_run_operation
    async def check_transaction(self, ctx: nexus.WorkflowRunOperationContext,
                                payment: Payment) -> nexus.WorkflowHandle[Verdict]:
        # The payment ID is the business ID: a retried request attaches to the same check.
        return await ctx.start_workflow(FraudCheckWorkflow.run, payment, id=f"fraud-check-{payment.id}")

    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, payment: Payment) -> int:
        return min(100, payment.amount // 10)


# --- caller: the Payments team's workflows ----------------------------------------------------
def _fraud_client(endpoint: str) -> workflow.NexusClient[FraudService]:
    return workflow.create_nexus_client(service=FraudService, endpoint=endpoint)


@workflow.defn
class PaymentWorkflow:
    @workflow.run
    async def run(self, request: PaymentRequest) -> str:
        fraud = _fraud_client(request.endpoint)
        timeout = timedelta(seconds=30)
        score = await fraud.execute_operation(FraudService.get_quick_score, request.payment,
                                              schedule_to_close_timeout=timeout)
        verdict = await fraud.execute_operation(FraudService.check_transaction, request.payment,
                                                schedule_to_close_timeout=timeout)
        outcome = "approved" if verdict.approved else "declined"
        return f"payment {request.payment.id}: quick score {score}, {outcome}"


@workflow.defn
class QuickScoreWorkflow:
    """One sync operation and nothing else (a benchmark unit)."""

    @workflow.run
    async def run(self, request: PaymentRequest) -> int:
        return await _fraud_client(request.endpoint).execute_operation(
            FraudService.get_quick_score, request.payment, schedule_to_close_timeout=timedelta(seconds=30))


@workflow.defn
class CheckTransactionWorkflow:
    """One async (workflow-run) operation and nothing else (a benchmark unit)."""

    @workflow.run
    async def run(self, request: PaymentRequest) -> Verdict:
        return await _fraud_client(request.endpoint).execute_operation(
            FraudService.check_transaction, request.payment, schedule_to_close_timeout=timedelta(seconds=30))


CALLER_WORKFLOWS = [PaymentWorkflow, QuickScoreWorkflow, CheckTransactionWorkflow]


async def set_up(lab) -> None:
    """Namespaces, endpoint and both teams' workers: the five lines every chapter starts from."""
    await lab.namespace(CALLER_NAMESPACE)
    await lab.namespace(HANDLER_NAMESPACE)
    await lab.endpoint(ENDPOINT, namespace=HANDLER_NAMESPACE, task_queue=HANDLER_QUEUE,
                       description="Fraud team's fraud.v1 service")
    await lab.worker(namespace=HANDLER_NAMESPACE, task_queue=HANDLER_QUEUE,
                     workflows=[FraudCheckWorkflow], nexus_services=[FraudServiceHandler()])
    await lab.worker(namespace=CALLER_NAMESPACE, task_queue=CALLER_QUEUE, workflows=CALLER_WORKFLOWS)


async def run_demo(port: int | None = None) -> str:
    """Start a lab, run one payment through Fraud's service, print both histories, stop."""
    import nexus_lab

    lab = await nexus_lab.start(port) if port else await nexus_lab.start()
    try:
        print(lab.summary())
        await set_up(lab)
        result = await lab.execute(PaymentWorkflow.run, PaymentRequest(Payment("demo-1", 120)),
                                   namespace=CALLER_NAMESPACE, task_queue=CALLER_QUEUE, id="payment-demo-1",
                                   id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING)
        print(f"\nResult: {result}\n")
        caller = await lab.history("payment-demo-1", namespace=CALLER_NAMESPACE)
        print(caller, end="\n\n")
        for handler in await lab.follow(caller):
            print(handler, end="\n\n")
        return result
    finally:
        await lab.stop()
