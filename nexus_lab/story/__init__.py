"""The course's one story, defined once: Payments calls the Fraud team's ``fraud.v1`` service.

* :mod:`~nexus_lab.story.fraud_v1` — the contract both teams share (the only Fraud module a caller imports);
* :mod:`~nexus_lab.story.fraud_team` — the Fraud team's reference handler and ``FraudCheckWorkflow``;
* :mod:`~nexus_lab.story.payments` — the Payments callers.

Learners read plain copies beside the notebooks and exercises (``notebooks/fraud_v1.py``,
``exercises/fraud_contract.py`` …). They are generated from these modules by :func:`learner_copies`
(``nexus-lab generate``), and a test fails when one drifts.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
GENERATED = "# Generated from nexus_lab/story/{source} by `nexus-lab generate`: change the story there.\n"

# learner-facing copy (relative to the course root) -> story module it is made from
COPIES = {
    "notebooks/fraud_v1.py": "fraud_v1.py",
    "notebooks/fraud_team.py": "fraud_team.py",
    "exercises/fraud_contract.py": "fraud_v1.py",
    "solutions/fraud_contract.py": "fraud_v1.py",
}


def learner_copy(source: str) -> str:
    """A story module as learners import it: a top-level module beside their files."""
    text = (HERE / source).read_text(encoding="utf-8")
    return GENERATED.format(source=source) + text.replace("from nexus_lab.story.", "from ")


def learner_copies(root: Path) -> dict[Path, str]:
    """Every learner-facing copy under ``root`` with the text it must have."""
    return {root / copy: learner_copy(source) for copy, source in COPIES.items()}


def stale_copies(root: Path) -> list[Path]:
    """Copies that are missing or differ from the story."""
    return [path for path, text in learner_copies(root).items()
            if not path.is_file() or path.read_text(encoding="utf-8") != text]
