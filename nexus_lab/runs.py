"""Run workflows from a cell without ever leaving the learner in front of a spinner.

When a workflow *task* fails (an unknown endpoint name, a sandbox violation, nondeterminism, an
input that cannot be decoded) the server does not fail the workflow: it retries the task forever,
and ``handle.result()`` waits forever. So while the lab waits for a result it also follows the
workflow's history; the first ``WorkflowTaskFailed`` event ends the wait with
:class:`WorkflowTaskFailedError` naming the cause, and the stuck workflow is terminated so it does
not keep retrying in the background. A wait that runs past its timeout ends with
:class:`LabTimeoutError` that says what the workflow is waiting for (pending Nexus operations and
their last failure), taken from ``describe``.

The watch also follows each Nexus operation's link to the handler workflow it started: a handler
whose workflow task fails (say, it raises ``ValueError``) would otherwise leave the caller waiting
out its whole timeout on an operation that says only "STARTED, attempt 1". The error names the
handler's namespace, workflow, cause and line instead.

Waits are sliced into short steps so that interrupting the cell stops them promptly.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import DescribeNexusOperationExecutionRequest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.service import RPCError

from nexus_lab.connection import client_for_namespace
from nexus_lab.errors import NexusLabError
from nexus_lab.history import (
    History,
    LinkRef,
    OperationDescription,
    WorkflowDescription,
    describe_from_raw,
    event_links,
    failure_chain,
    operation_from_raw,
    task_failed_cause_name,
)

DEFAULT_TIMEOUT_S = 30.0
WATCH_DELAY_S = 0.2
"""Quick workflows finish before the history watch even starts, so they pay nothing for it."""
SLICE_S = 0.25
ENDED_GRACE_S = 5.0
"""A workflow found ended just after its deadline (a busy machine) gets this long to deliver its result."""

TRANSIENT_TASK_FAILURES = {"UnhandledCommand", "ResetStickyTaskQueue"}
"""Workflow-task failures the server causes in normal operation and the SDK recovers from at once:
``UnhandledCommand`` when new events (say, a Nexus cancel-request completion) arrive while the worker
completes the workflow, so the task is redone with them."""


class WorkflowTaskFailedError(NexusLabError, RuntimeError):
    """The workflow's code could not make progress; the server would retry it forever.

    ``handler_of`` is set when the stuck workflow is the Nexus handler workflow that the awaited
    (caller) workflow's operation started: ``namespace``/``workflow_id`` then name the handler.
    """

    def __init__(self, workflow_id: str, cause: str, message: str, terminated: bool, where: str = "",
                 *, namespace: str = "", handler_of: str = ""):
        self.workflow_id = workflow_id
        self.namespace = namespace
        self.handler_of = handler_of
        self.cause = cause
        self.failure_message = message
        self.where = where
        after = ("The lab terminated it so it stops retrying; its history is still there."
                 if terminated else "It is still retrying.")
        if handler_of:
            after += " The caller's Nexus operation fails with it." if terminated else ""
            who = (f"The Nexus handler workflow {namespace}/{workflow_id} (started by {handler_of}'s "
                   f"operation) is stuck")
        else:
            who = f"Workflow {workflow_id} is stuck"
        at = f"  at {where}\n" if where else ""
        super().__init__(f"{who}: its workflow task failed ({cause}).\n  {message}\n{at}"
                         f"{_advice(cause, message)}{after}")


@dataclass(frozen=True)
class _TaskFailure:
    """A non-transient WorkflowTaskFailed event seen on a watched workflow."""

    handle: WorkflowHandle
    namespace: str
    cause: str
    message: str
    where: str


_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)\n\s*(?P<code>[^\n]*)')


def learner_frame(stack_trace: str) -> str:
    """The innermost frame of the stack trace that is not SDK or library code: the learner's line
    (for a workflow written in a notebook cell, the line of that cell)."""
    from nexus_lab.cells import cell_location

    frames = [m for m in _FRAME.finditer(stack_trace or "")
              if "site-packages" not in m["file"] and "/temporalio/" not in m["file"]]
    if not frames:
        return ""
    last = frames[-1]
    where = cell_location(last["file"], int(last["line"])) or f'{last["file"]}:{last["line"]}'
    return f'{where} in {last["func"]}: {last["code"].strip()}'


class LabTimeoutError(NexusLabError, TimeoutError):
    """The result did not arrive in time; the message says what the workflow is waiting for."""


def _advice(cause: str, message: str) -> str:
    lowered = message.lower()
    if "endpoint" in lowered and "not found" in lowered:
        return ("Hint: the endpoint name in workflow.create_nexus_client(...) must match a registered "
                "endpoint: see await lab.endpoints().\n")
    if "restricted" in lowered or "sandbox" in lowered:
        return ("Hint: workflow code must be deterministic: no I/O, clocks or randomness; use "
                "workflow.now(), workflow.random() or an activity / Nexus operation instead.\n")
    if "nondetermin" in lowered or cause == "NonDeterministicError":
        return ("Hint: the workflow code changed while an execution was running; start a new "
                "execution (or use workflow.patched).\n")
    if "decode" in lowered or "deserializ" in lowered or "convert" in lowered or "payload" in lowered:
        return "Hint: the input does not match the workflow's parameter type.\n"
    return ""


async def _own_task_failure(handle: WorkflowHandle, namespace: str,
                            follow: Callable[[LinkRef], None]) -> _TaskFailure | None:
    """Follow one history until a WorkflowTaskFailed event appears (``None`` once it closes);
    each Nexus operation's link to a handler workflow is passed to ``follow`` as soon as it starts."""
    async for event in handle.fetch_history_events(wait_new_event=True, skip_archival=True):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            attrs = event.workflow_task_failed_event_attributes
            cause = task_failed_cause_name(attrs.cause)
            if cause in TRANSIENT_TASK_FAILURES:
                continue  # the server asked the worker to retry with newer events: not stuck
            message = " ← ".join(failure_chain(attrs.failure)) or "(no message)"
            return _TaskFailure(handle, namespace, cause, message, learner_frame(attrs.failure.stack_trace))
        if event.event_type == EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED:
            for link in event_links(event):
                follow(link)
    return None


async def _first_task_failure(handle: WorkflowHandle, namespace: str) -> _TaskFailure:
    """The first stuck workflow task of ``handle``'s workflow or of a handler workflow one of its
    Nexus operations started (followed transitively); runs until cancelled."""
    await asyncio.sleep(WATCH_DELAY_S)
    watches: set[asyncio.Future[_TaskFailure | None]] = set()
    followed: set[tuple[str, str]] = set()
    grew = asyncio.Event()

    def follow(link: LinkRef) -> None:
        if (link.namespace, link.workflow_id) in followed:
            return
        followed.add((link.namespace, link.workflow_id))
        target = client_for_namespace(handle._client, link.namespace).get_workflow_handle(
            link.workflow_id, run_id=link.run_id or None)
        watches.add(asyncio.ensure_future(_own_task_failure(target, link.namespace, follow)))
        grew.set()

    async def more_to_watch() -> None:
        await grew.wait()

    watches.add(asyncio.ensure_future(_own_task_failure(handle, namespace, follow)))
    try:
        while True:
            grew.clear()
            grown: asyncio.Future[_TaskFailure | None] = asyncio.ensure_future(more_to_watch())
            try:
                done, _ = await asyncio.wait({*watches, grown}, return_when=asyncio.FIRST_COMPLETED)
            finally:  # also when this watch is cancelled: a pending task left behind is reported at GC
                grown.cancel()
            for task in done - {grown}:
                watches.discard(task)
                failure = None if task.exception() else task.result()
                if isinstance(failure, _TaskFailure):
                    return failure  # a watch that errs (a handler history we may not read) just ends
            if not watches:
                await asyncio.Event().wait()  # all closed: the result side will answer
    finally:
        for task in watches:
            task.cancel()
        await asyncio.gather(*watches, return_exceptions=True)


async def describe(handle: WorkflowHandle) -> WorkflowDescription:
    desc = await handle.describe()
    return describe_from_raw(handle._client.namespace, desc.raw_description)


async def describe_operation(client: Client, operation_id: str, run_id: str | None = None) -> OperationDescription:
    """A standalone Nexus operation of ``client``'s namespace, with its input and outcome."""
    raw = await client.workflow_service.describe_nexus_operation_execution(
        DescribeNexusOperationExecutionRequest(namespace=client.namespace, operation_id=operation_id,
                                               run_id=run_id or "", include_input=True, include_outcome=True),
        retry=True)
    return operation_from_raw(client.namespace, raw)


async def _timeout_error(handle: WorkflowHandle, timeout: float) -> tuple[LabTimeoutError, bool]:
    """The time-out explained, and whether the workflow has ended meanwhile (a busy machine)."""
    state, ended = "It is still running.", False
    try:
        description = await asyncio.wait_for(describe(handle), timeout=2)
        waiting = description.text()
        if description.status != "RUNNING":  # it ended between the deadline and the description
            state, ended = f"It has ended meanwhile ({description.status}): ask for its result again.", True
    except Exception as err:  # the explanation must not hide the timeout itself
        waiting, state = f"(could not describe the workflow: {err})", ""
    return LabTimeoutError(
        f"No result from workflow {handle.id} after {timeout:g} s. {state}\n{waiting}\n"
        f"Look closer with await lab.describe({handle.id!r}, namespace=...) or end it with "
        f"await lab.terminate({handle.id!r}, namespace=...)."
    ), ended


def _note_failure_chain(err: WorkflowFailureError) -> None:
    """Add the cause chain to the error's notes: the first thing a learner wants to know."""
    chain = []
    current: BaseException | None = err.cause
    while current is not None:
        chain.append(f"{type(current).__name__}: {current}")
        current = current.__cause__
    if chain and hasattr(err, "add_note"):
        err.add_note("Cause chain: " + " ← ".join(chain))


async def wait_for_result(handle: WorkflowHandle, *, timeout: float | None = DEFAULT_TIMEOUT_S,
                          terminate_stuck: bool = True) -> Any:
    """``handle.result()`` that fails fast on stuck workflow tasks and explains timeouts."""
    result = asyncio.ensure_future(handle.result())
    watch = asyncio.ensure_future(_first_task_failure(handle, handle._client.namespace))
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            step = SLICE_S if deadline is None else max(0.0, min(SLICE_S, deadline - time.monotonic()))
            done, _ = await asyncio.wait({result, watch}, timeout=step, return_when=asyncio.FIRST_COMPLETED)
            if result in done:
                try:
                    return result.result()
                except WorkflowFailureError as err:
                    _note_failure_chain(err)
                    raise
            if watch in done:
                stuck = watch.result()
                terminated = False
                if terminate_stuck:
                    try:
                        await stuck.handle.terminate(reason=f"nexus-lab: workflow task failed ({stuck.cause})")
                        terminated = True
                    except RPCError:
                        pass
                handler_of = "" if stuck.handle is handle else f"{handle._client.namespace}/{handle.id}"
                raise WorkflowTaskFailedError(stuck.handle.id, stuck.cause, stuck.message, terminated, stuck.where,
                                              namespace=stuck.namespace, handler_of=handler_of)
            if timeout is not None and deadline is not None and time.monotonic() >= deadline:
                error, ended = await _timeout_error(handle, timeout)
                if ended:  # it ended between the deadline and the description: its result is the answer,
                    # asked for afresh (the pending long poll was seen not to return for > 5 s once in CI)
                    result.cancel()
                    await asyncio.gather(result, return_exceptions=True)
                    result = asyncio.ensure_future(handle.result())
                    done, _ = await asyncio.wait({result}, timeout=ENDED_GRACE_S)
                    if result in done:
                        continue
                raise error
    finally:
        for task in (result, watch):
            if not task.done():
                task.cancel()
        await asyncio.gather(result, watch, return_exceptions=True)


async def fetch_history(handle: WorkflowHandle, namespace: str) -> History:
    events = [e async for e in handle.fetch_history_events(skip_archival=True)]
    run_id = handle.run_id or ""
    if not run_id and events:
        run_id = events[0].workflow_execution_started_event_attributes.original_execution_run_id
    return History(namespace, handle.id, run_id, events)
