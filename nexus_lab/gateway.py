"""An mTLS front door for the embedded server, so chapter 10 can show a real handshake.

The bundled ``temporal server start-dev`` has no TLS options. Temporal Cloud checks a client's
certificate at its edge, against the CA a namespace accepts, before any request reaches the service;
this gateway does the same in front of the course's server: it terminates TLS, requires a client
certificate signed by the given CA, negotiates HTTP/2 (ALPN ``h2``, as gRPC clients require) and passes
the bytes on to the plain server. A client without a certificate, or with one from another CA, never
gets past the handshake. It runs in the caller's event loop (a notebook kernel's) until :meth:`close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path

from nexus_lab.errors import NexusLabError
from nexus_lab.server import LOOPBACK


class GatewayError(NexusLabError, OSError):
    """The gateway could not start (a certificate or key that does not load, a port in use)."""


class MtlsGateway:
    """``await MtlsGateway.start(...)``: listens on ``address``, forwards to ``upstream``."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self._server: asyncio.Server | None = None
        self.port = 0  # set by start(): the port the system chose, kept after close
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @classmethod
    async def start(cls, upstream: str, *, cert: Path | str, key: Path | str, client_ca: Path | str,
                    port: int = 0) -> MtlsGateway:
        """A gateway with server certificate ``cert``/``key`` that accepts clients signed by ``client_ca``."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.verify_mode = ssl.CERT_REQUIRED
        context.set_alpn_protocols(["h2"])
        try:
            context.load_cert_chain(str(cert), str(key))
            context.load_verify_locations(str(client_ca))
        except (OSError, ssl.SSLError) as err:
            raise GatewayError(f"The gateway's certificates do not load: {err}") from None
        gateway = cls(upstream)
        try:
            gateway._server = await asyncio.start_server(gateway._forward, LOOPBACK, port, ssl=context,
                                                         ssl_handshake_timeout=5)
        except OSError as err:
            raise GatewayError(f"The gateway cannot listen on port {port}: {err.strerror}") from None
        gateway.port = gateway._server.sockets[0].getsockname()[1]
        return gateway

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, _, port = self.upstream.rpartition(":")
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.close()
            return

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, ssl.SSLError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    sink.close()

        tasks = {asyncio.ensure_future(pipe(reader, up_writer)), asyncio.ensure_future(pipe(up_reader, writer))}
        self._pipes |= tasks
        try:
            await asyncio.gather(*tasks)
        finally:
            self._pipes -= tasks

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in self._pipes:
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    def __repr__(self) -> str:
        return f"<MtlsGateway {self.address} → {self.upstream} (client certificates required)>"
