"""A Fraud handler that takes its time (or never answers), for durability and hang tests.

Run as a script it is the Fraud team's worker process: ``python slow_fraud.py`` serves
``fraud.v1`` on namespace ``fraud``, task queue ``fraud-tq`` of the server on ``NEXUS_LAB_PORT``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import nexusrpc
import nexusrpc.handler
from temporalio import nexus, workflow

from nexus_lab.story.fraud_v1 import FraudService, QuickScore, Transaction, Verdict


@workflow.defn
class SlowFraudCheckWorkflow:
    @workflow.run
    async def run(self, payment: Transaction) -> Verdict:
        await workflow.sleep(timedelta(seconds=2))
        return Verdict(payment.id, True, "slow check")


@nexusrpc.handler.service_handler(service=FraudService)
class SlowFraudServiceHandler:
    @nexus.workflow_run_operation
    async def check_transaction(self, ctx: nexus.WorkflowRunOperationContext,
                                payment: Transaction) -> nexus.WorkflowHandle[Verdict]:
        return await ctx.start_workflow(SlowFraudCheckWorkflow.run, payment, id=f"slow-fraud-{payment.id}")

    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, payment: Transaction) -> QuickScore:
        await asyncio.Event().wait()  # never answers
        raise AssertionError("unreachable")


async def serve() -> None:
    import nexus_lab

    lab = await nexus_lab.start()
    await lab.worker(namespace="fraud", task_queue="fraud-tq", workflows=[SlowFraudCheckWorkflow],
                     nexus_services=[SlowFraudServiceHandler()])
    print("READY", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve())
