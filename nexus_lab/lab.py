"""The ``Lab``: one object a learner drives from cells, on the embedded server or a real cluster.

It ties the other modules together and adds the notebook manners: every call first reports a
background worker that crashed since the previous call, re-running any cell is harmless, and
every wait is bounded.
"""

from __future__ import annotations

import asyncio
import functools
import html
import json
import os
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from types import EllipsisType
from typing import Any

from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from nexus_lab import registry
from nexus_lab._watchdog import pid_alive
from nexus_lab.config import LabStorageError, lab_home
from nexus_lab.connection import client_for_namespace
from nexus_lab.errors import NexusLabError
from nexus_lab.history import History, OperationDescription, WorkflowDescription
from nexus_lab.runs import DEFAULT_TIMEOUT_S, describe, describe_operation, fetch_history, wait_for_result
from nexus_lab.server import EMBEDDED_RETENTION_DAYS, EmbeddedServer
from nexus_lab.workers import RunningWorker, WorkerPool
from nexus_lab.workshop.scope import Scope

STAGE_SIGNAL = signal.SIGUSR1  # "another chapter took over": sent by take_the_stage to the other kernels


def in_course_kernel() -> bool:
    """A kernel JupyterLab started for a notebook (it names it in ``JPY_SESSION_NAME``), not nbval,
    a script or a test harness."""
    return bool(os.environ.get("JPY_SESSION_NAME")) and "ipykernel" in sys.modules


def _stage_record(pid: int) -> Path:
    return lab_home() / "chapters" / f"{pid}.json"


def _read_stage_record(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_stage_record(pid: int, record: dict) -> None:
    path = _stage_record(pid)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record))
    tmp.replace(path)


def _step_aside_soon() -> None:
    """Signal handler (on the kernel's event loop): stop this kernel's workers for the other chapter."""
    asyncio.get_running_loop().create_task(_step_aside())


async def _step_aside() -> None:
    import nexus_lab

    by = _read_stage_record(_stage_record(os.getpid())).get("stepped_aside_for") or "another chapter"
    _stage_record(os.getpid()).unlink(missing_ok=True)
    for lab in list(nexus_lab._labs):
        await lab.workers.stop_all()
        lab._stepped_aside_for = str(by)


class LabStoppedError(NexusLabError, RuntimeError):
    """The lab, or the server under it, is gone; the message says which cell to run."""


# What the dev server says when it cannot write its database (a full disk, say): the start of a run
# then fails with a bare RPCError ("shard status unknown") that names neither the cause nor the fix.
_STORAGE_SIGNS = ("shard status unknown", "database or disk is full", "no space left on device", "disk i/o error")


async def _storing(start: Callable[[], Awaitable[WorkflowHandle[Any, Any]]]) -> WorkflowHandle[Any, Any]:
    """Run ``start``; a server that cannot store the run becomes one line saying why and what to do."""
    try:
        return await start()
    except RPCError as err:
        if not any(sign in str(err).lower() for sign in _STORAGE_SIGNS):
            raise
        raise LabStorageError(
            f"The Temporal server could not store the run ({err}): its disk is probably full. Free some space "
            "(its database lives in the lab home, or the persist= path), then run the cell again.") from None


class StaleWorkflowWarning(UserWarning):
    """A workflow class was redefined in a cell after its worker started."""


class LabInterruptedError(NexusLabError, KeyboardInterrupt):
    """The learner interrupted a wait (Stop, or Run All halted); the message says where the workflow is.

    A ``KeyboardInterrupt`` still, so the cell and Run All stop as they would for any interrupt."""


def _interrupted(namespace: str, workflow_id: str) -> LabInterruptedError:
    return LabInterruptedError(
        f"Interrupted while waiting for workflow {workflow_id!r} ({namespace}): it is still running on the server. "
        f"Run the cell again to replace it, or stop it with `await lab.terminate({workflow_id!r}, "
        f"namespace={namespace!r})`.")


def _workflow_name_of(run_fn: Any) -> tuple[str, type | None]:
    if isinstance(run_fn, str):
        return run_fn, None
    defn = workflow._Definition.from_run_fn(run_fn)
    if defn is None:
        raise TypeError(
            f"{getattr(run_fn, '__qualname__', run_fn)!r} is not a workflow run method: pass "
            "MyWorkflow.run (the method decorated with @workflow.run) or the workflow type name."
        )
    return defn.name or defn.cls.__name__, defn.cls


class LabHandle:
    """A workflow handle whose ``result()`` fails fast on stuck tasks; everything else is the SDK's."""

    def __init__(self, lab: Lab, handle: WorkflowHandle, namespace: str, timeout: float | None):
        self._lab, self.raw, self.namespace, self._timeout = lab, handle, namespace, timeout

    @property
    def id(self) -> str:
        return self.raw.id

    async def result(self, *, timeout: float | EllipsisType | None = ...) -> Any:
        """The workflow's result; an interrupted wait says in one line that the workflow goes on."""
        try:
            return await self._result(timeout)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise _interrupted(self.namespace, self.id) from None

    async def _result(self, timeout: float | EllipsisType | None) -> Any:
        self._lab._check_ready()
        try:
            return await wait_for_result(self.raw, timeout=self._timeout if timeout is ... else timeout)
        except RPCError:
            self._lab._raise_if_server_lost()  # the server died under the wait: one line, not the SDK's
            raise

    async def history(self) -> History:
        return await self._lab.history(self.id, namespace=self.namespace)

    async def describe(self) -> WorkflowDescription:
        return await describe(self.raw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)

    def __repr__(self) -> str:
        return f"<LabHandle {self.namespace}/{self.id}>"


class Lab:
    """A Nexus playground: namespaces, endpoints, background workers, runs and histories."""

    def __init__(self, client: Client, *, server: EmbeddedServer | None = None, default_namespace: str = "default",
                 scope: Scope | None = None):
        self._client = client
        self.server = server
        self.default_namespace = default_namespace
        self.scope = scope or Scope()
        self.workers = WorkerPool()
        self.requested_port: int | None = None  # the port start() was asked for (the server may use another)
        self._stopped = False
        self._server_watch: asyncio.Task | None = None
        self._stepped_aside_for = ""  # the notebook that took over this kernel's workers (see take_the_stage)

    # --- connection -------------------------------------------------------------------------
    @property
    def address(self) -> str:
        return self.server.address if self.server else self._client.service_client.config.target_host

    @property
    def ui_url(self) -> str | None:
        return self.server.ui_url if self.server else None

    def web_ui_url(self, workflow_id: str, *, namespace: str | None = None, run_id: str | None = None) -> str | None:
        """The Web UI page of a workflow in its namespace (the UI root only lists ``default``);
        ``None`` on a cluster whose UI the lab does not know."""
        from nexus_lab.views.display import workflow_ui_url

        base = self.ui_url
        return workflow_ui_url(base, self.namespace_name(namespace), workflow_id, run_id) if base else None

    def client(self, namespace: str | None = None) -> Client:
        """An SDK ``Client`` for ``namespace`` sharing the lab's connection."""
        return client_for_namespace(self._client, self.namespace_name(namespace))

    def namespace_name(self, namespace: str | None = None) -> str:
        """The real namespace name for what the learner wrote (prefixed in a workshop)."""
        return self.scope.namespace(namespace or self.default_namespace)

    def _check_ready(self) -> None:
        """Called first by every lab call: say plainly what broke since the last cell."""
        if self._stopped:
            raise LabStoppedError("This lab was stopped: run `lab = await nexus_lab.start()` again.")
        if self._stepped_aside_for:
            raise LabStoppedError(
                f"This notebook's workers were stopped when {self._stepped_aside_for} started (one chapter "
                "runs at a time): run this notebook from the top (Run All) to start them again.")
        self._raise_if_server_lost()
        self.workers.raise_crashes()

    def _raise_if_server_lost(self) -> None:
        if self.server is not None and not self.server.is_running():
            whose = f"see {self.server.log_path}" if self.server.log_path else "it was stopped elsewhere"
            raise LabStoppedError(
                f"The Temporal server at {self.server.address} has stopped ({whose}). "
                "Run `lab = await nexus_lab.start()` again, then the cells that create namespaces, "
                "endpoints and workers.") from None

    async def _stop_workers_with_server(self) -> None:
        """Workers of a lab whose server is gone would retry their polls forever: stop them."""
        while self.server is not None and self.server.is_running() and not self._stopped:  # noqa: ASYNC110
            await asyncio.sleep(1.0)  # another process's liveness: there is no event to wait on
        await self.workers.stop_all()

    # --- registry ---------------------------------------------------------------------------
    async def namespace(self, name: str, *, retention_days: float | None = None) -> registry.NamespaceInfo:
        """Create namespace ``name`` unless it exists (safe to run twice). Finished runs are kept one
        day, on the embedded server for ``EMBEDDED_RETENTION_DAYS`` (its memory holds them all)."""
        self._check_ready()
        if retention_days is None:
            retention_days = EMBEDDED_RETENTION_DAYS if self.server is not None else 1
        return await registry.ensure_namespace(self._client, self.namespace_name(name), retention_days)

    async def endpoint(self, name: str, *, namespace: str, task_queue: str,
                       description: str = "") -> registry.EndpointInfo:
        """Route Nexus endpoint ``name`` to ``namespace``/``task_queue``: created, updated or unchanged."""
        self._check_ready()
        return await registry.ensure_endpoint(self._client, self.scope.own_endpoint(name),
                                              namespace=self.namespace_name(namespace),
                                              task_queue=task_queue, description=description)

    async def endpoints(self) -> registry.EndpointTable:
        """The Nexus Registry as a table."""
        self._check_ready()
        return await registry.list_endpoints(self._client)

    async def delete_endpoint(self, name: str) -> bool:
        self._check_ready()
        return await registry.delete_endpoint(self._client, self.scope.own_endpoint(name))

    # --- workers ----------------------------------------------------------------------------
    async def worker(self, *, namespace: str | None = None, task_queue: str, workflows: Sequence[type] = (),
                     activities: Sequence[Callable] = (), nexus_services: Sequence[Any] = (),
                     **options: Any) -> RunningWorker:
        """Run a worker in the background; one already on this namespace + task queue is replaced."""
        self._check_ready()
        if self.server is not None and (self._server_watch is None or self._server_watch.done()):
            self._server_watch = asyncio.get_running_loop().create_task(self._stop_workers_with_server())
        options.setdefault("interceptors", self.scope.interceptors())
        return await self.workers.start(self.client(namespace), task_queue=task_queue, workflows=workflows,
                                        activities=activities, nexus_services=nexus_services, **options)

    async def stop_worker(self, *, namespace: str | None = None, task_queue: str) -> bool:
        return await self.workers.stop(self.namespace_name(namespace), task_queue)

    # --- running workflows ------------------------------------------------------------------
    def _warn_if_stale(self, name: str, cls: type | None, namespace: str, task_queue: str) -> None:
        registered = self.workers.registered_workflow(namespace, task_queue, name)
        if cls is not None and registered is not None and registered is not cls:
            import warnings

            warnings.warn(
                f"{name} was redefined after the worker for {namespace}/{task_queue} started, which "
                "still runs the old code. Run the lab.worker(...) cell again.",
                StaleWorkflowWarning, stacklevel=3,
            )

    async def start_workflow(self, run_fn: Any, arg: Any = None, *, args: Sequence[Any] = (),
                             namespace: str | None = None, task_queue: str, id: str | None = None,
                             timeout: float | None = DEFAULT_TIMEOUT_S, **options: Any) -> LabHandle:
        """Start a workflow; the handle's ``result()`` is bounded by ``timeout`` seconds."""
        self._check_ready()
        namespace = self.namespace_name(namespace)
        name, cls = _workflow_name_of(run_fn)
        self._warn_if_stale(name, cls, namespace, task_queue)
        if arg is not None and args:
            raise TypeError("Pass either one argument or args=[...], not both.")
        call_args = list(args) if args else ([] if arg is None else [arg])
        workflow_id = id or f"{name.lower()}-{uuid.uuid4().hex[:8]}"
        if isinstance(timeout, timedelta):
            timeout = timeout.total_seconds()
        start = functools.partial(self.client(namespace).start_workflow, run_fn, args=call_args, id=workflow_id,
                                  task_queue=task_queue, **options)
        try:
            handle = await _storing(start)
        except WorkflowAlreadyStartedError:
            if id is None or "id_conflict_policy" in options:
                raise
            # A cell run again (or after an interrupt) whose fixed ID still runs from last time: replace
            # that run, as re-running the cell means, and say so in one line.
            await self.terminate(workflow_id, namespace=namespace, reason="replaced by a re-run of its cell")
            handle = await _storing(start)
            print(f"Workflow {workflow_id!r} was still running from an earlier run: terminated it and started "
                  "a new run.")
        return LabHandle(self, handle, namespace, timeout)

    async def execute(self, run_fn: Any, arg: Any = None, *, args: Sequence[Any] = (),
                      namespace: str | None = None, task_queue: str, id: str | None = None,
                      timeout: float | None = DEFAULT_TIMEOUT_S, **options: Any) -> Any:
        """Start a workflow and return its result; fails fast and clearly when it gets stuck."""
        handle = await self.start_workflow(run_fn, arg, args=args, namespace=namespace, task_queue=task_queue,
                                           id=id, timeout=timeout, **options)
        return await handle.result()

    def handle(self, workflow_id: str, *, namespace: str | None = None, run_id: str | None = None,
               timeout: float | None = DEFAULT_TIMEOUT_S) -> LabHandle:
        namespace = self.namespace_name(namespace)
        raw = self.client(namespace).get_workflow_handle(workflow_id, run_id=run_id)
        return LabHandle(self, raw, namespace, timeout)

    async def terminate(self, workflow_id: str, *, namespace: str | None = None,
                        reason: str = "terminated from nexus_lab") -> bool:
        try:
            await self.handle(workflow_id, namespace=namespace).raw.terminate(reason=reason)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    # --- observing --------------------------------------------------------------------------
    async def history(self, workflow_id: Any, *, namespace: str | None = None, run_id: str | None = None) -> History:
        """The decoded history of a workflow (or of the workflow a :class:`LinkRef` points to)."""
        self._check_ready()
        if hasattr(workflow_id, "workflow_id") and hasattr(workflow_id, "namespace"):
            link = workflow_id
            namespace, run_id, workflow_id = link.namespace, link.run_id or None, link.workflow_id
        namespace = self.namespace_name(namespace)
        raw = self.client(namespace).get_workflow_handle(workflow_id, run_id=run_id)
        try:
            history = await fetch_history(raw, namespace)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                operation = await self._standalone_or_lookup_error(workflow_id, namespace)
                raise LookupError(f"{workflow_id!r} is a standalone Nexus operation, which has no event "
                                  f"history; lab.operation({workflow_id!r}) shows it:\n{operation}") from None
            raise
        history.ui_base = self.ui_url  # every shown history links to its page in the Web UI
        return history

    async def operation(self, operation_id: str, *, namespace: str | None = None) -> OperationDescription:
        """A standalone Nexus operation (started with ``client.create_nexus_client(...)``, no caller
        workflow): endpoint › service › operation, input, outcome, token and handler link."""
        self._check_ready()
        return await describe_operation(self.client(namespace), operation_id)

    async def _standalone_or_lookup_error(self, some_id: str, namespace: str) -> OperationDescription:
        """No workflow has this ID: a standalone operation may (it has no history, only a description)."""
        try:
            return await describe_operation(self.client(namespace), some_id)
        except RPCError:
            raise LookupError(f"No workflow or standalone Nexus operation {some_id!r} in namespace "
                              f"{namespace!r}.") from None

    async def follow(self, history: History | OperationDescription) -> list[History]:
        """The histories a history links to: a caller's (or a standalone operation's) handler workflows,
        or a handler's callers."""
        seen, found = set(), []
        for link in history.links():
            key = (link.namespace, link.workflow_id, link.run_id)
            if key not in seen:
                seen.add(key)
                found.append(await self.history(link))
        return found

    async def describe(self, workflow_id: str, *,
                       namespace: str | None = None) -> WorkflowDescription | OperationDescription:
        """Pending Nexus operations and callbacks of a workflow, as ``temporal workflow describe`` shows."""
        self._check_ready()
        try:
            return await describe(self.handle(workflow_id, namespace=namespace).raw)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return await self._standalone_or_lookup_error(workflow_id, self.namespace_name(namespace))
            raise

    # --- lifecycle --------------------------------------------------------------------------
    async def stop(self, *, server: bool | None = None) -> None:
        """Stop all workers, then the embedded server if this lab started it.

        In a JupyterLab notebook the server stays up by default (``server=True`` stops it): the Web UI
        links the chapter printed keep working and the next chapter reuses the server; it ends with the
        last kernel that uses it. ``server=True`` stops it unless another kernel still uses it.
        """
        await self.workers.stop_all()
        stop_server = not in_course_kernel() if server is None else server
        if self.server is not None and stop_server:
            await asyncio.get_running_loop().run_in_executor(None, self.server.stop)
        self._stopped = True
        _stage_record(os.getpid()).unlink(missing_ok=True)  # nothing left here for another chapter to stop
        from nexus_lab import _forget_lab

        _forget_lab(self)

    def take_the_stage(self) -> None:
        """One chapter runs at a time: in a JupyterLab notebook, stop the workers of the other course
        notebooks of this JupyterLab (their kernels stay open and resume when run again) and say so.

        Each "Next" link opens a new kernel; without this, ten chapters later ten kernels' workers
        would still be polling unnoticed. Kernels started elsewhere (nbval, scripts, tests) are left alone.
        """
        self._stepped_aside_for = ""
        if not in_course_kernel():
            return
        me, notebook = os.getpid(), Path(os.environ["JPY_SESSION_NAME"]).name
        asyncio.get_running_loop().add_signal_handler(STAGE_SIGNAL, _step_aside_soon)
        _write_stage_record(me, {"pid": me, "jupyter": os.getppid(), "notebook": notebook})
        stopped = []
        for path in sorted(_stage_record(me).parent.glob("*.json")):
            other = _read_stage_record(path)
            pid = other.get("pid")
            if not isinstance(pid, int) or pid == me or other.get("jupyter") != os.getppid():
                continue
            if not pid_alive(pid):
                path.unlink(missing_ok=True)
                continue
            if other.get("stepped_aside_for"):  # told already; it removes its record once it has read it
                continue
            _write_stage_record(pid, {**other, "stepped_aside_for": notebook})
            try:
                os.kill(pid, STAGE_SIGNAL)
            except OSError:
                continue
            stopped.append(str(other.get("notebook", pid)))
        if stopped:
            print(f"Stopped the workers of {', '.join(stopped)} (one chapter runs at a time; "
                  "its kernel stays open until you close it, and Run All there resumes it).")

    @property
    def stopped(self) -> bool:
        return self._stopped

    def summary(self) -> str:
        if self.server is not None:
            where = f"embedded Temporal server at {self.server.address}"
            ui = f"\nWeb UI: {self.server.ui_url}"
        else:
            where, ui = f"Temporal at {self.address}", ""
        note = f"\n{self.server.note}" if self.server and self.server.note else ""
        if self.scope.learner:
            note += f"\n{self.scope.describe()}"
        return f"Nexus Lab ready: {where}{ui}{note}\n{self.workers.table_text()}"

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        parts = [f"<b>Nexus Lab</b> · {html.escape(self.address)}"]
        if self.server is not None:
            parts.append(f'Web UI: <a href="{self.server.ui_url}" target="_blank">{self.server.ui_url}</a>')
            if self.server.note:
                parts.append(f"<i>{html.escape(self.server.note)}</i>")
        parts.append(self.workers.table_html())
        return "<div class='nexus-lab'>" + "<br>".join(parts) + "</div>"
