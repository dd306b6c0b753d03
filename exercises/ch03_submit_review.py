"""Exercise ch03-submit-review: a synchronous operation that talks to a workflow.

Large transactions wait in a ``FraudCheckWorkflow`` (ID ``fraud-check-<transaction id>``) for an
analyst's decision, delivered as the ``review`` signal. The analysts' tool calls the Nexus
operation ``submitReview`` of the service ``fraudReview.v1``.

Goal: implement ``submit_review`` as a synchronous operation that signals the waiting workflow
with the decision and returns ``"delivered"``. Inside a handler, ``nexus.client()`` is a Temporal
client for the handler's own namespace: quick calls like a signal fit in a sync operation.
"""

from __future__ import annotations

from dataclasses import dataclass

import nexusrpc
import nexusrpc.handler
from temporalio import nexus, workflow
from fraud_contract import Transaction, Verdict


@dataclass
class Review:
    transaction_id: str
    approved: bool


@nexusrpc.service(name="fraudReview.v1")
class FraudReviewService:
    submit_review: nexusrpc.Operation[Review, str] = nexusrpc.Operation(name="submitReview")


@workflow.defn
class FraudCheckWorkflow:
    """Given: waits for the analyst's ``review`` signal."""

    def __init__(self) -> None:
        self.decision: bool | None = None

    @workflow.run
    async def run(self, tx: Transaction) -> Verdict:
        await workflow.wait_condition(lambda: self.decision is not None)
        return Verdict(tx.id, bool(self.decision), "analyst review")

    @workflow.signal
    def review(self, approved: bool) -> None:
        self.decision = approved


@nexusrpc.handler.service_handler(service=FraudReviewService)
class FraudReviewHandler:
    @nexusrpc.handler.sync_operation
    async def submit_review(self, ctx: nexusrpc.handler.StartOperationContext, review: Review) -> str:
        # TODO: Signal FraudCheckWorkflow.review with review.approved to the workflow with the ID
        #       f"fraud-check-{review.transaction_id}" (nexus.client().get_workflow_handle(...)).
        ...
        return "delivered"
