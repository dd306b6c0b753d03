"""Caller and handler histories side by side on one time axis.

A Nexus operation is written into two histories in two namespaces. Read one after the other they
look unrelated; put on one clock, the causality shows: the caller's ``NexusOperationScheduled``,
the handler workflow starting a few milliseconds later, its completion, then the caller's
``NexusOperationCompleted``. The links between the histories (``NexusOperationStarted`` → handler
start, handler start → caller's scheduled event) become arrows.

    tl = await nexus_lab.timeline(lab, "payment-1", namespace="payments")

starts from any workflow (caller or handler), follows its Nexus links both ways and shows every
history it reaches. Failures are marked, and retries too: retried workflow tasks and activities leave
an attempt count in the history; retried Nexus requests leave no event at all, so for a running
workflow the pending operations' attempt and last failure come from ``describe``.
Display ``tl`` for the widget (:mod:`nexus_lab.views.timeline_widget`), ``print(tl)`` for the text.
"""

from __future__ import annotations

import html
import math
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nexus_lab.history import (
    TASK_EVENTS,
    EventView,
    History,
    LinkRef,
    WorkflowDescription,
)
from nexus_lab.views.lifecycle import clock, milliseconds_between

MAX_HISTORIES = 8  # a fan-out (many callers of one handler) stays readable
FAILURE_WORDS = ("Failed", "TimedOut", "Terminated")
CANCEL_WORDS = ("Canceled", "CancelRequested")
RETRY_STATES = ("BACKING_OFF", "BLOCKED")


def category_of(event: EventView, attempt: int) -> str:
    """How an event is drawn: failure, retry, cancel, nexus, workflow, activity, task or other."""
    if any(word in event.type for word in FAILURE_WORDS) or event.kind == "problem":
        return "failure"
    if attempt > 1:
        return "retry"
    if any(word in event.type for word in CANCEL_WORDS):
        return "cancel"
    if event.kind in ("nexus", "workflow", "activity", "task"):
        return event.kind
    return "other"


def _attempts(history: History) -> dict[int, int]:
    """Attempt numbers the history records (workflow task scheduled, activity started), by event id."""
    found = {}
    for raw in history.raw:
        attrs = raw.WhichOneof("attributes")
        if attrs in ("workflow_task_scheduled_event_attributes", "activity_task_started_event_attributes"):
            attempt = getattr(raw, attrs).attempt
            if attempt > 1:
                found[raw.event_id] = attempt
    return found


def role_of(history: History) -> str:
    """``caller`` if it schedules Nexus operations, ``handler`` if a Nexus operation started it."""
    calls = bool(history.find("NexusOperationScheduled"))
    started = history.find("WorkflowExecutionStarted")
    handles = bool(started and (started[0].links or started[0].fields.get("completion_callbacks")))
    return {(True, True): "caller + handler", (True, False): "caller", (False, True): "handler"}.get(
        (calls, handles), "workflow")


@dataclass(frozen=True)
class Lane:
    key: str                    # "A", "B", ... (used in the text form and the widget)
    role: str
    history: History
    description: WorkflowDescription | None = None  # for running workflows: pending operations, callbacks

    @property
    def where(self) -> str:
        return f"{self.history.namespace}/{self.history.workflow_id}"

    def retry_notes(self) -> list[str]:
        """Pending Nexus operations and callbacks being retried or blocked, from ``describe``."""
        if self.description is None:
            return []
        notes = [f"{op.operation} (#{op.scheduled_event_id}) {op.state}, attempt {op.attempt}"
                 + (f", last failure: {op.last_failure}" if op.last_failure else "")
                 + (f", blocked: {op.blocked_reason}" if op.blocked_reason else "")
                 for op in self.description.pending_operations if op.attempt > 1 or op.state in RETRY_STATES]
        notes += [f"completion callback {cb.state}, attempt {cb.attempt}"
                  + (f", last failure: {cb.last_failure}" if cb.last_failure else "")
                  for cb in self.description.callbacks if cb.attempt > 1 or cb.state in RETRY_STATES]
        return notes


@dataclass(frozen=True)
class Mark:
    """One event placed on the shared axis."""

    lane: str
    event: EventView
    offset_ms: float
    category: str
    attempt: int = 1

    @property
    def key(self) -> str:
        return f"{self.lane}#{self.event.id}"

    def label(self) -> str:
        return f"{self.lane} #{self.event.id} {self.event.type}"


@dataclass(frozen=True)
class Connection:
    """A Nexus link from one event to an event in another lane of this timeline."""

    source: Mark
    target: Mark

    def text(self) -> str:
        return f"{self.source.label()} → {self.target.label()}"


@dataclass
class Timeline:
    lanes: list[Lane]
    origin: datetime
    marks: list[Mark]
    connections: list[Connection]
    outside: list[tuple[Mark, LinkRef]] = field(default_factory=list)  # links to histories not shown
    source: tuple | None = None  # (lab, workflow id, namespace, limit) when fetched from a lab: see refresh()
    now_ms: float | None = None  # when the histories were fetched, if a workflow was still running then

    @property
    def span_ms(self) -> float:
        """To the last event, or to the moment of fetching while a workflow runs: the wait is part of the story."""
        return max([*(m.offset_ms for m in self.marks), self.now_ms or 0.0], default=0.0)

    def running_lanes(self) -> list[Lane]:
        return [lane for lane in self.lanes if lane.history.status == "RUNNING"]

    def lane(self, key: str) -> Lane:
        return next(lane for lane in self.lanes if lane.key == key)

    def mark(self, key: str) -> Mark:
        return next(m for m in self.marks if m.key == key)

    def shown(self, *, tasks: bool = False) -> list[Mark]:
        """Marks in time order; workflow-task bookkeeping left out unless ``tasks`` (retries and
        failures of workflow tasks are always shown)."""
        return [m for m in self.marks if tasks or m.event.type not in TASK_EVENTS or m.category in ("failure", "retry")]

    def connections_of(self, mark: Mark) -> list[Connection]:
        return [c for c in self.connections if mark.key in (c.source.key, c.target.key)]

    def problems(self) -> list[str]:
        """Failures and retries, each as one line: what the red and orange marks show."""
        lines = []
        for m in self.marks:
            if m.category == "failure":
                lines.append(f"{m.label()} at +{m.offset_ms:.1f} ms: {m.event.summary()}")
            elif m.category == "retry":
                lines.append(f"{m.label()} at +{m.offset_ms:.1f} ms: attempt {m.attempt}")
        for lane in self.lanes:
            lines += [f"{lane.key} pending: {note}" for note in lane.retry_notes()]
        return lines

    def text(self, *, tasks: bool = False) -> str:
        lines = [f"Timeline of {_histories(len(self.lanes))} on one clock: 0 ms = {clock(self.origin)}, "
                 f"span {self.span_ms:.1f} ms. ★ Nexus event, ! failure, ↻ retry, ⊘ cancel."]
        for lane in self.lanes:
            lines.append(f"  {lane.key} {lane.role:<16} {lane.where} · {lane.history.workflow_type} · "
                         f"{lane.history.status}")
        for m in self.shown(tasks=tasks):
            mark = {"nexus": "★", "failure": "!", "retry": "↻", "cancel": "⊘"}.get(m.category, " ")
            attempt = f" (attempt {m.attempt})" if m.attempt > 1 else ""
            summary = m.event.summary()
            lines.append(f"{m.offset_ms:>9.1f} ms  {m.lane} #{m.event.id:<3} {mark} {m.event.type}{attempt}"
                         + (f"  {summary}" if summary else ""))
        if self.now_ms is not None:
            running = ", ".join(lane.key for lane in self.running_lanes())
            lines.append(f"{self.now_ms:>9.1f} ms  fetched: {running} still running")
        lines.append("Links between the histories:" if self.connections else "No links between these histories.")
        lines += [f"  {c.text()}" for c in self.connections]
        lines += [f"  {m.label()} → {ref} (not shown)" for m, ref in self.outside]
        problems = self.problems()
        lines.append("Failures and retries:" if problems else "Failures and retries: none.")
        lines += [f"  {p}" for p in problems]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def svg(self, *, tasks: bool = False, highlight: Sequence[str] = ()) -> str:
        from nexus_lab.views.timeline_svg import render

        return render(self, tasks=tasks, highlight=highlight)

    def ui_links(self) -> list[tuple[str, str]]:
        """``(lane key and place, Web UI page)`` for each history the lab's Web UI can show."""
        return [(f"{lane.key} {lane.where}", url) for lane in self.lanes if (url := lane.history.web_ui_url())]

    def ui_links_html(self) -> str:
        links = [f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{html.escape(label)}</a>'
                 for label, url in self.ui_links()]
        return f"<div>Open in the Web UI: {' · '.join(links)}</div>" if links else ""

    def _repr_html_(self) -> str:
        return self.svg() + self.ui_links_html() + f"<pre>{html.escape(self.text())}</pre>"

    def widget(self) -> Any:
        from nexus_lab.views.timeline_widget import TimelineWidget

        return TimelineWidget(self)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget())


def _histories(count: int) -> str:
    return f"{count} history" if count == 1 else f"{count} histories"


def _lane_order(history: History) -> tuple[int, datetime]:
    """Callers above handlers; within a role, the earlier workflow first."""
    rank = {"caller": 0, "caller + handler": 1, "handler": 2}.get(role_of(history), 3)
    first = history.events[0].time if history.events else datetime.max
    return rank, first


def build_timeline(histories: Sequence[History],
                   descriptions: dict[tuple[str, str], WorkflowDescription] | None = None,
                   fetched_at: datetime | None = None) -> Timeline:
    """Put ``histories`` on one axis (0 = the earliest event) and resolve the links between them.

    ``fetched_at`` (when the histories were read) extends the axis while a workflow still runs."""
    descriptions = descriptions or {}
    ordered = sorted(histories, key=_lane_order)
    keys = iter(string.ascii_uppercase)
    lanes = [Lane(next(keys), role_of(h), h, descriptions.get((h.namespace, h.workflow_id))) for h in ordered]
    origin = min((h.events[0].time for h in ordered if h.events), default=datetime.now(UTC))
    marks = []
    for lane in lanes:
        attempts = _attempts(lane.history)
        for event in lane.history.events:
            attempt = attempts.get(event.id, 1)
            marks.append(Mark(lane.key, event, milliseconds_between(origin, event.time),
                              category_of(event, attempt), attempt))
    marks.sort(key=lambda m: (m.offset_ms, m.lane, m.event.id))
    connections, outside = _resolve_links(lanes, marks)
    running = any(h.status == "RUNNING" for h in ordered)
    now_ms = milliseconds_between(origin, fetched_at) if fetched_at is not None and running else None
    return Timeline(lanes, origin, marks, connections, outside, now_ms=now_ms)


def _resolve_links(lanes: list[Lane], marks: list[Mark]) -> tuple[list[Connection], list[tuple[Mark, LinkRef]]]:
    by_key = {m.key: m for m in marks}
    connections, outside = [], []
    for lane in lanes:
        for event in lane.history.events:
            for link in event.links:
                target_lane = next((other for other in lanes if (other.history.namespace, other.history.workflow_id)
                                    == (link.namespace, link.workflow_id)), None)
                source = by_key[f"{lane.key}#{event.id}"]
                target = by_key.get(f"{target_lane.key}#{link.event_id or 1}") if target_lane else None
                if target is None:
                    outside.append((source, link))
                else:
                    connections.append(Connection(source, target))
    return connections, outside


def nice_step(span_ms: float, ticks: int = 6) -> float:
    """A round tick spacing (1, 2 or 5 × 10^k ms) giving about ``ticks`` ticks over ``span_ms``."""
    raw = max(span_ms, 1e-3) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


async def collect_histories(lab: Any, workflow_id: str, namespace: str | None = None,
                            limit: int = MAX_HISTORIES) -> list[History]:
    """The workflow's history and every history reachable through Nexus links (both ways)."""
    first = await lab.history(workflow_id, namespace=namespace)
    found = {(first.namespace, first.workflow_id): first}
    queue = [first]
    while queue and len(found) < limit:
        for linked in await lab.follow(queue.pop(0)):
            key = (linked.namespace, linked.workflow_id)
            if key not in found and len(found) < limit:
                found[key] = linked
                queue.append(linked)
    return list(found.values())


async def timeline(lab: Any, workflow_id: str, namespace: str | None = None, *,
                   limit: int = MAX_HISTORIES) -> Timeline:
    """The timeline of a workflow and the histories it is linked with through Nexus (any workflow ID:
    caller or handler). Running workflows are described too, so pending retries show."""
    histories = await collect_histories(lab, workflow_id, namespace, limit)
    fetched_at = datetime.now(UTC)
    descriptions = {}
    for history in histories:
        if history.status == "RUNNING":
            descriptions[(history.namespace, history.workflow_id)] = await lab.describe(
                history.workflow_id, namespace=history.namespace)
    built = build_timeline(histories, descriptions, fetched_at)
    built.source = (lab, workflow_id, namespace, limit)  # for refresh()
    return built


async def refresh(old: Timeline) -> Timeline:
    """The same timeline fetched again (a running workflow has moved on, a retry happened)."""
    if old.source is None:
        raise ValueError("This timeline was built from histories, not fetched from a lab: nothing to refresh.")
    lab, workflow_id, namespace, limit = old.source
    return await timeline(lab, workflow_id, namespace, limit=limit)


@dataclass
class Timelines:
    """Several timelines on one page, each under its title: runs that differ in one choice (say, the four
    cancellation types) read best side by side, on the same kind of axis."""

    titles: list[str]
    timelines: list[Timeline]

    def pairs(self) -> list[tuple[str, Timeline]]:
        return list(zip(self.titles, self.timelines, strict=True))

    def text(self, *, tasks: bool = False) -> str:
        return "\n\n".join(f"== {title} ==\n{tl.text(tasks=tasks)}" for title, tl in self.pairs())

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return "".join(f"<h4>{html.escape(title)}</h4>{tl._repr_html_()}" for title, tl in self.pairs())

    def widget(self) -> Any:
        from nexus_lab.views.timeline_widget import TimelinesWidget

        return TimelinesWidget(self)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget())


async def timelines(lab: Any, workflow_ids: Sequence[str], namespace: str | None = None, *,
                    titles: Sequence[str] = (), limit: int = MAX_HISTORIES) -> Timelines:
    """One timeline per workflow (each with its linked histories), shown one under the other;
    ``titles`` default to the workflow IDs."""
    if titles and len(titles) != len(workflow_ids):
        raise ValueError(f"{len(titles)} titles for {len(workflow_ids)} workflows")
    built = [await timeline(lab, workflow_id, namespace, limit=limit) for workflow_id in workflow_ids]
    return Timelines(list(titles or workflow_ids), built)
