"""Class progress over Temporal itself: learners submit check results to the instructor as a Nexus
operation on the instructor's ``classroom.v1`` service, so the workshop runs on what it teaches.

* Instructor: ``nexus-lab workshop serve`` runs the shared dev server, the ``classroom`` namespace,
  the ``classroom`` endpoint and a worker whose handler records each submission in a ledger file.
  ``nexus-lab workshop report`` prints the class table (or writes it as HTML).
* Learner: ``nexus-lab check --submit`` (or :func:`submit`) puts the results in a local outbox first,
  then sends everything in the outbox through a small caller workflow in the learner's namespace.
  Offline, the results wait in the outbox for the next submit. Each submission has an ID that is
  both the caller's workflow ID and the ledger's key, so a resend is never counted twice.
"""

from __future__ import annotations

import asyncio
import collections
import html
import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import nexusrpc
import nexusrpc.handler
from temporalio import workflow
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from nexus_lab.config import lab_home
from nexus_lab.course.progress import atomic_write_text

CLASSROOM_NAMESPACE = "classroom"
CLASSROOM_ENDPOINT = "classroom"  # shared by every learner (not scoped)
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
    learner: str
    sent_at: float
    outcomes: list[ExerciseOutcome] = field(default_factory=list)


@dataclass
class Receipt:
    submission_id: str
    duplicate: bool


@nexusrpc.service(name="classroom.v1")
class ClassroomService:
    submit_results: nexusrpc.Operation[Submission, Receipt] = nexusrpc.Operation(name="submitResults")


# --- instructor side --------------------------------------------------------------------------
class Ledger:
    """Every submission the classroom received, keyed by submission ID, in one JSON file."""

    def __init__(self, path: Path | None = None):
        self.path = path or lab_home() / "classroom" / "ledger.json"
        self._submissions: dict[str, dict[str, Any]] = self._read()

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def add(self, submission: Submission) -> bool:
        """Record a submission; ``False`` if this ID was already recorded (a resend)."""
        if submission.submission_id in self._submissions:
            return False
        self._submissions[submission.submission_id] = asdict(submission)
        atomic_write_text(self.path, json.dumps(self._submissions, indent=1, sort_keys=True))
        return True

    def submissions(self) -> list[Submission]:
        self._submissions = self._read() or self._submissions
        return [
            Submission(s["submission_id"], s["learner"], s["sent_at"], [ExerciseOutcome(**o) for o in s["outcomes"]])
            for s in self._submissions.values()
        ]


@nexusrpc.handler.service_handler(service=ClassroomService)
class ClassroomHandler:
    def __init__(self, ledger: Ledger):
        self.ledger = ledger

    @nexusrpc.handler.sync_operation
    async def submit_results(self, ctx: nexusrpc.handler.StartOperationContext, submission: Submission) -> Receipt:
        if not submission.learner or not submission.submission_id:
            raise nexusrpc.HandlerError("a submission needs a learner and an ID",
                                        type=nexusrpc.HandlerErrorType.BAD_REQUEST)
        added = self.ledger.add(submission)
        return Receipt(submission.submission_id, duplicate=not added)


async def open_classroom(lab, ledger: Ledger) -> None:
    """Namespace, endpoint and handler worker of the instructor's classroom service."""
    await lab.namespace(CLASSROOM_NAMESPACE)
    await lab.endpoint(CLASSROOM_ENDPOINT, namespace=CLASSROOM_NAMESPACE, task_queue=CLASSROOM_QUEUE,
                       description="The instructor's classroom.v1 service: learners' check results")
    await lab.worker(namespace=CLASSROOM_NAMESPACE, task_queue=CLASSROOM_QUEUE,
                     nexus_services=[ClassroomHandler(ledger)])


# --- learner side -----------------------------------------------------------------------------
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
        return json.loads(outbox_path().read_text())
    except (OSError, ValueError):
        return []


def queue_submission(learner: str, outcomes: list[ExerciseOutcome]) -> Submission:
    """Put results in the outbox (written atomically) before anything goes over the network."""
    submission = Submission(f"{learner}-{uuid.uuid4().hex[:12]}", learner, time.time(), outcomes)
    pending = _read_outbox() + [asdict(submission)]
    atomic_write_text(outbox_path(), json.dumps(pending, indent=1))
    return submission


async def flush_outbox(lab) -> tuple[int, int]:
    """Send every queued submission; returns (delivered now, still waiting)."""
    pending = _read_outbox()
    if not pending:
        return 0, 0
    await lab.worker(task_queue=SUBMIT_QUEUE, workflows=[SubmitResultsWorkflow])
    delivered = []
    try:
        for raw in pending:
            submission = Submission(raw["submission_id"], raw["learner"], raw["sent_at"],
                                    [ExerciseOutcome(**o) for o in raw["outcomes"]])
            await lab.execute(SubmitResultsWorkflow.run, submission, task_queue=SUBMIT_QUEUE,
                              id=f"submit-{submission.submission_id}", timeout=30,
                              id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                              id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
            delivered.append(submission.submission_id)
    finally:
        await lab.stop_worker(task_queue=SUBMIT_QUEUE)
        left = [raw for raw in _read_outbox() if raw["submission_id"] not in delivered]
        atomic_write_text(outbox_path(), json.dumps(left, indent=1))
    return len(delivered), len(left)


async def submit(outcomes: list[ExerciseOutcome], *, learner: str | None = None) -> str:
    """Queue results and try to deliver the outbox; a plain-words line says what happened."""
    import nexus_lab
    from nexus_lab.workshop.scope import scope_from_environment

    learner = learner or scope_from_environment().learner
    if not learner:
        return "Not submitted: set NEXUS_LAB_LEARNER (and the workshop's TEMPORAL_ADDRESS) first."
    queue_submission(learner, outcomes)
    try:
        lab = await nexus_lab.connect()
    except (nexus_lab.LabConnectionError, nexus_lab.LabConfigError) as err:
        return f"Saved for later: {len(_read_outbox())} submission(s) wait in the outbox ({err})."
    try:
        sent, waiting = await flush_outbox(lab)
    finally:
        await lab.stop()
    return f"Submitted {sent} result set(s) to the classroom." + (f" {waiting} still waiting." if waiting else "")


# --- the class report -------------------------------------------------------------------------
@dataclass
class LearnerRow:
    learner: str
    passed: list[str]
    attempted: list[str]
    last_activity: float


@dataclass
class ExerciseRow:
    exercise: str
    learners: int
    passed: int
    common_failure: str

    @property
    def pass_rate(self) -> float:
        return self.passed / self.learners if self.learners else 0.0


@dataclass
class ClassReport:
    learners: list[LearnerRow]
    exercises: list[ExerciseRow]

    def text(self) -> str:
        lines = ["Learner              passed  attempted  last activity"]
        for row in self.learners:
            when = time.strftime("%H:%M:%S", time.localtime(row.last_activity))
            lines.append(f"{row.learner:<20} {len(row.passed):>6}  {len(row.attempted):>9}  {when}")
        lines += ["", "Exercise                       pass rate  most common failure"]
        for ex in self.exercises:
            rate = f"{ex.passed}/{ex.learners}"
            lines.append(f"{ex.exercise:<30} {rate:>9}  {ex.common_failure or '-'}")
        return "\n".join(lines)

    __str__ = text

    def html(self) -> str:
        learners = "".join(
            f"<tr><td>{html.escape(r.learner)}</td><td>{len(r.passed)}</td><td>{len(r.attempted)}</td>"
            f"<td>{time.strftime('%H:%M:%S', time.localtime(r.last_activity))}</td></tr>" for r in self.learners)
        exercises = "".join(
            f"<tr><td>{html.escape(e.exercise)}</td><td>{e.passed}/{e.learners} ({e.pass_rate:.0%})</td>"
            f"<td>{html.escape(e.common_failure or '-')}</td></tr>" for e in self.exercises)
        return ("<html><head><meta charset='utf-8'><meta http-equiv='refresh' content='10'>"
                "<title>Nexus Lab class report</title></head><body><h1>Class report</h1>"
                "<table border='1'><tr><th>Learner</th><th>Passed</th><th>Attempted</th><th>Last activity</th></tr>"
                f"{learners}</table><h2>Exercises</h2><table border='1'><tr><th>Exercise</th><th>Pass rate</th>"
                f"<th>Most common failure</th></tr>{exercises}</table></body></html>")


def class_report(submissions: list[Submission]) -> ClassReport:
    """Latest outcome per learner and exercise, then the two views an instructor needs."""
    latest: dict[tuple[str, str], tuple[float, ExerciseOutcome]] = {}
    activity: dict[str, float] = {}
    failures: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for sub in sorted(submissions, key=lambda s: s.sent_at):
        activity[sub.learner] = max(activity.get(sub.learner, 0.0), sub.sent_at)
        for outcome in sub.outcomes:
            latest[(sub.learner, outcome.exercise)] = (sub.sent_at, outcome)
            if outcome.status != "pass" and outcome.message:
                failures[outcome.exercise][outcome.message.splitlines()[0][:120]] += 1
    learners = []
    for learner in sorted(activity):
        mine = {ex: o for (who, ex), (_, o) in latest.items() if who == learner}
        learners.append(LearnerRow(learner, sorted(ex for ex, o in mine.items() if o.status == "pass"),
                                   sorted(mine), activity[learner]))
    exercises = []
    for exercise in sorted({ex for (_, ex) in latest}):
        outcomes = [o for (_, ex), (_, o) in latest.items() if ex == exercise]
        common = failures[exercise].most_common(1)
        exercises.append(ExerciseRow(exercise, len(outcomes), sum(o.status == "pass" for o in outcomes),
                                     common[0][0] if common else ""))
    return ClassReport(learners, exercises)


async def serve_classroom(port: int, ip: str, ledger: Ledger) -> None:
    """``nexus-lab workshop serve``: shared server + classroom service, until interrupted."""
    from nexus_lab.connection import connect_client
    from nexus_lab.lab import Lab
    from nexus_lab.server import start_embedded_server

    server = await start_embedded_server(port, ip=ip, reuse=False)
    lab = Lab(await connect_client(server.address), server=server)
    try:
        await open_classroom(lab, ledger)
        host = ip if ip not in ("0.0.0.0", "::") else "<this machine's address>"
        print(f"Workshop server ready. Learners run:\n"
              f"  export TEMPORAL_ADDRESS={host}:{server.port} NEXUS_LAB_LEARNER=<your-name>\n"
              f"Web UI: http://{host}:{server.ui_port}   Class report: nexus-lab workshop report\n"
              f"Ledger: {ledger.path}   Press Ctrl+C to end the workshop.", flush=True)
        while server.is_running():
            await asyncio.sleep(0.5)
    finally:
        await lab.stop()


def workshop_main(argv: list[str]) -> int:
    """``nexus-lab workshop serve|report`` (instructor side)."""
    import argparse

    from nexus_lab.config import DEFAULT_PORT

    parser = argparse.ArgumentParser(prog="nexus-lab workshop", description="Run a workshop on one shared cluster.")
    sub = parser.add_subparsers(dest="action", required=True)
    serve = sub.add_parser("serve", help="start the room's dev server and the classroom service")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--ip", default="0.0.0.0", help="address to listen on (0.0.0.0: the whole room)")
    serve.add_argument("--ledger", type=Path, help="where submissions are kept")
    report = sub.add_parser("report", help="show the class table from the ledger")
    report.add_argument("--ledger", type=Path, help="the ledger `serve` writes")
    report.add_argument("--html", type=Path, help="also write the table as an HTML page (it reloads itself)")
    report.add_argument("--watch", type=float, metavar="SECONDS", help="redraw every SECONDS until Ctrl+C")
    args = parser.parse_args(argv)
    ledger = Ledger(args.ledger)
    if args.action == "serve":
        try:
            asyncio.run(serve_classroom(args.port, args.ip, ledger))
        except KeyboardInterrupt:
            print("Workshop server stopped.")
        return 0
    try:
        while True:
            _show_report(ledger, args.html, clear=bool(args.watch))
            if not args.watch:
                return 0
            time.sleep(args.watch)
    except KeyboardInterrupt:
        return 0


def _show_report(ledger: Ledger, html_path: Path | None, *, clear: bool) -> None:
    """Print the class table (and refresh the HTML page): the instructor's live view."""
    table = class_report(ledger.submissions())
    if clear:
        print("\033[2J\033[H", end="")
        print(time.strftime("Class report at %H:%M:%S (Ctrl+C to stop)"))
    print(table.text() if table.learners else f"No submissions yet in {ledger.path}.", flush=True)
    if html_path:
        atomic_write_text(html_path, table.html())
        print(f"HTML report: {html_path}")
