"""ipywidgets front ends. Each widget only displays what plain-Python objects already decided
(:meth:`nexus_lab.quiz.Question.check` grades answers), so tests can drive them with ``.click()``."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from .quiz import Question, Quiz


class QuestionWidget(w.VBox):
    """One question: choices, a Check button, feedback with an explanation per choice, Retry."""

    def __init__(self, quiz: Quiz, question: Question, number: int):
        self.quiz, self.question = quiz, question
        self.prompt = w.HTML(f"<b>{number}. {html.escape(question.prompt)}</b>")
        if question.kind == "single":
            self.inputs: list[Any] = [w.RadioButtons(options=[(c, i) for i, c in enumerate(question.choices)],
                                                     value=None, layout=w.Layout(width="auto"))]
        elif question.kind == "multiple":
            self.inputs = [w.Checkbox(description=c, value=False, indent=False) for c in question.choices]
        else:  # order: one dropdown per position
            options = [("—", None)] + [(c, i) for i, c in enumerate(question.choices)]
            self.inputs = [w.Dropdown(options=options, value=None, description=f"{p + 1}.")
                           for p in range(len(question.choices))]
        self.check_button = w.Button(description="Check", button_style="primary")
        self.retry_button = w.Button(description="Retry", disabled=True)
        self.feedback = w.HTML("")
        self.correct: bool | None = None
        self.check_button.on_click(lambda _b: self.submit())
        self.retry_button.on_click(lambda _b: self.reset())
        super().__init__([self.prompt, *self.inputs, w.HBox([self.check_button, self.retry_button]), self.feedback])

    def chosen(self) -> list[int]:
        if self.question.kind == "single":
            value = self.inputs[0].value
            return [] if value is None else [value]
        if self.question.kind == "multiple":
            return [i for i, box in enumerate(self.inputs) if box.value]
        return [d.value for d in self.inputs if d.value is not None]

    def select(self, indexes: list[int]) -> None:
        """Set an answer programmatically (tests, and the browser test's first attempt)."""
        if self.question.kind == "single":
            self.inputs[0].value = indexes[0]
        elif self.question.kind == "multiple":
            for i, box in enumerate(self.inputs):
                box.value = i in indexes
        else:
            for dropdown, index in zip(self.inputs, indexes):
                dropdown.value = index

    def submit(self) -> None:
        chosen = self.chosen()
        if not chosen or (self.question.kind == "order" and len(set(chosen)) != len(self.question.choices)):
            self.feedback.value = "<i>Choose an answer first.</i>"
            return
        result = self.quiz.answer(self.question.id, chosen)
        self.correct = result.correct
        colour = "#1e7e34" if result.correct else "#b02a37"
        body = "<br>".join(html.escape(line) for line in result.text.splitlines())
        self.feedback.value = f'<div class="nexus-lab-feedback" style="color:{colour}">{body}</div>'
        self.check_button.disabled = True
        self.retry_button.disabled = False

    def reset(self) -> None:
        self.feedback.value = ""
        self.correct = None
        self.check_button.disabled = False
        self.retry_button.disabled = True


class QuizWidget(w.VBox):
    def __init__(self, quiz: Quiz):
        self.quiz = quiz
        self.questions = [QuestionWidget(quiz, q, n) for n, q in enumerate(quiz.questions, 1)]
        super().__init__([w.HTML(f"<h4>Quiz: {html.escape(quiz.title)}</h4>"), *self.questions])

    def __repr__(self) -> str:  # what nbval and terminals see
        return self.quiz.text()


def quiz_widget(quiz: Quiz) -> QuizWidget:
    return QuizWidget(quiz)
