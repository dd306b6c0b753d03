"""Exercise ch07-cancel-type: withdraw a payment while its fraud check runs.

When the customer withdraws a payment, ``PaymentWorkflow`` cancels the running fraud check. How
long the caller waits is the operation's *cancellation type*, chosen at ``start_operation``:

* ``ABANDON``: do not tell the handler at all;
* ``TRY_CANCEL``: send the request and go on at once;
* ``WAIT_REQUESTED``: go on once the handler has *acknowledged* the request;
* ``WAIT_COMPLETED`` (the default): go on once the handler's workflow has ended.

Goal: Payments must be sure the Fraud team got the cancellation, but must not wait for the Fraud
team's clean-up (it can take a while). Pick the cancellation type that gives exactly that.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import NexusOperationError

with workflow.unsafe.imports_passed_through():
    from fraud_contract import ENDPOINT, FraudService, Transaction


@workflow.defn
class PaymentWorkflow:
    def __init__(self) -> None:
        self.withdrawn = False

    @workflow.signal
    def withdraw(self) -> None:
        self.withdrawn = True

    @workflow.run
    async def run(self, tx: Transaction) -> str:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=ENDPOINT)
        check = await fraud.start_operation(
            FraudService.check_transaction, tx,
            schedule_to_close_timeout=timedelta(minutes=10),
            # TODO: Pick the cancellation type (workflow.NexusOperationCancellationType....).
            cancellation_type=workflow.NexusOperationCancellationType.ABANDON,
        )
        await workflow.wait_condition(lambda: self.withdrawn)
        check.cancel()
        try:
            await check
        except NexusOperationError:
            return "withdrawn"
        return "checked before the withdrawal arrived"
