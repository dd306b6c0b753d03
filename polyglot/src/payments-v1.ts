// The TypeScript Payments team's own service, `payments.v1`, called by the Python Fraud team.
import * as nexus from 'nexus-rpc';

export const PAYMENTS_ENDPOINT = 'payments-refunds';
export const REFUND_LIMIT = 10_000; // larger refunds need a manager: the operation fails

// TypeScript's JSON is camelCase: a Python caller must send `transactionId`, not `transaction_id`.
export interface RefundRequest {
  transactionId: string;
  amount: number;
}

export interface RefundQuote {
  transactionId: string;
  refundable: number;
  fee: number;
}

export interface Refund {
  transactionId: string;
  refunded: number;
  reference: string;
}

export const paymentsService = nexus.service('payments.v1', {
  quoteRefund: nexus.operation<RefundRequest, RefundQuote>(), // sync
  refund: nexus.operation<RefundRequest, Refund>(), // backed by a workflow run
});
