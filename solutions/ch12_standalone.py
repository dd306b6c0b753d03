"""Exercise ch12-standalone: a quick score from plain client code, with no caller workflow.

The Payments web shop wants a fraud score while the customer is still on the checkout page: no
workflow, just a request. A *standalone* Nexus operation (chapter 11, experimental in this SDK) is
started from a ``Client``. Write ``quick_score_now(client, endpoint, tx)``, which

* calls ``getQuickScore`` of ``fraud.v1`` through ``endpoint`` as a standalone operation
  (``client.create_nexus_client(...)``) and returns its ``QuickScore``;
* gives the operation the ID ``quick-score-<transaction id>`` (a retry of the same request then finds
  the same operation), a 10-second ``schedule_to_close_timeout`` (the page cannot wait longer), and the
  summary ``quick score of <transaction id>`` (what the Web UI shows).

The check calls it with a client of the ``payments`` namespace and looks the operation up on the server.
"""

from __future__ import annotations

from datetime import timedelta

from fraud_contract import FraudService, QuickScore, Transaction
from temporalio.client import Client


async def quick_score_now(client: Client, endpoint: str, tx: Transaction) -> QuickScore:
    # --- TODO: a Nexus client for FraudService on `endpoint`, then execute_operation(getQuickScore) with
    #           id=f"quick-score-{tx.id}", a 10 s schedule_to_close_timeout and summary=f"quick score of {tx.id}"
    fraud = client.create_nexus_client(service=FraudService, endpoint=endpoint)
    return await fraud.execute_operation(FraudService.get_quick_score, tx, id=f"quick-score-{tx.id}",
                                         schedule_to_close_timeout=timedelta(seconds=10),
                                         summary=f"quick score of {tx.id}")
    # --- STARTER
    # return QuickScore(tx.id, 0)
    # --- END
