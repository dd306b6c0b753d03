"""Clients for the lab, all sharing one connection and one quiet SDK runtime.

The SDK's Rust core logs to stdout by default, which in a notebook means stray lines in whatever
cell happens to be running. The lab's runtime forwards those logs to Python ``logging`` instead
(logger ``nexus_lab.sdk``), so a learner sees them only if they ask for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio.client import Client
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.service import RPCError, RPCStatusCode

from nexus_lab.errors import NexusLabError

SDK_LOGGER = logging.getLogger("nexus_lab.sdk")

_T = TypeVar("_T")

_runtime: Runtime | None = None


def lab_runtime() -> Runtime:
    """The process-wide SDK runtime with core logs forwarded to Python logging (made once)."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                    forwarding=LogForwardingConfig(logger=SDK_LOGGER),
                ),
                metrics=None,
            )
        )
    return _runtime


def quiet_sdk_logs(log_file: str | None) -> None:
    """Send the SDK's worker logs (tracebacks of failed workflow tasks, ...) to a file, not to cells.

    The lab reports those failures itself, in one readable exception; the full traceback stays in
    the log file for whoever wants it.
    """
    sdk = logging.getLogger("temporalio")
    if any(getattr(h, "_nexus_lab", False) for h in sdk.handlers):
        return
    handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.NullHandler()
    handler._nexus_lab = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    sdk.addHandler(handler)
    sdk.propagate = False
    SDK_LOGGER.addHandler(handler)
    SDK_LOGGER.propagate = False


USER_LOGGERS = ("temporalio.workflow", "temporalio.activity", "temporalio.nexus")
"""The loggers behind ``workflow.logger``, ``activity.logger`` and ``nexus.logger``: what a learner's or
a sample's code logs. The SDK's own modules log under other names (``temporalio.worker...``)."""


class _CellLogHandler(logging.Handler):
    """Writes to the ``sys.stdout`` of the moment: in Jupyter that is the cell now running."""

    _nexus_lab = True

    def emit(self, record: logging.LogRecord) -> None:
        import sys

        with contextlib.suppress(OSError, ValueError):  # a closed stream (kernel shutting down)
            print(self.format(record), file=sys.stdout, flush=True)


class _UserRecords(logging.Filter):
    """Only the user loggers themselves: SDK modules below ``temporalio.nexus`` stay in the log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name in USER_LOGGERS


def show_logs(level: str | int | None = "INFO") -> None:
    """Show what workflows, activities and Nexus handlers log (``workflow.logger.info(...)`` ...) in
    the cell or terminal, from ``level`` up; ``show_logs(None)`` hides them again.

    The SDK's own lines stay in ``<lab home>/logs/sdk.log``. Standard ``logging`` works too: add a
    handler to one of :data:`USER_LOGGERS` (the ``temporalio`` logger does not propagate to the root).
    Lines logged while a workflow replays its history are not repeated (the SDK skips them).
    """
    for name in USER_LOGGERS:
        logger = logging.getLogger(name)
        for handler in [h for h in logger.handlers if isinstance(h, _CellLogHandler)]:
            logger.removeHandler(handler)
        if level is None:
            logger.setLevel(logging.NOTSET)
            continue
        handler = _CellLogHandler()
        handler.addFilter(_UserRecords())
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(level.upper() if isinstance(level, str) else level)


class LabConnectionError(NexusLabError, ConnectionError):
    """The Temporal service could not be reached or refused the credentials (one-line message)."""


def one_line(err: BaseException) -> str:
    """The first meaningful line of an SDK/gRPC error, without the Rust backtrace under it."""
    text = str(err).strip() or type(err).__name__
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("Stack backtrace", "0:", "at ")):
            return line[:300]
    return text.splitlines()[0][:300]


async def connect_client(target: str, *, namespace: str = "default", timeout: float = 10.0,
                         **options: Any) -> Client:
    """``Client.connect`` with the lab runtime, a bounded wait and a one-line error."""
    try:
        return await asyncio.wait_for(
            Client.connect(target, namespace=namespace, runtime=lab_runtime(), **options),
            timeout=timeout,
        )
    except TimeoutError:
        raise LabConnectionError(f"No answer from a Temporal service at {target} within {timeout:g} s.") from None
    except Exception as err:
        raise LabConnectionError(f"Could not connect to Temporal at {target}: {one_line(err)}") from None


async def connect_configured(*, timeout: float = 10.0, **settings: Any) -> tuple[Client, str]:
    """A client for the cluster envconfig describes (profile, ``TEMPORAL_*``; ``settings`` win),
    and the namespace it names: what :func:`nexus_lab.connect` and workshop checks both use."""
    from nexus_lab.config import external_connect_config

    config = external_connect_config(**settings)
    target = config.pop("target_host")
    default_namespace = config.get("namespace", "default")
    return await connect_client(target, timeout=timeout, **config), default_namespace


async def connect_when_ready(target: str, *, within: float, **options: Any) -> Client:
    """Connect, retrying while a just-started server's frontend says it is not healthy yet."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return await connect_client(target, timeout=2.0, **options)
        except LabConnectionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.02)


def client_for_namespace(base: Client, namespace: str) -> Client:
    """A client bound to another namespace that reuses ``base``'s connection (no new socket)."""
    if base.namespace == namespace:
        return base
    config = base.config()
    config["namespace"] = namespace
    return Client(**config)


TRANSIENT_STATUSES = (RPCStatusCode.CANCELLED, RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)
"""Answers that say nothing about the request itself. A client's connections get replaced (seen: one
of three within two idle minutes); a request sent on one as it goes ends CANCELLED "operation was
canceled" on the client side (a CI run lost its classroom endpoint so), and a busy dev server gives up
on some reads (seen while it reclaimed hundreds of namespaces). See docs/nexus-facts.md."""


def is_transient(err: RPCError) -> bool:
    """Whether ``err`` is a transport hiccup worth asking again (``UNKNOWN "transport error"`` too)."""
    return err.status in TRANSIENT_STATUSES or (
        err.status == RPCStatusCode.UNKNOWN and err.message == "transport error")


async def ask_again_if_transient(call: Callable[[], Awaitable[_T]], attempts: int = 3) -> _T:
    """``call()``, asked again (twice, 0.2 s then 0.4 s later) after a transient failure.

    Only for reads and for writes whose repeat is harmless (the registry looks before it acts).
    A server that is gone still fails within ~0.6 s: connection refused is UNAVAILABLE too.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RPCError as err:
            if not is_transient(err) or attempt == attempts:
                raise
            await asyncio.sleep(0.2 * attempt)
    raise AssertionError("unreachable")
