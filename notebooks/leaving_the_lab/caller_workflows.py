"""The Payments team's workflow: it knows the contract and the endpoint's name, nothing else of Fraud."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from fraud_v1 import ENDPOINT, FraudService, Transaction


@workflow.defn
class PaymentWorkflow:
    @workflow.run
    async def run(self, tx: Transaction) -> str:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=ENDPOINT)
        score = await fraud.execute_operation(FraudService.get_quick_score, tx,
                                              schedule_to_close_timeout=timedelta(seconds=10))
        verdict = await fraud.execute_operation(FraudService.check_transaction, tx,
                                                schedule_to_close_timeout=timedelta(seconds=10))
        return f"{tx.id}: score {score.score}, approved={verdict.approved} ({verdict.reason})"
