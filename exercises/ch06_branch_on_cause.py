"""Exercise ch06-branch-on-cause: the caller decides by the *cause* of a failed operation.

Every failed Nexus operation reaches the caller workflow as ``NexusOperationError``; what went
wrong is its ``__cause__``:

* ``nexusrpc.HandlerError`` with ``type == HandlerErrorType.BAD_REQUEST``: the payment data is
  invalid → return ``"rejected"``;
* ``temporalio.exceptions.ApplicationError``: the handler's ``OperationError`` (a business rule
  said no) → return ``"declined"``;
* anything else is unexpected → re-raise it, so the payment workflow fails and somebody looks.

Goal: implement the branches. A score below 50 means ``"approved"``, otherwise ``"review"``.
"""

from __future__ import annotations

from datetime import timedelta

import nexusrpc
from temporalio import workflow
from temporalio.exceptions import ApplicationError, NexusOperationError

with workflow.unsafe.imports_passed_through():
    from fraud_contract import ENDPOINT, FraudService, Transaction


@workflow.defn
class PaymentWorkflow:
    @workflow.run
    async def run(self, tx: Transaction) -> str:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=ENDPOINT)
        try:
            score = await fraud.execute_operation(FraudService.get_quick_score, tx,
                                                  schedule_to_close_timeout=timedelta(seconds=10))
        except NexusOperationError as err:
            cause = err.__cause__
            # TODO: Branch on cause: BAD_REQUEST HandlerError → "rejected"; ApplicationError → "declined";
            #       anything else → raise
            return "declined"
        return "approved" if score.score < 50 else "review"
