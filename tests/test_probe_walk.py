"""The walk, offline: a tiny in-memory authoritative server stands in for the network, so
glueless delegations, hidden zone cuts, CNAME/DNAME chains and loops, dead servers, the
query budget and the address policy can be set up exactly. No packet is sent."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone

from dnssec_doctor.model.snapshot import Exchange, Purpose, Role, Server, Snapshot, load_snapshot
from dnssec_doctor.model.snapshot import Transport as Via
from dnssec_doctor.probe.collect import collect
from dnssec_doctor.probe.settings import AddressPolicy, ProbeSettings
from dnssec_doctor.probe.transport import ReplayTransport, Reply

ROOT_ADDRESS = "127.53.250.1"
HINTS = (Server(ROOT_ADDRESS, "a.root-servers."),)


def zone(origin: str, text: str) -> dns.zone.Zone:
    return dns.zone.from_text(
        f"$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n{text}",
        origin=origin,
        relativize=False,
    )


@dataclass
class ZoneServers:
    """Answers like an authoritative server for the zones each address serves; an
    address in ``dead`` times out; everything asked is kept in ``asked``."""

    served: dict[str, list[dns.zone.Zone]]
    dead: set[str] = field(default_factory=set)
    asked: list[tuple[str, str, str]] = field(default_factory=list)
    ignored: set[str] = field(default_factory=set)  # types every server leaves unanswered

    async def exchange(
        self, query: dns.message.Message, server: Server, *, tcp: bool, timeout: float
    ) -> Reply:
        await asyncio.sleep(0)
        via = Via.TCP if tcp else Via.UDP
        question = query.question[0]
        self.asked.append(
            (server.address, question.name.to_text(), dns.rdatatype.to_text(question.rdtype))
        )
        if server.address in self.dead or dns.rdatatype.to_text(question.rdtype) in self.ignored:
            return Reply(None, "timeout", None, via)
        response = answer(query, self.served.get(server.address, []))
        return Reply(response.to_wire(), None, 0.001, via)


def answer(query: dns.message.Message, zones: list[dns.zone.Zone]) -> dns.message.Message:
    response = dns.message.make_response(query)
    qname, qtype = query.question[0].name, query.question[0].rdtype
    enclosing = [z for z in zones if z.origin is not None and qname.is_subdomain(z.origin)]
    if not enclosing:
        response.set_rcode(dns.rcode.REFUSED)
        return response
    served = max(enclosing, key=lambda z: len(z.origin or dns.name.root))
    origin = served.origin
    assert origin is not None
    # Cuts and DNAMEs between the apex and the name, top down.
    for depth in range(len(origin) + 1, len(qname) + 1):
        name = qname.split(depth)[1]
        node = served.get_node(name)
        if node is None:
            continue
        ns = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS)
        if ns is not None and not (qtype == dns.rdatatype.DS and name == qname):
            response.authority.append(_rrset(name, ns))
            for rdata in ns:
                for glue_type in (dns.rdatatype.A, dns.rdatatype.AAAA):
                    glue = served.get_rdataset(rdata.target, glue_type)
                    if glue is not None and rdata.target.is_subdomain(origin):
                        response.additional.append(_rrset(rdata.target, glue))
            return response
        dname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.DNAME)
        if dname is not None and name != qname:
            response.flags |= dns.flags.AA
            response.answer.append(_rrset(name, dname))
            target = qname.relativize(name).derelativize(next(iter(dname)).target)
            response.answer.append(dns.rrset.from_text(qname, 300, "IN", "CNAME", str(target)))
            return response
    response.flags |= dns.flags.AA
    node = served.get_node(qname)
    if node is None:
        response.set_rcode(dns.rcode.NXDOMAIN)
    else:
        for rdtype in (qtype, dns.rdatatype.CNAME):
            found = node.get_rdataset(dns.rdataclass.IN, rdtype)
            if found is not None:
                response.answer.append(_rrset(qname, found))
                return response
    soa = served.get_rdataset(origin, dns.rdatatype.SOA)
    assert soa is not None
    response.authority.append(_rrset(origin, soa))
    return response


def _rrset(name: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(name, dns.rdataclass.IN, rdataset.rdtype)
    rrset.update(rdataset)
    return rrset


def root(delegations: str) -> dns.zone.Zone:
    return zone(".", f"@ NS a.root-servers.\na.root-servers. A {ROOT_ADDRESS}\n{delegations}")


def settings(**overrides: object) -> ProbeSettings:
    values: dict[str, object] = {
        "root_hints": HINTS,
        "address_policy": AddressPolicy.LOOPBACK_ONLY,
        "timeout": 0.5,
        "deadline": 5.0,
    }
    values.update(overrides)
    return ProbeSettings(**values)  # type: ignore[arg-type]


def exchanges(snap: Snapshot, **match: object) -> list[Exchange]:
    return [e for e in snap.exchanges if all(getattr(e, k) == v for k, v in match.items())]


def test_glueless_delegation_is_resolved_from_the_root() -> None:
    servers = ZoneServers(
        {
            ROOT_ADDRESS: [
                root(
                    "example. NS ns.provider.\n"
                    "provider. NS ns1.provider.\nns1.provider. A 127.53.250.2"
                )
            ],
            "127.53.250.2": [zone("provider.", "@ NS ns1\nns1 A 127.53.250.2\nns A 127.53.250.3")],
            "127.53.250.3": [zone("example.", "@ NS ns.provider.\nwww A 127.53.250.99")],
        }
    )
    snap = collect("www.example.", "A", settings(), servers)
    assert [z.zone for z in snap.zones] == [".", "example."]  # provider. is not on the path
    [cut] = [z for z in snap.zones if z.zone == "example."]
    assert cut.servers == (Server("127.53.250.3", "ns.provider."),)
    lookups = exchanges(snap, purpose=Purpose.ADDRESS)
    assert {(e.qname, e.qtype) for e in lookups} == {
        ("ns.provider.", "A"),
        ("ns.provider.", "AAAA"),
    }
    [final] = exchanges(snap, purpose=Purpose.ANSWER)
    assert final.server.address == "127.53.250.3" and final.zone == "example."
    assert [e.id for e in snap.exchanges] == list(range(1, len(snap.exchanges) + 1))


def test_circular_glueless_delegation_ends() -> None:
    servers = ZoneServers(
        {
            ROOT_ADDRESS: [
                root("a-example. NS ns.b-example.\nb-example. NS ns.a-example.\n"),
            ],
        }
    )
    snap = collect("www.a-example.", "A", settings(), servers)
    assert any("has no address" in note for note in snap.notes), snap.notes
    assert snap.extra["queries_sent"] < 40


def test_hidden_cut_behind_a_server_of_both_zones() -> None:
    both = [
        zone("example.", "@ NS ns.example.\nns A 127.53.250.2\nsub NS ns.example.\n"),
        zone("sub.example.", "@ NS ns.example.\nwww A 127.53.250.99\n"),
    ]
    servers = ZoneServers(
        {
            ROOT_ADDRESS: [root("example. NS ns.example.\nns.example. A 127.53.250.2")],
            "127.53.250.2": both,
        }
    )
    snap = collect("www.sub.example.", "A", settings(), servers)
    assert [(z.zone, z.parent) for z in snap.zones] == [
        (".", None),
        ("example.", "."),
        ("sub.example.", "example."),
    ]
    assert any("hidden zone cut: sub.example." in note for note in snap.notes)
    [ds] = exchanges(snap, purpose=Purpose.DS, qname="sub.example.")
    assert ds.zone == "sub.example."  # the child's DS, asked of example.'s server
    assert {e.zone for e in exchanges(snap, purpose=Purpose.ANSWER)} == {"sub.example."}
    assert exchanges(snap, purpose=Purpose.DNSKEY, zone="sub.example.")


def test_cname_and_dname_targets_are_walked_in_order() -> None:
    servers = ZoneServers(
        {
            ROOT_ADDRESS: [
                root(
                    "one. NS ns.one.\nns.one. A 127.53.250.2\n"
                    "two. NS ns.two.\nns.two. A 127.53.250.3\n"
                )
            ],
            "127.53.250.2": [zone("one.", "@ NS ns\nns A 127.53.250.2\napp CNAME x.old.two.")],
            "127.53.250.3": [
                zone("two.", "@ NS ns\nns A 127.53.250.3\nold DNAME new.two.\nx.new A 127.53.250.9")
            ],
        }
    )
    snap = collect("app.one.", "A", settings(), servers)
    assert snap.targets == (("app.one.", "A"), ("x.old.two.", "A"), ("x.new.two.", "A"))
    assert [z.zone for z in snap.zones] == [".", "one.", "two."]
    assert [z.via for z in snap.zones] == ["app.one.", "app.one.", "x.old.two."]
    # The root's apex questions are asked once, not once per target.
    assert len(exchanges(snap, purpose=Purpose.DNSKEY, zone=".")) == 1


def test_cname_loop_and_chain_bound() -> None:
    servers = ZoneServers(
        {
            ROOT_ADDRESS: [root("loop. NS ns.loop.\nns.loop. A 127.53.250.2")],
            "127.53.250.2": [
                zone(
                    "loop.",
                    "@ NS ns\nns A 127.53.250.2\na CNAME b\nb CNAME a\n"
                    + "".join(f"c{i} CNAME c{i + 1}\n" for i in range(20)),
                )
            ],
        }
    )
    looped = collect("a.loop.", "A", settings(), servers)
    assert looped.targets == (("a.loop.", "A"), ("b.loop.", "A"))
    assert any("redirection loop" in note for note in looped.notes)
    chained = collect("c0.loop.", "A", settings(max_redirects=3), servers)
    assert len(chained.targets) == 4
    assert any("more than 3 CNAME/DNAME" in note for note in chained.notes)


def two_server_zone(dead: bool) -> ZoneServers:
    return ZoneServers(
        {
            ROOT_ADDRESS: [
                root(
                    "example. NS ns1.example.\nexample. NS ns2.example.\n"
                    "ns1.example. A 127.53.250.2\nns2.example. A 127.53.250.3"
                )
            ],
            "127.53.250.2": [
                zone("example.", "@ NS ns1\n@ NS ns2\nns1 A 127.53.250.2\nns2 A 127.53.250.3")
            ],
        },
        dead={"127.53.250.3"} if dead else set(),
    )


def test_dead_server_costs_one_query() -> None:
    servers = two_server_zone(dead=True)
    snap = collect("www.example.", "A", settings(), servers)
    [dead] = [e for e in snap.exchanges if e.server.address == "127.53.250.3"]
    assert dead.error == "timeout" and dead.purpose is Purpose.ANSWER
    assert [a for a in servers.asked if a[0] == "127.53.250.3"] == [
        ("127.53.250.3", "www.example.", "A")
    ]
    alive = {(e.purpose, e.qtype) for e in exchanges(snap, zone="example.")}
    assert (Purpose.DNSKEY, "DNSKEY") in alive and (Purpose.DENIAL, "A") in alive
    assert any("ns2.example. (127.53.250.3) unresponsive" in n for n in snap.notes), snap.notes
    skipped = [s for s in snap.extra["skipped"] if s["server"]["address"] == "127.53.250.3"]
    assert len(skipped) == 6  # DNSKEY, SOA, NS, CDS, CDNSKEY, the denial probe
    assert snap.extra["queries_sent"] == len(snap.exchanges) == len(servers.asked)


def test_each_response_is_handed_over_as_it_arrives() -> None:
    """``answers`` (a check's parent parses them while its child probes) gets every
    response's bytes once, and nothing for a question that got none."""
    servers = ZoneServers(
        {
            ROOT_ADDRESS: [root("one. NS ns.one.\nns.one. A 127.53.250.2")],
            "127.53.250.2": [zone("one.", "@ NS ns\nns A 127.53.250.2\napp A 127.53.250.9")],
        },
        ignored={"CDS", "CDNSKEY"},
    )
    handed: list[bytes] = []
    snap = collect("app.one.", "A", settings(), servers, answers=handed.append)
    responses = [e.response for e in snap.exchanges if e.response]
    assert sorted(handed) == sorted(responses)
    assert len(responses) < len(snap.exchanges)  # the ignored questions: nothing handed


def test_a_server_that_ignores_one_type_is_not_dead() -> None:
    # Some servers (and firewalls) drop questions for types they do not know, such as CDS:
    # the server answered before, so later questions (the CNAME target) are still sent.
    servers = ZoneServers(
        {
            ROOT_ADDRESS: [root("one. NS ns.one.\nns.one. A 127.53.250.2")],
            "127.53.250.2": [
                zone("one.", "@ NS ns\nns A 127.53.250.2\napp CNAME x\nx A 127.53.250.9")
            ],
        },
        ignored={"CDS", "CDNSKEY"},
    )
    snap = collect("app.one.", "A", settings(), servers)
    assert ("127.53.250.2", "x.one.", "A") in servers.asked
    assert exchanges(snap, qname="x.one.", purpose=Purpose.ANSWER)[0].response is not None
    assert not [s for s in snap.extra["skipped"] if s["reason"] == "server unresponsive"]


def test_query_budget_is_a_hard_bound() -> None:
    servers = two_server_zone(dead=False)
    snap = collect("www.example.", "A", settings(max_queries=5), servers)
    assert len(snap.exchanges) == len(servers.asked) == 5
    assert any("query budget exhausted (5 queries)" in note for note in snap.notes)


def test_address_policy_and_ipv6_route() -> None:
    servers = ZoneServers(
        {
            ROOT_ADDRESS: [
                root(
                    "example. NS ns1.example.\nexample. NS ns2.example.\n"
                    "ns1.example. A 127.53.250.2\nns1.example. AAAA ::1\n"
                    "ns2.example. A 192.0.2.53"
                )
            ],
            "127.53.250.2": [zone("example.", "@ NS ns1\nns1 A 127.53.250.2\nwww A 127.0.0.9")],
        }
    )
    snap = collect("www.example.", "A", settings(ipv6_route=lambda address: False), servers)
    asked = {address for address, _, _ in servers.asked}
    assert "192.0.2.53" not in asked and "::1" not in asked
    assert any("IPv6 skipped" in note and "(::1)" in note for note in snap.notes), snap.notes
    assert any("refuses 192.0.2.53" in note for note in snap.notes)
    [cut] = [z for z in snap.zones if z.zone == "example."]
    assert {s.address for s in cut.servers} == {"127.53.250.2", "::1", "192.0.2.53"}


def test_resolvers_are_asked_three_ways() -> None:
    servers = two_server_zone(dead=False)
    servers.served["127.53.53.9"] = servers.served["127.53.250.2"]
    snap = collect("www.example.", "A", settings(resolvers=("127.53.53.9",)), servers)
    views = exchanges(snap, role=Role.RESOLVER)
    assert sorted((e.purpose, e.rd, e.do, e.cd) for e in views) == sorted(
        [
            (Purpose.RESOLVER_PLAIN, True, False, False),
            (Purpose.RESOLVER_DO, True, True, False),
            (Purpose.RESOLVER_CD, True, True, True),
        ]
    )
    assert all(e.zone is None for e in views)


def test_replay_and_json_round_trip() -> None:
    servers = two_server_zone(dead=True)
    original = collect("www.example.", "A", settings(), servers)
    assert load_snapshot(__import__("json").loads(original.dumps())) == original
    replayed = collect("www.example.", "A", settings(), ReplayTransport(original))
    assert _essence(replayed) == _essence(original)
    assert replayed.zones == original.zones and replayed.targets == original.targets


def _essence(snap: Snapshot) -> Counter[tuple[object, ...]]:
    return Counter(
        (
            *(e.role, e.purpose, e.zone, e.server, e.qname, e.qtype, e.rd, e.cd, e.do),
            *(e.transport, e.response, e.error),
        )
        for e in snap.exchanges
    )


@dataclass
class OptionDroppingServers(ZoneServers):
    """A middlebox in front of every server: queries carrying an EDNS option it does not
    know are dropped, and a DNSKEY answer over UDP comes back truncated (too large)."""

    def __post_init__(self) -> None:
        self.dropped = 0

    async def exchange(
        self, query: dns.message.Message, server: Server, *, tcp: bool, timeout: float
    ) -> Reply:
        via = Via.TCP if tcp else Via.UDP
        if query.options:
            self.dropped += 1
            await asyncio.sleep(timeout)  # as the network does: the wait comes first
            return Reply(None, "timeout", None, via)
        if not tcp and query.question[0].rdtype == dns.rdatatype.DNSKEY:
            await asyncio.sleep(0.1)  # comes after the probes have left
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA | dns.flags.TC
            return Reply(response.to_wire(), None, 0.001, via)
        return await super().exchange(query, server, tcp=tcp, timeout=timeout)


def test_a_dropped_probe_never_marks_a_server_dead_for_the_walk() -> None:
    """The probe with the unknown option goes unanswered; TCP itself works: the truncated
    DNSKEY answer is still asked again over TCP and answered (no false DNSKEY_MISSING),
    and the plain TCP probe is answered."""
    key = "@ DNSKEY 257 3 13 " + "A" * 86 + "=="
    servers = OptionDroppingServers(
        {
            ROOT_ADDRESS: [root("example. NS ns.example.\nns.example. A 127.53.250.2")],
            "127.53.250.2": [zone("example.", f"@ NS ns\nns A 127.53.250.2\n{key}\nwww A 1.2.3.4")],
        }
    )
    snap = collect("www.example.", "A", settings(transport_probes=True), servers)
    assert servers.dropped == 1
    [option] = exchanges(snap, purpose=Purpose.OPTION_PROBE)
    assert option.response is None and option.error == "timeout"
    [tcp] = exchanges(snap, purpose=Purpose.TCP_PROBE)
    assert tcp.response is not None
    dnskey = exchanges(snap, purpose=Purpose.DNSKEY, zone="example.", transport=Via.TCP)
    assert [e.response is not None for e in dnskey] == [True]
    assert not snap.extra.get("skipped")
