"""Workers that run in the background of the kernel's event loop, one per namespace + task queue.

The SDK refuses two workers with overlapping task types on the same namespace and task queue in
one process, and a worker keeps running the old code after a learner redefines a class. So the
pool keys workers by (namespace, task queue): starting one again replaces the old worker, which is
what a learner re-running a cell means. A worker that dies is remembered, and the next lab call
raises :class:`WorkerCrashedError` saying why, instead of callers that silently hang.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import html
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from nexus_lab.cells import needs_rehosting, rehost
from nexus_lab.errors import NexusLabError

WorkerKey = tuple[str, str]  # (namespace, task queue)

_executor: concurrent.futures.ThreadPoolExecutor | None = None


def _shared_executor() -> concurrent.futures.ThreadPoolExecutor:
    """Threads for plain ``def`` activities and sync Nexus handlers, shared by all lab workers."""
    global _executor
    if _executor is None:
        _executor = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="nexus-lab")
    return _executor


def sandboxed_runner() -> SandboxedWorkflowRunner:
    """The default sandbox, with ``nexus_lab`` passed through so cell objects keep their identity."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("nexus_lab")
    )


class WorkerCrashedError(NexusLabError, RuntimeError):
    """A background worker stopped with an error; raised by the next lab call."""


class WorkerSetupError(NexusLabError, ValueError):
    """The worker could not be created from what was passed (the message names the argument)."""


@dataclass
class RunningWorker:
    namespace: str
    task_queue: str
    worker: Worker
    task: asyncio.Task
    workflows: dict[str, type] = field(default_factory=dict)  # workflow type name -> class as passed
    nexus_services: list[str] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    @property
    def key(self) -> WorkerKey:
        return (self.namespace, self.task_queue)

    def describe(self) -> str:
        parts = []
        if self.workflows:
            parts.append("workflows " + ", ".join(self.workflows))
        if self.nexus_services:
            parts.append("Nexus services " + ", ".join(self.nexus_services))
        if self.activities:
            parts.append("activities " + ", ".join(self.activities))
        return f"worker {self.namespace}/{self.task_queue}: " + ("; ".join(parts) or "nothing registered")

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        return f"<{self.describe()}>"


def _workflow_name(cls: type) -> str:
    defn = workflow._Definition.from_class(cls)
    if defn is None:
        raise WorkerSetupError(f"{cls.__name__} is not a workflow class: decorate it with @workflow.defn.")
    return defn.name or cls.__name__


def _service_name(handler: Any) -> str:
    import nexusrpc

    if isinstance(handler, type):
        raise WorkerSetupError(
            f"nexus_services takes handler *instances*: pass {handler.__name__}() instead of {handler.__name__}."
        )
    defn = nexusrpc.get_service_definition(type(handler))
    if defn is None:
        raise WorkerSetupError(
            f"{type(handler).__name__} is not a Nexus service handler: decorate its class with "
            "@nexusrpc.handler.service_handler(service=...)."
        )
    return defn.name


def _activity_name(fn: Callable) -> str:
    from temporalio import activity

    defn = activity._Definition.from_callable(fn)
    if defn is None:
        raise WorkerSetupError(f"{getattr(fn, '__name__', fn)!r} is not an activity: decorate it with @activity.defn.")
    return defn.name or fn.__name__


class WorkerPool:
    """All background workers of one lab."""

    def __init__(self) -> None:
        self._workers: dict[WorkerKey, RunningWorker] = {}
        self._crashes: list[str] = []

    def __iter__(self):
        return iter(list(self._workers.values()))

    def get(self, namespace: str, task_queue: str) -> RunningWorker | None:
        return self._workers.get((namespace, task_queue))

    async def start(
        self,
        client: Client,
        *,
        task_queue: str,
        workflows: Sequence[type] = (),
        activities: Sequence[Callable] = (),
        nexus_services: Sequence[Any] = (),
        **options: Any,
    ) -> RunningWorker:
        """Start a worker in the background, replacing any worker on the same namespace + queue."""
        if isinstance(workflows, type) or isinstance(nexus_services, type):
            raise WorkerSetupError("workflows=[...] and nexus_services=[...] take lists.")
        workflows, activities, nexus_services = list(workflows), list(activities), list(nexus_services)
        if not (workflows or activities or nexus_services):
            raise WorkerSetupError("A worker needs at least one workflow, activity or Nexus service handler.")
        names = {_workflow_name(cls): cls for cls in workflows}
        service_names = [_service_name(h) for h in nexus_services]
        activity_names = [_activity_name(a) for a in activities]
        await self.stop(client.namespace, task_queue)
        runnable = [rehost(cls) if needs_rehosting(cls) else cls for cls in workflows]
        options.setdefault("workflow_runner", sandboxed_runner())
        options.setdefault("activity_executor", _shared_executor())
        options.setdefault("nexus_task_executor", _shared_executor())
        try:
            worker = Worker(client, task_queue=task_queue, workflows=runnable, activities=activities,
                            nexus_service_handlers=nexus_services, **options)
        except Exception as err:
            raise WorkerSetupError(f"The worker for {client.namespace}/{task_queue} was refused: {err}") from err
        task = asyncio.get_running_loop().create_task(worker.run(), name=f"nexus-lab worker {task_queue}")
        running = RunningWorker(client.namespace, task_queue, worker, task, names, service_names, activity_names)
        task.add_done_callback(functools.partial(self._on_worker_done, running))
        self._workers[running.key] = running
        await asyncio.sleep(0)  # let the worker start polling before the cell returns
        return running

    def _on_worker_done(self, running: RunningWorker, task: asyncio.Task) -> None:
        if self._workers.get(running.key) is running:
            del self._workers[running.key]
        if task.cancelled():
            return
        err = task.exception()
        if err is not None:
            self._crashes.append(f"The worker for {running.namespace}/{running.task_queue} stopped: "
                                 f"{type(err).__name__}: {err}")

    def raise_crashes(self) -> None:
        """Raise (once) for every worker that died since the last lab call."""
        if self._crashes:
            crashes, self._crashes = self._crashes, []
            raise WorkerCrashedError("\n".join(crashes) + "\nStart it again with lab.worker(...).")

    async def stop(self, namespace: str, task_queue: str) -> bool:
        running = self._workers.pop((namespace, task_queue), None)
        if running is None:
            return False
        await _shutdown(running)
        return True

    async def stop_all(self) -> None:
        running, self._workers = list(self._workers.values()), {}
        await asyncio.gather(*(_shutdown(r) for r in running), return_exceptions=True)

    def registered_workflow(self, namespace: str, task_queue: str, name: str) -> type | None:
        running = self.get(namespace, task_queue)
        return running.workflows.get(name) if running else None

    def table_text(self) -> str:
        lines = [r.describe() for r in self]
        return "\n".join(lines) if lines else "(no workers running)"

    def table_html(self) -> str:
        items = "".join(f"<li>{html.escape(r.describe())}</li>" for r in self)
        return f"<ul>{items}</ul>" if items else "<i>no workers running</i>"


async def _shutdown(running: RunningWorker) -> None:
    """Stop a worker and wait for its run task, so the SDK accepts a new one on the same queue."""
    if running.task.done():
        return
    try:
        await asyncio.wait_for(running.worker.shutdown(), timeout=10)
    except Exception:
        running.task.cancel()
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(asyncio.shield(running.task), timeout=10)
