"""Exercise ch06-error-classes: say *why* an operation did not succeed.

Three things can go wrong in ``getQuickScore``, and each needs its own error, because the caller
and Nexus act on the class and type:

* invalid input (``amount <= 0``): the caller's mistake; retrying cannot help →
  ``nexusrpc.HandlerError`` of type ``BAD_REQUEST``;
* a business rule says no (``amount > AMOUNT_LIMIT``): the operation ran and failed for good →
  ``nexusrpc.OperationError`` with state ``FAILED``;
* the scoring model is briefly down (``ScoringModelDown``): transient; Nexus should retry →
  ``nexusrpc.HandlerError`` of type ``UNAVAILABLE`` (a retryable type).

Goal: raise the right error in each case.
"""

from __future__ import annotations

import nexusrpc
import nexusrpc.handler
from fraud_contract import AMOUNT_LIMIT, FraudService, QuickScore, Transaction, Verdict


class ScoringModelDown(Exception):
    """The scoring model did not answer (it is back a moment later)."""


def ask_scoring_model(tx: Transaction) -> int:
    """Given: the model. (Transactions whose ID starts with "outage" meet an outage: the check uses them.)"""
    if tx.id.startswith("outage"):
        raise ScoringModelDown("scoring model timed out")
    return min(90, tx.amount // 100)


@nexusrpc.handler.service_handler(service=FraudService)
class FraudServiceHandler:
    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> QuickScore:
        # --- TODO: Invalid input: amount <= 0 → raise nexusrpc.HandlerError(..., type=nexusrpc.HandlerErrorType....)
        if tx.amount <= 0:
            raise nexusrpc.HandlerError("amount must be positive", type=nexusrpc.HandlerErrorType.BAD_REQUEST)
        # --- END
        # --- TODO: Business rule: amount > AMOUNT_LIMIT → raise nexusrpc.OperationError(..., state=...)
        if tx.amount > AMOUNT_LIMIT:
            raise nexusrpc.OperationError(f"amount over the limit of {AMOUNT_LIMIT}",
                                          state=nexusrpc.OperationErrorState.FAILED)
        # --- END
        # --- TODO: Outage: turn ScoringModelDown into a retryable HandlerError (type UNAVAILABLE).
        try:
            score = ask_scoring_model(tx)
        except ScoringModelDown as err:
            raise nexusrpc.HandlerError("scoring model unavailable",
                                        type=nexusrpc.HandlerErrorType.UNAVAILABLE) from err
        # --- STARTER
        # score = ask_scoring_model(tx)
        # --- END
        return QuickScore(tx.id, score)

    @nexusrpc.handler.sync_operation
    async def check_transaction(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> Verdict:
        raise nexusrpc.HandlerError("not offered here", type=nexusrpc.HandlerErrorType.NOT_IMPLEMENTED)
