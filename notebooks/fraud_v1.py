"""The Fraud team's published contract: the ``fraud.v1`` Nexus service.

This is the only Fraud module a caller imports. It says *what* can be called (service and
operation names, input and output types), never *how* it is done: the handler code lives with the
Fraud team (see ``fraud_team.py``), and callers never import it.
"""

from __future__ import annotations

from dataclasses import dataclass

import nexusrpc


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
