"""The lab's histories carry what ``temporal workflow show`` / ``describe`` show, field by field.

Nine runs of the story (sync, async, three failure kinds, retry then timeout, two cancellation
types, timeout then terminate, signal- and update-backed operations) are read twice: by the lab, and
by the ``temporal`` CLI as JSON. The CLI's JSON is decoded here on its own (base64 payloads, failure
causes, links), so a field the lab drops, mangles or escapes shows up as a difference.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError

import nexus_lab
from nexus_lab.history import History

from .story import (
    AnalystDeskWorkflow,
    Call,
    DecliningCheckWorkflow,
    FaultServiceHandler,
    FraudCheckWorkflow,
    FraudServiceHandler,
    PaymentWorkflow,
    SlowFraudCheckWorkflow,
    Transaction,
)

TEMPORAL = Path(sys.executable).parent / "temporal"
pytestmark = pytest.mark.skipif(not TEMPORAL.exists(), reason="no temporal CLI in the venv")


def cli(lab, *args: str) -> dict:
    out = subprocess.run([str(TEMPORAL), *args, "--output", "json", "--address", lab.address],
                         capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)


# --- the CLI's JSON, decoded independently of the lab -------------------------------------------
def payload(p: dict) -> Any:
    return json.loads(base64.b64decode(p.get("data", ""))) if p.get("data") else None


def payloads(ps: dict | None) -> Any:
    values = [payload(p) for p in (ps or {}).get("payloads", [])]
    return values[0] if len(values) == 1 else (values or None)


def failure_messages(failure: dict | None) -> list[str]:
    messages = []
    while failure:
        messages.append(failure.get("message", ""))
        failure = failure.get("cause")
    return messages


def camel(enum_value: str) -> str:
    return "".join(part.capitalize() for part in enum_value.removeprefix("EVENT_TYPE_").split("_"))


def links_of(event: dict) -> set[tuple]:
    links = list(event.get("links", []))
    attrs = attributes(event)
    request = attrs.get("acceptedRequest", {})
    for callback in attrs.get("completionCallbacks", []) + request.get("completionCallbacks", []):
        links += callback.get("links", [])
    links += request.get("links", [])
    found = set()
    for link in links:
        target = link.get("workflowEvent")
        if target:
            ref = target.get("eventRef", {})
            found.add((target["namespace"], target["workflowId"], target.get("runId", ""),
                       int(ref.get("eventId", 0)), camel(ref.get("eventType") or target["requestIdRef"]["eventType"])))
    return found


def attributes(event: dict) -> dict:
    return next((v for k, v in event.items() if k.endswith("EventAttributes")), {})


def expected_fields(event: dict) -> dict[str, Any]:
    """What the lab must show for this event, taken from the CLI's JSON."""
    kind, a = camel(event["eventType"]), attributes(event)
    f: dict[str, Any] = {}
    if kind == "WorkflowExecutionStarted":
        f = {"workflow": a["workflowType"]["name"], "task_queue": a["taskQueue"]["name"]}
        if a.get("input"):
            f["input"] = payloads(a["input"])
    elif kind in ("WorkflowExecutionCompleted",):
        f = {"result": payloads(a.get("result"))}
    elif kind == "NexusOperationScheduled":
        f = {"endpoint": a["endpoint"], "service": a["service"], "operation": a["operation"],
             "input": payload(a["input"])}
    elif kind == "NexusOperationStarted":
        f = {"scheduled": int(a["scheduledEventId"]), "operation_token": a["operationToken"]}
    elif kind == "NexusOperationCompleted":
        f = {"scheduled": int(a["scheduledEventId"]), "result": payload(a.get("result", {}))}
    elif kind in ("NexusOperationFailed", "NexusOperationCanceled", "NexusOperationTimedOut",
                  "NexusOperationCancelRequested"):
        f = {"scheduled": int(a["scheduledEventId"])}
    elif kind == "NexusOperationCancelRequestCompleted":
        f = {"scheduled": int(a["scheduledEventId"]), "requested": int(a["requestedEventId"])}
    elif kind == "WorkflowExecutionSignaled":
        f = {"signal": a["signalName"], "input": payloads(a.get("input"))}
    elif kind == "WorkflowExecutionUpdateAccepted":
        request = a["acceptedRequest"]
        f = {"update": request["input"]["name"], "update_id": request["meta"]["updateId"],
             "input": payloads(request["input"].get("args"))}
    elif kind == "WorkflowExecutionUpdateCompleted":
        f = {"update_id": a["meta"]["updateId"], "accepted": int(a["acceptedEventId"])}
        if "success" in a["outcome"]:
            f["result"] = payloads(a["outcome"]["success"])
    elif kind == "WorkflowExecutionTerminated":
        f = {"reason": a.get("reason", "")}
    return f


def compare_history(history: History, shown: dict) -> int:
    """Assert the lab's history matches the CLI's event by event; returns the number of fields compared."""
    events = shown["events"]
    assert [e.id for e in history.events] == [int(e["eventId"]) for e in events]
    compared = 0
    text = history.text(tasks=True)
    for lab_event, event in zip(history.events, events, strict=True):
        where = f"{history.namespace}/{history.workflow_id} event {lab_event.id}"
        assert lab_event.type == camel(event["eventType"]), where
        for key, value in expected_fields(event).items():
            assert lab_event.fields.get(key) == value, f"{where}: {key} {lab_event.fields.get(key)!r} != {value!r}"
            compared += 1
        messages = failure_messages(attributes(event).get("failure")
                                    or attributes(event).get("outcome", {}).get("failure"))
        if messages:
            chain = lab_event.fields["failure"]
            assert len(chain) == len(messages), where
            assert all(m in link for m, link in zip(messages, chain, strict=True)), f"{where}: {chain} vs {messages}"
            compared += len(messages)
        expected_links = links_of(event)
        got = {(ln.namespace, ln.workflow_id, ln.run_id, ln.event_id, ln.event_type) for ln in lab_event.links}
        assert got == expected_links, where
        compared += len(expected_links)
        summary = lab_event.summary()
        if lab_event.type == "NexusOperationScheduled":
            f = lab_event.fields
            assert f"{f['endpoint']} › {f['service']} › {f['operation']}" in summary
    assert "\\u" not in text, "non-ASCII text must be shown as written"
    assert "input null" not in text
    return compared


# --- the nine runs -------------------------------------------------------------------------
ENDPOINT = "fraud-parity"


@pytest.fixture(scope="module")
async def parity(lab):
    await lab.namespace("payments")
    await lab.namespace("fraud")
    await lab.endpoint(ENDPOINT, namespace="fraud", task_queue="parity-fraud",
                       description="Fraud team's **fraud.v1**\n\n- sync: getQuickScore\n- async: checkTransaction")
    await lab.endpoint(f"{ENDPOINT}-outage", namespace="fraud", task_queue="parity-fraud")
    await lab.worker(namespace="fraud", task_queue="parity-fraud",
                     workflows=[FraudCheckWorkflow, SlowFraudCheckWorkflow, AnalystDeskWorkflow,
                                DecliningCheckWorkflow],
                     nexus_services=[FraudServiceHandler(), FaultServiceHandler()])
    await lab.worker(namespace="payments", task_queue="parity-payments", workflows=[PaymentWorkflow])
    return lab


async def start(lab, wid: str, operation: str, tx: Transaction, endpoint: str = ENDPOINT, **options):
    return await lab.start_workflow(PaymentWorkflow.run, Call(endpoint, operation, tx, **options),
                                    namespace="payments", task_queue="parity-payments", id=wid)


async def wait_until_seen(handle, event_type: str) -> None:
    for _ in range(300):
        if (await handle.history()).workflow_saw(event_type):
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"{handle.id} never saw {event_type}")


async def make_runs(lab, u: str) -> dict[str, str]:
    """Each run kind once; returns kind -> caller workflow ID (all closed when this returns)."""
    runs = {}

    async def finish(kind: str, operation: str, tx: Transaction, **options) -> None:
        handle = await start(lab, f"{kind}-{u}", operation, tx, **options)
        runs[kind] = handle.id
        with contextlib.suppress(WorkflowFailureError):  # the failure kinds end here; the history shows them
            await handle.result(timeout=20)

    await finish("sync", "score", Transaction(f"sync-{u}", 4200, "مصر"))
    await finish("async", "check", Transaction(f"async-{u}", 120, "👋"))
    await finish("handler-error", "reject", Transaction(f"rej-{u}", -1))
    await finish("operation-error", "deny", Transaction(f"deny-{u}", 10, "Ελλάδα"))
    await finish("handler-workflow-failed", "decline", Transaction(f"dec-{u}", 10, "日本"))
    await finish("retry-then-timeout", "outage", Transaction(f"out-{u}", 10), endpoint=f"{ENDPOINT}-outage",
                 timeout_s=2.5)

    for kind, cancellation in (("cancel-wait", "WAIT_COMPLETED"), ("cancel-try", "TRY_CANCEL")):
        handle = await start(lab, f"{kind}-{u}", "slow", Transaction(f"{kind}-{u}", 10), timeout_s=60,
                             cancellation=cancellation)
        runs[kind] = handle.id
        await wait_until_seen(handle, "NexusOperationStarted")
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result(timeout=20)

    handle = await start(lab, f"stuck-{u}", "slow", Transaction(f"stuck-{u}", 10), timeout_s=60)
    runs["timeout-then-terminate"] = handle.id
    with pytest.raises(nexus_lab.LabTimeoutError):
        await handle.result(timeout=1.0)
    runs["pending"] = handle.id  # described (pending operation, token, callbacks) before it is terminated

    big = Transaction(f"big-{u}", 6000, "Ísland")
    check = await start(lab, f"signal-{u}", "check", big, timeout_s=30)
    runs["signal-backed"] = check.id
    await wait_until_seen(check, "NexusOperationStarted")
    review = await start(lab, f"review-{u}", "review", big)
    runs["signal-sender"] = review.id
    assert await review.result(timeout=20) == f"big-{u}: reviewed"
    assert "analyst review" in await check.result(timeout=20)

    await lab.client("fraud").start_workflow(AnalystDeskWorkflow.run, id=f"desk-upd-{u}", task_queue="parity-fraud")
    await finish("update-backed", "escalate", Transaction(f"upd-{u}", 10, "👋 مرحبا"))
    return runs


async def test_histories_and_descriptions_match_the_cli(parity, unique):
    lab = parity
    runs = await make_runs(lab, unique)

    # describe, while one operation is still pending: its token and the callback's link to the caller
    pending_id = runs.pop("pending")
    described = await lab.describe(pending_id, namespace="payments")
    shown = cli(lab, "workflow", "describe", "-w", pending_id, "-n", "payments")
    [cli_op] = shown["pendingNexusOperations"]
    [op] = described.pending_operations
    assert (op.endpoint, op.service, op.operation, op.state, op.attempt, op.scheduled_event_id, op.operation_token) == (
        cli_op["endpoint"], cli_op["service"], cli_op["operation"],
        cli_op["state"].removeprefix("PENDING_NEXUS_OPERATION_STATE_"), cli_op["attempt"],
        int(cli_op["scheduledEventId"]), cli_op["operationToken"])
    assert f'"wid": "slow-check-stuck-{unique}"' in described.text()
    handler_described = await lab.describe(f"slow-check-stuck-{unique}", namespace="fraud")
    shown = cli(lab, "workflow", "describe", "-w", f"slow-check-stuck-{unique}", "-n", "fraud")
    [cli_callback] = shown["callbacks"]
    [callback] = handler_described.callbacks
    assert callback.url == cli_callback["callback"]["nexus"]["url"]
    targets = [link["workflowEvent"] for link in cli_callback["callback"]["links"]]
    assert {(ln.namespace, ln.workflow_id, ln.event_id) for ln in callback.links} == {
        (t["namespace"], t["workflowId"], int(t["eventRef"]["eventId"])) for t in targets}
    assert f"→ payments/{pending_id} event 5 (NexusOperationScheduled)" in handler_described.text()
    assert await lab.terminate(pending_id, namespace="payments")
    await lab.terminate(f"slow-check-stuck-{unique}", namespace="fraud")

    # every history, the callers' and the handlers' they link to, field by field
    compared, seen = 0, set()
    histories = [await lab.history(wid, namespace="payments") for wid in runs.values()]
    histories += [h for caller in list(histories) for h in await lab.follow(caller)]
    for history in histories:
        if (history.namespace, history.workflow_id) in seen:
            continue
        seen.add((history.namespace, history.workflow_id))
        shown = cli(lab, "workflow", "show", "-w", history.workflow_id, "-r", history.run_id, "-n", history.namespace)
        compared += compare_history(history, shown)
    kinds = {e.type for h in histories for e in h.events}
    assert {"NexusOperationCompleted", "NexusOperationFailed", "NexusOperationTimedOut", "NexusOperationCanceled",
            "NexusOperationCancelRequested", "NexusOperationCancelRequestCompleted", "WorkflowExecutionTerminated",
            "WorkflowExecutionSignaled", "WorkflowExecutionUpdateAccepted", "WorkflowExecutionUpdateCompleted"} <= kinds
    print(f"{len(seen)} histories, {compared} fields compared with the CLI")


async def test_text_and_html_forms_of_the_new_fields(parity, unique):
    """The six former gaps, as a learner reads them."""
    lab = parity
    await lab.client("fraud").start_workflow(AnalystDeskWorkflow.run, id=f"desk-txt-{unique}",
                                             task_queue="parity-fraud")
    handle = await start(lab, f"txt-{unique}", "escalate", Transaction(f"txt-{unique}", 10, "👋"))
    await handle.result(timeout=20)
    caller = await handle.history()
    [desk] = await lab.follow(caller)
    text = desk.text()
    assert "update escalate" in text and '"country": "👋"' in text  # name, arguments, as written
    assert f'result "case 1: txt-{unique} ✓ مراجعة"' in text and "accepted #" in text
    assert "AnalystDeskWorkflow on parity-fraud\n" in text + "\n"  # no arguments: no "input null"
    assert f"→ payments/txt-{unique} event 5 (NexusOperationScheduled)" in text
    html = caller._repr_html_()
    assert 'white-space:nowrap">fraud-parity › fraud.testing › escalate</span>' in html
    assert "word-break:keep-all" in html and "overflow-x:auto" in html

    table = str(await lab.endpoints())
    lines = table.splitlines()
    column = lines[0].index("Description")
    row = next(i for i, line in enumerate(lines) if line.startswith(f"{ENDPOINT} "))
    assert lines[row][column:] == "Fraud team's **fraud.v1**"
    assert lines[row + 2][:column].strip() == "" and lines[row + 2][column:] == "- sync: getQuickScore"
    assert lines[row + 3][column:] == "- async: checkTransaction"


async def test_cancel_request_completed_names_its_operation(parity, unique):
    lab = parity
    handle = await start(lab, f"cxl-{unique}", "slow", Transaction(f"cxl-{unique}", 10), timeout_s=60)
    await wait_until_seen(handle, "NexusOperationStarted")
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result(timeout=20)
    history = await handle.history()
    scheduled = history.find("NexusOperationScheduled")[0].id
    [done] = history.find("NexusOperationCancelRequestCompleted")
    assert done.fields["scheduled"] == scheduled and f"scheduled #{scheduled}" in done.summary()

