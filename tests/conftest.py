"""Shared test setup: one embedded Temporal server for the whole test session.

The port and lab home are chosen per session (``NEXUS_LAB_PORT``, ``NEXUS_LAB_HOME``) so that test
runs, notebooks and a learner's own lab on 7233 never share a server by accident.
"""

from __future__ import annotations

import os
import tempfile
import uuid

import pytest


def _free_port_pair() -> int:
    from nexus_lab.server import find_free_port_pair

    return find_free_port_pair(21000 + (os.getpid() % 40) * 100)


def pytest_configure(config):
    os.environ.setdefault("NEXUS_LAB_HOME", tempfile.mkdtemp(prefix="nexus-lab-test-"))
    os.environ.setdefault("NEXUS_LAB_PORT", str(_free_port_pair()))
    os.environ.setdefault("NEXUS_LAB_PROGRESS", os.path.join(os.environ["NEXUS_LAB_HOME"], "progress.json"))


@pytest.fixture(scope="session")
async def lab():
    """The session's lab (embedded server on ``NEXUS_LAB_PORT``), stopped at the end."""
    import nexus_lab

    lab = await nexus_lab.start(int(os.environ["NEXUS_LAB_PORT"]))
    yield lab
    await lab.stop()


@pytest.fixture
def unique():
    """A short random suffix, so names created by one test never meet another test's."""
    return uuid.uuid4().hex[:8]


# --- tiers ------------------------------------------------------------------------------------------
# The fast tier (`pytest -m fast`: no server, no kernel, no child process; ≤ 20 s in all) is what a module
# or test declares with `pytest.mark.no_server`, minus any test that uses a server fixture (directly or
# through another fixture) or is marked `slow`; everything else is the server tier (`-m server`). The time
# table at the end shows both tiers, then the test time of each folder (where a slow suite spends it).
SERVER_FIXTURES = {"lab", "check_server"}
_tier_seconds: dict[str, float] = {"fast": 0.0, "server": 0.0}
_folder_seconds: dict[str, float] = {}
_session = {"start": 0.0}


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by these marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        needs_server = bool(SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))) or any(
            item.get_closest_marker(name) for name in ("server", "slow"))
        fast = item.get_closest_marker("no_server") and not needs_server
        item.add_marker(pytest.mark.fast if fast else pytest.mark.server)


def pytest_sessionstart(session):
    import time

    _session["start"] = time.monotonic()


def pytest_runtest_logreport(report):
    tier = "server" if "server" in report.keywords else "fast"
    _tier_seconds[tier] += report.duration
    folder = report.nodeid.split("::")[0].rsplit("/", 1)[0]
    _folder_seconds[folder] = _folder_seconds.get(folder, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    import time

    if not any(_tier_seconds.values()):
        return
    write = terminalreporter.write_line
    terminalreporter.section("test tiers")
    write(f"fast tier (no server)   {_tier_seconds['fast']:7.1f} s of test time")
    write(f"server tier             {_tier_seconds['server']:7.1f} s of test time")
    write(f"wall clock              {time.monotonic() - _session['start']:7.1f} s")
    for folder, seconds in sorted(_folder_seconds.items(), key=lambda kv: -kv[1]):
        write(f"  {folder:<22}{seconds:7.1f} s")
