"""Starts one payment and prints its result: ``python -m leaving_the_lab.starter <tx id> <amount>``."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from fraud_v1 import CALLER_NAMESPACE, CALLER_TASK_QUEUE, Transaction
from temporalio.client import WorkflowFailureError

from leaving_the_lab.caller_workflows import PaymentWorkflow
from leaving_the_lab.connect import connect


async def main(tx_id: str, amount: int) -> None:
    client = await connect(CALLER_NAMESPACE)
    try:
        result = await client.execute_workflow(PaymentWorkflow.run, Transaction(tx_id, amount), id=f"payment-{tx_id}",
                                               task_queue=CALLER_TASK_QUEUE, execution_timeout=timedelta(seconds=8))
        print(result, flush=True)  # flushed now: the process may still abort in teardown (see README)
    except WorkflowFailureError as err:
        causes, cause = [], err.cause
        while cause is not None:
            kind = getattr(getattr(cause, "type", None), "name", "")  # a HandlerError's type, e.g. BAD_REQUEST
            causes.append(f"{type(cause).__name__}{f'({kind})' if kind else ''}: {cause}")
            cause = cause.__cause__
        print("payment failed:", " <- ".join(causes), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
