"""The course manifest, ``course.toml``: chapters and exercises, in order, with hints and checks.

It is the one list the CLI, the notebooks and the tests read (as rustlings' ``info.toml``), so a
chapter or exercise is added in one place.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from nexus_lab.config import course_root
from nexus_lab.errors import NexusLabError


class ManifestError(NexusLabError, ValueError):
    """``course.toml`` is malformed (the message names the entry)."""


class UnknownIdError(NexusLabError, KeyError):
    """An exercise or chapter ID the manifest does not have (a typo on the command line)."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


def _unknown(kind: str, wanted: str, known: list[str]) -> UnknownIdError:
    close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else f" Known {kind}s: {', '.join(known)}"
    return UnknownIdError(f"No {kind} {wanted!r}.{hint}")


@dataclass(frozen=True)
class Chapter:
    id: str
    title: str
    notebook: str
    quiz: str = ""


@dataclass(frozen=True)
class Exercise:
    id: str
    chapter: str
    title: str
    file: str              # the learner's file, relative to the course root
    solution: str          # the reference solution
    check: str             # "module:function" that checks a loaded exercise module
    hints: tuple[str, ...] = ()
    timeout: float = 30.0  # seconds for the whole check, learner code included
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    def path(self, root: Path | None = None) -> Path:
        return (root or course_root()) / self.file

    def solution_path(self, root: Path | None = None) -> Path:
        from nexus_lab.course.workspace import course_file  # a learner workspace has no solutions/

        return course_file(root or course_root(), self.solution)


@dataclass(frozen=True)
class Manifest:
    root: Path
    chapters: tuple[Chapter, ...]
    exercises: tuple[Exercise, ...]

    def exercise(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        raise _unknown("exercise", exercise_id, [e.id for e in self.exercises])

    def chapter(self, chapter_id: str) -> Chapter:
        for chapter in self.chapters:
            if chapter.id == chapter_id:
                return chapter
        raise _unknown("chapter", chapter_id, [c.id for c in self.chapters])

    def exercises_of(self, chapter_id: str) -> list[Exercise]:
        return [e for e in self.exercises if e.chapter == chapter_id]


_EXERCISE_FIELDS = {"id", "chapter", "title", "file", "solution", "check", "hints", "timeout"}
_EXTRA_FIELDS = {"language", "needs"}  # optional, read by the features that use them


ID_PATTERN = re.compile(r"^(ch\d\d)-([a-z0-9]+(?:-[a-z0-9]+)*)$")


def _chapter(raw: dict, index: int) -> Chapter:
    where = f"course.toml [[chapter]] #{index + 1} ({raw.get('id', '?')})"
    missing = {"id", "title", "notebook"} - raw.keys()
    if missing:
        raise ManifestError(f"{where}: missing {', '.join(sorted(missing))}")
    unknown = raw.keys() - {"id", "title", "notebook", "quiz"}
    if unknown:
        raise ManifestError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return Chapter(id=raw["id"], title=raw["title"], notebook=raw["notebook"], quiz=raw.get("quiz", raw["id"]))


def derived_fields(exercise_id: str) -> dict[str, str]:
    """What follows from an exercise id such as ``ch03-quick-score``: its chapter ``ch03``, the
    learner's file ``exercises/ch03_quick_score.py``, the solution of the same name in
    ``solutions/``, and the check ``check_quick_score`` in ``nexus_lab/checker/checks/ch03.py``."""
    match = ID_PATTERN.match(exercise_id)
    if not match:
        raise ManifestError(f"course.toml: exercise id {exercise_id!r} must look like 'ch03-quick-score'")
    chapter, name = match.groups()
    stem = exercise_id.replace("-", "_")
    return {"chapter": chapter, "file": f"exercises/{stem}.py", "solution": f"solutions/{stem}.py",
            "check": f"nexus_lab.checker.checks.{chapter}:check_{name.replace('-', '_')}"}


def _exercise(raw: dict, index: int, chapters: set[str]) -> Exercise:
    where = f"course.toml [[exercise]] #{index + 1} ({raw.get('id', '?')})"
    missing = {"id", "title"} - raw.keys()
    if missing:
        raise ManifestError(f"{where}: missing {', '.join(sorted(missing))}")
    unknown = set(raw) - _EXERCISE_FIELDS - _EXTRA_FIELDS
    if unknown:
        raise ManifestError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    fields = {**derived_fields(raw["id"]), **raw}
    if fields["chapter"] not in chapters:
        raise ManifestError(f"{where}: unknown chapter {fields['chapter']!r}")
    try:
        timeout = float(fields.get("timeout", 30.0))
    except (TypeError, ValueError):
        raise ManifestError(f"{where}: timeout must be a number of seconds") from None
    return Exercise(
        id=fields["id"], chapter=fields["chapter"], title=fields["title"], file=fields["file"],
        solution=fields["solution"], check=fields["check"], hints=tuple(fields.get("hints", ())), timeout=timeout,
        extra={k: v for k, v in raw.items() if k not in _EXERCISE_FIELDS},
    )


def load_manifest(root: Path | None = None) -> Manifest:
    root = root or course_root()
    path = root / "course.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise ManifestError(f"No course here ({root} has no course.toml): run `nexus-lab init` to lay out "
                            "a workspace, then run this from it.") from None
    except tomllib.TOMLDecodeError as err:
        raise ManifestError(f"{path}: {err}") from None
    chapters = tuple(_chapter(raw, i) for i, raw in enumerate(data.get("chapter", [])))
    ids = {c.id for c in chapters}
    exercises = tuple(_exercise(raw, i, ids) for i, raw in enumerate(data.get("exercise", [])))
    seen: set[str] = set()
    for exercise in exercises:
        if exercise.id in seen:
            raise ManifestError(f"course.toml: exercise id {exercise.id!r} appears twice")
        seen.add(exercise.id)
    return Manifest(root=root, chapters=chapters, exercises=exercises)


@lru_cache(maxsize=4)
def cached_manifest(root: Path) -> Manifest:
    return load_manifest(root)
