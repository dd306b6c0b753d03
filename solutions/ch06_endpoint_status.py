"""Exercise ch06-endpoint-status: tell from a payment whether the Fraud team is reachable.

A retried Nexus request leaves no event in the caller's history: while the server retries a failing
handler, or while the circuit breaker holds the requests back, the history says only
``NexusOperationScheduled``. What is going on is in the workflow's *description*: each pending Nexus
operation has a state, an attempt count, the last attempt's failure and, when it is blocked, the reason
(``temporal workflow describe`` prints the same fields).

Write ``fraud_status(client, workflow_id)`` for the on-call dashboard. It describes the payment
workflow (``await client.get_workflow_handle(workflow_id).describe()``) and reads its pending Nexus
operations (``description.raw_description.pending_nexus_operations``; each one's ``state`` is a
``PendingNexusOperationState``). It returns

- ``"blocked: REASON"`` when an operation is BLOCKED by the circuit breaker, REASON its ``blocked_reason``;
- otherwise ``"retrying (attempt N): MESSAGE"`` when an operation is BACKING_OFF, N its ``attempt`` and
  MESSAGE its ``last_attempt_failure.message``;
- otherwise ``"waiting"`` when operations are pending (SCHEDULED or STARTED: in flight, nothing wrong);
- ``"ok"`` when the workflow has no pending Nexus operation.

The check runs real payments against a Fraud team that answers, one that takes its time, one whose
handler keeps failing, and one whose endpoint's circuit breaker has opened, some with two operations at once.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import PendingNexusOperationState
from temporalio.client import Client

BLOCKED = PendingNexusOperationState.PENDING_NEXUS_OPERATION_STATE_BLOCKED
BACKING_OFF = PendingNexusOperationState.PENDING_NEXUS_OPERATION_STATE_BACKING_OFF


async def fraud_status(client: Client, workflow_id: str) -> str:
    description = await client.get_workflow_handle(workflow_id).describe()
    pending = list(description.raw_description.pending_nexus_operations)
    # --- TODO: "blocked: REASON" before "retrying (attempt N): MESSAGE" before "waiting"; "ok" when none
    for operation in pending:
        if operation.state == BLOCKED:
            return f"blocked: {operation.blocked_reason}"
    for operation in pending:
        if operation.state == BACKING_OFF:
            return f"retrying (attempt {operation.attempt}): {operation.last_attempt_failure.message}"
    return "waiting" if pending else "ok"
    # --- STARTER
    # return "ok"
    # --- END
