"""Check functions and learner files for the check-process tests (the child imports this module)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from nexus_lab.checker.context import Check

SPEC = "tests.reliability.check_fixtures:passes"


async def passes(check: Check) -> None:
    """A check with nothing to check: the learner's file imported, so it passes."""


def exercise(timeout: float = 30.0) -> SimpleNamespace:
    return SimpleNamespace(id="reliability", check=SPEC, timeout=timeout)


def learner_file(folder: Path, body: str, pids: Path) -> Path:
    """A learner file that writes the pid of every process it starts (and its own) to ``pids``."""
    path = folder / "learner_mod.py"
    path.write_text(
        "import os, subprocess, multiprocessing, time\n"
        f"PIDS = {str(pids)!r}\n"
        "def note(pid):\n"
        "    with open(PIDS, 'a') as f:\n"
        "        f.write(f'{pid}\\n')\n"
        "note(os.getpid())\n"
        + body
    )
    return path


SPAWN_AT_IMPORT = (
    "helper = multiprocessing.Process(target=time.sleep, args=(300,))\n"
    "helper.start()\n"
    "note(helper.pid)\n"
    "note(subprocess.Popen(['sleep', '300']).pid)\n"
)
LOOP_AT_IMPORT = SPAWN_AT_IMPORT + "while True:\n    pass\n"


def read_pids(pids: Path) -> list[int]:
    return [int(line) for line in pids.read_text().split()] if pids.exists() else []
