"""The history timeline as an ipywidget: the SVG picture, an event picker, its details, and its links.

Links are clickable in the way a notebook allows: each link between histories is a button that
selects both ends and highlights them in the picture, and "Follow link" jumps from the selected event
to the event it links to. "Refresh" fetches the histories again, to watch a retrying operation.
"""

from __future__ import annotations

import asyncio
import html

import ipywidgets as w

from nexus_lab.history import preview
from nexus_lab.views.display import TextFallback
from nexus_lab.views.lifecycle import clock
from nexus_lab.views.timeline import Mark, Timeline, Timelines, _histories, refresh


def _option(mark: Mark) -> tuple[str, str]:
    flag = {"nexus": " ★", "failure": " !", "retry": " ↻", "cancel": " ⊘"}.get(mark.category, "")
    return f"+{mark.offset_ms:.1f} ms  {mark.label()}{flag}", mark.key


class TimelineWidget(TextFallback, w.VBox):
    """Caller and handler histories on one axis, with a way to inspect any event and follow its links."""

    def __init__(self, timeline: Timeline):
        self.timeline = timeline
        self.title = w.HTML()
        self.chart = w.HTML()
        self.show_tasks = w.Checkbox(value=False, description="workflow-task events", indent=False)
        self.event_picker = w.Dropdown(description="Event:", layout=w.Layout(width="560px"))
        self.follow_button = w.Button(description="Follow link ▶", tooltip="Jump to the event this one links to")
        self.refresh_button = w.Button(description="Refresh", icon="refresh",
                                       tooltip="Fetch the histories again", disabled=timeline.source is None)
        self.details = w.HTML()
        self.link_buttons: list[w.Button] = []
        self.links_box = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.problems = w.HTML()
        self.show_tasks.observe(lambda _change: self._render(), names="value")
        self.event_picker.observe(lambda _change: self._render_selection(), names="value")
        self.follow_button.on_click(lambda _button: self.follow_link())
        self.refresh_button.on_click(lambda _button: asyncio.ensure_future(self.refresh()))
        super().__init__([self.title, self.chart, w.HBox([self.show_tasks, self.refresh_button]),
                          w.HTML("<b>Links between the histories</b> (click to highlight both ends):"),
                          self.links_box, w.HBox([self.event_picker, self.follow_button]), self.details,
                          self.problems])
        self.add_class("nexus-lab-timeline-widget")
        self._render()

    # --- what a learner (or a test) does -------------------------------------------------------
    @property
    def selected(self) -> Mark | None:
        return self.timeline.mark(self.event_picker.value) if self.event_picker.value else None

    def select(self, key: str) -> None:
        """Select an event by key, e.g. ``"A#5"`` (lane A, event 5)."""
        if key not in {m.key for m in self.timeline.shown(tasks=self.show_tasks.value)}:
            self.show_tasks.value = True  # a workflow-task event: make it visible first
        self.event_picker.value = key

    def follow_link(self) -> None:
        """Jump from the selected event to the other end of its first link."""
        mark = self.selected
        if mark is None:
            return
        for connection in self.timeline.connections_of(mark):
            other = connection.target if connection.source.key == mark.key else connection.source
            self.select(other.key)
            return

    def focus_link(self, index: int) -> None:
        """Highlight both ends of link ``index`` and select its source event."""
        connection = self.timeline.connections[index]
        self._highlight = (connection.source.key, connection.target.key)
        self.select(connection.source.key)
        self._render_chart()

    async def refresh(self) -> None:
        self.timeline = await refresh(self.timeline)
        self._render()

    # --- drawing -------------------------------------------------------------------------------
    _highlight: tuple[str, ...] = ()

    def _render(self) -> None:
        t = self.timeline
        self.title.value = (f"<b>Timeline</b>: {_histories(len(t.lanes))} on one clock, 0 ms = "
                            f"{html.escape(clock(t.origin))}, span {t.span_ms:.1f} ms" + t.ui_links_html())
        shown = t.shown(tasks=self.show_tasks.value)
        previous = self.event_picker.value
        self.event_picker.options = [_option(m) for m in shown]
        first_nexus = next((m.key for m in shown if m.category == "nexus"), shown[0].key if shown else None)
        self.event_picker.value = previous if previous in {m.key for m in shown} else first_nexus
        self.link_buttons = [w.Button(description=c.text(), layout=w.Layout(width="auto"),
                                      tooltip="Highlight both ends and select the first")
                             for c in t.connections]
        for index, button in enumerate(self.link_buttons):
            button.on_click(lambda _button, i=index: self.focus_link(i))
        self.links_box.children = self.link_buttons or [w.HTML("<i>none</i>")]
        problems = t.problems()
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems) or "<li>none</li>"
        self.problems.value = f'<div class="nexus-lab-problems"><b>Failures and retries</b><ul>{items}</ul></div>'
        self._render_selection()

    def _render_chart(self) -> None:
        mark = self.selected
        highlight = set(self._highlight) | ({mark.key} if mark else set())
        self.chart.value = self.timeline.svg(tasks=self.show_tasks.value, highlight=sorted(highlight))

    def _render_selection(self) -> None:
        mark = self.selected
        if mark is not None and mark.key not in self._highlight:
            self._highlight = ()
        self.details.value = self._details_html(mark) if mark else ""
        self.follow_button.disabled = mark is None or not self.timeline.connections_of(mark)
        self._render_chart()

    def _details_html(self, mark: Mark) -> str:
        lane = self.timeline.lane(mark.lane)
        e = mark.event
        rows = [("history", f"{lane.key} · {lane.role} · {lane.where}"), ("event", f"#{e.id} {e.type}"),
                ("time", f"{clock(e.time)} (+{mark.offset_ms:.1f} ms)")]
        if mark.attempt > 1:
            rows.append(("attempt", str(mark.attempt)))
        rows += [(key, value if isinstance(value, str) else preview(value, 300)) for key, value in e.fields.items()]
        for connection in self.timeline.connections_of(mark):
            other = connection.target if connection.source.key == mark.key else connection.source
            rows.append(("linked with", other.label()))
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in rows)
        return f'<table class="nexus-lab-event-details" aria-live="polite">{body}</table>'

    def text(self) -> str:
        return self.timeline.text(tasks=self.show_tasks.value)


class TimelinesWidget(TextFallback, w.VBox):
    """Several timeline widgets one under the other, each under its title."""

    def __init__(self, timelines: Timelines):
        self.timelines = timelines
        self.titles = list(timelines.titles)
        self.parts = [TimelineWidget(tl) for tl in timelines.timelines]
        children: list[w.Widget] = []
        for title, part in zip(self.titles, self.parts, strict=True):
            children += [w.HTML(f"<h4>{html.escape(title)}</h4>"), part]
        super().__init__(children)
        self.add_class("nexus-lab-timelines-widget")

    def text(self) -> str:
        return "\n\n".join(f"== {title} ==\n{part.text()}" for title, part in zip(self.titles, self.parts, strict=True))
