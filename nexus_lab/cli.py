"""``nexus-lab``: the course's command line.

Subcommands are one table, :data:`COMMANDS`: name → (one-line help, ``"module:function"``). Each
function takes the remaining arguments (``argv``) and returns the exit code, so a new subcommand
is one line here plus its function, wherever it lives; modules load only when their command runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

from nexus_lab.errors import NexusLabError

COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("lay out your own copy of the course in a folder (never overwrites your files)", "nexus_lab.cli:cmd_init"),
    "lab": ("open JupyterLab on your course folder (nexus-lab and temporal on its PATH)", "nexus_lab.cli:cmd_lab"),
    "list": ("status of every exercise, and quiz scores", "nexus_lab.cli:cmd_list"),
    "check": ("check an exercise (the next unsolved one without an ID)", "nexus_lab.cli:cmd_check"),
    "hint": ("show the next hint for an exercise", "nexus_lab.cli:cmd_hint"),
    "reset": ("restore an exercise to its start (your version is backed up)", "nexus_lab.cli:cmd_reset"),
    "verify": ("self-check: every solution passes, every untouched exercise fails", "nexus_lab.cli:cmd_verify"),
    "dev": ("(course authors) `dev check`: every file, check, quiz and notebook agrees with course.toml",
            "nexus_lab.course.authoring:main"),
    "generate": ("(course authors) rebuild exercises/ from solutions/ and the story copies",
                 "nexus_lab.cli:cmd_generate"),
    "demo": ("run the Payments → Fraud story end to end and print both histories", "nexus_lab.cli:cmd_demo"),
    "server": ("run an embedded Temporal server in the foreground (kernels and checks reuse it)",
               "nexus_lab.cli:cmd_server"),
    "bench": ("benchmark the lab against the raw SDK", "nexus_lab.bench:main"),
    "workshop": ("run a workshop on one shared cluster (instructors)", "nexus_lab.workshop.classroom:workshop_main"),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {help_}" for name, (help_, _) in COMMANDS.items())
    return f"usage: nexus-lab <command> [options]\n\ncommands:\n{rows}\n\n`nexus-lab <command> -h` for details."


def run() -> None:
    """The ``nexus-lab`` console script: :func:`main`, then a quick exit.

    The exit handlers (servers and workers this process started) run first; the interpreter's own
    teardown is skipped, because the SDK's native runtime can abort it (SIGABRT, seen once in CI after
    `workshop provision` had done its work and printed its result)."""
    import atexit
    import os

    code = main()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if argv[0] in ("-V", "--version", "version"):
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"nexus-lab {version('nexus-lab')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            from nexus_lab import __version__

            print(f"nexus-lab {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"nexus-lab: unknown command {name!r}.\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, _, function = COMMANDS[name][1].partition(":")
    import warnings  # a warning (e.g. progress not saved on a full disk) is one line, as errors are

    warnings.formatwarning = lambda message, *_args, **_kwargs: f"nexus-lab {name}: {message}\n"
    try:
        code = getattr(importlib.import_module(module_name), function)(rest)
    except NexusLabError as err:  # the message says what to do; a traceback would only hide it
        print(f"nexus-lab {name}: {err}", file=sys.stderr)
        return 1
    return int(code or 0)


def _parser(name: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog=f"nexus-lab {name}", description=COMMANDS[name][0])


def _lookup(exercise_id: str):
    from nexus_lab.course.exercises import manifest

    try:
        return manifest().exercise(exercise_id)
    except KeyError as err:
        print(err.args[0], file=sys.stderr)
        return None


# --- list ----------------------------------------------------------------------------------------
def cmd_list(argv: list[str]) -> int:
    _parser("list").parse_args(argv)
    from nexus_lab.course import progress
    from nexus_lab.course.exercises import manifest
    from nexus_lab.views.display import STATUS_MARKS

    m, data = manifest(), progress.load()
    width = max((len(e.id) for e in m.exercises), default=0)
    for chapter in m.chapters:
        lines = []
        for e in m.exercises_of(chapter.id):
            status = progress.exercise_status(e.id, data)
            lines.append(f"   {STATUS_MARKS[status]} {e.id:<{width}}  {e.title}  ({e.file})")
        right, answered = progress.quiz_score(chapter.quiz, data) if chapter.quiz else (0, 0)
        quiz = f"   quiz: {right}/{answered} right" if answered else ""
        if lines or quiz:
            print(f"{chapter.id}  {chapter.title}{quiz}")
            print("\n".join(lines)) if lines else None
    done = sum(progress.exercise_status(e.id, data) == "passed" for e in m.exercises)
    print(f"\n{done}/{len(m.exercises)} exercises passed.")
    return 0


# --- init --------------------------------------------------------------------------------------
def cmd_init(argv: list[str]) -> int:
    parser = _parser("init")
    parser.add_argument("folder", nargs="?", default="nexus-lab-course",
                        help="where to put the course (default: ./nexus-lab-course)")
    args = parser.parse_args(argv)
    from nexus_lab.course.workspace import init_workspace

    print(init_workspace(Path(args.folder)).text())
    return 0


def cmd_lab(argv: list[str]) -> int:
    parser = _parser("lab")
    parser.add_argument("folder", nargs="?", default=None,
                        help="the course folder (default: the course you are in, else ./nexus-lab-course)")
    args, extra = parser.parse_known_args(argv)  # the rest goes to JupyterLab (e.g. --no-browser --port 9999)
    from nexus_lab.config import course_root
    from nexus_lab.course.workspace import open_lab

    folder = Path(args.folder) if args.folder else course_root()
    if not args.folder and not (folder / "course.toml").is_file():
        folder = Path("nexus-lab-course")
    return open_lab(folder, extra)


# --- check ---------------------------------------------------------------------------------------
def cmd_check(argv: list[str]) -> int:
    parser = _parser("check")
    parser.add_argument("id", nargs="?", help="exercise ID (default: the next unsolved one)")
    parser.add_argument("--all", action="store_true", help="check every exercise")
    parser.add_argument("--solution", action="store_true", help="check the reference solution instead")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write an Exercism-style results file")
    parser.add_argument("--jobs", type=int, default=0, help="checks run at once with --all")
    parser.add_argument("--submit", action="store_true",
                        help="workshop: also send the results to the instructor's classroom")
    args = parser.parse_args(argv)
    from nexus_lab.checker.results import results_file
    from nexus_lab.course.exercises import (
        check,
        check_many,
        default_jobs,
        manifest,
        next_unsolved,
    )
    from nexus_lab.course.progress import atomic_write_text

    if args.all:
        results = check_many(list(manifest().exercises), solution=args.solution, jobs=args.jobs or default_jobs(),
                             on_result=lambda r: print(r.text(), flush=True))
    else:
        if args.id and _lookup(args.id) is None:
            return 2
        if not args.id and next_unsolved() is None:
            print("Every exercise passes already. Well done!")
            return 0
        results = [check(args.id, solution=args.solution)]
        print(results[0].text())
    if args.json:
        atomic_write_text(args.json, json.dumps(results_file(results), indent=2))
    if args.submit:
        print(_submit(results))
    return 0 if all(r.passed for r in results) else 1


def _submit(results: list) -> str:
    """Send check results to the workshop's classroom service (queued first, so never lost)."""
    import asyncio

    from nexus_lab.workshop.classroom import ExerciseOutcome, submit

    def first_failure(result) -> str:
        failing = [t.message for t in result.tests if t.status != "pass" and t.message]
        return "" if result.passed else (failing[0] if failing else result.message)

    outcomes = [ExerciseOutcome(r.exercise, r.status, first_failure(r)) for r in results]
    return asyncio.run(submit(outcomes))


# --- demo and server -------------------------------------------------------------------------------
def cmd_demo(argv: list[str]) -> int:
    parser = _parser("demo")
    parser.add_argument("--port", type=int, default=None, help="server port (default: NEXUS_LAB_PORT or 7233)")
    args = parser.parse_args(argv)
    import asyncio

    from nexus_lab.demo import run_demo

    asyncio.run(run_demo(args.port))
    return 0


def cmd_server(argv: list[str]) -> int:
    from nexus_lab.config import DEFAULT_PORT

    parser = _parser("server")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--persist", metavar="DB", help="keep namespaces, endpoints and histories in this file")
    args = parser.parse_args(argv)
    import asyncio

    from nexus_lab.server import serve

    try:
        asyncio.run(serve(args.port, db_path=args.persist))
    except KeyboardInterrupt:
        print("Server stopped.")
    return 0


# --- hint ----------------------------------------------------------------------------------------
def cmd_hint(argv: list[str]) -> int:
    parser = _parser("hint")
    parser.add_argument("id", help="exercise ID")
    parser.add_argument("--all", action="store_true", help="show every hint at once")
    args = parser.parse_args(argv)
    exercise = _lookup(args.id)
    if exercise is None:
        return 2
    if args.all:
        for n, text in enumerate(exercise.hints, 1):
            print(f"Hint {n}/{len(exercise.hints)}: {text}")
        return 0
    from nexus_lab.course.exercises import next_hint

    number, total, text = next_hint(args.id)
    more = " (run it again for the next one)" if number < total else ""
    print(f"Hint {number}/{total}{more}:\n{text}" if total else text)
    return 0


# --- reset ---------------------------------------------------------------------------------------
def cmd_reset(argv: list[str]) -> int:
    parser = _parser("reset")
    parser.add_argument("id", help="exercise ID")
    args = parser.parse_args(argv)
    if _lookup(args.id) is None:
        return 2
    from nexus_lab.course.exercises import reset

    print(reset(args.id))
    return 0


# --- verify --------------------------------------------------------------------------------------
def cmd_verify(argv: list[str]) -> int:
    parser = _parser("verify")
    parser.add_argument("ids", nargs="*", help="only these exercises")
    parser.add_argument("--jobs", type=int, default=0, help="checks run at once")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every result as JSON")
    parser.add_argument("--no-wrong-answers", action="store_true",
                        help="skip the course's own wrong answers (tests/exercises/wrong_answers)")
    args = parser.parse_args(argv)
    from nexus_lab.course.exercises import default_jobs, verify
    from nexus_lab.course.progress import atomic_write_text

    outcome = verify(jobs=args.jobs or default_jobs(), exercise_ids=args.ids or None, wrong=not args.no_wrong_answers)
    print(outcome.text())
    if args.json:
        atomic_write_text(args.json, json.dumps({
            "ok": outcome.ok, "seconds": round(outcome.seconds, 2), "problems": outcome.problems,
            "solutions": [r.to_dict() for r in outcome.solutions],
            "untouched": [r.to_dict() for r in outcome.untouched],
            "wrong_answers": [{"exercise": o.answer.exercise, "name": o.answer.name, "partial": o.answer.partial,
                               "killed": o.killed, "result": o.result.to_dict()} for o in outcome.wrong]}, indent=2))
    return 0 if outcome.ok else 1


# --- generate ------------------------------------------------------------------------------------
def cmd_generate(argv: list[str]) -> int:
    parser = _parser("generate")
    parser.add_argument("--write", action="store_true",
                        help="rewrite stale files (the old ones are backed up first)")
    args = parser.parse_args(argv)
    from nexus_lab.course.exercises import backups_dir, manifest
    from nexus_lab.course.practice import expected_practice_files
    from nexus_lab.course.progress import atomic_write_text
    from nexus_lab.story import learner_copies

    m = manifest()
    wanted = {**learner_copies(m.root), **expected_practice_files(m.root, [(e.solution, e.file) for e in m.exercises])}
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    for path in stale:
        rel = path.relative_to(m.root)
        if not args.write:
            print(f"stale: {rel}")
            continue
        if path.exists():
            folder = backups_dir(m.root)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{path.stem}.{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}").write_bytes(path.read_bytes())
        atomic_write_text(path, wanted[path])
        print(f"wrote: {rel}")
    if not stale:
        print(f"All {len(wanted)} generated files (practice files, story copies) are current.")
    return 1 if stale and not args.write else 0


if __name__ == "__main__":
    run()
