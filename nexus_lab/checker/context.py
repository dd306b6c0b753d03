"""What a check function works with (runs in the child process): the learner's module, a scoped
lab, named tests, and every error turned into a message for the learner."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import re
import sys
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import nexusrpc

from nexus_lab.checker.results import ERROR, FAIL, PASS, TestOutcome

MARK = "@@nexus-lab "  # progress lines the child writes to stderr: "@@nexus-lab test <name>"


class CheckFailed(AssertionError):
    """A behaviour the exercise asks for was not seen; the message is written for the learner."""


class _StopCheck(Exception):
    """A test failed: the remaining tests depend on it, so the check ends here."""


CALLER_NAMESPACE, HANDLER_NAMESPACE = "payments", "fraud"
CALLER_QUEUE, HANDLER_QUEUE = "payments-tq", "fraud-tq"
ENDPOINT = "fraud-detection"
MAX_PATIENCE = 3.0


def patience() -> float:
    """How many times longer than on a quiet machine a check waits for the learner's code.

    A check's limits are there to catch code that hangs; a busy machine (a class checking at once, a CI
    run, two checks on two cores) must not turn a right answer into a time-out. The load per core decides
    (1 on a quiet machine, at most 3); ``NEXUS_LAB_PATIENCE`` sets it outright."""
    try:
        return max(1.0, float(os.environ["NEXUS_LAB_PATIENCE"]))
    except (KeyError, ValueError):
        pass
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:  # no load average on this platform
        return 1.0
    return min(MAX_PATIENCE, max(1.0, load))


class _LearnerErrors(logging.Handler):
    """What the SDK logs about the learner's code in this process, as messages for the learner:
    a handler's unexpected exception (Nexus retries it, so the caller only waits), a workflow task
    that fails (the workflow retries it forever), a signal dropped because its argument did not
    decode. Deliberate ``HandlerError``/``OperationError`` are answers, not errors."""

    def __init__(self, learner_file: Path, clean: Callable[[str], str]):
        super().__init__(logging.WARNING)
        self.learner_file = learner_file
        self.clean = clean
        self.messages: list[str] = []
        self.expected: list[str] = []  # words of errors a check provokes on purpose


    def emit(self, record: logging.LogRecord) -> None:
        err = record.exc_info[1] if record.exc_info else sys.exc_info()[1]
        text = record.getMessage()
        if err is None or isinstance(err, (asyncio.CancelledError, nexusrpc.HandlerError, nexusrpc.OperationError)):
            return
        if "Failed deserializing signal input" in text:
            match = re.search(r"signal input for (\S+) on workflow (\S+) with ID (\S+)", text)
            signal, workflow_type, workflow_id = match.groups() if match else ("a", "a workflow", "?")
            self.messages.append(self.clean(
                f"The {signal!r} signal reached {workflow_type} {workflow_id}, but its argument did not decode "
                f"({type(err).__name__}: {err}), so the SDK dropped it. Send what the signal handler takes."))
            return
        if not ("Nexus" in text or "Failed activation" in text) or any(w in f"{text} {err}" for w in self.expected):
            return
        where = learner_location(err, self.learner_file)
        side = "a Nexus handler" if "Nexus" in text else "a workflow (its workflow task failed and is retried)"
        self.messages.append(self.clean(f"Your code raised in {side}: {type(err).__name__}: {err}"
                                        + (f"\n  at {where}" if where else "")))


class Check:
    """What a check function works with: the learner's module, a scoped lab and result recording."""

    def __init__(self, module: Any, lab: Any, learner_file: Path, run_id: str):
        self.module = module
        self.lab = lab
        self.learner_file = learner_file
        self.run_id = run_id
        self.tests: list[TestOutcome] = []
        self.running = ""  # the test in progress, named in a timeout message
        self.patience = patience()
        self.errors = _LearnerErrors(learner_file, self.unscoped)
        sdk = logging.getLogger("temporalio")
        for old in [h for h in sdk.handlers if isinstance(h, _LearnerErrors)]:
            sdk.removeHandler(old)
        sdk.addHandler(self.errors)

    # --- tests ---------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def test(self, name: str, *, shown: bool = True):
        """One named expectation; a failure is recorded with its message and ends the check
        (``shown=False``: a step that is listed only if it fails, such as starting the workers)."""
        _mark("test", name)
        self.running = name
        logged = len(self.errors.messages)
        try:
            yield
        except CheckFailed as err:
            self.tests.append(TestOutcome(name, FAIL, self._with_learner_errors(str(err))))
            raise _StopCheck from None
        except Exception as err:
            status, message = explain_error(err, self.learner_file, self.lab)
            if status == ERROR and len(self.errors.messages) > logged:
                status = FAIL  # the learner's code failed first; what the checker tripped on follows from it
            self.tests.append(TestOutcome(name, status, self._with_learner_errors(message)))
            raise _StopCheck from None
        if shown:
            self.tests.append(TestOutcome(name, PASS))
        self.running = ""

    def _with_learner_errors(self, message: str) -> str:
        """The message, after what the learner's code raised during the check (the cause comes first)."""
        new = [m for m in dict.fromkeys(self.errors.messages) if m not in message]
        return "\n".join([*new[:2], message]) if new else message

    async def guard(self, awaitable: Awaitable[Any], *, grace: float = 0.5) -> Any:
        """Await ``awaitable`` unless the learner's code fails meanwhile (a handler exception Nexus
        retries, a workflow task that fails): then stop waiting and fail with that error."""
        since = len(self.errors.messages)
        task = asyncio.ensure_future(awaitable)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=0.05)
                if task in done:
                    return task.result()
                if len(self.errors.messages) > since:
                    done, _ = await asyncio.wait({task}, timeout=grace)
                    if task in done:
                        return task.result()
                    self.fail("No result: the call waits while your code keeps failing (it is retried).")
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    @staticmethod
    def fail(message: str) -> NoReturn:
        raise CheckFailed(message)

    def expect(self, condition: Any, message: str) -> None:
        if not condition:
            raise CheckFailed(message)

    def attr(self, name: str, what: str = "") -> Any:
        """A name the exercise file must define (the TODOs say which)."""
        if not hasattr(self.module, name):
            self.fail(f"{self.learner_file.name} has no {name}{' (' + what + ')' if what else ''}: "
                      "keep the names the file starts with.")
        return getattr(self.module, name)

    def unscoped(self, text: str) -> str:
        """Names as the learner wrote them: this run's namespace/endpoint prefix removed."""
        return self.lab.scope.unscoped(text)

    def unique(self, label: str) -> str:
        return f"{label}-{uuid.uuid4().hex[:6]}"

    async def call(self, fn: Callable[..., Any], *args: Any, within: float = 5.0, name: str = "",
                   advice: Callable[[], Awaitable[str]] | None = None) -> Any:
        """Await the learner's ``async def`` with a limit of its own: a call that is too slow fails at
        the learner's line it was waiting on (the check's own limit would blame the checker), with
        ``advice()`` saying what it may be waiting for."""
        name = name or f"{getattr(fn, '__name__', 'the function')}()"
        if not inspect.iscoroutinefunction(fn):
            self.fail(f"{name} must be an `async def`: the check awaits it.\n  at "
                      f"{def_location(self.learner_file, getattr(fn, '__name__', ''))}")
        task = asyncio.ensure_future(fn(*args))
        within *= self.patience
        done, _ = await asyncio.wait({task}, timeout=within)
        if task in done:
            return task.result()
        where = next((f"{_display(Path(f.f_code.co_filename))}:{f.f_lineno}: {_source_line(f)}"
                      for f in reversed(task.get_stack()) if _in_folder(f.f_code.co_filename, self.learner_file)),
                     "")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        self.fail(f"{name} did not finish within {within:g} s: each call should take well under a second."
                  + (f"\n  still waiting at {where}" if where else "") + (await advice() if advice else ""))

    # --- the story's topology --------------------------------------------------------------------
    async def setup(self, *, handlers: Sequence[Any] = (), handler_workflows: Sequence[type] = (),
                    handler_activities: Sequence[Callable] = (), callers: Sequence[type] = (),
                    endpoint: bool = True, namespaces: bool = True) -> None:
        """Namespaces ``payments`` and ``fraud``, endpoint ``fraud-detection`` → ``fraud``/``fraud-tq``,
        and a worker on each side (without what the learner's own code was asked to set up)."""
        async with self.test("the workers start", shown=False):
            if namespaces:  # both at once: each waits for the server's namespace cache (~0.1 s)
                await asyncio.gather(self.lab.namespace(CALLER_NAMESPACE), self.lab.namespace(HANDLER_NAMESPACE))
            if endpoint:
                await self.lab.endpoint(ENDPOINT, namespace=HANDLER_NAMESPACE, task_queue=HANDLER_QUEUE)
            if handlers or handler_workflows or handler_activities:
                await self.lab.worker(namespace=HANDLER_NAMESPACE, task_queue=HANDLER_QUEUE,
                                      nexus_services=list(handlers), workflows=list(handler_workflows),
                                      activities=list(handler_activities))
            if callers:
                await self.lab.worker(namespace=CALLER_NAMESPACE, task_queue=CALLER_QUEUE, workflows=list(callers))

    async def start_caller(self, run_fn: Any, arg: Any, *, timeout: float = 5.0, id: str | None = None) -> Any:
        return await self.lab.start_workflow(run_fn, arg, namespace=CALLER_NAMESPACE, task_queue=CALLER_QUEUE,
                                             id=id or self.unique("payment"), timeout=timeout)

    async def run_caller(self, run_fn: Any, arg: Any, *, timeout: float = 5.0, id: str | None = None) -> Any:
        """Run a Payments workflow to its result (errors are explained by :meth:`test`)."""
        handle = await self.start_caller(run_fn, arg, timeout=timeout, id=id)
        return await self.guard(self.result(handle, timeout))

    async def result(self, handle: Any, timeout: float = 8.0) -> Any:
        """A started workflow's result, failing fast on a stuck workflow task and explaining a time-out
        (``timeout`` is for a quiet machine: it grows with :func:`patience`).

        The lab handle's own ``result()`` turns a cancelled wait into a ``KeyboardInterrupt`` (right for
        a notebook cell); a check cancels waits on purpose (:meth:`guard`), so it waits on the SDK handle."""
        from nexus_lab.runs import wait_for_result

        return await wait_for_result(handle.raw, timeout=round(timeout * self.patience, 1))

    async def caller_history(self, workflow_id: str) -> Any:
        return await self.lab.history(workflow_id, namespace=CALLER_NAMESPACE)

    async def handler_history(self, workflow_id: str) -> Any:
        return await self.lab.history(workflow_id, namespace=HANDLER_NAMESPACE)

    async def eventually(self, probe: Callable[[], Any], *, within: float = 3.0, every: float = 0.05) -> Any:
        """Poll ``probe`` (async) until it returns something truthy; the last value otherwise."""
        deadline = time.monotonic() + within * self.patience
        while True:
            value = await probe()
            if value or time.monotonic() > deadline:
                return value
            await asyncio.sleep(every)


def explain_error(err: BaseException, learner_file: Path, lab: Any = None) -> tuple[str, str]:
    """(status, message) for an exception raised while a test ran: the learner's mistakes are
    ``fail`` with a plain explanation, the checker's own problems ``error``."""
    from temporalio.client import WorkflowFailureError

    from nexus_lab.runs import LabTimeoutError, WorkflowTaskFailedError
    from nexus_lab.workers import WorkerCrashedError, WorkerSetupError

    def clean(text: str) -> str:
        return lab.scope.unscoped(text) if lab is not None else text

    if isinstance(err, WorkflowTaskFailedError):
        where = err.where if err.where and _in_folder(err.where.split(":")[0], learner_file) else ""
        return FAIL, clean(f"A workflow could not run: {err.failure_message}"
                           + (f"\n  at {where}" if where else "") + _task_failure_advice(err, learner_file))
    if isinstance(err, LabTimeoutError):
        return FAIL, clean(f"No result in time: the workflow is still waiting.\n{err}")
    if isinstance(err, WorkflowFailureError):
        return FAIL, clean("The Payments workflow failed: " + " ← ".join(_chain(err.cause)))
    if isinstance(err, (WorkerSetupError, WorkerCrashedError)):
        return FAIL, clean(str(err))
    where = learner_location(err, learner_file)
    if where:
        return FAIL, clean(f"{type(err).__name__}: {err}\n  at {where}{_common_slip(err)}")
    signature = _signature_problem(err, learner_file)
    if signature:
        return FAIL, signature
    return ERROR, clean(f"The checker itself failed ({type(err).__name__}: {err}). "
                        f"Please report this.\n{''.join(traceback.format_exception(err)[-3:])}")


def _common_slip(err: BaseException) -> str:
    """One line of advice for a mistake whose Python message does not name its cause."""
    if "'coroutine' object" in str(err):
        return "\nThat value is a coroutine: the call that made it is `async`, and it needs an `await`."
    return ""


def _signature_problem(err: BaseException, learner_file: Path) -> str:
    """A learner's function called with the arguments the exercise promised, but defined otherwise."""
    match = re.match(r"(\w+)\(\) (missing|takes|got)", str(err)) if isinstance(err, TypeError) else None
    if not match:
        return ""
    return (f"TypeError: {err}\n  at {def_location(learner_file, match[1])}\n"
            "Keep the signature the exercise file started with: the check calls it that way.")


def _task_failure_advice(err: Any, learner_file: Path) -> str:
    lowered = err.failure_message.lower()
    undecodable = re.search(r"(\w+)\.__init__\(\) (?:missing|got an unexpected)", err.failure_message)
    if "decoding" in lowered or undecodable:
        at = f"\n  at {def_location(learner_file, undecodable[1])}" if undecodable else ""
        return (f"{at}\nA value that crossed the wire does not decode into your type: the other team's data "
                "keeps the contract's field names and types, so yours must match them.")
    if "restricted" in lowered or "sandbox" in lowered:
        return ("\nWorkflow code must be deterministic: no clocks, randomness or I/O. Use workflow.now(), "
                "workflow.random() or workflow.uuid4(), or move the work into an activity or operation.")
    if "endpoint" in lowered and "not found" in lowered:
        return f"\nThe Payments code must call the endpoint {ENDPOINT!r}."
    return ""


def _chain(err: BaseException | None) -> list[str]:
    chain = []
    while err is not None:
        chain.append(f"{type(err).__name__}: {err}")
        err = err.__cause__
    return chain


def _in_folder(filename: str, learner_file: Path) -> bool:
    path = Path(filename)
    return path.is_absolute() and path.resolve().parent == learner_file.resolve().parent


def _source_line(frame: Any) -> str:
    import linecache

    return linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()


def def_location(learner_file: Path, function: str) -> str:
    """``file:line: def ...`` of a function or class in the learner's file (its first definition)."""
    lines = learner_file.read_text(errors="replace").splitlines()
    line = next((n for n, text in enumerate(lines, 1) if re.search(rf"(def|class) {re.escape(function)}\b", text)), 0)
    return f"{_display(learner_file)}:{line}: {lines[line - 1].strip() if line else ''}"


def learner_location(err: BaseException, learner_file: Path) -> str:
    """``file:line: code`` of the innermost frame in the learner's folder, if the error passed there."""
    found = ""
    for frame in traceback.extract_tb(err.__traceback__):
        if _in_folder(frame.filename, learner_file):
            found = f"{_display(Path(frame.filename))}:{frame.lineno}: {(frame.line or '').strip()}"
    return found


def _display(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


def _mark(kind: str, text: str) -> None:
    print(f"{MARK}{kind} {text}", file=sys.stderr, flush=True)

