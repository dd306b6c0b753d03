"""What a learner does with exercises — check, hint, reset, verify — for the CLI and the notebooks alike.

``nexus-lab check ID`` and ``nexus_lab.check("ID")`` in a cell run the same check (in a child
process, see :mod:`nexus_lab.checker`) and record the same progress.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from nexus_lab.checker.results import CheckResult
from nexus_lab.checker.runner import run_check_process
from nexus_lab.checker.server import CheckServer, run_checks
from nexus_lab.course import progress
from nexus_lab.course.manifest import Exercise, Manifest, load_manifest
from nexus_lab.course.practice import practice_text
from nexus_lab.course.progress import atomic_write_text


def manifest() -> Manifest:
    return load_manifest()


def next_unsolved(m: Manifest | None = None) -> Exercise | None:
    """The first exercise, in course order, that has not passed yet."""
    m = m or manifest()
    data = progress.load()
    return next((e for e in m.exercises if progress.exercise_status(e.id, data) != "passed"), None)


def _in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


class _KernelServer:
    """Inside a notebook: the kernel's lab server if there is one, else one per check child."""

    def __enter__(self):
        import nexus_lab

        lab = nexus_lab.current()
        self.address = lab.address if lab is not None and lab.server is not None else "embedded"
        return self

    def __exit__(self, *exc):
        return None


def server_for_checks():
    """A context manager giving ``.address``: the server the checks should use from here."""
    return _KernelServer() if _in_running_loop() else CheckServer()


def check(exercise_id: str | None = None, *, solution: bool = False, record: bool = True) -> CheckResult:
    """Check one exercise (the next unsolved one without an ID) and record the outcome.

    In a notebook cell the result displays as text or HTML. ``solution=True`` checks the
    reference solution instead of the learner's file (and records nothing).
    """
    m = manifest()
    exercise = m.exercise(exercise_id) if exercise_id else next_unsolved(m)
    if exercise is None:
        raise LookupError("Every exercise passes already. Well done!")
    path = exercise.solution_path(m.root) if solution else exercise.path(m.root)
    with server_for_checks() as server:
        result = run_check_process(exercise, path, server.address, cwd=m.root)
    if record and not solution:
        progress.record_exercise(exercise.id, result.passed, result.message)
    return result


def check_many(exercises: list[Exercise], *, solution: bool = False, record: bool = True, jobs: int = 3,
               on_result=None) -> list[CheckResult]:
    m = manifest()
    paths = [(e, e.solution_path(m.root) if solution else e.path(m.root)) for e in exercises]
    with server_for_checks() as server:
        results = run_checks(paths, server.address, parallel=jobs, on_result=on_result)
    if record and not solution:
        for result in results:
            progress.record_exercise(result.exercise, result.passed, result.message)
    return results


# --- hints ---------------------------------------------------------------------------------------
def next_hint(exercise_id: str) -> tuple[int, int, str]:
    """(number, total, text) of the next hint: each call reveals one more, then repeats the last."""
    exercise = manifest().exercise(exercise_id)
    if not exercise.hints:
        return 0, 0, "This exercise has no hints."
    data = progress.load()
    shown = data.setdefault("hints", {}).get(exercise_id, 0)
    number = min(shown + 1, len(exercise.hints))
    data["hints"][exercise_id] = number
    progress.save(data)
    return number, len(exercise.hints), exercise.hints[number - 1]


# --- reset ---------------------------------------------------------------------------------------
@dataclass
class ResetOutcome:
    path: Path
    backup: Path | None

    def __str__(self) -> str:
        if self.backup is None:
            return f"{self.path} is already as it started: nothing to back up."
        return f"{self.path} is back to its starting point. Your version is kept in {self.backup}."


def backups_dir(root: Path) -> Path:
    return root / ".nexus-lab" / "backups"


def reset(exercise_id: str) -> ResetOutcome:
    """Restore an exercise file to its starting point, keeping the learner's version as a backup."""
    m = manifest()
    exercise = m.exercise(exercise_id)
    path = exercise.path(m.root)
    fresh = practice_text(exercise.solution_path(m.root).read_text(encoding="utf-8"), exercise.solution)
    backup = None
    if path.exists() and path.read_text(encoding="utf-8", errors="replace") != fresh:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        folder = backups_dir(m.root)
        folder.mkdir(parents=True, exist_ok=True)
        backup = folder / f"{path.stem}.{stamp}{path.suffix}"
        n = 1
        while backup.exists():
            n += 1
            backup = folder / f"{path.stem}.{stamp}-{n}{path.suffix}"
        shutil.copy2(path, backup)
    atomic_write_text(path, fresh)
    return ResetOutcome(path, backup)


# --- verify --------------------------------------------------------------------------------------
@dataclass
class VerifyOutcome:
    solutions: list[CheckResult]
    untouched: list[CheckResult]
    seconds: float

    @property
    def problems(self) -> list[str]:
        wrong = [f"solution of {r.exercise} does not pass: {r.message or r.status}"
                 for r in self.solutions if not r.passed]
        wrong += [f"untouched {r.exercise} passes (its check cannot fail)" for r in self.untouched if r.passed]
        return wrong

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = [f"{'exercise':<28} solution  untouched"]
        for sol, ex in zip(self.solutions, self.untouched):
            lines.append(f"{sol.exercise:<28} {'pass' if sol.passed else 'FAIL':<9} "
                         f"{'fails' if not ex.passed else 'PASSES'} ({ex.status})")
        lines.append(f"{len(self.solutions)} exercises in {self.seconds:.1f} s: "
                     + ("all solutions pass and every untouched exercise fails." if self.ok
                        else "\n  " + "\n  ".join(self.problems)))
        return "\n".join(lines)


def verify(jobs: int = 4, exercise_ids: list[str] | None = None) -> VerifyOutcome:
    """Every reference solution passes its check and every untouched exercise fails it.

    The untouched files are generated afresh into a temporary folder, so a learner's own work in
    ``exercises/`` is neither judged nor touched.
    """
    started = time.monotonic()
    m = manifest()
    chosen = [m.exercise(i) for i in exercise_ids] if exercise_ids else list(m.exercises)
    with tempfile.TemporaryDirectory(prefix="nexus-lab-untouched-") as tmp:
        folder = Path(tmp)
        for shared in (m.root / "solutions").glob("*.py"):
            shutil.copy2(shared, folder / shared.name)
        jobs_list = []
        for e in chosen:
            target = folder / Path(e.file).name
            target.write_text(practice_text(e.solution_path(m.root).read_text(encoding="utf-8"), e.solution))
            jobs_list.append((e, e.solution_path(m.root)))
            jobs_list.append((e, target))
        with server_for_checks() as server:
            results = run_checks(jobs_list, server.address, parallel=jobs)
    return VerifyOutcome(results[0::2], results[1::2], time.monotonic() - started)


def default_jobs() -> int:
    return max(2, min(6, 2 * (os.cpu_count() or 1)))
