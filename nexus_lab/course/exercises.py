"""What a learner does with exercises — check, hint, reset, verify — for the CLI and the notebooks alike.

``nexus-lab check ID`` and ``nexus_lab.check("ID")`` in a cell run the same check (in a child
process, see :mod:`nexus_lab.checker`) and record the same progress.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from nexus_lab.checker.results import FAIL, CheckResult
from nexus_lab.checker.runner import run_check_process
from nexus_lab.checker.server import CheckServer, run_checks
from nexus_lab.course import progress
from nexus_lab.course.manifest import Exercise, Manifest, load_manifest
from nexus_lab.course.practice import practice_text
from nexus_lab.course.progress import atomic_write_text
from nexus_lab.course.workspace import solutions_dir
from nexus_lab.errors import NexusLabError


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

        if nexus_lab.workshop_mode():  # the room's cluster, if it answers (else one line and no result)
            from nexus_lab.workshop.room import room_address

            self.address = room_address()
            return self
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


# --- the course's own wrong answers ---------------------------------------------------------------
WRONG_ANSWERS_DIR = Path("tests") / "exercises" / "wrong_answers"


class WrongAnswerError(NexusLabError, ValueError):
    """A wrong-answer file cannot be applied to its solution (an edit not found exactly once)."""


@dataclass
class WrongAnswer:
    """One typical mistake: edits of the reference solution that its check must reject, with the
    words its message must contain (``tests/exercises/wrong_answers/<exercise id>.toml``)."""

    exercise: str
    name: str
    replace: list[tuple[str, str]]
    expect: list[str]
    partial: bool = False

    def apply(self, solution: str) -> str:
        for old, new in self.replace:
            if solution.count(old) != 1:
                raise WrongAnswerError(f"{self.exercise} / {self.name!r}: {old!r} occurs "
                                       f"{solution.count(old)} times in the solution, not once.")
            solution = solution.replace(old, new)
        return solution

    def missing(self, result: CheckResult) -> list[str]:
        """The expected fragments the check's failure text lacks (case-insensitive)."""
        text = result.text().lower()
        return [word for word in self.expect if word.lower() not in text]

    def killed_by(self, result: CheckResult) -> bool:
        """Rejected, with the expected words, and as the learner's mistake: a wrong answer that makes
        the checker itself fail (or time out) says nothing useful to the learner."""
        return result.status == FAIL and not self.missing(result)


def wrong_answers(m: Manifest | None = None, exercise_ids: list[str] | None = None) -> list[WrongAnswer]:
    """Every wrong answer of the chosen exercises (all by default), in course order."""
    import tomllib

    m = m or manifest()
    folder = m.root / WRONG_ANSWERS_DIR
    chosen = exercise_ids or [e.id for e in m.exercises]
    answers = []
    for exercise_id in chosen:
        path = folder / f"{exercise_id}.toml"
        if not path.exists():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise WrongAnswerError(f"{path}: {err}") from None
        for entry in data.get("wrong", []):
            answers.append(WrongAnswer(exercise_id, entry["name"], [tuple(pair) for pair in entry["replace"]],
                                       list(entry.get("expect", [])), bool(entry.get("partial", False))))
    return answers


@dataclass
class WrongAnswerOutcome:
    answer: WrongAnswer
    result: CheckResult

    @property
    def killed(self) -> bool:
        return self.answer.killed_by(self.result)

    def problem(self) -> str:
        a = self.answer
        if self.result.passed:
            return f"wrong answer {a.exercise} / {a.name!r} passes its check"
        missing = a.missing(self.result)
        lacks = f"lacks {missing}" if missing else f"is {self.result.status!r}, not 'fail'"
        return (f"wrong answer {a.exercise} / {a.name!r}: the message {lacks}:\n"
                + "\n".join("      " + line for line in self.result.text().splitlines()))


def wrong_answer_jobs(answers: list[WrongAnswer], folder: Path,
                      m: Manifest | None = None) -> list[tuple[Exercise, Path]]:
    """Write each wrong answer into a folder of its own (next to the shared solution modules)."""
    m = m or manifest()
    jobs = []
    for n, answer in enumerate(answers):
        exercise = m.exercise(answer.exercise)
        place = folder / f"wrong-{n:03d}"
        place.mkdir(parents=True)
        for shared in solutions_dir(m.root).glob("*.py"):
            shutil.copy2(shared, place / shared.name)
        target = place / Path(exercise.file).name
        target.write_text(answer.apply(exercise.solution_path(m.root).read_text(encoding="utf-8")), encoding="utf-8")
        jobs.append((exercise, target))
    return jobs


def run_wrong_answers(answers: list[WrongAnswer], address: str, *, jobs: int = 3,
                      m: Manifest | None = None) -> list[WrongAnswerOutcome]:
    """Check every wrong answer over one server, ``jobs`` at once."""
    with tempfile.TemporaryDirectory(prefix="nexus-lab-wrong-") as tmp:
        results = run_checks(wrong_answer_jobs(answers, Path(tmp), m), address, parallel=jobs)
    return [WrongAnswerOutcome(a, r) for a, r in zip(answers, results, strict=True)]


def kill_rate_text(outcomes: list[WrongAnswerOutcome]) -> str:
    """Killed / total per exercise and overall (partially right answers counted apart too)."""
    lines = [f"{'wrong answers':<28} killed  partial killed"]
    by_exercise: dict[str, list[WrongAnswerOutcome]] = {}
    for outcome in outcomes:
        by_exercise.setdefault(outcome.answer.exercise, []).append(outcome)

    def rate(group: list[WrongAnswerOutcome]) -> str:
        killed = sum(o.killed for o in group)
        return f"{killed}/{len(group)} ({100 * killed / len(group):.0f} %)" if group else "-"

    for exercise_id, group in by_exercise.items():
        partial = [o for o in group if o.answer.partial]
        lines.append(f"{exercise_id:<28} {rate(group):<15} {rate(partial)}")
    lines.append(f"{'total':<28} {rate(outcomes):<15} {rate([o for o in outcomes if o.answer.partial])}")
    return "\n".join(lines)


# --- verify --------------------------------------------------------------------------------------
@dataclass
class VerifyOutcome:
    solutions: list[CheckResult]
    untouched: list[CheckResult]
    seconds: float
    wrong: list[WrongAnswerOutcome] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        wrong = [f"solution of {r.exercise} does not pass: {r.message or r.status}"
                 for r in self.solutions if not r.passed]
        wrong += [f"untouched {r.exercise} passes (its check cannot fail)" for r in self.untouched if r.passed]
        wrong += [o.problem() for o in self.wrong if not o.killed]
        return wrong

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = [f"{'exercise':<28} solution  untouched"]
        for sol, ex in zip(self.solutions, self.untouched, strict=True):
            lines.append(f"{sol.exercise:<28} {'pass' if sol.passed else 'FAIL':<9} "
                         f"{'fails' if not ex.passed else 'PASSES'} ({ex.status})")
        if self.solutions:
            times = sorted(r.seconds for r in self.solutions)
            lines.append(f"check time of the solutions (several at once): "
                         f"median {statistics.median(times):.2f} s, max {times[-1]:.2f} s")
        if self.wrong:
            lines.append(kill_rate_text(self.wrong))
        lines.append(f"{len(self.solutions)} exercises in {self.seconds:.1f} s: "
                     + ("all solutions pass, every untouched exercise fails"
                        + (", every wrong answer is rejected." if self.wrong else ".") if self.ok
                        else "\n  " + "\n  ".join(self.problems)))
        return "\n".join(lines)


def verify(jobs: int = 4, exercise_ids: list[str] | None = None, *, wrong: bool = True) -> VerifyOutcome:
    """Every reference solution passes its check, every untouched exercise fails it, and (with
    ``wrong``) the course's own wrong answers are all rejected with the message they expect.

    The untouched files are generated afresh into a temporary folder, so a learner's own work in
    ``exercises/`` is neither judged nor touched.
    """
    started = time.monotonic()
    m = manifest()
    chosen = [m.exercise(i) for i in exercise_ids] if exercise_ids else list(m.exercises)
    answers = wrong_answers(m, [e.id for e in chosen]) if wrong else []
    with tempfile.TemporaryDirectory(prefix="nexus-lab-untouched-") as tmp:
        folder = Path(tmp)
        for shared in solutions_dir(m.root).glob("*.py"):
            shutil.copy2(shared, folder / shared.name)
        jobs_list = []
        for e in chosen:
            target = folder / Path(e.file).name
            target.write_text(practice_text(e.solution_path(m.root).read_text(encoding="utf-8"), e.solution))
            jobs_list.append((e, e.solution_path(m.root)))
            jobs_list.append((e, target))
        count = len(jobs_list)
        jobs_list += wrong_answer_jobs(answers, folder / "wrong", m)
        with server_for_checks() as server:
            results = run_checks(jobs_list, server.address, parallel=jobs)
    checked = results[:count]
    return VerifyOutcome(checked[0::2], checked[1::2], time.monotonic() - started,
                         [WrongAnswerOutcome(a, r) for a, r in zip(answers, results[count:], strict=True)])


def solution_check_times() -> list[CheckResult]:
    """Every reference solution checked one after another over one server: each check's own time
    (one at a time, so the figure is the check's and not the queue's)."""
    m = manifest()
    with server_for_checks() as server:
        return [run_check_process(e, e.solution_path(m.root), server.address, cwd=m.root) for e in m.exercises]


def check_times_text(results: list[CheckResult]) -> str:
    times = sorted(r.seconds for r in results)
    if not times:
        return "check time: no exercises"
    slowest = max(results, key=lambda r: r.seconds)
    failing = [r.exercise for r in results if not r.passed]
    return (f"check time over {len(times)} reference solutions (server running, CLI start-up excluded): "
            f"median {statistics.median(times):.2f} s, max {times[-1]:.2f} s ({slowest.exercise})"
            + (f"\n  not passing: {', '.join(failing)}" if failing else ""))


def default_jobs() -> int:
    """Checks at once: one per core. Each check runs workers and the server works for all of them; with
    more checks than cores a 2 s schedule-to-start limit expired with a worker up (ch10-fail-fast)."""
    return max(1, min(6, os.cpu_count() or 1))
