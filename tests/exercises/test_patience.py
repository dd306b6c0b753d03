"""A check's patience: the limits meant for hung code grow on a busy machine, never shrink."""

from __future__ import annotations

import pytest

from nexus_lab.checker import context
from nexus_lab.checker.context import MAX_PATIENCE, patience

pytestmark = pytest.mark.no_server  # the fast tier: see tests/conftest.py


@pytest.mark.parametrize(("load", "cores", "expected"),
                         [(0.2, 2, 1.0), (2.0, 2, 1.0), (3.0, 2, 1.5), (9.0, 2, MAX_PATIENCE), (4.0, 1, 3.0)])
def test_patience_follows_the_load_per_core_between_one_and_the_cap(monkeypatch, load, cores, expected):
    monkeypatch.delenv("NEXUS_LAB_PATIENCE", raising=False)
    monkeypatch.setattr(context.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(context.os, "cpu_count", lambda: cores)
    assert patience() == pytest.approx(expected)


def test_the_environment_sets_patience_but_never_below_one(monkeypatch):
    monkeypatch.setattr(context.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    monkeypatch.setenv("NEXUS_LAB_PATIENCE", "5")
    assert patience() == 5.0
    monkeypatch.setenv("NEXUS_LAB_PATIENCE", "0.1")
    assert patience() == 1.0
    monkeypatch.setenv("NEXUS_LAB_PATIENCE", "soon")  # unreadable: the load decides
    assert patience() == MAX_PATIENCE
