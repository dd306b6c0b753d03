"""The Payments team's side: workflows that call ``fraud.v1`` through its endpoint.

The chapters write these in cells, step by step; ``nexus-lab demo``, the walkthrough and the
benchmark run them from here. Like every caller, this module imports only the contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from nexus_lab.story.fraud_v1 import (
        ENDPOINT,
        FraudService,
        QuickScore,
        Transaction,
        Verdict,
    )

TIMEOUT = timedelta(seconds=30)


@dataclass
class PaymentRequest:
    tx: Transaction
    endpoint: str = ENDPOINT  # the walkthrough and the benchmark route through endpoints of their own


def fraud_client(endpoint: str) -> workflow.NexusClient[FraudService]:
    return workflow.create_nexus_client(service=FraudService, endpoint=endpoint)


@workflow.defn
class PaymentWorkflow:
    """A payment: the quick score (sync), then the full check (async, may wait for an analyst)."""

    @workflow.run
    async def run(self, request: PaymentRequest) -> str:
        fraud = fraud_client(request.endpoint)
        score = await fraud.execute_operation(FraudService.get_quick_score, request.tx,
                                              schedule_to_close_timeout=TIMEOUT)
        verdict = await fraud.execute_operation(FraudService.check_transaction, request.tx,
                                                schedule_to_close_timeout=TIMEOUT)
        outcome = "approved" if verdict.approved else "declined"
        return f"{request.tx.id}: {outcome} ({verdict.reason}), quick score {score.score}"


@workflow.defn
class QuickScoreWorkflow:
    """One synchronous operation and nothing else (the sync walkthrough, a benchmark unit)."""

    @workflow.run
    async def run(self, request: PaymentRequest) -> QuickScore:
        return await fraud_client(request.endpoint).execute_operation(
            FraudService.get_quick_score, request.tx, schedule_to_close_timeout=TIMEOUT)


@workflow.defn
class CheckTransactionWorkflow:
    """One asynchronous (workflow-run) operation and nothing else (the async walkthrough, a benchmark unit)."""

    @workflow.run
    async def run(self, request: PaymentRequest) -> Verdict:
        return await fraud_client(request.endpoint).execute_operation(
            FraudService.check_transaction, request.tx, schedule_to_close_timeout=TIMEOUT)


CALLER_WORKFLOWS = [PaymentWorkflow, QuickScoreWorkflow, CheckTransactionWorkflow]
