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
