"""The class report: latest outcome per learner and exercise, ordered by server time."""

from __future__ import annotations

import collections
import html
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nexus_lab.workshop.scope import display_learner

if TYPE_CHECKING:
    from nexus_lab.workshop.contract import ExerciseOutcome
    from nexus_lab.workshop.ledger import Record


@dataclass
class LearnerRow:
    learner: str
    passed: list[str]
    attempted: list[str]
    last_activity: float

    @property
    def name(self) -> str:
        return display_learner(self.learner)


@dataclass
class ExerciseRow:
    exercise: str
    learners: int
    passed: int
    common_failure: str

    @property
    def pass_rate(self) -> float:
        return self.passed / self.learners if self.learners else 0.0


@dataclass
class ClassReport:
    learners: list[LearnerRow]
    exercises: list[ExerciseRow]

    def text(self) -> str:
        lines = ["Learner              passed  attempted  last activity"]
        for row in self.learners:
            when = time.strftime("%H:%M:%S", time.localtime(row.last_activity))
            lines.append(f"{row.name:<20} {len(row.passed):>6}  {len(row.attempted):>9}  {when}")
        lines += ["", "Exercise                       pass rate  most common failure"]
        for ex in self.exercises:
            rate = f"{ex.passed}/{ex.learners}"
            lines.append(f"{ex.exercise:<30} {rate:>9}  {ex.common_failure or '-'}")
        return "\n".join(lines)

    __str__ = text

    def html(self) -> str:
        learners = "".join(
            f"<tr><td>{html.escape(r.name)}</td><td>{len(r.passed)}</td><td>{len(r.attempted)}</td>"
            f"<td>{time.strftime('%H:%M:%S', time.localtime(r.last_activity))}</td></tr>" for r in self.learners)
        exercises = "".join(
            f"<tr><td>{html.escape(e.exercise)}</td><td>{e.passed}/{e.learners} ({e.pass_rate:.0%})</td>"
            f"<td>{html.escape(e.common_failure or '-')}</td></tr>" for e in self.exercises)
        return ("<html><head><meta charset='utf-8'><meta http-equiv='refresh' content='10'>"
                "<title>Nexus Lab class report</title></head><body><h1>Class report</h1>"
                "<table border='1'><tr><th>Learner</th><th>Passed</th><th>Attempted</th><th>Last activity</th></tr>"
                f"{learners}</table><h2>Exercises</h2><table border='1'><tr><th>Exercise</th><th>Pass rate</th>"
                f"<th>Most common failure</th></tr>{exercises}</table></body></html>")


def class_report(records: list[Record]) -> ClassReport:
    """Latest outcome per learner and exercise (by the server's clock), then the two views an instructor needs."""
    latest: dict[tuple[str, str], ExerciseOutcome] = {}
    activity: dict[str, float] = {}
    failures: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for record in sorted(records, key=lambda r: r.received_at):
        activity[record.learner] = max(activity.get(record.learner, 0.0), record.received_at)
        for outcome in record.outcomes:
            latest[(record.learner, outcome.exercise)] = outcome
            if outcome.status != "pass" and outcome.message:
                failures[outcome.exercise][outcome.message.splitlines()[0][:120]] += 1
    learners = []
    for learner in sorted(activity, key=display_learner):
        mine = {ex: o for (who, ex), o in latest.items() if who == learner}
        learners.append(LearnerRow(learner, sorted(ex for ex, o in mine.items() if o.status == "pass"), sorted(mine),
                                   activity[learner]))
    exercises = []
    for exercise in sorted({ex for (_, ex) in latest}):
        outcomes = [o for (_, ex), o in latest.items() if ex == exercise]
        common = failures[exercise].most_common(1)
        exercises.append(ExerciseRow(exercise, len(outcomes), sum(o.status == "pass" for o in outcomes),
                                     common[0][0] if common else ""))
    return ClassReport(learners, exercises)

