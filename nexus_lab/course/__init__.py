"""The course: the manifest (``course.toml``), learner progress, practice files generated from
solutions, quizzes, the exercise commands behind ``nexus-lab list/check/hint/reset/verify``, the learner
workspace (``nexus-lab init``) and the author's ``nexus-lab dev check``."""
