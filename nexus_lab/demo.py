"""``nexus-lab demo``: the course's story end to end in a terminal, from :mod:`nexus_lab.story`.

Also the setup the walkthrough and the benchmark stand on, so every picture runs the same
``fraud.v1`` the chapters teach.
"""

from __future__ import annotations

from temporalio.common import WorkflowIDConflictPolicy

from nexus_lab.story.fraud_team import FraudCheckWorkflow, FraudServiceHandler
from nexus_lab.story.fraud_v1 import (
    CALLER_NAMESPACE,
    ENDPOINT,
    HANDLER_NAMESPACE,
    Transaction,
)
from nexus_lab.story.fraud_v1 import CALLER_TASK_QUEUE as CALLER_QUEUE
from nexus_lab.story.fraud_v1 import HANDLER_TASK_QUEUE as HANDLER_QUEUE
from nexus_lab.story.payments import CALLER_WORKFLOWS, PaymentRequest, PaymentWorkflow

__all__ = ["CALLER_NAMESPACE", "CALLER_QUEUE", "ENDPOINT", "HANDLER_NAMESPACE", "HANDLER_QUEUE", "FraudCheckWorkflow",
           "FraudServiceHandler", "PaymentRequest", "PaymentWorkflow", "Transaction", "run_demo", "set_up"]


async def set_up(lab) -> None:
    """Namespaces, endpoint and both teams' workers: the five lines every chapter starts from."""
    await lab.namespace(CALLER_NAMESPACE)
    await lab.namespace(HANDLER_NAMESPACE)
    await lab.endpoint(ENDPOINT, namespace=HANDLER_NAMESPACE, task_queue=HANDLER_QUEUE,
                       description="Fraud team's fraud.v1 service")
    await lab.worker(namespace=HANDLER_NAMESPACE, task_queue=HANDLER_QUEUE,
                     workflows=[FraudCheckWorkflow], nexus_services=[FraudServiceHandler()])
    await lab.worker(namespace=CALLER_NAMESPACE, task_queue=CALLER_QUEUE, workflows=CALLER_WORKFLOWS)


async def run_demo(port: int | None = None) -> str:
    """Start a lab, run one payment through Fraud's service, print both histories, stop."""
    import nexus_lab

    lab = await nexus_lab.start(port) if port else await nexus_lab.start()
    try:
        print(lab.summary())
        await set_up(lab)
        result = await lab.execute(PaymentWorkflow.run, PaymentRequest(Transaction("demo-1", 120)),
                                   namespace=CALLER_NAMESPACE, task_queue=CALLER_QUEUE, id="payment-demo-1",
                                   id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING)
        print(f"\nResult: {result}\n")
        caller = await lab.history("payment-demo-1", namespace=CALLER_NAMESPACE)
        print(caller, end="\n\n")
        for handler in await lab.follow(caller):
            print(handler, end="\n\n")
        return result
    finally:
        await lab.stop()
