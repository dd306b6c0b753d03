"""`nexus-lab dev check` finds what an author broke, and the manifest derives what follows from an id."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from nexus_lab.course.authoring import dev_check, fix
from nexus_lab.course.manifest import ManifestError, derived_fields, load_manifest
from nexus_lab.errors import NexusLabError

pytestmark = pytest.mark.no_server  # the fast tier: see tests/conftest.py

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A copy of the course's authored files (no package: checks still resolve from nexus_lab)."""
    for name in ("course.toml",):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("exercises", "solutions", "quizzes", "notebooks"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_*"))
    return tmp_path


def test_the_course_itself_checks_out():
    assert dev_check(load_manifest(ROOT)) == []


def test_an_id_gives_chapter_files_and_check():
    assert derived_fields("ch03-quick-score") == {
        "chapter": "ch03", "file": "exercises/ch03_quick_score.py", "solution": "solutions/ch03_quick_score.py",
        "check": "nexus_lab.checker.checks.ch03:check_quick_score"}
    with pytest.raises(ManifestError, match="must look like"):
        derived_fields("QuickScore")


def test_manifest_errors_are_lab_errors_with_one_line(course: Path):
    (course / "course.toml").write_text("[[chapter]]\nid = 'ch00'\n")
    with pytest.raises(NexusLabError) as caught:
        load_manifest(course)
    assert "missing notebook, title" in str(caught.value) and "\n" not in str(caught.value)
    (course / "course.toml").write_text("[[chapter\n")
    with pytest.raises(ManifestError):
        load_manifest(course)


def test_orphans_and_missing_pieces_are_named(course: Path):
    (course / "exercises" / "ch03_forgotten.py").write_text("# TODO\n")
    (course / "quizzes" / "ch99.toml").write_text("")
    (course / "solutions" / "ch03_quick_score.py").unlink()
    text = (course / "course.toml").read_text().replace('id = "ch10-profiles"\n', 'id = "ch10-no-such-check"\n')
    (course / "course.toml").write_text(text)
    found = "\n".join(dev_check(load_manifest(course)))
    assert "exercises/ch03_forgotten.py is not in course.toml" in found
    assert "quizzes/ch99.toml is not in course.toml" in found
    assert "ch03-quick-score: its solution solutions/ch03_quick_score.py is missing" in found
    assert "ch10-no-such-check: nexus_lab.checker.checks.ch10 has no function check_no_such_check" in found
    assert "nexus_lab.checker.checks.ch10:check_profiles checks no exercise in course.toml" in found


def test_exercise_lists_and_next_links_follow_the_manifest(course: Path):
    manifest = load_manifest(course)
    path = course / manifest.chapters[3].notebook
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## Exercises"):
            cell.source = cell.source.replace("- `ch03-submit-review`", "- `ch03-submit-it`").replace("Next: [4", "Next: [5")
    nbformat.write(nb, path)
    found = "\n".join(dev_check(manifest))
    assert "the Exercises section lists" in found and "ends with 'Next: [4 · Asynchronous operations]" in found
    assert fix(manifest) == [manifest.chapters[3].notebook]
    assert dev_check(load_manifest(course)) == []
