"""A learner's install without the git checkout: the wheel, a fresh venv, ``nexus-lab init``.

The wheel is built from this tree and installed non-editable into a new venv that reuses the
project venv's site-packages for the dependencies (``--no-deps``: fast and offline). From an empty
folder the learner gets one line pointing at ``init``; after ``init`` the workspace shows the
learner's files only, and ``list``, ``check`` and ``verify`` work there with the solutions that stay
inside the package. The one-click environments (.devcontainer/, binder/) run the same install step,
which is run here as Binder runs it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent  # the project venv: its `temporal` binary serves the checks

pytestmark = pytest.mark.slow


def _fresh_venv(folder: Path) -> Path:
    """A venv whose own site-packages come first and the project venv's dependencies after."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    site = next(folder.glob("lib/python3*/site-packages"))
    (site / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return folder / "bin" / "python"


def _run(args: list, cwd: Path, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, REPO],
                 REPO, dict(os.environ))
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    return next(out.glob("nexus_lab-*.whl"))


def test_wheel_carries_every_subpackage_and_the_course(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in REPO.joinpath("nexus_lab").rglob("__init__.py"):
        assert package.relative_to(REPO).as_posix() in names
    for module in REPO.joinpath("nexus_lab/checker/checks").glob("ch*.py"):
        assert module.relative_to(REPO).as_posix() in names
    course = {n.removeprefix("nexus_lab/_course/") for n in names if n.startswith("nexus_lab/_course/")}
    from nexus_lab.course.workspace import PACKAGED_FILES, course_files

    assert set(course_files(REPO, PACKAGED_FILES)) == course
    assert {"course.toml", "notebooks/00-welcome.ipynb", "notebooks/fraud_v1.py"} <= course
    assert any(n.startswith("solutions/") for n in course) and any(n.startswith("quizzes/") for n in course)


def test_installed_wheel_init_list_check_verify(wheel, tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    installed = _run([python, "-m", "pip", "install", "--no-deps", "--no-index", wheel], tmp_path, dict(os.environ))
    if installed.returncode != 0 and "No module named pip" in installed.stderr:
        installed = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel],
                         tmp_path, dict(os.environ))
    assert installed.returncode == 0, installed.stderr[-2000:]
    assert "deprecat" not in (installed.stdout + installed.stderr).lower()
    cli = python.parent / "nexus-lab"
    env = {**os.environ, "PATH": f"{os.environ.get('PATH', '')}{os.pathsep}{VENV_BIN}"}
    for name in ("NEXUS_LAB_PROGRESS", "NEXUS_LAB_COURSE"):  # progress lives in the workspace, as for a learner
        env.pop(name, None)
    empty = tmp_path / "somewhere"
    empty.mkdir()

    version = _run([cli, "--version"], empty, env)
    assert version.returncode == 0 and re.fullmatch(r"nexus-lab \d+\.\d+\.\d+\n", version.stdout)
    for command in ("list", "check"):
        lost = _run([cli, command], empty, env)
        assert lost.returncode == 1, lost
        assert lost.stderr.count("\n") == 1 and "nexus-lab init" in lost.stderr and "Traceback" not in lost.stderr

    first = _run([cli, "init", "course"], empty, env)
    assert first.returncode == 0, first.stderr
    workspace = empty / "course"
    assert sorted(p.name for p in workspace.iterdir()) == ["course.toml", "exercises", "notebooks", "quizzes"]
    mine = workspace / "exercises" / "ch01_route_endpoint.py"
    mine.write_text(mine.read_text() + "\n# my work\n")
    (workspace / "notebooks" / "03-sync-operations.ipynb").unlink()
    again = _run([cli, "init", "course"], empty, env)
    assert "Added 1 course file(s)" in again.stdout and "notebooks/03-sync-operations.ipynb" in again.stdout
    assert mine.read_text().endswith("# my work\n")

    listed = _run([cli, "list"], workspace, env)
    assert listed.returncode == 0 and "[ ] ch01-route-endpoint" in listed.stdout, listed.stderr
    checked = _run([cli, "check", "ch01-route-endpoint"], workspace, env)
    assert checked.returncode == 1 and "namespace" in checked.stdout
    assert "Traceback" not in checked.stdout + checked.stderr
    verified = _run([cli, "verify", "ch01-route-endpoint", "ch03-quick-score", "--json", tmp_path / "v.json"],
                    workspace, env)
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-2000:]
    result = json.loads((tmp_path / "v.json").read_text())
    assert [r["status"] for r in result["solutions"]] == ["pass", "pass"]
    assert all(r["status"] != "pass" for r in result["untouched"])
    assert str(python.parent.parent) in _run([python, "-c", "import nexus_lab; print(nexus_lab.__file__)"],
                                             workspace, env).stdout


def test_one_click_environments_run_the_same_install_step(tmp_path):
    """devcontainer and Binder both run tools/setup.sh (as `make` does); Binder's postBuild runs here."""
    devcontainer = json.loads("\n".join(line for line in (REPO / ".devcontainer/devcontainer.json").read_text()
                                        .splitlines() if not line.lstrip().startswith("//")))
    assert devcontainer["postCreateCommand"].startswith("make install")
    assert "tools/setup.sh" in (REPO / "Makefile").read_text()
    post_build = REPO / "binder" / "postBuild"
    assert "./tools/setup.sh" in post_build.read_text() and os.access(post_build, os.X_OK)

    python = _fresh_venv(tmp_path / "image-env")
    subprocess.run([str(python), "-m", "ensurepip", "--upgrade"], check=True, capture_output=True)
    home = tmp_path / "repo"  # repo2docker runs postBuild in a copy of the repository
    subprocess.run(["git", "clone", "--quiet", "--depth", "1", f"file://{REPO}", str(home)], check=True)
    env = {**os.environ, "PYTHON": str(python), "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
    ran = _run([post_build], home, env, timeout=300)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]
    assert (home / "workspace" / "course.toml").is_file()
    version = _run([python.parent / "nexus-lab", "--version"], home, env)
    assert version.returncode == 0, version.stderr
