"""Both directions of chapter 13 on the real server: the TypeScript caller on the Python fraud.v1, and a
Python caller on the TypeScript payments.v1 (sync and workflow-run), including a casing mismatch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import nexusrpc
import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import NexusOperationError

from nexus_lab import polyglot
from nexus_lab.story.fraud_v1 import Transaction


@dataclass
class RefundRequest:  # camelCase: the TypeScript team's JSON field names
    transactionId: str
    amount: int


@dataclass
class SnakeRefundRequest:  # the Python habit: the wrong name on the wire
    transaction_id: str
    amount: int


@nexusrpc.service(name="payments.v1")
class PaymentsService:
    quote_refund: nexusrpc.Operation[RefundRequest, dict] = nexusrpc.Operation(name="quoteRefund")
    refund: nexusrpc.Operation[RefundRequest, dict]


@nexusrpc.service(name="payments.v1")
class SnakePaymentsService:
    quote_refund: nexusrpc.Operation[SnakeRefundRequest, dict] = nexusrpc.Operation(name="quoteRefund")


@workflow.defn
class RefundCaller:
    @workflow.run
    async def run(self, request: RefundRequest) -> list[dict]:
        payments = workflow.create_nexus_client(service=PaymentsService, endpoint=polyglot.PAYMENTS_ENDPOINT)
        timeout = timedelta(seconds=10)
        quote = await payments.execute_operation(PaymentsService.quote_refund, request,
                                                 schedule_to_close_timeout=timeout)
        refund = await payments.execute_operation(PaymentsService.refund, request, schedule_to_close_timeout=timeout)
        return [quote, refund]


@workflow.defn
class SnakeRefundCaller:
    @workflow.run
    async def run(self, request: SnakeRefundRequest) -> dict:
        payments = workflow.create_nexus_client(service=SnakePaymentsService, endpoint=polyglot.PAYMENTS_ENDPOINT)
        return await payments.execute_operation(SnakePaymentsService.quote_refund, request,
                                                schedule_to_close_timeout=timedelta(seconds=10))


@pytest.fixture(scope="module")
async def py_callers(polyglot_lab):
    await polyglot_lab.worker(namespace="fraud", task_queue="fraud-callers-tq",
                              workflows=[RefundCaller, SnakeRefundCaller])
    return polyglot_lab


async def test_typescript_caller_runs_python_fraud_v1(polyglot_lab, unique):
    wid = f"ts-payment-{unique}"
    result = await polyglot_lab.execute("tsPaymentWorkflow", Transaction(f"T-{unique}", 2_500), namespace="payments",
                                        task_queue=polyglot.TS_CALLER_QUEUE, id=wid)
    assert result == f"T-{unique}: approved (low risk), quick score 25"
    caller = await polyglot_lab.history(wid, namespace="payments")
    assert caller.nexus_event_types() == [
        "NexusOperationScheduled", "NexusOperationCompleted",  # getQuickScore: sync
        "NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCompleted"]  # checkTransaction
    handler = await polyglot_lab.history(f"fraud-check-T-{unique}", namespace="fraud")
    assert handler.event_types()[-1] == "WorkflowExecutionCompleted"


async def test_python_caller_runs_typescript_payments_v1(py_callers, unique):
    wid = f"py-refund-{unique}"
    quote, refund = await py_callers.execute(RefundCaller.run, RefundRequest(f"T-{unique}", 250), namespace="fraud",
                                             task_queue="fraud-callers-tq", id=wid)
    assert quote == {"transactionId": f"T-{unique}", "refundable": 248, "fee": 2}
    assert refund == {"transactionId": f"T-{unique}", "refunded": 248, "reference": f"R-T-{unique}"}
    caller = await py_callers.history(wid, namespace="fraud")
    assert caller.nexus_event_types() == [
        "NexusOperationScheduled", "NexusOperationCompleted",
        "NexusOperationScheduled", "NexusOperationStarted", "NexusOperationCompleted"]
    backing = await py_callers.history(f"refund-T-{unique}", namespace="payments")
    assert backing.event_types()[-1] == "WorkflowExecutionCompleted"


async def test_snake_case_field_arrives_as_bad_request_naming_the_fields(py_callers, unique):
    with pytest.raises(WorkflowFailureError) as failure:
        await py_callers.execute(SnakeRefundCaller.run, SnakeRefundRequest(f"T-{unique}", 250), namespace="fraud",
                                 task_queue="fraud-callers-tq", id=f"py-snake-{unique}")
    err = failure.value.cause
    assert isinstance(err, NexusOperationError)
    assert isinstance(err.__cause__, nexusrpc.HandlerError)
    assert err.__cause__.type is nexusrpc.HandlerErrorType.BAD_REQUEST
    assert "payments.v1 expects {transactionId: string" in str(err.__cause__)
    assert "got fields:" in str(err.__cause__) and "transaction_id" in str(err.__cause__)


async def test_refund_above_the_limit_is_an_operation_error_from_typescript(py_callers, unique):
    with pytest.raises(WorkflowFailureError) as failure:
        await py_callers.execute(RefundCaller.run, RefundRequest(f"T-{unique}", 20_000), namespace="fraud",
                                 task_queue="fraud-callers-tq", id=f"py-big-{unique}")
    cause = failure.value.cause.__cause__
    assert type(cause).__name__ == "ApplicationError" and cause.type == "OperationError"
    assert "need a manager" in cause.message
