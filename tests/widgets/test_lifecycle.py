"""The lifecycle walkthrough against real runs: every step must cite events that are really there."""

from __future__ import annotations

import pytest

import nexus_lab
from nexus_lab.views.lifecycle_widget import LifecycleWidget


async def caller_history(lab, op):
    return await lab.history(op.caller_workflow_id, namespace=op.caller_namespace)


def cited(step, role):
    return [e.event for e in step.evidence if e.role == role and e.event is not None]


async def test_sync_steps_cite_the_callers_events(lab, story_walkthrough):
    op = story_walkthrough.operations[story_walkthrough.index_of("sync")]
    history = await caller_history(lab, op)
    scheduled = history.find("NexusOperationScheduled")[0]
    completed = history.find("NexusOperationCompleted")[0]

    assert (op.kind, op.outcome, op.operation) == ("sync", "completed", "getQuickScore")
    assert [s.actor for s in op.steps] == ["caller", "endpoint", "handler", "caller"]
    assert history.find("NexusOperationStarted") == []  # what makes it sync, and what step 3 says
    assert cited(op.steps[0], "caller") == [scheduled]
    assert cited(op.steps[2], "caller") == [scheduled, completed]
    assert cited(op.steps[3], "caller") == [completed]
    assert completed.fields["result"]["score"] == 1
    assert f"#{scheduled.id} Scheduled is followed directly by #{completed.id} NexusOperationCompleted" \
        in op.steps[2].explanation
    delta = (completed.time - scheduled.time).total_seconds() * 1000
    assert op.steps[2].evidence[1].offset_ms == pytest.approx(delta)
    assert all(cited(step, "handler") == [] for step in op.steps)  # no handler history for a sync op


async def test_routing_step_matches_the_registry_and_the_event(lab, story_walkthrough):
    op = story_walkthrough.operations[story_walkthrough.index_of("sync")]
    history = await caller_history(lab, op)
    raw_scheduled = next(e for e in history.raw if e.event_id == op.scheduled_event_id)
    endpoint_id = raw_scheduled.nexus_operation_scheduled_event_attributes.endpoint_id
    entry = next(e for e in await lab.endpoints() if e.name == op.endpoint)

    registry_fact = next(e for e in op.steps[1].evidence if e.role == "registry")
    assert endpoint_id and endpoint_id == entry.id
    assert f"id {entry.id}) (the same id the scheduled event carries)" in registry_fact.note
    assert f"namespace {entry.namespace}, task queue {entry.task_queue}" in registry_fact.note
    assert op.target == f"{entry.namespace}/{entry.task_queue}" == "fraud/fraud-walkthrough-tq"


async def test_async_steps_follow_the_token_into_the_handler_history(lab, story_walkthrough):
    op = story_walkthrough.operations[story_walkthrough.index_of("async")]
    caller = await caller_history(lab, op)
    started = caller.find("NexusOperationStarted")[0]
    completed = caller.find("NexusOperationCompleted")[0]
    handler = await lab.history(started.fields["token_decoded"]["wid"], namespace=started.fields["token_decoded"]["ns"])
    handler_start = handler.find("WorkflowExecutionStarted")[0]
    handler_end = handler.find("WorkflowExecutionCompleted")[0]

    assert (op.kind, op.operation, op.outcome) == ("async", "checkTransaction", "completed")
    assert cited(op.steps[2], "handler") == [handler_start] and cited(op.steps[2], "caller") == [started]
    assert handler_start.fields["completion_callbacks"] == 1
    assert handler_start.links[0].event_id == op.scheduled_event_id  # the handler's start links back
    assert cited(op.steps[3], "handler") == [handler_end] and cited(op.steps[3], "caller") == [completed]
    assert handler_end.time <= completed.time  # the callback delivers after the handler closed
    assert completed.fields["result"] == handler_end.fields["result"]
    assert started.fields["token_decoded"]["wid"] in op.steps[2].explanation
    assert "completion callback" in op.steps[3].title


async def test_widget_steps_with_next_and_back_and_switches_operation(story_walkthrough):
    widget = LifecycleWidget(story_walkthrough)
    widget.choose("sync")
    assert widget.step_index == 0 and widget.back_button.disabled
    assert "Step 1 of 4: The caller workflow schedules the operation" in widget.step_view.value

    for _ in range(3):
        widget.next_button.click()
    op = widget.operation
    assert widget.step_index == 3 and widget.next_button.disabled
    assert "The result comes back inline" in widget.step_view.value
    outcome_id = cited(op.steps[3], "caller")[0].id
    assert f"<td>#{outcome_id}</td>" in widget.step_view.value
    assert "<td>NexusOperationCompleted</td>" in widget.step_view.value
    widget.next_button.click()  # past the end: stays
    assert widget.step_index == 3

    widget.back_button.click()
    assert widget.step_index == 2 and 'aria-current="step"' in widget.diagram.value

    widget.choose("async")
    assert widget.step_index == 0 and widget.operation.kind == "async"
    widget.next_button.click()
    widget.next_button.click()
    assert "The handler starts a workflow and returns a token" in widget.step_view.value
    assert "NexusOperationStarted" in widget.current_text()


async def test_text_fallback_states_every_step_with_event_ids(story_walkthrough):
    widget = LifecycleWidget(story_walkthrough)
    data = widget._repr_mimebundle_()
    text = (data[0] if isinstance(data, tuple) else data)["text/plain"]
    assert text == story_walkthrough.text()
    for op in story_walkthrough.operations:
        assert op.label in text
        for n, step in enumerate(op.steps, 1):
            assert f"Step {n} of {len(op.steps)} · {step.actor} · {step.title}" in text
            for evidence in step.evidence:
                assert evidence.text() in text


async def test_walkthrough_of_a_learners_workflow_finds_both_operations(lab, story_walkthrough):
    from nexus_lab import demo
    from nexus_lab.views import lifecycle

    request = demo.PaymentRequest(demo.Transaction("wt-own-1", 120, "XX"), endpoint=lifecycle.WALKTHROUGH_ENDPOINT)
    result = await lab.execute(demo.PaymentWorkflow.run, request, namespace="payments",
                               task_queue=lifecycle.WALKTHROUGH_CALLER_QUEUE, id="wt-own-1")
    assert result == "wt-own-1: declined (cards used in XX are blocked), quick score 100"
    walk = await nexus_lab.walkthrough(lab, "async", workflow_id="wt-own-1", namespace="payments")
    assert [op.kind for op in walk.operations] == ["sync", "async"]
    assert walk.choice == 1
    assert [op.scheduled_event_id for op in walk.operations] == \
        [e.id for e in (await lab.history("wt-own-1", namespace="payments")).find("NexusOperationScheduled")]


async def test_a_failed_operation_is_told_as_it_happened(lab, risky):
    story, endpoint = risky
    result = await lab.execute(story.RejectedPaymentWorkflow.run, endpoint, namespace=story.CALLER_NAMESPACE,
                               task_queue=story.CALLER_QUEUE, id="wt-rejected")
    assert result.startswith("rejected")
    walk = await nexus_lab.walkthrough(lab, workflow_id="wt-rejected", namespace=story.CALLER_NAMESPACE)
    op = walk.operations[0]
    failed = (await lab.history("wt-rejected", namespace=story.CALLER_NAMESPACE)).find("NexusOperationFailed")[0]
    assert (op.kind, op.outcome) == ("sync", "failed")
    assert cited(op.steps[-1], "caller") == [failed]
    assert "payment p-9 is on the deny list" in op.steps[-1].explanation


def _chapter_step_lines(notebook: str, cell_id: str) -> list[str]:
    """The "Step n · actor · title" lines a chapter's checked walkthrough cell printed (its committed output)."""
    from pathlib import Path

    import nbformat

    path = Path(__file__).resolve().parents[2] / "notebooks" / notebook
    cell = next(c for c in nbformat.read(path, as_version=4).cells if c.get("id") == cell_id)
    text = "".join(o.get("text", "") for o in cell.outputs)
    return [line for line in text.splitlines() if line.startswith("Step ")]


@pytest.mark.parametrize(("kind", "notebook", "cell_id"), [
    ("sync", "03-sync-operations.ipynb", "03-07b"),
    ("async", "04-async-operations.ipynb", "04-07b"),
])
async def test_chapter_walkthrough_clicks_through_a_run_of_its_own(lab, story_walkthrough, kind, notebook,
                                                                    cell_id):
    """Chapters 3 and 4 walk through their own run by workflow ID: the widget steps through the same steps
    the chapter's text form printed, and links the caller to the Web UI."""
    from nexus_lab import demo
    from nexus_lab.story.payments import CheckTransactionWorkflow, QuickScoreWorkflow
    from nexus_lab.views import lifecycle

    workflow_id = f"wt-chapter-{kind}"
    run = QuickScoreWorkflow.run if kind == "sync" else CheckTransactionWorkflow.run
    request = demo.PaymentRequest(demo.Transaction(workflow_id, 300), endpoint=lifecycle.WALKTHROUGH_ENDPOINT)
    await lab.execute(run, request, namespace="payments", task_queue=lifecycle.WALKTHROUGH_CALLER_QUEUE, id=workflow_id)
    walk = await nexus_lab.walkthrough(lab, workflow_id=workflow_id, namespace="payments")
    widget = LifecycleWidget(walk)
    assert [op.kind for op in walk.operations] == [kind]

    seen = [widget.current_text().splitlines()[1]]
    while not widget.next_button.disabled:
        widget.next_button.click()
        seen.append(widget.current_text().splitlines()[1])
    total = len(widget.operation.steps)
    expected = [line.replace("Step ", "", 1) for line in _chapter_step_lines(notebook, cell_id)]
    assert [line.split(" of ", 1)[0].removeprefix("Step ") + line.split(f" of {total}", 1)[1] for line in seen] \
        == expected
    url = lab.web_ui_url(workflow_id, namespace="payments")
    assert url and f'href="{url}/' in widget.source.value  # this run's page: the URL goes on with its run ID
