"""The learner's progress: which exercises pass and which quiz questions were answered right.

One small JSON file in the course folder (``.nexus-lab/progress.json``, or ``$NEXUS_LAB_PROGRESS``).
Every write goes to a temporary file first and then replaces the old one, so a crash or a closed
laptop never leaves half a file; every read-modify-write holds a lock on a sidecar file, so checks
finishing at the same moment (``check --all``, two terminals) never drop each other's records.
A file that cannot be read, or holds the wrong shapes, is moved aside with a warning and progress
starts afresh, rather than the checker refusing to run; a record that cannot be saved (full disk,
read-only file) is a warning too: a passing check stays a pass.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from nexus_lab.config import LabStorageError, course_root, write_atomic, write_private

SCHEMA_VERSION = 1


class ProgressWarning(UserWarning):
    """The progress file was unreadable and has been set aside."""


def progress_path() -> Path:
    env = os.environ.get("NEXUS_LAB_PROGRESS")
    return Path(env) if env else course_root() / ".nexus-lab" / "progress.json"


atomic_write_text = write_atomic  # the name the CLI and the checker use


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``.<name>.lock`` beside ``path`` (released when the process dies).

    Where no lock file can be made (a read-only folder) the update goes ahead unlocked: its write
    fails anyway and says why."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _empty() -> dict[str, Any]:
    return {"version": SCHEMA_VERSION, "exercises": {}, "quizzes": {}}


def load(path: Path | None = None) -> dict[str, Any]:
    path = path or progress_path()
    if not path.exists():
        return _empty()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        _validate(data)
        return data
    except (OSError, ValueError) as err:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        try:
            os.replace(path, aside)
            where = f"it was moved to {aside}"
        except OSError:
            where = "it could not be moved aside"
        warnings.warn(f"The progress file {path} could not be read ({err}); {where} and progress "
                      "starts afresh.", ProgressWarning, stacklevel=2)
        return _empty()


_NUMBER = (int, float)
_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "status": str, "message": str, "attempts": int, "correct": bool, "updated": _NUMBER, "first_passed": _NUMBER}


def _validate(data: object) -> None:
    """Raise ValueError unless ``data`` has the shapes the course reads (known fields typed right)."""
    def entry_ok(entry: object) -> bool:
        return isinstance(entry, dict) and all(
            isinstance(entry[key], kind) for key, kind in _FIELD_TYPES.items() if key in entry)

    if not isinstance(data, dict):
        raise ValueError("unexpected structure")
    exercises, quizzes, hints = data.get("exercises"), data.get("quizzes"), data.get("hints", {})
    if not isinstance(exercises, dict) or not all(entry_ok(e) for e in exercises.values()):
        raise ValueError("unexpected structure of 'exercises'")
    if not isinstance(quizzes, dict) or not all(
            isinstance(q, dict) and all(entry_ok(a) for a in q.values()) for q in quizzes.values()):
        raise ValueError("unexpected structure of 'quizzes'")
    if not isinstance(hints, dict) or not all(isinstance(n, int) for n in hints.values()):
        raise ValueError("unexpected structure of 'hints'")


def save(data: dict[str, Any], path: Path | None = None) -> None:
    write_private(path or progress_path(), json.dumps(data, indent=2, sort_keys=True))


def update(change: Callable[[dict[str, Any]], None], path: Path | None = None) -> bool:
    """Apply ``change`` to the stored progress under the lock; ``False`` (with a warning) when the
    result could not be saved."""
    path = path or progress_path()
    with _locked(path):
        data = load(path)
        change(data)
        try:
            save(data, path)
        except LabStorageError as err:
            warnings.warn(f"{err} Your progress was not saved this time.", ProgressWarning, stacklevel=3)
            return False
    return True


def record_exercise(exercise_id: str, passed: bool, message: str = "", path: Path | None = None) -> bool:
    def change(data: dict[str, Any]) -> None:
        entry = data["exercises"].setdefault(exercise_id, {"attempts": 0})
        entry.update(status="passed" if passed else "failed", message=message[:500], updated=time.time())
        entry["attempts"] = entry.get("attempts", 0) + 1
        if passed:
            entry.setdefault("first_passed", time.time())

    return update(change, path)


def record_quiz_answer(quiz_id: str, question_id: str, correct: bool, path: Path | None = None) -> bool:
    def change(data: dict[str, Any]) -> None:
        entry = data["quizzes"].setdefault(quiz_id, {}).setdefault(question_id, {"attempts": 0, "correct": False})
        entry["attempts"] += 1
        entry["correct"] = entry["correct"] or correct
        entry["updated"] = time.time()

    return update(change, path)


def exercise_status(exercise_id: str, data: dict[str, Any] | None = None) -> str:
    """``passed``, ``failed`` or ``pending``."""
    data = data if data is not None else load()
    return data["exercises"].get(exercise_id, {}).get("status", "pending")


def quiz_score(quiz_id: str, data: dict[str, Any] | None = None) -> tuple[int, int]:
    """(questions answered right, questions answered) for one quiz."""
    data = data if data is not None else load()
    answers = data["quizzes"].get(quiz_id, {})
    return sum(1 for a in answers.values() if a.get("correct")), len(answers)
