"""The life of one Nexus operation, told step by step from the histories of a real run.

A learner reading "the endpoint routes the request to the handler namespace" should be able to
point at the event that proves it. So every step here is built from events of runs made in the lab
(caller history, handler history when there is one, the endpoint's entry in the Nexus Registry) and
cites them with event id, time and attributes. Nothing is drawn from a canned picture: if a run
went differently (a failure, a timeout, still pending) the steps say what actually happened.

    wt = await nexus_lab.walkthrough(lab)                # fresh sync and async runs of the story
    wt = await nexus_lab.walkthrough(lab, kind="async")  # same, async chosen first
    wt = await nexus_lab.walkthrough(lab, workflow_id="payment-1", namespace="payments")  # your run

Display ``wt`` for the step-by-step widget (:mod:`nexus_lab.views.lifecycle_widget`); ``print(wt)`` gives
the same facts as text.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from temporalio.common import WorkflowIDConflictPolicy

from nexus_lab import demo
from nexus_lab.history import (
    EventView,
    History,
    LinkRef,
    PendingOperation,
    WorkflowDescription,
    preview,
)
from nexus_lab.registry import EndpointInfo
from nexus_lab.story.payments import (
    CALLER_WORKFLOWS,
    CheckTransactionWorkflow,
    QuickScoreWorkflow,
)

OUTCOME_TYPES = {
    "NexusOperationCompleted": "completed",
    "NexusOperationFailed": "failed",
    "NexusOperationCanceled": "canceled",
    "NexusOperationTimedOut": "timed out",
}
HANDLER_END_TYPES = ("WorkflowExecutionCompleted", "WorkflowExecutionFailed", "WorkflowExecutionCanceled",
                     "WorkflowExecutionTerminated", "WorkflowExecutionTimedOut", "WorkflowExecutionContinuedAsNew")

# The walkthrough's own runs use their own endpoint and task queues, so they never replace the
# workers a learner started for the story (same namespaces, so the names look familiar).
WALKTHROUGH_ENDPOINT = "fraud-walkthrough"
WALKTHROUGH_CALLER_QUEUE = "payments-walkthrough-tq"
WALKTHROUGH_HANDLER_QUEUE = "fraud-walkthrough-tq"


def clock(moment: datetime) -> str:
    """Wall-clock time of an event to the millisecond, as the Web UI would show it."""
    return moment.strftime("%H:%M:%S.%f")[:-3] + " UTC"


def milliseconds_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() * 1000


@dataclass(frozen=True)
class Evidence:
    """One fact a step rests on: an event of a real history, or the endpoint's Registry entry."""

    role: str                    # "caller", "handler", "registry" or "server" (describe of a pending op)
    where: str                   # "payments/walkthrough-sync-1a2b" or "Nexus Registry"
    event: EventView | None = None
    offset_ms: float | None = None  # from the operation's NexusOperationScheduled event
    note: str = ""               # a Registry fact, or extra detail about the event

    def text(self) -> str:
        if self.event is None:
            return f"{self.role} {self.where}: {self.note}"
        e = self.event
        offset = f" (+{self.offset_ms:.1f} ms)" if self.offset_ms is not None else ""
        summary = e.summary()
        details = f": {summary}" if summary else ""
        note = f" [{self.note}]" if self.note else ""
        return f"{self.role} {self.where} #{e.id} {e.type} at {clock(e.time)}{offset}{details}{note}"


@dataclass(frozen=True)
class Step:
    """One stage of the operation's life, who acts in it, and the events that show it happened."""

    actor: str  # "caller", "endpoint" or "handler"
    title: str
    explanation: str
    evidence: tuple[Evidence, ...]
    direction: str = ""  # for the diagram: "caller→endpoint", "endpoint→handler", "handler", "handler→caller"

    def text(self, number: int, total: int) -> str:
        lines = [f"Step {number} of {total} · {self.actor} · {self.title}", f"  {self.explanation}"]
        lines += [f"  - {evidence.text()}" for evidence in self.evidence]
        return "\n".join(lines)


@dataclass(frozen=True)
class OperationLifecycle:
    """The steps of one Nexus operation of a caller workflow, with who was involved."""

    kind: str          # "sync" (answered in the start request), "async" (started, token) or "pending"
    outcome: str       # "completed", "failed", "canceled", "timed out" or "pending"
    service: str
    operation: str
    endpoint: str
    caller_where: str  # namespace/workflow id of the caller
    scheduled_event_id: int
    target: str        # "namespace/task queue" the endpoint routes to, or "" if unknown
    steps: tuple[Step, ...]

    @property
    def caller_namespace(self) -> str:
        return self.caller_where.split("/", 1)[0]

    @property
    def caller_workflow_id(self) -> str:
        return self.caller_where.split("/", 1)[1]

    @property
    def label(self) -> str:
        return (f"[{self.kind}] {self.service}/{self.operation} via {self.endpoint}, "
                f"{self.caller_where} #{self.scheduled_event_id}, {self.outcome}")

    @property
    def short_label(self) -> str:
        return f"{self.kind} · {self.operation}"

    def text(self) -> str:
        lines = [self.label]
        lines += [step.text(n, len(self.steps)) for n, step in enumerate(self.steps, 1)]
        return "\n".join(lines)


# --- reading the events of one operation ------------------------------------------------------
def _after(events: Sequence[EventView], scheduled_id: int, types: Sequence[str]) -> EventView | None:
    """The first event of one of ``types`` that belongs to the operation scheduled at ``scheduled_id``."""
    return next((e for e in events if e.type in types and e.fields.get("scheduled") == scheduled_id), None)


def _raw_scheduled(caller: History, event_id: int) -> Any:
    """The scheduled event's raw attributes: ``endpoint_id`` and ``request_id`` are not in the view."""
    for raw in caller.raw:
        if raw.event_id == event_id:
            return raw.nexus_operation_scheduled_event_attributes
    return None


def _linked_history(link: LinkRef, histories: Sequence[History]) -> History | None:
    for history in histories:
        if (history.namespace, history.workflow_id) == (link.namespace, link.workflow_id) and \
                (not link.run_id or history.run_id in ("", link.run_id)):
            return history
    return None


def _route_of(endpoint: str, endpoints: Sequence[EndpointInfo]) -> EndpointInfo | None:
    return next((e for e in endpoints if e.name == endpoint), None)


class _Operation:
    """The events of one operation gathered from both histories, and helpers to cite them."""

    def __init__(self, caller: History, scheduled: EventView, handlers: Sequence[History],
                 endpoints: Sequence[EndpointInfo], description: WorkflowDescription | None = None):
        self.caller, self.scheduled = caller, scheduled
        pending = description.pending_operations if description else []
        self.pending: PendingOperation | None = next(
            (p for p in pending if p.scheduled_event_id == scheduled.id), None)
        self.started = _after(caller.events, scheduled.id, ["NexusOperationStarted"])
        self.outcome = _after(caller.events, scheduled.id, list(OUTCOME_TYPES))
        self.route = _route_of(scheduled.fields["endpoint"], endpoints)
        self.raw = _raw_scheduled(caller, scheduled.id)
        link = self.started.links[0] if self.started and self.started.links else None
        self.link = link
        self.handler = _linked_history(link, handlers) if link else None
        self.handler_start = self.handler.find("WorkflowExecutionStarted")[0] if self.handler else None
        ends = [e for e in self.handler.events if e.type in HANDLER_END_TYPES] if self.handler else []
        self.handler_end = ends[0] if ends else None

    @property
    def kind(self) -> str:
        if self.started is not None:
            return "async"
        return "sync" if self.outcome is not None else "pending"

    @property
    def outcome_name(self) -> str:
        return OUTCOME_TYPES[self.outcome.type] if self.outcome else "pending"

    def ms(self, event: EventView) -> float:
        return milliseconds_between(self.scheduled.time, event.time)

    def caller_fact(self, event: EventView, note: str = "") -> Evidence:
        return Evidence("caller", f"{self.caller.namespace}/{self.caller.workflow_id}", event, self.ms(event), note)

    def handler_fact(self, event: EventView, note: str = "") -> Evidence:
        assert self.handler is not None
        return Evidence("handler", f"{self.handler.namespace}/{self.handler.workflow_id}", event,
                        self.ms(event), note)

    def target(self) -> str:
        if self.route is not None:
            return f"{self.route.namespace}/{self.route.task_queue}"
        if self.handler_start is not None and self.handler is not None:
            return f"{self.handler.namespace}/{self.handler_start.fields.get('task_queue', '?')}"
        return ""


# --- the steps --------------------------------------------------------------------------------
def _schedule_step(op: _Operation) -> Step:
    f = op.scheduled.fields
    request = f" with request id {op.raw.request_id}" if op.raw is not None and op.raw.request_id else ""
    explanation = (
        f"The caller workflow asked for {f['service']}/{f['operation']} on endpoint {f['endpoint']}. When its "
        f"workflow task ended, the SDK sent a ScheduleNexusOperation command and the server recorded "
        f"#{op.scheduled.id} NexusOperationScheduled{request}. From here on the server, not the caller's "
        f"worker, delivers the request and retries it if the handler is unavailable.")
    return Step("caller", "The caller workflow schedules the operation", explanation,
                (op.caller_fact(op.scheduled),), "caller→endpoint")


def _route_step(op: _Operation) -> Step:
    endpoint = op.scheduled.fields["endpoint"]
    endpoint_id = op.raw.endpoint_id if op.raw is not None else ""
    id_note = f", endpoint id {endpoint_id}" if endpoint_id else ""
    facts = [op.caller_fact(op.scheduled, f"endpoint {endpoint}{id_note}")]
    if op.route is not None:
        same = " (the same id the scheduled event carries)" if endpoint_id and endpoint_id == op.route.id else ""
        facts.append(Evidence("registry", "Nexus Registry", note=(
            f"endpoint {op.route.name} (id {op.route.id}){same} targets namespace {op.route.namespace}, "
            f"task queue {op.route.task_queue}")))
        where = f"namespace {op.route.namespace}, task queue {op.route.task_queue}"
    else:
        where = "the target recorded when it was created (it is no longer in the Registry)"
    if op.handler_start is not None and op.handler is not None:
        facts.append(op.handler_fact(op.handler_start,
                                     f"the handler's workflow ran in namespace {op.handler.namespace}"))
    explanation = (
        f"The caller named only the endpoint. The server looked {endpoint} up in the Nexus Registry and "
        f"sent the request to {where}, where the handler's worker picks it up as a Nexus task. The caller "
        f"never learns, or needs, the handler's namespace.")
    return Step("endpoint", "The endpoint routes it to the handler's namespace and task queue", explanation,
                tuple(facts), "endpoint→handler")


def _sync_handler_step(op: _Operation) -> Step:
    if op.outcome is None:
        facts = [op.caller_fact(op.scheduled)]
        if op.pending is not None:
            facts.append(Evidence("server", "pending operation (describe)", note=str(op.pending)))
        retried = (f" The server reports attempt {op.pending.attempt}, state {op.pending.state}: failed attempts "
                   "leave no events, so only describe shows them." if op.pending is not None else
                   " lab.describe(...) on the caller shows the attempt and last failure.")
        return Step("handler", "The handler has not answered yet",
                    "There is neither a NexusOperationStarted nor a result event yet: the request is still being "
                    "delivered or retried." + retried, tuple(facts), "handler")
    delta = op.ms(op.outcome)
    explanation = (
        f"The handler method ran inside the handler worker's Nexus task and answered in the reply to the "
        f"start request. No workflow was started for it, so there is no handler history, and the caller's "
        f"history has no NexusOperationStarted: #{op.scheduled.id} Scheduled is followed directly by "
        f"#{op.outcome.id} {op.outcome.type}, {delta:.1f} ms later.")
    return Step("handler", "The handler runs inline and answers at once", explanation,
                (op.caller_fact(op.scheduled), op.caller_fact(op.outcome, "no NexusOperationStarted in between")),
                "handler")


def _async_handler_step(op: _Operation) -> Step:
    assert op.started is not None
    token = preview(op.started.fields.get("token_decoded") or op.started.fields.get("operation_token"), 120)
    facts = []
    if op.handler_start is not None and op.handler is not None:
        callbacks = op.handler_start.fields.get("completion_callbacks", 0)
        facts.append(op.handler_fact(op.handler_start, f"{callbacks} completion callback(s) attached"))
        started_there = (f"The handler started workflow {op.handler.workflow_id} "
                         f"({op.handler_start.fields.get('workflow')}) in namespace {op.handler.namespace}, "
                         f"with a completion callback pointing back at the caller")
    else:
        started_there = "The handler started a workflow (its history is not available here)"
    facts.append(op.caller_fact(op.started, "operation token returned by the handler"))
    explanation = (
        f"{started_there}, and returned at once with an operation token ({token}). The server recorded "
        f"#{op.started.id} NexusOperationStarted in the caller's history, {op.ms(op.started):.1f} ms after "
        f"scheduling; its link leads to the handler workflow and the handler's start event links back.")
    return Step("handler", "The handler starts a workflow and returns a token", explanation, tuple(facts), "handler")


def _sync_result_step(op: _Operation) -> Step:
    assert op.outcome is not None
    what = _outcome_words(op.outcome)
    explanation = (
        f"The answer travelled back in the same request: the server recorded #{op.outcome.id} "
        f"{op.outcome.type} ({what}) and woke the caller workflow, whose next workflow task receives it "
        f"as the return value (or exception) of execute_operation.")
    return Step("caller", "The result comes back inline", explanation, (op.caller_fact(op.outcome),), "handler→caller")


def _async_result_step(op: _Operation) -> Step:
    facts = []
    if op.handler_end is not None:
        facts.append(op.handler_fact(op.handler_end, "handler workflow closes"))
    if op.outcome is None:
        explanation = ("The caller is still waiting: the handler workflow has not finished, or its completion "
                       "callback has not been delivered yet (lab.describe on the handler shows the callback).")
        return Step("caller", "The result has not come back yet", explanation, tuple(facts), "handler→caller")
    facts.append(op.caller_fact(op.outcome, "delivered by the completion callback"))
    gap = (f", {milliseconds_between(op.handler_end.time, op.outcome.time):.1f} ms after the handler "
           f"workflow closed at #{op.handler_end.id}" if op.handler_end is not None else "")
    explanation = (
        f"Nobody polled for the result. When the handler workflow closed, the server invoked the completion "
        f"callback attached to its start event, which recorded #{op.outcome.id} {op.outcome.type} "
        f"({_outcome_words(op.outcome)}) in the caller's history{gap}. The caller workflow then resumed with it.")
    return Step("caller", "The result comes back through the completion callback", explanation, tuple(facts),
                "handler→caller")


def _outcome_words(event: EventView) -> str:
    f = event.fields
    if "result" in f:
        return f"result {preview(f['result'])}"
    if "failure" in f:
        return "failure " + " ← ".join(f["failure"])
    return OUTCOME_TYPES.get(event.type, event.type)


def lifecycle_of(caller: History, scheduled: EventView, handlers: Sequence[History] = (),
                 endpoints: Sequence[EndpointInfo] = (),
                 description: WorkflowDescription | None = None) -> OperationLifecycle:
    """The steps of the operation ``caller`` scheduled at event ``scheduled``, from real events
    (and, for a running caller, from its ``describe``: attempts of an operation still pending)."""
    op = _Operation(caller, scheduled, handlers, endpoints, description)
    steps: tuple[Step, ...]
    if op.kind == "async":
        steps = (_schedule_step(op), _route_step(op), _async_handler_step(op), _async_result_step(op))
    else:
        steps = (_schedule_step(op), _route_step(op), _sync_handler_step(op))
        if op.outcome is not None:
            steps += (_sync_result_step(op),)
    f = scheduled.fields
    return OperationLifecycle(op.kind, op.outcome_name, f["service"], f["operation"], f["endpoint"],
                              f"{caller.namespace}/{caller.workflow_id}", scheduled.id, op.target(), steps)


def lifecycles(caller: History, handlers: Sequence[History] = (), endpoints: Sequence[EndpointInfo] = (),
               description: WorkflowDescription | None = None) -> list[OperationLifecycle]:
    """One lifecycle per Nexus operation the caller workflow scheduled, in order."""
    return [lifecycle_of(caller, event, handlers, endpoints, description)
            for event in caller.find("NexusOperationScheduled")]


class Walkthrough:
    """Operations to step through (one chosen at a time); displays as the lifecycle widget."""

    def __init__(self, operations: Sequence[OperationLifecycle], *, kind: str | None = None):
        if not operations:
            raise ValueError("No Nexus operations to walk through: the workflow scheduled none.")
        self.operations = list(operations)
        self.choice = self.index_of(kind) if kind else 0
        self.ui_urls: dict[str, str] = {}  # caller "namespace/workflow id" -> its Web UI page, when the lab has one

    def index_of(self, kind: str) -> int:
        """The first operation of ``kind`` ("sync" or "async")."""
        for index, op in enumerate(self.operations):
            if op.kind == kind:
                return index
        kinds = ", ".join(sorted({op.kind for op in self.operations}))
        raise ValueError(f"No {kind} operation here (found: {kinds}).")

    def text(self) -> str:
        head = (f"Nexus operation lifecycle, from real runs: {len(self.operations)} operation(s) "
                "(choose one in the widget, step with Next/Back).")
        return "\n\n".join([head, *(op.text() for op in self.operations)])

    def __repr__(self) -> str:
        return self.text()

    def widget(self) -> Any:
        from nexus_lab.views.lifecycle_widget import LifecycleWidget

        return LifecycleWidget(self)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget())


# --- making the runs --------------------------------------------------------------------------
async def _ensure_story(lab: Any) -> None:
    """The story's namespaces, a walkthrough endpoint and workers on the walkthrough's own queues."""
    await lab.namespace(demo.CALLER_NAMESPACE)
    await lab.namespace(demo.HANDLER_NAMESPACE)
    await lab.endpoint(WALKTHROUGH_ENDPOINT, namespace=demo.HANDLER_NAMESPACE, task_queue=WALKTHROUGH_HANDLER_QUEUE,
                       description="fraud.v1 for the lifecycle walkthrough")
    if lab.workers.get(demo.HANDLER_NAMESPACE, WALKTHROUGH_HANDLER_QUEUE) is None:
        await lab.worker(namespace=demo.HANDLER_NAMESPACE, task_queue=WALKTHROUGH_HANDLER_QUEUE,
                         workflows=[demo.FraudCheckWorkflow], nexus_services=[demo.FraudServiceHandler()])
    if lab.workers.get(demo.CALLER_NAMESPACE, WALKTHROUGH_CALLER_QUEUE) is None:
        await lab.worker(namespace=demo.CALLER_NAMESPACE, task_queue=WALKTHROUGH_CALLER_QUEUE,
                         workflows=CALLER_WORKFLOWS)


async def run_story_operation(lab: Any, kind: str) -> History:
    """Run one sync (getQuickScore) or async (checkTransaction) operation now; its caller history."""
    workflow_id = f"walkthrough-{kind}-{uuid.uuid4().hex[:6]}"
    request = demo.PaymentRequest(demo.Transaction(workflow_id, 120), endpoint=WALKTHROUGH_ENDPOINT)
    run = QuickScoreWorkflow.run if kind == "sync" else CheckTransactionWorkflow.run
    await lab.execute(run, request, namespace=demo.CALLER_NAMESPACE, task_queue=WALKTHROUGH_CALLER_QUEUE,
                      id=workflow_id, id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING)
    return await lab.history(workflow_id, namespace=demo.CALLER_NAMESPACE)


async def walkthrough(lab: Any, kind: str = "sync", *, workflow_id: str | None = None,
                      namespace: str | None = None) -> Walkthrough:
    """Step through Nexus operations of real runs: by default one sync and one async operation of
    the course story run right now; with ``workflow_id``, every operation that workflow scheduled."""
    if kind not in ("sync", "async"):
        raise ValueError(f"kind is 'sync' or 'async', not {kind!r}")
    if workflow_id is not None:
        callers = [await lab.history(workflow_id, namespace=namespace)]
    else:
        await _ensure_story(lab)
        callers = [await run_story_operation(lab, "sync"), await run_story_operation(lab, "async")]
    endpoints = await lab.endpoints()
    operations = []
    for caller in callers:
        description = (await lab.describe(caller.workflow_id, namespace=caller.namespace)
                       if caller.status == "RUNNING" else None)
        operations += lifecycles(caller, await lab.follow(caller), endpoints, description)
    walk = Walkthrough(operations)
    walk.ui_urls = {f"{c.namespace}/{c.workflow_id}": url for c in callers if (url := c.web_ui_url())}
    if any(op.kind == kind for op in operations):
        walk.choice = walk.index_of(kind)
    return walk
