"""A loopback "sync server" (UDP on 127.0.0.1) and the client the board sends its events to.

The server counts datagrams and the events inside them; the client sends one datagram per
call with a list of events (the board enqueues each event through an ``airlock.batch``, so a
tick sends one datagram however many events it had).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

__all__ = ["SyncClient", "SyncServer"]


class SyncServer(asyncio.DatagramProtocol):
    """Counts what arrives; calls ``on_receive()`` after each datagram."""

    def __init__(self, on_receive: Callable[[], None] = lambda: None) -> None:
        self.datagrams = 0
        self.events = 0
        self.on_receive = on_receive
        self.transport: asyncio.DatagramTransport | None = None
        self.address: tuple[str, int] = ("127.0.0.1", 0)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", 0)
        )
        self.transport = transport
        self.address = transport.get_extra_info("sockname")[:2]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.datagrams += 1
        self.events += len(json.loads(data))
        self.on_receive()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class SyncClient:
    """Sends lists of events to the server, one datagram per ``send``."""

    def __init__(self, server: SyncServer) -> None:
        self.server = server
        self._transport: asyncio.DatagramTransport | None = None

    async def send(self, events: list[dict[str, str]]) -> None:
        """The async batch effect: one datagram carrying every event of the tick."""
        if self._transport is None:
            loop = asyncio.get_running_loop()
            self._transport, _ = await loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=self.server.address
            )
        self._transport.sendto(json.dumps(events).encode())

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
