"""Running a check in a child process (parent side): time limit, process group, and where the
learner's code was stuck when the child had to be killed.

The child leads a process group of its own, and everything the learner's file starts (a
``multiprocessing`` pool, a ``subprocess`` at import) joins it. The whole group is killed on every
way out of :func:`run_check_process` (a result, a timeout, an interrupted or stopped kernel, an
error), and the child asks the OS to kill it when the parent itself dies (a restarted or killed
kernel, see :mod:`nexus_lab.checker.child`), so no check outlives the cell that ran it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from nexus_lab._watchdog import die_with_parent
from nexus_lab.checker import zygote
from nexus_lab.checker.context import MARK, _display, patience
from nexus_lab.checker.results import ERROR, MAX_RESULT_BYTES, CheckResult, TestOutcome, capped

KILL_GRACE_S = 2.0     # the child stops itself at the timeout; the parent kills it this much later


def run_check_process(exercise: Any, path: Path, address: str, *, timeout: float | None = None,
                      cwd: Path | None = None) -> CheckResult:
    """Check ``path`` (the learner's file or a solution) for ``exercise`` in a child process."""
    timeout = round((timeout or exercise.timeout) * patience(), 1)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nexus-lab-check-") as tmp:
        out = Path(tmp) / "result.json"
        stderr_path = Path(tmp) / "stderr.txt"
        argv = ["--exercise", exercise.id, "--check", exercise.check, "--file", str(path), "--address", address,
                "--timeout", str(timeout), "--out", str(out)]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
        with open(stderr_path, "w+") as stderr:
            proc = _start_child(argv, stderr, stderr_path, cwd, env)
            try:
                proc.wait(timeout=timeout + KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                return _killed(exercise, proc, stderr_path, path, timeout, started)
            finally:  # also on success: what the learner's code started dies with the check
                kill_group(proc)
        result = _read_result(out)
        if result is not None:
            result.seconds = time.monotonic() - started
            return result
        tail = stderr_path.read_text(errors="replace")[-2000:]
        code = "" if proc.returncode is None else f" (exit code {proc.returncode})"
        return CheckResult(exercise.id, ERROR, f"The check stopped without a result{code}.\n"
                           f"{_strip_marks(tail)}", file=_display(path), seconds=time.monotonic() - started)


def _start_child(argv: list[str], stderr: IO[str], stderr_path: Path, cwd: Path | None,
                 env: dict[str, str]) -> subprocess.Popen | zygote.ForkedChild:
    """Forked from the warm zygote where it can serve (no interpreter start-up, ~0.4 s less per
    check), else a fresh ``python -m nexus_lab.checker.child``."""
    if zygote.usable():
        child = zygote.ZYGOTE.fork(argv, stderr_path=str(stderr_path), cwd=str(cwd) if cwd else None, env=env)
        if child is not None:
            return child
    return _spawn_child([sys.executable, "-m", "nexus_lab.checker.child", *argv], stderr, cwd, env)


def _spawn_child(command: list[str], stderr: IO[str], cwd: Path | None, env: dict[str, str]) -> subprocess.Popen:
    """The check child, leading its own process group; it dies with this process (PR_SET_PDEATHSIG,
    Linux main thread) and otherwise notices a new parent and ends its group (see the child)."""
    preexec = None
    # Any thread will do here: the spawning thread always outlives the child (it reaps it before
    # returning), so the signal only comes when this whole process dies.
    if sys.platform.startswith("linux"):
        def preexec() -> None:
            die_with_parent(signal.SIGTERM)  # the child's handler then kills its whole group
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                            cwd=cwd, env=env, start_new_session=True, preexec_fn=preexec)


def kill_group(proc: subprocess.Popen | zygote.ForkedChild) -> None:
    """SIGKILL the child's process group (the child and everything it started) and reap the child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _read_result(out: Path) -> CheckResult | None:
    """The child's result file, refused when it is larger than a capped result can be."""
    try:
        if out.stat().st_size > MAX_RESULT_BYTES:
            return None
        return CheckResult.from_dict(json.loads(out.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _killed(exercise: Any, proc: subprocess.Popen | zygote.ForkedChild, stderr_path: Path, path: Path, timeout: float,
            started: float) -> CheckResult:
    """Kill a child that did not stop by itself, saying where the learner's code was stuck."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGUSR1)  # faulthandler: every thread's stack to stderr
    time.sleep(0.3)
    kill_group(proc)
    log = stderr_path.read_text(errors="replace")
    phase = _last_mark(log, "phase") or "start"
    test = _last_mark(log, "test")
    stuck = _stuck_line(log, path)
    if phase == "import":
        what = (f"Importing {_display(path)} did not finish within {timeout:g} s:"
                " does code at module level loop forever?")
    else:
        what = f"The check did not finish within {timeout:g} s" + (f" (in test {test!r})" if test else "") + \
               ": the code blocked the event loop (an endless loop, or time.sleep in async code?)."
    message = capped(what + (f"\n  stuck at {stuck}" if stuck else ""))
    tests = [TestOutcome(test or "import", ERROR, message)]
    return CheckResult(exercise.id, ERROR, message, tests, file=_display(path), seconds=time.monotonic() - started)


def _last_mark(log: str, kind: str) -> str:
    found = re.findall(rf"^{re.escape(MARK)}{kind} (.*)$", log, flags=re.M)
    return found[-1] if found else ""


def _strip_marks(log: str) -> str:
    return "\n".join(line for line in log.splitlines() if not line.startswith(MARK))


def _stuck_line(log: str, path: Path) -> str:
    """The learner's line in a faulthandler dump (``File "...", line N in f``)."""
    target = str(path.resolve())
    for match in re.finditer(r'File "(?P<file>[^"]+)", line (?P<line>\d+)', log):
        if match["file"] == target:
            line_no = int(match["line"])
            lines = path.read_text(errors="replace").splitlines()
            code = lines[line_no - 1].strip() if 0 < line_no <= len(lines) else ""
            return f"{_display(path)}:{line_no}: {code}"
    return ""
