"""Exercise ch09-capstone: the Payments team's whole side of the story.

The Fraud team runs ``fraud.v1`` behind the endpoint ``fraud-detection`` (the checker plays their
part). Write ``PaymentWorkflow.run`` so that it

1. asks for the quick score (``getQuickScore``, synchronous) and keeps it for the receipt;
2. runs the full check (``checkTransaction``, asynchronous): an analyst may take days, so allow the
   operation a week (``schedule_to_close_timeout``);
3. treats a fraud check that *fails* (a blocked card: ``OperationError`` in the handler) as an answer:
   it returns a declined ``Receipt`` instead of failing the payment;
4. ends *cancelled* when the payment itself is cancelled, so the Fraud team's check is cancelled
   too: that cancellation also arrives as ``NexusOperationError``, and it must not become "declined".

The checker also stops both teams' workers in the middle of a check and starts them again: the
payment must still complete, from its history alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import CancelledError, NexusOperationError

with workflow.unsafe.imports_passed_through():
    from fraud_contract import ENDPOINT, FraudService, Transaction


@dataclass
class Receipt:
    transaction_id: str
    approved: bool
    quick_score: int
    reason: str


@workflow.defn
class PaymentWorkflow:
    @workflow.run
    async def run(self, tx: Transaction) -> Receipt:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=ENDPOINT)
        # --- TODO: 1. score = await fraud.execute_operation(FraudService.get_quick_score, tx, ...)
        #           2. verdict = the result of FraudService.check_transaction, allowed 7 days
        #           3. a failed check (NexusOperationError) → Receipt(tx.id, False, score, reason)
        #           4. ...unless its cause is a CancelledError: then re-raise it
        score = await fraud.execute_operation(FraudService.get_quick_score, tx,
                                              schedule_to_close_timeout=timedelta(seconds=10))
        try:
            verdict = await fraud.execute_operation(FraudService.check_transaction, tx,
                                                    schedule_to_close_timeout=timedelta(days=7))
        except NexusOperationError as err:
            if isinstance(err.__cause__, CancelledError):
                raise
            return Receipt(tx.id, False, score.score, f"fraud check failed: {err.__cause__}")
        return Receipt(tx.id, verdict.approved, score.score, verdict.reason)
        # --- STARTER
        # return Receipt(tx.id, False, 0, "not checked")
        # --- END
