"""Exercise ch10-fail-fast: a payment that does not wait for a Fraud team that is not there.

In production the Fraud team's workers may be down (a deploy, an outage). The checkout must not hang
for the whole ``schedule_to_close_timeout`` meanwhile: ``schedule_to_start_timeout`` bounds how long
an operation may wait for a handler worker to pick it up, and the server enforces it. Write
``PaymentWorkflow.run`` so that it

1. asks for the quick score (``getQuickScore``) allowing 10 seconds in all, but only **2 seconds** to
   be picked up by a Fraud worker;
2. returns ``"score <n>"`` when the score arrives;
3. returns ``"manual review"`` when nobody picked the call up in time: a ``NexusOperationError``
   whose cause is a ``TimeoutError`` (``temporalio.exceptions.TimeoutError``);
4. lets every other failure (a bad request, a failed operation) fail the payment: those are not outages.

The check runs it with a Fraud worker, without one, and with a request the handler rejects.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import NexusOperationError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from fraud_contract import ENDPOINT, FraudService, Transaction


@workflow.defn
class PaymentWorkflow:
    @workflow.run
    async def run(self, tx: Transaction) -> str:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=ENDPOINT)
        # --- TODO: getQuickScore with schedule_to_close_timeout 10 s and schedule_to_start_timeout 2 s;
        #           "score <n>" on success, "manual review" on a timeout, re-raise anything else
        try:
            score = await fraud.execute_operation(FraudService.get_quick_score, tx,
                                                  schedule_to_close_timeout=timedelta(seconds=10),
                                                  schedule_to_start_timeout=timedelta(seconds=2))
        except NexusOperationError as err:
            if isinstance(err.__cause__, TimeoutError):
                return "manual review"
            raise
        return f"score {score.score}"
        # --- STARTER
        # score = await fraud.execute_operation(FraudService.get_quick_score, tx,
        #                                       schedule_to_close_timeout=timedelta(seconds=10))
        # return f"score {score.score}"
        # --- END
