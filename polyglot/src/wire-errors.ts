// `errors.v1`: one operation that fails on purpose, implemented by both teams (Python and TypeScript),
// so each side can see how the other's errors arrive.
import * as nexus from 'nexus-rpc';

export const PY_ERRORS_ENDPOINT = 'wire-errors-py';
export const TS_ERRORS_ENDPOINT = 'wire-errors-ts';

// handler-error: HandlerError BAD_REQUEST; operation-error: OperationError failed;
// application-error: a non-retryable application failure (ApplicationFailure / ApplicationError).
export type FailureKind = 'handler-error' | 'operation-error' | 'application-error';

export interface FailRequest {
  kind: FailureKind;
}

export const errorsService = nexus.service('errors.v1', {
  fail: nexus.operation<FailRequest, string>(),
});

// What a caller saw, as plain JSON both languages can print.
export interface FailureReport {
  error: string;
  cause: string;
  detail: string;
  message: string;
  origin: string; // the innermost cause, when the error wraps another one
}
