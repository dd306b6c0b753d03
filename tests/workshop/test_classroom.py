"""A workshop on one machine: one shared server, learners in separate processes submitting at once
through the instructor's classroom.v1 Nexus service, and the class report showing exactly that."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nexus_lab.workshop import classroom

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
        "carol": [["ch03-sync", "pass", ""], ["ch06-errors", "fail", "expected HandlerError BAD_REQUEST, got INTERNAL"]],
    }
    procs = {name: learner_process(name, plan, lab.server.address, tmp_path / name) for name, plan in plans.items()}
    for name, proc in procs.items():
        out = await proc.output()
        assert "Submitted 1 result set(s) to the classroom." in out, (name, out)
    report = classroom.class_report(instructor.submissions())
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
    dana = [s for s in instructor.submissions() if s.learner == "dana"]
    assert len(dana) == 2
    # A resend of a delivered submission (say the receipt was lost) is recorded once.
    (home / "classroom").mkdir(parents=True, exist_ok=True)
    resend = [{"submission_id": dana[0].submission_id, "learner": "dana", "sent_at": dana[0].sent_at,
               "outcomes": [{"exercise": "ch03-sync", "status": "fail", "message": "not yet"}]}]
    (home / "classroom" / "outbox.json").write_text(json.dumps(resend))
    again = learner_process("dana", [], lab.server.address, home)
    assert "Submitted" in await again.output()
    assert len([s for s in instructor.submissions() if s.learner == "dana"]) == 3  # 2 + the empty one
    ids = [s.submission_id for s in instructor.submissions()]
    assert len(ids) == len(set(ids))
    report = classroom.class_report(instructor.submissions())
    assert next(r for r in report.learners if r.learner == "dana").passed == ["ch03-sync"]


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
            f"sys.exit(workshop_main(['serve', '--port', '{port}', '--ip', '127.0.0.1', '--ledger', r'{ledger}']))")
    serve = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ, NEXUS_LAB_HOME=str(tmp_path / "instructor")))
    banner = [await asyncio.to_thread(serve.stdout.readline) for _ in range(2)]
    assert banner[0].startswith("Workshop server ready")
    assert f"export TEMPORAL_ADDRESS=127.0.0.1:{port} NEXUS_LAB_LEARNER=<your-name>" in banner[1]
    erin = learner_process("erin", [["ch01-routing", "pass", ""]], f"127.0.0.1:{port}", tmp_path / "erin")
    assert "Submitted 1 result set(s)" in await erin.output()
    assert "erin" in ledger.read_text()
    server_pid = json.loads((tmp_path / "instructor" / f"server-{port}.json").read_text())["pid"]
    serve.send_signal(signal.SIGINT)
    await asyncio.to_thread(serve.wait, 15)
    assert wait_dead(server_pid, 5.0)


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
    report = classroom.class_report(instructor.submissions())
    rows = {r.learner: r.passed for r in report.learners}
    assert rows["frank"] == ["ch01-route-endpoint"] and rows["grace"] == []
    row = next(e for e in report.exercises if e.exercise == "ch01-route-endpoint")
    assert row.learners == 2 and row.passed == 1 and row.common_failure


async def test_live_report_redraws_as_submissions_arrive(tmp_path):
    import signal
    import time as clock

    ledger = classroom.Ledger(tmp_path / "ledger.json")
    ledger.add(classroom.Submission("h-1", "heidi", clock.time(), [classroom.ExerciseOutcome("ch03-quick-score", "fail", "x")]))
    code = ("import sys; from nexus_lab.workshop.classroom import workshop_main; "
            f"sys.exit(workshop_main(['report', '--ledger', r'{ledger.path}', '--watch', '0.2']))")
    watcher = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    await asyncio.sleep(1.5)
    ledger.add(classroom.Submission("i-1", "ivan", clock.time(), [classroom.ExerciseOutcome("ch03-quick-score", "pass")]))
    await asyncio.sleep(1.0)
    watcher.send_signal(signal.SIGINT)
    out, _ = await asyncio.to_thread(watcher.communicate, timeout=10)
    frames = out.split("Class report at")
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
