"""Exercise ch11-fake-handler: a fake fraud.v1 for the Payments team's tests.

Payments tests its workflow without the Fraud team's code (chapter 11's ``test_payment_caller.py``):
a *fake* handler for the same contract answers whatever the test needs. Write ``fake_fraud(verdict)``,
which returns a handler instance for ``FraudService`` whose ``checkTransaction``

* answers ``verdict`` at once when it is a ``Verdict`` (each fake keeps its own verdict);
* makes the operation **fail at once** when ``verdict`` is ``None``, so that the caller's
  ``except NexusOperationError`` branch runs now, not after retries until its timeout;

and whose ``getQuickScore`` (not used by these tests) answers that it is not implemented.

The check serves several of your fakes at the same time and calls them from a Payments workflow on
the real server.
"""

from __future__ import annotations

import nexusrpc
import nexusrpc.handler
from fraud_contract import FraudService, QuickScore, Transaction, Verdict


def fake_fraud(verdict: Verdict | None) -> object:
    # --- TODO: a @nexusrpc.handler.service_handler(service=FraudService) class with two sync operations:
    #           check_transaction returns `verdict`, or fails the operation (OperationError, FAILED) when it
    #           is None; get_quick_score raises HandlerError NOT_IMPLEMENTED. Return an instance.
    @nexusrpc.handler.service_handler(service=FraudService)
    class FakeFraud:
        @nexusrpc.handler.sync_operation
        async def check_transaction(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> Verdict:
            if verdict is None:
                raise nexusrpc.OperationError("card blocked", state=nexusrpc.OperationErrorState.FAILED)
            return verdict

        @nexusrpc.handler.sync_operation
        async def get_quick_score(self, ctx: nexusrpc.handler.StartOperationContext, tx: Transaction) -> QuickScore:
            raise nexusrpc.HandlerError("not used by these tests", type=nexusrpc.HandlerErrorType.NOT_IMPLEMENTED)

    return FakeFraud()
    # --- STARTER
    # raise NotImplementedError("write the fake handler")
    # --- END
