"""Exercise ch02-define-contract: write the ``fraud.v1`` contract.

The Fraud team offers two operations to other teams:

* ``checkTransaction``: a ``Transaction`` in, a ``Verdict`` out (it may take a while: an analyst may look);
* ``getQuickScore``: a ``Transaction`` in, a ``QuickScore`` out, at once.

Goal: declare ``FraudService`` as the Nexus service named ``fraud.v1`` with both operations, typed,
under exactly these wire names. Python attributes stay snake_case (``check_transaction``,
``get_quick_score``). The Payments workflow at the bottom is given: it is how callers use your
contract, and the check runs it against the Fraud team's worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import nexusrpc
from temporalio import workflow


@dataclass
class Transaction:
    id: str
    amount: int
    country: str = "DE"


@dataclass
class QuickScore:
    transaction_id: str
    score: int


@dataclass
class Verdict:
    transaction_id: str
    approved: bool
    reason: str


# TODO: Decorate FraudService with @nexusrpc.service(name=...) and declare its two operations:
#       attribute: nexusrpc.Operation[InputType, OutputType] = nexusrpc.Operation(name="wireName")
class FraudService:
    pass


@workflow.defn
class QuickScoreCaller:
    """Given: the Payments side. It compiles only once FraudService has ``get_quick_score``."""

    @workflow.run
    async def run(self, tx: Transaction) -> QuickScore:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint="fraud-detection")
        return await fraud.execute_operation(FraudService.get_quick_score, tx,
                                             schedule_to_close_timeout=timedelta(seconds=10))
