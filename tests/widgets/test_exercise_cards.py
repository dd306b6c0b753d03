"""Exercise cards in the chapter notebooks: read from the learner's file, Check and Hint work inline."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

import nexus_lab
from nexus_lab.course.exercises import manifest
from nexus_lab.views.cards import chapter_cards, read_card
from nexus_lab.views.cards_widget import ExerciseCardsWidget
from nexus_lab.views.display import html_paragraphs

pytestmark = pytest.mark.no_server  # the fast tier: see tests/conftest.py

ROOT = Path(__file__).resolve().parents[2]


def test_cards_follow_the_learners_file(progress_file):
    cards = chapter_cards("ch07", notebook_dir=ROOT / "notebooks")
    assert [c.exercise.id for c in cards] == ["ch07-cancel-type", "ch07-cleanup"]
    for card in cards:
        lines = card.path.read_text().splitlines()
        todo_lines = [n for n, line in enumerate(lines, 1) if "# TODO:" in line]
        assert [t.line for t in card.todos] == todo_lines and todo_lines
        assert card.status == "pending" and "not checked yet" in card.text()
        assert card.goal and card.goal.splitlines()[0] in card.text()
        assert f'nexus_lab.check("{card.exercise.id}")' in card.text()
        assert card.link() == f"../{card.exercise.file}"  # relative to the notebook: JupyterLab opens it
    assert "Pick the cancellation type (workflow.NexusOperationCancellationType" in cards[0].text()


def test_a_broken_or_missing_file_is_said_not_hidden(tmp_path, progress_file):
    exercise = manifest().exercise("ch03-quick-score")
    (tmp_path / "exercises").mkdir()
    missing = read_card(exercise, tmp_path)
    assert f"nexus-lab reset {exercise.id}" in missing.problem
    (tmp_path / exercise.file).write_text('"""Exercise."""\n\ndef broken(:\n    pass\n')
    broken = read_card(exercise, tmp_path)
    assert "does not parse: line 3" in broken.problem and broken.problem in broken.text()


def test_chapters_without_exercises_and_unknown_chapters():
    assert "no exercise of its own" in chapter_cards("ch00").text()
    with pytest.raises(LookupError, match="No chapter 'ch99'"):
        chapter_cards("ch99")


def test_hint_button_reveals_one_more_each_time(progress_file):
    widget = ExerciseCardsWidget(chapter_cards("ch05"))
    card = widget.cards[0]
    hints = card.card.exercise.hints
    card.hint_button.click()
    shown = html_paragraphs(hints[0], code=True)
    assert "Hint 1/3" in card.feedback.value and shown in card.feedback.value
    assert "`" not in card.feedback.value and ("<code>" in shown) == ("`" in hints[0])  # `code` as code
    card.hint_button.click()
    assert "Hint 2/3" in card.feedback.value
    assert json.loads(progress_file.read_text())["hints"][card.card.exercise.id] == 2
    assert nexus_lab.hint(card.card.exercise.id).startswith("Hint 3/3: ")


async def test_check_button_runs_the_real_check_and_updates_the_card(lab, progress_file):
    widget = ExerciseCardsWidget(chapter_cards("ch03"))
    card = widget.cards[0]
    assert card.card.exercise.id == "ch03-quick-score" and "not checked yet" in card.text()
    card.check_button.click()  # the untouched exercise: the check runs and fails, inline
    assert card.last_result.status == "fail"
    assert card.last_result.message.splitlines()[0][:40] in card.feedback.value.replace("&#x27;", "'")
    assert card.card.status == "failed" and "last check failed" in card.view.outputs[0]["data"]["text/html"]
    assert "Last check: " + card.last_result.message.splitlines()[0] in card.text()
    assert json.loads(progress_file.read_text())["exercises"]["ch03-quick-score"]["status"] == "failed"
    assert not card.check_button.disabled


def test_text_fallback_is_the_cards_text(progress_file):
    cards = chapter_cards("ch09")
    widget = ExerciseCardsWidget(cards)
    data = widget._repr_mimebundle_()
    text = (data[0] if isinstance(data, tuple) else data)["text/plain"]
    assert text == cards.text() and "ch09-capstone · Capstone" in text
    passed = replace(cards[0], status="passed")
    assert "— passed" in passed.text() and "#188038" in passed.html()


def test_the_exercise_path_is_a_relative_link_from_the_notebook(progress_file):
    """JupyterLab opens relative links of rendered HTML in its editor; the card widget renders its HTML
    through an Output widget (JupyterLab's renderer), not w.HTML (where the link would navigate away)."""
    card = chapter_cards("ch03", notebook_dir=ROOT / "notebooks")[0]
    assert f'href="../{card.exercise.file}"' in card.html() and "target=" not in card.html()
    view = ExerciseCardsWidget(chapter_cards("ch03", notebook_dir=ROOT / "notebooks")).cards[0].view
    assert [o["data"]["text/html"] for o in view.outputs] == [card.html()]


def test_a_widget_brings_its_stand_in_for_a_lost_kernel(progress_file, monkeypatch):
    """Displayed, a widget is followed by a stand-in that CSS hides while the widget lives; it says how
    to bring the controls back (JupyterLab alone would show "Error displaying widget: model not found")."""
    from nexus_lab.views import display as display_module

    shown: list[tuple[dict, bool]] = []
    monkeypatch.setattr("IPython.display.display", lambda data, **kw: shown.append((data, kw.get("raw", False))))
    widget = ExerciseCardsWidget(chapter_cards("ch03", notebook_dir=ROOT / "notebooks"))
    widget._ipython_display_()
    assert len(shown) == 2 and all(raw for _, raw in shown)
    live, stand_in = shown[0][0], shown[1][0]["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in live and live["text/plain"] == widget.text()
    assert display_module.LIVE_WIDGET_CLASS in widget._dom_classes
    assert f":has(.{display_module.LIVE_WIDGET_CLASS}) + .jp-OutputArea-child .{display_module.FALLBACK_CLASS}" \
        in stand_in
    assert "run this cell again" in stand_in and "ch03-quick-score" in stand_in


def test_status_marks_are_plain_ascii_of_one_width():
    from nexus_lab.views.display import STATUS_MARKS

    assert all(mark.isascii() for mark in STATUS_MARKS.values())
    assert len({len(mark) for mark in STATUS_MARKS.values()}) == 1


def test_web_ui_link_of_a_workflow_in_its_namespace():
    from nexus_lab.views.display import workflow_ui_url

    base = "http://127.0.0.1:8233"
    assert workflow_ui_url(base, "payments", "ch00-payment-1") == f"{base}/namespaces/payments/workflows/ch00-payment-1"
    assert workflow_ui_url(base + "/", "alice-fraud", "a b/c", "run-1") == \
        f"{base}/namespaces/alice-fraud/workflows/a%20b%2Fc/run-1/history"
