"""Exercise ch08-predict-events: predict the caller's Nexus events before you look.

Below are four small Payments workflows (given; do not change them). For each, predict the
Nexus events its history will hold, in order, leaving out workflow-task events. Write the event
type names, e.g. ``"NexusOperationScheduled"`` (the short form ``"Scheduled"`` works too).

The check runs every scenario on the real server against the Fraud team's worker (small amounts
pass at once, amounts <= 0 are refused with HandlerError BAD_REQUEST, large ones wait for an
analyst) and compares your prediction with the real history.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import NexusOperationError

with workflow.unsafe.imports_passed_through():
    from fraud_contract import ENDPOINT, FraudService, Transaction

TIMEOUT = timedelta(seconds=10)


@workflow.defn
class ScenarioA:
    """A: the quick score of a small payment."""

    @workflow.run
    async def run(self, tx: Transaction) -> int:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=ENDPOINT)
        score = await fraud.execute_operation(FraudService.get_quick_score, Transaction(tx.id, 100),
                                              schedule_to_close_timeout=TIMEOUT)
        return score.score


@workflow.defn
class ScenarioB:
    """B: the fraud check of a small payment (a workflow-run operation)."""

    @workflow.run
    async def run(self, tx: Transaction) -> bool:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=ENDPOINT)
        verdict = await fraud.execute_operation(FraudService.check_transaction, Transaction(tx.id, 100),
                                                schedule_to_close_timeout=TIMEOUT)
        return verdict.approved


@workflow.defn
class ScenarioC:
    """C: a quick score for an invalid amount, caught by the caller."""

    @workflow.run
    async def run(self, tx: Transaction) -> str:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=ENDPOINT)
        try:
            await fraud.execute_operation(FraudService.get_quick_score, Transaction(tx.id, -1),
                                          schedule_to_close_timeout=TIMEOUT)
        except NexusOperationError:
            return "refused"
        return "scored"


@workflow.defn
class ScenarioD:
    """D: a fraud check of a large payment, cancelled right after it started (default cancellation type)."""

    @workflow.run
    async def run(self, tx: Transaction) -> str:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=ENDPOINT)
        handle = await fraud.start_operation(FraudService.check_transaction, Transaction(tx.id, 50_000),
                                             schedule_to_close_timeout=TIMEOUT)
        handle.cancel()
        try:
            await handle
        except NexusOperationError:
            return "cancelled"
        return "finished"


PREDICTIONS: dict[str, list[str]] = {
    # --- TODO: For each scenario, list the Nexus events of the caller's history, in order.
    "A": ["NexusOperationScheduled", "NexusOperationCompleted"],
    "B": ["NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCompleted"],
    "C": ["NexusOperationScheduled", "NexusOperationFailed"],
    "D": ["NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCancelRequested",
          "NexusOperationCancelRequestCompleted", "NexusOperationCanceled"],
    # --- STARTER
    # "A": [],
    # "B": [],
    # "C": [],
    # "D": [],
    # --- END
}
