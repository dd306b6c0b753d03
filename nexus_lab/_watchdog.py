"""Keep a child command alive only while a given parent process lives.

Used where ``PR_SET_PDEATHSIG`` is not available (macOS, Windows, or a server started from a
thread other than the main one): ``python -m nexus_lab._watchdog PARENT_PID -- command ...``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from nexus_lab.server import pid_alive


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
