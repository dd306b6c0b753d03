"""A connection dropped under a request: the server recycles client connections, and a request
sent on one as it closes fails on the client side ("operation was canceled"). A CI run lost the
classroom's endpoint so. Registry calls and link checks ask again; the learner sees nothing."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from nexus_lab import registry
from nexus_lab.connection import connect_client


class CuttingProxy:
    """A TCP relay to the server that, when armed, resets the client's connection on the next bytes
    it sends: the request in flight is lost the way a recycled connection loses it."""

    def __init__(self, upstream: str):
        self.upstream_host, port = upstream.rsplit(":", 1)
        self.upstream_port = int(port)
        self.armed = 0
        self.cuts = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, from_client: bool) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    if from_client and self.armed:
                        self.armed -= 1
                        self.cuts += 1
                        writer.transport.abort()
                        up_writer.transport.abort()
                        return
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False),
                             return_exceptions=True)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()


@pytest.fixture
async def proxied(lab):
    proxy = CuttingProxy(lab.server.address)
    client = await connect_client(await proxy.start())
    await registry.ensure_namespace(client, "drops")
    yield proxy, client
    await proxy.close()


async def test_a_dropped_connection_under_an_endpoint_write_is_asked_again(proxied, unique):
    proxy, client = proxied
    proxy.armed = 1
    created = await registry.ensure_endpoint(client, f"drops-{unique}", namespace="drops", task_queue="q1")
    assert proxy.cuts == 1, "the fault was not injected"
    assert (created.namespace, created.task_queue) == ("drops", "q1")

    proxy.armed = 1  # a drop under the look-then-update of an existing endpoint
    updated = await registry.ensure_endpoint(client, f"drops-{unique}", namespace="drops", task_queue="q2")
    assert proxy.cuts == 2
    assert updated.task_queue == "q2"
    assert (await registry.find_endpoint(client, f"drops-{unique}")).task_queue == "q2"

    proxy.armed = 1
    assert await registry.delete_endpoint(client, f"drops-{unique}") in (True, False)
    assert proxy.cuts == 3
    assert await registry.find_endpoint(client, f"drops-{unique}") is None


async def test_drops_on_every_try_still_end_in_a_plain_message(proxied, unique):
    proxy, client = proxied
    proxy.armed = 100
    with pytest.raises(registry.RegistryError, match=f"endpoint 'drops-{unique}'") as caught:
        await registry.ensure_endpoint(client, f"drops-{unique}", namespace="drops", task_queue="q1")
    assert proxy.cuts == 3, "asked three times in all, then gave up"
    assert "\n" not in str(caught.value)
