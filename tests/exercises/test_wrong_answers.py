"""The course's own wrong answers (``tests/exercises/wrong_answers/<exercise id>.toml``) are all
rejected, each with the message it names.

One test per exercise runs its wrong answers concurrently over the session's server; ``nexus-lab
verify`` runs the same files and prints the kill rate.
"""

from __future__ import annotations

import pytest

from nexus_lab.course.exercises import (
    WRONG_ANSWERS_DIR,
    run_wrong_answers,
    wrong_answers,
)

from .conftest import ROOT

MIN_ANSWERS, MIN_PARTIAL = 8, 3
FILES = sorted((ROOT / WRONG_ANSWERS_DIR).glob("*.toml"))


def test_every_exercise_has_enough_wrong_answers_and_each_applies(manifest):
    ids = {e.id for e in manifest.exercises}
    strays = [f.stem for f in FILES if f.stem not in ids]
    assert not strays, f"wrong-answer files for exercises not in course.toml: {strays}"
    for exercise in manifest.exercises:
        answers = wrong_answers(manifest, [exercise.id])
        assert len(answers) >= MIN_ANSWERS, f"{exercise.id}: {len(answers)} wrong answers, want {MIN_ANSWERS}"
        assert sum(a.partial for a in answers) >= MIN_PARTIAL, f"{exercise.id}: too few partially right answers"
        solution = exercise.solution_path(ROOT).read_text()
        for answer in answers:
            assert answer.expect, f"{exercise.id} / {answer.name}: no expected message fragment"
            assert answer.apply(solution) != solution, f"{exercise.id} / {answer.name}: changes nothing"


@pytest.mark.parametrize("exercise_id", [f.stem for f in FILES])
def test_wrong_answers_are_rejected_with_their_message(manifest, check_server, exercise_id):
    outcomes = run_wrong_answers(wrong_answers(manifest, [exercise_id]), check_server.address, jobs=3, m=manifest)
    survivors = [o.problem() for o in outcomes if not o.killed]
    assert not survivors, "\n".join(survivors)
