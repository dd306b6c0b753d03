# Generated from nexus_lab/story/fraud_v1.py by `nexus-lab generate`: change the story there.
"""The Fraud team's published contract: the ``fraud.v1`` Nexus service.

This is the only Fraud module a caller imports. It says *what* can be called (service and
operation names, input and output types) and where (the endpoint's name in the Nexus Registry),
never *how* it is done: the handler code lives with the Fraud team (``fraud_team.py``).
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
    amount: int            # whole euros, to keep the story simple
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
    # Python attribute names are snake_case; the names on the wire are the ones both teams agreed on.
    check_transaction: nexusrpc.Operation[Transaction, Verdict] = nexusrpc.Operation(name="checkTransaction")
    get_quick_score: nexusrpc.Operation[Transaction, QuickScore] = nexusrpc.Operation(name="getQuickScore")
