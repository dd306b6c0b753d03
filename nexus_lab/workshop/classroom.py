"""Class progress over Temporal itself: learners submit check results to the instructor as a Nexus
operation on the instructor's ``classroom.v1`` service, so the workshop runs on what it teaches.

The parts live by role: :mod:`.contract` (the service and its types), :mod:`.ledger` (the
instructor's handler), :mod:`.outbox` (the learner's side), :mod:`.report` (the class table) and
:mod:`.cli` (``nexus-lab workshop serve|report``). This module keeps their names importable in one place.
"""

from __future__ import annotations

from nexus_lab.workshop.cli import serve_classroom, workshop_main
from nexus_lab.workshop.contract import (
    CLASSROOM_ENDPOINT,
    CLASSROOM_NAMESPACE,
    CLASSROOM_QUEUE,
    SUBMIT_QUEUE,
    ClassroomService,
    ExerciseOutcome,
    Receipt,
    Submission,
)
from nexus_lab.workshop.ledger import ClassroomHandler, Ledger, Record, open_classroom, verified_caller
from nexus_lab.workshop.outbox import SubmitResultsWorkflow, flush_outbox, outbox_path, queue_submission, submit
from nexus_lab.workshop.report import ClassReport, ExerciseRow, LearnerRow, class_report

__all__ = [
    "CLASSROOM_ENDPOINT", "CLASSROOM_NAMESPACE", "CLASSROOM_QUEUE", "SUBMIT_QUEUE", "ClassReport", "ClassroomHandler",
    "ClassroomService", "ExerciseOutcome", "ExerciseRow", "LearnerRow", "Ledger", "Receipt", "Record", "Submission",
    "SubmitResultsWorkflow", "class_report", "flush_outbox", "open_classroom", "outbox_path", "queue_submission",
    "serve_classroom", "submit", "verified_caller", "workshop_main",
]
