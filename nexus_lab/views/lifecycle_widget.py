"""The operation lifecycle walkthrough as an ipywidget: choose an operation, step with Back/Next.

Each step shows who acts (caller, endpoint, handler) on a small three-box diagram, the step's
explanation, and a table of the events it rests on (history, event id, time, offset, attributes).
All of it comes from :class:`nexus_lab.views.lifecycle.Walkthrough`; the widget only shows one step at a time.
"""

from __future__ import annotations

import html

import ipywidgets as w

from nexus_lab.views import palette
from nexus_lab.views.display import TextFallback, ui_link_html
from nexus_lab.views.lifecycle import (
    Evidence,
    OperationLifecycle,
    Step,
    Walkthrough,
    clock,
)

ACTIVE_STYLE = f"background:{palette.NEXUS_BG};border:2px solid {palette.NEXUS};font-weight:600"
IDLE_STYLE = f"background:{palette.IDLE_BG};border:1px solid {palette.RULE};color:{palette.SOFT_TEXT}"
ARROWS = {  # direction of a step -> (arrow between caller and endpoint, arrow between endpoint and handler)
    "caller→endpoint": ("⟶", "  "),
    "endpoint→handler": ("  ", "⟶"),
    "handler": ("  ", "  "),
    "handler→caller": ("⟵", "⟵"),
}


def _box(title: str, detail: str, active: bool) -> str:
    style = ACTIVE_STYLE if active else IDLE_STYLE
    current = ' aria-current="step"' if active else ""
    return (f'<div class="nexus-lab-actor"{current} style="{style};padding:6px 10px;border-radius:6px;'
            f'min-width:150px;text-align:center">{html.escape(title)}<br><small>{html.escape(detail)}</small></div>')


def diagram_html(op: OperationLifecycle, step: Step) -> str:
    """Caller → Endpoint → Handler, with the step's actor highlighted and the message's direction."""
    left, right = ARROWS.get(step.direction, ("", ""))
    arrow = f'<div style="font-size:22px;padding:0 8px;color:{palette.NEXUS}">{{}}</div>'
    caller_ns = op.caller_where.split("/")[0]
    active = {"caller": step.actor == "caller", "endpoint": step.actor == "endpoint",
              "handler": step.actor == "handler"}
    return ('<div class="nexus-lab-diagram" aria-hidden="true" style="display:flex;align-items:center;margin:6px 0">'
            + _box("Caller", f"namespace {caller_ns}", active["caller"]) + arrow.format(left)
            + _box("Endpoint", op.endpoint, active["endpoint"]) + arrow.format(right)
            + _box("Handler", op.target or "unknown target", active["handler"]) + "</div>")


def _evidence_row(evidence: Evidence) -> str:
    if evidence.event is None:
        cells = [evidence.role, evidence.where, "", "", "", "", evidence.note]
    else:
        e = evidence.event
        offset = f"+{evidence.offset_ms:.1f} ms" if evidence.offset_ms is not None else ""
        detail = e.summary() + (f" [{evidence.note}]" if evidence.note else "")
        cells = [evidence.role, evidence.where, f"#{e.id}", clock(e.time), offset, e.type, detail]
    return "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>"


def step_html(op: OperationLifecycle, index: int) -> str:
    step = op.steps[index]
    columns = ("side", "history", "event", "time", "since scheduled", "type", "attributes")
    head = "".join(f"<th>{h}</th>" for h in columns)
    rows = "".join(_evidence_row(e) for e in step.evidence)
    return (f'<div class="nexus-lab-step" role="region" aria-live="polite">'
            f"<h4>Step {index + 1} of {len(op.steps)}: {html.escape(step.title)}</h4>"
            f"<p>{html.escape(step.explanation)}</p>"
            f'<table class="nexus-lab-evidence"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>')


class LifecycleWidget(TextFallback, w.VBox):
    """Choose sync or async (or any operation of a run), then Back/Next through its steps."""

    def __init__(self, walkthrough: Walkthrough):
        self.walkthrough = walkthrough
        self.step_index = 0
        labels = [op.short_label for op in walkthrough.operations]
        options = [(label if labels.count(label) == 1 else f"{label} #{op.scheduled_event_id} "
                    f"({op.caller_where.split('/')[-1]})", i) for i, (label, op) in
                   enumerate(zip(labels, walkthrough.operations, strict=True))]
        self.chooser = w.ToggleButtons(options=options, value=walkthrough.choice, description="Operation:",
                                       style={"button_width": "auto"})
        self.back_button = w.Button(description="◀ Back", tooltip="Previous step")
        self.next_button = w.Button(description="Next ▶", button_style="primary", tooltip="Next step")
        self.source = w.HTML()
        self.diagram = w.HTML()
        self.step_view = w.HTML()
        self.chooser.observe(self._on_choice, names="value")
        self.back_button.on_click(lambda _button: self.previous_step())
        self.next_button.on_click(lambda _button: self.next_step())
        heading = w.HTML("<b>Nexus operation lifecycle</b>, step by step through a real run's events")
        super().__init__([heading, self.chooser, self.source, self.diagram, self.step_view,
                          w.HBox([self.back_button, self.next_button])])
        self.add_class("nexus-lab-lifecycle")
        self._render()

    @property
    def operation(self) -> OperationLifecycle:
        return self.walkthrough.operations[self.chooser.value]

    @property
    def step(self) -> Step:
        return self.operation.steps[self.step_index]

    def choose(self, kind: str) -> None:
        """Switch to the first operation of ``kind`` ("sync" or "async"), back at its first step."""
        self.chooser.value = self.walkthrough.index_of(kind)

    def next_step(self) -> None:
        if self.step_index < len(self.operation.steps) - 1:
            self.step_index += 1
            self._render()

    def previous_step(self) -> None:
        if self.step_index > 0:
            self.step_index -= 1
            self._render()

    def _on_choice(self, _change: dict) -> None:
        self.walkthrough.choice = self.chooser.value
        self.step_index = 0
        self._render()

    def _render(self) -> None:
        op = self.operation
        link = ui_link_html(self.walkthrough.ui_urls.get(op.caller_where), "open the caller in the Web UI")
        self.source.value = f"<small>{html.escape(op.label)}</small>{link}"
        self.diagram.value = diagram_html(op, self.step)
        self.step_view.value = step_html(op, self.step_index)
        self.back_button.disabled = self.step_index == 0
        self.next_button.disabled = self.step_index == len(op.steps) - 1

    def current_text(self) -> str:
        """The step on screen, as text."""
        return f"{self.operation.label}\n{self.step.text(self.step_index + 1, len(self.operation.steps))}"

    def text(self) -> str:
        return self.walkthrough.text()
