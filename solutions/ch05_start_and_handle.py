"""Exercise ch05-start-and-handle: start an operation, do other work, then collect its result.

A fraud check for a large amount waits for an analyst. Meanwhile Payments wants the quick score
to show the customer something. ``execute_operation`` waits for the result; ``start_operation``
returns a handle as soon as the operation has *started* (for a workflow-run operation: once the
server has recorded ``NexusOperationStarted``), and ``await handle`` gives the result later.

Goal: start ``checkTransaction``; while it runs, execute ``getQuickScore``; then await the
verdict. Return a ``PaymentDecision`` with the score, the verdict and the check's operation token
(``handle.operation_token``). Give both calls a schedule_to_close_timeout (the check: 10 minutes,
the score: 10 seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from fraud_contract import ENDPOINT, FraudService, Transaction


@dataclass
class PaymentDecision:
    quick_score: int
    approved: bool
    fraud_check_token: str


@workflow.defn
class PaymentWorkflow:
    @workflow.run
    async def run(self, tx: Transaction) -> PaymentDecision:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=ENDPOINT)
        # --- TODO: Start checkTransaction with fraud.start_operation(...) (a handle, not the verdict),
        #           then execute getQuickScore, then await the handle for the verdict.
        check = await fraud.start_operation(FraudService.check_transaction, tx,
                                            schedule_to_close_timeout=timedelta(minutes=10))
        score = await fraud.execute_operation(FraudService.get_quick_score, tx,
                                              schedule_to_close_timeout=timedelta(seconds=10))
        verdict = await check
        return PaymentDecision(score.score, verdict.approved, check.operation_token or "")
        # --- STARTER
        # verdict = await fraud.execute_operation(FraudService.check_transaction, tx,
        #                                         schedule_to_close_timeout=timedelta(minutes=10))
        # score = await fraud.execute_operation(FraudService.get_quick_score, tx,
        #                                       schedule_to_close_timeout=timedelta(seconds=10))
        # return PaymentDecision(score.score, verdict.approved, "")
        # --- END
