"""Exercise ch03-quick-score: your first synchronous operation.

``getQuickScore`` answers at once, inside the Nexus request: a synchronous operation (the caller's
history shows no ``NexusOperationStarted``). The score is simple on purpose:

* ``min(90, amount // 100)``;
* 100 for a card used in a country of ``BLOCKED_COUNTRIES``.

Goal: implement ``get_quick_score``. (``checkTransaction`` comes in chapter 4: for now it answers
NOT_IMPLEMENTED, which is also how a handler says "not offered here".)
"""

from __future__ import annotations

import nexusrpc
import nexusrpc.handler
from fraud_contract import FraudService, QuickScore, Transaction, Verdict

BLOCKED_COUNTRIES = {"XX"}


@nexusrpc.handler.service_handler(service=FraudService)
class FraudServiceHandler:
    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> QuickScore:
        # --- TODO: Return the QuickScore for tx: min(90, tx.amount // 100), or 100 if tx.country is blocked.
        score = 100 if tx.country in BLOCKED_COUNTRIES else min(90, tx.amount // 100)
        return QuickScore(tx.id, score)
        # --- STARTER
        # return QuickScore(tx.id, 0)
        # --- END

    @nexusrpc.handler.sync_operation
    async def check_transaction(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> Verdict:
        raise nexusrpc.HandlerError("checkTransaction arrives in chapter 4",
                                    type=nexusrpc.HandlerErrorType.NOT_IMPLEMENTED)
