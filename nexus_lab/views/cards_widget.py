"""The exercise cards as ipywidgets: a Check and a Hint button per exercise (see :mod:`nexus_lab.views.cards`)."""

from __future__ import annotations

import html

import ipywidgets as w

from nexus_lab.views import palette
from nexus_lab.views.cards import ExerciseCard, ExerciseCards, read_card
from nexus_lab.views.display import TextFallback, html_paragraphs


class ExerciseCardWidget(TextFallback, w.VBox):
    """One exercise: its card, **Check** (the real check, result inline) and **Hint** (one more each time)."""

    def __init__(self, card: ExerciseCard):
        self.card = card
        # An Output widget, not w.HTML: its HTML goes through JupyterLab's renderer, which makes the
        # relative exercise link open the file in the editor (links inside w.HTML would navigate away).
        self.view = w.Output()
        self._show_card()
        self.check_button = w.Button(description="Check", icon="check", tooltip=f"nexus-lab check {card.exercise.id}")
        self.hint_button = w.Button(description="Hint", icon="lightbulb-o")
        self.feedback = w.HTML()
        self.feedback.add_class("nexus-lab-exercise-feedback")
        self.check_button.on_click(lambda _: self.check())
        self.hint_button.on_click(lambda _: self.hint())
        super().__init__([self.view, w.HBox([self.check_button, self.hint_button]), self.feedback])
        self.add_class("nexus-lab-exercise-card")

    def check(self) -> None:
        """Run the exercise's check on the learner's file and show the result; the card's status follows."""
        from nexus_lab.course.exercises import check, manifest

        self.check_button.disabled = True
        self.feedback.value = "<i>Checking…</i>"
        try:
            result = check(self.card.exercise.id)
        except Exception as err:  # a server that cannot start, say: shown, not raised into a callback
            message = html.escape(f"{type(err).__name__}: {err}")
            self.feedback.value = f'<span style="color:{palette.BAD}">{message}</span>'
            return
        finally:
            self.check_button.disabled = False
        self.card = read_card(self.card.exercise, manifest().root, self.card.notebook_dir)
        self._show_card()
        self.feedback.value = result._repr_html_()
        self.last_result = result

    def _show_card(self) -> None:
        self.view.outputs = ({"output_type": "display_data", "metadata": {},
                              "data": {"text/html": self.card.html(), "text/plain": self.card.text()}},)

    def hint(self) -> None:
        from nexus_lab.course.exercises import next_hint

        number, total, text = next_hint(self.card.exercise.id)
        self.feedback.value = f"<b>Hint {number}/{total}</b><br>{html_paragraphs(text, code=True)}"

    def text(self) -> str:
        return self.card.text()


class ExerciseCardsWidget(TextFallback, w.VBox):
    def __init__(self, cards: ExerciseCards):
        self.cards = [ExerciseCardWidget(card) for card in cards]
        empty = [w.HTML(html.escape(cards.text()))] if not cards else []
        super().__init__(empty + self.cards)
        self._empty_text = cards.text()

    def text(self) -> str:
        return "\n\n".join(card.text() for card in self.cards) if self.cards else self._empty_text

    def fallback_html(self) -> str:
        return "".join(card.card.html() for card in self.cards) or f"<p>{html.escape(self._empty_text)}</p>"
