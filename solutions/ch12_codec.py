"""Exercise ch12-codec: the payload codec both teams share.

Payments and Fraud agree to compress every payload that passes through Temporal (chapter 12 showed
why both sides need the same codec). Write ``ZlibCodec``:

* ``encode`` turns each payload into one with metadata ``encoding: binary/zlib`` whose data is the
  whole original payload (metadata and data: ``payload.SerializeToString()``) compressed with zlib;
* ``decode`` reverses that for payloads marked ``binary/zlib``, and returns every other payload
  unchanged (data written before the codec existed must stay readable);
* both return exactly one payload per payload, in the same order.

The check runs your codec on sample payloads, then on both teams' workers on the real server: a
Payments workflow calls ``getQuickScore`` through ``fraud-detection``, and the caller's history must
show only encoded input.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/zlib"


class ZlibCodec(PayloadCodec):
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        # --- TODO: one Payload per payload: metadata {"encoding": ENCODING}, data = the whole payload,
        #           serialized (p.SerializeToString()) and compressed (zlib.compress)
        return [Payload(metadata={"encoding": ENCODING}, data=zlib.compress(p.SerializeToString()))
                for p in payloads]
        # --- STARTER
        # return list(payloads)
        # --- END

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        # --- TODO: undo encode for payloads marked ENCODING (zlib.decompress, then Payload.ParseFromString);
        #           leave every other payload as it is
        decoded = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                decoded.append(p)
                continue
            original = Payload()
            original.ParseFromString(zlib.decompress(p.data))
            decoded.append(original)
        return decoded
        # --- STARTER
        # return list(payloads)
        # --- END
