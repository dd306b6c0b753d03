"""Child processes that do not outlive their parent.

On Linux a child started from the main thread asks the kernel for a signal when its parent dies
(``PR_SET_PDEATHSIG``, see :func:`die_with_parent`). Elsewhere, or from another thread (the signal
follows the spawning *thread*), this module runs as a watchdog instead:
``python -m nexus_lab._watchdog PARENT_PID -- command ...`` keeps the command alive only while the
parent lives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
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


def main(argv: list[str]) -> int:
    parent = int(argv[0])
    command = argv[argv.index("--") + 1:]
    child = subprocess.Popen(command)

    def stop(*_: object) -> None:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while child.poll() is None:
        if not pid_alive(parent) or os.getppid() == 1:
            stop()
        time.sleep(0.5)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
