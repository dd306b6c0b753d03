"""Operations that go wrong, for the widget tests: one fails for good, one keeps being retried.

Lives in a real module so the workflow sandbox can import it (as learners' ``%%writefile`` files do).
"""

from __future__ import annotations

from datetime import timedelta

import nexusrpc
import nexusrpc.handler
from temporalio import workflow
from temporalio.exceptions import NexusOperationError

CALLER_NAMESPACE, HANDLER_NAMESPACE = "widgets-caller", "widgets-handler"
CALLER_QUEUE, HANDLER_QUEUE = "widgets-caller-tq", "widgets-handler-tq"


@nexusrpc.service(name="risk.v1")
class RiskService:
    reject: nexusrpc.Operation[str, str] = nexusrpc.Operation(name="reject")
    flaky: nexusrpc.Operation[str, str] = nexusrpc.Operation(name="flaky")


@nexusrpc.handler.service_handler(service=RiskService)
class RiskServiceHandler:
    @nexusrpc.handler.sync_operation
    async def reject(self, ctx: nexusrpc.handler.StartOperationContext, payment_id: str) -> str:
        raise nexusrpc.OperationError(f"payment {payment_id} is on the deny list",
                                      state=nexusrpc.OperationErrorState.FAILED)

    @nexusrpc.handler.sync_operation
    async def flaky(self, ctx: nexusrpc.handler.StartOperationContext, payment_id: str) -> str:
        raise RuntimeError("risk database unreachable")  # retryable: the server tries again and again


@workflow.defn
class RejectedPaymentWorkflow:
    @workflow.run
    async def run(self, endpoint: str) -> str:
        client = workflow.create_nexus_client(service=RiskService, endpoint=endpoint)
        try:
            return await client.execute_operation(RiskService.reject, "p-9",
                                                  schedule_to_close_timeout=timedelta(seconds=20))
        except NexusOperationError as err:
            return f"rejected: {err.cause}"


@workflow.defn
class FlakyPaymentWorkflow:
    @workflow.run
    async def run(self, endpoint: str) -> str:
        client = workflow.create_nexus_client(service=RiskService, endpoint=endpoint)
        return await client.execute_operation(RiskService.flaky, "p-7", schedule_to_close_timeout=timedelta(seconds=60))
