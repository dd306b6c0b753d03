"""The learner's progress: which exercises pass and which quiz questions were answered right.

One small JSON file in the course folder (``.nexus-lab/progress.json``, or ``$NEXUS_LAB_PROGRESS``).
Every write goes to a temporary file first and then replaces the old one, so a crash or a closed
laptop never leaves half a file. A file that cannot be read is moved aside with a warning and
progress starts afresh, rather than the checker refusing to run.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

from nexus_lab.config import course_root

SCHEMA_VERSION = 1


class ProgressWarning(UserWarning):
    """The progress file was unreadable and has been set aside."""


def progress_path() -> Path:
    env = os.environ.get("NEXUS_LAB_PROGRESS")
    return Path(env) if env else course_root() / ".nexus-lab" / "progress.json"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _empty() -> dict[str, Any]:
    return {"version": SCHEMA_VERSION, "exercises": {}, "quizzes": {}}


def load(path: Path | None = None) -> dict[str, Any]:
    path = path or progress_path()
    if not path.exists():
        return _empty()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("exercises"), dict) \
                or not isinstance(data.get("quizzes"), dict):
            raise ValueError("unexpected structure")
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


def save(data: dict[str, Any], path: Path | None = None) -> None:
    atomic_write_text(path or progress_path(), json.dumps(data, indent=2, sort_keys=True))


def record_exercise(exercise_id: str, passed: bool, message: str = "", path: Path | None = None) -> None:
    data = load(path)
    entry = data["exercises"].setdefault(exercise_id, {"attempts": 0})
    entry.update(status="passed" if passed else "failed", message=message[:500], updated=time.time())
    entry["attempts"] = entry.get("attempts", 0) + 1
    if passed:
        entry.setdefault("first_passed", time.time())
    save(data, path)


def record_quiz_answer(quiz_id: str, question_id: str, correct: bool, path: Path | None = None) -> None:
    data = load(path)
    entry = data["quizzes"].setdefault(quiz_id, {}).setdefault(question_id, {"attempts": 0, "correct": False})
    entry["attempts"] += 1
    entry["correct"] = entry["correct"] or correct
    entry["updated"] = time.time()
    save(data, path)


def exercise_status(exercise_id: str, data: dict[str, Any] | None = None) -> str:
    """``passed``, ``failed`` or ``pending``."""
    data = data if data is not None else load()
    return data["exercises"].get(exercise_id, {}).get("status", "pending")


def quiz_score(quiz_id: str, data: dict[str, Any] | None = None) -> tuple[int, int]:
    """(questions answered right, questions answered) for one quiz."""
    data = data if data is not None else load()
    answers = data["quizzes"].get(quiz_id, {})
    return sum(1 for a in answers.values() if a.get("correct")), len(answers)
