"""Learner data is never half-written and never lost: atomic writes, recovery from a corrupted file."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest

from nexus_lab.course import progress


@pytest.fixture
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("NEXUS_LAB_PROGRESS", str(path))
    return path


def test_records_round_trip(progress_file):
    progress.record_exercise("ch03-sync", passed=False, message="expected 12, got 0")
    progress.record_exercise("ch03-sync", passed=True)
    progress.record_quiz_answer("ch03", "deadline", correct=False)
    progress.record_quiz_answer("ch03", "deadline", correct=True)
    data = json.loads(progress_file.read_text())
    assert data["exercises"]["ch03-sync"]["status"] == "passed" and data["exercises"]["ch03-sync"]["attempts"] == 2
    assert progress.quiz_score("ch03") == (1, 1)
    assert progress.exercise_status("ch03-sync") == "passed" and progress.exercise_status("other") == "pending"


@pytest.mark.parametrize("garbage", ["{not json", "[1, 2]", '{"exercises": 3}', ""])
def test_corrupted_file_is_set_aside_with_a_warning(progress_file, garbage):
    progress_file.write_text(garbage)
    with pytest.warns(progress.ProgressWarning, match="could not be read"):
        data = progress.load()
    assert data == {"version": progress.SCHEMA_VERSION, "exercises": {}, "quizzes": {}}
    kept = [p for p in progress_file.parent.iterdir() if ".corrupt-" in p.name]
    assert len(kept) == 1 and kept[0].read_text() == garbage  # the learner's bytes are kept
    progress.record_exercise("x", passed=True)
    assert progress.exercise_status("x") == "passed"


def _hammer(path: str, worker: int) -> None:
    os.environ["NEXUS_LAB_PROGRESS"] = path
    for i in range(30):
        progress.save({"version": 1, "exercises": {f"w{worker}": {"status": "passed", "n": i}}, "quizzes": {}})


def test_concurrent_writers_never_leave_a_torn_file(progress_file):
    procs = [multiprocessing.Process(target=_hammer, args=(str(progress_file), n)) for n in range(4)]
    for p in procs:
        p.start()
    seen_valid = 0
    while any(p.is_alive() for p in procs):
        if progress_file.exists():
            json.loads(progress_file.read_text())  # raises on a torn file
            seen_valid += 1
    for p in procs:
        p.join()
    assert json.loads(progress_file.read_text())["exercises"]
    assert not [p for p in progress_file.parent.iterdir() if p.name.endswith(".tmp")]
