"""Build hook: a wheel carries the course (see nexus_lab/course/workspace.py).

``build_py`` copies course.toml, the notebooks and their story modules, the exercises, the solutions
and the quizzes into ``nexus_lab/_course`` of the build, so ``pip install nexus-lab`` is the whole
course. An editable install (a course author's checkout) copies nothing: the checkout is the course.
All other metadata lives in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# Kept in step with nexus_lab.course.workspace.PACKAGED_FILES (tests/journey/test_packaging.py checks it).
COURSE_FILES = ((".", "course.toml"), ("notebooks", "**/*"), ("exercises", "*.py"), ("quizzes", "*.toml"),
                ("solutions", "*.py"))
SKIPPED = {"__pycache__", "node_modules"}


class build_py_with_course(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "nexus_lab" / "_course"
        for folder, pattern in COURSE_FILES:
            for path in sorted((HERE / folder).glob(pattern)):
                parts = path.relative_to(HERE).parts
                if not path.is_file() or any(p.startswith(".") or p in SKIPPED for p in parts):
                    continue
                destination = target / path.relative_to(HERE)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination)


setup(cmdclass={"build_py": build_py_with_course})
