"""An unreachable room and a broken profile: one line for the learner, no secret in it, and
nothing recorded or queued for the instructor."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nexus_lab
from nexus_lab.workshop.room import RoomUnreachableError

KEY = "room-key-abc123"


NOBODY = "127.0.0.1:1"  # a privileged port nothing listens on (a freed random port may be taken again)


def _learner_env(home: Path, **extra: str) -> dict[str, str]:
    return dict(os.environ, NEXUS_LAB_LEARNER="zed", NEXUS_LAB_HOME=str(home),
                NEXUS_LAB_PROGRESS=str(home / "progress.json"), **extra)


async def test_an_unreachable_room_is_one_line_not_a_failure_or_a_submission(tmp_path):
    env = _learner_env(tmp_path, TEMPORAL_ADDRESS=NOBODY, TEMPORAL_API_KEY=KEY)
    run = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "nexus_lab.cli", "check", "ch01-route-endpoint", "--submit"],
        env=env, capture_output=True, text=True, timeout=60)
    lines = (run.stdout + run.stderr).strip().splitlines()
    assert run.returncode == 1 and len(lines) == 1, lines
    assert "cannot be reached (connection refused): nothing was checked, recorded or sent" in lines[0]
    assert KEY not in lines[0]
    assert not (tmp_path / "progress.json").exists()  # not a failed attempt
    assert not (tmp_path / "classroom" / "outbox.json").exists()  # nothing queued for the instructor


async def test_an_unreachable_room_in_a_notebook_raises_before_any_check(monkeypatch, tmp_path):
    for name, value in _learner_env(tmp_path, TEMPORAL_ADDRESS=NOBODY).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RoomUnreachableError, match="cannot be reached"):
        nexus_lab.check("ch01-route-endpoint")  # inside a running event loop, as in a kernel
    assert not (tmp_path / "progress.json").exists()


def test_a_broken_profile_never_shows_its_api_key(tmp_path, monkeypatch):
    profile = tmp_path / "temporal.toml"
    profile.write_text(f'[profile.default]\naddress = "room:7233"\napi_key = "{KEY}\nnamespace = "x"\n')
    env = _learner_env(tmp_path, TEMPORAL_CONFIG_FILE=str(profile))
    env.pop("TEMPORAL_ADDRESS", None)
    run = subprocess.run([sys.executable, "-m", "nexus_lab.cli", "check", "ch01-route-endpoint"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "TOML parse error" in run.stderr, run.stderr
    assert KEY not in run.stdout + run.stderr and 'api_key = "***' in run.stderr
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(profile))
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    with pytest.raises(nexus_lab.LabConfigError) as raised:
        asyncio.run(nexus_lab.connect())
    assert KEY not in str(raised.value) and KEY not in repr(raised.value.args)


def test_every_lab_error_masks_secrets(monkeypatch):
    monkeypatch.setenv("TEMPORAL_API_KEY", KEY)
    err = nexus_lab.NexusLabError(f"refused {KEY}; header Authorization: Bearer tok-9876, {{'api_key': 'k-5'}}")
    assert str(err) == "refused ***; header Authorization: Bearer ***, {'api_key': '***'}"
