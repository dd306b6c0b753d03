"""Draw a :class:`nexus_lab.views.timeline.Timeline` as inline SVG: one row per history, one shared x axis.

Plain SVG (no JavaScript) so it renders the same in a widget, in a saved notebook and in an HTML
export. Every mark carries a ``<title>`` (hover text) and the picture an ``aria-label`` summary;
the facts themselves are also in the widget's table and the text form, for readers who cannot see it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from nexus_lab.views import palette
from nexus_lab.views.timeline import Mark, Timeline, _histories, nice_step

WIDTH, LABEL_W, RIGHT_PAD, TOP, LANE_H = 960, 250, 30, 34, 74
COLOURS = {
    "nexus": palette.NEXUS, "failure": palette.BAD, "retry": palette.RETRY, "cancel": palette.CANCEL,
    "workflow": palette.OK, "activity": palette.ACTIVITY, "task": palette.FAINT, "other": palette.MUTED,
}
LINK_COLOUR = palette.LINK


def _x(offset_ms: float, span_ms: float) -> float:
    plot = WIDTH - LABEL_W - RIGHT_PAD
    return LABEL_W + (offset_ms / span_ms if span_ms else 0.0) * plot


def _axis(span_ms: float, height: float) -> list[str]:
    step = nice_step(span_ms)
    parts, tick = [], 0.0
    while tick <= span_ms + 1e-9:
        x = _x(tick, span_ms)
        parts.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{height - 8}" stroke="{palette.GRID}"/>'
                     f'<text x="{x:.1f}" y="{TOP - 10}" font-size="10" text-anchor="middle" fill="{palette.SOFT_TEXT}">'
                     f"{tick:g} ms</text>")
        tick += step
    return parts


def _lane_label(index: int, timeline: Timeline) -> str:
    lane = timeline.lanes[index]
    y = TOP + index * LANE_H
    where = lane.where if len(lane.where) <= 38 else lane.where[:37] + "…"
    fill = palette.LANE_ALT if index % 2 else palette.PAPER
    return (f'<rect x="0" y="{y}" width="{WIDTH}" height="{LANE_H}" fill="{fill}"/>'
            f'<text x="6" y="{y + 20}" font-size="12" font-weight="600">{lane.key} · {html.escape(lane.role)}</text>'
            f'<text x="6" y="{y + 36}" font-size="11">{html.escape(where)}</text>'
            f'<text x="6" y="{y + 51}" font-size="10" fill="{palette.SOFT_TEXT}">'
            f'{html.escape(lane.history.workflow_type)} · '
            f"{html.escape(lane.history.status)}</text>"
            f'<line x1="{LABEL_W}" y1="{y + LANE_H / 2}" x2="{WIDTH - RIGHT_PAD}" '
            f'y2="{y + LANE_H / 2}" stroke="{palette.RULE}"/>')


def _centre(mark: Mark, timeline: Timeline) -> tuple[float, float]:
    index = [lane.key for lane in timeline.lanes].index(mark.lane)
    return _x(mark.offset_ms, timeline.span_ms), TOP + index * LANE_H + LANE_H / 2


def _mark(mark: Mark, timeline: Timeline, order: int, focused: bool) -> str:
    x, y = _centre(mark, timeline)
    colour = COLOURS[mark.category]
    size = 3 if mark.category == "task" else 6
    tip = html.escape(f"{mark.label()} at +{mark.offset_ms:.1f} ms: {mark.event.summary()}")
    halo = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="11" fill="{palette.FOCUS}" opacity="0.9"/>' if focused else ""
    if mark.category in ("failure", "retry"):
        shape = (f'<rect x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size}" height="{2 * size}" fill="{colour}" '
                 f'transform="rotate(45 {x:.1f} {y:.1f})"/>')
    else:
        shape = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size}" fill="{colour}" stroke="{palette.PAPER}"/>'
    label_y = y - 11 if order % 2 == 0 else y + 19  # alternate above/below so neighbours do not collide
    label = (f'<text x="{x:.1f}" y="{label_y:.1f}" font-size="10" text-anchor="middle" fill="{colour}">'
             f"{mark.event.id}</text>") if mark.category != "task" else ""
    return (f'<g class="nexus-lab-mark" data-key="{mark.key}" data-category="{mark.category}">'
            f"<title>{tip}</title>{halo}{shape}{label}</g>")


def _connection(source: Mark, target: Mark, timeline: Timeline, focused: bool) -> str:
    (x1, y1), (x2, y2) = _centre(source, timeline), _centre(target, timeline)
    towards = 1 if y2 > y1 else -1
    y1, y2 = y1 + 8 * towards, y2 - 9 * towards  # start and end at the marks' edges, not on their labels
    middle = (y1 + y2) / 2
    width = 2.5 if focused else 1.3
    tip = html.escape(f"link: {source.label()} → {target.label()}")
    return (f'<path d="M{x1:.1f},{y1:.1f} C{x1:.1f},{middle:.1f} {x2:.1f},{middle:.1f} {x2:.1f},{y2:.1f}" '
            f'fill="none" stroke="{LINK_COLOUR}" stroke-width="{width}" stroke-dasharray="5,3" '
            f'marker-end="url(#nexus-lab-arrow)"><title>{tip}</title></path>')


def _still_running(timeline: Timeline) -> list[str]:
    """A dashed stretch from a running workflow's last event to the moment the histories were fetched."""
    if timeline.now_ms is None:
        return []
    span, now_x = timeline.span_ms, _x(timeline.now_ms, timeline.span_ms)
    parts = [f'<text x="{now_x:.1f}" y="{TOP - 22}" font-size="10" text-anchor="end" '
             f'fill="{palette.SOFT_TEXT}">fetched</text>']
    keys = [lane.key for lane in timeline.lanes]
    for lane in timeline.running_lanes():
        last = max((m.offset_ms for m in timeline.marks if m.lane == lane.key), default=0.0)
        y = TOP + keys.index(lane.key) * LANE_H + LANE_H / 2
        parts.append(f'<line class="still-running" x1="{_x(last, span):.1f}" y1="{y}" x2="{now_x:.1f}" y2="{y}" '
                     f'stroke="{COLOURS["workflow"]}" stroke-width="2" stroke-dasharray="4,4">'
                     f"<title>{lane.key} still running when fetched (+{timeline.now_ms:.1f} ms)</title></line>")
    return parts


def _retry_notes(timeline: Timeline) -> list[str]:
    parts = []
    for index, lane in enumerate(timeline.lanes):
        notes = lane.retry_notes()
        if notes:
            y = TOP + index * LANE_H + LANE_H - 6
            text = html.escape("↻ " + "; ".join(notes))
            parts.append(f'<text x="{WIDTH - RIGHT_PAD}" y="{y}" font-size="10" text-anchor="end" '
                         f'fill="{COLOURS["retry"]}">{text[:140]}</text>')
    return parts


def _legend(y: float) -> str:
    items = [("nexus", "Nexus event"), ("workflow", "workflow"), ("activity", "activity"),
             ("failure", "failure"), ("retry", "retry"), ("cancel", "cancel")]
    parts, x = [], LABEL_W
    for category, name in items:
        parts.append(f'<circle cx="{x}" cy="{y}" r="5" fill="{COLOURS[category]}"/>'
                     f'<text x="{x + 8}" y="{y + 4}" font-size="10">{name}</text>')
        x += 95
    parts.append(f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="{LINK_COLOUR}" stroke-dasharray="5,3"/>'
                 f'<text x="{x + 30}" y="{y + 4}" font-size="10">link between histories</text>')
    return "".join(parts)


def render(timeline: Timeline, *, tasks: bool = False, highlight: Sequence[str] = ()) -> str:
    """The SVG: lanes, axis in ms from the earliest event, marks, link arrows, retry notes, legend."""
    shown = timeline.shown(tasks=tasks)
    visible = {m.key for m in shown}
    height = TOP + len(timeline.lanes) * LANE_H + 30
    span = timeline.span_ms
    summary = (f"Timeline of {_histories(len(timeline.lanes))} over {span:.1f} ms, "
               f"{sum(1 for m in shown if m.category == 'nexus')} Nexus events, {len(timeline.connections)} links, "
               f"{len(timeline.problems())} failures or retries.")
    parts = [f'<svg class="nexus-lab-timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{html.escape(summary)}" '
             'style="font-family:sans-serif;max-width:100%">',
             f'<defs><marker id="nexus-lab-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
             f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{LINK_COLOUR}"/>'
             "</marker></defs>"]
    parts += [_lane_label(i, timeline) for i in range(len(timeline.lanes))]
    parts += _axis(span, height - 22)
    parts += _still_running(timeline)
    for connection in timeline.connections:
        if connection.source.key in visible and connection.target.key in visible:
            focused = connection.source.key in highlight and connection.target.key in highlight
            parts.append(_connection(connection.source, connection.target, timeline, focused))
    order_in_lane: dict[str, int] = {}
    for mark in shown:
        order = order_in_lane.get(mark.lane, 0)
        order_in_lane[mark.lane] = order + 1
        parts.append(_mark(mark, timeline, order, mark.key in highlight))
    parts += _retry_notes(timeline)
    parts.append(_legend(height - 12))
    parts.append("</svg>")
    return "".join(parts)
