"""The quiz as ipywidgets: choices, Check, feedback with an explanation per choice, Retry, score.

The widget decides nothing: :meth:`nexus_lab.course.quiz.Question.check` grades,
:meth:`nexus_lab.course.quiz.Quiz.answer` records progress. That keeps the grading testable without a
browser, and lets tests drive the widget with ``.select()`` and ``button.click()`` exactly as a learner would.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from nexus_lab.course.quiz import Feedback, Question, Quiz
from nexus_lab.views import palette
from nexus_lab.views.display import TextFallback, html_paragraphs

RIGHT_COLOUR, WRONG_COLOUR = palette.OK, palette.BAD


def _choice_inputs(question: Question) -> list[Any]:
    """One RadioButtons (single), a Checkbox per choice (multiple), or a Dropdown per position (order)."""
    if question.kind == "single":
        return [w.RadioButtons(options=[(c, i) for i, c in enumerate(question.choices)], value=None,
                               layout=w.Layout(width="auto"))]
    if question.kind == "multiple":
        return [w.Checkbox(description=c, value=False, indent=False, layout=w.Layout(width="auto"))
                for c in question.choices]
    options = [("—", None)] + [(c, i) for i, c in enumerate(question.choices)]
    return [w.Dropdown(options=options, value=None, description=f"{p + 1}.",
                       layout=w.Layout(width="420px"), style={"description_width": "2em"})
            for p in range(len(question.choices))]


class QuestionWidget(TextFallback, w.VBox):
    """One question: its choices, Check, feedback (right/wrong and why for each choice), Retry."""

    def __init__(self, quiz: Quiz, question: Question, number: int,
                 on_answer: Callable[[QuestionWidget], None] | None = None):
        self.quiz, self.question, self.number = quiz, question, number
        self._on_answer = on_answer
        self.result: Feedback | None = None
        self.notice = ""  # why an answer could not be checked, if it could not
        self.prompt = w.HTML(f"<b>{number}. {html.escape(question.prompt)}</b> <i>({self._how()})</i>")
        self.inputs = _choice_inputs(question)
        self.check_button = w.Button(description="Check", button_style="primary",
                                     tooltip="Grade this answer and record it in your progress")
        self.retry_button = w.Button(description="Retry", disabled=True, tooltip="Change the answer and check again")
        self.feedback = w.HTML("")
        self.check_button.on_click(lambda _button: self.submit())
        self.retry_button.on_click(lambda _button: self.reset())
        super().__init__([self.prompt, *self.inputs, w.HBox([self.check_button, self.retry_button]), self.feedback])
        self.add_class("nexus-lab-question")
        self.add_class(f"nexus-lab-q-{question.id}")

    def _how(self) -> str:
        return {"single": "pick one", "multiple": "pick all that apply", "order": "put in order"}[self.question.kind]

    @property
    def correct(self) -> bool | None:
        """True/False once checked, None before (and again after Retry)."""
        return None if self.result is None else self.result.correct

    def chosen(self) -> list[int]:
        """The answer as shown: choice indexes (for order questions, in position order)."""
        if self.question.kind == "single":
            value = self.inputs[0].value
            return [] if value is None else [value]
        if self.question.kind == "multiple":
            return [i for i, box in enumerate(self.inputs) if box.value]
        return [d.value for d in self.inputs if d.value is not None]

    def select(self, indexes: list[int]) -> None:
        """Set an answer programmatically, as if the learner had clicked the choices."""
        if self.question.kind == "single":
            self.inputs[0].value = indexes[0] if indexes else None
        elif self.question.kind == "multiple":
            for i, box in enumerate(self.inputs):
                box.value = i in indexes
        else:
            for position, dropdown in enumerate(self.inputs):
                dropdown.value = indexes[position] if position < len(indexes) else None

    def submit(self) -> None:
        """Grade and record the current answer, or say why it cannot be graded yet (nothing recorded)."""
        chosen = self.chosen()
        problem = self.question.problem_with(chosen)
        if problem:
            self.notice = problem
            self.feedback.value = f'<div class="nexus-lab-feedback" role="status"><i>{html.escape(problem)}</i></div>'
            return
        self.notice = ""
        self.result = self.quiz.answer(self.question.id, chosen)
        colour = RIGHT_COLOUR if self.result.correct else WRONG_COLOUR
        verdict = "right" if self.result.correct else "wrong"
        self.feedback.value = (f'<div class="nexus-lab-feedback nexus-lab-{verdict}" role="status" '
                               f'aria-live="polite" style="color:{colour}">{html_paragraphs(self.result.text)}</div>')
        self._lock(True)
        if self._on_answer:
            self._on_answer(self)

    def reset(self) -> None:
        """Retry: clear the feedback and unlock the choices (the recorded attempt stays recorded)."""
        self.result = None
        self.notice = ""
        self.feedback.value = ""
        self._lock(False)

    def _lock(self, locked: bool) -> None:
        """While feedback is shown the choices are frozen, so the feedback always matches them."""
        for control in self.inputs:
            control.disabled = locked
        self.check_button.disabled = locked
        self.retry_button.disabled = not locked

    def text(self) -> str:
        lines = [f"{self.number}. {self.question.text()}"]
        if self.result is not None:
            picked = ", ".join(self.question.choices[i] for i in self.chosen())
            lines.append(f"Your answer: {picked}")
            lines.append(self.result.text)
        elif self.notice:
            lines.append(self.notice)
        return "\n".join(lines)


class QuizWidget(TextFallback, w.VBox):
    """A chapter's quiz: one :class:`QuestionWidget` per question and the recorded score."""

    def __init__(self, quiz: Quiz):
        self.quiz = quiz
        self.questions = [QuestionWidget(quiz, q, n, on_answer=self._update_score)
                          for n, q in enumerate(quiz.questions, 1)]
        self.score = w.HTML(self._score_html())
        super().__init__([w.HTML(f"<h4>Quiz: {html.escape(quiz.title)}</h4>"), *self.questions, self.score])
        self.add_class("nexus-lab-quiz")

    def question(self, question_id: str) -> QuestionWidget:
        for widget in self.questions:
            if widget.question.id == question_id:
                return widget
        raise KeyError(f"Quiz {self.quiz.id} has no question {question_id!r}.")

    def _score_html(self) -> str:
        return f'<div class="nexus-lab-score" role="status">{html.escape(self.quiz.score_text())}</div>'

    def _update_score(self, _question: QuestionWidget) -> None:
        self.score.value = self._score_html()

    def text(self) -> str:
        return self.quiz.text()


def quiz_widget(quiz: Quiz) -> QuizWidget:
    return QuizWidget(quiz)
