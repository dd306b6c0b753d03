"""Exercise ch04-workflow-run-operation: make ``checkTransaction`` asynchronous.

A fraud check may wait hours for an analyst, far longer than one Nexus request may take. So
``checkTransaction`` must be a *workflow-run* operation: the handler starts ``FraudCheckWorkflow``
and returns at once; the caller's history shows ``NexusOperationStarted`` (with the operation
token) and, later, ``NexusOperationCompleted`` with the workflow's result.

Goal: implement ``check_transaction`` with ``@nexus.workflow_run_operation``, starting the
workflow with the *business* ID ``fraud-check-<transaction id>``. Do not use
``ctx.request_id`` or a random ID: the request ID only identifies one Nexus request (its retries
repeat it), while the business ID makes it one fraud check per transaction, however many
requests arrive for it.
"""

from __future__ import annotations

import nexusrpc
import nexusrpc.handler
from temporalio import nexus, workflow
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
    # TODO: Make this a workflow-run operation (@nexus.workflow_run_operation, context
    #       nexus.WorkflowRunOperationContext, returning nexus.WorkflowHandle[Verdict]) that starts
    #       FraudCheckWorkflow.run with the business ID f"fraud-check-{tx.id}".
    @nexusrpc.handler.sync_operation
    async def check_transaction(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> Verdict:
        return Verdict(tx.id, True, "not checked yet")

    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> QuickScore:
        return QuickScore(tx.id, min(90, tx.amount // 100))
