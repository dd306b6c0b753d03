"""The learner's workspace: their own copies of the course files, laid out by ``nexus-lab init``.

The course data travels inside the package (``nexus_lab/_course``, filled when the wheel is built),
so a plain ``pip install`` carries everything; in a git checkout (an editable install) the checkout
itself is the course. A learner works in a folder of their own so that course updates never
conflict with their notebooks and exercise files: ``init`` adds missing files and never overwrites
one. The reference solutions stay with the package (checks and ``reset`` read them from there), so
the workspace shows what a learner needs: notebooks, exercises, quizzes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from nexus_lab.errors import NexusLabError

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PACKAGED_COURSE = PACKAGE_DIR / "_course"
CHECKOUT = PACKAGE_DIR.parent

# (folder, glob) pairs of what a learner gets; "." is the course root itself.
LEARNER_FILES: tuple[tuple[str, str], ...] = (
    (".", "course.toml"),
    ("notebooks", "**/*"),  # the chapters and what they import or run (fraud_v1.py, leaving_the_lab/, ...)
    ("exercises", "*.py"),
    ("quizzes", "*.toml"),
)
# What the wheel carries besides: the reference solutions, which the workspace does not show.
PACKAGED_FILES: tuple[tuple[str, str], ...] = (*LEARNER_FILES, ("solutions", "*.py"))


SKIPPED = {"__pycache__", "node_modules"}  # besides hidden files and folders (.ipynb_checkpoints, ...)


class WorkspaceError(NexusLabError, RuntimeError):
    """No course data to copy (a broken install), or the target cannot be written."""


def course_source() -> Path:
    """Where the pristine course files are: the packaged copy of a wheel install, else the checkout."""
    for folder in (PACKAGED_COURSE, CHECKOUT):
        if (folder / "course.toml").is_file():
            return folder
    raise WorkspaceError("This installation of nexus-lab carries no course files: reinstall it with "
                         "`pip install --force-reinstall nexus-lab`.")


def course_file(root: Path, relative: str) -> Path:
    """``root/relative`` if the course folder has it, else the pristine copy (e.g. a solution that
    stays inside the package)."""
    local = root / relative
    if local.exists():
        return local
    try:
        return course_source() / relative
    except WorkspaceError:
        return local


def solutions_dir(root: Path) -> Path:
    """The reference solutions of the course in ``root``: its own ``solutions/``, else the package's."""
    return course_file(root, "solutions")


def course_files(source: Path, parts: tuple[tuple[str, str], ...] = LEARNER_FILES) -> list[str]:
    """Relative paths (POSIX) of the course files under ``source``, in a stable order."""
    found: list[str] = []
    for folder, pattern in parts:
        for path in sorted((source / folder).glob(pattern)):
            relative = path.relative_to(source)
            if path.is_file() and not any(part.startswith(".") or part in SKIPPED for part in relative.parts):
                found.append(relative.as_posix())
    return found


@dataclass
class InitOutcome:
    folder: Path
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def text(self) -> str:
        if not self.added:
            return (f"{self.folder} is up to date: all {len(self.kept)} course files are there "
                    "(yours are never overwritten).")
        lines = [f"Added {len(self.added)} course file(s) to {self.folder}"
                 + (f"; kept your {len(self.kept)} existing file(s) as they are." if self.kept else ".")]
        lines += [f"  + {name}" for name in self.added[:8]]
        if len(self.added) > 8:
            lines.append(f"  ... and {len(self.added) - 8} more")
        lines.append(f"Next: nexus-lab lab {self.folder}")
        return "\n".join(lines)


def init_workspace(folder: Path, source: Path | None = None) -> InitOutcome:
    """Copy every missing course file into ``folder``; existing files (the learner's work) stay."""
    source = source or course_source()
    folder = folder.resolve()
    if folder == source.resolve():
        return InitOutcome(folder, kept=course_files(source))
    outcome = InitOutcome(folder)
    try:
        for relative in course_files(source):
            target = folder / relative
            if target.exists():
                outcome.kept.append(relative)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / relative, target)
            outcome.added.append(relative)
    except OSError as err:
        raise WorkspaceError(f"Cannot write the course into {folder}: {err.strerror or err}") from None
    return outcome


FIRST_NOTEBOOK = "notebooks/00-welcome.ipynb"


def lab_command(folder: Path, extra: list[str], *, python: str | None = None) -> tuple[list[str], dict[str, str]]:
    """The JupyterLab command line and environment that open the course in ``folder``.

    The interpreter's own ``bin`` folder goes first on ``PATH``, so kernels and terminals find
    ``nexus-lab`` and ``temporal`` without activating anything; terminals start as non-login shells,
    because a login shell's ``/etc/profile`` would reset that ``PATH``. As root (containers,
    devcontainers, CI) JupyterLab needs ``--allow-root``.
    """
    import os
    import sys

    python = python or sys.executable
    env = dict(os.environ)
    bin_dir = str(Path(python).parent)
    env["PATH"] = os.pathsep.join([bin_dir, *(p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir)])
    shell = env.get("SHELL") or shutil.which("bash") or "/bin/sh"
    command = [python, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}",
               f'--ServerApp.terminado_settings={{"shell_command": ["{shell}"]}}']
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    first = folder / FIRST_NOTEBOOK
    if first.is_file() and not any(not arg.startswith("-") for arg in extra):
        command.append(str(first))
    return command + extra, env


def open_lab(folder: Path, extra: list[str]) -> int:
    """Run JupyterLab on the course in ``folder`` in the foreground (Ctrl+C stops it)."""
    import subprocess

    folder = folder.resolve()
    if not (folder / "course.toml").is_file():
        raise WorkspaceError(f"No course in {folder}: run `nexus-lab init {folder}` first.")
    command, env = lab_command(folder, extra)
    try:
        return subprocess.call(command, cwd=folder, env=env)
    except KeyboardInterrupt:
        return 0


# --- benchmark: the learner's first command and each chapter's Run All ------------------------------
def _serving_after(command: list[str], cwd: Path, env: dict[str, str], port: int, limit_s: float = 600) -> float:
    """Seconds from running ``command`` until JupyterLab answers on ``port`` (then it is stopped)."""
    import os
    import signal
    import subprocess
    import time
    import urllib.request

    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        while time.monotonic() - started < limit_s and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1):
                    return time.monotonic() - started
            except OSError:
                time.sleep(0.2)
        raise WorkspaceError(f"JupyterLab did not answer within {limit_s:g} s (exit code {proc.poll()}).")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def journey_figures(port: int = 31950) -> dict[str, float]:
    """Fresh clone → JupyterLab answering (``make lab``, warm package cache), and Run All per chapter
    (each notebook of a fresh workspace in its own kernel, as JupyterLab's Run All runs it)."""
    import os
    import subprocess
    import tempfile
    import time

    import nbformat
    from nbclient import NotebookClient

    from nexus_lab.course.manifest import load_manifest

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="nexus-lab-journey-") as tmp:
        env = {**os.environ, "NEXUS_LAB_HOME": f"{tmp}/home", "JUPYTER_RUNTIME_DIR": f"{tmp}/runtime"}
        env.pop("NEXUS_LAB_COURSE", None)
        env.pop("NEXUS_LAB_PROGRESS", None)
        if (CHECKOUT / ".git").exists():
            clone = Path(tmp) / "clone"
            started = time.monotonic()
            subprocess.run(["git", "clone", "--quiet", str(CHECKOUT), str(clone)], check=True)
            figures["fresh clone → JupyterLab answering (s)"] = time.monotonic() - started + _serving_after(
                ["make", "lab", f"LAB_ARGS=--no-browser --port={port} --ServerApp.port_retries=0"], clone, env, port)
        workspace = Path(tmp) / "course"
        init_workspace(workspace)
        for chapter in load_manifest(workspace).chapters:
            path = workspace / chapter.notebook
            notebook = nbformat.read(path, as_version=4)
            started = time.monotonic()
            NotebookClient(notebook, timeout=180, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
            figures[f"Run All {chapter.id} (s)"] = time.monotonic() - started
    return figures


def journey_report(figures: dict[str, float]) -> str:
    return "\n".join(f"{name:<44} {seconds:7.1f}" for name, seconds in figures.items())
