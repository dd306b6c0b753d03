"""Exercise ch10-profiles: describe both teams' connections as envconfig profiles.

Payments and Fraud move to Temporal Cloud (account ``a1b2c``). ``temporal_toml`` returns the
content of their ``temporal.toml`` with three profiles:

- ``lab``: this course's embedded server at ``lab_address``, namespace ``payments`` (given);
- ``payments-cloud``: namespace ``payments.a1b2c`` at ``payments.a1b2c.tmprl.cloud:7233``, with an
  API key that comes from the ``TEMPORAL_API_KEY`` environment variable: never written in the file;
- ``fraud-cloud``: namespace ``fraud.a1b2c`` at ``fraud.a1b2c.tmprl.cloud:7233``, with mTLS: the
  client certificate ``/secrets/fraud.pem`` and its key ``/secrets/fraud.key``.

The check loads the text as the SDK does, strictly (an unknown key is an error, as it should be in
production), and connects to the course's server with the ``lab`` profile.
"""

from __future__ import annotations


def temporal_toml(lab_address: str) -> str:
    lab = f"""
[profile.lab]
address = "{lab_address}"
namespace = "payments"
"""
    # --- TODO: Add the profiles payments-cloud (API key from the environment) and fraud-cloud
    #           (mTLS: a [profile.fraud-cloud.tls] table with client_cert_path and client_key_path).
    cloud = """
[profile.payments-cloud]
address = "payments.a1b2c.tmprl.cloud:7233"
namespace = "payments.a1b2c"

[profile.fraud-cloud]
address = "fraud.a1b2c.tmprl.cloud:7233"
namespace = "fraud.a1b2c"

[profile.fraud-cloud.tls]
client_cert_path = "/secrets/fraud.pem"
client_key_path = "/secrets/fraud.key"
"""
    # --- STARTER
    # cloud = ""
    # --- END
    return lab + cloud
