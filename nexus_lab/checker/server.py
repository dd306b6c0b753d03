"""The Temporal server checks run on, and several checks at once over it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nexus_lab.checker.results import CheckResult
from nexus_lab.checker.runner import run_check_process

if TYPE_CHECKING:
    from nexus_lab.server import EmbeddedServer


class CheckServer:
    """A Temporal server for checks: the live one on ``NEXUS_LAB_PORT`` (7233), else a private
    embedded server on a free port that this process starts and stops (use as a context manager).

    Never the shared port for a server of its own: a second ``nexus-lab check`` would reuse it
    and lose it mid-check when the first one ends. The live server is used only when it is this
    user's lab server (see :func:`nexus_lab.server.start_embedded_server`): another user's would
    see the learner's check runs."""

    def __init__(self, port: int | None = None):
        from nexus_lab.config import DEFAULT_PORT

        self.port = port or int(os.environ.get("NEXUS_LAB_PORT", DEFAULT_PORT))
        self.server: EmbeddedServer | None = None
        self.address = ""

    def __enter__(self) -> CheckServer:
        from nexus_lab import workshop_mode
        from nexus_lab.server import LOOPBACK, _accepts_connections, _not_ours

        if workshop_mode():  # a workshop: checks run on the room's shared cluster, if it answers
            from nexus_lab.workshop.room import room_address

            self.address = room_address()
        elif _accepts_connections(self.port) and not _not_ours(self.port):
            self.address = f"{LOOPBACK}:{self.port}"
        else:  # a private server: checks in other terminals must not lose it when this one ends
            from nexus_lab.server import find_free_port_pair, start_embedded_server

            port = find_free_port_pair(20000 + os.getpid() % 4000)
            self.server = asyncio.run(start_embedded_server(port, reuse=False))
            self.address = self.server.address
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.server is not None and self.server.owned:
            self.server.stop()


def run_checks(jobs: list[tuple[Any, Path]], address: str, *, parallel: int = 2,
               on_result: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    """Run several checks (exercise, file) at once over one server; results in the given order."""
    from concurrent.futures import ThreadPoolExecutor

    def one(job: tuple[Any, Path]) -> CheckResult:
        result = run_check_process(job[0], job[1], address)
        if on_result:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(one, jobs))

