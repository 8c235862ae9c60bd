"""The probe against the lab's real servers (NSD, Knot DNS, BIND, the resolvers).

Resolvers are left out of every collection but one, which asks a question no other test
asks: the lab's resolver tests rely on empty caches to see each scenario's EDE."""

from __future__ import annotations

import json
from collections import Counter

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.lab.scenarios import find_scenario
from dnssec_doctor.model.snapshot import Exchange, Purpose, Role, Snapshot, load_snapshot
from dnssec_doctor.probe.collect import (
    AddressPolicy,
    ProbeSettings,
    ReplayTransport,
    collect,
    read_root_hints,
    read_trust_anchors,
)

pytestmark = pytest.mark.lab

APEX = (Purpose.DNSKEY, Purpose.SOA, Purpose.NS, Purpose.CDS, Purpose.CDNSKEY, Purpose.DENIAL)


@pytest.fixture(scope="module")
def settings(lab: LabProfile) -> ProbeSettings:
    return ProbeSettings(
        root_hints=read_root_hints(lab.root_hints),
        trust_anchors=read_trust_anchors(lab.trust_anchor_ds),
        address_policy=AddressPolicy.LOOPBACK_ONLY,
        timeout=0.5,
        deadline=5.0,
    )


@pytest.fixture(scope="module")
def secure(settings: ProbeSettings) -> Snapshot:
    return collect(find_scenario("secure-nsec").query_name, "A", settings)


def scenario_snapshot(settings: ProbeSettings, slug: str) -> Snapshot:
    scenario = find_scenario(slug)
    return collect(scenario.query_name, scenario.qtype, settings)


def parsed(exchange: Exchange) -> dns.message.Message:
    assert exchange.response is not None, exchange
    return dns.message.from_wire(exchange.response)


def of(snap: Snapshot, purpose: Purpose, zone: str) -> list[Exchange]:
    return [e for e in snap.exchanges if e.purpose is purpose and e.zone == zone]


def test_secure_name_is_walked_from_the_root(secure: Snapshot) -> None:
    assert [(z.zone, z.parent) for z in secure.zones] == [
        (".", None),
        ("lab.", "."),
        ("secure-nsec.lab.", "lab."),
    ]
    assert secure.targets == (("www.secure-nsec.lab.", "A"),)
    for zone in (".", "lab.", "secure-nsec.lab."):
        [cut] = [z for z in secure.zones if z.zone == zone]
        for server in cut.servers:
            asked = {e.purpose for e in secure.exchanges if e.server == server and e.zone == zone}
            assert asked >= set(APEX), (zone, server)
        for purpose in (Purpose.DNSKEY, Purpose.SOA):
            for exchange in of(secure, purpose, zone):
                message = parsed(exchange)
                assert message.flags & dns.flags.AA and message.rcode() == dns.rcode.NOERROR
                assert any(r.rdtype == dns.rdatatype.RRSIG for r in message.answer), exchange
        [denial, *_] = of(secure, Purpose.DENIAL, zone)
        assert parsed(denial).rcode() == dns.rcode.NXDOMAIN
    # The DS of each child comes from every server of its parent.
    assert {e.server.address for e in of(secure, Purpose.DS, "lab.")} == {"127.53.0.1"}
    assert len(of(secure, Purpose.DS, "secure-nsec.lab.")) == 2  # ns1.lab., ns2.lab.
    for exchange in of(secure, Purpose.DS, "secure-nsec.lab."):
        ds = parsed(exchange).get_rrset(
            "answer", dns.name.from_text("secure-nsec.lab."), dns.rdataclass.IN, dns.rdatatype.DS
        )
        assert ds is not None and len(ds) == 1
    [answer] = [e for e in secure.exchanges if e.purpose is Purpose.ANSWER]
    assert answer.zone == "secure-nsec.lab."
    assert parsed(answer).answer
    assert {e.zone for e in secure.exchanges if e.purpose is Purpose.REFERRAL} == {".", "lab."}


def test_exchanges_are_recorded_in_the_order_sent(secure: Snapshot) -> None:
    assert [e.id for e in secure.exchanges] == list(range(1, len(secure.exchanges) + 1))
    times = [e.sent_at for e in secure.exchanges]
    assert times == sorted(times)
    assert secure.collected_at <= times[0] and times[-1] <= secure.finished_at
    assert all(e.role is Role.AUTHORITATIVE and e.do and not e.rd for e in secure.exchanges)
    assert all(e.error is None and e.duration is not None for e in secure.exchanges)
    assert secure.extra["queries_sent"] == len(secure.exchanges)
    assert len(secure.exchanges) < 60


def test_snapshot_round_trips_through_json(secure: Snapshot) -> None:
    assert load_snapshot(json.loads(secure.dumps())) == secure


def test_replay_reproduces_the_exchanges(settings: ProbeSettings, secure: Snapshot) -> None:
    replay = ReplayTransport(secure)
    again = collect(secure.name, secure.rdtype, settings, replay)
    assert replay.misses == 0
    assert essence(again) == essence(secure)
    assert again.zones == secure.zones and again.targets == secure.targets


def essence(snap: Snapshot) -> Counter[tuple[object, ...]]:
    return Counter(
        (e.purpose, e.zone, e.server, e.qname, e.qtype, e.transport, e.response, e.error)
        for e in snap.exchanges
    )


def test_cname_is_followed_into_the_target_zone(settings: ProbeSettings) -> None:
    snap = scenario_snapshot(settings, "cname-into-broken")
    assert snap.targets == (
        ("app.cname-into-broken.lab.", "A"),
        ("www.cname-target.mirror.", "A"),
    )
    cuts = {z.zone: z for z in snap.zones}
    assert cuts["cname-target.mirror."].parent == "mirror."
    assert cuts["cname-target.mirror."].via == "www.cname-target.mirror."
    assert of(snap, Purpose.DNSKEY, "cname-target.mirror.")
    assert of(snap, Purpose.DS, "cname-target.mirror.")
    answers = {e.zone for e in snap.exchanges if e.purpose is Purpose.ANSWER}
    assert answers == {"cname-into-broken.lab.", "cname-target.mirror."}
    # The root's apex is asked once although two names were walked through it.
    assert len(of(snap, Purpose.DNSKEY, ".")) == 1


@pytest.mark.parametrize("slug", ["lame", "dead-second-ns"])
def test_a_dead_server_is_asked_once(settings: ProbeSettings, slug: str) -> None:
    snap = scenario_snapshot(settings, slug)
    zone = find_scenario(slug).zone
    [cut] = [z for z in snap.zones if z.zone == zone]
    [dead] = [s for s in cut.servers if s.address.startswith("127.53.4.")]
    [exchange] = [e for e in snap.exchanges if e.server.address == dead.address]
    assert exchange.response is None and exchange.error in ("connection refused", "timeout")
    skipped = [s for s in snap.extra["skipped"] if s["server"]["address"] == dead.address]
    assert len(skipped) == len(APEX)
    assert any(f"({dead.address}) unresponsive" in note for note in snap.notes)
    assert snap.extra["queries_sent"] == len(snap.exchanges) < 50
    # Nothing else waited on it: every other exchange got its answer.
    assert all(e.response is not None for e in snap.exchanges if e is not exchange)


def test_dead_second_ns_leaves_the_first_fully_asked(settings: ProbeSettings) -> None:
    snap = scenario_snapshot(settings, "dead-second-ns")
    alive = [
        e
        for e in snap.exchanges
        if e.zone == "dead-second-ns.lab." and e.server.name == "ns1.dead-second-ns.lab."
    ]
    assert {e.purpose for e in alive} == {Purpose.ANSWER, *APEX}


def test_stale_secondary_is_asked_like_the_primary(settings: ProbeSettings) -> None:
    snap = scenario_snapshot(settings, "stale-secondary")
    soa = of(snap, Purpose.SOA, "stale-secondary.lab.")
    by_name = {e.server.name: e for e in soa}
    assert set(by_name) == {"ns1.stale-secondary.lab.", "ns2.stale-secondary.lab."}
    serials = {name: soa_serial(e) for name, e in by_name.items()}
    assert serials["ns2.stale-secondary.lab."] < serials["ns1.stale-secondary.lab."]
    for purpose in (Purpose.ANSWER, *APEX):
        assert len(of(snap, purpose, "stale-secondary.lab.")) == 2, purpose


def soa_serial(exchange: Exchange) -> int:
    [soa] = [r for r in parsed(exchange).answer if r.rdtype == dns.rdatatype.SOA]
    return int(soa[0].serial)


def test_resolvers_are_asked_three_ways(lab: LabProfile, settings: ProbeSettings) -> None:
    addresses = tuple(r.address for r in lab.resolvers)
    with_resolvers = ProbeSettings(
        root_hints=settings.root_hints,
        resolvers=addresses,
        address_policy=AddressPolicy.LOOPBACK_ONLY,
        timeout=2.0,
        deadline=5.0,
    )
    # A question no other test asks (see the module docstring).
    snap = collect("www.secure-nsec.lab.", "TXT", with_resolvers, clock=lambda: 1.0e9)
    views = [e for e in snap.exchanges if e.role is Role.RESOLVER]
    assert Counter(e.server.address for e in views) == dict.fromkeys(addresses, 3)
    for address in addresses:
        flags = {e.purpose: (e.rd, e.do, e.cd) for e in views if e.server.address == address}
        assert flags == {
            Purpose.RESOLVER_PLAIN: (True, False, False),
            Purpose.RESOLVER_DO: (True, True, False),
            Purpose.RESOLVER_CD: (True, True, True),
        }
    validated = [
        parsed(e)
        for e in views
        if e.purpose is Purpose.RESOLVER_DO and e.server.address == "127.53.53.1"
    ]
    assert validated[0].flags & dns.flags.AD
    assert snap.collected_at == snap.finished_at == 1.0e9  # the clock is an input
