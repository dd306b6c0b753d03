"""Running the TypeScript side from Python: one-line messages when Node.js or the npm packages are
missing, and workers that go when the process that started them goes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from nexus_lab import polyglot
from nexus_lab.server import pid_alive


def _fake_node(tmp_path, version: str):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    node = bin_dir / "node"
    node.write_text(f"#!/bin/sh\necho {version}\n")
    node.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize("version, says", [
    (None, "`node` is not on PATH"),
    ("v16.20.2", "this machine has 16.20.2"),
])
def test_missing_or_old_node_is_one_line(tmp_path, monkeypatch, version, says):
    path = _fake_node(tmp_path, version) if version else tmp_path / "empty"
    monkeypatch.setenv("PATH", str(path))
    with pytest.raises(polyglot.PolyglotError) as err:
        polyglot.ensure_built()
    message = str(err.value)
    assert says in message and "Node.js 18 or newer" in message and "make polyglot" in message
    assert "\n" not in message


def test_packages_not_installed_is_one_line(tmp_path, ts_project):
    (tmp_path / "src").mkdir()
    with pytest.raises(polyglot.PolyglotError) as err:
        polyglot.ensure_built(tmp_path)
    assert "not installed: run `make polyglot`" in str(err.value) and "\n" not in str(err.value)


async def test_workers_go_when_their_python_process_goes(lab, ts_project, tmp_path):
    """Like the lab's server: PR_SET_PDEATHSIG (or the watchdog) ends Node.js with its parent."""
    script = textwrap.dedent(f"""
        import asyncio, os
        import nexus_lab
        from nexus_lab import polyglot

        async def main():
            lab = await nexus_lab.connect(address={lab.address!r})
            workers = await polyglot.start(lab, roles=("handler",), namespace="payments")
            print(workers.process.pid, flush=True)
            os._exit(0)  # no atexit, no cleanup: as when a kernel is killed

        asyncio.run(main())
    """)
    env = {**os.environ, "NEXUS_LAB_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    node_pid = int(done.stdout.split()[-1])
    deadline = time.monotonic() + 10
    while pid_alive(node_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_alive(node_pid), "the Node.js worker outlived the process that started it"
