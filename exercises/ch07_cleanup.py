"""Exercise ch07-cleanup: a handler workflow that cleans up when it is cancelled.

``FraudCheckWorkflow`` places a hold on the card while an analyst looks. If Payments cancels the
check, the hold must be released, and the workflow must still end as *Canceled* (so the caller's
history shows ``NexusOperationCanceled``, not a verdict).

Goal: when the wait is cancelled, run the ``release_hold`` activity, then let the cancellation
continue (re-raise it).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import nexusrpc
import nexusrpc.handler
from temporalio import activity, nexus, workflow

with workflow.unsafe.imports_passed_through():
    from fraud_contract import FraudService, QuickScore, Transaction, Verdict


@activity.defn
async def release_hold(transaction_id: str) -> str:
    """Given: tells the card system to release the hold."""
    return f"hold on {transaction_id} released"


@workflow.defn
class FraudCheckWorkflow:
    def __init__(self) -> None:
        self.decision: bool | None = None

    @workflow.run
    async def run(self, tx: Transaction) -> Verdict:
        try:
            await workflow.wait_condition(lambda: self.decision is not None)
        except asyncio.CancelledError:
            # TODO: Release the hold (workflow.execute_activity(release_hold, tx.id,
            #       start_to_close_timeout=...)), then re-raise the CancelledError.
            raise
        return Verdict(tx.id, bool(self.decision), "analyst review")

    @workflow.signal
    def review(self, approved: bool) -> None:
        self.decision = approved


@nexusrpc.handler.service_handler(service=FraudService)
class FraudServiceHandler:
    @nexus.workflow_run_operation
    async def check_transaction(self, ctx: nexus.WorkflowRunOperationContext,
                                tx: Transaction) -> nexus.WorkflowHandle[Verdict]:
        return await ctx.start_workflow(FraudCheckWorkflow.run, tx, id=f"fraud-check-{tx.id}")

    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> QuickScore:
        return QuickScore(tx.id, min(90, tx.amount // 100))
