"""A chapter's exercises inside its notebook: what to do, where, and a Check button.

``nexus_lab.course.exercises("ch07")`` shows one card per exercise of the chapter, read from the learner's
own file (so the card always matches what they are editing): the goal (the file's docstring), each
``# TODO`` with its line number, the status from the progress file, and the last check's message.
In JupyterLab the cards are widgets whose **Check** button runs the same check as
``nexus-lab check ID`` and whose **Hint** button reveals one more hint; everywhere else (nbval, a
terminal, a screen reader) the text form states the same facts and the commands to run.
"""

from __future__ import annotations

import ast
import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nexus_lab.course import progress
from nexus_lab.course.manifest import Exercise
from nexus_lab.views import palette

TODO_LINE = re.compile(r"^\s*# TODO: (?P<text>.*)$")
CONTINUATION = re.compile(r"^\s*#\s+(?P<text>\S.*)$")
STATUS_TEXT = {"passed": "passed", "failed": "not yet: last check failed", "pending": "not checked yet"}


@dataclass(frozen=True)
class Todo:
    line: int
    text: str


@dataclass
class ExerciseCard:
    """One exercise as the learner's file and progress describe it right now."""

    exercise: Exercise
    path: Path
    goal: str
    todos: list[Todo]
    status: str
    last_message: str = ""
    problem: str = ""  # the file is missing or does not parse: said instead of hiding the card
    notebook_dir: Path | None = field(default=None, repr=False)

    @property
    def title(self) -> str:
        return f"{self.exercise.id} · {self.exercise.title}"

    def text(self) -> str:
        lines = [f"{self.title} — {STATUS_TEXT.get(self.status, self.status)}",
                 f"  File: {self.exercise.file}"]
        if self.problem:
            lines.append(f"  ! {self.problem}")
        if self.goal:
            lines.append("  Goal: " + self.goal.replace("\n", "\n        "))
        lines += [f"  TODO at line {todo.line}: {todo.text}" for todo in self.todos]
        if self.status == "failed" and self.last_message:
            lines.append("  Last check: " + self.last_message.splitlines()[0])
        eid = self.exercise.id
        lines.append(f'  Check it: nexus_lab.check("{eid}")  ·  a hint: nexus_lab.hint("{eid}")'
                     f"  ·  in a terminal: nexus-lab check {eid}")
        return "\n".join(lines)

    def link(self) -> str:
        """A link JupyterLab opens in its editor: relative to the notebook's folder when known (JupyterLab
        resolves relative links of rendered HTML outputs against the notebook and opens the file)."""
        if self.notebook_dir is not None:
            try:
                return Path(_relative(self.path, self.notebook_dir)).as_posix()
            except ValueError:
                pass
        return self.path.as_posix()

    def html(self) -> str:
        colour = {"passed": palette.OK, "failed": palette.BAD}.get(self.status, palette.MUTED)
        todos = "".join(f"<li><code>line {t.line}</code> {html.escape(t.text)}</li>" for t in self.todos)
        problem = f'<p style="color:{palette.BAD}">{html.escape(self.problem)}</p>' if self.problem else ""
        goal = _docstring_html(self.goal)
        return (f'<div class="nexus-lab-exercise" style="border:1px solid {palette.RULE};border-radius:6px;'
                f'padding:8px 12px;margin:6px 0"><b>{html.escape(self.title)}</b> '
                f'<span style="color:{colour}">— {html.escape(STATUS_TEXT.get(self.status, self.status))}</span><br>'
                f'<a href="{html.escape(self.link())}" title="open in the editor">'
                f'<code>{html.escape(self.exercise.file)}</code></a>'
                f"{problem}{goal}" + (f"<b>To do in your file</b><ul>{todos}</ul>" if todos else "") + "</div>")

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.html()


def _inline(text: str) -> str:
    """``code`` and *emphasis* of a docstring as HTML (everything else escaped)."""
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"``(.+?)``", r"<code>\1</code>", escaped)
    return re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", escaped)


BULLET = re.compile(r"^([*-]|\d+\.) ")


def _docstring_html(text: str) -> str:
    """Paragraphs and bullet (``*``, ``-``) or numbered lists of an exercise docstring, as HTML."""
    parts = []
    for paragraph in text.split("\n\n"):
        lines = [line.strip() for line in paragraph.strip().splitlines()]
        if not lines:
            continue
        if not BULLET.match(lines[0]):
            parts.append(f"<p>{_inline(' '.join(lines))}</p>")
            continue
        items: list[list[str]] = []
        for line in lines:
            if BULLET.match(line):
                items.append([BULLET.sub("", line)])
            else:
                items[-1].append(line)
        tag = "ol" if lines[0][0].isdigit() else "ul"
        parts.append(f"<{tag}>" + "".join(f"<li>{_inline(' '.join(item))}</li>" for item in items) + f"</{tag}>")
    return "".join(parts)


def _relative(path: Path, start: Path) -> str:
    return os.path.relpath(path.resolve(), start.resolve())


def read_card(exercise: Exercise, root: Path, notebook_dir: Path | None = None) -> ExerciseCard:
    """The card of ``exercise`` from the learner's file under ``root`` and the progress file."""
    path = exercise.path(root)
    data = progress.load()
    entry = data.get("exercises", {}).get(exercise.id, {})
    status = progress.exercise_status(exercise.id, data)
    card = ExerciseCard(exercise, path, "", [], status, entry.get("message", ""), notebook_dir=notebook_dir)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError:
        card.problem = f"{exercise.file} is missing: `nexus-lab reset {exercise.id}` restores it."
        return card
    card.todos = _todos(source)
    try:
        card.goal = _goal(ast.get_docstring(ast.parse(source)) or "")
    except SyntaxError as err:
        card.problem = f"{exercise.file} does not parse: line {err.lineno}: {err.msg}."
    return card


def _goal(docstring: str) -> str:
    """The docstring without its first line (which repeats the exercise ID and title)."""
    paragraphs = docstring.strip().split("\n\n")
    return "\n\n".join(paragraphs[1:]).strip() if len(paragraphs) > 1 else ""


def _todos(source: str) -> list[Todo]:
    todos: list[Todo] = []
    lines = source.splitlines()
    for number, line in enumerate(lines, 1):
        match = TODO_LINE.match(line)
        if not match:
            continue
        text = [match["text"].strip()]
        for follow in lines[number:]:
            more = CONTINUATION.match(follow)
            if not more or TODO_LINE.match(follow):
                break
            text.append(more["text"].strip())
        todos.append(Todo(number, " ".join(text)))
    return todos


class ExerciseCards(list):
    """A chapter's cards; displays as widgets in JupyterLab, as text elsewhere."""

    def text(self) -> str:
        if not self:
            return "This chapter has no exercise of its own: `nexus-lab list` shows them all."
        return "\n\n".join(card.text() for card in self)

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return "".join(card.html() for card in self)

    def widget(self) -> Any:
        from nexus_lab.views.cards_widget import ExerciseCardsWidget

        return ExerciseCardsWidget(self)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget())


def chapter_cards(chapter_id: str, notebook_dir: Path | None = None) -> ExerciseCards:
    from nexus_lab.course.exercises import manifest

    m = manifest()
    if chapter_id not in {c.id for c in m.chapters}:
        raise LookupError(f"No chapter {chapter_id!r}; chapters: {', '.join(c.id for c in m.chapters)}.")
    folder = notebook_dir if notebook_dir is not None else Path.cwd()
    return ExerciseCards(read_card(e, m.root, folder) for e in m.exercises if e.chapter == chapter_id)
