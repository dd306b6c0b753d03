"""What a chapter notebook must look like, as rules shared by ``nexus-lab dev check``, the cleaner
(``tools/clean_notebooks.py``) and the tests.

Clean: outputs only in the cells CI compares (tagged ``nbval-check-output`` in the cell's metadata,
which a learner never sees); no run state. Pattern: objectives first, the first code cell starts the
lab, a quiz, an Exercises section listing exactly the manifest's exercises of the chapter, their cards,
a "Next" link to the following chapter, and the last code cell stops the lab. The Exercises list and the
Next link are derived from ``course.toml``: :func:`apply_manifest` rewrites them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nexus_lab.course.manifest import Chapter, Manifest

CHECK_TAG = "nbval-check-output"  # nbval reads it from the cell's metadata tags
KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")
KEPT_CELL_METADATA = ("tags",)
EXERCISE_LINE = re.compile(r"^- `([\w-]+)`: .*\(`(exercises/[\w.]+)`\)$", flags=re.M)
NEXT_LINE = re.compile(r"^Next: \[.*\]\((.*?)\)\.$", flags=re.M)
LAST_CHAPTER_LINE = "That is the course. Go back to any chapter, or to the exercises with `nexus-lab list`."


def is_checked(cell: Any) -> bool:
    """A code cell whose output CI compares."""
    return bool(cell.cell_type == "code" and CHECK_TAG in cell.get("metadata", {}).get("tags", []))


def clean(nb: Any) -> Any:
    """Strip outputs and counts everywhere except checked cells (renumbered 1, 2, ...); drop run metadata."""
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in KEPT_NOTEBOOK_METADATA}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}
    count = 0
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEPT_CELL_METADATA}
        if cell.cell_type != "code":
            continue
        if is_checked(cell):
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = count
                if "metadata" in output:
                    output["metadata"] = {}
        else:
            cell.outputs = []
            cell.execution_count = None
    return nb


def problems(nb: Any) -> list[str]:
    """Why a notebook is not clean (empty when it is)."""
    found = []
    extra = sorted(set(nb.metadata) - set(KEPT_NOTEBOOK_METADATA))
    if extra:
        found.append(f"notebook metadata {extra} (run state, e.g. widget state)")
    checked = 0
    for index, cell in enumerate(nb.cells):
        where = f"cell {index} ({cell.get('id', '?')})"
        extra = sorted(set(cell.metadata) - set(KEPT_CELL_METADATA))
        if extra:
            found.append(f"{where}: metadata {extra}")
        if cell.cell_type != "code":
            continue
        if is_checked(cell):
            checked += 1
            if cell.execution_count is None or not cell.outputs:
                found.append(f"{where}: checked cell without its reference output (run --execute)")
            if any(o.get("output_type") == "error" for o in cell.outputs):
                found.append(f"{where}: checked cell's reference output is an error")
        elif cell.outputs or cell.execution_count is not None:
            found.append(f"{where}: stray output or execution count in an unchecked cell")
        if any(line.strip().startswith("# NBVAL") for line in cell.source.splitlines()):
            found.append(f"{where}: an NBVAL comment in the learner's code (use the cell's metadata tags)")
    if checked == 0:
        found.append(f"no cell is tagged {CHECK_TAG}: CI would check nothing")
    return found


def _exercises_cell(nb: Any) -> Any:
    return next((c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Exercises")), None)


def expected_exercise_lines(manifest: Manifest, chapter: Chapter) -> list[str]:
    return [f"- `{e.id}`: {e.title} (`{e.file}`)" for e in manifest.exercises_of(chapter.id)]


def expected_next_line(manifest: Manifest, chapter: Chapter) -> str:
    ids = [c.id for c in manifest.chapters]
    index = ids.index(chapter.id)
    if index + 1 == len(ids):
        return LAST_CHAPTER_LINE
    following = manifest.chapters[index + 1]
    return f"Next: [{int(following.id[2:])} · {following.title}]({following.notebook.rsplit('/', 1)[-1]})."


def pattern_problems(nb: Any, manifest: Manifest, chapter: Chapter) -> list[str]:
    """Where a chapter notebook departs from the course's pattern or from the manifest."""
    found = []
    code = [c.source.strip() for c in nb.cells if c.cell_type == "code"]
    if not nb.cells or "In this chapter you will" not in nb.cells[0].source:
        found.append("the first cell states the learning objectives ('In this chapter you will …')")
    if not code or not re.search(r"^lab = await nexus_lab\.start\((embedded=True)?\)$", code[0], flags=re.M):
        found.append("the first code cell starts the lab (`lab = await nexus_lab.start()`)")
    if not code or code[-1] != "await lab.stop()":
        found.append("the last code cell stops the lab (`await lab.stop()`)")
    if not any(f'load_quiz("{chapter.quiz}")' in c for c in code):
        found.append(f'a cell shows the quiz (`nexus_lab.load_quiz("{chapter.quiz}")`)')
    if sum(is_checked(c) for c in nb.cells) < 2:
        found.append(f"at least two cells tagged {CHECK_TAG}")
    section = _exercises_cell(nb)
    if section is None:
        return [*found, "an '## Exercises' section"]
    named = [f"- `{m[0]}`" for m in EXERCISE_LINE.findall(section.source)]
    wanted = expected_exercise_lines(manifest, chapter)
    if [line for line in section.source.splitlines() if EXERCISE_LINE.match(line)] != wanted:
        found.append(f"the Exercises section lists {named or 'nothing'}; course.toml gives {wanted or 'nothing'} "
                     "(`nexus-lab dev check --fix` rewrites it)")
    if wanted and f'nexus_lab.exercise_cards("{chapter.id}")' not in code:
        found.append(f'a cell shows the exercise cards (`nexus_lab.exercise_cards("{chapter.id}")`)')
    if not wanted and "no exercise of its own" not in section.source:
        found.append("a chapter without exercises says it has 'no exercise of its own'")
    next_line = expected_next_line(manifest, chapter)
    if next_line not in section.source.splitlines():
        found.append(f"the Exercises section ends with {next_line!r} (`nexus-lab dev check --fix` writes it)")
    return found


def apply_manifest(nb: Any, manifest: Manifest, chapter: Chapter) -> bool:
    """Rewrite the Exercises list and the Next line from the manifest; True when something changed."""
    section = _exercises_cell(nb)
    if section is None:
        return False
    lines = [line for line in section.source.splitlines()
             if not EXERCISE_LINE.match(line) and not NEXT_LINE.match(line) and line != LAST_CHAPTER_LINE]
    while lines and not lines[-1].strip():
        lines.pop()
    exercises = expected_exercise_lines(manifest, chapter)
    text = "\n".join(lines + (["", *exercises] if exercises else []) + ["", expected_next_line(manifest, chapter)])
    if text == section.source:
        return False
    section.source = text
    return True
