"""All of Nexus Lab's ipywidgets front ends in one import.

Each lives in its own module and only shows what a plain-Python object already decided, so tests
drive them with ``.click()`` and every one has a text fallback (:mod:`nexus_lab.widget_text`):

* :mod:`nexus_lab.quiz_widget` — chapter quizzes (grading in :mod:`nexus_lab.quiz`);
* :mod:`nexus_lab.lifecycle_widget` — the operation lifecycle walkthrough (:mod:`nexus_lab.lifecycle`);
* :mod:`nexus_lab.timeline_widget` — caller and handler histories on one time axis (:mod:`nexus_lab.timeline_model`).
"""

from __future__ import annotations

from .lifecycle_widget import LifecycleWidget
from .quiz_widget import QuestionWidget, QuizWidget, quiz_widget
from .timeline_widget import TimelineWidget

__all__ = ["QuestionWidget", "QuizWidget", "quiz_widget", "LifecycleWidget", "TimelineWidget"]
