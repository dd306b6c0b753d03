"""Exercise ch05-execute-with-timeout: the Payments workflow calls the Fraud team.

Goal: in ``PaymentWorkflow``, call ``checkTransaction`` through the endpoint ``fraud-detection``
and wait for its verdict, allowing the whole operation at most 10 seconds
(``schedule_to_close_timeout``). Return ``"approved"`` or ``"declined"``.

Without a timeout, a caller waits as long as the handler takes; with one, the caller's history
records it on ``NexusOperationScheduled`` and the operation ends ``TimedOut`` when it runs out.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from fraud_contract import ENDPOINT, FraudService, Transaction, Verdict


@workflow.defn
class PaymentWorkflow:
    @workflow.run
    async def run(self, tx: Transaction) -> str:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=ENDPOINT)
        # TODO: Call FraudService.check_transaction with tx and wait for the Verdict, with a
        #       schedule_to_close_timeout of 10 seconds (fraud.execute_operation(...)).
        verdict = Verdict(tx.id, False, "not checked")
        return "approved" if verdict.approved else "declined"
