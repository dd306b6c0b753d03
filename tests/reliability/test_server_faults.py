"""The server under faults: killed under a waiting cell, a port left in TIME_WAIT, a port taken
between probe and bind, another user's Temporal server on the port, a full disk."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from nexus_lab import server as server_module
from nexus_lab.config import UI_PORT_OFFSET, temporal_binary
from nexus_lab.registry import RegistryError
from nexus_lab.server import find_free_port_pair, start_embedded_server

from .kernels import Kernel


@pytest.fixture
def port():
    return find_free_port_pair(30000 + int(time.time() * 10) % 1500)


def time_wait_ports() -> set[int]:
    """Local ports with a TIME_WAIT socket (state 06 in /proc/net/tcp)."""
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "06":
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def leave_time_wait(port: int) -> None:
    """Accept one connection on ``port`` and close it from the listening side first (as a server
    that is killed does): the port is left with a TIME_WAIT socket and no listener. The listener
    allows address reuse, as Temporal's (Go) listeners do."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()
    time.sleep(0.1)
    client.close()
    listener.close()


async def test_a_time_wait_does_not_move_the_lab(port):
    leave_time_wait(port)
    assert port in time_wait_ports()
    server = await start_embedded_server(port, reuse=False)
    try:
        assert server.port == port and server.owned, server.note
        assert server.note == ""
    finally:
        server.stop()


async def test_a_port_taken_between_probe_and_bind_moves_on_quickly_and_says_why(port, monkeypatch):
    """Something that is not Temporal binds the port after the probe said it was free: the lab's
    own server exits at once, and the lab moves on (before: "No answer ... within 2 s" after 20 s)."""
    blocker = socket.socket()
    real_claim = server_module._claim_port

    def claim_then_lose_the_race(claimed: int) -> bool:
        if claimed == port and blocker.fileno() != -1 and not blocker.getsockname()[1]:
            blocker.bind(("127.0.0.1", port))
            blocker.listen()
        return real_claim(claimed)

    monkeypatch.setattr(server_module, "_claim_port", claim_then_lose_the_race)
    started = time.monotonic()
    try:
        server = await start_embedded_server(port, reuse=False)
        try:
            assert time.monotonic() - started < 15
            assert server.port != port and server.owned
            assert f"Port {port} is in use by something that is not Temporal: using port {server.port}" in server.note
        finally:
            server.stop()
    finally:
        blocker.close()


def foreign_server(port: int, user: int | None) -> subprocess.Popen:
    """A Temporal dev server the lab did not start (as another user when ``user`` is given)."""
    command = [temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
               "--ui-port", str(port + UI_PORT_OFFSET), "--log-level", "error"]
    extra = {"user": user, "group": user, "extra_groups": []} if user is not None else {}
    env = dict(os.environ, HOME="/tmp") if user is not None else None  # its config lookup must not hit ours
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp",
                            start_new_session=True, env=env, **extra)


async def wait_serving(port: int, proc: subprocess.Popen) -> None:
    from nexus_lab.connection import connect_when_ready

    await connect_when_ready(f"127.0.0.1:{port}", within=30)
    assert proc.poll() is None


@pytest.mark.skipif(os.getuid() != 0, reason="starting a server as another user needs root (as in CI)")
async def test_another_users_temporal_server_is_not_reused(port):
    neighbour = foreign_server(port, user=65534)
    try:
        await wait_serving(port, neighbour)
        server = await start_embedded_server(port)
        try:
            assert server.owned and server.port != port
            assert f"Port {port} is held by another user's Temporal server (uid 65534)" in server.note
        finally:
            server.stop()
    finally:
        os.killpg(neighbour.pid, signal.SIGKILL)
        neighbour.wait(10)


async def test_a_temporal_server_without_this_users_record_is_not_reused(port):
    stranger = foreign_server(port, user=None)
    try:
        await wait_serving(port, stranger)
        server = await start_embedded_server(port)
        try:
            assert server.owned and server.port != port
            assert "this user's labs did not start" in server.note
        finally:
            server.stop()
    finally:
        os.killpg(stranger.pid, signal.SIGKILL)
        stranger.wait(10)


START = "import nexus_lab\nlab = await nexus_lab.start()\nprint('SERVER', lab.server.pid, lab.server.port)"


def test_server_killed_under_a_waiting_cell_is_one_line_and_workers_stop(port):
    kernel = Kernel({"NEXUS_LAB_PORT": str(port)})
    try:
        pid = int(kernel.run(START).split("SERVER")[1].split()[0])
        kernel.run("from nexus_lab import demo\nawait demo.set_up(lab)\nprint(len(list(lab.workers)))")
        msg = kernel.start_cell("await lab.execute('NoWorkerForThis', task_queue='nobody-polls', timeout=None)")
        time.sleep(1.5)
        os.kill(pid, signal.SIGKILL)
        outputs = kernel.wait_idle(msg, timeout=60)
        errors = [o for o in outputs if ":" in o]
        assert len(errors) == 1 and errors[0].startswith("LabStoppedError"), outputs
        assert "has stopped" in errors[0] and "nexus_lab.start()" in errors[0]
        assert not any("RPCError" in o for o in outputs), outputs
        # the dead lab's workers stop instead of polling a server that is gone
        deadline = time.monotonic() + 30
        while "workers 0" not in kernel.run("print('workers', len(list(lab.workers)))"):
            assert time.monotonic() < deadline, "the workers of a dead lab kept running"
            time.sleep(0.5)
        # the next start takes the same port: the killed server's TIME_WAITs are not a listener
        out = kernel.run(START + "\nprint('NOTE', repr(lab.server.note))")
        new_pid, new_port = (int(x) for x in out.split("SERVER")[1].split()[:2])
        assert new_port == port and new_pid != pid, out
        assert "NOTE ''" in out
    finally:
        kernel.close()


@pytest.fixture
def small_disk(tmp_path):
    """A 40 MB tmpfs, unmounted afterwards (CI and this machine run as root)."""
    if os.getuid() != 0:
        pytest.skip("mounting a tmpfs needs root (as in CI)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M"], stderr=subprocess.DEVNULL, check=False)
    return filler


async def test_full_disk_never_reports_a_namespace_that_was_not_stored(small_disk, port):
    """On a full disk the server answers ALREADY_EXISTS for namespaces it cannot store: the lab
    reports a namespace only when the server can show it, and otherwise fails in one line."""
    import nexus_lab
    from nexus_lab.connection import connect_client
    from nexus_lab.registry import list_namespaces

    server = await start_embedded_server(port, db_path=small_disk / "lab.db", reuse=False)
    try:
        lab = nexus_lab.Lab(await connect_client(server.address), server=server)
        assert (await lab.namespace("before")).change == "created"
        filler = fill(small_disk)
        reported, refused = [], []
        for n in range(20):  # SQLite may still fill pages it has; sooner or later a write fails
            try:
                reported.append((await asyncio.wait_for(lab.namespace(f"full-{n}"), timeout=30)).name)
            except RegistryError as err:
                refused.append(str(err))
                break
        assert refused, "the disk never filled up"
        assert "\n" not in refused[0] and "disk full" in refused[0]
        assert set(reported) <= set(await list_namespaces(lab.client())), (reported, refused)
        filler.unlink()
    finally:
        server.stop()


def test_a_passing_check_on_a_full_disk_stays_a_pass(small_disk, tmp_path):
    """Lab home and progress on a full disk: the check passes (exit 0), the unsaved progress is one
    line, no temporary file is left. (Before: an OSError traceback and exit 1; the server also
    panicked when its banner could not be written.)"""
    import shutil
    import sys

    root = Path(__file__).resolve().parents[2]
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(root / "course.toml", course)
    for folder in ("exercises", "solutions"):
        shutil.copytree(root / folder, course / folder)
    shutil.copy(root / "solutions" / "ch01_route_endpoint.py", course / "exercises" / "ch01_route_endpoint.py")
    home = small_disk / "home"
    home.mkdir(mode=0o700)
    fill(small_disk)
    env = dict(os.environ, NEXUS_LAB_COURSE=str(course), NEXUS_LAB_HOME=str(home),
               NEXUS_LAB_PROGRESS=str(small_disk / "progress.json"),
               NEXUS_LAB_PORT=str(find_free_port_pair(30000 + int(time.time()) % 1500)))
    done = subprocess.run([sys.executable, "-m", "nexus_lab.cli", "check", "ch01-route-endpoint"], env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed" in done.stdout
    assert done.stderr.count("\n") == 1 and "disk is full" in done.stderr and "Traceback" not in done.stderr
    assert not [p for p in small_disk.rglob("*.tmp")]


async def test_a_run_on_a_full_disk_is_one_line_not_a_shard_error(small_disk, port):
    """A run the server cannot store fails with a bare RPCError ("shard status unknown"); the lab says
    in one line that the disk is full and what to do."""
    import nexus_lab
    from nexus_lab.config import LabStorageError
    from nexus_lab.connection import connect_client
    from nexus_lab.story.fraud_team import FraudCheckWorkflow
    from nexus_lab.story.fraud_v1 import Transaction

    server = await start_embedded_server(port, db_path=small_disk / "lab.db", reuse=False)
    try:
        lab = nexus_lab.Lab(await connect_client(server.address), server=server)
        await lab.namespace("runs")
        fill(small_disk)
        errors = []
        for n in range(30):  # SQLite may still fill pages it has; sooner or later a write fails
            try:
                await asyncio.wait_for(lab.start_workflow(FraudCheckWorkflow.run, Transaction(f"t{n}", 1),
                                                          namespace="runs", task_queue="none", id=f"full-{n}"), 30)
            except LabStorageError as err:
                errors.append(str(err))
                break
        assert errors, "the disk never filled up"
        assert "\n" not in errors[0] and "disk is probably full" in errors[0]
    finally:
        server.stop()
