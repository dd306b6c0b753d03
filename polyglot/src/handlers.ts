// The TypeScript Payments team's handlers: payments.v1 and errors.v1.
import { ApplicationFailure } from '@temporalio/common';
import { startWorkflow, WorkflowRunOperationHandler } from '@temporalio/nexus';
import * as nexus from 'nexus-rpc';
import { paymentsService, REFUND_LIMIT, type Refund, type RefundQuote, type RefundRequest } from './payments-v1';
import { errorsService, type FailRequest } from './wire-errors';
import { refundWorkflow } from './workflows';

/** Rejects input whose JSON fields are not the ones payments.v1 declares (e.g. `transaction_id`). */
function checked(request: RefundRequest): RefundRequest {
  if (typeof request?.transactionId !== 'string' || typeof request.amount !== 'number') {
    const fields = Object.keys(request ?? {}).join(', ');
    throw new nexus.HandlerError(
      'BAD_REQUEST',
      `payments.v1 expects {transactionId: string, amount: number}, got fields: ${fields}`
    );
  }
  if (request.amount <= 0) {
    throw new nexus.HandlerError('BAD_REQUEST', `amount must be positive, got ${request.amount}`);
  }
  return request;
}

export const paymentsHandler = nexus.serviceHandler(paymentsService, {
  quoteRefund: async (_ctx, request: RefundRequest): Promise<RefundQuote> => {
    const { transactionId, amount } = checked(request);
    const fee = Math.max(1, Math.floor(amount / 100));
    return { transactionId, refundable: amount - fee, fee };
  },
  refund: new WorkflowRunOperationHandler<RefundRequest, Refund>(async (ctx, request) => {
    const { transactionId, amount } = checked(request);
    if (amount > REFUND_LIMIT) {
      throw new nexus.OperationError('failed', `refunds above ${REFUND_LIMIT} need a manager`);
    }
    return await startWorkflow(ctx, refundWorkflow, { workflowId: `refund-${transactionId}`, args: [request] });
  }),
});

export const errorsHandler = nexus.serviceHandler(errorsService, {
  fail: async (_ctx, request: FailRequest): Promise<string> => {
    switch (request.kind) {
      case 'handler-error':
        throw new nexus.HandlerError('BAD_REQUEST', 'TypeScript handler: bad request');
      case 'operation-error':
        throw new nexus.OperationError('failed', 'TypeScript handler: operation failed');
      case 'application-error':
        throw ApplicationFailure.nonRetryable('TypeScript handler: card blocked', 'CardBlocked');
    }
    throw new nexus.HandlerError('BAD_REQUEST', `unknown kind ${String(request.kind)}`);
  },
});
