// Every TypeScript workflow of the chapter (one bundle for both workers).
import { NexusOperationFailure } from '@temporalio/common';
import { ApplicationFailure, createNexusServiceClient } from '@temporalio/workflow';
import { FRAUD_ENDPOINT, fraudService, type Transaction } from './fraud-v1';
import type { Refund, RefundRequest } from './payments-v1';
import { errorsService, type FailRequest, type FailureReport } from './wire-errors';

const TIMEOUT = '30s';

/** The Payments caller: the quick score (sync), then the full check (a Python workflow run). */
export async function tsPaymentWorkflow(tx: Transaction): Promise<string> {
  const fraud = createNexusServiceClient({ service: fraudService, endpoint: FRAUD_ENDPOINT });
  const score = await fraud.executeOperation(fraudService.operations.getQuickScore, tx, {
    scheduleToCloseTimeout: TIMEOUT,
  });
  const verdict = await fraud.executeOperation('checkTransaction', tx, { scheduleToCloseTimeout: TIMEOUT });
  const outcome = verdict.approved ? 'approved' : 'declined';
  return `${tx.id}: ${outcome} (${verdict.reason}), quick score ${score.score}`;
}

/** The workflow behind payments.v1 `refund`: a flat 1 % fee, at least 1. */
export async function refundWorkflow(request: RefundRequest): Promise<Refund> {
  const fee = Math.max(1, Math.floor(request.amount / 100));
  return { transactionId: request.transactionId, refunded: request.amount - fee, reference: `R-${request.transactionId}` };
}

/** Calls errors.v1 `fail` behind `endpoint` and reports the error this TypeScript caller received. */
export async function describeFailure(endpoint: string, request: FailRequest): Promise<FailureReport> {
  const errors = createNexusServiceClient({ service: errorsService, endpoint });
  try {
    await errors.executeOperation('fail', request, { scheduleToCloseTimeout: '10s' });
  } catch (err) {
    if (err instanceof NexusOperationFailure) {
      return report(err, err.cause);
    }
    throw err;
  }
  throw ApplicationFailure.nonRetryable(`errors.v1 fail(${request.kind}) succeeded`);
}

type Detailed = Error & { type?: string | null; nonRetryable?: boolean; cause?: Error };

function describe(error: Detailed | undefined): string {
  const parts = [error?.type, error?.nonRetryable === undefined ? undefined : `nonRetryable=${error.nonRetryable}`];
  return parts.filter((part) => part !== undefined && part !== null && part !== '').join(' ');
}

function report(err: Error, cause: Detailed | undefined): FailureReport {
  let origin = cause;
  while (origin?.cause instanceof Error) origin = origin.cause as Detailed;
  return {
    error: err.name,
    cause: cause?.name ?? '',
    detail: describe(cause),
    message: cause?.message ?? err.message,
    origin: origin === cause ? '' : `${origin?.name} ${describe(origin)}: ${origin?.message}`,
  };
}
