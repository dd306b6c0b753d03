"""The Fraud team tests its handler through a real Nexus call: a tiny caller workflow in the test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fraud_team import FraudCheckWorkflow, FraudServiceHandler
from fraud_v1 import FraudService, QuickScore, Transaction, Verdict
from temporalio import workflow
from temporalio.worker import Worker

pytestmark = pytest.mark.anyio


@workflow.defn
class ScoreCaller:
    @workflow.run
    async def run(self, endpoint: str, tx: Transaction) -> QuickScore:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=endpoint)
        return await fraud.execute_operation(FraudService.get_quick_score, tx,
                                             schedule_to_close_timeout=timedelta(seconds=10))


@workflow.defn
class CheckCaller:
    @workflow.run
    async def run(self, endpoint: str, tx: Transaction) -> Verdict:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=endpoint)
        return await fraud.execute_operation(FraudService.check_transaction, tx,
                                             schedule_to_close_timeout=timedelta(seconds=10))


async def test_quick_score(env, endpoint):
    cases = [(2_500, "DE", 25), (99_000, "DE", 90), (10, "XX", 100)]
    async with Worker(env.client, task_queue=endpoint, workflows=[ScoreCaller],
                      nexus_service_handlers=[FraudServiceHandler()]):
        for amount, country, expected in cases:
            tx = Transaction("T1", amount, country)
            score = await env.client.execute_workflow(ScoreCaller.run, args=[endpoint, tx],
                                                      id=f"score-{endpoint}-{amount}", task_queue=endpoint)
            assert score == QuickScore("T1", expected), (amount, country)


async def test_small_amount_is_approved_by_a_workflow(env, endpoint):
    async with Worker(env.client, task_queue=endpoint, workflows=[CheckCaller, FraudCheckWorkflow],
                      nexus_service_handlers=[FraudServiceHandler()]):
        verdict = await env.client.execute_workflow(CheckCaller.run, args=[endpoint, Transaction("T2", 40)],
                                                    id=f"check-{endpoint}", task_queue=endpoint)
    assert verdict.approved
    # checkTransaction is asynchronous: a handler workflow ran, under the transaction's business ID
    described = await env.client.get_workflow_handle("fraud-check-T2").describe()
    assert described.workflow_type == "FraudCheckWorkflow"
