"""Learner data is never half-written and never lost: atomic writes, recovery from a corrupted file."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

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


@pytest.mark.parametrize("garbage", [
    "{not json", "[1, 2]", '{"exercises": 3}', "",
    '{"exercises": {"ch01-route-endpoint": 3}, "quizzes": {}}',  # wrong inner types crashed `nexus-lab list`
    '{"exercises": {"x": {"status": 1}}, "quizzes": {}}',
    '{"exercises": {}, "quizzes": {"ch01": [1]}}',
    '{"exercises": {}, "quizzes": {}, "hints": {"x": "two"}}',
])
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


def _record_many(path: str, worker: int, count: int) -> None:
    os.environ["NEXUS_LAB_PROGRESS"] = path
    for i in range(count):
        assert progress.record_exercise(f"w{worker}-{i}", passed=i % 2 == 0)


def test_concurrent_checks_lose_no_record(progress_file):
    """Six checks finishing at the same moment, 25 records each: every record is kept (the
    read-modify-write holds a lock on a sidecar file)."""
    procs = [multiprocessing.Process(target=_record_many, args=(str(progress_file), n, 25)) for n in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    kept = json.loads(progress_file.read_text())["exercises"]
    assert len(kept) == 150 and all(f"w{n}-{i}" in kept for n in range(6) for i in range(25))


def test_progress_is_private(progress_file):
    progress.record_exercise("x", passed=True)
    assert progress_file.stat().st_mode & 0o777 == 0o600


@pytest.fixture
def immutable(tmp_path):
    """``chattr +i`` on a path, undone afterwards (needs root, as CI has)."""
    if os.getuid() != 0 or not shutil.which("chattr"):
        pytest.skip("chattr +i needs root (as in CI)")
    made: list[Path] = []

    def make(path: Path) -> Path:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        made.append(path)
        return path

    yield make
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_a_read_only_progress_file_is_a_warning_and_a_pass_stays_a_pass(progress_file, immutable):
    progress.record_exercise("earlier", passed=True)
    before = progress_file.read_text()
    immutable(progress_file.parent)
    with pytest.warns(progress.ProgressWarning, match="not saved"):
        saved = progress.record_exercise("now", passed=True)
    assert saved is False and progress_file.read_text() == before
    assert not [p for p in progress_file.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_full_disk_keeps_the_old_progress_and_leaves_no_temp_file(tmp_path, monkeypatch):
    if os.getuid() != 0:
        pytest.skip("mounting a tmpfs needs root (as in CI)")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    try:
        path = disk / "progress.json"
        monkeypatch.setenv("NEXUS_LAB_PROGRESS", str(path))
        progress.record_exercise("kept", passed=True)
        subprocess.run(["dd", "if=/dev/zero", f"of={disk / 'filler'}", "bs=64k"], stderr=subprocess.DEVNULL)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for n in range(200):  # until the write of a larger file no longer fits
                if not progress.record_exercise(f"more-{n}", passed=True, message="x" * 400):
                    break
        messages = [str(w.message) for w in caught if issubclass(w.category, progress.ProgressWarning)]
        assert messages and "disk is full" in messages[0] and "\n" not in messages[0]
        assert progress.exercise_status("kept") == "passed"  # the last good file is intact
        assert not [p.name for p in disk.iterdir() if p.name.endswith(".tmp")]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_reset_on_a_read_only_exercises_folder_is_one_line(tmp_path, immutable):
    root = Path(__file__).resolve().parents[2]
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(root / "course.toml", course)
    for folder in ("exercises", "solutions"):
        shutil.copytree(root / folder, course / folder)
    mine = course / "exercises" / "ch01_route_endpoint.py"
    mine.write_text(mine.read_text() + "# my attempt\n")
    immutable(course / "exercises")
    env = dict(os.environ, NEXUS_LAB_COURSE=str(course), NEXUS_LAB_PROGRESS=str(tmp_path / "p.json"))
    done = subprocess.run([sys.executable, "-m", "nexus_lab.cli", "reset", "ch01-route-endpoint"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "Could not write" in done.stderr and "ch01_route_endpoint.py" in done.stderr
    assert mine.read_text().endswith("# my attempt\n")  # the learner's file is untouched
    assert list((course / ".nexus-lab" / "backups").iterdir())  # and its backup was made


def test_cli_warnings_are_one_line(tmp_path):
    """A progress file the CLI must set aside is reported in one line, and the command still works."""
    bad = tmp_path / "progress.json"
    bad.write_text('{"exercises": {"ch01-route-endpoint": 3}, "quizzes": {}}')
    env = dict(os.environ, NEXUS_LAB_PROGRESS=str(bad))
    done = subprocess.run([sys.executable, "-m", "nexus_lab.cli", "list"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "ch01-route-endpoint" in done.stdout
    assert done.stderr.count("\n") == 1 and "could not be read" in done.stderr and "Traceback" not in done.stderr
