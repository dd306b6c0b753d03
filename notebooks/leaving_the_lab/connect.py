"""One way for every process to connect: address and namespace from the environment, as in production.

``FRAUD_CODEC=off`` leaves the codec out, to show what one team without it sees.
"""

from __future__ import annotations

import dataclasses
import os

from temporalio.client import Client
from temporalio.converter import DataConverter

from leaving_the_lab.codec import ZlibCodec


def data_converter() -> DataConverter:
    if os.environ.get("FRAUD_CODEC", "on") == "off":
        return DataConverter.default
    return dataclasses.replace(DataConverter.default, payload_codec=ZlibCodec())


async def connect(namespace: str) -> Client:
    return await Client.connect(os.environ.get("TEMPORAL_ADDRESS", "127.0.0.1:7233"), namespace=namespace,
                                data_converter=data_converter())
