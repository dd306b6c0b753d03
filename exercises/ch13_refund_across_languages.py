"""Exercise ch13-refund-across-languages: the Python Fraud team calls the TypeScript Payments team.

Goal: ``RefundWorkflow`` asks the Payments team's ``payments.v1`` — written in TypeScript, behind the
endpoint ``payments-refunds`` — for a quote (``quoteRefund``, synchronous), then for the refund itself
(``refund``, backed by a TypeScript workflow), and returns
``"<transactionId>: refunded <refunded> (fee <fee>), <reference>"``.

The TypeScript contract is the truth (``polyglot/src/payments-v1.ts``)::

    interface RefundRequest { transactionId: string; amount: number }
    interface RefundQuote   { transactionId: string; refundable: number; fee: number }
    interface Refund        { transactionId: string; refunded: number; reference: string }
    nexus.service('payments.v1', { quoteRefund: ..., refund: ... })

The two teams share no code, only names: JSON field names (with their casing) and the service and
operation names. The Python below must say exactly what the TypeScript says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import nexusrpc
from temporalio import workflow

ENDPOINT = "payments-refunds"
TIMEOUT = timedelta(seconds=10)


# TODO: Each dataclass's field names are its JSON field names: make them the TypeScript ones.
@dataclass
class RefundRequest:
    transaction_id: str
    amount: int


@dataclass
class RefundQuote:
    transaction_id: str
    refundable: int
    fee: int


@dataclass
class Refund:
    transaction_id: str
    refunded: int
    reference: str


@nexusrpc.service(name="payments.v1")
class PaymentsService:
    # TODO: The operations' names on the wire are TypeScript's: keep the Python attribute names and give
    #       each operation its wire name (nexusrpc.Operation(name=...)).
    quote_refund: nexusrpc.Operation[RefundRequest, RefundQuote]
    refund: nexusrpc.Operation[RefundRequest, Refund]


@workflow.defn
class RefundWorkflow:
    @workflow.run
    async def run(self, request: RefundRequest) -> str:
        payments = workflow.create_nexus_client(service=PaymentsService, endpoint=ENDPOINT)
        quote = await payments.execute_operation(PaymentsService.quote_refund, request,
                                                 schedule_to_close_timeout=TIMEOUT)
        refund = await payments.execute_operation(PaymentsService.refund, request, schedule_to_close_timeout=TIMEOUT)
        # TODO: Return "<transactionId>: refunded <refunded> (fee <fee>), <reference>" (fields of the Refund).
        return f"{refund.transaction_id}: refunded {refund.refunded} (fee {quote.fee}), {refund.reference}"
