"""Running a check in a child process (parent side): time limit, process group, and where the
learner's code was stuck when the child had to be killed."""

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
from typing import Any

from nexus_lab.checker.context import MARK, _display
from nexus_lab.checker.results import ERROR, CheckResult, TestOutcome

KILL_GRACE_S = 2.0     # the child stops itself at the timeout; the parent kills it this much later


def run_check_process(exercise: Any, path: Path, address: str, *, timeout: float | None = None,
                      cwd: Path | None = None) -> CheckResult:
    """Check ``path`` (the learner's file or a solution) for ``exercise`` in a child process."""
    timeout = timeout or exercise.timeout
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nexus-lab-check-") as tmp:
        out = Path(tmp) / "result.json"
        stderr_path = Path(tmp) / "stderr.txt"
        command = [sys.executable, "-m", "nexus_lab.checker.child", "--exercise", exercise.id, "--check", exercise.check,
                   "--file", str(path), "--address", address, "--timeout", str(timeout), "--out", str(out)]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
        with open(stderr_path, "w+") as stderr:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                                    cwd=cwd, env=env, start_new_session=True)
            try:
                proc.wait(timeout=timeout + KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                return _killed(exercise, proc, stderr_path, path, timeout, started)
        if out.exists():
            result = CheckResult.from_dict(json.loads(out.read_text()))
            result.seconds = time.monotonic() - started
            return result
        tail = stderr_path.read_text(errors="replace")[-2000:]
        return CheckResult(exercise.id, ERROR, f"The check stopped without a result (exit code {proc.returncode}).\n"
                           f"{_strip_marks(tail)}", file=_display(path), seconds=time.monotonic() - started)


def _killed(exercise: Any, proc: subprocess.Popen, stderr_path: Path, path: Path, timeout: float,
            started: float) -> CheckResult:
    """Kill a child that did not stop by itself, saying where the learner's code was stuck."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGUSR1)  # faulthandler: every thread's stack to stderr
    time.sleep(0.3)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    log = stderr_path.read_text(errors="replace")
    phase = _last_mark(log, "phase") or "start"
    test = _last_mark(log, "test")
    stuck = _stuck_line(log, path)
    if phase == "import":
        what = f"Importing {_display(path)} did not finish within {timeout:g} s: does code at module level loop forever?"
    else:
        what = f"The check did not finish within {timeout:g} s" + (f" (in test {test!r})" if test else "") + \
               ": the code blocked the event loop (an endless loop, or time.sleep in async code?)."
    message = what + (f"\n  stuck at {stuck}" if stuck else "")
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
