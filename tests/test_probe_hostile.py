"""Hostile and broken servers on loopback, asked through the real network transport.

Small asyncio servers on 127.53.201.0/24 (any 127.x address can be bound on Linux without
adding it) each misbehave one way: garbage, a wrong ID, a different question, truncation
then TCP, a hang-up mid-message, silence, endless slow or fast referrals, glue pointing
off loopback. The probe must keep what came back, time out where nothing did, stay inside
its deadline and query budget, never send outside the policy, and never raise. They listen
on an unprivileged port shared by all, which the transport is pointed at."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import cast

import dns.flags
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset
import pytest

from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.snapshot import Purpose, Server
from dnssec_doctor.model.snapshot import Transport as Via
from dnssec_doctor.model.verdict import Verdict
from dnssec_doctor.pipeline import analyze
from dnssec_doctor.probe import plan
from dnssec_doctor.probe.collect import collect
from dnssec_doctor.probe.settings import AddressPolicy, ProbeSettings
from dnssec_doctor.probe.transport import NetworkTransport, Reply

TIMEOUT = 0.5
APEX = {Purpose.DNSKEY, Purpose.SOA, Purpose.NS, Purpose.CDS, Purpose.CDNSKEY, Purpose.DENIAL}
DEPTHS = 12  # endless referrers: one address per level of the delegation
Behaviour = Callable[[bytes], list[tuple[float, bytes]]]  # (delay, datagram) to send back


def response(wire: bytes, *, aa: bool = True) -> dns.message.Message:
    message = dns.message.make_response(dns.message.from_wire(wire))
    if aa:
        message.flags |= dns.flags.AA
    return message


def answered(wire: bytes) -> bytes:
    message = response(wire)
    question = message.question[0]
    if question.rdtype == dns.rdatatype.A:
        message.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", "127.53.201.99"))
    return message.to_wire()


def garbage_with_id(wire: bytes) -> list[tuple[float, bytes]]:
    # QR set, TC clear (no TCP retry), 65535 questions that are not there.
    return [(0, wire[:2] + b"\x81\x80\xff\xff" + b"\xde\xad\xbe\xef" * 7)]


def garbage_without_id(wire: bytes) -> list[tuple[float, bytes]]:
    return [(0, bytes([wire[0] ^ 0xFF, wire[1]]) + b"\x00" * 30)]


def wrong_id(wire: bytes) -> list[tuple[float, bytes]]:
    reply = response(wire)
    reply.id ^= 0x5A5A
    return [(0, reply.to_wire())]


def wrong_id_then_right(wire: bytes) -> list[tuple[float, bytes]]:
    return [*wrong_id(wire), (0.05, answered(wire))]


def other_question(wire: bytes) -> list[tuple[float, bytes]]:
    query = dns.message.from_wire(wire)
    spoof = dns.message.make_response(dns.message.make_query("evil.example.", "A", id=query.id))
    return [(0, spoof.to_wire())]


def truncated(wire: bytes) -> list[tuple[float, bytes]]:
    reply = response(wire)
    reply.flags |= dns.flags.TC
    return [(0, reply.to_wire())]


def silent(wire: bytes) -> list[tuple[float, bytes]]:
    return []


def referrer(depth: int, delay: float, base: int) -> Behaviour:
    """A server for the zone ``depth`` labels deep that refers every question one label
    further down, to a server on the next address: a delegation without end."""

    def behave(wire: bytes) -> list[tuple[float, bytes]]:
        reply = response(wire, aa=False)
        qname = reply.question[0].name
        if len(qname) - 1 <= depth:
            reply.flags |= dns.flags.AA  # the name itself: an empty authoritative answer
            return [(delay, reply.to_wire())]
        child = qname.split(depth + 2)[1]
        ns = dns.name.from_text("ns", child)
        reply.authority.append(dns.rrset.from_text(child, 60, "IN", "NS", ns.to_text()))
        glue = f"127.53.201.{base + depth + 1}"
        reply.additional.append(dns.rrset.from_text(ns, 60, "IN", "A", glue))
        return [(delay, reply.to_wire())]

    return behave


def off_loopback(wire: bytes) -> list[tuple[float, bytes]]:
    reply = response(wire, aa=False)
    qname = reply.question[0].name
    if len(qname) < 3:
        return [(0, answered(wire))]
    child = qname.split(2)[1]
    ns = dns.name.from_text("ns", child)
    reply.authority.append(dns.rrset.from_text(child, 60, "IN", "NS", ns.to_text()))
    reply.additional.append(dns.rrset.from_text(ns, 60, "IN", "A", "192.0.2.53"))
    return [(0, reply.to_wire())]


def ipv6_glue(wire: bytes) -> list[tuple[float, bytes]]:
    """A referral whose only name server has only an IPv6 address."""
    reply = response(wire, aa=False)
    qname = reply.question[0].name
    if len(qname) < 3:
        return [(0, answered(wire))]
    child = qname.split(2)[1]
    ns = dns.name.from_text("ns", child)
    reply.authority.append(dns.rrset.from_text(child, 60, "IN", "NS", ns.to_text()))
    reply.additional.append(dns.rrset.from_text(ns, 60, "IN", "AAAA", "::1"))
    return [(0, reply.to_wire())]


UDP_BEHAVIOURS: dict[str, Behaviour] = {
    "garbage": garbage_with_id,
    "noise": garbage_without_id,
    "wrong-id": wrong_id,
    "wrong-id-then-right": wrong_id_then_right,
    "other-question": other_question,
    "truncating": truncated,
    "hang-up": truncated,
    "silent": silent,
    "off-loopback": off_loopback,
    "ipv6-glue": ipv6_glue,
}
for _depth in range(DEPTHS):
    UDP_BEHAVIOURS[f"slow-{_depth}"] = referrer(_depth, 0.3, 100)
    UDP_BEHAVIOURS[f"fast-{_depth}"] = referrer(_depth, 0.0, 150)
ADDRESSES = {
    mode: f"127.53.201.{index}"
    for index, mode in enumerate(
        [m for m in UDP_BEHAVIOURS if not m.startswith(("slow-", "fast-"))], start=1
    )
}
ADDRESSES.update({f"slow-{d}": f"127.53.201.{100 + d}" for d in range(DEPTHS)})
ADDRESSES.update({f"fast-{d}": f"127.53.201.{150 + d}" for d in range(DEPTHS)})


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, behave: Behaviour) -> None:
        self.behave = behave
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        for delay, reply in self.behave(data):
            loop.call_later(delay, self._send, reply, addr)

    def _send(self, reply: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)


async def _serve_tcp(mode: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        length = int.from_bytes(await reader.readexactly(2), "big")
        wire = await reader.readexactly(length)
        if mode == "hang-up":
            writer.write(b"\x00\x64" + wire[:10])  # promises 100 bytes, sends 10
        else:
            reply = answered(wire)
            writer.write(len(reply).to_bytes(2, "big") + reply)
        await writer.drain()
    writer.close()


@dataclass
class Hostile:
    port: int
    closers: list[Callable[[], object]] = field(default_factory=list)

    def address(self, mode: str) -> str:
        return ADDRESSES[mode]


async def _start(port: int) -> Hostile:
    loop = asyncio.get_running_loop()
    hostile = Hostile(port)
    try:
        for mode, behave in UDP_BEHAVIOURS.items():
            address = ADDRESSES[mode]
            endpoint, _ = await loop.create_datagram_endpoint(
                lambda behave=behave: _Udp(behave),  # type: ignore[misc]
                local_addr=(address, hostile.port),
            )
            hostile.port = endpoint.get_extra_info("sockname")[1]
            hostile.closers.append(endpoint.close)
            server = await asyncio.start_server(
                lambda r, w, mode=mode: _serve_tcp(mode, r, w),  # type: ignore[misc]
                address,
                hostile.port,
                reuse_address=True,
            )
            hostile.closers.append(server.close)
    except OSError:
        for close in hostile.closers:
            close()
        raise
    return hostile


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    started: Hostile | None = None
    try:
        for _ in range(5):  # the shared port may be taken on one of the addresses
            try:
                started = asyncio.run_coroutine_threadsafe(_start(0), loop).result(5)
                break
            except OSError:
                continue
        if started is None:
            pytest.skip("no free port shared by all hostile-server addresses")
        yield started
    finally:
        if started is not None:
            for close in started.closers:
                loop.call_soon_threadsafe(close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


class Spy(NetworkTransport):
    """The network transport, remembering every address it was asked to send to."""

    def __init__(self, port: int) -> None:
        super().__init__(port=port)
        self.addresses: list[str] = []

    async def exchange(
        self, query: dns.message.Message, server: Server, *, tcp: bool, timeout: float
    ) -> Reply:
        self.addresses.append(server.address)
        return await super().exchange(query, server, tcp=tcp, timeout=timeout)


def ask(hostile: Hostile, mode: str, *, tcp: bool = False) -> Reply:
    query = plan.make_query(plan.target_question(dns.name.from_text("www.test."), dns.rdatatype.A))
    transport = NetworkTransport(port=hostile.port)
    server = Server(hostile.address(mode), mode)
    return asyncio.run(transport.exchange(query, server, tcp=tcp, timeout=TIMEOUT))


def settings(hostile: Hostile, mode: str, **overrides: object) -> ProbeSettings:
    values: dict[str, object] = {
        "root_hints": (Server(hostile.address(mode), f"{mode}.root."),),
        "address_policy": AddressPolicy.LOOPBACK_ONLY,
        "timeout": TIMEOUT,
        "deadline": 3.0,
    }
    values.update(overrides)
    return ProbeSettings(**values)  # type: ignore[arg-type]


# --- the transport alone -------------------------------------------------------------


def test_garbage_with_our_id_is_kept_as_bytes(hostile: Hostile) -> None:
    reply = ask(hostile, "garbage")
    assert reply.error is None and reply.response is not None
    assert reply.response[6:] == b"\xde\xad\xbe\xef" * 7
    assert reply.duration is not None and reply.transport is Via.UDP


@pytest.mark.parametrize("mode", ["noise", "wrong-id", "other-question"])
def test_datagrams_that_cannot_be_the_reply_are_discarded(hostile: Hostile, mode: str) -> None:
    reply = ask(hostile, mode)
    assert (reply.response, reply.error, reply.duration) == (None, "timeout", None)
    assert reply.discarded == 1


def test_the_right_reply_after_a_wrong_one_is_taken(hostile: Hostile) -> None:
    reply = ask(hostile, "wrong-id-then-right")
    assert reply.error is None and reply.discarded == 1
    assert reply.response is not None
    assert dns.message.from_wire(reply.response).answer


def test_tcp_framing_and_hang_up(hostile: Hostile) -> None:
    whole = ask(hostile, "truncating", tcp=True)
    assert whole.transport is Via.TCP and whole.error is None
    assert whole.response is not None and dns.message.from_wire(whole.response).answer
    cut = ask(hostile, "hang-up", tcp=True)
    assert cut.error == "connection closed after 10 of 100 bytes"
    assert cut.response is not None and len(cut.response) == 10


def test_silence_and_refusal(hostile: Hostile) -> None:
    assert ask(hostile, "silent").error == "timeout"
    nobody = asyncio.run(
        NetworkTransport(port=hostile.port).exchange(
            plan.make_query(plan.target_question(dns.name.from_text("www.test."), dns.rdatatype.A)),
            Server("127.53.201.250"),
            tcp=False,
            timeout=TIMEOUT,
        )
    )
    assert nobody.error == "connection refused"
    name = asyncio.run(
        NetworkTransport(port=hostile.port).exchange(
            plan.make_query(plan.target_question(dns.name.from_text("www.test."), dns.rdatatype.A)),
            Server("localhost"),
            tcp=False,
            timeout=TIMEOUT,
        )
    )
    assert name.error == "not an IP address"


# --- whole collections -------------------------------------------------------------


def test_collection_keeps_garbage_and_goes_on(hostile: Hostile) -> None:
    snap = collect("www.test.", "A", settings(hostile, "garbage"), Spy(hostile.port))
    first = snap.exchanges[0]
    assert first.response is not None and first.error is None
    # The server answers (garbage), so it is alive: every apex question is still asked.
    assert [e.purpose for e in snap.exchanges][:1] == [Purpose.ANSWER]
    assert {e.purpose for e in snap.exchanges} == {Purpose.ANSWER, *APEX}
    assert all(e.response and e.response[6:] == b"\xde\xad\xbe\xef" * 7 for e in snap.exchanges)
    assert any("no usable answer" in note for note in snap.notes)
    # The analysis names the server whose answers cannot be read, and blames no DNSSEC link.
    report = analyze(snap, AnalysisOptions(now=snap.finished_at))
    malformed = [f for f in report.analysis.findings if f.code == "SERVER_MALFORMED_RESPONSE"]
    assert [f.servers for f in malformed] == [("garbage.root. (127.53.201.1)",)]
    assert report.diagnosis.verdict is Verdict.UNREACHABLE
    assert [f.code for f in report.diagnosis.causes] == ["ZONE_UNREACHABLE"]


def test_collection_retries_truncated_over_tcp(hostile: Hostile) -> None:
    snap = collect("www.test.", "A", settings(hostile, "truncating"), Spy(hostile.port))
    answers = [e for e in snap.exchanges if e.purpose is Purpose.ANSWER]
    assert [e.transport for e in answers] == [Via.UDP, Via.TCP]
    assert answers[0].id < answers[1].id
    udp, tcp = (dns.message.from_wire(e.response or b"") for e in answers)
    assert udp.flags & dns.flags.TC and tcp.answer
    # Every question was truncated, so every one was asked again over TCP.
    assert sum(e.transport is Via.TCP for e in snap.exchanges) == len(snap.exchanges) // 2


def test_silent_root_costs_one_timeout(hostile: Hostile) -> None:
    spy = Spy(hostile.port)
    snap = collect("www.test.", "A", settings(hostile, "silent"), spy)
    assert len(spy.addresses) == 1
    [only] = snap.exchanges
    assert only.error == "timeout" and only.response is None
    assert snap.finished_at - snap.collected_at < 2 * TIMEOUT
    assert any("unresponsive over UDP (timeout): 6 later" in note for note in snap.notes)


def test_endless_slow_referrals_stop_at_the_deadline(hostile: Hostile) -> None:
    deep = ".".join(["x"] * 30) + ".test."
    spy = Spy(hostile.port)
    snap = collect(deep, "A", settings(hostile, "slow-0", deadline=1.5), spy)
    assert snap.finished_at - snap.collected_at < 1.5 + 0.5 + 0.3
    assert any("deadline reached" in note for note in snap.notes)
    assert len(snap.zones) >= 3  # it did make progress before the deadline


def test_endless_fast_referrals_stop_at_the_query_budget(hostile: Hostile) -> None:
    deep = ".".join(["x"] * 30) + ".test."
    spy = Spy(hostile.port)
    snap = collect(deep, "A", settings(hostile, "fast-0", max_queries=40), spy)
    assert len(spy.addresses) == len(snap.exchanges) == 40
    assert any("query budget exhausted (40 queries)" in note for note in snap.notes)


def test_glue_off_loopback_is_never_asked(hostile: Hostile) -> None:
    spy = Spy(hostile.port)
    snap = collect("www.victim.test.", "A", settings(hostile, "off-loopback"), spy)
    assert spy.addresses and all(ipaddress.ip_address(a).is_loopback for a in spy.addresses)
    assert any("refuses 192.0.2.53" in note for note in snap.notes)
    assert [z.zone for z in snap.zones] == [".", "test."]


def test_ipv6_servers_without_an_ipv6_route_are_counted_not_asked(hostile: Hostile) -> None:
    spy = Spy(hostile.port)
    no_route = settings(hostile, "ipv6-glue", ipv6_route=lambda address: False)
    snap = collect("www.victim.test.", "A", no_route, spy)
    assert spy.addresses and "::1" not in spy.addresses
    assert any(note == "IPv6 skipped: no route to ns.test. (::1)" for note in snap.notes)
    report = analyze(snap, AnalysisOptions(now=snap.finished_at))
    [skipped] = [f for f in report.analysis.findings if f.code == "IPV6_SKIPPED"]
    assert skipped.params["count"] == 1
    # Which servers were not asked, and why.
    assert skipped.servers == ("ns.test. (::1)",)
    assert skipped.summary.endswith("this host has no IPv6 route (ns.test. (::1))")
    # From here the zone cannot be reached: not a DNSSEC fault; the finding says why.
    assert report.diagnosis.verdict is Verdict.UNREACHABLE


def test_a_probe_cut_short_by_its_own_deadline_is_indeterminate(hostile: Hostile) -> None:
    """--deadline 0.001: the deadline, not the servers, ended the waits. The answer is
    indeterminate, says the probe ran out of time and how to run it again, and blames no
    server and no zone."""
    from dnssec_doctor.render.text import render_text

    snap = collect("www.test.", "A", settings(hostile, "silent", deadline=0.2), Spy(hostile.port))
    assert [e.error for e in snap.exchanges] == ["timeout: cut short by the deadline"]
    report = analyze(snap, AnalysisOptions(now=snap.finished_at))
    codes = {f.code for f in report.analysis.findings}
    assert "PROBE_DEADLINE_REACHED" in codes
    assert not codes & {"ZONE_UNREACHABLE", "SERVER_UNRESPONSIVE"}
    assert report.diagnosis.verdict is Verdict.INDETERMINATE
    assert [f.code for f in report.diagnosis.causes] == ["PROBE_DEADLINE_REACHED"]
    [path] = report.diagnosis.recovery.paths
    [step] = path.steps
    assert step.commands == ("dnssec-doctor check www.test. A --deadline 60",)
    headline = render_text(report).splitlines()[:2]
    assert headline == [
        "www.test. A: INDETERMINATE",
        "No verdict: the probe's own deadline (0.2 s) ran out before any server of . "
        "answered: nothing is known about the zone.",
    ]
