"""The payload codec both teams share: every payload is compressed before it leaves a process.

A codec sits below the data converter: the JSON converter turns a ``Transaction`` into a payload, then
``encode`` rewrites the payload's bytes before the SDK sends them; ``decode`` reverses it on the way
in. The server stores (and shows in histories) only what ``encode`` produced. Real teams encrypt here
(samples-python's encryption sample uses AES-GCM); compression keeps this example free of keys and of
extra packages, and fails the same way when one side lacks it.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/zlib"


class ZlibCodec(PayloadCodec):
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata={"encoding": ENCODING}, data=zlib.compress(p.SerializeToString()))
                for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                decoded.append(p)  # not ours (written before the codec existed): leave it alone
                continue
            original = Payload()
            original.ParseFromString(zlib.decompress(p.data))
            decoded.append(original)
        return decoded
