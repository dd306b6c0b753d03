"""Chapter 13: the TypeScript Payments team, run from the notebook beside the Python Fraud team.

    from nexus_lab import polyglot
    ts = await polyglot.start(lab)     # the TypeScript caller and handler workers (one Node.js process)
    ...
    ts.stop()                          # or let the kernel go: the workers go with it

The TypeScript code lives in ``polyglot/`` (contracts, workflows, handlers, worker); ``make polyglot``
installs its npm packages and compiles it once. The workers run like the lab's own server: a background
process whose output goes to ``<lab home>/logs/ts-workers-<pid>.log`` and that die with this process.

This module also holds the Python half of ``errors.v1`` (the operation that fails on purpose, which the
TypeScript side implements too), so the notebook and the tests show the same error mapping.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import nexusrpc
import nexusrpc.handler
from temporalio import workflow
from temporalio.exceptions import ApplicationError, NexusOperationError

from nexus_lab.errors import NexusLabError

if TYPE_CHECKING:
    from nexus_lab.lab import Lab

MIN_NODE = 18
TS_NAMESPACE = "payments"                 # the TypeScript Payments team's namespace
TS_CALLER_QUEUE = "payments-ts-tq"        # its caller workflows (tsPaymentWorkflow, describeFailure)
TS_HANDLER_QUEUE = "payments-ts-handler-tq"  # its payments.v1 and errors.v1 handlers
PAYMENTS_ENDPOINT = "payments-refunds"    # payments.v1, served by TypeScript
PY_ERRORS_ENDPOINT = "wire-errors-py"     # errors.v1 served by Python (the fraud namespace)
TS_ERRORS_ENDPOINT = "wire-errors-ts"     # errors.v1 served by TypeScript
PY_ERRORS_QUEUE = "fraud-errors-tq"
READY_TIMEOUT = 30.0
FAILURE_KINDS = ("handler-error", "operation-error", "application-error")


class PolyglotError(NexusLabError, RuntimeError):
    """The TypeScript side cannot run here (no Node.js, packages not installed, a worker that died)."""


def project_dir() -> Path:
    """``polyglot/`` of the course: a learner's workspace has none, so it is the checkout's (where
    ``make polyglot`` installed it)."""
    from nexus_lab.config import course_root
    from nexus_lab.course.workspace import course_file

    return course_file(course_root(), "polyglot")


def node_version() -> tuple[int, int, int] | None:
    """Node.js's version on PATH, or None when there is none."""
    node = shutil.which("node")
    if node is None:
        return None
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.(\d+)\.(\d+)", out.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def require_node() -> tuple[int, int, int]:
    """Node.js's version, or the one-line reason the chapter cannot run here."""
    version = node_version()
    if version is None:
        raise PolyglotError(f"Chapter 13 needs Node.js {MIN_NODE} or newer, and `node` is not on PATH: "
                            "install Node.js, then run `make polyglot`.")
    if version[0] < MIN_NODE:
        raise PolyglotError(f"Chapter 13 needs Node.js {MIN_NODE} or newer; this machine has "
                            f"{'.'.join(map(str, version))}: install a newer Node.js, then run `make polyglot`.")
    return version


def _newest_source(root: Path) -> float:
    sources = [*root.joinpath("src").glob("*.ts"), root / "package-lock.json", root / "tsconfig.json"]
    return max(p.stat().st_mtime for p in sources if p.exists())


def ensure_built(root: Path | None = None) -> Path:
    """Compile the TypeScript and bundle the workflows unless ``dist/`` is newer than every source.

    ``make polyglot`` does this once after ``npm ci``; here it only catches edits made since.
    """
    root = root or project_dir()
    require_node()
    if not (root / "node_modules" / "@temporalio" / "worker").is_dir():
        raise PolyglotError("The TypeScript packages of chapter 13 are not installed: run `make polyglot` "
                            f"(or `npm ci --prefix {root}`).")
    bundle = root / "dist" / "workflow-bundle.js"
    if bundle.exists() and bundle.stat().st_mtime >= _newest_source(root):
        return bundle
    npm = shutil.which("npm")
    if npm is None:
        raise PolyglotError("`npm` is not on PATH, so the TypeScript of chapter 13 cannot be compiled.")
    import fcntl  # POSIX, like the rest of the TypeScript side's process handling

    (root / "dist").mkdir(exist_ok=True)
    with open(root / "dist" / ".build.lock", "w") as lock:  # checks run side by side: one build at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if bundle.exists() and bundle.stat().st_mtime >= _newest_source(root):
            return bundle  # built by the one that held the lock
        done = subprocess.run([npm, "run", "--silent", "build"], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        first = next((line for line in (done.stdout + done.stderr).splitlines() if "error" in line.lower()),
                     "see `npm run build` in polyglot/")
        raise PolyglotError(f"The TypeScript of chapter 13 does not compile: {first.strip()}")
    return bundle


@dataclass
class TsWorkers:
    """The TypeScript team's workers: one Node.js process running a worker per role, ``caller``
    (the Payments workflows) and/or ``handler`` (the payments.v1 and errors.v1 handlers)."""

    namespace: str
    task_queues: dict[str, str]  # role -> task queue
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (the SDK shuts its workers down gracefully), SIGKILL if it lingers."""
        _live.discard(self)
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)

    def log_tail(self, lines: int = 5) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        lines = [f"TypeScript {role} worker: {self.namespace}/{queue}" for role, queue in self.task_queues.items()]
        return "\n".join([*lines, f"(one Node.js process, {state}; log: {self.log_path.name})"])

    def __hash__(self) -> int:
        return id(self)


_live: set[TsWorkers] = set()


@atexit.register
def _stop_all() -> None:
    for workers in list(_live):
        workers.stop()


def _launch(address: str, namespace: str, task_queues: dict[str, str], root: Path) -> TsWorkers:
    from nexus_lab.config import logs_dir

    log_path = logs_dir() / f"ts-workers-{os.getpid()}.log"  # checks run side by side: one log each
    command = [shutil.which("node") or "node", str(root / "dist" / "worker.js"), address, namespace,
               *(f"{role}={queue}" for role, queue in task_queues.items())]
    workers = TsWorkers(namespace, task_queues, log_path, _spawn(command, log_path))
    _live.add(workers)
    return workers


def _spawn(command: list[str], log_path: Path) -> subprocess.Popen:
    """Node.js dies with this process as the lab's server does: PR_SET_PDEATHSIG where usable, else the
    lab's watchdog; its stdout (the ``ready`` lines) and stderr (the SDK's log) go to ``log_path``."""
    from nexus_lab._watchdog import die_with_parent, pdeathsig_usable

    with open(log_path, "wb") as log:
        if pdeathsig_usable():
            return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, preexec_fn=die_with_parent)
        watchdog = [sys.executable, "-m", "nexus_lab._watchdog", str(os.getpid()), "--", *command]
        return subprocess.Popen(watchdog, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


async def _wait_ready(workers: TsWorkers, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = workers.log_path.read_text(errors="replace") if workers.log_path.exists() else ""
        if all(f"ready {role} " in text for role in workers.task_queues):
            return
        if not workers.is_running():
            workers.stop()
            last = next((line for line in reversed(workers.log_tail(20).splitlines())
                         if line.strip() and not line.lstrip().startswith("at ")), "no output")
            raise PolyglotError(f"The TypeScript workers stopped at start-up: {last.strip()} "
                                f"(log: {workers.log_path})")
        await asyncio.sleep(0.05)
    workers.stop()
    raise PolyglotError(f"The TypeScript workers were not ready within {timeout:g} s (log: {workers.log_path}).")


async def start(lab: Lab, *, roles: tuple[str, ...] = ("caller", "handler"), namespace: str = TS_NAMESPACE,
                timeout: float = READY_TIMEOUT) -> TsWorkers:
    """Start the TypeScript workers on the lab's server, replacing any this process started before.

    The namespace is created if needed (in a workshop it gets the learner's prefix).
    """
    root = project_dir()
    await asyncio.to_thread(ensure_built, root)
    await lab.namespace(namespace)
    queues = {"caller": TS_CALLER_QUEUE, "handler": TS_HANDLER_QUEUE}
    _stop_all()
    workers = _launch(lab.address, lab.namespace_name(namespace), {role: queues[role] for role in roles}, root)
    try:
        await _wait_ready(workers, timeout)
    except BaseException:
        workers.stop()
        raise
    return workers


def stop() -> None:
    """Stop the TypeScript workers this process started."""
    _stop_all()


# --- errors.v1, the Python half -------------------------------------------------------------------
@dataclass
class FailRequest:
    kind: str  # one of FAILURE_KINDS


@dataclass
class FailureReport:
    """What a caller saw when errors.v1 failed; the TypeScript caller reports the same fields."""

    error: str    # the error the call raised
    cause: str    # its cause: what the handler's error became on the wire
    detail: str   # the cause's handler-error type, or application type and retryability
    message: str
    origin: str = ""  # the innermost cause, when the cause wraps another one


@dataclass
class DescribeRequest:
    endpoint: str
    kind: str


@nexusrpc.service(name="errors.v1")
class ErrorsService:
    fail: nexusrpc.Operation[FailRequest, str]


@nexusrpc.handler.service_handler(service=ErrorsService)
class ErrorsHandler:
    """Fails the way ``kind`` says, as a Python handler does it."""

    @nexusrpc.handler.sync_operation
    async def fail(self, ctx: nexusrpc.handler.StartOperationContext, request: FailRequest) -> str:
        if request.kind == "handler-error":
            raise nexusrpc.HandlerError("Python handler: bad request", type=nexusrpc.HandlerErrorType.BAD_REQUEST)
        if request.kind == "operation-error":
            raise nexusrpc.OperationError("Python handler: operation failed",
                                          state=nexusrpc.OperationErrorState.FAILED)
        if request.kind == "application-error":
            raise ApplicationError("Python handler: card blocked", type="CardBlocked", non_retryable=True)
        raise nexusrpc.HandlerError(f"unknown kind {request.kind!r}", type=nexusrpc.HandlerErrorType.BAD_REQUEST)


def _message(error: BaseException) -> str:
    return getattr(error, "message", None) or str(error)  # ApplicationError's str() repeats its type


def _detail(error: BaseException | None) -> str:
    parts = []
    if isinstance(error, nexusrpc.HandlerError):
        parts.append(error.type.name)
    if isinstance(error, ApplicationError):
        parts += [error.type or "", f"non_retryable={error.non_retryable}"]
    return " ".join(p for p in parts if p)


def failure_report(err: NexusOperationError) -> FailureReport:
    """The error a Python caller received, in the TypeScript caller's fields."""
    cause = err.__cause__
    origin = cause
    while origin is not None and origin.__cause__ is not None:
        origin = origin.__cause__
    shown: BaseException = cause or err
    inner = ("" if origin is None or origin is cause
             else f"{type(origin).__name__} {_detail(origin)}: {_message(origin)}")
    return FailureReport(type(err).__name__, type(cause).__name__ if cause else "", _detail(cause), _message(shown),
                         inner)


@workflow.defn
class DescribeFailureWorkflow:
    """The Python caller of errors.v1: reports the error it received instead of failing."""

    @workflow.run
    async def run(self, request: DescribeRequest) -> FailureReport:
        errors = workflow.create_nexus_client(service=ErrorsService, endpoint=request.endpoint)
        try:
            await errors.execute_operation(ErrorsService.fail, FailRequest(request.kind),
                                           schedule_to_close_timeout=timedelta(seconds=10))
        except NexusOperationError as err:
            return failure_report(err)
        raise ApplicationError(f"errors.v1 fail({request.kind}) succeeded", non_retryable=True)
