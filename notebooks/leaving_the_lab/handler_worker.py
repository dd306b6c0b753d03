"""The Fraud team's worker: serves fraud.v1 and runs the workflow behind checkTransaction."""

from __future__ import annotations

import asyncio

from fraud_team import FraudCheckWorkflow, FraudServiceHandler
from fraud_v1 import HANDLER_NAMESPACE, HANDLER_TASK_QUEUE
from temporalio.worker import Worker

from leaving_the_lab.connect import connect


async def main() -> None:
    client = await connect(HANDLER_NAMESPACE)
    worker = Worker(client, task_queue=HANDLER_TASK_QUEUE, workflows=[FraudCheckWorkflow],
                    nexus_service_handlers=[FraudServiceHandler()])
    print("fraud worker polling", HANDLER_NAMESPACE, HANDLER_TASK_QUEUE, flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
