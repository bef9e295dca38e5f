"""Network sends: every ``send(payload)`` of a frame leaves in ONE UDP datagram, in order.

Rule: a datagram is JSON ``{"seq": n, "payloads": [...]}``; ``seq`` counts datagrams from 0.
A frame whose datagram would exceed ``max_datagram`` bytes is split into several, still in
order. Sends are an ``airlock.batch`` in the ``network`` phase.
"""

from __future__ import annotations

import ipaddress
import json
import select
import socket
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import airlock

from ._phases import NETWORK, ui_options

__all__ = ["LoopbackReceiver", "NetReport", "NetSender"]


@dataclass
class NetReport:
    """Network counts over some frames."""

    datagrams: int = 0
    payloads: int = 0
    bytes: int = 0


class NetSender:
    """Sends JSON-serialisable payloads to one UDP peer, batched into one datagram per frame."""

    def __init__(self, address: tuple[str, int], *, max_datagram: int = 60_000) -> None:
        self.address = address
        self.max_datagram = max_datagram
        self.seq = 0
        self.totals = NetReport()
        self._pending = NetReport()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._batch = airlock.batch(self._send_all, phase=NETWORK)

    def send(self, payload: Any, *, key: object = None, ui: bool = False) -> None:
        """Send ``payload`` in this frame's datagram (at the end of the frame).

        With a ``key``, only the last payload sent under that key in a frame goes out (e.g. the
        latest position when a frame ran several fixed updates).
        """
        airlock.enqueue(self._batch, payload, _dispatch_options=ui_options(ui),
                        _key=None if key is None else ("net", id(self), key))

    def take_report(self) -> NetReport:
        """The counts since the last call."""
        report, self._pending = self._pending, NetReport()
        return report

    def close(self) -> None:
        self._socket.close()

    def _send_all(self, payloads: list[Any]) -> None:
        data = json.dumps({"seq": self.seq, "payloads": payloads}, separators=(",", ":"))
        encoded = data.encode()
        if len(encoded) > self.max_datagram and len(payloads) > 1:
            half = len(payloads) // 2
            self._send_all(payloads[:half])
            self._send_all(payloads[half:])
            return
        if len(encoded) > self.max_datagram:
            raise ValueError(
                f"one payload encodes to {len(encoded)} bytes, over max_datagram="
                f"{self.max_datagram}; send smaller payloads or raise max_datagram"
            )
        self._socket.sendto(encoded, self.address)
        self.seq += 1
        for report in (self._pending, self.totals):
            report.datagrams += 1
            report.payloads += len(payloads)
            report.bytes += len(encoded)


class LoopbackReceiver:
    """A UDP socket on a loopback address that collects the datagrams a ``NetSender`` sends."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"LoopbackReceiver binds loopback addresses only, got {host!r}")
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((host, port))
        self._socket.setblocking(False)
        host, port = self._socket.getsockname()[:2]
        #: the (host, port) to send to
        self.address: tuple[str, int] = (str(host), int(port))
        self.messages: list[dict[str, Any]] = []

    @property
    def payloads(self) -> list[Any]:
        """Every payload received so far, in arrival order."""
        return [p for message in self.messages for p in message["payloads"]]

    def drain(self, timeout: float = 0.0) -> list[dict[str, Any]]:
        """Read every datagram waiting (waiting up to ``timeout`` s for the first); return them."""
        got: list[dict[str, Any]] = []
        wait = timeout
        while select.select([self._socket], [], [], wait)[0]:
            data = self._socket.recv(65_536)
            got.append(json.loads(data))
            wait = 0.0
        self.messages.extend(got)
        return got

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> LoopbackReceiver:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
