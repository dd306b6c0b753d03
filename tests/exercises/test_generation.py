"""Practice files are generated from the solutions, and the committed ones are up to date."""

from __future__ import annotations

import pytest

from nexus_lab.course.practice import (
    ExerciseSourceError,
    practice_text,
    stale_practice_files,
)

from .conftest import ROOT

pytestmark = pytest.mark.no_server  # the fast tier: see tests/conftest.py


def test_committed_practice_files_match_their_solutions(manifest):
    stale = stale_practice_files(ROOT, [(e.solution, e.file) for e in manifest.exercises])
    assert stale == [], f"run `nexus-lab generate --write`: {stale}"


def test_manifest_has_the_exercises_issue_3_asks_for(manifest):
    ids = [e.id for e in manifest.exercises]
    assert len(ids) >= 14
    for e in manifest.exercises:
        assert len(e.hints) >= 2, e.id
        assert (ROOT / e.file).is_file() and (ROOT / e.solution).is_file()
        assert "TODO" in (ROOT / e.file).read_text(), f"{e.file} has no TODO"


def test_region_becomes_instruction_plus_starter():
    solution = ("def f():\n"
                "    # --- TODO: return the answer\n"
                "    #   (it is 42)\n"
                "    return 42\n"
                "    # --- STARTER\n"
                "    # return 0\n"
                "    # --- END\n")
    assert practice_text(solution) == "def f():\n    # TODO: return the answer\n    #   (it is 42)\n    return 0\n"


def test_region_without_starter_becomes_ellipsis():
    assert practice_text("x = 1\n# --- TODO: set y\ny = 2\n# --- END\n") == "x = 1\n# TODO: set y\n...\n"


@pytest.mark.parametrize("bad", ["# --- TODO: a\nx = 1\n", "# --- END\n", "# --- TODO: a\n# --- TODO: b\n# --- END\n"])
def test_malformed_regions_are_refused_with_the_line(bad):
    with pytest.raises(ExerciseSourceError, match=r"<solution>:\d"):
        practice_text(bad)


def test_story_copies_match_the_story():
    from nexus_lab.story import stale_copies

    assert stale_copies(ROOT) == [], "run `nexus-lab generate --write`: a copy of the story drifted"


def test_a_drifted_story_copy_is_found(tmp_path):
    from nexus_lab.story import COPIES, learner_copies, stale_copies

    for path, text in learner_copies(tmp_path).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert stale_copies(tmp_path) == []
    copy = tmp_path / next(iter(COPIES))
    copy.write_text(copy.read_text().replace("checkTransaction", "checkTx"))
    assert stale_copies(tmp_path) == [copy]
