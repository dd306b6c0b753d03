"""The checker: runs an exercise's check against the learner's file on a real Temporal server.

Each check runs in a child process (``python -m nexus_lab.checking``), for three reasons: learner
code that loops forever, even at import time, can always be stopped (the process group is killed
at the exercise's timeout, after a ``faulthandler`` dump has shown which line it was stuck on); a
fresh interpreter sees the file as it is now, never a stale import; and several checks can run at
once over one server (``nexus-lab verify``).

Every check gets its own namespaces and endpoint (a :class:`~nexus_lab.scope.Scope` prefix such as
``chk-1a2b3c4d-``), so runs never meet, while the learner's code keeps the story's names
(``payments``, ``fraud``, ``fraud-detection``).

A check function is ``async def check_x(c: Check)``; it groups its expectations into named tests
(``async with c.test("..."):``) and fails them with :meth:`Check.fail`, whose message says what was
expected and what happened.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

PASS, FAIL, ERROR = "pass", "fail", "error"
MARK = "@@nexus-lab "  # progress lines the child writes to stderr: "@@nexus-lab test <name>"
KILL_GRACE_S = 2.0     # the child stops itself at the timeout; the parent kills it this much later
CHILD_SETUP_S = 1.0    # of the timeout, kept back inside the child for reporting and clean-up


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------
@dataclass
class TestOutcome:
    name: str
    status: str
    message: str = ""


@dataclass
class CheckResult:
    """The outcome of one check, in the shape Exercism's test runners report (version 2)."""

    exercise: str
    status: str                 # pass, fail or error (the tests could not run: syntax error, timeout)
    message: str = ""
    tests: list[TestOutcome] = field(default_factory=list)
    file: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def to_dict(self) -> dict[str, Any]:
        return {"version": 2, "exercise": self.exercise, "status": self.status, "message": self.message,
                "file": self.file, "seconds": round(self.seconds, 3), "tests": [asdict(t) for t in self.tests]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        tests = [TestOutcome(**t) for t in data.get("tests", [])]
        return cls(data["exercise"], data["status"], data.get("message", ""), tests, data.get("file", ""),
                   data.get("seconds", 0.0))

    def text(self) -> str:
        head = {PASS: "✅ passed", FAIL: "❌ not yet", ERROR: "⚠️ could not run"}[self.status]
        lines = [f"{self.exercise}: {head} ({self.seconds:.1f} s)"]
        for test in self.tests:
            mark = {PASS: "✓", FAIL: "✗", ERROR: "!"}[test.status]
            lines.append(f"  {mark} {test.name}")
            if test.message and test.status != PASS:
                lines += ["      " + line for line in test.message.splitlines()]
        if self.message and not any(t.status != PASS for t in self.tests):
            lines += ["  " + line for line in self.message.splitlines()]
        if not self.passed:
            lines.append(f"  (edit {self.file}; `nexus-lab hint {self.exercise}` gives a hint)")
        return "\n".join(lines)

    __str__ = text

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        color = {PASS: "#1a7f37", FAIL: "#cf222e", ERROR: "#9a6700"}[self.status]
        return (f"<pre class='nexus-lab-check' style='border-left: 4px solid {color}; padding-left: 8px'>"
                f"{html.escape(self.text())}</pre>")


def results_file(results: list[CheckResult]) -> dict[str, Any]:
    """An Exercism-style results document for one or several checks."""
    if len(results) == 1:
        return results[0].to_dict()
    status = PASS if all(r.passed for r in results) else (
        ERROR if any(r.status == ERROR for r in results) else FAIL)
    failing = [r.exercise for r in results if not r.passed]
    return {"version": 2, "status": status, "exercises": [r.exercise for r in results],
            "message": "failing: " + ", ".join(failing) if failing else "",
            "tests": [{"name": f"{r.exercise}: {t.name}", "status": t.status, "message": t.message,
                       "exercise": r.exercise} for r in results for t in (r.tests or [TestOutcome("check", r.status, r.message)])],
            "results": [r.to_dict() for r in results]}


# ------------------------------------------------------------------------------------------------
# The check context (runs in the child process)
# ------------------------------------------------------------------------------------------------
class CheckFailed(AssertionError):
    """A behaviour the exercise asks for was not seen; the message is written for the learner."""


class _StopCheck(Exception):
    """A test failed: the remaining tests depend on it, so the check ends here."""


CALLER_NAMESPACE, HANDLER_NAMESPACE = "payments", "fraud"
CALLER_QUEUE, HANDLER_QUEUE = "payments-tq", "fraud-tq"
ENDPOINT = "fraud-detection"


class Check:
    """What a check function works with: the learner's module, a scoped lab and result recording."""

    def __init__(self, module: Any, lab: Any, learner_file: Path, run_id: str):
        self.module = module
        self.lab = lab
        self.learner_file = learner_file
        self.run_id = run_id
        self.tests: list[TestOutcome] = []
        self.running = ""  # the test in progress, named in a timeout message

    # --- tests ---------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def test(self, name: str):
        """One named expectation; a failure is recorded with its message and ends the check."""
        _mark("test", name)
        self.running = name
        try:
            yield
        except CheckFailed as err:
            self.tests.append(TestOutcome(name, FAIL, str(err)))
            raise _StopCheck from None
        except Exception as err:  # noqa: BLE001 - every error becomes a message for the learner
            self.tests.append(TestOutcome(name, *explain_error(err, self.learner_file, self.lab)))
            raise _StopCheck from None
        self.tests.append(TestOutcome(name, PASS))
        self.running = ""

    @staticmethod
    def fail(message: str) -> None:
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
        return text.replace(self.lab.scope.prefix, "") if isinstance(text, str) else text

    def unique(self, label: str) -> str:
        return f"{label}-{uuid.uuid4().hex[:6]}"

    # --- the story's topology --------------------------------------------------------------------
    async def setup(self, *, handlers: list[Any] = (), handler_workflows: list[type] = (),
                    handler_activities: list[Callable] = (), callers: list[type] = (),
                    endpoint: bool = True) -> None:
        """Namespaces ``payments`` and ``fraud``, endpoint ``fraud-detection`` → ``fraud``/``fraud-tq``,
        and a worker on each side."""
        await self.lab.namespace(CALLER_NAMESPACE)
        await self.lab.namespace(HANDLER_NAMESPACE)
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
        return await handle.result()

    async def caller_history(self, workflow_id: str) -> Any:
        return await self.lab.history(workflow_id, namespace=CALLER_NAMESPACE)

    async def handler_history(self, workflow_id: str) -> Any:
        return await self.lab.history(workflow_id, namespace=HANDLER_NAMESPACE)

    async def eventually(self, probe: Callable[[], Any], *, within: float = 3.0, every: float = 0.05) -> Any:
        """Poll ``probe`` (async) until it returns something truthy; the last value otherwise."""
        deadline = time.monotonic() + within
        while True:
            value = await probe()
            if value or time.monotonic() > deadline:
                return value
            await asyncio.sleep(every)


def explain_error(err: BaseException, learner_file: Path, lab: Any = None) -> tuple[str, str]:
    """(status, message) for an exception raised while a test ran: the learner's mistakes are
    ``fail`` with a plain explanation, the checker's own problems ``error``."""
    from temporalio.client import WorkflowFailureError

    from .runs import LabTimeoutError, WorkflowTaskFailedError
    from .workers import WorkerCrashedError, WorkerSetupError

    def clean(text: str) -> str:
        return text.replace(lab.scope.prefix, "") if lab is not None and lab.scope.prefix else text

    if isinstance(err, WorkflowTaskFailedError):
        return FAIL, clean(f"A workflow could not run: {err.failure_message}"
                           + (f"\n  at {err.where}" if err.where else "") + _task_failure_advice(err))
    if isinstance(err, LabTimeoutError):
        return FAIL, clean(f"No result in time: the workflow is still waiting.\n{err}")
    if isinstance(err, WorkflowFailureError):
        return FAIL, clean("The Payments workflow failed: " + " ← ".join(_chain(err.cause)))
    if isinstance(err, (WorkerSetupError, WorkerCrashedError)):
        return FAIL, clean(str(err))
    where = learner_location(err, learner_file)
    if where:
        return FAIL, clean(f"{type(err).__name__}: {err}\n  at {where}")
    signature = _signature_problem(err, learner_file)
    if signature:
        return FAIL, signature
    return ERROR, clean(f"The checker itself failed ({type(err).__name__}: {err}). "
                        f"Please report this.\n{''.join(traceback.format_exception(err)[-3:])}")


def _signature_problem(err: BaseException, learner_file: Path) -> str:
    """A learner's function called with the arguments the exercise promised, but defined otherwise."""
    match = re.match(r"(\w+)\(\) (missing|takes|got)", str(err)) if isinstance(err, TypeError) else None
    if not match:
        return ""
    lines = learner_file.read_text(errors="replace").splitlines()
    line = next((n for n, text in enumerate(lines, 1) if re.search(rf"def {match[1]}\(", text)), 0)
    return (f"TypeError: {err}\n  at {_display(learner_file)}:{line}: {lines[line - 1].strip() if line else ''}\n"
            "Keep the signature the exercise file started with: the check calls it that way.")


def _task_failure_advice(err: Any) -> str:
    lowered = err.failure_message.lower()
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


def learner_location(err: BaseException, learner_file: Path) -> str:
    """``file:line: code`` of the innermost frame in the learner's folder, if the error passed there."""
    folder = learner_file.resolve().parent
    found = ""
    for frame in traceback.extract_tb(err.__traceback__):
        path = Path(frame.filename)
        if path.is_absolute() and path.resolve().parent == folder:
            found = f"{_display(path)}:{frame.lineno}: {(frame.line or '').strip()}"
    return found


def _display(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


def _mark(kind: str, text: str) -> None:
    print(f"{MARK}{kind} {text}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# Loading the learner's file (child process)
# ------------------------------------------------------------------------------------------------
class LoadFailed(Exception):
    """The learner's file does not import; the message has the file and line."""


def load_learner_module(path: Path) -> Any:
    """Import ``path`` as a top-level module (its folder first on ``sys.path``, so the workflow
    sandbox can import it again by name)."""
    sys.path.insert(0, str(path.parent))
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as err:
        raise LoadFailed(f"Cannot read {_display(path)}: {err.strerror}.") from None
    try:
        compile(source, str(path), "exec")
    except SyntaxError as err:
        pointer = ""
        if err.text:
            pointer = f"\n    {err.text.rstrip()}\n    {' ' * max(0, (err.offset or 1) - 1)}^"
        raise LoadFailed(f"{_display(path)}:{err.lineno}: {type(err).__name__}: {err.msg}{pointer}") from None
    try:
        return importlib.import_module(path.stem)
    except BaseException as err:  # noqa: BLE001 - SystemExit and friends from learner code too
        where = learner_location(err, path) or _display(path)
        raise LoadFailed(f"Importing {_display(path)} failed: {type(err).__name__}: {err}\n  at {where}") from None


def resolve_check(spec: str) -> Callable[[Check], Any]:
    module_name, _, function = spec.partition(":")
    return getattr(importlib.import_module(module_name), function)


async def _run_in_child(exercise_id: str, check_spec: str, path: Path, address: str, timeout: float) -> CheckResult:
    from temporalio.client import Client  # noqa: F401 - imported before the learner's module on purpose

    from .lab import Lab
    from .scope import Scope

    started = time.monotonic()
    result = CheckResult(exercise_id, ERROR, file=_display(path))
    check_fn = resolve_check(check_spec)
    _mark("phase", "import")
    try:
        module = load_learner_module(path)
    except LoadFailed as err:
        result.message = str(err)
        return result
    _mark("phase", "connect")
    run_id = uuid.uuid4().hex[:8]
    server = None
    if address == "embedded":  # no server to share (a notebook without a lab): this check's own
        from .server import find_free_port_pair, start_embedded_server

        server = await start_embedded_server(find_free_port_pair(20000 + os.getpid() % 4000), reuse=False)
        address = server.address
    client = await _connect_for_check(address)
    lab = Lab(client, scope=Scope(f"chk-{run_id}"))
    check = Check(module, lab, path, run_id)
    _mark("phase", "check")
    try:
        await asyncio.wait_for(check_fn(check), timeout=max(0.5, timeout - CHILD_SETUP_S))
        result.status = PASS
    except _StopCheck:
        failed = check.tests[-1]
        result.status, result.message = failed.status, failed.message
    except asyncio.TimeoutError:
        running = _current_test(check)
        check.tests.append(TestOutcome(running, ERROR, f"Still not done after {timeout:g} s."))
        result.status, result.message = ERROR, f"The check timed out after {timeout:g} s in test {running!r}."
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(lab.workers.stop_all(), timeout=2)
        if server is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(_remove_check_names(lab), timeout=3)
        else:
            server.stop()
    result.tests = check.tests
    result.seconds = time.monotonic() - started
    return result


async def _remove_check_names(lab: Any) -> None:
    """Delete the endpoints and namespaces this check made (all carry its ``chk-<id>-`` prefix), so
    hundreds of checks do not leave hundreds of namespaces on the learner's server."""
    from temporalio.api.operatorservice.v1 import DeleteNamespaceRequest

    from .registry import list_namespaces

    for endpoint in await lab.endpoints():
        if endpoint.name.startswith(lab.scope.prefix):
            await lab.delete_endpoint(endpoint.name)
    for name in await list_namespaces(lab.client()):
        if name.startswith(lab.scope.prefix):
            with contextlib.suppress(Exception):  # already being deleted
                await lab.client().operator_service.delete_namespace(DeleteNamespaceRequest(namespace=name))


async def _connect_for_check(address: str) -> Any:
    """The check's client: in a workshop with the room's full settings (TLS, API key from the
    environment or profile, as the learner's notebooks use), else plainly by address."""
    from . import workshop_mode
    from .connection import connect_client, connect_configured

    if not workshop_mode():
        return await connect_client(address)
    client, _namespace = await connect_configured()
    return client


def _current_test(check: Check) -> str:
    return check.running or (f"after {check.tests[-1].name!r}" if check.tests else "setup")


def child_main(argv: list[str]) -> int:
    """Entry point of the child process: writes the result as JSON to ``--out``."""
    import faulthandler

    parser = argparse.ArgumentParser(prog="python -m nexus_lab.checking")
    parser.add_argument("--exercise", required=True)
    parser.add_argument("--check", required=True)
    parser.add_argument("--file", required=True, type=Path)
    parser.add_argument("--address", required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    sys.dont_write_bytecode = True
    from .connection import quiet_sdk_logs
    from .config import logs_dir

    quiet_sdk_logs(str(logs_dir() / "checks-sdk.log"))
    result = asyncio.run(_run_in_child(args.exercise, args.check, args.file.resolve(), args.address, args.timeout))
    from .progress import atomic_write_text

    atomic_write_text(args.out, json.dumps(result.to_dict()))
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: leftover SDK threads must not delay the answer


# ------------------------------------------------------------------------------------------------
# Running checks (parent process)
# ------------------------------------------------------------------------------------------------
def run_check_process(exercise: Any, path: Path, address: str, *, timeout: float | None = None,
                      cwd: Path | None = None) -> CheckResult:
    """Check ``path`` (the learner's file or a solution) for ``exercise`` in a child process."""
    timeout = timeout or exercise.timeout
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nexus-lab-check-") as tmp:
        out = Path(tmp) / "result.json"
        stderr_path = Path(tmp) / "stderr.txt"
        command = [sys.executable, "-m", "nexus_lab.checking", "--exercise", exercise.id, "--check", exercise.check,
                   "--file", str(path), "--address", address, "--timeout", str(timeout), "--out", str(out)]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
        with open(stderr_path, "w+") as stderr:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                                    cwd=cwd, env=env, start_new_session=True)
            try:
                proc.wait(timeout=timeout + KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                return _killed(exercise, proc, stderr_path, path, timeout, started)
        if out.exists():
            result = CheckResult.from_dict(json.loads(out.read_text()))
            result.seconds = time.monotonic() - started
            return result
        tail = stderr_path.read_text(errors="replace")[-2000:]
        return CheckResult(exercise.id, ERROR, f"The check stopped without a result (exit code {proc.returncode}).\n"
                           f"{_strip_marks(tail)}", file=_display(path), seconds=time.monotonic() - started)


def _killed(exercise: Any, proc: subprocess.Popen, stderr_path: Path, path: Path, timeout: float,
            started: float) -> CheckResult:
    """Kill a child that did not stop by itself, saying where the learner's code was stuck."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGUSR1)  # faulthandler: every thread's stack to stderr
    time.sleep(0.3)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    log = stderr_path.read_text(errors="replace")
    phase = _last_mark(log, "phase") or "start"
    test = _last_mark(log, "test")
    stuck = _stuck_line(log, path)
    if phase == "import":
        what = f"Importing {_display(path)} did not finish within {timeout:g} s: does code at module level loop forever?"
    else:
        what = f"The check did not finish within {timeout:g} s" + (f" (in test {test!r})" if test else "") + \
               ": the code blocked the event loop (an endless loop, or time.sleep in async code?)."
    message = what + (f"\n  stuck at {stuck}" if stuck else "")
    tests = [TestOutcome(test or "import", ERROR, message)]
    return CheckResult(exercise.id, ERROR, message, tests, file=_display(path), seconds=time.monotonic() - started)


def _last_mark(log: str, kind: str) -> str:
    found = re.findall(rf"^{re.escape(MARK)}{kind} (.*)$", log, flags=re.M)
    return found[-1] if found else ""


def _strip_marks(log: str) -> str:
    return "\n".join(line for line in log.splitlines() if not line.startswith(MARK))


def _stuck_line(log: str, path: Path) -> str:
    """The learner's line in a faulthandler dump (``File "...", line N in f``)."""
    target = str(path.resolve())
    for match in re.finditer(r'File "(?P<file>[^"]+)", line (?P<line>\d+)', log):
        if match["file"] == target:
            line_no = int(match["line"])
            lines = path.read_text(errors="replace").splitlines()
            code = lines[line_no - 1].strip() if 0 < line_no <= len(lines) else ""
            return f"{_display(path)}:{line_no}: {code}"
    return ""


# ------------------------------------------------------------------------------------------------
# The server the checks use
# ------------------------------------------------------------------------------------------------
class CheckServer:
    """A Temporal server for checks: the live one on ``NEXUS_LAB_PORT`` (7233), else a private
    embedded server on a free port that this process starts and stops (use as a context manager).

    Never the shared port for a server of its own: a second ``nexus-lab check`` would reuse it
    and lose it mid-check when the first one ends."""

    def __init__(self, port: int | None = None):
        from .config import DEFAULT_PORT

        self.port = port or int(os.environ.get("NEXUS_LAB_PORT", DEFAULT_PORT))
        self.server = None
        self.address = ""

    def __enter__(self) -> CheckServer:
        from .server import LOOPBACK, _accepts_connections

        from . import workshop_mode

        if workshop_mode():  # a workshop: checks run on the room's shared cluster
            from .config import external_connect_config

            self.address = external_connect_config()["target_host"]
        elif _accepts_connections(self.port):
            self.address = f"{LOOPBACK}:{self.port}"
        else:  # a private server: checks in other terminals must not lose it when this one ends
            from .server import find_free_port_pair, start_embedded_server

            port = find_free_port_pair(20000 + os.getpid() % 4000)
            self.server = asyncio.run(start_embedded_server(port, reuse=False))
            self.address = self.server.address
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.server is not None and self.server.owned:
            self.server.stop()


def run_checks(jobs: list[tuple[Any, Path]], address: str, *, parallel: int = 2,
               on_result: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    """Run several checks (exercise, file) at once over one server; results in the given order."""
    from concurrent.futures import ThreadPoolExecutor

    def one(job: tuple[Any, Path]) -> CheckResult:
        result = run_check_process(job[0], job[1], address)
        if on_result:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(one, jobs))


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
