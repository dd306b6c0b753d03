"""Practice files are generated from the reference solutions, so the two can never drift apart.

A solution marks each part the learner writes with a TODO region::

    # --- TODO: Route the endpoint to the Fraud team's namespace and task queue.
    #           (an instruction may go on over several comment lines)
    await lab.endpoint(ENDPOINT, namespace=HANDLER_NAMESPACE, task_queue=HANDLER_TASK_QUEUE)
    # --- STARTER
    # await lab.endpoint(...)
    # --- END

In the practice file the instruction stays (as ``# TODO: ...``), the solution lines go, and the
``STARTER`` lines (written commented out in the solution, so the solution stays plain Python) are
put back uncommented. Without a ``STARTER`` part the region becomes ``...``, which is a valid
statement anywhere. Files without regions (shared modules) are copied unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from nexus_lab.errors import NexusLabError

TODO = re.compile(r"^(?P<indent>\s*)# --- TODO: (?P<text>.*)$")
STARTER = re.compile(r"^\s*# --- STARTER\s*$")
END = re.compile(r"^\s*# --- END\s*$")
CONTINUATION = re.compile(r"^\s*#(?! ---)")


def _realigned(line: str) -> str:
    """A continuation line aligned under ``# --- TODO: text`` stays aligned under ``# TODO: text``."""
    return re.sub(r"^(\s*#) {4}(?= {5})", r"\1", line)


class ExerciseSourceError(NexusLabError, ValueError):
    """A solution's TODO regions are malformed (the message names the file and line)."""


@dataclass
class _Region:
    indent: str
    instruction: list[str]
    starter: list[str]


def _uncomment(line: str, indent: str, where: str) -> str:
    stripped = line[len(indent):] if line.startswith(indent) else line.lstrip()
    if stripped.rstrip() == "#":
        return ""
    if not stripped.startswith("# "):
        raise ExerciseSourceError(f"{where}: STARTER lines must be comments starting with '# '")
    return indent + stripped[2:]


def practice_text(solution: str, name: str = "<solution>") -> str:
    """The practice file for a solution's text."""
    out: list[str] = []
    lines = solution.splitlines()
    i = 0
    while i < len(lines):
        match = TODO.match(lines[i])
        if not match:
            if STARTER.match(lines[i]) or END.match(lines[i]):
                raise ExerciseSourceError(f"{name}:{i + 1}: '# --- STARTER/END' outside a TODO region")
            out.append(lines[i])
            i += 1
            continue
        start = i
        indent = match["indent"]
        region = _Region(indent, [f"{indent}# TODO: {match['text']}"], [])
        i += 1
        while i < len(lines) and CONTINUATION.match(lines[i]) and not TODO.match(lines[i]):
            region.instruction.append(_realigned(lines[i]))
            i += 1
        in_starter = False
        while True:
            if i >= len(lines):
                raise ExerciseSourceError(f"{name}:{start + 1}: TODO region without '# --- END'")
            if TODO.match(lines[i]):
                raise ExerciseSourceError(f"{name}:{i + 1}: a TODO region starts before the one at line "
                                          f"{start + 1} ends")
            if END.match(lines[i]):
                i += 1
                break
            if STARTER.match(lines[i]):
                in_starter = True
            elif in_starter:
                region.starter.append(_uncomment(lines[i], indent, f"{name}:{i + 1}"))
            i += 1
        out.extend(region.instruction)
        out.extend(region.starter or [f"{indent}..."])
    return "\n".join(out) + ("\n" if solution.endswith("\n") else "")


def expected_practice_files(root: Path, pairs: list[tuple[str, str]]) -> dict[Path, str]:
    """{practice path: text it should have} for (solution, practice) pairs relative to ``root``,
    plus every region-free shared module of ``solutions/`` (copied as is)."""
    wanted: dict[Path, str] = {}
    for solution, practice in pairs:
        wanted[root / practice] = practice_text((root / solution).read_text(encoding="utf-8"), solution)
    for shared in sorted((root / "solutions").glob("*.py")):
        target = root / "exercises" / shared.name
        if target not in wanted:
            wanted[target] = shared.read_text(encoding="utf-8")
    return wanted


def stale_practice_files(root: Path, pairs: list[tuple[str, str]]) -> list[Path]:
    """Practice files that differ from what their solutions generate (missing ones included)."""
    return [path for path, text in expected_practice_files(root, pairs).items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]
