"""Exercise ch11-catch-bug: a pytest test that catches a broken handler.

The Fraud team's ``getQuickScore`` rule (chapter 3): the score is ``min(90, amount // 100)``, and 100
for a card used in a blocked country (``"XX"``); the answer carries the transaction's ID.

Write ``test_quick_score`` as a real pytest test: create a Nexus endpoint in the test environment
(``env.create_nexus_endpoint``), run a ``Worker`` that serves ``fraud_handler`` and the caller
workflow ``ScoreCaller``, call ``getQuickScore`` through it for the cases that pin the rule down,
assert on the whole ``QuickScore``, and delete the endpoint again, even when an assertion fails.

The check runs your test against a correct handler (it must pass) and against handlers with bugs
planted in them (it must fail on every one). It passes the fixtures itself: ``env`` (a
``WorkflowEnvironment`` on the check's namespace) and ``fraud_handler`` (the handler under test).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from fraud_contract import FraudService, QuickScore, Transaction

pytestmark = pytest.mark.anyio


@workflow.defn
class ScoreCaller:
    """Calls getQuickScore once through ``endpoint`` (a test's stand-in for the Payments side)."""

    @workflow.run
    async def run(self, endpoint: str, tx: Transaction) -> QuickScore:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=endpoint)
        return await fraud.execute_operation(FraudService.get_quick_score, tx,
                                             schedule_to_close_timeout=timedelta(seconds=4))


async def test_quick_score(env: WorkflowEnvironment, fraud_handler: object) -> None:
    # --- TODO: 1. create an endpoint with a unique name, routed to a task queue of the same name
    #           2. in a Worker on that task queue (ScoreCaller + fraud_handler), run ScoreCaller for
    #              cases that pin the rule down, asserting on the whole QuickScore
    #           3. delete the endpoint in a `finally`
    name = f"fraud-test-{uuid.uuid4().hex[:8]}"
    endpoint = await env.create_nexus_endpoint(name, task_queue=name)
    try:
        async with Worker(env.client, task_queue=name, workflows=[ScoreCaller],
                          nexus_service_handlers=[fraud_handler]):
            for amount, country, expected in [(2_500, "DE", 25), (99_000, "DE", 90), (10, "XX", 100)]:
                tx = Transaction(f"T-{amount}-{country}", amount, country)
                score = await env.client.execute_workflow(ScoreCaller.run, args=[name, tx],
                                                          id=f"score-{name}-{amount}", task_queue=name)
                assert score == QuickScore(tx.id, expected), f"{amount} € in {country}"
    finally:
        await env.delete_nexus_endpoint(endpoint)
    # --- STARTER
    # name = f"fraud-test-{uuid.uuid4().hex[:8]}"
    # ...
    # --- END
