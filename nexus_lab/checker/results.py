"""The outcome of a check, in the shape Exercism's test runners report (version 2)."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import Any

from nexus_lab.views import palette

PASS, FAIL, ERROR = "pass", "fail", "error"

MAX_MESSAGE_CHARS = 2000
"""A message longer than this (a learner's exception can carry megabytes) is cut, saying how much."""
MAX_TESTS = 50
MAX_RESULT_BYTES = 4 * MAX_MESSAGE_CHARS * (MAX_TESTS + 2) + 8192
"""No capped result's JSON is larger (4 bytes per escaped character at most); the runner refuses larger files."""


def capped(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, ending with how many were left out (so capping
    twice, in the child and again when the parent reads its result, changes nothing)."""
    if len(text) <= limit:
        return text
    keep = limit - len(f"… ({len(text)} more characters)")
    return f"{text[:keep]}… ({len(text) - keep} more characters)"


@dataclass
class TestOutcome:
    name: str
    status: str
    message: str = ""


@dataclass
class CheckResult:
    """The outcome of one check, in the shape Exercism's test runners report (version 2)."""

    exercise: str
    status: str                 # pass, fail or error (the tests could not run: syntax error, timeout)
    message: str = ""
    tests: list[TestOutcome] = field(default_factory=list)
    file: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, with every message capped and at most ``MAX_TESTS`` tests."""
        tests = [{**asdict(t), "message": capped(t.message)} for t in self.tests[:MAX_TESTS]]
        return {"version": 2, "exercise": self.exercise, "status": self.status, "message": capped(self.message),
                "file": self.file, "seconds": round(self.seconds, 3), "tests": tests}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        tests = [TestOutcome(t["name"], t["status"], capped(t.get("message", ""))) for t in data.get("tests", [])]
        return cls(data["exercise"], data["status"], capped(data.get("message", "")), tests[:MAX_TESTS],
                   data.get("file", ""), data.get("seconds", 0.0))

    def text(self) -> str:
        head = {PASS: "[x] passed", FAIL: "[!] not yet", ERROR: "[?] could not run"}[self.status]  # any font
        lines = [f"{self.exercise}: {head} ({self.seconds:.1f} s)"]
        for test in self.tests:
            mark = {PASS: "✓", FAIL: "✗", ERROR: "!"}[test.status]
            lines.append(f"  {mark} {test.name}")
            if test.message and test.status != PASS:
                lines += ["      " + line for line in capped(test.message).splitlines()]
        if self.message and not any(t.status != PASS for t in self.tests):
            lines += ["  " + line for line in capped(self.message).splitlines()]
        if not self.passed:
            lines.append(f"  (edit {self.file}; `nexus-lab hint {self.exercise}` gives a hint)")
        return "\n".join(lines)

    __str__ = text

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        color = {PASS: palette.OK, FAIL: palette.BAD, ERROR: palette.WARN}[self.status]
        return (f"<pre class='nexus-lab-check' style='border-left: 4px solid {color}; padding-left: 8px'>"
                f"{html.escape(self.text())}</pre>")


def results_file(results: list[CheckResult]) -> dict[str, Any]:
    """An Exercism-style results document for one or several checks."""
    if len(results) == 1:
        return results[0].to_dict()
    status = PASS if all(r.passed for r in results) else (
        ERROR if any(r.status == ERROR for r in results) else FAIL)
    failing = [r.exercise for r in results if not r.passed]
    return {"version": 2, "status": status, "exercises": [r.exercise for r in results],
            "message": "failing: " + ", ".join(failing) if failing else "",
            "tests": [{"name": f"{r.exercise}: {t.name}", "status": t.status, "message": capped(t.message),
                       "exercise": r.exercise}
                      for r in results for t in (r.tests or [TestOutcome("check", r.status, r.message)])],
            "results": [r.to_dict() for r in results]}
