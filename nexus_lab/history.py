"""Read a workflow's event history the way a Nexus learner needs to.

A Nexus operation leaves its trace in two histories: the caller's (``NexusOperationScheduled`` →
``Started`` → ``Completed``...) and, for an async operation, the handler workflow's. This module
decodes both into :class:`History` objects with

* a compact text form (stable enough for nbval with the course's sanitize file: no timestamps),
* an HTML form for JupyterLab, Nexus events highlighted, times relative to the first event,
* decoded payloads, failure chains and operation tokens,
* the links between the two histories, so a caller's operation leads to its handler workflow and
  back (:meth:`History.links`).

:class:`WorkflowDescription` shows what ``temporal workflow describe`` shows about pending Nexus
operations (state, attempt, last failure, BLOCKED by the circuit breaker) and callbacks.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio.api.common.v1 import Link, Payload, Payloads
from temporalio.api.enums.v1 import (
    CallbackState,
    EventType,
    NexusOperationCancellationState,
    NexusOperationExecutionStatus,
    PendingNexusOperationState,
    TimeoutType,
    WorkflowExecutionStatus,
    WorkflowTaskFailedCause,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import DataConverter

from nexus_lab.views import palette

_converter = DataConverter.default.payload_converter
PREVIEW_CHARS = 90

TASK_EVENTS = {"WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted"}


def _camel(enum_name: str, prefix: str) -> str:
    return "".join(part.capitalize() for part in enum_name.removeprefix(prefix).split("_"))


def event_type_name(event: HistoryEvent) -> str:
    """``EVENT_TYPE_NEXUS_OPERATION_STARTED`` → ``NexusOperationStarted``."""
    return _camel(EventType.Name(event.event_type), "EVENT_TYPE_")


def task_failed_cause_name(cause: WorkflowTaskFailedCause.ValueType) -> str:
    """``WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR`` → ``NonDeterministicError``."""
    return _camel(WorkflowTaskFailedCause.Name(cause), "WORKFLOW_TASK_FAILED_CAUSE_")


def _kind(name: str) -> str:
    if name.startswith("NexusOperation"):
        return "nexus"
    if name in TASK_EVENTS:
        return "task"
    if name == "WorkflowTaskFailed" or name == "WorkflowTaskTimedOut":
        return "problem"
    if name.startswith("WorkflowExecution"):
        return "workflow"
    if name.startswith("Activity"):
        return "activity"
    return "other"


def decode_payload(payload: Payload) -> Any:
    """A payload as Python data (JSON payloads become dicts/lists); undecodable ones say so."""
    if not payload.metadata and not payload.data:
        return None
    try:
        return _converter.from_payload(payload)
    except Exception:  # any payload the default converter cannot read is shown as bytes
        encoding = payload.metadata.get("encoding", b"?").decode(errors="replace")
        return f"<{len(payload.data)} bytes, {encoding}>"


def _payloads(payloads: Payloads) -> Any:
    values = [decode_payload(p) for p in payloads.payloads]
    return values[0] if len(values) == 1 else (values or None)


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """Compact JSON for a decoded value, cut to ``limit`` characters."""
    try:
        text = json.dumps(value, separators=(", ", ": "), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode_operation_token(token: str) -> dict | None:
    """Workflow-run tokens are base64url JSON such as ``{"t":1,"ns":"fraud","wid":"..."}``."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        return data if isinstance(data, dict) else None
    except (ValueError, json.JSONDecodeError):
        return None


def _failure_label(failure: Failure) -> str:
    info = failure.WhichOneof("failure_info")
    if info == "application_failure_info":
        app = failure.application_failure_info
        extras = [f"type={app.type}"] if app.type else []
        if app.non_retryable:
            extras.append("non-retryable")
        return "ApplicationError" + (f"[{', '.join(extras)}]" if extras else "")
    if info == "nexus_handler_failure_info":
        handler = failure.nexus_handler_failure_info
        retry = {1: ", retryable", 2: ", non-retryable"}.get(handler.retry_behavior, "")
        return f"HandlerError[{handler.type}{retry}]"
    if info == "nexus_operation_execution_failure_info":
        return "NexusOperationError"
    if info == "timeout_failure_info":
        return f"TimeoutError[{_timeout_name(failure)}]"
    if info == "canceled_failure_info":
        return "CancelledError"
    if info == "terminated_failure_info":
        return "TerminatedError"
    if info == "server_failure_info":
        return "ServerError"
    if info == "activity_failure_info":
        return "ActivityError"
    if info == "child_workflow_execution_failure_info":
        return "ChildWorkflowError"
    return "Failure"


def _timeout_name(failure: Failure) -> str:
    return TimeoutType.Name(failure.timeout_failure_info.timeout_type).removeprefix("TIMEOUT_TYPE_")


def timeout_kind(failure: Failure) -> str | None:
    """Which limit ran out (``SCHEDULE_TO_START``, ``SCHEDULE_TO_CLOSE`` …), from a failure's cause chain."""
    current: Failure | None = failure
    while current is not None:
        if current.HasField("timeout_failure_info"):
            return _timeout_name(current)
        current = current.cause if current.HasField("cause") else None
    return None


def failure_chain(failure: Failure) -> list[str]:
    """Each link of a failure's cause chain as ``Label: message``, outermost first."""
    chain = []
    current: Failure | None = failure
    while current is not None and (current.message or current.WhichOneof("failure_info")):
        label = _failure_label(current)
        chain.append(f"{label}: {current.message}" if current.message else label)
        current = current.cause if current.HasField("cause") else None
    return chain


def _duration(d: Any) -> str:
    seconds = d.seconds + d.nanos / 1e9
    return f"{seconds:g}s"


@dataclass(frozen=True)
class LinkRef:
    """A pointer from one history's event to another workflow's event (a Nexus link)."""

    namespace: str
    workflow_id: str
    run_id: str
    event_id: int
    event_type: str
    from_event_id: int

    def __str__(self) -> str:
        at = f" event {self.event_id}" if self.event_id else ""
        return f"{self.namespace}/{self.workflow_id}{at} ({self.event_type})"


def _link_ref(link: Link, from_event_id: int) -> LinkRef | None:
    if not link.HasField("workflow_event"):
        return None
    target = link.workflow_event
    if target.HasField("event_ref"):
        event_id, etype = target.event_ref.event_id, target.event_ref.event_type
    else:
        event_id, etype = 0, target.request_id_ref.event_type
    return LinkRef(target.namespace, target.workflow_id, target.run_id, event_id,
                   _camel(EventType.Name(etype), "EVENT_TYPE_"), from_event_id)


def event_links(event: HistoryEvent) -> list[LinkRef]:
    """Links on the event itself (caller → handler) and on the completion callbacks a handler
    workflow carries back to each of its callers (handler → caller)."""
    links = list(event.links)
    if event.HasField("workflow_execution_started_event_attributes"):
        for callback in event.workflow_execution_started_event_attributes.completion_callbacks:
            links.extend(callback.links)
    if event.HasField("workflow_execution_options_updated_event_attributes"):
        for callback in event.workflow_execution_options_updated_event_attributes.attached_completion_callbacks:
            links.extend(callback.links)
    if event.HasField("workflow_execution_update_accepted_event_attributes"):
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        links.extend(request.links)
        for callback in request.completion_callbacks:
            links.extend(callback.links)
    refs = [_link_ref(link, event.event_id) for link in links]
    return list(dict.fromkeys(ref for ref in refs if ref is not None))  # the same link may be on both


def _fields(name: str, event: HistoryEvent) -> dict[str, Any]:
    """The attributes worth showing for each event type, decoded."""
    attrs_field = event.WhichOneof("attributes")
    a = getattr(event, attrs_field) if attrs_field else None
    f: dict[str, Any] = {}
    if a is None:
        return f
    if name == "WorkflowExecutionStarted":
        f["workflow"] = a.workflow_type.name
        f["task_queue"] = a.task_queue.name
        if a.input.payloads:  # a workflow started without arguments has no input (not ``null``)
            f["input"] = _payloads(a.input)
        if a.completion_callbacks:
            f["completion_callbacks"] = len(a.completion_callbacks)
    elif name == "WorkflowExecutionCompleted":
        f["result"] = _payloads(a.result)
    elif name in ("WorkflowExecutionFailed", "WorkflowTaskFailed", "NexusOperationFailed",
                  "NexusOperationCanceled", "NexusOperationTimedOut", "NexusOperationCancelRequestFailed",
                  "ActivityTaskFailed"):
        if name == "WorkflowTaskFailed":
            f["cause"] = task_failed_cause_name(a.cause)
        if getattr(a, "scheduled_event_id", 0) and name.startswith("Nexus"):
            f["scheduled"] = a.scheduled_event_id
        if name == "NexusOperationCancelRequestFailed":
            f["requested"] = a.requested_event_id
        if a.HasField("failure"):
            f["failure"] = failure_chain(a.failure)
    elif name == "WorkflowExecutionTerminated":
        f["reason"] = a.reason
    elif name == "WorkflowExecutionCancelRequested":
        if a.cause:
            f["cause"] = a.cause
    elif name == "NexusOperationScheduled":
        f["endpoint"] = a.endpoint
        f["service"] = a.service
        f["operation"] = a.operation
        f["input"] = decode_payload(a.input)
        for limit in ("schedule_to_close_timeout", "schedule_to_start_timeout", "start_to_close_timeout"):
            if a.HasField(limit):
                f[limit] = _duration(getattr(a, limit))
    elif name == "NexusOperationStarted":
        f["scheduled"] = a.scheduled_event_id
        f["operation_token"] = a.operation_token
        decoded = decode_operation_token(a.operation_token)
        if decoded:
            f["token_decoded"] = decoded
    elif name == "NexusOperationCompleted":
        f["scheduled"] = a.scheduled_event_id
        f["result"] = decode_payload(a.result)
    elif name in ("NexusOperationCancelRequested",):
        f["scheduled"] = a.scheduled_event_id
    elif name == "NexusOperationCancelRequestCompleted":
        f["scheduled"] = a.scheduled_event_id
        f["requested"] = a.requested_event_id
    elif name == "WorkflowExecutionUpdateAccepted":
        request = a.accepted_request
        f["update"] = request.input.name
        f["update_id"] = request.meta.update_id
        f["input"] = _payloads(request.input.args)
    elif name == "WorkflowExecutionUpdateAdmitted":
        f["update"] = a.request.input.name
        f["update_id"] = a.request.meta.update_id
        f["input"] = _payloads(a.request.input.args)
    elif name == "WorkflowExecutionUpdateCompleted":
        f["update_id"] = a.meta.update_id
        f["accepted"] = a.accepted_event_id
        if a.outcome.HasField("failure"):
            f["failure"] = failure_chain(a.outcome.failure)
        else:
            f["result"] = _payloads(a.outcome.success)
    elif name == "ActivityTaskScheduled":
        f["activity"] = a.activity_type.name
        f["input"] = _payloads(a.input)
    elif name == "ActivityTaskCompleted":
        f["result"] = _payloads(a.result)
    elif name == "TimerStarted":
        f["timer"] = a.timer_id
        f["duration"] = _duration(a.start_to_fire_timeout)
    elif name == "WorkflowExecutionSignaled":
        f["signal"] = a.signal_name
        f["input"] = _payloads(a.input)
    elif name == "WorkflowExecutionOptionsUpdated":
        if a.attached_request_id:
            f["attached_request_id"] = a.attached_request_id
        if a.attached_completion_callbacks:
            f["attached_callbacks"] = len(a.attached_completion_callbacks)
    return f


@dataclass
class EventView:
    """One decoded history event."""

    id: int
    time: datetime
    type: str
    kind: str
    fields: dict[str, Any]
    links: list[LinkRef] = field(default_factory=list)

    def summary(self) -> str:
        """One line of the interesting attributes, e.g. ``fraud-detection › fraud.v1 › checkTransaction``."""
        return ", ".join(self.summary_parts())

    def summary_parts(self) -> list[str]:
        """The pieces of :meth:`summary`: the HTML table wraps between them, never inside one."""
        f = self.fields
        parts = []
        if self.type == "NexusOperationScheduled":
            parts.append(f"{f['endpoint']} › {f['service']} › {f['operation']}")
            parts.append(f"input {preview(f['input'])}")
            for limit in ("schedule_to_close", "schedule_to_start", "start_to_close"):
                if f"{limit}_timeout" in f:
                    parts.append(f"{limit} {f[f'{limit}_timeout']}")
        elif self.type == "WorkflowExecutionStarted":
            parts.append(f"{f['workflow']} on {f['task_queue']}")
            if "input" in f:
                parts.append(f"input {preview(f['input'])}")
            if f.get("completion_callbacks"):
                parts.append(f"{f['completion_callbacks']} completion callback(s)")
        else:
            for key, value in f.items():
                if key == "operation_token" and "token_decoded" in f:
                    continue
                if key == "failure":
                    parts.append("failure " + " ← ".join(value))
                elif key in ("scheduled", "requested", "accepted"):
                    parts.append(f"{key} #{value}")
                elif key == "token_decoded":
                    parts.append(f"token {preview(value, 120)}")
                elif isinstance(value, str) and key not in ("input", "result"):
                    parts.append(f"{key} {value}")
                else:
                    parts.append(f"{key} {preview(value)}")
        for link in self.links:
            parts.append(f"→ {link}")
        return parts


def _status_of(events: list[EventView]) -> str:
    for event in reversed(events):
        if event.type.startswith("WorkflowExecution") and event.type.removeprefix("WorkflowExecution") in (
                "Completed", "Failed", "Canceled", "Terminated", "TimedOut", "ContinuedAsNew"):
            return event.type.removeprefix("WorkflowExecution").upper()
    return "RUNNING"


class History:
    """A decoded workflow history with text and HTML forms."""

    ui_base: str | None = None  # the Web UI of the lab that fetched it (set by Lab.history)

    def web_ui_url(self) -> str | None:
        """This run's page in the Web UI, when the lab has one."""
        from nexus_lab.views.display import workflow_ui_url

        return workflow_ui_url(self.ui_base, self.namespace, self.workflow_id, self.run_id) if self.ui_base else None

    def _ui_link_html(self) -> str:
        from nexus_lab.views.display import ui_link_html

        return ui_link_html(self.web_ui_url())

    def __init__(self, namespace: str, workflow_id: str, run_id: str, raw: list[HistoryEvent]):
        self.namespace = namespace
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.raw = raw
        self.events = [
            EventView(e.event_id, e.event_time.ToDatetime(tzinfo=UTC), event_type_name(e),
                      _kind(event_type_name(e)), _fields(event_type_name(e), e), event_links(e))
            for e in raw
        ]
        started = next((e for e in self.events if e.type == "WorkflowExecutionStarted"), None)
        self.workflow_type = started.fields.get("workflow", "?") if started else "?"
        self.status = _status_of(self.events)

    def event_types(self, *, tasks: bool = False) -> list[str]:
        """Event type names in order; workflow-task bookkeeping left out unless ``tasks``."""
        return [e.type for e in self.events if tasks or e.type not in TASK_EVENTS]

    def nexus_events(self) -> list[EventView]:
        return [e for e in self.events if e.kind == "nexus"]

    def nexus_event_types(self) -> list[str]:
        return [e.type for e in self.nexus_events()]

    def find(self, event_type: str) -> list[EventView]:
        return [e for e in self.events if e.type == event_type]

    def workflow_saw(self, event_type: str) -> bool:
        """Whether the workflow's code has run since the first ``event_type`` event was recorded.

        The server records an event such as NexusOperationStarted first; the workflow learns of it
        at its next workflow task. Wait for this before cancelling a caller "mid-operation": a
        cancel that reaches the workflow in the same task as the start ends the caller at once,
        and the handler is never told (seen with this SDK even under WAIT_COMPLETED).
        """
        first = next((e.id for e in self.events if e.type == event_type), None)
        return first is not None and any(e.type == "WorkflowTaskCompleted" and e.id > first for e in self.events)

    def links(self) -> list[LinkRef]:
        """Links to other workflows: caller → handler from NexusOperationStarted, handler → caller
        from WorkflowExecutionStarted."""
        return [link for e in self.events for link in e.links]

    def operation_tokens(self) -> list[str]:
        return [e.fields["operation_token"] for e in self.find("NexusOperationStarted")]

    def title(self) -> str:
        return f"{self.namespace}/{self.workflow_id} · {self.workflow_type} · {self.status}"

    def text(self, *, tasks: bool = False) -> str:
        shown = [e for e in self.events if tasks or e.type not in TASK_EVENTS]
        width = max((len(e.type) for e in shown), default=10)
        lines = [self.title()]
        for e in shown:
            mark = "★" if e.kind == "nexus" else ("!" if e.kind == "problem" else " ")
            summary = e.summary()
            lines.append(f"{e.id:>4} {mark} {e.type:<{width}}  {summary}".rstrip())
        hidden = len(self.events) - len(shown)
        if hidden:
            lines.append(f"({hidden} workflow-task events hidden; .text(tasks=True) shows them)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())

    def _repr_html_(self) -> str:
        """A table that wraps only between the parts of a summary, never inside a name, token or ID
        (JupyterLab otherwise breaks long words anywhere); wide rows scroll instead."""
        start = self.events[0].time if self.events else None
        rows = []
        for e in self.events:
            style = _ROW_STYLE.get(e.kind, "")
            offset = f"+{(e.time - start).total_seconds() * 1000:.0f} ms" if start else ""
            details = "<br>".join(f'<span style="white-space:nowrap">{html.escape(part)}</span>'
                                  for part in e.summary_parts())
            rows.append(
                f'<tr style="{style}"><td>{e.id}</td><td style="white-space:nowrap">{offset}</td>'
                f'<td style="white-space:nowrap">{html.escape(e.type)}</td><td>{details}</td></tr>'
            )
        cell = "text-align:left;vertical-align:top;padding:2px 8px"
        return (
            f'<div class="nexus-lab-history" style="overflow-x:auto"><b>{html.escape(self.title())}</b>'
            f"{self._ui_link_html()}"
            f'<style>.nexus-lab-history td,.nexus-lab-history th{{{cell}}}</style>'
            '<table style="border-collapse:collapse;word-break:keep-all;overflow-wrap:normal">'
            '<thead><tr><th>#</th><th>time</th><th>event</th><th>details</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )


_ROW_STYLE = {"nexus": f"background:{palette.NEXUS_BG};font-weight:600", "task": f"color:{palette.SOFT_TEXT}",
              "problem": f"background:{palette.PROBLEM_BG}"}


def _ago(ts: Any) -> str:
    if not ts or not ts.seconds:
        return ""
    dt = ts.ToDatetime(tzinfo=UTC)
    return dt.isoformat(timespec="seconds")


@dataclass
class PendingOperation:
    """One pending Nexus operation of a running workflow, as ``temporal workflow describe`` shows it."""

    endpoint: str
    service: str
    operation: str
    state: str
    attempt: int
    scheduled_event_id: int
    last_failure: str = ""
    blocked_reason: str = ""
    operation_token: str = ""
    cancellation_state: str = ""

    def __str__(self) -> str:
        parts = [f"{self.endpoint} › {self.service} › {self.operation}: {self.state}, attempt {self.attempt}"]
        if self.blocked_reason:
            parts.append(f"blocked: {self.blocked_reason}")
        if self.last_failure:
            parts.append(f"last failure: {self.last_failure}")
        if self.cancellation_state:
            parts.append(f"cancellation: {self.cancellation_state}")
        if self.operation_token:
            decoded = decode_operation_token(self.operation_token)
            parts.append(f"token {preview(decoded, 120) if decoded else self.operation_token}")
        return "; ".join(parts)


@dataclass
class PendingCallback:
    """A completion callback of a handler workflow: how its result gets back to the caller."""

    url: str
    state: str
    attempt: int
    last_failure: str = ""
    links: list[LinkRef] = field(default_factory=list)  # the caller's events this callback completes

    def __str__(self) -> str:
        failure = f"; last failure: {self.last_failure}" if self.last_failure else ""
        to = "".join(f"; → {link}" for link in self.links)
        return f"callback {self.url}: {self.state}, attempt {self.attempt}{failure}{to}"


@dataclass
class WorkflowDescription:
    namespace: str
    workflow_id: str
    workflow_type: str
    status: str
    pending_operations: list[PendingOperation]
    callbacks: list[PendingCallback]
    pending_activities: int = 0
    task_queue: str = ""
    never_picked_up: bool = False  # a workflow task is waiting and no worker has ever started one

    def text(self) -> str:
        lines = [f"{self.namespace}/{self.workflow_id} · {self.workflow_type} · {self.status}"]
        if self.never_picked_up:
            lines.append(f"No worker has picked it up: is a worker running for task queue "
                         f"{self.task_queue!r} in namespace {self.namespace!r} with {self.workflow_type} registered?")
        if self.pending_operations:
            lines.append("Pending Nexus operations:")
            lines += [f"  - {op}" for op in self.pending_operations]
        else:
            lines.append("No pending Nexus operations.")
        if self.callbacks:
            lines.append("Completion callbacks:")
            lines += [f"  - {cb}" for cb in self.callbacks]
        if self.pending_activities:
            lines.append(f"Pending activities: {self.pending_activities}")
        return "\n".join(lines)

    __str__ = text

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return f"<pre class='nexus-lab-describe'>{html.escape(self.text())}</pre>"


def _last_failure(info: Any) -> str:
    if info.HasField("last_attempt_failure"):
        return " ← ".join(failure_chain(info.last_attempt_failure))
    return ""


def describe_from_raw(namespace: str, raw: Any) -> WorkflowDescription:
    """Build a :class:`WorkflowDescription` from a ``DescribeWorkflowExecutionResponse``."""
    info = raw.workflow_execution_info
    ops = []
    for op in raw.pending_nexus_operations:
        cancel_state = ""
        if op.HasField("cancellation_info"):
            cancel_state = _camel(NexusOperationCancellationState.Name(op.cancellation_info.state),
                                  "NEXUS_OPERATION_CANCELLATION_STATE_").upper()
        ops.append(PendingOperation(
            endpoint=op.endpoint, service=op.service, operation=op.operation,
            state=PendingNexusOperationState.Name(op.state).removeprefix("PENDING_NEXUS_OPERATION_STATE_"),
            attempt=op.attempt, scheduled_event_id=op.scheduled_event_id,
            last_failure=_last_failure(op), blocked_reason=op.blocked_reason,
            operation_token=op.operation_token, cancellation_state=cancel_state,
        ))
    callbacks = [
        PendingCallback(
            url=cb.callback.nexus.url if cb.callback.HasField("nexus") else "(internal)",
            state=CallbackState.Name(cb.state).removeprefix("CALLBACK_STATE_"),
            attempt=cb.attempt, last_failure=_last_failure(cb),
            links=[ref for ref in (_link_ref(link, 0) for link in cb.callback.links) if ref is not None],
        )
        for cb in raw.callbacks
    ]
    task = raw.pending_workflow_task
    never_picked_up = (raw.HasField("pending_workflow_task") and task.attempt <= 1
                       and not task.HasField("started_time") and info.history_length <= 2)
    return WorkflowDescription(
        namespace=namespace, workflow_id=info.execution.workflow_id, workflow_type=info.type.name,
        status=WorkflowExecutionStatus.Name(info.status).removeprefix("WORKFLOW_EXECUTION_STATUS_"),
        pending_operations=ops, callbacks=callbacks, pending_activities=len(raw.pending_activities),
        task_queue=info.task_queue, never_picked_up=never_picked_up,
    )


@dataclass
class OperationDescription:
    """A standalone Nexus operation: started by a client, with no caller workflow and so no caller
    history. What the lab knows of it comes from ``DescribeNexusOperationExecution`` (the same source
    as ``temporal nexus operation describe``): where it went, its input and outcome, its token and
    the link to the handler workflow it started (:meth:`links`, so ``lab.follow`` works on it)."""

    namespace: str
    operation_id: str
    run_id: str
    endpoint: str
    service: str
    operation: str
    status: str            # RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT
    state: str = ""        # while running: SCHEDULED, BACKING_OFF, STARTED, BLOCKED
    attempt: int = 0
    input: Any = None
    result: Any = None
    failure: list[str] = field(default_factory=list)
    last_failure: str = ""
    blocked_reason: str = ""
    operation_token: str = ""
    handler_links: list[LinkRef] = field(default_factory=list)
    schedule_time: datetime | None = None
    close_time: datetime | None = None

    def links(self) -> list[LinkRef]:
        """Links to the handler workflow the operation started (asynchronous operations only)."""
        return list(self.handler_links)

    def title(self) -> str:
        return f"{self.namespace}/{self.operation_id} · standalone Nexus operation · {self.status}"

    def lines(self) -> list[str]:
        lines = [self.title(), f"  {self.endpoint} › {self.service} › {self.operation}",
                 f"  input {preview(self.input)}"]
        if self.status == "RUNNING":
            lines.append(f"  {self.state}, attempt {self.attempt}"
                         + (f"; blocked: {self.blocked_reason}" if self.blocked_reason else ""))
        if self.last_failure:
            lines.append(f"  last failure: {self.last_failure}")
        if self.operation_token:
            decoded = decode_operation_token(self.operation_token)
            lines.append(f"  token {preview(decoded, 120) if decoded else self.operation_token}")
        if self.status == "COMPLETED":
            lines.append(f"  result {preview(self.result)}")
        if self.failure:
            lines.append("  failure " + " ← ".join(self.failure))
        if self.schedule_time and self.close_time:
            lines.append(f"  took {(self.close_time - self.schedule_time).total_seconds() * 1000:.0f} ms")
        lines += [f"  → {link}" for link in self.handler_links]
        return lines

    def text(self) -> str:
        return "\n".join(self.lines())

    __str__ = text

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        title, *rest = self.lines()
        rows = "".join(f'<li style="white-space:nowrap">{html.escape(line.strip())}</li>' for line in rest)
        return (f'<div class="nexus-lab-operation" style="overflow-x:auto"><b>{html.escape(title)}</b>'
                f"<ul>{rows}</ul></div>")


def operation_from_raw(namespace: str, raw: Any) -> OperationDescription:
    """Build an :class:`OperationDescription` from a ``DescribeNexusOperationExecutionResponse``
    (asked with ``include_input`` and ``include_outcome``)."""
    info = raw.info
    links = [ref for ref in (_link_ref(link, 0) for link in info.links) if ref is not None]
    state = ""
    if info.state:
        state = PendingNexusOperationState.Name(info.state).removeprefix("PENDING_NEXUS_OPERATION_STATE_")
    return OperationDescription(
        namespace=namespace, operation_id=info.operation_id, run_id=raw.run_id or info.run_id,
        endpoint=info.endpoint, service=info.service, operation=info.operation,
        status=NexusOperationExecutionStatus.Name(info.status).removeprefix("NEXUS_OPERATION_EXECUTION_STATUS_"),
        state=state, attempt=info.attempt,
        input=decode_payload(raw.input) if raw.HasField("input") else None,
        result=decode_payload(raw.result) if raw.HasField("result") else None,
        failure=failure_chain(raw.failure) if raw.HasField("failure") else [],
        last_failure=_last_failure(info), blocked_reason=info.blocked_reason,
        operation_token=info.operation_token, handler_links=links,
        schedule_time=info.schedule_time.ToDatetime(tzinfo=UTC) if info.HasField("schedule_time") else None,
        close_time=info.close_time.ToDatetime(tzinfo=UTC) if info.HasField("close_time") else None,
    )


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def stable_text(text: str) -> str:
    """Replace UUIDs (run IDs, request IDs) by a marker: used by tests comparing rendered histories."""
    return _UUID.sub("<uuid>", text)
