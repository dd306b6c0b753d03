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

Each answer is checked by :meth:`Question.check`, which gives the feedback text for any answer; the
widget only shows it. The result is recorded in the learner's progress so ``nexus-lab list`` counts it.
"""

from __future__ import annotations

import html
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from . import progress
from .config import course_root

KINDS = ("single", "multiple", "order")


class QuizFormatError(ValueError):
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

    def check(self, chosen: Sequence[int]) -> Feedback:
        """Feedback for an answer: which choices were right or wrong, and why."""
        chosen = tuple(chosen)
        if self.kind == "order":
            correct = chosen == self.answer
            right = " → ".join(self.choices[i] for i in self.answer)
            text = ("Right. " if correct else f"Not yet: the order is {right}. ") + self.explanation
            return Feedback(correct, text.strip())
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
        feedback = q.check(chosen)
        if record:
            progress.record_quiz_answer(self.id, q.id, feedback.correct)
        return feedback

    def text(self) -> str:
        lines = [f"Quiz: {self.title}"]
        for number, q in enumerate(self.questions, 1):
            lines.append(f"{number}. {q.text()}")
        lines.append(f"Answer in code with quiz.answer(question_id, [choice numbers]).")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.text())}</pre>"

    def widget(self) -> Any:
        from .widgets import quiz_widget

        return quiz_widget(self)

    def _ipython_display_(self) -> None:
        """Show the widget in a live notebook; the text form everywhere else (nbval, terminals)."""
        from IPython.display import display

        try:
            display(self.widget())
        except Exception:
            display(self.text(), raw=False)


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
    if kind != "order" and len(explanations) != len(choices):
        raise QuizFormatError(f"{where}: give one explanation per choice")
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
