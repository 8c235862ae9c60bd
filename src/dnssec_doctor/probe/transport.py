"""Asking one server one question: the transport protocol and its two implementations.

``NetworkTransport`` sends over UDP or TCP with asyncio and never raises for a network
problem: a timeout, a refused connection or an unreachable network is an error string in
the ``Reply``. Whatever bytes come back are kept as they are, malformed or not, because
the analysis turns them into findings. Only UDP datagrams that cannot be the reply are
dropped (wrong source, wrong ID, a different question), and counted.

``ReplayTransport`` answers from the exchanges of an earlier snapshot: the same probe run
offline, for tests and for re-running a collection without a network.

``ScriptedTransport`` answers from a function, as httpx's ``MockTransport`` does: given
the query, the server and the transport, it returns the response (a message or its bytes)
or None for a server that stays silent. Silence is reported as the network transport
reports it, a ``timeout``, at once: the probe sees a dead server without waiting for it.
Replayed validator test scenarios (``dnssec_doctor.replay``) run the probe this way.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import functools
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rdatatype

from dnssec_doctor.model import snapshot
from dnssec_doctor.model.snapshot import Exchange, Server, Snapshot

DNS_PORT = 53


@dataclass(frozen=True)
class Reply:
    """What came back for one query: the bytes, or why there are none."""

    response: bytes | None
    error: str | None  # None, "timeout", "connection refused", "network unreachable", ...
    duration: float | None  # seconds until the response; None when nothing came back
    transport: snapshot.Transport
    discarded: int = 0  # UDP datagrams dropped: wrong source, ID or question


class Transport(Protocol):
    async def exchange(
        self, query: dns.message.Message, server: Server, *, tcp: bool, timeout: float
    ) -> Reply: ...


def has_route(address: str) -> bool:
    """Whether the host has a route to ``address``: connect() on a UDP socket looks the
    route up and sends nothing."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((address, DNS_PORT))
    except (OSError, ValueError):
        return False
    return True


def is_truncated(wire: bytes) -> bool:
    """The TC bit of a response header, read from the bytes (they may not parse)."""
    return len(wire) >= 4 and bool(wire[2] & (dns.flags.TC >> 8))


@functools.lru_cache(maxsize=65536)
def normal_address(address: str) -> str:
    """``address`` in its one written form (``ipaddress``'s compressed text); ValueError
    when it is not an IP address. Remembered: every query of a scan names its server's
    address, and a scan asks few servers many times."""
    return ipaddress.ip_address(address).compressed


def question_end(wire: bytes) -> int:
    """The offset after the question of a query's wire form (its name is never
    compressed); 0 unless the bytes hold exactly one whole question."""
    if len(wire) < 12 or wire[4:6] != b"\x00\x01":
        return 0
    offset = 12
    while offset < len(wire) and 0 < wire[offset] < 0x40:
        offset += wire[offset] + 1
    if offset >= len(wire) or wire[offset] != 0 or offset + 5 > len(wire):
        return 0
    return offset + 5


def matches_query(wire: bytes, query: dns.message.Message) -> bool:
    """Whether a datagram can be the reply to ``query``: same ID, and the same question
    when it has a readable one. A reply whose question cannot be read is kept (it is a
    malformed response, and a finding); one that asks something else is not ours."""
    if len(wire) < 2 or int.from_bytes(wire[:2], "big") != query.id:
        return False
    try:
        header_only = dns.message.from_wire(wire, question_only=True, ignore_trailing=True)
    except Exception:  # hostile bytes: unreadable, but ours by ID, so kept as evidence
        return True
    if not header_only.question:
        return True  # FORMERR and friends may carry no question
    return [(q.name, q.rdtype, q.rdclass) for q in header_only.question] == [
        (q.name, q.rdtype, q.rdclass) for q in query.question
    ]


def describe_error(error: BaseException) -> str:
    """A short, stable description of a network error for the snapshot."""
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, asyncio.IncompleteReadError):
        return "connection closed"
    if isinstance(error, OSError):
        known = {
            errno.ENETUNREACH: "network unreachable",
            errno.EHOSTUNREACH: "host unreachable",
            errno.EADDRNOTAVAIL: "address not available",
            errno.EACCES: "permission denied",
            errno.EPERM: "permission denied",
            errno.EAFNOSUPPORT: "address family not supported",
        }
        if error.errno in known:
            return known[error.errno]
        if error.strerror:
            return error.strerror.lower()
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class _ReplyCatcher(asyncio.DatagramProtocol):
    """Waits for the one datagram that can be the reply and counts the others."""

    def __init__(
        self, query: dns.message.Message, source: tuple[str, int], sent: bytes = b""
    ) -> None:
        self.query = query
        self.source = source
        # The ID, the question count and the question as sent: a datagram that repeats
        # them byte for byte is the reply without parsing its question (most are).
        end = question_end(sent)
        self.same = (sent[:2], sent[4:6], sent[12:end]) if end else None
        self.discarded = 0
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.reply.done():
            return
        if _same_source(addr, self.source) and (
            self._repeats_question(data) or matches_query(data, self.query)
        ):
            self.reply.set_result(data)
        else:
            self.discarded += 1

    def _repeats_question(self, data: bytes) -> bool:
        if self.same is None:
            return False
        ident, count, question = self.same
        return (
            data[:2] == ident and data[4:6] == count and data[12 : 12 + len(question)] == question
        )

    def error_received(self, exc: Exception) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self.reply.done():
            self.reply.set_exception(exc)


def _same_source(addr: Any, source: tuple[str, int]) -> bool:
    try:
        return bool(
            ipaddress.ip_address(addr[0]) == ipaddress.ip_address(source[0])
            and int(addr[1]) == source[1]
        )
    except (TypeError, ValueError, IndexError):
        return False


class NetworkTransport:
    """UDP and TCP over the network. ``port`` exists for tests; DNS is on 53."""

    def __init__(self, *, port: int = DNS_PORT) -> None:
        self.port = port

    async def exchange(
        self, query: dns.message.Message, server: Server, *, tcp: bool, timeout: float
    ) -> Reply:
        used = snapshot.Transport.TCP if tcp else snapshot.Transport.UDP
        try:
            address = normal_address(server.address)
        except ValueError:
            # Never hand a name to the system resolver: only literal addresses are asked.
            return Reply(None, "not an IP address", None, used)
        try:
            wire = query.to_wire()
        except dns.exception.DNSException as error:
            return Reply(None, f"cannot encode the query: {error}", None, used)
        if tcp:
            return await self._tcp(wire, address, timeout)
        return await self._udp(wire, query, address, timeout)

    async def _udp(
        self, wire: bytes, query: dns.message.Message, address: str, timeout: float
    ) -> Reply:
        loop = asyncio.get_running_loop()
        started = loop.time()
        catcher = _ReplyCatcher(query, (address, self.port), wire)
        endpoint: asyncio.DatagramTransport | None = None
        try:
            async with asyncio.timeout(timeout):
                endpoint, _ = await loop.create_datagram_endpoint(
                    lambda: catcher, remote_addr=(address, self.port)
                )
                endpoint.sendto(wire)
                data = await catcher.reply
        except Exception as error:  # a network error is an answer, never a crash
            arrived = catcher.reply
            if not (
                isinstance(error, TimeoutError)
                and arrived.done()
                and not arrived.cancelled()
                and arrived.exception() is None
            ):
                return Reply(
                    None, describe_error(error), None, snapshot.Transport.UDP, catcher.discarded
                )
            # The reply came in the same turn of a busy event loop as the timeout: it
            # arrived in time, and is the answer.
            data = arrived.result()
        finally:
            if endpoint is not None:
                endpoint.close()
        duration = loop.time() - started
        return Reply(data, None, duration, snapshot.Transport.UDP, catcher.discarded)

    async def _tcp(self, wire: bytes, address: str, timeout: float) -> Reply:
        loop = asyncio.get_running_loop()
        started = loop.time()
        writer: asyncio.StreamWriter | None = None
        length = 0
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(address, self.port)
                writer.write(len(wire).to_bytes(2, "big") + wire)
                await writer.drain()
                length = int.from_bytes(await reader.readexactly(2), "big")
                data = await reader.readexactly(length)
        except asyncio.IncompleteReadError as error:
            if length and error.partial:
                # The server hung up mid-message: keep what came, it is evidence.
                return Reply(
                    error.partial,
                    f"connection closed after {len(error.partial)} of {length} bytes",
                    loop.time() - started,
                    snapshot.Transport.TCP,
                )
            return Reply(None, "connection closed", None, snapshot.Transport.TCP)
        except Exception as error:  # a network error is an answer, never a crash
            return Reply(None, describe_error(error), None, snapshot.Transport.TCP)
        finally:
            if writer is not None:
                writer.close()
        duration = loop.time() - started
        if not data:
            return Reply(None, "empty response", duration, snapshot.Transport.TCP)
        return Reply(data, None, duration, snapshot.Transport.TCP)


_ReplayKey = tuple[str, str, str, bool, bool, bool, snapshot.Transport]


def _replay_key(
    address: str, qname: str, qtype: str, rd: bool, cd: bool, do: bool, used: snapshot.Transport
) -> _ReplayKey:
    with contextlib.suppress(ValueError):
        address = ipaddress.ip_address(address).compressed
    try:
        qname = dns.name.from_text(qname).to_text().lower()
    except dns.exception.DNSException:
        qname = qname.lower()
    return (address, qname, qtype.upper(), rd, cd, do, used)


class ReplayTransport:
    """Answers each query with the response an earlier snapshot recorded for the same
    server, name, type, flags and transport; repeated questions get the recorded
    responses in order (the last one again once they run out). A question the snapshot
    has no answer for times out, as a silent server would (at once: no wait)."""

    def __init__(self, recorded: Snapshot) -> None:
        self._answers: dict[_ReplayKey, collections.deque[Exchange]] = {}
        for exchange in recorded.exchanges:
            key = _replay_key(
                exchange.server.address,
                exchange.qname,
                exchange.qtype,
                exchange.rd,
                exchange.cd,
                exchange.do,
                exchange.transport,
            )
            self._answers.setdefault(key, collections.deque()).append(exchange)
        self.misses = 0  # questions the snapshot has no answer for

    async def exchange(
        self, query: dns.message.Message, server: Server, *, tcp: bool, timeout: float
    ) -> Reply:
        await asyncio.sleep(0)  # let other queries run, as the network would
        used = snapshot.Transport.TCP if tcp else snapshot.Transport.UDP
        if not query.question:
            self.misses += 1
            return Reply(None, "timeout", None, used)
        question = query.question[0]
        key = _replay_key(
            server.address,
            question.name.to_text(),
            dns.rdatatype.to_text(question.rdtype),
            bool(query.flags & dns.flags.RD),
            bool(query.flags & dns.flags.CD),
            bool(query.ednsflags & dns.flags.DO),
            used,
        )
        queue = self._answers.get(key)
        if not queue:
            self.misses += 1
            return Reply(None, "timeout", None, used)
        exchange = queue.popleft() if len(queue) > 1 else queue[0]
        return Reply(exchange.response, exchange.error, exchange.duration, exchange.transport)


# What a scripted server does with one query: answer it (a message, or the bytes of one,
# malformed or not) or stay silent (None).
Handler = Callable[[dns.message.Message, Server, bool], dns.message.Message | bytes | None]


class ScriptedTransport:
    """Answers every query with what ``handler`` returns for it (query, server, tcp);
    None is a silent server: a ``timeout`` without the wait."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.silent = 0  # queries the handler left unanswered

    async def exchange(
        self, query: dns.message.Message, server: Server, *, tcp: bool, timeout: float
    ) -> Reply:
        await asyncio.sleep(0)  # let other queries run, as the network would
        used = snapshot.Transport.TCP if tcp else snapshot.Transport.UDP
        answer = self.handler(query, server, tcp)
        if answer is None:
            self.silent += 1
            return Reply(None, "timeout", None, used)
        if isinstance(answer, dns.message.Message):
            try:
                answer = answer.to_wire()
            except dns.exception.DNSException as error:
                return Reply(None, f"cannot encode the scripted response: {error}", None, used)
        return Reply(answer, None, 0.0, used)
