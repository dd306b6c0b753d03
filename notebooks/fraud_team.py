# Generated from nexus_lab/story/fraud_team.py by `nexus-lab generate`: change the story there.
"""The Fraud team's side of ``fraud.v1``: the handler and the workflow behind ``checkTransaction``.

Chapters 3 and 4 build this step by step in cells; later chapters import it so they can focus on the
caller. Payments code never imports this module: only ``fraud_v1``.
"""

from __future__ import annotations

import nexusrpc
import nexusrpc.handler
from temporalio import nexus, workflow

with workflow.unsafe.imports_passed_through():
    from fraud_v1 import (
        REVIEW_THRESHOLD,
        FraudService,
        QuickScore,
        Transaction,
        Verdict,
    )

BLOCKED_COUNTRIES = {"XX"}


def quick_score(tx: Transaction) -> int:
    """A made-up but deterministic risk score."""
    score = min(90, tx.amount // 100)
    return 100 if tx.country in BLOCKED_COUNTRIES else score


@workflow.defn
class FraudCheckWorkflow:
    """Checks one transaction; large amounts wait for an analyst's ``review`` signal."""

    def __init__(self) -> None:
        self.decision: bool | None = None

    @workflow.run
    async def run(self, tx: Transaction) -> Verdict:
        if tx.country in BLOCKED_COUNTRIES:
            return Verdict(tx.id, False, f"cards used in {tx.country} are blocked")
        if tx.amount < REVIEW_THRESHOLD:
            return Verdict(tx.id, True, "low risk")
        await workflow.wait_condition(lambda: self.decision is not None)
        return Verdict(tx.id, bool(self.decision), "analyst review")

    @workflow.signal
    def review(self, approved: bool) -> None:
        self.decision = approved

    @workflow.query
    def waiting_for_review(self) -> bool:
        return self.decision is None


@nexusrpc.handler.service_handler(service=FraudService)
class FraudServiceHandler:
    @nexus.workflow_run_operation
    async def check_transaction(self, ctx: nexus.WorkflowRunOperationContext,
                                tx: Transaction) -> nexus.WorkflowHandle[Verdict]:
        # The transaction ID is the business ID: one fraud check per transaction.
        return await ctx.start_workflow(FraudCheckWorkflow.run, tx, id=f"fraud-check-{tx.id}")

    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> QuickScore:
        return QuickScore(tx.id, quick_score(tx))
