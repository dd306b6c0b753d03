"""Rooms past one machine: the classroom on an existing cluster (envconfig), learners' namespaces
provisioned ahead by the instructor."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from nexus_lab.registry import list_namespaces
from nexus_lab.workshop.scope import normalise_learner

from .test_classroom import learner_process


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nexus_lab.cli", "workshop", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def test_provision_creates_each_learners_namespaces_and_refuses_clashes(lab, tmp_path):
    env = dict(os.environ, TEMPORAL_ADDRESS=lab.server.address, NEXUS_LAB_HOME=str(tmp_path))
    env.pop("NEXUS_LAB_LEARNER", None)
    run = _cli("provision", "Zoë", "Zoé", "zo", "ZOË", "9lives", "--namespaces", "default,payments", env=env)
    out, err = await asyncio.to_thread(run.communicate, timeout=180)
    assert run.returncode == 1, (out, err)
    names = set(await list_namespaces(lab.client()))
    for learner in ("Zoë", "Zoé", "zo"):
        slug = normalise_learner(learner)
        assert {f"{slug}--default", f"{slug}--payments"} <= names
        assert f"{learner} → NEXUS_LAB_LEARNER scope {slug!r}" in out
    assert "'ZOË' and 'Zoë' would share the scope 'xn-zo-ija'" in err
    assert "Learner name '9lives' must start with a letter." in err


async def test_serve_on_an_existing_cluster_takes_submissions(tmp_path):
    """`workshop serve --existing`: no dev server of its own; the classroom opens on the cluster the
    Temporal settings name (here a server of this test's own, as a stand-in for the room's cluster)."""
    from nexus_lab.server import find_free_port_pair, start_embedded_server

    cluster = await start_embedded_server(find_free_port_pair(29300), reuse=False)
    try:
        env = dict(os.environ, TEMPORAL_ADDRESS=cluster.address, NEXUS_LAB_HOME=str(tmp_path / "instructor"))
        env.pop("NEXUS_LAB_LEARNER", None)
        serve = _cli("serve", "--existing", "--ledger", str(tmp_path / "ledger.json"), env=env)
        banner = [await asyncio.to_thread(serve.stdout.readline) for _ in range(2)]
        assert banner[0].startswith("Workshop server ready") and f"cluster at {cluster.address}" in banner[1]
        kim = learner_process("Kim", [["ch03-sync", "pass", ""]], cluster.address, tmp_path / "kim")
        assert "Submitted 1 result set(s) to the classroom as kim." in await kim.output()
        serve.send_signal(signal.SIGINT)
        _, errors = await asyncio.to_thread(serve.communicate, timeout=15)
        assert "no authentication" not in errors and cluster.is_running()  # the cluster is not serve's to stop
        assert '"learner": "kim"' in (tmp_path / "ledger.json").read_text()
    finally:
        cluster.stop()
