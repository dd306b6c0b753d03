"""The quiz widget driven as a learner would: pick choices, click Check and Retry, read feedback.

No server needed: grading and progress are plain Python.
"""

from __future__ import annotations

import json

import pytest

from nexus_lab.course import progress
from nexus_lab.course.quiz import QuizFormatError, load_quiz
from nexus_lab.views.quiz_widget import QuizWidget

pytestmark = pytest.mark.no_server  # the fast tier: see tests/conftest.py


def recorded(progress_file, question_id):
    return json.loads(progress_file.read_text())["quizzes"]["widget-test"][question_id]


def test_wrong_then_right_answer_changes_feedback_and_progress(quiz, progress_file):
    widget = QuizWidget(quiz)
    question = widget.question("sync-history")

    question.select([2])
    question.check_button.click()
    assert question.correct is False
    assert "Not quite." in question.feedback.value
    assert "NexusOperationCompleted: wrong. It is there: the result comes back" in question.feedback.value
    assert "nexus-lab-wrong" in question.feedback.value
    entry = recorded(progress_file, "sync-history")
    assert (entry["attempts"], entry["correct"]) == (1, False)
    assert question.inputs[0].disabled and question.check_button.disabled and not question.retry_button.disabled

    question.retry_button.click()
    assert question.feedback.value == "" and question.correct is None
    assert not question.inputs[0].disabled and question.retry_button.disabled

    question.select([1])
    question.check_button.click()
    assert question.correct is True
    assert "Right!" in question.feedback.value and "nexus-lab-right" in question.feedback.value
    assert "answers in the start request itself" in question.feedback.value
    entry = recorded(progress_file, "sync-history")
    assert (entry["attempts"], entry["correct"]) == (2, True)
    assert progress.quiz_score("widget-test") == (1, 1)
    assert "1 of 3 questions answered right" in widget.score.value


def test_multiple_choice_says_how_many_right_choices_are_missing(quiz, progress_file):
    question = QuizWidget(quiz).question("async-parts")
    question.select([0])
    question.check_button.click()
    assert question.correct is False
    assert "An operation token: right." in question.feedback.value
    assert "1 right choice(s) not picked yet." in question.feedback.value

    question.retry_button.click()
    question.select([0, 1])
    question.check_button.click()
    assert question.correct is True
    assert recorded(progress_file, "async-parts")["attempts"] == 2


def test_order_question_marks_each_position_and_explains_misplaced_items(quiz, progress_file):
    question = QuizWidget(quiz).question("async-order")
    question.select([1, 0, 2])  # Scheduled, Completed, Started
    question.check_button.click()
    text = question.feedback.value
    assert question.correct is False
    assert "Not quite: 1 of 3 in the right place." in text
    assert "1. NexusOperationScheduled: right." in text
    assert "2. NexusOperationCompleted: wrong place. It comes last" in text
    assert "Scheduled by the caller" not in text  # the full answer is not given away on a wrong try

    question.retry_button.click()
    question.select([1, 2, 0])
    question.check_button.click()
    assert question.correct is True
    assert "Scheduled by the caller, Started when the handler returns a token" in question.feedback.value


def test_incomplete_answers_are_explained_and_never_recorded(quiz, progress_file):
    widget = QuizWidget(quiz)
    single, order = widget.question("sync-history"), widget.question("async-order")
    single.check_button.click()
    assert "Choose an answer first." in single.feedback.value
    order.select([1, 2])  # third position left empty
    order.check_button.click()
    assert "Put all 3 items in order" in order.feedback.value
    order.select([1, 1, 0])
    order.check_button.click()
    assert "Each choice can be picked only once." in order.feedback.value
    assert not progress_file.exists()
    assert single.correct is None and not single.check_button.disabled
    with pytest.raises(ValueError, match="Choose an answer first"):
        quiz.answer("sync-history", [])


def test_text_fallback_is_the_whole_quiz_not_a_cut_repr(quiz):
    widget = QuizWidget(quiz)
    data = widget._repr_mimebundle_()
    data = data[0] if isinstance(data, tuple) else data
    assert data["text/plain"] == quiz.text() == repr(widget)
    assert len(data["text/plain"]) > 110  # ipywidgets alone would cut it at 110 characters
    for question in quiz.questions:
        assert question.prompt in data["text/plain"]
        assert all(choice in data["text/plain"] for choice in question.choices)
    assert "application/vnd.jupyter.widget-view+json" in data


def test_question_text_fallback_includes_answer_and_feedback(quiz, progress_file):
    question = QuizWidget(quiz).question("sync-history")
    question.select([1])
    question.check_button.click()
    text = question.text()
    assert "Your answer: NexusOperationStarted" in text
    assert "Right!" in text


def test_quiz_displays_as_its_widget(quiz):
    assert isinstance(quiz.widget(), QuizWidget)


def test_order_explanations_must_match_the_choices(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[question]]\nid = "o"\nkind = "order"\nprompt = "p"\nchoices = ["a", "b"]\n'
                   'answer = [1, 0]\nexplanations = ["only one"]\n')
    with pytest.raises(QuizFormatError, match="one explanation per choice"):
        load_quiz(bad)
