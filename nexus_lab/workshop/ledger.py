"""Instructor side: the classroom handler and the ledger it writes.

The dev server has no authentication, so the handler trusts only what the server itself recorded:
the Nexus request carries a link to the caller's ``NexusOperationScheduled`` event, and the handler
reads that event back from the server. It must exist, name the classroom endpoint and carry this
request's ID; the learner is the owner of the caller's namespace (``alice--default`` → ``alice``)
and the time is the event's, written by the server.
"""

from __future__ import annotations

import functools
import json
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nexusrpc
import nexusrpc.handler
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.service import RPCError

from nexus_lab.config import lab_home
from nexus_lab.connection import ask_again_if_transient
from nexus_lab.course.progress import atomic_write_text
from nexus_lab.workshop.contract import (
    CLASSROOM_ENDPOINT,
    CLASSROOM_NAMESPACE,
    CLASSROOM_QUEUE,
    ClassroomService,
    ExerciseOutcome,
    Receipt,
    Submission,
)
from nexus_lab.workshop.scope import learner_of

if TYPE_CHECKING:
    from temporalio.client import Client

    from nexus_lab.lab import Lab


@dataclass
class Record:
    """One submission as the classroom recorded it."""

    submission_id: str
    learner: str       # from the caller's namespace, as the server knows it
    received_at: float  # server time the learner's workflow scheduled the submission (epoch seconds)
    outcomes: list[ExerciseOutcome] = field(default_factory=list)

    @property
    def key(self) -> str:  # per learner: nobody can take another learner's submission ID
        return f"{self.learner}/{self.submission_id}"


class Ledger:
    """Every submission the classroom received, keyed by learner and submission ID, in one JSON file."""

    def __init__(self, path: Path | None = None):
        self.path = path or lab_home() / "classroom" / "ledger.json"
        self._records: dict[str, dict[str, Any]] = self._read()

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def add(self, record: Record) -> bool:
        """Record a submission; ``False`` if it was already recorded (a resend)."""
        if record.key in self._records:
            return False
        self._records[record.key] = asdict(record)
        atomic_write_text(self.path, json.dumps(self._records, indent=1, sort_keys=True))
        return True

    def records(self) -> list[Record]:
        self._records = self._read() or self._records
        records = []
        for raw in self._records.values():
            try:
                records.append(Record(raw["submission_id"], raw["learner"], float(raw["received_at"]),
                                      [ExerciseOutcome(**o) for o in raw["outcomes"]]))
            except (KeyError, TypeError, ValueError):
                continue  # an entry of an older format: not counted
        return records


def _refused(why: str) -> nexusrpc.HandlerError:
    return nexusrpc.HandlerError(f"Submission refused: {why}", type=nexusrpc.HandlerErrorType.BAD_REQUEST)


def _workflow_event(link: nexusrpc.Link) -> tuple[str, str, str, int] | None:
    """(namespace, workflow ID, run ID, event ID) of a ``temporal:///namespaces/…/history?eventID=…`` link."""
    url = urllib.parse.urlparse(link.url)
    parts = [urllib.parse.unquote(p) for p in url.path.split("/")]
    query = urllib.parse.parse_qs(url.query)
    if url.scheme != "temporal" or len(parts) != 7 or parts[1] != "namespaces" or parts[3] != "workflows":
        return None
    try:
        return parts[2], parts[4], parts[5], int(query["eventID"][0])
    except (KeyError, ValueError):
        return None


async def _scheduled_event(client: Client, namespace: str, workflow_id: str, run_id: str,
                           event_id: int) -> HistoryEvent | None:
    request = GetWorkflowExecutionHistoryRequest(
        namespace=namespace, execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id))
    while True:
        try:
            page = await ask_again_if_transient(
                functools.partial(client.workflow_service.get_workflow_execution_history, request))
        except RPCError:
            return None
        for event in page.history.events:
            if event.event_id == event_id:
                return event
        if not page.next_page_token:
            return None
        request.next_page_token = page.next_page_token


async def verified_caller(client: Client, ctx: nexusrpc.handler.StartOperationContext) -> tuple[str, float]:
    """(learner, server time) of the workflow that scheduled this request, read back from the server."""
    for link in ctx.inbound_links:
        where = _workflow_event(link)
        if where is None:
            continue
        event = await _scheduled_event(client, *where)
        if event is None or event.event_type != EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED:
            continue
        scheduled = event.nexus_operation_scheduled_event_attributes
        if scheduled.request_id != ctx.request_id or scheduled.endpoint != CLASSROOM_ENDPOINT:
            continue
        learner = learner_of(where[0])
        if learner is None:
            raise _refused(f"namespace {where[0]!r} belongs to no learner.")
        return learner, event.event_time.seconds + event.event_time.nanos / 1e9
    raise _refused("it did not come from a learner's workflow on this server.")


@nexusrpc.handler.service_handler(service=ClassroomService)
class ClassroomHandler:
    def __init__(self, ledger: Ledger, client: Client):
        self.ledger = ledger
        self.client = client  # reads callers' histories (any namespace on the room's server)

    @nexusrpc.handler.sync_operation
    async def submit_results(self, ctx: nexusrpc.handler.StartOperationContext, submission: Submission) -> Receipt:
        if not submission.submission_id:
            raise _refused("it has no ID.")
        learner, received_at = await verified_caller(self.client, ctx)
        added = self.ledger.add(Record(submission.submission_id, learner, received_at, submission.outcomes))
        return Receipt(submission.submission_id, learner, received_at, duplicate=not added)


async def open_classroom(lab: Lab, ledger: Ledger) -> None:
    """Namespace, endpoint and handler worker of the instructor's classroom service."""
    await lab.namespace(CLASSROOM_NAMESPACE)
    await ensure_classroom_endpoint(lab)
    await lab.worker(namespace=CLASSROOM_NAMESPACE, task_queue=CLASSROOM_QUEUE,
                     nexus_services=[ClassroomHandler(ledger, lab.client())])


async def ensure_classroom_endpoint(lab: Lab) -> str:
    """Point the classroom endpoint at the classroom's worker; returns "created", "updated" or "unchanged"
    (anything but "unchanged" while serving means someone changed or deleted it on the server)."""
    endpoint = await lab.endpoint(CLASSROOM_ENDPOINT, namespace=CLASSROOM_NAMESPACE, task_queue=CLASSROOM_QUEUE,
                                  description="The instructor's classroom.v1 service: learners' check results")
    return endpoint.change
