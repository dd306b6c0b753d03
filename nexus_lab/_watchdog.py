"""Child processes that do not outlive the processes that use them.

On Linux a child started from the main thread asks the kernel for a signal when its parent dies
(``PR_SET_PDEATHSIG``, see :func:`die_with_parent`). Elsewhere, or from another thread (the signal
follows the spawning *thread*), this module runs as a watchdog instead:
``python -m nexus_lab._watchdog PARENT_PID -- command ...`` keeps the command alive only while the
parent lives.

``python -m nexus_lab._watchdog PARENT_PID --users FILE -- command ...`` keeps the command alive
while the parent or any process listed in ``FILE`` lives: the embedded server is shared by every
course kernel that reuses it, so it must end with the *last* of them, not with the one that happened
to start it (closing chapter 1's kernel must not take chapter 2's server away). Each user is one line
(a pid); a process that holds the server twice (two handles) has two lines.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path


def pid_alive(pid: int | None) -> bool:
    """True while ``pid`` runs; a zombie counts as gone (it can no longer serve anything)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] != "Z"
    except (OSError, IndexError):
        return not sys.platform.startswith("linux")


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies (run between fork and exec)."""
    import ctypes

    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, sig)


def pdeathsig_usable() -> bool:
    """PR_SET_PDEATHSIG is Linux-only and tied to the spawning thread: use it from the main thread only."""
    return sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _locked(path: Path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with os.fdopen(os.dup(fd), "r+") as file:
            yield file
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def _pids(text: str) -> list[int]:
    return [int(line) for line in text.split() if line.isdigit()]


def _edit_users(path: Path, edit: Callable[[list[int]], list[int]]) -> list[int]:
    """Rewrite the users file under a lock: ``edit`` gets its live users and returns the new list.
    Only a note: on a full disk the server still lives as long as the process that started it."""
    users: list[int] = []
    with contextlib.suppress(OSError), _locked(path) as file:
        users = edit([p for p in _pids(file.read()) if pid_alive(p)])
        file.seek(0)
        file.truncate()
        file.write("".join(f"{p}\n" for p in users))
    return users


def add_user(path: Path, pid: int, *, fresh: bool = False) -> None:
    """Record ``pid`` as a user of the server (``fresh``: the only one, for a server just started)."""
    _edit_users(path, lambda users: [pid] if fresh else [*users, pid])


def remove_user(path: Path, pid: int) -> list[int]:
    """Drop one use of the server by ``pid``; the users left that are still alive."""
    def drop_one(users: list[int]) -> list[int]:
        if pid in users:
            users.remove(pid)
        return users

    return _edit_users(path, drop_one) if path.exists() else []


def live_users(path: Path) -> list[int] | None:
    """The live users listed in ``path``; ``None`` when there is no such file (a server without one)."""
    try:
        return [p for p in _pids(path.read_text()) if pid_alive(p)]
    except OSError:
        return None


def in_use(starter: int | None, users: Path) -> bool:
    """The keeper's rule, in one place: a server lives while the process that started it or any
    registered user lives (another kernel deciding whether a server is on its way out asks the same)."""
    return pid_alive(starter) or bool(live_users(users))


USERS_GRACE_S = 0.5
"""A server with no live user is stopped after this long (a user registering meanwhile keeps it)."""


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1:]
    users_file = Path(argv[2]) if argv[1] == "--users" else None  # PARENT_PID [--users FILE] -- command
    parent = int(argv[0])
    child = subprocess.Popen(command, preexec_fn=die_with_parent)  # ends with this watchdog, however it ends

    def stop(*_: object) -> None:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    unused_since: float | None = None
    while child.poll() is None:
        if users_file is None:
            if not pid_alive(parent) or os.getppid() == 1:
                stop()
        elif in_use(parent, users_file):
            unused_since = None
        elif unused_since is None:
            unused_since = time.monotonic()
        elif time.monotonic() - unused_since >= USERS_GRACE_S:
            stop()
        time.sleep(0.25 if users_file else 0.5)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
