"""Per-chapter check functions for the exercises (``course.toml`` names them as ``module:function``).

Each check drives the learner's code on the real server (see :mod:`nexus_lab.checking`) and judges
what happened: results, errors as the caller saw them, and the events in the histories.
"""
