"""The ``classroom.v1`` Nexus service: what a learner sends the instructor, and what comes back.

A submission says *what* was checked, never *who* or *when*: the handler reads both from the
server (the caller's namespace and the time its operation was scheduled), so nobody can submit as
someone else or date a result in 2100.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nexusrpc

CLASSROOM_NAMESPACE = "classroom"
CLASSROOM_ENDPOINT = "classroom"  # shared by every learner (see scope.UNSCOPED_ENDPOINTS)
CLASSROOM_QUEUE = "classroom-tq"
SUBMIT_QUEUE = "classroom-submit"


@dataclass
class ExerciseOutcome:
    exercise: str
    status: str  # "pass", "fail" or "error" (Exercism's words)
    message: str = ""


@dataclass
class Submission:
    submission_id: str
    outcomes: list[ExerciseOutcome] = field(default_factory=list)


@dataclass
class Receipt:
    """What the classroom recorded: the learner and time are the server's, not the sender's."""

    submission_id: str
    learner: str
    received_at: float
    duplicate: bool


@nexusrpc.service(name="classroom.v1")
class ClassroomService:
    submit_results: nexusrpc.Operation[Submission, Receipt] = nexusrpc.Operation(name="submitResults")
