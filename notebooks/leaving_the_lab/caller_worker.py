"""The Payments team's worker: runs PaymentWorkflow."""

from __future__ import annotations

import asyncio

from fraud_v1 import CALLER_NAMESPACE, CALLER_TASK_QUEUE
from temporalio.worker import Worker

from leaving_the_lab.caller_workflows import PaymentWorkflow
from leaving_the_lab.connect import connect


async def main() -> None:
    client = await connect(CALLER_NAMESPACE)
    worker = Worker(client, task_queue=CALLER_TASK_QUEUE, workflows=[PaymentWorkflow])
    print("payments worker polling", CALLER_NAMESPACE, CALLER_TASK_QUEUE, flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
