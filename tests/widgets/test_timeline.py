"""The history timeline on real runs: lanes, one clock, links, failures and retries."""

from __future__ import annotations

import asyncio

import pytest

import nexus_lab
from nexus_lab.views.timeline_widget import TimelineWidget


def async_op(walk):
    return walk.operations[walk.index_of("async")]


async def test_caller_and_handler_share_one_clock(lab, story_walkthrough):
    op = async_op(story_walkthrough)
    tl = await nexus_lab.timeline(lab, op.caller_workflow_id, namespace=op.caller_namespace)
    caller = await lab.history(op.caller_workflow_id, namespace=op.caller_namespace)
    handler = (await lab.follow(caller))[0]

    assert [(lane.key, lane.role, lane.where) for lane in tl.lanes] == [
        ("A", "caller", f"{caller.namespace}/{caller.workflow_id}"),
        ("B", "handler", f"{handler.namespace}/{handler.workflow_id}")]
    assert tl.origin == caller.events[0].time
    handler_start = tl.mark("B#1")
    expected_ms = (handler.events[0].time - caller.events[0].time).total_seconds() * 1000
    assert handler_start.offset_ms == pytest.approx(expected_ms)
    offsets = [m.offset_ms for m in tl.marks]
    assert offsets == sorted(offsets)
    scheduled = tl.mark(f"A#{op.scheduled_event_id}")
    completed = tl.mark(f"A#{caller.find('NexusOperationCompleted')[0].id}")
    assert scheduled.offset_ms < handler_start.offset_ms < completed.offset_ms  # causality on one axis
    assert {m.category for m in tl.marks if m.event.kind == "nexus"} == {"nexus"}


async def test_links_are_resolved_both_ways_and_from_either_end(lab, story_walkthrough):
    op = async_op(story_walkthrough)
    from_caller = await nexus_lab.timeline(lab, op.caller_workflow_id, namespace=op.caller_namespace)
    caller = await lab.history(op.caller_workflow_id, namespace=op.caller_namespace)
    started_id = caller.find("NexusOperationStarted")[0].id
    assert [c.text() for c in from_caller.connections] == [
        f"A #{started_id} NexusOperationStarted → B #1 WorkflowExecutionStarted",
        f"B #1 WorkflowExecutionStarted → A #{op.scheduled_event_id} NexusOperationScheduled"]
    assert from_caller.outside == []

    handler_lane = from_caller.lane("B")
    handler = handler_lane.history
    from_handler = await nexus_lab.timeline(lab, handler.workflow_id, namespace=handler.namespace)
    assert [lane.where for lane in from_handler.lanes] == [lane.where for lane in from_caller.lanes]
    assert [c.text() for c in from_handler.connections] == [c.text() for c in from_caller.connections]


async def test_widget_link_buttons_and_follow_link(lab, story_walkthrough):
    op = async_op(story_walkthrough)
    tl = await nexus_lab.timeline(lab, op.caller_workflow_id, namespace=op.caller_namespace)
    widget = TimelineWidget(tl)
    assert widget.selected.key == f"A#{op.scheduled_event_id}"  # first Nexus event selected
    assert len(widget.link_buttons) == 2

    widget.link_buttons[0].click()
    source, target = tl.connections[0].source, tl.connections[0].target
    assert widget.selected.key == source.key
    assert widget.chart.value.count('fill="#fde293"') == 2  # both ends highlighted
    assert f"linked with</th><td>{target.label()}" in widget.details.value

    widget.follow_button.click()
    assert widget.selected.key == target.key == "B#1"
    assert "completion_callbacks" in widget.details.value

    task_events = len(widget.event_picker.options)
    widget.show_tasks.value = True
    assert len(widget.event_picker.options) > task_events
    assert any("WorkflowTaskCompleted" in label for label, _key in widget.event_picker.options)


async def test_text_fallback_and_svg_state_the_same_facts(lab, story_walkthrough):
    op = async_op(story_walkthrough)
    tl = await nexus_lab.timeline(lab, op.caller_workflow_id, namespace=op.caller_namespace)
    widget = TimelineWidget(tl)
    data = widget._repr_mimebundle_()
    text = (data[0] if isinstance(data, tuple) else data)["text/plain"]
    assert text == tl.text()
    for mark in tl.shown():
        assert f"{mark.offset_ms:.1f} ms  {mark.lane} #{mark.event.id:<3}" in text
        assert f'data-key="{mark.key}"' in widget.chart.value
    for connection in tl.connections:
        assert connection.text() in text
    assert "Failures and retries: none." in text
    assert text.startswith("Timeline of 2 histories on one clock")
    assert 'role="img"' in widget.chart.value and "2 links" in widget.chart.value


async def test_failures_are_marked(lab, risky):
    story, endpoint = risky
    await lab.execute(story.RejectedPaymentWorkflow.run, endpoint, namespace=story.CALLER_NAMESPACE,
                      task_queue=story.CALLER_QUEUE, id="tl-rejected")
    tl = await nexus_lab.timeline(lab, "tl-rejected", namespace=story.CALLER_NAMESPACE)
    failed = [m for m in tl.marks if m.category == "failure"]
    assert [m.event.type for m in failed] == ["NexusOperationFailed"]
    assert 'data-category="failure"' in tl.svg()
    problem = tl.problems()[0]
    assert problem.startswith(f"A #{failed[0].event.id} NexusOperationFailed") and "deny list" in problem
    assert "! NexusOperationFailed" in tl.text()


async def test_a_retrying_operation_shows_attempts_and_last_failure(lab, risky):
    story, endpoint = risky
    handle = await lab.start_workflow(story.FlakyPaymentWorkflow.run, endpoint, namespace=story.CALLER_NAMESPACE,
                                      task_queue=story.CALLER_QUEUE, id="tl-flaky")
    try:
        tl = await _timeline_once_retried(lab, "tl-flaky", story.CALLER_NAMESPACE)
        notes = tl.lane("A").retry_notes()
        assert len(notes) == 1 and "flaky (#5)" in notes[0]
        assert "risk database unreachable" in notes[0]
        assert "A pending: flaky (#5)" in tl.text()
        assert "↻" in tl.svg()
        walk = await nexus_lab.walkthrough(lab, workflow_id="tl-flaky", namespace=story.CALLER_NAMESPACE)
        op = walk.operations[0]
        assert (op.kind, op.outcome, op.steps[-1].title) == ("pending", "pending", "The handler has not answered yet")
        server_fact = next(e for e in op.steps[-1].evidence if e.role == "server")
        assert "risk database unreachable" in server_fact.note and "attempt" in op.steps[-1].explanation
        widget = TimelineWidget(tl)
        assert "risk database unreachable" in widget.problems.value
        await widget.refresh()  # fetched again: still the same workflow, attempts can only grow
        assert widget.timeline.lane("A").history.workflow_id == "tl-flaky"
        assert widget.timeline.lane("A").description.pending_operations[0].attempt >= \
            tl.lane("A").description.pending_operations[0].attempt
    finally:
        await handle.raw.terminate(reason="test done")


async def test_a_running_workflow_is_drawn_up_to_the_moment_of_fetching(lab, risky):
    """The wait itself is part of the picture: the axis runs to "now", not to the last event."""
    story, endpoint = risky
    handle = await lab.start_workflow(story.FlakyPaymentWorkflow.run, endpoint, namespace=story.CALLER_NAMESPACE,
                                      task_queue=story.CALLER_QUEUE, id="tl-running")
    try:
        await asyncio.sleep(1.0)
        tl = await nexus_lab.timeline(lab, "tl-running", namespace=story.CALLER_NAMESPACE)
        last_event = max(m.offset_ms for m in tl.marks)
        assert [lane.key for lane in tl.running_lanes()] == ["A"]
        assert tl.now_ms is not None and tl.span_ms == tl.now_ms
        assert tl.now_ms - last_event > 500  # the second of waiting since the last event is on the axis
        assert f"{tl.now_ms:>9.1f} ms  fetched: A still running" in tl.text()
        assert tl.svg().count('class="still-running"') == 1
    finally:
        await handle.raw.terminate(reason="test done")
    done = await nexus_lab.timeline(lab, "tl-running", namespace=story.CALLER_NAMESPACE)
    assert done.now_ms is None and done.span_ms == max(m.offset_ms for m in done.marks)
    assert "still running" not in done.text() and "still-running" not in done.svg()


async def _timeline_once_retried(lab, workflow_id, namespace, timeout=20.0):
    """Wait (bounded) until the server has retried the operation at least once."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        tl = await nexus_lab.timeline(lab, workflow_id, namespace=namespace)
        ops = tl.lane("A").description.pending_operations if tl.lane("A").description else []
        if ops and ops[0].attempt >= 2 and ops[0].last_failure:
            return tl
        assert asyncio.get_running_loop().time() < deadline, f"no retry seen in {timeout}s: {ops}"
        await asyncio.sleep(0.3)


async def test_several_timelines_on_one_page(lab, story_walkthrough):
    """Chapter 7 shows runs that differ in one choice side by side: one widget per run, under its title."""
    from nexus_lab.views.timeline import timelines
    from nexus_lab.views.timeline_widget import TimelinesWidget

    ids = [op.caller_workflow_id for op in story_walkthrough.operations]
    page = await timelines(lab, ids, namespace="payments", titles=["sync", "async"])
    assert [(title, [lane.role for lane in tl.lanes]) for title, tl in page.pairs()] == [
        ("sync", ["caller"]), ("async", ["caller", "handler"])]
    assert page.text() == f"== sync ==\n{page.timelines[0].text()}\n\n== async ==\n{page.timelines[1].text()}"

    widget = TimelinesWidget(page)
    data = widget._repr_mimebundle_()
    assert (data[0] if isinstance(data, tuple) else data)["text/plain"] == page.text()
    assert [part.timeline for part in widget.parts] == page.timelines
    async_part = widget.parts[1]
    async_part.link_buttons[0].click()  # each part is a full timeline widget: its links work on their own
    assert async_part.selected.key == page.timelines[1].connections[0].source.key
    assert widget.parts[0].link_buttons == []
    with pytest.raises(ValueError, match="1 titles for 2 workflows"):
        await timelines(lab, ids, namespace="payments", titles=["only one"])


async def test_each_history_links_to_the_web_ui(lab, story_walkthrough):
    op = async_op(story_walkthrough)
    tl = await nexus_lab.timeline(lab, op.caller_workflow_id, namespace=op.caller_namespace)
    links = tl.ui_links()
    assert [label for label, _url in links] == [f"{lane.key} {lane.where}" for lane in tl.lanes]
    for (_label, url), lane in zip(links, tl.lanes, strict=True):  # each run's own page
        h = lane.history
        assert url == lab.web_ui_url(h.workflow_id, namespace=h.namespace, run_id=h.run_id)
    widget = TimelineWidget(tl)
    assert all(f'href="{url}"' in widget.title.value for _label, url in links)
    assert all(f'href="{url}"' in tl._repr_html_() for _label, url in links)
