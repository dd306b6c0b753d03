"""Credentials stay secret and connection failures stay short."""

from __future__ import annotations

import pytest

import nexus_lab


async def test_tls_to_a_plaintext_server_is_one_line_without_the_key(lab, monkeypatch):
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    with pytest.raises(nexus_lab.LabConnectionError) as caught:
        await nexus_lab.connect(address=lab.server.address, api_key="top-secret-key", timeout=5)
    message = str(caught.value)
    assert "\n" not in message and lab.server.address in message
    assert "top-secret-key" not in message


def test_lab_repr_never_contains_credentials(monkeypatch):
    monkeypatch.setenv("TEMPORAL_ADDRESS", "ns.acct.tmprl.cloud:7233")
    monkeypatch.setenv("TEMPORAL_API_KEY", "top-secret-key")
    assert "top-secret-key" not in repr(nexus_lab.describe_connection())


def _home(tmp_path, monkeypatch, name: str):
    from pathlib import Path

    home = Path(tmp_path) / name
    monkeypatch.setenv("NEXUS_LAB_HOME", str(home))
    return home


def test_lab_home_is_created_private(tmp_path, monkeypatch):
    from nexus_lab.config import lab_home, logs_dir

    home = _home(tmp_path, monkeypatch, "fresh")
    assert lab_home() == home and home.stat().st_mode & 0o777 == 0o700
    assert logs_dir().stat().st_mode & 0o777 == 0o700


def test_own_lab_home_readable_by_others_is_made_private(tmp_path, monkeypatch):
    from nexus_lab.config import lab_home

    home = _home(tmp_path, monkeypatch, "older")
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    lab_home()
    assert home.stat().st_mode & 0o777 == 0o700


def test_lab_home_writable_by_others_is_refused_in_one_line(tmp_path, monkeypatch):
    from nexus_lab.config import LabConfigError, lab_home

    home = _home(tmp_path, monkeypatch, "shared")
    home.mkdir()
    home.chmod(0o777)
    with pytest.raises(LabConfigError) as caught:
        lab_home()
    assert "\n" not in str(caught.value) and "chmod 700" in str(caught.value)


def test_lab_home_of_another_user_is_refused(tmp_path, monkeypatch):
    import os

    from nexus_lab.config import LabConfigError, lab_home

    if os.getuid() != 0:
        pytest.skip("giving a folder to another user needs root (as in CI)")
    home = _home(tmp_path, monkeypatch, "theirs")
    home.mkdir(mode=0o700)
    os.chown(home, 65534, 65534)
    with pytest.raises(LabConfigError, match="belongs to another user"):
        lab_home()


def test_server_record_and_log_are_private(lab):
    from pathlib import Path

    from nexus_lab.config import lab_home

    assert (lab_home() / f"server-{lab.server.port}.json").stat().st_mode & 0o777 == 0o600
    assert Path(lab.server.log_path).stat().st_mode & 0o777 == 0o600


CELL = """
from temporalio import workflow
@workflow.defn
class PrivateProbe:
    @workflow.run
    async def run(self) -> int:
        return 1
import os, sys
from nexus_lab.cells import rehost
twin = rehost(PrivateProbe)
print('MODE', oct(os.stat(sys.modules[twin.__module__].__file__).st_mode & 0o777))
"""


def test_generated_cell_modules_are_private(tmp_path):
    """The kernel imports these modules: nobody else may read or change them."""
    from .kernels import Kernel

    kernel = Kernel({"NEXUS_LAB_HOME": str(tmp_path / "home")})
    try:
        assert "MODE 0o600" in kernel.run(CELL)
    finally:
        kernel.close()
