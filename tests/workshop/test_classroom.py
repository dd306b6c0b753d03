"""A workshop on one machine: one shared server, learners in separate processes submitting at once
through the instructor's classroom.v1 Nexus service, and the class report showing exactly that."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nexusrpc
import pytest

from nexus_lab.workshop import classroom

from ..core.test_server import _listening_sockets

LEARNER = Path(__file__).with_name("learner.py")


@pytest.fixture(scope="module")
async def instructor(lab, tmp_path_factory):
    ledger = classroom.Ledger(tmp_path_factory.mktemp("instructor") / "ledger.json")
    await classroom.open_classroom(lab, ledger)
    return ledger


class learner_process:
    """A learner's process; ``await it.output()`` waits without blocking the instructor's loop
    (the classroom handler runs in this test process)."""

    def __init__(self, name: str, outcomes: list, address: str, home: Path):
        env = dict(os.environ, NEXUS_LAB_LEARNER=name, TEMPORAL_ADDRESS=address, NEXUS_LAB_HOME=str(home))
        self.proc = subprocess.Popen([sys.executable, str(LEARNER), json.dumps(outcomes)], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    async def output(self) -> str:
        out, _ = await asyncio.to_thread(self.proc.communicate, timeout=60)
        return out


async def test_learners_at_once_and_the_report_shows_what_they_did(lab, instructor, tmp_path):
    plans = {
        "alice": [["ch03-sync", "pass", ""], ["ch06-errors", "pass", ""]],
        "bob": [["ch03-sync", "fail", "expected getQuickScore to return 12, got 0"],
                ["ch06-errors", "fail", "expected HandlerError BAD_REQUEST, got INTERNAL"]],
        "carol": [["ch03-sync", "pass", ""],
                  ["ch06-errors", "fail", "expected HandlerError BAD_REQUEST, got INTERNAL"]],
    }
    procs = {name: learner_process(name, plan, lab.server.address, tmp_path / name) for name, plan in plans.items()}
    for name, proc in procs.items():
        out = await proc.output()
        assert f"Submitted 1 result set(s) to the classroom as {name}." in out, (name, out)
    report = classroom.class_report(instructor.records())
    rows = {r.learner: (r.passed, r.attempted) for r in report.learners}
    assert rows == {
        "alice": (["ch03-sync", "ch06-errors"], ["ch03-sync", "ch06-errors"]),
        "bob": ([], ["ch03-sync", "ch06-errors"]),
        "carol": (["ch03-sync"], ["ch03-sync", "ch06-errors"]),
    }
    by_exercise = {e.exercise: (e.passed, e.learners, e.common_failure) for e in report.exercises}
    assert by_exercise == {
        "ch03-sync": (2, 3, "expected getQuickScore to return 12, got 0"),
        "ch06-errors": (1, 3, "expected HandlerError BAD_REQUEST, got INTERNAL"),
    }
    text = report.text()
    assert "alice" in text and "1/3" in text and "BAD_REQUEST, got INTERNAL" in text
    assert "<td>ch06-errors</td><td>1/3 (33%)</td>" in report.html()


async def test_offline_submission_waits_and_is_never_counted_twice(lab, instructor, tmp_path):
    home = tmp_path / "dana"
    offline = learner_process("dana", [["ch03-sync", "fail", "not yet"]], "127.0.0.1:1", home)
    assert "Saved for later: 1 submission(s) wait in the outbox" in await offline.output()
    online = learner_process("dana", [["ch03-sync", "pass", ""]], lab.server.address, home)
    assert "Submitted 2 result set(s)" in await online.output()
    dana = [r for r in instructor.records() if r.learner == "dana"]
    assert len(dana) == 2
    # A resend of a delivered submission (say the receipt was lost) is recorded once.
    resend = [{"submission_id": dana[0].submission_id,
               "outcomes": [{"exercise": "ch03-sync", "status": "fail", "message": "not yet"}]}]
    (home / "classroom" / "outbox.json").write_text(json.dumps(resend))
    again = learner_process("dana", [], lab.server.address, home)
    assert "Submitted 1 result set(s)" in await again.output()
    assert len([r for r in instructor.records() if r.learner == "dana"]) == 2
    report = classroom.class_report(instructor.records())
    assert next(r for r in report.learners if r.learner == "dana").passed == ["ch03-sync"]


async def test_identity_and_time_come_from_the_server_not_the_payload(lab, instructor, tmp_path):
    """Bob's outbox claims to be alice, dated 2100, and takes alice's submission ID: the classroom
    records bob at the server's time, and alice's later real pass is what the report shows."""
    (tmp_path / "bob" / "classroom").mkdir(parents=True)
    forged = [{"submission_id": "same-id", "learner": "alice", "sent_at": 4102444800.0,
               "outcomes": [{"exercise": "ch11-spoof", "status": "fail", "message": "bob was here"}]}]
    (tmp_path / "bob" / "classroom" / "outbox.json").write_text(json.dumps(forged))
    bob = learner_process("bob", [], lab.server.address, tmp_path / "bob")
    assert "Submitted 1 result set(s) to the classroom as bob." in await bob.output()
    (tmp_path / "alice" / "classroom").mkdir(parents=True)
    mine = [{"submission_id": "same-id", "outcomes": [{"exercise": "ch11-spoof", "status": "pass"}]}]
    (tmp_path / "alice" / "classroom" / "outbox.json").write_text(json.dumps(mine))
    alice = learner_process("alice", [], lab.server.address, tmp_path / "alice")
    assert "Submitted 1 result set(s) to the classroom as alice." in await alice.output()
    spoof = {r.learner: r for r in instructor.records() if r.submission_id == "same-id"}
    assert set(spoof) == {"alice", "bob"}
    assert time.time() - 60 < spoof["bob"].received_at <= spoof["alice"].received_at <= time.time()
    row = next(e for e in classroom.class_report(instructor.records()).exercises if e.exercise == "ch11-spoof")
    assert (row.passed, row.learners) == (1, 2)
    assert "ch11-spoof" in next(r for r in classroom.class_report(instructor.records()).learners
                                if r.learner == "alice").passed


@dataclass
class _Request:
    """What the handler reads of a Nexus request: its links and ID (a stand-in for the SDK's context)."""

    inbound_links: list[nexusrpc.Link]
    request_id: str


async def test_a_replayed_or_foreign_link_is_refused(lab, instructor, unique):
    """The handler believes a link only if the server's own event carries this request's ID and the
    classroom endpoint, in a learner's namespace."""
    await lab.namespace(f"erin--default-{unique}")
    await lab.worker(namespace=f"erin--default-{unique}", task_queue="submit",
                     workflows=[classroom.SubmitResultsWorkflow])
    receipt = await lab.execute(classroom.SubmitResultsWorkflow.run, classroom.Submission(f"s-{unique}"),
                                namespace=f"erin--default-{unique}", task_queue="submit", id=f"submit-{unique}")
    assert receipt.learner == "erin" and not receipt.duplicate
    history = await lab.history(f"submit-{unique}", namespace=f"erin--default-{unique}")
    event = history.find("NexusOperationScheduled")[0]
    link = nexusrpc.Link(type="temporal.api.common.v1.Link.WorkflowEvent",
                         url=f"temporal:///namespaces/erin--default-{unique}/workflows/submit-{unique}/"
                             f"{history.run_id}/history?eventID={event.id}&eventType=NexusOperationScheduled"
                             "&referenceType=EventReference")
    with pytest.raises(nexusrpc.HandlerError, match="did not come from a learner's workflow"):
        await classroom.verified_caller(lab.client(), _Request([link], "another-request-id"))  # type: ignore[arg-type]
    with pytest.raises(nexusrpc.HandlerError, match="did not come from a learner's workflow"):
        await classroom.verified_caller(lab.client(), _Request([], "x"))  # type: ignore[arg-type]
    await lab.namespace(f"teacher-{unique}")  # not a learner's namespace: nobody to record it for
    await lab.worker(namespace=f"teacher-{unique}", task_queue="submit", workflows=[classroom.SubmitResultsWorkflow])
    with pytest.raises(Exception, match="belongs to no learner"):
        await lab.execute(classroom.SubmitResultsWorkflow.run, classroom.Submission(f"t-{unique}"),
                          namespace=f"teacher-{unique}", task_queue="submit", id=f"submit-t-{unique}")


async def test_report_command_prints_and_writes_html(instructor, tmp_path, capsys):
    from nexus_lab.workshop.classroom import workshop_main

    page = tmp_path / "report.html"
    assert workshop_main(["report", "--ledger", str(instructor.path), "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "Learner" in out and "alice" in out and f"HTML report: {page}" in out
    assert "<h1>Class report</h1>" in page.read_text()


async def test_workshop_serve_end_to_end(tmp_path):
    """The instructor's command: prints the learners' line, takes a submission, stops on Ctrl+C."""
    import signal

    from nexus_lab.server import find_free_port_pair

    from ..processes import wait_dead

    port = find_free_port_pair(28800)
    ledger = tmp_path / "ledger.json"
    code = ("import sys; from nexus_lab.workshop.classroom import workshop_main; "
            f"sys.exit(workshop_main(['serve', '--port', '{port}', '--ledger', r'{ledger}']))")
    serve = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, NEXUS_LAB_HOME=str(tmp_path / "instructor")))
    banner = [await asyncio.to_thread(serve.stdout.readline) for _ in range(2)]
    assert banner[0].startswith("Workshop server ready")
    assert f"export TEMPORAL_ADDRESS=127.0.0.1:{port} NEXUS_LAB_LEARNER=<your-name>" in banner[1]
    assert "this machine only" in banner[1]
    server_pid = json.loads((tmp_path / "instructor" / f"server-{port}.json").read_text())["pid"]
    sockets = _listening_sockets(server_pid)  # without --ip: loopback only, Web UI included
    assert port in {p for _, p in sockets} and {a for a, _ in sockets} == {"0100007F"}, sockets
    erin = learner_process("erin", [["ch01-routing", "pass", ""]], f"127.0.0.1:{port}", tmp_path / "erin")
    assert "Submitted 1 result set(s)" in await erin.output()
    assert "erin" in ledger.read_text()
    # The dev server has no authentication: a raw client can re-point the classroom endpoint.
    # `serve` notices within seconds and puts it back.
    from nexus_lab import registry
    from nexus_lab.connection import connect_client

    raw = await connect_client(f"127.0.0.1:{port}")
    await registry.ensure_namespace(raw, "mallory--default")
    await registry.ensure_endpoint(raw, "classroom", namespace="mallory--default", task_queue="stolen")
    for _ in range(40):
        await asyncio.sleep(0.25)
        restored = await registry.find_endpoint(raw, "classroom")
        if restored and restored.namespace == "classroom":
            break
    assert restored and (restored.namespace, restored.task_queue) == ("classroom", "classroom-tq"), restored
    serve.send_signal(signal.SIGINT)
    _, errors = await asyncio.to_thread(serve.communicate, timeout=15)
    assert "Warning: the classroom endpoint had been changed or deleted on the server; updated it again." in errors
    assert "no authentication" not in errors
    assert wait_dead(server_pid, 5.0)


@pytest.mark.parametrize("ip, warned", [("0.0.0.0", True), ("::", True), ("192.168.1.20", True),
                                         ("127.0.0.1", False), ("::1", False), ("localhost", False)])
def test_serving_beyond_loopback_is_explicit_and_warned(monkeypatch, capsys, tmp_path, ip, warned):
    from nexus_lab.workshop import cli

    bound = []

    async def fake_serve(port: int, ip: str, ledger: classroom.Ledger, *, existing: bool = False) -> None:
        bound.append(ip)

    monkeypatch.setattr(cli, "serve_classroom", fake_serve)
    assert cli.workshop_main(["serve", "--ip", ip, "--ledger", str(tmp_path / "l.json")]) == 0
    assert cli.workshop_main(["serve", "--ledger", str(tmp_path / "l.json")]) == 0
    assert bound == [ip, "127.0.0.1"]
    errors = capsys.readouterr().err
    assert ("no authentication" in errors) is warned, errors
    if warned:
        assert errors.count("Warning") == 1 and f"listening on {ip}" in errors


def nexus_lab_cli(*args: str, learner: str, address: str, home: Path) -> subprocess.Popen:
    env = dict(os.environ, NEXUS_LAB_LEARNER=learner, TEMPORAL_ADDRESS=address, NEXUS_LAB_HOME=str(home),
               NEXUS_LAB_PROGRESS=str(home / "progress.json"))
    return subprocess.Popen([sys.executable, "-m", "nexus_lab.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


async def test_check_submit_runs_on_the_shared_cluster_and_reaches_the_report(lab, instructor, tmp_path):
    """Two learners check the same exercise at once on the room's server: one solved, one not."""
    solved = nexus_lab_cli("check", "ch01-route-endpoint", "--solution", "--submit",
                           learner="frank", address=lab.server.address, home=tmp_path / "frank")
    unsolved = nexus_lab_cli("check", "ch01-route-endpoint", "--submit",
                             learner="grace", address=lab.server.address, home=tmp_path / "grace")
    out_solved, _ = await asyncio.to_thread(solved.communicate, timeout=90)
    out_unsolved, _ = await asyncio.to_thread(unsolved.communicate, timeout=90)
    assert solved.returncode == 0 and "Submitted 1 result set(s)" in out_solved, out_solved
    assert unsolved.returncode == 1 and "Submitted 1 result set(s)" in out_unsolved, out_unsolved
    report = classroom.class_report(instructor.records())
    rows = {r.learner: r.passed for r in report.learners}
    assert rows["frank"] == ["ch01-route-endpoint"] and rows["grace"] == []
    row = next(e for e in report.exercises if e.exercise == "ch01-route-endpoint")
    assert row.learners == 2 and row.passed == 1 and row.common_failure


async def test_live_report_redraws_as_submissions_arrive(tmp_path):
    import signal
    import time as clock

    ledger = classroom.Ledger(tmp_path / "ledger.json")
    ledger.add(classroom.Record("h-1", "heidi", clock.time(),
                                [classroom.ExerciseOutcome("ch03-quick-score", "fail", "x")]))
    code = ("import sys; from nexus_lab.workshop.classroom import workshop_main; "
            f"sys.exit(workshop_main(['report', '--ledger', r'{ledger.path}', '--watch', '0.2']))")
    watcher = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    first = await asyncio.to_thread(watcher.stdout.readline)
    while "No submissions" not in first and "heidi" not in first:  # the first frame is on screen
        first += await asyncio.to_thread(watcher.stdout.readline)
    ledger.add(classroom.Record("i-1", "ivan", clock.time(), [classroom.ExerciseOutcome("ch03-quick-score", "pass")]))
    await asyncio.sleep(1.0)
    watcher.send_signal(signal.SIGINT)
    out, _ = await asyncio.to_thread(watcher.communicate, timeout=10)
    frames = (first + out).split("Class report at")
    assert len(frames) >= 4 and watcher.returncode == 0
    assert "ivan" not in frames[1] and "ivan" in frames[-1] and "1/2" in frames[-1]


async def test_checks_in_a_workshop_use_the_rooms_credentials(lab, tmp_path):
    """The learner's API key reaches the check's own connection (here: TLS to a plaintext server
    fails, which proves the key and TLS were applied), and the key never shows in the output."""
    env_key = "room-key-123"
    env = dict(os.environ, NEXUS_LAB_LEARNER="judy", TEMPORAL_ADDRESS=lab.server.address, TEMPORAL_API_KEY=env_key,
               NEXUS_LAB_HOME=str(tmp_path / "judy"), NEXUS_LAB_PROGRESS=str(tmp_path / "judy" / "p.json"))
    run = subprocess.Popen([sys.executable, "-m", "nexus_lab.cli", "check", "ch01-route-endpoint", "--solution"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = await asyncio.to_thread(run.communicate, timeout=60)
    assert run.returncode != 0 and "Could not connect to Temporal" in out, out
    assert env_key not in out
