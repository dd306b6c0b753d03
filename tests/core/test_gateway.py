"""Chapter 10's mTLS gateway: the handshake accepts the client certificate the CA signed and
refuses a client without one or with one from another CA, as an mTLS namespace's edge does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import TLSConfig

from nexus_lab.gateway import GatewayError, MtlsGateway


def _openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


def _ca(folder: Path, name: str) -> None:
    _openssl(folder, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
             f"{name}.pem", "-days", "1", "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE")


def _leaf(folder: Path, name: str, ca: str, usage: str) -> None:
    (folder / f"{name}.ext").write_text(f"basicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n"
                                        "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl(folder, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", f"/CN={name}")
    _openssl(folder, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "1", "-extfile", f"{name}.ext")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("certs")
    _ca(folder, "fraud-ca")
    _ca(folder, "other-ca")
    _leaf(folder, "gateway", "fraud-ca", "serverAuth")
    _leaf(folder, "fraud", "fraud-ca", "clientAuth")
    _leaf(folder, "intruder", "other-ca", "clientAuth")
    return folder


async def _connects(gateway: MtlsGateway, certs: Path, client: str | None) -> bool:
    pair = {} if client is None else {"client_cert": (certs / f"{client}.pem").read_bytes(),
                                      "client_private_key": (certs / f"{client}.key").read_bytes()}
    tls = TLSConfig(server_root_ca_cert=(certs / "fraud-ca.pem").read_bytes(), domain="localhost", **pair)
    try:
        connected = await Client.connect(gateway.address, namespace="default", tls=tls)
        await connected.workflow_service.get_system_info(GetSystemInfoRequest())
    except RuntimeError:
        return False
    return True


async def test_only_the_certificate_the_ca_signed_gets_through(lab, certs):
    gateway = await MtlsGateway.start(lab.address, cert=certs / "gateway.pem", key=certs / "gateway.key",
                                      client_ca=certs / "fraud-ca.pem")
    try:
        assert await _connects(gateway, certs, "fraud")
        assert not await _connects(gateway, certs, None)
        assert not await _connects(gateway, certs, "intruder")
        assert await _connects(gateway, certs, "fraud")  # a refused client leaves the gateway working
    finally:
        await gateway.close()
    assert not await _connects(gateway, certs, "fraud")  # closed: nothing listens any more


async def test_certificates_that_do_not_load_are_one_clear_error(lab, certs):
    with pytest.raises(GatewayError, match="do not load"):
        await MtlsGateway.start(lab.address, cert=certs / "missing.pem", key=certs / "gateway.key",
                                client_ca=certs / "fraud-ca.pem")
