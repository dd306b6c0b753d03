"""The Fraud team's published contract, ``fraud.v1`` (shared by the exercises; nothing to edit here).

A caller imports only this module: it says *what* can be called (service and operation names,
input and output types). The handler code lives with the Fraud team.
"""

from __future__ import annotations

from dataclasses import dataclass

import nexusrpc

ENDPOINT = "fraud-detection"        # the name Payments calls, in the Nexus Registry
CALLER_NAMESPACE = "payments"       # the Payments team's namespace ...
CALLER_TASK_QUEUE = "payments-tq"   # ... and task queue
HANDLER_NAMESPACE = "fraud"         # the Fraud team's namespace ...
HANDLER_TASK_QUEUE = "fraud-tq"     # ... and the task queue its worker polls

REVIEW_THRESHOLD = 5_000   # from this amount on, an analyst decides
AMOUNT_LIMIT = 1_000_000   # the largest amount a card may be charged in one go


@dataclass
class Transaction:
    id: str
    amount: int            # whole euros
    country: str = "DE"    # where the card was used


@dataclass
class QuickScore:
    transaction_id: str
    score: int             # 0 (harmless) .. 100 (certainly fraud)


@dataclass
class Verdict:
    transaction_id: str
    approved: bool
    reason: str


@nexusrpc.service(name="fraud.v1")
class FraudService:
    check_transaction: nexusrpc.Operation[Transaction, Verdict] = nexusrpc.Operation(name="checkTransaction")
    get_quick_score: nexusrpc.Operation[Transaction, QuickScore] = nexusrpc.Operation(name="getQuickScore")
