"""The same Lab API on an existing cluster, configured the SDK's way (envconfig profiles and
TEMPORAL_* variables); secrets never shown, failures in one line."""

from __future__ import annotations

import time

import pytest

import nexus_lab

from .story import FraudCheckWorkflow, Transaction

pytestmark = pytest.mark.no_server  # the fast tier: see tests/conftest.py


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_PROFILE",
                 "TEMPORAL_CONFIG_FILE", "TEMPORAL_TLS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


async def test_connect_by_environment_runs_the_same_api(lab, clean_env, unique):
    clean_env.setenv("TEMPORAL_ADDRESS", lab.server.address)
    clean_env.setenv("TEMPORAL_NAMESPACE", "default")
    remote = await nexus_lab.connect()
    assert remote.server is None and remote.address == lab.server.address
    await remote.namespace(f"remote-{unique}")
    await remote.endpoint(f"remote-{unique}", namespace=f"remote-{unique}", task_queue="tq")
    await remote.worker(namespace=f"remote-{unique}", task_queue="tq", workflows=[FraudCheckWorkflow])
    result = await remote.execute(FraudCheckWorkflow.run, Transaction("r", 5), namespace=f"remote-{unique}", task_queue="tq")
    assert result.approved is True
    await remote.stop()  # stops its workers; the cluster keeps running
    assert lab.server.is_running()


async def test_connect_by_profile_file(lab, clean_env, tmp_path):
    config = tmp_path / "temporal.toml"
    config.write_text(f'[profile.workshop]\naddress = "{lab.server.address}"\nnamespace = "default"\n')
    remote = await nexus_lab.connect("workshop", config_file=str(config))
    assert remote.default_namespace == "default"
    assert isinstance(await remote.endpoints(), nexus_lab.EndpointTable)
    await remote.stop()


def test_api_key_is_masked_and_turns_tls_on(clean_env):
    clean_env.setenv("TEMPORAL_ADDRESS", "my-ns.a1b2c.tmprl.cloud:7233")
    clean_env.setenv("TEMPORAL_API_KEY", "secret-key-value")
    shown = nexus_lab.describe_connection()
    assert shown["api_key"] == "***" and shown["tls"] is True
    assert "secret-key-value" not in repr(shown)


async def test_unreachable_cluster_is_one_line(clean_env):
    started = time.monotonic()
    with pytest.raises(nexus_lab.LabConnectionError) as caught:
        await nexus_lab.connect(address="127.0.0.1:1", api_key="secret-key-value", timeout=5)
    assert time.monotonic() - started < 6
    message = str(caught.value)
    assert "\n" not in message and "127.0.0.1:1" in message
    assert "secret-key-value" not in message and "backtrace" not in message.lower()


def test_no_address_at_all_says_how_to_configure(clean_env, tmp_path):
    clean_env.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "none.toml"))
    with pytest.raises(nexus_lab.LabConfigError, match="TEMPORAL_ADDRESS"):
        nexus_lab.describe_connection()
