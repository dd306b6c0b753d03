"""The Payments team tests its caller against a fake fraud.v1 handler: no Fraud code, no Fraud team."""

from __future__ import annotations

from datetime import timedelta

import nexusrpc
import nexusrpc.handler
import pytest
from fraud_v1 import FraudService, QuickScore, Transaction, Verdict
from temporalio import workflow
from temporalio.exceptions import NexusOperationError
from temporalio.worker import Worker

pytestmark = pytest.mark.anyio


@workflow.defn
class PaymentWorkflow:
    """The code under test: declines when the fraud check fails, instead of failing the payment."""

    @workflow.run
    async def run(self, endpoint: str, tx: Transaction) -> str:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=endpoint)
        try:
            verdict = await fraud.execute_operation(FraudService.check_transaction, tx,
                                                    schedule_to_close_timeout=timedelta(seconds=10))
        except NexusOperationError:
            return "declined: fraud check failed"
        return "paid" if verdict.approved else f"declined: {verdict.reason}"


def fake_fraud(verdict: Verdict | None):
    """A fraud.v1 handler that answers ``verdict`` at once, or fails the operation when it is None."""

    @nexusrpc.handler.service_handler(service=FraudService)
    class FakeFraud:
        @nexusrpc.handler.sync_operation
        async def check_transaction(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> Verdict:
            if verdict is None:
                raise nexusrpc.OperationError("card blocked", state=nexusrpc.OperationErrorState.FAILED)
            return verdict

        @nexusrpc.handler.sync_operation
        async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> QuickScore:
            raise nexusrpc.HandlerError("not used by this test", type=nexusrpc.HandlerErrorType.NOT_IMPLEMENTED)

    return FakeFraud()


@pytest.mark.parametrize("verdict, expected", [
    (Verdict("T3", True, "ok"), "paid"),
    (Verdict("T3", False, "too risky"), "declined: too risky"),
    (None, "declined: fraud check failed"),
])
async def test_payment_follows_the_fraud_answer(env, endpoint, verdict, expected):
    async with Worker(env.client, task_queue=endpoint, workflows=[PaymentWorkflow],
                      nexus_service_handlers=[fake_fraud(verdict)]):
        outcome = await env.client.execute_workflow(PaymentWorkflow.run, args=[endpoint, Transaction("T3", 7_000)],
                                                    id=f"pay-{endpoint}", task_queue=endpoint)
    assert outcome == expected
