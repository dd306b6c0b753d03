"""A warm start for check children: one process per kernel (or CLI run) that has imported the SDK and
the lab once, and forks a child for each check.

Why: a fresh interpreter spends ~0.4 s importing temporalio and the lab before a check can begin; a
fork begins after that. Each check is still a process of its own (a fresh import of the learner's
file, its own process group, killed as a whole, dying with its parent), exactly as a spawned child.

The zygote never imports learner code and never starts a thread or an event loop, so forking it is
safe. It reads one JSON request per line on stdin and answers with the child's pid; it ends when
stdin closes (its parent is gone), and its children then end their groups (see the child)."""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import traceback
from typing import IO, Any

PRELOAD = ("nexus_lab.checker.child", "nexus_lab.lab", "nexus_lab.checker.checks.common",
           "temporalio.client", "temporalio.worker", "temporalio.nexus")
STARTUP_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH", "PYTHONNOUSERSITE")  # fixed once Python runs


def usable() -> bool:
    """Forking needs Linux's pidfd (to wait for a child that is not ours); ``NEXUS_LAB_CHECK_FORK=0``
    turns it off (each check then spawns a fresh interpreter)."""
    return (sys.platform.startswith("linux") and hasattr(os, "pidfd_open")
            and os.environ.get("NEXUS_LAB_CHECK_FORK", "1") != "0")


class ForkedChild:
    """The part of ``subprocess.Popen`` the runner uses, for a child the zygote forked."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None  # its exit status goes to the zygote, never to us
        try:
            self._fd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:  # already ended (and reaped by the zygote)
            self._fd = None

    def wait(self, timeout: float | None = None) -> int | None:
        if self._fd is not None:
            ready, _, _ = select.select([self._fd], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired(f"check child {self.pid}", timeout or 0)
            os.close(self._fd)
            self._fd = None
        return self.returncode

    def __del__(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)


class Zygote:
    """The parent's side: starts the zygote on first use and asks it for children."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._key: tuple[str | None, ...] = ()
        atexit.register(self.close)  # its owner ends: so does it, now, not at the next read of stdin

    def fork(self, argv: list[str], *, stderr_path: str, cwd: str | None, env: dict[str, str]) -> ForkedChild | None:
        """A child running ``child_main(argv)``, or None when the zygote cannot serve (spawn instead)."""
        key = tuple(env.get(name) for name in STARTUP_ENV)
        request = json.dumps({"argv": argv, "stderr": stderr_path, "cwd": cwd or os.getcwd(), "env": env})
        with self._lock:
            if self._proc is None or self._proc.poll() is not None or key != self._key:
                self._start(env, key)
            proc = self._proc
            assert proc is not None and proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(request + "\n")
                proc.stdin.flush()
                answer = proc.stdout.readline()
                return ForkedChild(int(answer))
            except (OSError, ValueError):  # it died (or never started): spawn this one, restart next time
                self.close()
                return None

    def _start(self, env: dict[str, str], key: tuple[str | None, ...]) -> None:
        self.close()
        self._key = key
        # Its own session: a kernel interrupt (sent to the kernel's process group) must not reach it.
        self._proc = subprocess.Popen([sys.executable, "-m", "nexus_lab.checker.zygote"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                                      start_new_session=True)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
            for pipe in (proc.stdin, proc.stdout):
                with contextlib.suppress(OSError):
                    pipe.close()  # type: ignore[union-attr]


ZYGOTE = Zygote()


def _become_child(request: dict[str, Any], requests: IO[str]) -> None:
    """In the forked child: become what ``python -m nexus_lab.checker.child`` would be, then run it."""
    code = 70
    try:
        os.setsid()
        from nexus_lab._watchdog import die_with_parent

        die_with_parent(signal.SIGTERM)  # the zygote's end (its parent gone) ends this check's group
        for sig in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        requests.close()
        sys.stdin = open(os.devnull)  # noqa: SIM115 - for the whole process, as a spawned child's stdin=DEVNULL
        devnull = os.open(os.devnull, os.O_RDWR)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_APPEND)
        for fd, target in ((devnull, 0), (devnull, 1), (err, 2)):
            os.dup2(fd, target)
        os.chdir(request["cwd"])
        sys.path[0] = os.getcwd()  # what `python -m` puts first
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["nexus_lab.checker.child", *request["argv"]]
        from nexus_lab.checker.child import child_main

        code = child_main(request["argv"])  # it ends the process itself
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
            sys.stderr.flush()
    finally:
        os._exit(code)


def serve() -> None:
    """The zygote: import once, then fork a child per request until stdin closes."""
    for name in PRELOAD:
        importlib.import_module(name)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the OS; the parent waits by pidfd
    requests, answers = sys.stdin, sys.stdout
    for line in requests:
        request = json.loads(line)
        answers.flush()
        pid = os.fork()
        if pid == 0:
            _become_child(request, requests)
        answers.write(f"{pid}\n")
        answers.flush()


if __name__ == "__main__":
    serve()
