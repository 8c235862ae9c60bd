"""Round trips in a row: what the probe waits for one after another, against what the
hierarchy needs (``probe.rounds``). Counted from the snapshot, never timed, so a loaded
machine cannot make these fail; the latency benchmark (bench/latency.py) shows the time."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass

import dns.message
import dns.rrset
import pytest

from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.lab.scenarios import SCENARIOS, Scenario
from dnssec_doctor.model.snapshot import (
    Exchange,
    Purpose,
    Role,
    Server,
    Snapshot,
    Transport,
    ZoneCut,
    load_snapshot,
)
from dnssec_doctor.pipeline import lab_settings
from dnssec_doctor.probe.collect import collect
from dnssec_doctor.probe.rounds import answers_in_a_row, critical_path
from dnssec_doctor.probe.transport import Reply
from test_probe_walk import ROOT_ADDRESS, ZoneServers, exchanges, root, zone
from test_probe_walk import settings as walk_settings

ROOT = Server("192.0.2.1", "a.root.")
TLD = Server("192.0.2.10", "ns.tld.")
CHILD = Server("192.0.2.20", "ns.child.tld.")


def response(qname: str, qtype: str, *records: tuple[str, str, str]) -> bytes:
    """A response whose authority (NS) and additional (A) or answer sections hold
    ``records`` as (owner, type, data)."""
    message = dns.message.make_response(dns.message.make_query(qname, qtype))
    for owner, rdtype, data in records:
        rrset = dns.rrset.from_text(owner, 300, "IN", rdtype, data)
        if rdtype == "NS":
            message.authority.append(rrset)
        elif owner == qname:
            message.answer.append(rrset)
        else:
            message.additional.append(rrset)
    return message.to_wire()


def exchange(
    id: int,
    server: Server,
    zone: str,
    purpose: Purpose,
    qname: str,
    qtype: str,
    wire: bytes | None,
    after: int | None = None,
) -> Exchange:
    return Exchange(
        id=id,
        role=Role.AUTHORITATIVE,
        purpose=purpose,
        zone=zone,
        server=server,
        qname=qname,
        qtype=qtype,
        rd=False,
        cd=False,
        do=True,
        transport=Transport.UDP,
        sent_at=1_700_000_000.0 + id,
        duration=0.01,
        response=wire,
        after=after,
    )


def walk(*exchanges: Exchange) -> Snapshot:
    return Snapshot(
        name="www.child.tld.",
        rdtype="A",
        collected_at=1_700_000_000.0,
        finished_at=1_700_000_100.0,
        trust_anchors=(),
        zones=(ZoneCut(".", None, (ROOT,), "www.child.tld."),),
        exchanges=exchanges,
        targets=(("www.child.tld.", "A"),),
    )


REFERRAL_TO_TLD = response(
    "www.child.tld.", "A", ("tld.", "NS", "ns.tld."), ("ns.tld.", "A", TLD.address)
)
REFERRAL_TO_CHILD = response(
    "www.child.tld.",
    "A",
    ("child.tld.", "NS", "ns.child.tld."),
    ("ns.child.tld.", "A", CHILD.address),
)


def test_a_walk_of_three_zones_needs_three_answers_in_a_row() -> None:
    snapshot = walk(
        exchange(1, ROOT, ".", Purpose.REFERRAL, "www.child.tld.", "A", REFERRAL_TO_TLD),
        exchange(2, ROOT, ".", Purpose.DNSKEY, ".", "DNSKEY", None, after=1),
        exchange(3, TLD, "tld.", Purpose.REFERRAL, "www.child.tld.", "A", REFERRAL_TO_CHILD, 1),
        exchange(4, ROOT, "tld.", Purpose.DS, "tld.", "DS", None, after=1),
        exchange(5, TLD, "child.tld.", Purpose.DS, "child.tld.", "DS", None, after=3),
        exchange(6, CHILD, "child.tld.", Purpose.ANSWER, "www.child.tld.", "A", None, after=3),
        # The apex after the first answer of the server: one more than needed.
        exchange(7, CHILD, "child.tld.", Purpose.DNSKEY, "child.tld.", "DNSKEY", None, 6),
    )
    assert critical_path(snapshot) == 3
    assert answers_in_a_row(snapshot) == 4


def test_a_probe_that_waits_for_what_it_need_not_counts_it() -> None:
    """The same queries, each sent after the one before: the critical path stays 3."""
    snapshot = walk(
        exchange(1, ROOT, ".", Purpose.REFERRAL, "www.child.tld.", "A", REFERRAL_TO_TLD),
        exchange(2, ROOT, ".", Purpose.DNSKEY, ".", "DNSKEY", None, after=1),
        exchange(3, TLD, "tld.", Purpose.REFERRAL, "www.child.tld.", "A", REFERRAL_TO_CHILD, 2),
        exchange(4, CHILD, "child.tld.", Purpose.ANSWER, "www.child.tld.", "A", None, after=3),
    )
    assert critical_path(snapshot) == 3
    assert answers_in_a_row(snapshot) == 4


def test_glue_from_outside_the_zone_asked_does_not_shorten_the_path() -> None:
    """The root's answer names the child's server address (not its to give): the child's
    server is still known only from the TLD's referral."""
    poisoned = response(
        "www.child.tld.",
        "A",
        ("tld.", "NS", "ns.tld."),
        ("ns.tld.", "A", TLD.address),
        ("ns.child.tld.", "A", CHILD.address),
    )
    snapshot = walk(
        exchange(1, ROOT, ".", Purpose.REFERRAL, "www.child.tld.", "A", poisoned),
        exchange(2, TLD, "tld.", Purpose.REFERRAL, "www.child.tld.", "A", REFERRAL_TO_CHILD, 1),
        exchange(3, CHILD, "child.tld.", Purpose.ANSWER, "www.child.tld.", "A", None, after=2),
    )
    assert critical_path(snapshot) == 3


def test_after_survives_the_snapshot_file() -> None:
    snapshot = walk(
        exchange(1, ROOT, ".", Purpose.REFERRAL, "www.child.tld.", "A", REFERRAL_TO_TLD),
        exchange(2, TLD, "tld.", Purpose.REFERRAL, "www.child.tld.", "A", None, after=1),
    )
    again = load_snapshot(snapshot.to_json())
    assert [e.after for e in again.exchanges] == [None, 1]
    assert answers_in_a_row(again) == 2


@pytest.mark.lab
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.slug)
def test_the_probe_waits_for_at_most_one_answer_more_than_the_hierarchy_needs(
    lab: LabProfile, scenario: Scenario
) -> None:
    """On every lab question the answers the probe waited for one after another are at
    least the critical path (what the hierarchy needs) and at most one more (the first
    question to a server goes alone, so a dead server costs one timeout per check: its
    other questions wait for that answer)."""
    settings = dataclasses.replace(lab_settings(lab), resolvers=())
    snapshot = collect(scenario.query_name, scenario.qtype, settings)
    path = critical_path(snapshot)
    assert path >= 3  # the root, a TLD, the zone: every lab name is below a TLD
    assert all(e.after is None or e.after < e.id for e in snapshot.exchanges)
    # Fewer than the critical path would mean an exchange lost the answer it waited for.
    assert path <= answers_in_a_row(snapshot) <= path + 1, [
        (e.id, e.after, e.purpose.value, e.qname) for e in snapshot.exchanges
    ]


# --- a slow server is not waited for ----------------------------------------------------


@dataclass
class Slowed:
    """ZoneServers whose answers from some addresses come ``seconds`` late."""

    inner: ZoneServers
    slow: dict[str, float]

    async def exchange(
        self, query: dns.message.Message, server: Server, *, tcp: bool, timeout: float
    ) -> Reply:
        reply = await self.inner.exchange(query, server, tcp=tcp, timeout=timeout)
        late = self.slow.get(server.address, 0.0)
        if late:
            await asyncio.sleep(late)
            reply = dataclasses.replace(reply, duration=late)
        return reply


def slow_second_server(address: str) -> Slowed:
    """example. on a fast and a slow server (1 s); sub.example. below it on a third."""
    example = "@ NS ns1\n@ NS ns2\nns1 A 127.53.250.2\nns2 A 127.53.250.3\n"
    example += "sub NS ns.sub\nns.sub A 127.53.250.4\n"
    sub = zone("sub.example.", "@ NS ns\nns A 127.53.250.4\nwww A 127.53.250.9")
    servers = ZoneServers(
        {
            ROOT_ADDRESS: [
                root(
                    "example. NS ns1.example.\nexample. NS ns2.example.\n"
                    "ns1.example. A 127.53.250.2\nns2.example. A 127.53.250.3"
                )
            ],
            "127.53.250.2": [zone("example.", example)],
            "127.53.250.3": [zone("example.", example)],
            "127.53.250.4": [sub],
        }
    )
    return Slowed(servers, {address: SLOW})


SLOW = 1.0


def test_the_walk_goes_on_without_a_slow_server_and_keeps_its_answer() -> None:
    snap = collect(
        "www.sub.example.", "A", walk_settings(timeout=3.0), slow_second_server("127.53.250.3")
    )
    [slow] = exchanges(
        snap, server=Server("127.53.250.3", "ns2.example."), qname="www.sub.example."
    )
    assert slow.response is not None and slow.purpose is Purpose.REFERRAL  # kept as evidence
    [below] = exchanges(snap, zone="sub.example.", purpose=Purpose.ANSWER)
    assert below.response is not None
    # The sub zone was asked before the slow server's referral came.
    assert below.sent_at < slow.sent_at + SLOW, below.sent_at - slow.sent_at
    assert below.after != slow.id


def test_a_slow_server_of_the_last_zone_still_gives_an_answer() -> None:
    snap = collect(
        "www.example.", "A", walk_settings(timeout=3.0), slow_second_server("127.53.250.3")
    )
    answers = exchanges(snap, qname="www.example.", qtype="A", zone="example.")
    assert {e.server.address for e in answers} == {"127.53.250.2", "127.53.250.3"}
    assert all(e.purpose is Purpose.ANSWER and e.response is not None for e in answers)
