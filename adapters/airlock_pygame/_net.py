"""Network sends: every ``send(payload)`` of a frame leaves in ONE UDP datagram, in order.

Rule: a datagram is JSON ``{"seq": n, "payloads": [...]}``; ``seq`` counts datagrams from 0.
A frame whose datagram would exceed ``max_datagram`` bytes is split into several, still in
order. Each send is one ``airlock.enqueue`` of the sender's ``airlock.batch`` (``transmit``, in
the ``network`` phase): the core folds a flush's sends into one ``transmit`` call where the
frame's last send stood, counts each send in ``tick.stats`` (all but one ``batched``), and
``key=`` is the core's ``_key`` (a later send under the key replaces the earlier one). A
``ui=True`` send is enqueued with ``_dispatch_options={"ui": True}``: policies judge each send
on its own before the batch is folded, so ``Pause`` keeps it and drops the others. With no
frame open, a send waits for the next GameLoop frame (``_waiting``).

``max_datagram`` is an int from ``MIN_DATAGRAM`` to ``MAX_DATAGRAM`` (65,507: UDP's payload
limit over IPv4), checked when set. One bad payload (not JSON-serialisable, too big for a
datagram on its own, or refused by the socket even alone) is left out at flush: the frame's
other payloads still go out (a datagram the socket refuses as too long is split in halves until
it passes), then the frame's send effect fails with an error naming each payload left out
(counted in the frame's ``failed``, listed in ``tick.stats.failures`` and a GameLoop's
``errors``).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import json
import reprlib
import select
import socket
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import airlock

from ._phases import NETWORK, UI_OPTIONS
from ._waiting import post_to_latest

__all__ = ["MAX_DATAGRAM", "MIN_DATAGRAM", "LoopbackReceiver", "NetReport", "NetSender"]

#: what ``json.dumps`` raises for a payload it cannot encode (a nesting too deep for it:
#: RecursionError): that payload is left out, the others go
_UNENCODABLE = (TypeError, ValueError, RecursionError)

#: the largest UDP payload over IPv4 (65,535 - 8 byte UDP header - 20 byte IP header)
MAX_DATAGRAM = 65_507
#: the smallest ``max_datagram`` that still fits the envelope and a small payload
MIN_DATAGRAM = 64


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
        self.max_datagram = max_datagram  # checked by the property
        self.seq = 0
        self.totals = NetReport()
        self._pending = NetReport()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._batch = airlock.batch(self.transmit, phase=NETWORK)

    @property
    def max_datagram(self) -> int:
        """The largest datagram sent, in bytes; a frame's sends over it are split."""
        return self._max_datagram

    @max_datagram.setter
    def max_datagram(self, value: int) -> None:
        if type(value) is not int or not MIN_DATAGRAM <= value <= MAX_DATAGRAM:
            raise ValueError(
                f"max_datagram must be an int from {MIN_DATAGRAM} to {MAX_DATAGRAM:,} bytes "
                f"(UDP carries at most {MAX_DATAGRAM:,} bytes over IPv4), got {value!r}")
        self._max_datagram = value

    def send(self, payload: Any, *, key: object = None, ui: bool = False) -> None:
        """Send ``payload`` in this frame's datagram (at the end of the frame).

        With a ``key``, only the last payload sent under that key in a frame goes out (e.g. the
        latest position when a frame ran several fixed updates). Before any frame is open the
        payload joins the next GameLoop frame.
        """
        if key is None and not ui:  # the common send: no options to parse
            try:
                airlock.enqueue(self._batch, payload)
            except airlock.NoScopeError:
                post_to_latest("NetSender.send", self._batch, payload)
            return
        options: dict[str, Any] = {}
        if key is not None:
            options["_key"] = ("net", id(self), key)
        if ui:
            options["_dispatch_options"] = UI_OPTIONS
        try:
            airlock.enqueue(self._batch, payload, **options)
        except airlock.NoScopeError:
            post_to_latest("NetSender.send", self._batch, payload, **options)

    def take_report(self) -> NetReport:
        """The counts since the last call."""
        report, self._pending = self._pending, NetReport()
        return report

    def close(self) -> None:
        self._socket.close()

    def transmit(self, payloads: list[Any]) -> None:
        """Send a frame's payloads now (the batch handler), leaving out and reporting bad ones."""
        left_out: list[tuple[int, Any, Exception]] = []
        try:
            encoded = self._encode(payloads)  # the common frame: encoded once, sent at once
        except _UNENCODABLE:
            good = []
            for index, payload in enumerate(payloads):
                try:
                    json.dumps(payload)
                except _UNENCODABLE as exc:
                    left_out.append((index, payload, exc))
                else:
                    good.append((index, payload))
            self._send_in_datagrams(good, left_out)
        else:
            self._send_in_datagrams(list(enumerate(payloads)), left_out, encoded)
        if left_out:
            raise _left_out_error(left_out, len(payloads))

    def _encode(self, payloads: list[Any]) -> bytes:
        return json.dumps({"seq": self.seq, "payloads": payloads}, separators=(",", ":")).encode()

    def _send_in_datagrams(self, payloads: list[tuple[int, Any]],
                           left_out: list[tuple[int, Any, Exception]],
                           encoded: bytes | None = None) -> None:
        """Send ``(index, payload)`` pairs, halving them until each datagram fits and the
        socket takes it; a payload that fails alone goes to ``left_out``."""
        if not payloads:
            return
        if encoded is None:
            encoded = self._encode([p for _, p in payloads])
        error: Exception | None = None
        if len(encoded) > self.max_datagram:
            advice = _SMALLER if self.max_datagram == MAX_DATAGRAM else _SMALLER_OR_RAISE
            error = ValueError(f"it encodes to {len(encoded)} bytes, over max_datagram="
                               f"{self.max_datagram}; {advice}")
        else:
            try:
                self._socket.sendto(encoded, self.address)
            except OSError as exc:  # e.g. a platform with a lower datagram limit (EMSGSIZE)
                if exc.errno != errno.EMSGSIZE:
                    left_out.extend((index, payload, exc) for index, payload in payloads)
                    return
                error = exc
            else:
                self._count(encoded, len(payloads))
                return
        if len(payloads) > 1:
            half = len(payloads) // 2
            self._send_in_datagrams(payloads[:half], left_out)
            self._send_in_datagrams(payloads[half:], left_out)
        else:
            index, payload = payloads[0]
            left_out.append((index, payload, error))

    def _count(self, encoded: bytes, payloads: int) -> None:
        self.seq += 1
        for report in (self._pending, self.totals):
            report.datagrams += 1
            report.payloads += payloads
            report.bytes += len(encoded)


_SMALLER = f"send smaller payloads (a UDP datagram carries at most {MAX_DATAGRAM:,} bytes)"
_SMALLER_OR_RAISE = f"send smaller payloads or raise max_datagram (at most {MAX_DATAGRAM:,})"


def _left_out_error(left_out: list[tuple[int, Any, Exception]], total: int) -> Exception:
    """One error naming every payload a frame left out; its type is the first one's."""
    left_out.sort(key=lambda item: item[0])
    details = "; ".join(f"payload #{index} {reprlib.repr(payload)}: {exc}"
                        for index, payload, exc in left_out)
    error_type = type(left_out[0][2])
    return error_type(
        f"NetSender left {len(left_out)} of {total} payload(s) out of this frame's datagrams "
        f"(the other {total - len(left_out)} went out): {details}"
    )


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

    async def receive(self) -> dict[str, Any]:
        """Wait for the next datagram without blocking the event loop; return it (also kept
        in ``messages``). For a receiver that is one task of an asyncio program."""
        data = await asyncio.get_running_loop().sock_recv(self._socket, 65_536)
        message: dict[str, Any] = json.loads(data)
        self.messages.append(message)
        return message

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> LoopbackReceiver:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
