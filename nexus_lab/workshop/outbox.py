"""Learner side: results go to a local outbox first, then through a small caller workflow in the
learner's namespace to the classroom endpoint. Offline, they wait for the next submit. Each
submission's ID is both the caller's workflow ID and the ledger's key, so a resend counts once.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from nexus_lab.config import lab_home
from nexus_lab.course.progress import atomic_write_text
from nexus_lab.workshop.contract import (
    CLASSROOM_ENDPOINT,
    SUBMIT_QUEUE,
    ClassroomService,
    ExerciseOutcome,
    Receipt,
    Submission,
)

if TYPE_CHECKING:
    from nexus_lab.lab import Lab


@workflow.defn
class SubmitResultsWorkflow:
    """The learner's caller: one Nexus operation to the shared classroom endpoint."""

    @workflow.run
    async def run(self, submission: Submission) -> Receipt:
        classroom = workflow.create_nexus_client(service=ClassroomService, endpoint=CLASSROOM_ENDPOINT)
        return await classroom.execute_operation(ClassroomService.submit_results, submission,
                                                 schedule_to_close_timeout=timedelta(seconds=30))


def outbox_path() -> Path:
    return lab_home() / "classroom" / "outbox.json"


def _read_outbox() -> list[dict[str, Any]]:
    try:
        data = json.loads(outbox_path().read_text())
    except (OSError, ValueError):
        return []
    return [raw for raw in data if isinstance(raw, dict) and raw.get("submission_id")] if isinstance(data, list) else []


def _submission(raw: dict[str, Any]) -> Submission:
    """An outbox entry (older ones also named a learner and a time: the classroom ignores both now)."""
    return Submission(raw["submission_id"], [ExerciseOutcome(**o) for o in raw.get("outcomes", [])])


def queue_submission(outcomes: list[ExerciseOutcome]) -> Submission:
    """Put results in the outbox (written atomically) before anything goes over the network."""
    submission = Submission(uuid.uuid4().hex[:16], outcomes)
    atomic_write_text(outbox_path(), json.dumps([*_read_outbox(), asdict(submission)], indent=1))
    return submission


async def flush_outbox(lab: Lab) -> tuple[list[Receipt], int]:
    """Send every queued submission; returns (the classroom's receipts, submissions still waiting)."""
    pending = _read_outbox()
    if not pending:
        return [], 0
    await lab.worker(task_queue=SUBMIT_QUEUE, workflows=[SubmitResultsWorkflow])
    receipts: list[Receipt] = []
    try:
        for raw in pending:
            submission = _submission(raw)
            receipts.append(await lab.execute(
                SubmitResultsWorkflow.run, submission, task_queue=SUBMIT_QUEUE, id=f"submit-{submission.submission_id}",
                timeout=30, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE))
    finally:
        await lab.stop_worker(task_queue=SUBMIT_QUEUE)
        delivered = {r.submission_id for r in receipts}
        left = [raw for raw in _read_outbox() if raw["submission_id"] not in delivered]
        atomic_write_text(outbox_path(), json.dumps(left, indent=1))
    return receipts, len(left)


async def submit(outcomes: list[ExerciseOutcome]) -> str:
    """Queue results and try to deliver the outbox; a plain-words line says what happened."""
    import nexus_lab
    from nexus_lab.workshop.scope import display_learner, scope_from_environment

    if not scope_from_environment().learner:
        return "Not submitted: set NEXUS_LAB_LEARNER (and the workshop's TEMPORAL_ADDRESS) first."
    if outcomes:
        queue_submission(outcomes)
    try:
        lab = await nexus_lab.connect()
    except nexus_lab.NexusLabError as err:
        return f"Saved for later: {len(_read_outbox())} submission(s) wait in the outbox ({err})."
    try:
        receipts, waiting = await flush_outbox(lab)
    finally:
        await lab.stop()
    who = f" as {display_learner(receipts[0].learner)}" if receipts else ""
    return (f"Submitted {len(receipts)} result set(s) to the classroom{who}."
            + (f" {waiting} still waiting." if waiting else ""))
