"""A check never outlives its cell: the child and everything the learner's file starts die as one
process group, on success, on a timeout, on an interrupt and when the kernel itself goes; and no
learner message, however long, floods the output or the results file."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from nexus_lab.checker.results import CheckResult
from nexus_lab.checker.runner import run_check_process

from ..processes import alive, wait_dead
from .check_fixtures import LOOP_AT_IMPORT, SPAWN_AT_IMPORT, exercise, learner_file, read_pids
from .kernels import Kernel

ROOT = Path(__file__).resolve().parents[2]


def wait_for_pids(pids: Path, count: int, within: float = 60.0) -> list[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = read_pids(pids)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"the learner file noted {read_pids(pids)} within {within} s, expected {count} pids")


def test_processes_started_at_import_die_with_a_passing_check(lab, tmp_path):
    pids = tmp_path / "pids"
    path = learner_file(tmp_path, SPAWN_AT_IMPORT, pids)
    result = run_check_process(exercise(), path, lab.server.address)
    assert result.passed, result.text()
    started = read_pids(pids)
    assert len(started) == 3
    assert all(wait_dead(pid, 5.0) for pid in started), [pid for pid in started if alive(pid)]


def test_a_check_stuck_at_import_is_killed_with_its_group_at_the_timeout(tmp_path, monkeypatch):
    monkeypatch.setenv("NEXUS_LAB_PATIENCE", "1")  # the limit as written, however busy the machine
    pids = tmp_path / "pids"
    path = learner_file(tmp_path, LOOP_AT_IMPORT, pids)
    result = run_check_process(exercise(timeout=3), path, "embedded")
    assert result.status == "error" and "did not finish within 3 s" in result.message
    assert all(wait_dead(pid, 5.0) for pid in read_pids(pids))


@pytest.fixture
def kernel():
    kernel = Kernel({"PYTHONPATH": str(ROOT)})
    yield kernel
    kernel.close()


@pytest.mark.parametrize("how", ["interrupt", "restart", "sigkill"])
def test_a_waiting_check_dies_with_the_kernel_cell(kernel, tmp_path, how):
    """Stop (interrupt), Restart or a killed kernel while ``check()`` waits on a file looping at import."""
    pids = tmp_path / "pids"
    path = learner_file(tmp_path, LOOP_AT_IMPORT, pids)
    msg = kernel.start_cell(
        "from pathlib import Path\nfrom nexus_lab.checker.runner import run_check_process\n"
        "from tests.reliability.check_fixtures import exercise\n"
        f"run_check_process(exercise(timeout=120), Path({str(path)!r}), 'embedded')"
    )
    started = wait_for_pids(pids, 3)
    if how == "interrupt":
        kernel.interrupt()
        outputs = kernel.wait_idle(msg, timeout=30)
        assert any("KeyboardInterrupt" in o for o in outputs), outputs
    else:
        getattr(kernel, "restart" if how == "restart" else "sigkill")()
    assert all(wait_dead(pid, 10.0) for pid in started), [pid for pid in started if alive(pid)]


def test_huge_learner_messages_are_capped(tmp_path):
    path = tmp_path / "huge.py"
    path.write_text("raise ValueError('x' * 2_000_000)\n")
    result = run_check_process(exercise(timeout=20), path, "embedded")
    assert result.status == "error"
    assert len(result.message) < 2200 and "more characters)" in result.message
    document = json.dumps(result.to_dict())
    assert len(document) < 5000
    again = CheckResult.from_dict(json.loads(document))
    assert again.message == result.message and len(again.text()) < 2500



def test_checks_are_forked_from_one_warm_zygote_which_restarts_when_gone(lab, tmp_path):
    """Each check is a child of the zygote (no interpreter start-up), a fresh process every time; a
    zygote that died is replaced by the next check."""
    from nexus_lab.checker.zygote import ZYGOTE, usable

    if not usable():
        pytest.skip("forking check children needs Linux pidfd")
    parents = tmp_path / "parents"
    body = f"with open({str(parents)!r}, 'a') as f:\n    f.write(f'{{os.getppid()}} {{os.getpid()}}\\n')\n"
    path = learner_file(tmp_path, body, tmp_path / "pids")
    assert run_check_process(exercise(), path, lab.server.address).passed
    assert run_check_process(exercise(), path, lab.server.address).passed
    rows = [line.split() for line in parents.read_text().splitlines()]
    zygote = ZYGOTE._proc
    assert zygote is not None and {int(p) for p, _ in rows} == {zygote.pid}
    assert len({c for _, c in rows}) == 2  # two checks, two processes
    zygote.kill()
    zygote.wait(5)
    assert run_check_process(exercise(), path, lab.server.address).passed
    assert ZYGOTE._proc is not None and ZYGOTE._proc.pid != zygote.pid


ZYGOTE_OWNER = """
import sys, threading
from pathlib import Path
from nexus_lab.checker.runner import run_check_process
from nexus_lab.checker.zygote import ZYGOTE
from tests.reliability.check_fixtures import exercise
threading.Thread(target=run_check_process, args=(exercise(timeout=120), Path(sys.argv[1]), "embedded"),
                 daemon=True).start()
while ZYGOTE._proc is None:
    threading.Event().wait(0.05)
print(ZYGOTE._proc.pid, flush=True)
threading.Event().wait()
"""


def test_the_zygote_and_its_checks_die_with_their_owner(tmp_path):
    """A killed kernel (here a plain process) leaves neither the zygote nor a check behind."""
    import subprocess
    import sys

    from nexus_lab.checker.zygote import usable

    if not usable():
        pytest.skip("forking check children needs Linux pidfd")
    pids = tmp_path / "pids"
    path = learner_file(tmp_path, LOOP_AT_IMPORT, pids)
    owner = subprocess.Popen([sys.executable, "-c", ZYGOTE_OWNER, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True)
    try:
        zygote = int(owner.stdout.readline())  # type: ignore[union-attr]
        started = wait_for_pids(pids, 3)
    finally:
        owner.kill()
        owner.wait(5)
    assert wait_dead(zygote, 10.0), "the zygote outlived its owner"
    assert all(wait_dead(pid, 10.0) for pid in started), [pid for pid in started if alive(pid)]
