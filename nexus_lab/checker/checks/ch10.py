"""Chapter 10: envconfig profiles, loaded exactly as the SDK loads them (strictly) and, for the
course's own server, used to connect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexus_lab.checker.context import Check

CLOUD = {
    "payments-cloud": ("payments.a1b2c.tmprl.cloud:7233", "payments.a1b2c"),
    "fraud-cloud": ("fraud.a1b2c.tmprl.cloud:7233", "fraud.a1b2c"),
}
CERT, KEY = Path("/secrets/fraud.pem"), Path("/secrets/fraud.key")
TEST_KEY = "test-key-from-the-environment"


def _profile(c: Check, text: str, name: str, **options: Any) -> Any:
    from temporalio.envconfig import ClientConfigProfile

    try:
        return ClientConfigProfile.load(profile=name, config_source=text.encode(), config_file_strict=True, **options)
    except Exception as err:
        if "not found" in str(err):
            c.fail(f"There is no profile {name!r}: add a [profile.{name}] table.")
        c.fail(f"The SDK cannot load profile {name!r}: {err}")


def _expect_place(c: Check, profile: Any, name: str) -> None:
    address, namespace = CLOUD[name]
    c.expect(profile.address == address, f"Profile {name!r} has address {profile.address!r}; expected {address!r}.")
    c.expect(profile.namespace == namespace,
             f"Profile {name!r} has namespace {profile.namespace!r}; expected {namespace!r} (a Cloud namespace's "
             "name carries the account ID).")


async def check_profiles(c: Check) -> None:
    make = c.attr("temporal_toml", "def temporal_toml(lab_address: str) -> str")
    address = c.lab.address
    async with c.test("temporal_toml(address) returns TOML text"):
        text = make(address)
        c.expect(isinstance(text, str) and text.strip(), f"temporal_toml returned {text!r}; expected TOML text.")

    async with c.test("profile 'lab' connects to the course's server"):
        lab = _profile(c, text, "lab", disable_env=True)
        settings = lab.to_client_connect_config()
        c.expect(settings.get("target_host") == address and settings.get("namespace") == "payments",
                 f"Profile 'lab' gives address {settings.get('target_host')!r} and namespace "
                 f"{settings.get('namespace')!r}; expected {address!r} and 'payments'.")
        from nexus_lab import workshop_mode

        if not workshop_mode():  # the embedded server: really connect (a workshop room may need credentials)
            from nexus_lab.connection import LabConnectionError, connect_client

            target = settings.pop("target_host")
            try:
                await connect_client(target, timeout=5, **settings)
            except LabConnectionError as err:
                c.fail(f"Connecting with profile 'lab' failed: {err}. The course's server is plain (no TLS, no "
                       "API key): the lab profile needs only address and namespace.")

    async with c.test("profile 'payments-cloud' takes its API key from TEMPORAL_API_KEY, not from the file"):
        from_file = _profile(c, text, "payments-cloud", disable_env=True)
        _expect_place(c, from_file, "payments-cloud")
        c.expect(from_file.api_key is None,
                 "The file itself holds an API key: whoever reads the file (a repository, a backup, a screen share) "
                 "can act as Payments. Leave api_key out and let TEMPORAL_API_KEY supply it.")
        with_env = _profile(c, text, "payments-cloud", override_env_vars={"TEMPORAL_API_KEY": TEST_KEY})
        settings = with_env.to_client_connect_config()
        c.expect(settings.get("api_key") == TEST_KEY and settings.get("tls"),
                 "With TEMPORAL_API_KEY set, the profile should connect with that key over TLS; the SDK builds "
                 f"{sorted(k for k in settings if k != 'api_key')} "
                 f"({'with' if settings.get('api_key') else 'without'} the key, tls={bool(settings.get('tls'))}).")

    async with c.test("profile 'fraud-cloud' uses mTLS with the Fraud team's certificate"):
        fraud = _profile(c, text, "fraud-cloud", disable_env=True)
        _expect_place(c, fraud, "fraud-cloud")
        tls = fraud.tls
        c.expect(tls is not None and tls.client_cert is not None and tls.client_private_key is not None,
                 "Profile 'fraud-cloud' has no client certificate: add a [profile.fraud-cloud.tls] table with "
                 "client_cert_path and client_key_path.")
        c.expect((tls.client_cert, tls.client_private_key) == (CERT, KEY),
                 f"The certificate and key are {tls.client_cert!s} and {tls.client_private_key!s}; expected "
                 f"{CERT} and {KEY}.")
        c.expect(fraud.api_key is None, "Profile 'fraud-cloud' also sets an API key; this namespace uses mTLS only.")
