"""Exercise ch02-fix-mismatch: the Fraud team's handler no longer matches its contract.

Someone "tidied up" this file and now it does not even import: run the check to see nexusrpc's
complaint. Payments already calls ``fraud.v1`` with the published operation names
``checkTransaction`` and ``getQuickScore`` and the published types.

Goal: make the contract and the handler agree again, without changing what Payments sees: the
service name, the published operation names and their input/output types stay as published.
"""

from __future__ import annotations

from dataclasses import dataclass

import nexusrpc
import nexusrpc.handler
from temporalio import nexus, workflow


@dataclass
class Transaction:
    id: str
    amount: int
    country: str = "DE"


@dataclass
class QuickScore:
    transaction_id: str
    score: int


@dataclass
class Verdict:
    transaction_id: str
    approved: bool
    reason: str


@nexusrpc.service(name="fraud.v1")
class FraudService:
    # TODO: Payments calls "checkTransaction" and "getQuickScore": the wire names must be exactly these.
    check_transaction: nexusrpc.Operation[Transaction, Verdict] = nexusrpc.Operation(name="check_transaction")
    get_quick_score: nexusrpc.Operation[Transaction, QuickScore] = nexusrpc.Operation(name="getQuickScore")


@workflow.defn
class FraudCheckWorkflow:
    @workflow.run
    async def run(self, tx: Transaction) -> Verdict:
        return Verdict(tx.id, tx.amount < 5_000, "automatic check")


@nexusrpc.handler.service_handler(service=FraudService)
class FraudServiceHandler:
    @nexus.workflow_run_operation
    async def check_transaction(self, ctx: nexus.WorkflowRunOperationContext,
                                tx: Transaction) -> nexus.WorkflowHandle[Verdict]:
        return await ctx.start_workflow(FraudCheckWorkflow.run, tx, id=f"fraud-check-{tx.id}")

    # TODO: Each contract operation needs a handler method with the same attribute name and types.
    @nexusrpc.handler.sync_operation
    async def quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> int:
        return min(90, tx.amount // 100)
