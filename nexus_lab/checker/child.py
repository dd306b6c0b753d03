"""The child process that runs one check (``python -m nexus_lab.checker.child``): loads the
learner's file in a fresh interpreter, connects, runs the check function within its time limit."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nexus_lab.checker.context import (
    Check,
    _display,
    _mark,
    _StopCheck,
    learner_location,
)
from nexus_lab.checker.results import ERROR, PASS, CheckResult, TestOutcome
from nexus_lab.errors import NexusLabError

CHILD_SETUP_S = 1.0    # of the timeout, kept back inside the child for reporting and clean-up


class LoadFailed(NexusLabError):
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
    except BaseException as err:  # SystemExit and friends from learner code too
        where = learner_location(err, path) or _display(path)
        raise LoadFailed(f"Importing {_display(path)} failed: {type(err).__name__}: {err}\n  at {where}") from None


def resolve_check(spec: str) -> Callable[[Check], Any]:
    module_name, _, function = spec.partition(":")
    return getattr(importlib.import_module(module_name), function)


async def _run_in_child(exercise_id: str, check_spec: str, path: Path, address: str, timeout: float) -> CheckResult:
    from temporalio.client import Client  # noqa: F401 - imported before the learner's module on purpose

    from nexus_lab.lab import Lab
    from nexus_lab.workshop.scope import scope_from_environment

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
        from nexus_lab.server import find_free_port_pair, start_embedded_server

        server = await start_embedded_server(find_free_port_pair(20000 + os.getpid() % 4000), reuse=False)
        address = server.address
    client = await _connect_for_check(address)
    lab = Lab(client, scope=scope_from_environment().for_check(run_id))
    check = Check(module, lab, path, run_id)
    _mark("phase", "check")
    try:
        await asyncio.wait_for(check_fn(check), timeout=max(0.5, timeout - CHILD_SETUP_S))
        result.status = PASS
    except _StopCheck:
        failed = check.tests[-1]
        result.status, result.message = failed.status, failed.message
    except TimeoutError:
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

    from nexus_lab.connection import ask_again_if_transient
    from nexus_lab.registry import list_namespaces

    for endpoint in await lab.endpoints():
        if lab.scope.owns(endpoint.name):
            await lab.delete_endpoint(endpoint.name)
    for name in await list_namespaces(lab.client()):
        if lab.scope.owns(name):
            with contextlib.suppress(Exception):  # already being deleted
                await ask_again_if_transient(functools.partial(
                    lab.client().operator_service.delete_namespace, DeleteNamespaceRequest(namespace=name)))


async def _connect_for_check(address: str) -> Any:
    """The check's client: in a workshop with the room's full settings (TLS, API key from the
    environment or profile, as the learner's notebooks use), else plainly by address."""
    from nexus_lab import workshop_mode
    from nexus_lab.connection import connect_client, connect_configured

    if not workshop_mode():
        return await connect_client(address)
    client, _namespace = await connect_configured()
    return client


def _current_test(check: Check) -> str:
    return check.running or (f"after {check.tests[-1].name!r}" if check.tests else "setup")


def end_group_with_parent() -> None:
    """Kill this check's whole process group (the child and what the learner's code started) when
    the parent is gone: SIGTERM comes from PR_SET_PDEATHSIG (see the runner); a thread that sees a
    new parent covers the platforms and cases without it."""
    def end_group(*_: object) -> None:
        os.killpg(0, signal.SIGKILL)

    signal.signal(signal.SIGTERM, end_group)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        end_group()

    threading.Thread(target=watch, name="nexus-lab-parent-watch", daemon=True).start()


def child_main(argv: list[str]) -> int:
    """Entry point of the child process: writes the result as JSON to ``--out``."""
    import faulthandler

    parser = argparse.ArgumentParser(prog="python -m nexus_lab.checker.child")
    parser.add_argument("--exercise", required=True)
    parser.add_argument("--check", required=True)
    parser.add_argument("--file", required=True, type=Path)
    parser.add_argument("--address", required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    end_group_with_parent()
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    sys.dont_write_bytecode = True
    from nexus_lab.config import logs_dir
    from nexus_lab.connection import quiet_sdk_logs

    quiet_sdk_logs(str(logs_dir() / "checks-sdk.log"))
    result = asyncio.run(_run_in_child(args.exercise, args.check, args.file.resolve(), args.address, args.timeout))
    from nexus_lab.config import LabStorageError, write_private

    code = 0
    try:
        write_private(args.out, json.dumps(result.to_dict()))
    except LabStorageError as err:  # a full disk: the parent shows this line instead of a result
        print(err, file=sys.stderr)
        code = 3
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip interpreter teardown: leftover SDK threads must not delay the answer


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
