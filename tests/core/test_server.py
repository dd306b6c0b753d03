"""The embedded server as a process: loopback only, port fallback and reuse, survives interrupts,
dies with its kernel (however the kernel dies), keeps histories in a db file when asked."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nexus_lab
from nexus_lab.connection import connect_client
from nexus_lab.server import (
    PortState,
    find_free_port_pair,
    probe_port,
    start_embedded_server,
)

from ..processes import alive, wait_dead

STAND_IN = Path(__file__).with_name("kernel_stand_in.py")


def _listening_sockets(pid: int) -> set[tuple[str, int]]:
    """(local address, port) of every LISTEN socket the process or its children hold (from /proc, IPv4
    and IPv6): a server's keeper holds none, the ``temporal`` process under it all."""
    inodes = set()
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for process in [pid, *map(int, children)]:
        for fd in Path(f"/proc/{process}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and fields[9] in inodes:
                found.add((address, int(hex_port, 16)))
    return found


class StandIn:
    """A kernel stand-in process in its own session (as Jupyter runs kernels)."""

    def __init__(self, port: int, *flags: str):
        self.proc = subprocess.Popen(
            [sys.executable, str(STAND_IN), str(port), *flags], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True, env=dict(os.environ),
        )
        self.lines: list[str] = []
        self.server_pid = int(self.read_until("SERVER").split()[1])

    def read_until(self, marker: str, within: float = 20.0) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"stand-in ended early; output so far: {self.lines}")
            self.lines.append(line.rstrip())
            if line.startswith(marker):
                return line
        raise AssertionError(f"no {marker} line within {within} s: {self.lines}")

    def kill(self, sig: int) -> None:
        os.kill(self.proc.pid, sig)
        self.proc.wait(timeout=10)


@pytest.fixture
def free_port():
    return find_free_port_pair(26000 + (os.getpid() % 50) * 20)


def test_server_listens_on_loopback_only(lab):
    sockets = _listening_sockets(lab.server.server_pid)
    ports = {port for _, port in sockets}
    assert {lab.server.port, lab.server.ui_port} <= ports  # the frontend and the Web UI
    assert {address for address, _ in sockets} == {"0100007F"}, f"listening on {sockets}"  # 127.0.0.1 only


async def test_port_held_by_something_else_falls_back_and_says_so(free_port):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", free_port))
    blocker.listen()
    try:
        assert await probe_port(free_port) is PortState.BUSY
        server = await start_embedded_server(free_port)
        try:
            assert server.port != free_port and server.owned
            expected = f"Port {free_port} is in use by something that is not Temporal: using port {server.port}"
            assert expected in server.note
            assert await probe_port(server.port) is PortState.TEMPORAL
        finally:
            server.stop()
    finally:
        blocker.close()


async def test_live_temporal_on_the_port_is_reused(lab):
    again = await start_embedded_server(lab.server.port)
    assert not again.owned and again.pid == lab.server.pid
    assert "Reusing the Temporal server already running" in again.note
    again.stop()  # stopping a reused server leaves it running for its owner
    assert lab.server.is_running()


async def test_start_twice_in_one_kernel_returns_the_same_lab(lab):
    assert await nexus_lab.start(lab.server.port) is lab


def test_interrupt_spares_server_and_kernel_death_takes_it(free_port):
    kernel = StandIn(free_port)
    os.killpg(kernel.proc.pid, signal.SIGINT)  # what interrupting a cell sends to the kernel's group
    kernel.read_until("INTERRUPTED")
    time.sleep(0.3)
    assert alive(kernel.server_pid), "an interrupt must not stop the server"
    kernel.kill(signal.SIGKILL)
    assert wait_dead(kernel.server_pid, 5.0), "the server outlived a SIGKILLed kernel"
    assert not any("level=" in line or "temporal" in line.lower() for line in kernel.lines[:-1]), kernel.lines


async def test_a_dying_kernels_server_is_waited_out_not_reused(free_port):
    """A restarted kernel may probe the port while the old kernel's server is still shutting down
    (it answers for a few hundred ms after SIGTERM): reusing it would give a connection that is
    refused a moment later, so the new lab waits for it to go and starts its own."""
    kernel = StandIn(free_port)
    old_pid = kernel.server_pid
    kernel.kill(signal.SIGKILL)
    lab = await nexus_lab.start(free_port, quiet=False)
    try:
        assert lab.server.owned and lab.server.pid != old_pid
        assert not alive(old_pid)
        assert (await lab.namespace("payments")).change == "created"
        assert lab.server.is_running()
    finally:
        await lab.stop()


RACER = """
import asyncio, sys, nexus_lab
async def main():
    lab = await nexus_lab.start(int(sys.argv[1]))
    print("created" if (await lab.namespace("race")).change == "created" else "exists", lab.server.owned, flush=True)
    sys.stdin.read()  # stay up (and keep an owned server alive) until the test closes stdin
asyncio.run(main())
"""


def test_labs_started_at_the_same_moment_share_one_server(free_port):
    """Two notebooks opened together race for the free port: one starts the server, the others
    (whose own server lost the port) reuse it instead of failing."""
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(free_port)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
              for _ in range(4)]
    try:
        lines = [racer.stdout.readline().split() for racer in racers]
        assert all(len(line) == 2 for line in lines), [(line, r.stderr.read() if not line else "") for line, r in
                                                       zip(lines, racers, strict=False)]
        assert sorted(owned for _, owned in lines) == ["False", "False", "False", "True"], lines
        assert sorted(change for change, _ in lines).count("created") <= 1, lines
    finally:
        for racer in racers:
            racer.stdin.close()
            racer.wait(timeout=20)


def test_server_started_from_a_thread_uses_the_watchdog_and_dies_too(free_port):
    kernel = StandIn(free_port, "--thread")
    kernel.kill(signal.SIGTERM)
    assert wait_dead(kernel.server_pid, 8.0), "the watchdog did not stop the server"


def test_sdk_logs_stay_out_of_the_output(free_port):
    kernel = StandIn(free_port, "--fail-a-task")
    try:
        assert "TASK FAILURE REPORTED" in kernel.lines
        assert not any("Traceback" in line or "Failed activation" in line for line in kernel.lines), kernel.lines
        log = Path(os.environ["NEXUS_LAB_HOME"]) / "logs" / "sdk.log"
        assert "Failed activation" in log.read_text()
    finally:
        kernel.kill(signal.SIGKILL)
        wait_dead(kernel.server_pid, 5.0)


async def test_persistence_keeps_registry_and_histories(tmp_path, free_port):
    from .story import FraudCheckWorkflow, Transaction

    db = tmp_path / "lab.db"
    first = await start_embedded_server(free_port, db_path=db, reuse=False)
    lab = nexus_lab.Lab(await connect_client(first.address), server=first)
    await lab.namespace("kept")
    await lab.endpoint("kept-endpoint", namespace="kept", task_queue="tq")
    await lab.worker(namespace="kept", task_queue="tq", workflows=[FraudCheckWorkflow])
    await lab.execute(FraudCheckWorkflow.run, Transaction("p", 1), namespace="kept", task_queue="tq", id="kept-run")
    await lab.workers.stop_all()
    first.stop()
    second = await start_embedded_server(free_port, db_path=db, reuse=False)
    try:
        lab2 = nexus_lab.Lab(await connect_client(second.address), server=second)
        assert "kept-endpoint" in [e.name for e in await lab2.endpoints()]
        history = await lab2.history("kept-run", namespace="kept")
        assert history.status == "COMPLETED"
    finally:
        second.stop()


async def test_locked_database_is_retried_until_free(tmp_path, free_port, monkeypatch):
    """A restarted kernel's new server may meet the old one still closing the db file: the first
    attempts die with SQLite's "database is locked", and the lab tries again instead of failing."""
    from nexus_lab import server as server_module

    real_command, calls = server_module._server_command, []

    def locked_twice(*args, **kwargs):
        calls.append(1)
        if len(calls) <= 2:
            return ["sh", "-c", "echo 'Error: database is locked (5) (SQLITE_BUSY)' >&2; exit 1"]
        return real_command(*args, **kwargs)

    monkeypatch.setattr(server_module, "_server_command", locked_twice)
    server = await start_embedded_server(free_port, db_path=tmp_path / "lab.db", reuse=False)
    try:
        assert len(calls) == 3 and server.is_running()
    finally:
        server.stop()
