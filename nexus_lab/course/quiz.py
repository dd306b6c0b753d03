"""Quizzes whose questions live in data files, shown as widgets with a text fallback.

A quiz file is TOML (``quizzes/<chapter>.toml``)::

    id = "ch03"
    title = "Synchronous operations"

    [[question]]
    id = "deadline"
    kind = "single"                       # "single", "multiple" or "order"
    prompt = "How long may a sync handler take?"
    choices = ["1 s", "About 10 s", "60 days"]
    answer = [1]                          # indexes of the right choices (for "order": the right order)
    explanations = ["...", "...", "..."]  # why each choice is right or wrong

For an ``order`` question, ``answer`` lists the choices in their right order, ``explanation`` says why
that order holds, and ``explanations`` (optional, one per choice) say why each item sits where it does.

Each answer is checked by :meth:`Question.check`, which gives the feedback text for any answer; the
widget (:mod:`nexus_lab.views.quiz_widget`) only shows it. The result is recorded in the learner's progress so
``nexus-lab list`` counts it.
"""

from __future__ import annotations

import html
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nexus_lab.config import course_root
from nexus_lab.course import progress
from nexus_lab.errors import NexusLabError

KINDS = ("single", "multiple", "order")


class QuizFormatError(NexusLabError, ValueError):
    """A quiz file does not follow the format above (the message names file and question)."""


@dataclass(frozen=True)
class Feedback:
    correct: bool
    text: str


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    prompt: str
    choices: tuple[str, ...]
    answer: tuple[int, ...]
    explanations: tuple[str, ...] = ()
    explanation: str = ""  # for "order": why this order

    def problem_with(self, chosen: Sequence[int]) -> str | None:
        """Why ``chosen`` is not a gradable answer (nothing picked, a repeat, a bad index), or None.

        Checked before grading so an incomplete answer is never recorded as a wrong one."""
        chosen = list(chosen)
        if not chosen:
            return "Choose an answer first."
        if any(not isinstance(i, int) or i < 0 or i >= len(self.choices) for i in chosen):
            return f"Choices are numbered 0 to {len(self.choices) - 1}."
        if len(set(chosen)) != len(chosen):
            return "Each choice can be picked only once."
        if self.kind == "single" and len(chosen) != 1:
            return "Pick exactly one choice."
        if self.kind == "order" and len(chosen) != len(self.choices):
            return f"Put all {len(self.choices)} items in order (one per position)."
        return None

    def check(self, chosen: Sequence[int]) -> Feedback:
        """Feedback for an answer: which choices were right or wrong, and why."""
        chosen = tuple(chosen)
        if self.kind == "order":
            return self._check_order(chosen)
        picked = set(chosen)
        correct = picked == set(self.answer)
        lines = []
        for index in sorted(picked):
            verdict = "right" if index in self.answer else "wrong"
            why = self.explanations[index] if index < len(self.explanations) else ""
            lines.append(f"{self.choices[index]}: {verdict}. {why}".strip())
        if not correct and self.kind == "multiple":
            missing = set(self.answer) - picked
            if missing:
                lines.append(f"{len(missing)} right choice(s) not picked yet.")
        head = "Right!" if correct else "Not quite."
        return Feedback(correct, "\n".join([head, *lines]))

    def _check_order(self, chosen: tuple[int, ...]) -> Feedback:
        """Say which positions are right, and why each misplaced item belongs elsewhere; the full
        right order is only given once the answer is right, so a retry still makes the learner think."""
        correct = chosen == self.answer
        # problem_with() has checked that an order answer places every choice once: same length as self.answer
        placed = sum(1 for got, want in zip(chosen, self.answer, strict=True) if got == want)
        lines = ["Right!" if correct else f"Not quite: {placed} of {len(self.answer)} in the right place."]
        for position, index in enumerate(chosen):
            verdict = "right" if index == self.answer[position] else "wrong place"
            why = self.explanations[index] if index < len(self.explanations) and verdict != "right" else ""
            lines.append(f"{position + 1}. {self.choices[index]}: {verdict}. {why}".strip())
        if correct and self.explanation:
            lines.append(self.explanation)
        return Feedback(correct, "\n".join(lines))

    def text(self) -> str:
        how = {"single": "pick one", "multiple": "pick all that apply", "order": "put in order"}[self.kind]
        lines = [f"{self.prompt} ({how})"]
        lines += [f"  {i}) {c}" for i, c in enumerate(self.choices)]
        return "\n".join(lines)


@dataclass
class Quiz:
    id: str
    title: str
    questions: list[Question] = field(default_factory=list)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"Quiz {self.id} has no question {question_id!r}.")

    def answer(self, question_id: str, chosen: Sequence[int], *, record: bool = True) -> Feedback:
        """Check an answer (plain Python: also how tests and the text fallback answer)."""
        q = self.question(question_id)
        problem = q.problem_with(chosen)
        if problem:
            raise ValueError(f"Question {q.id!r}: {problem}")
        feedback = q.check(chosen)
        if record:
            progress.record_quiz_answer(self.id, q.id, feedback.correct)
        return feedback

    def score(self) -> tuple[int, int]:
        """(questions answered right, questions in the quiz), from the learner's recorded progress."""
        right, _answered = progress.quiz_score(self.id)
        return right, len(self.questions)

    def score_text(self) -> str:
        right, total = self.score()
        return f"{right} of {total} questions answered right (recorded in your progress)."

    def text(self) -> str:
        lines = [f"Quiz: {self.title}"]
        for number, q in enumerate(self.questions, 1):
            lines.append(f"{number}. {q.text()}")
        ids = ", ".join(repr(q.id) for q in self.questions)
        lines.append(f"Answer in code with quiz.answer(question_id, [choice numbers]); question ids: {ids}.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.text())}</pre>"

    def widget(self) -> Any:
        from nexus_lab.views.quiz_widget import QuizWidget

        return QuizWidget(self)

    def _ipython_display_(self) -> None:
        """Show the widget in a live notebook; the text form everywhere else (nbval, terminals)."""
        from IPython.display import display

        try:
            widget = self.widget()
        except Exception:  # no widget support in this front end: the same facts as text
            display({"text/plain": self.text()}, raw=True)
            return
        display(widget)


def _question(raw: dict[str, Any], where: str) -> Question:
    try:
        kind = raw.get("kind", "single")
        if kind not in KINDS:
            raise QuizFormatError(f"{where}: kind must be one of {KINDS}, not {kind!r}")
        choices = tuple(raw["choices"])
        answer = tuple(int(i) for i in raw["answer"])
        explanations = tuple(raw.get("explanations", ()))
    except KeyError as missing:
        raise QuizFormatError(f"{where}: missing {missing}") from None
    if any(i < 0 or i >= len(choices) for i in answer):
        raise QuizFormatError(f"{where}: answer index out of range")
    if kind == "single" and len(answer) != 1:
        raise QuizFormatError(f"{where}: a single-choice question has exactly one answer")
    if kind == "order" and sorted(answer) != list(range(len(choices))):
        raise QuizFormatError(f"{where}: an order answer lists every choice once")
    if (kind != "order" or explanations) and len(explanations) != len(choices):
        raise QuizFormatError(f"{where}: give one explanation per choice")
    if len(set(choices)) != len(choices):
        raise QuizFormatError(f"{where}: choices must differ from each other")
    return Question(id=raw["id"], kind=kind, prompt=raw["prompt"], choices=choices, answer=answer,
                    explanations=explanations, explanation=raw.get("explanation", ""))


def load_quiz(path_or_id: str | Path) -> Quiz:
    """Load ``quizzes/<id>.toml`` from the course (or any path to a quiz file)."""
    path = Path(path_or_id)
    if not path.suffix:
        path = course_root() / "quizzes" / f"{path_or_id}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise QuizFormatError(f"{path}: {err}") from None
    questions = [_question(q, f"{path.name} question {i + 1}") for i, q in enumerate(data.get("question", []))]
    if not questions:
        raise QuizFormatError(f"{path}: no [[question]] entries")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise QuizFormatError(f"{path}: question ids must be unique")
    return Quiz(id=data.get("id", path.stem), title=data.get("title", path.stem), questions=questions)
