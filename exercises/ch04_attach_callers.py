"""Exercise ch04-attach-callers: several callers, one fraud check.

The same transaction can reach the Fraud team from several places at once (the checkout, the
refund service, a retry after a crash). With the business ID ``fraud-check-<transaction id>``, the
second start of the same workflow is refused ("workflow already started"), so the second caller's
operation fails at once (the refusal is not retried).

Goal: let every caller *attach* to the running check instead: pass the ID conflict policy that
uses the existing workflow. Each caller then gets ``NexusOperationStarted`` with the same token,
and all of them get the one verdict when it is ready.
"""

from __future__ import annotations

import nexusrpc
import nexusrpc.handler
from temporalio import nexus, workflow
from temporalio.common import WorkflowIDConflictPolicy
from fraud_contract import REVIEW_THRESHOLD, FraudService, QuickScore, Transaction, Verdict


@workflow.defn
class FraudCheckWorkflow:
    """Given: small amounts pass at once; large ones wait for an analyst's ``review`` signal."""

    def __init__(self) -> None:
        self.decision: bool | None = None

    @workflow.run
    async def run(self, tx: Transaction) -> Verdict:
        if tx.amount < REVIEW_THRESHOLD:
            return Verdict(tx.id, True, "low risk")
        await workflow.wait_condition(lambda: self.decision is not None)
        return Verdict(tx.id, bool(self.decision), "analyst review")

    @workflow.signal
    def review(self, approved: bool) -> None:
        self.decision = approved


@nexusrpc.handler.service_handler(service=FraudService)
class FraudServiceHandler:
    @nexus.workflow_run_operation
    async def check_transaction(self, ctx: nexus.WorkflowRunOperationContext,
                                tx: Transaction) -> nexus.WorkflowHandle[Verdict]:
        # TODO: Attach later callers to the running check: add id_conflict_policy=WorkflowIDConflictPolicy....
        return await ctx.start_workflow(FraudCheckWorkflow.run, tx, id=f"fraud-check-{tx.id}")

    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> QuickScore:
        return QuickScore(tx.id, min(90, tx.amount // 100))
