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
    outcomes = run_wrong_answers(wrong_answers(manifest, [exercise_id]), check_server.address, jobs=2, m=manifest)  # 2 cores: a third check at once starves the others
    survivors = [o.problem() for o in outcomes if not o.killed]
    assert not survivors, "\n".join(survivors)


# What the learner's code causes is reported as the learner's (status "fail", never "The checker itself
# failed"), at the learner's file and line: each kind has a wrong answer above whose expected words
# prove it (the parametrized test runs them).
LEARNER_SIDE = {
    "a registry call slower than the check's limit":
        ("ch01-route-endpoint", "a registry wait longer than the check allows"),
    "a learner's type that does not decode":
        ("ch02-define-contract", "QuickScore's field renamed: the answer no longer decodes"),
    "a handler returning None": ("ch03-quick-score", "returns None"),
    "an exception in a handler": ("ch03-quick-score", "an exception in the handler"),
    "a signal dropped because its argument did not decode":
        ("ch03-submit-review", "the whole review as the signal's argument"),
    "a raise in the learner's workflow": ("ch04-workflow-run-operation", "a crash in the handler workflow"),
    "a FAIL id-conflict policy": ("ch04-attach-callers", "the FAIL conflict policy"),
    "a task failure in the handler workflow": ("ch07-cleanup", "an activity without a timeout"),
}


@pytest.mark.parametrize("kind", LEARNER_SIDE)
def test_each_learner_caused_failure_has_a_wrong_answer_naming_the_cause(manifest, kind):
    exercise_id, name = LEARNER_SIDE[kind]
    answer = next((a for a in wrong_answers(manifest, [exercise_id]) if a.name == name), None)
    assert answer is not None, f"{kind}: no wrong answer {name!r} in {exercise_id}.toml"
    assert answer.expect, kind
