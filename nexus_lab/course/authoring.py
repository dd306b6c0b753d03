"""``nexus-lab dev check``: the course author's lint (as rustlings' ``dev check``).

It verifies what a learner would otherwise find broken: every exercise's file, solution and check
exist and agree (the practice file is current, the check function resolves); every story copy is
current; every chapter's notebook and quiz exist, the quiz parses, the notebook is clean and follows
the chapter pattern with the manifest's exercises and "Next" link; and no file lies around that the
manifest does not know (an orphan exercise, solution, quiz, notebook or check function).
``--fix`` rewrites what is derived (practice files, story copies, Exercises lists, Next links).
"""

from __future__ import annotations

import argparse
import ast
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nexus_lab.course.manifest import Manifest

CHECKS_PACKAGE = "nexus_lab.checker.checks"


def _check_resolves(spec: str) -> str:
    module_name, _, function = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        return f"check module {module_name} does not import: {err}"
    return "" if callable(getattr(module, function, None)) else f"{module_name} has no function {function}"


def exercise_problems(manifest: Manifest) -> list[str]:
    from nexus_lab.course.practice import stale_practice_files

    found = []
    root = manifest.root
    for e in manifest.exercises:
        for label, rel in (("file", e.file), ("solution", e.solution)):
            if not (root / rel).is_file():
                found.append(f"{e.id}: its {label} {rel} is missing")
        if problem := _check_resolves(e.check):
            found.append(f"{e.id}: {problem}")
        if not e.hints:
            found.append(f"{e.id}: no hints")
        if (root / e.solution).is_file() and "# --- TODO" not in (root / e.solution).read_text(encoding="utf-8"):
            found.append(f"{e.id}: {e.solution} marks no TODO region, so the practice file has nothing to do")
    pairs = [(e.solution, e.file) for e in manifest.exercises if (root / e.solution).is_file()]
    found += [f"{p.relative_to(root)} is stale (`nexus-lab generate --write`)"
              for p in stale_practice_files(root, pairs)]
    return found


def chapter_problems(manifest: Manifest) -> list[str]:
    import nbformat

    from nexus_lab.course.notebooks import pattern_problems, problems
    from nexus_lab.course.quiz import load_quiz

    found = []
    for chapter in manifest.chapters:
        path = manifest.root / chapter.notebook
        if not path.is_file():
            found.append(f"{chapter.id}: notebook {chapter.notebook} is missing")
        else:
            nb = nbformat.read(path, as_version=4)
            found += [f"{chapter.notebook}: {p}" for p in problems(nb) + pattern_problems(nb, manifest, chapter)]
        quiz = manifest.root / "quizzes" / f"{chapter.quiz}.toml"
        if not quiz.is_file():
            found.append(f"{chapter.id}: quiz {quiz.relative_to(manifest.root)} is missing")
        else:
            try:
                load_quiz(quiz)
            except Exception as err:  # any parse problem is the author's to fix
                found.append(f"{quiz.relative_to(manifest.root)}: {err}")
    return found


def _check_functions(root: Path) -> set[str]:
    """``module:function`` of every ``check_*`` function in the checks package."""
    folder = Path(importlib.import_module(CHECKS_PACKAGE).__file__ or "").parent
    found = set()
    for path in folder.glob("ch*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("check_"):
                found.add(f"{CHECKS_PACKAGE}.{path.stem}:{node.name}")
    return found


def orphans(manifest: Manifest) -> list[str]:
    from nexus_lab.story import COPIES

    root = manifest.root
    known = {e.file for e in manifest.exercises} | {e.solution for e in manifest.exercises} | set(COPIES)
    known |= {c.notebook for c in manifest.chapters} | {f"quizzes/{c.quiz}.toml" for c in manifest.chapters}
    found = []
    for pattern in ("exercises/*.py", "solutions/*.py", "quizzes/*.toml", "notebooks/*.ipynb"):
        for path in sorted(root.glob(pattern)):
            rel = path.relative_to(root).as_posix()
            if rel not in known:
                found.append(f"{rel} is not in course.toml (an orphan: add it to the manifest or remove it)")
    used = {e.check for e in manifest.exercises}
    found += [f"{spec} checks no exercise in course.toml" for spec in sorted(_check_functions(root) - used)]
    return found


def fix(manifest: Manifest) -> list[str]:
    """Rewrite what is derived from the manifest and the story; the files it changed."""
    import nbformat

    from nexus_lab.course.notebooks import apply_manifest
    from nexus_lab.course.practice import expected_practice_files
    from nexus_lab.course.progress import atomic_write_text
    from nexus_lab.story import learner_copies

    changed = []
    for _ in range(2):  # a story copy can be a shared solution module that a practice file copies
        pairs = [(e.solution, e.file) for e in manifest.exercises if (manifest.root / e.solution).is_file()]
        wanted = {**learner_copies(manifest.root), **expected_practice_files(manifest.root, pairs)}
        for path, text in wanted.items():
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                atomic_write_text(path, text)
                changed.append(str(path.relative_to(manifest.root)))
    for chapter in manifest.chapters:
        path = manifest.root / chapter.notebook
        if path.is_file():
            nb = nbformat.read(path, as_version=4)
            if apply_manifest(nb, manifest, chapter):
                nbformat.write(nb, path)
                changed.append(chapter.notebook)
    return sorted(set(changed))


def dev_check(manifest: Manifest) -> list[str]:
    from nexus_lab.story import stale_copies

    stale = [f"{p.relative_to(manifest.root)} drifted from nexus_lab/story (`nexus-lab generate --write`)"
             for p in stale_copies(manifest.root)]
    return exercise_problems(manifest) + chapter_problems(manifest) + orphans(manifest) + stale


def main(argv: list[str]) -> int:
    """``nexus-lab dev check [--fix]``."""
    parser = argparse.ArgumentParser(prog="nexus-lab dev", description="course author tools")
    parser.add_argument("action", choices=["check"])
    parser.add_argument("--fix", action="store_true", help="first rewrite what is derived from the manifest")
    args = parser.parse_args(argv)
    from nexus_lab.course.manifest import load_manifest

    manifest = load_manifest()
    if args.fix:
        for rel in fix(manifest):
            print(f"rewrote {rel}")
    found = dev_check(manifest)
    for problem in found:
        print(problem)
    print(f"{len(found)} problem(s) in {len(manifest.chapters)} chapters and {len(manifest.exercises)} exercises."
          if found else f"All {len(manifest.chapters)} chapters and {len(manifest.exercises)} exercises check out.")
    return 1 if found else 0
