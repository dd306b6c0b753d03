"""Exercise ch12-fraud-worker: the Fraud team's service, as its own process runs it.

Outside the lab nobody calls ``lab.worker(...)`` for you: the Fraud team's process builds a plain
``Worker`` (chapter 12's ``leaving_the_lab/handler_worker.py``). Write both pieces:

1. ``FraudServiceHandler`` for ``fraud.v1``, with both kinds of operation:

   * ``getQuickScore``, synchronous: ``min(90, amount // 100)``, or 100 for a blocked country;
   * ``checkTransaction``, asynchronous: it starts ``FraudCheckWorkflow`` (given below) under the
     business ID ``fraud-check-<transaction id>``;

2. ``fraud_worker(client)``, which returns (does not run) the ``Worker`` that serves the handler and
   runs the workflow, on the task queue the endpoint routes to (``HANDLER_TASK_QUEUE``).

The check calls ``fraud_worker`` with a client of the ``fraud`` namespace, runs the worker, and calls
both operations through ``fraud-detection`` from a Payments workflow on the real server.
"""

from __future__ import annotations

import nexusrpc
import nexusrpc.handler
from temporalio import nexus, workflow
from temporalio.client import Client
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from fraud_contract import HANDLER_TASK_QUEUE, REVIEW_THRESHOLD, FraudService, QuickScore, Transaction, Verdict

BLOCKED_COUNTRIES = {"XX"}


@workflow.defn
class FraudCheckWorkflow:
    """Declines blocked countries, approves small amounts, and leaves the rest to an analyst (declined here)."""

    @workflow.run
    async def run(self, tx: Transaction) -> Verdict:
        if tx.country in BLOCKED_COUNTRIES:
            return Verdict(tx.id, False, f"cards used in {tx.country} are blocked")
        if tx.amount < REVIEW_THRESHOLD:
            return Verdict(tx.id, True, "low risk")
        return Verdict(tx.id, False, "needs an analyst")


# TODO: 1. FraudServiceHandler for FraudService: getQuickScore (sync) and checkTransaction
#          (workflow-run: FraudCheckWorkflow under the ID f"fraud-check-{tx.id}")
@nexusrpc.handler.service_handler(service=FraudService)
class FraudServiceHandler:
    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> QuickScore:
        raise nexusrpc.HandlerError("not written yet", type=nexusrpc.HandlerErrorType.NOT_IMPLEMENTED)

    @nexusrpc.handler.sync_operation
    async def check_transaction(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> Verdict:
        raise nexusrpc.HandlerError("not written yet", type=nexusrpc.HandlerErrorType.NOT_IMPLEMENTED)


def fraud_worker(client: Client) -> Worker:
    # TODO: 2. return the Worker on HANDLER_TASK_QUEUE that serves FraudServiceHandler() and runs
    #          FraudCheckWorkflow
    return Worker(client, task_queue="...")
