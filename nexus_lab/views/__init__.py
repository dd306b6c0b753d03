"""What a learner sees: one display protocol (:mod:`~nexus_lab.views.display`: a full text form for
nbval, terminals and screen readers behind every widget, one palette) and the widgets on it — quizzes,
exercise cards, the operation lifecycle walkthrough and timelines. Each widget only shows what a
plain-Python object already decided, so tests drive them with ``.click()``."""
