"""What the names of a scan share: answers, referrals and server failures, TTL-bounded.

``CachingTransport`` sits between the collector and the network. The collector of every
name still asks every question that ``check`` asks and records every answer in its
snapshot, byte for byte, so the analysis is the same; only the network is spared:

- **answers**: the same question to the same server (same flags, same transport) within
  the answer's lowest TTL gets the bytes received the first time, its ID set to the new
  query's. Concurrent identical questions wait for the one in flight.
- **referrals**: a server that referred a name to a child zone C refers every name below
  C the same way (RFC 1034 4.3.2), so its referral is answered to them with the question
  rewritten, for as long as its TTLs allow. Not for the DS of C itself, which the parent
  answers with authority.
- **failures**: a refused connection, an unreachable address or an rcode without
  records (REFUSED, SERVFAIL) is kept ``failure_ttl`` seconds, so a lame server is asked
  once for all the names behind it. Timeouts are not kept (one lost datagram, or a wait
  cut short, must not fail other names); identical questions in flight still share one.

Bounds: at most ``max_bytes`` of memory for answers and referrals together, counted as
each response's length plus ``ENTRY_COST`` (the key, the reply and the table's own
entry: measured with tracemalloc, bench/scan/cache_bound.py), and at most ``max_entries``
answers and as many referrals; the least recently used go first; no entry kept longer
than ``max_ttl``. A name's own answers are never asked again by other names, so past a
budget that holds the shared ones (the root's and TLDs' answers and referrals, a hosting
provider's servers) memory buys nothing: the budget, not the number of names, bounds a
scan's memory (a count alone did not: 200,000 answers of a few hundred bytes each are
about 300 MB, and 200,000 of 64 KB would be 13 GB). Truncated answers are not kept (the
collector asks again over TCP, which is kept).

Retries: a question that times out is asked once more (after ``RETRY_PAUSE`` and the
back-off) before the timeout is the answer; ``check`` asks once, but a scan's busy machine
and many queries lose a datagram now and then, and the answer is the same evidence
whichever try got it. A retry that is answered (``rescued``) shows answers coming later
than the timeout — an overloaded machine, not a dead server, which times out twice — and
is reported to ``on_rescue``, so that the scanner runs fewer names at once.

Politeness: each server address is asked at most ``per_server_qps`` queries a second and
the network at most ``total_qps``; a server that times out or answers REFUSED is asked at
half its rate for ``BACKOFF_SECONDS``, as RRL-limited servers expect.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import dataclasses
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from dnssec_doctor.analysis.wire import parse_message
from dnssec_doctor.model.snapshot import Server
from dnssec_doctor.probe.transport import (
    Reply,
    Transport,
    is_truncated,
    normal_address,
    question_end,
)
from dnssec_doctor.scan.defaults import DEFAULT_CACHE_MB

BACKOFF_SECONDS = 10.0
MIN_QPS = 1.0
# A timed-out question waits this long before it is asked again: an overloaded machine or
# server gets the time to catch up, a lost datagram costs little more.
RETRY_PAUSE = 0.5
# Memory for kept answers and referrals (see the module's docstring) and what an entry
# costs besides its response's bytes.
DEFAULT_CACHE_BYTES = DEFAULT_CACHE_MB * 1024 * 1024
ENTRY_COST = 1_200


@dataclass
class CacheStats:
    """What the cache saved: questions asked by the collectors, and how each was met; and
    how often the machine could not keep up."""

    asked: int = 0  # exchanges the collectors made
    sent: int = 0  # of those, sent to the network
    answered: int = 0  # answered from a kept answer (or one in flight)
    referred: int = 0  # answered from a kept referral, question rewritten
    failed: int = 0  # answered from a kept failure
    retried: int = 0  # sent again after a timeout
    rescued: int = 0  # of those, answered: the first wait was too short, not the server dead
    overloads: int = 0  # times the scanner halved its names at once (engine.Window)

    def to_json(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class _Kept:
    reply: Reply
    expires: float


class _RateLimit:
    """A token bucket per server address and one for everything, with back-off."""

    def __init__(self, per_server: float, total: float, clock: Callable[[], float]) -> None:
        self.per_server = per_server
        self.total = total
        self.clock = clock
        self.next_slot: dict[str, float] = {}
        self.slowed_until: dict[str, float] = {}
        self.next_total = 0.0

    async def wait(self, address: str) -> None:
        now = self.clock()
        rate = self.per_server
        if self.slowed_until.get(address, 0.0) > now:
            rate = max(MIN_QPS, rate / 2)
        elif address in self.slowed_until:
            del self.slowed_until[address]
        # Reserve the next free slot of both buckets, then sleep until the later one.
        slot = max(now, self.next_slot.get(address, 0.0))
        self.next_slot[address] = slot + 1.0 / rate
        total_slot = max(now, self.next_total)
        self.next_total = total_slot + 1.0 / self.total
        delay = max(slot, total_slot) - now
        if len(self.next_slot) > 100_000:  # bounded: forget servers long idle
            self.next_slot = {a: t for a, t in self.next_slot.items() if t > now}
        if delay > 0:
            await asyncio.sleep(delay)

    def back_off(self, address: str) -> None:
        self.slowed_until[address] = self.clock() + BACKOFF_SECONDS


class CachingTransport:
    """A ``Transport`` that shares answers between the collectors of many names."""

    def __init__(
        self,
        inner: Transport,
        *,
        max_entries: int = 200_000,
        max_bytes: int = DEFAULT_CACHE_BYTES,
        max_ttl: float = 3600.0,
        failure_ttl: float = 30.0,
        timeout: float = 2.0,
        retries: int = 1,
        per_server_qps: float = 50.0,
        total_qps: float = 5000.0,
        clock: Callable[[], float] = time.monotonic,
        on_rescue: Callable[[], None] | None = None,
        retry_pause: float = RETRY_PAUSE,
    ) -> None:
        self.inner = inner
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.kept_bytes = 0  # what the kept answers and referrals cost (_cost)
        self.max_ttl = max_ttl
        self.failure_ttl = failure_ttl
        self.timeout = timeout  # the collector's per-query timeout
        self.retries = retries  # a timeout is asked again this many times before it counts
        self.clock = clock
        self.limit = _RateLimit(per_server_qps, total_qps, clock)
        # (address, tcp, the query's header and EDNS, its question) -> the answer
        self.answers: collections.OrderedDict[_AnswerKey, _Kept] = collections.OrderedDict()
        # (address, tcp, the query's header and EDNS, child zone) -> the referral
        self.referrals: collections.OrderedDict[tuple[str, bool, bytes, dns.name.Name], _Kept] = (
            collections.OrderedDict()
        )
        self.in_flight: dict[_AnswerKey, asyncio.Future[Reply]] = {}
        self.stats = CacheStats()
        # Told when a retry answers a question that had timed out: answers come later than
        # the timeout, so fewer names at once (the scanner's window, engine.py).
        self.on_rescue = on_rescue or (lambda: None)
        self.retry_pause = retry_pause

    async def exchange(
        self, query: dns.message.Message, server: Server, *, tcp: bool, timeout: float
    ) -> Reply:
        self.stats.asked += 1
        try:
            address = normal_address(server.address)
            flags, question = _query_keys(query)
        except (ValueError, struct.error, dns.exception.DNSException):
            return await self.inner.exchange(query, server, tcp=tcp, timeout=timeout)
        key = (address, tcp, flags, question)  # the query without its ID
        now = self.clock()
        kept = self._lookup(self.answers, key, now)
        if kept is not None:
            if kept.response is None:
                self.stats.failed += 1
            else:
                self.stats.answered += 1
            return _with_id(kept, query.id)
        referral = self._referral_for(query, address, tcp, flags, now)
        if referral is not None:
            self.stats.referred += 1
            return referral
        pending = self.in_flight.get(key)
        if pending is not None:
            shared = await asyncio.shield(pending)
            if shared.error != "timeout":
                self.stats.answered += 1
                return _with_id(shared, query.id)
            # Another name's wait timed out: this one asks for itself, as check would,
            # so that one lost datagram never fails every name that was waiting on it.
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.in_flight[key] = future
        try:
            await self.limit.wait(address)
            self.stats.sent += 1
            reply = await self.inner.exchange(query, server, tcp=tcp, timeout=timeout)
            for _ in range(self.retries):
                # A busy scan loses datagrams and runs late: a timeout is asked again
                # (after the back-off) before it counts. Not a wait the collector cut
                # short for its deadline, which also cancels this call when it comes.
                if reply.error != "timeout" or timeout < self.timeout:
                    break
                self.limit.back_off(address)
                await asyncio.sleep(self.retry_pause)
                await self.limit.wait(address)
                self.stats.sent += 1
                self.stats.retried += 1
                reply = await self.inner.exchange(query, server, tcp=tcp, timeout=timeout)
                if reply.error != "timeout":
                    self.stats.rescued += 1
                    self.on_rescue()
            self._keep(key, query, reply, address, tcp, flags)
            future.set_result(reply)
            return reply
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when none waits
            raise
        finally:
            del self.in_flight[key]

    # --- keeping ---------------------------------------------------------------------

    def _keep(
        self,
        key: _AnswerKey,
        query: dns.message.Message,
        reply: Reply,
        address: str,
        tcp: bool,
        flags: bytes,
    ) -> None:
        now = self.clock()
        if reply.response is None:
            if reply.error == "timeout":
                # Never kept: a timeout may be one lost datagram, or the wait cut short by
                # a collector's deadline or a busy event loop, and a kept one would fail
                # every name behind the server for failure_ttl. The server is slowed down.
                self.limit.back_off(address)
                return
            self._store(self.answers, key, _Kept(reply, now + self.failure_ttl))
            return
        if is_truncated(reply.response):
            return
        facts = _read_facts(reply.response)
        if facts is None:  # unreadable: kept as evidence by the collector, not here
            return
        if facts.rcode == dns.rcode.REFUSED:
            self.limit.back_off(address)
        lifetime = (
            self.failure_ttl if facts.lowest_ttl is None else min(facts.lowest_ttl, self.max_ttl)
        )
        if lifetime <= 0:
            return
        self._store(self.answers, key, _Kept(reply, now + lifetime))
        child = _referred_zone(facts, query)
        if child is not None and not facts.trailing:  # trailing bytes: not rewritten
            referral_key = (address, tcp, flags, child)
            self._store(self.referrals, referral_key, _Kept(reply, now + lifetime))

    def _store(self, table: collections.OrderedDict[Any, _Kept], key: Any, kept: _Kept) -> None:
        replaced = table.pop(key, None)
        if replaced is not None:
            self.kept_bytes -= _cost(replaced)
        table[key] = kept
        self.kept_bytes += _cost(kept)
        while len(table) > self.max_entries:
            self._forget(table)
        # Over the budget: the least recently used of this table go first, then of the
        # other (a referral and an answer may share one reply: each is counted, which
        # errs on the safe side).
        other = self.referrals if table is self.answers else self.answers
        while self.kept_bytes > self.max_bytes and (len(table) > 1 or other):
            self._forget(table if len(table) > 1 else other)

    def _forget(self, table: collections.OrderedDict[Any, _Kept], key: Any = None) -> None:
        """Drop ``key`` from ``table`` (its least recently used entry when None)."""
        if key is None:
            _, kept = table.popitem(last=False)
        else:
            kept = table.pop(key)
        self.kept_bytes -= _cost(kept)

    def _lookup(
        self, table: collections.OrderedDict[Any, _Kept], key: Any, now: float
    ) -> Reply | None:
        kept = table.get(key)
        if kept is None:
            return None
        if kept.expires <= now:
            self._forget(table, key)
            return None
        table.move_to_end(key)
        return kept.reply

    def _referral_for(
        self, query: dns.message.Message, address: str, tcp: bool, flags: bytes, now: float
    ) -> Reply | None:
        if not self.referrals or len(query.question) != 1:
            return None
        question = query.question[0]
        name = question.name
        while True:
            if not (name == question.name and question.rdtype == dns.rdatatype.DS):
                kept = self._lookup(self.referrals, (address, tcp, flags, name), now)
                if kept is not None:
                    return _rewritten(kept, query)
            if name == dns.name.root:
                return None
            name = name.parent()


def _cost(kept: _Kept) -> int:
    """What an entry is counted as against ``max_bytes``."""
    return ENTRY_COST + (len(kept.reply.response) if kept.reply.response is not None else 0)


def _with_id(reply: Reply, query_id: int) -> Reply:
    if reply.response is None or len(reply.response) < 2:
        return reply
    return dataclasses.replace(reply, response=query_id.to_bytes(2, "big") + reply.response[2:])


def _rewritten(reply: Reply, query: dns.message.Message) -> Reply | None:
    """The kept referral, answering ``query``'s question. The referral was parsed when the
    walk that asked it followed it (``analysis.wire`` keeps it): a copy of that message
    with this query's ID and question is written, not the bytes parsed again. Only a
    referral that parses whole is rewritten (no record set aside, no trailing bytes: the
    cache does not keep those as referrals)."""
    assert reply.response is not None
    try:
        parsed = parse_message(reply.response)
        if parsed.message is None or parsed.malformed:
            return None
        # A copy with sections of its own (``question`` is an item of ``sections``): the
        # kept message is never modified.
        message = copy.copy(parsed.message)
        message.sections = [list(query.question), *parsed.message.sections[1:]]
        message.id = query.id
        return dataclasses.replace(reply, response=message.to_wire())
    except Exception:  # cannot be rewritten: ask the server instead
        return None


# An answer's key: the server's address, TCP or not, and the query without its ID (its
# header and EDNS, then its question), as bytes: a key is kept with every answer.
_AnswerKey = tuple[str, bool, bytes, bytes]
_HEAD = struct.Struct("!HiIHH")  # flags, EDNS version (-1: none), EDNS flags, payload, options
# The headers seen, each kept once: a scan sends a handful of kinds of query, and every
# kept answer and referral would otherwise hold a copy of its query's.
_heads: dict[bytes, bytes] = {}
_MAX_HEADS = 256


def _query_keys(query: dns.message.Message) -> tuple[bytes, bytes]:
    """What makes two queries to one server the same, without their IDs: their header
    flags and EDNS record (version, flags with DO, payload, options), so a referral is only
    reused for the same kind of query, and their question. Written from the message's
    fields for a query of one question and nothing else, as every query of the probe is
    (writing the whole message costs more than the rest of the look-up); the wire form
    for any other message. Either way equal keys are equal bytes after the ID (the first
    byte tells the two ways apart)."""
    if (
        len(query.question) == 1
        and not (query.answer or query.authority or query.additional)
        and query.tsig is None
        and not query.pad
        and query.question[0].name.is_absolute()
    ):
        question = query.question[0]
        options = b""
        if query.edns >= 0:
            options = b"".join(map(_option_bytes, query.options))
            head = b"F" + _HEAD.pack(
                query.flags, query.edns, query.ednsflags, query.payload, len(options)
            )
        else:
            head = b"F" + _HEAD.pack(query.flags, -1, 0, 0, 0)
        head += options
        head = _heads.get(head) or _keep_head(head)
        name = b"".join(bytes((len(label),)) + label for label in question.name.labels)
        return head, name + struct.pack("!HH", question.rdtype, question.rdclass)
    wire = query.to_wire()
    end = question_end(wire)
    if not end:
        return b"W" + wire[2:], b""
    # Header flags (bytes 2-3) and everything after the question (the OPT record).
    return b"W" + wire[2:4] + wire[end:], wire[4:end]


def _option_bytes(option: dns.edns.Option) -> bytes:
    data = option.to_wire() or b""
    return struct.pack("!HH", option.otype, len(data)) + data


def _keep_head(head: bytes) -> bytes:
    if len(_heads) < _MAX_HEADS:
        _heads[head] = head
    return head


def _referred_zone(facts: _Facts, query: dns.message.Message) -> dns.name.Name | None:
    """The child zone a response refers the question to, if it is a referral."""
    if facts.rcode != dns.rcode.NOERROR or facts.answers or facts.authoritative:
        return None
    if facts.soa_in_authority or len(facts.ns_owners) != 1 or len(query.question) != 1:
        return None
    [child] = facts.ns_owners
    if not query.question[0].name.is_subdomain(child):
        return None
    return child


@dataclass(frozen=True)
class _Facts:
    """What the cache needs from a response, read from the header and the records'
    fixed fields (no RDATA is parsed: the collector parses every response already)."""

    rcode: int
    authoritative: bool
    answers: int
    lowest_ttl: int | None  # of every record but OPT
    ns_owners: frozenset[dns.name.Name]  # owners of NS records in the authority section
    soa_in_authority: bool
    trailing: bool  # bytes after the last record


def _read_facts(wire: bytes) -> _Facts | None:
    try:
        if len(wire) < 12:
            return None
        flags = int.from_bytes(wire[2:4], "big")
        counts = [int.from_bytes(wire[4 + 2 * i : 6 + 2 * i], "big") for i in range(4)]
        offset = 12
        for _ in range(counts[0]):
            offset = _skip_name(wire, offset) + 4
        lowest: int | None = None
        owners: set[dns.name.Name] = set()
        soa = False
        for index in range(counts[1] + counts[2] + counts[3]):
            start = offset
            offset = _skip_name(wire, offset)
            rdtype, _, ttl, length = struct.unpack_from("!HHIH", wire, offset)
            offset += 10 + length
            if offset > len(wire):
                return None
            if rdtype != dns.rdatatype.OPT:
                lowest = ttl if lowest is None else min(lowest, ttl)
            if counts[1] <= index < counts[1] + counts[2]:
                if rdtype == dns.rdatatype.NS:
                    owners.add(dns.name.from_wire(wire, start)[0])
                elif rdtype == dns.rdatatype.SOA:
                    soa = True
        return _Facts(
            rcode=flags & 0xF,
            authoritative=bool(flags & dns.flags.AA),
            answers=counts[1],
            lowest_ttl=lowest,
            ns_owners=frozenset(owners),
            soa_in_authority=soa,
            trailing=offset < len(wire),
        )
    except (IndexError, struct.error, dns.exception.DNSException):
        return None


def _skip_name(wire: bytes, offset: int) -> int:
    """The offset after the (possibly compressed) name at ``offset``."""
    while True:
        length = wire[offset]
        if length == 0:
            return offset + 1
        if length >= 0xC0:
            return offset + 2
        offset += length + 1
