"""The transport probes: each server of the zone that holds the name asked its SOA over TCP
(with an EDNS option no server knows) and over UDP with EDNS version 1.

Unit tests judge hand-built answers; the lab tests ask real servers behind the lab's
firewall (nftables rules in the tests' private network namespace) and real servers that
answer as RFC 6891 says."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from dnssec_doctor.analysis.context import Evidence
from dnssec_doctor.analysis.servers import check_servers
from dnssec_doctor.cli import main
from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.lab.runtime import FIREWALL_TABLE, firewall_rules
from dnssec_doctor.lab.scenarios import SCENARIOS, Blocked, Drop, find_scenario
from dnssec_doctor.model.snapshot import (
    QUERY_EDNS_PAYLOAD,
    TRANSPORT_PROBES,
    UNKNOWN_EDNS_OPTION,
    Exchange,
    Purpose,
    Role,
    Server,
    Snapshot,
    SnapshotError,
    Transport,
    ZoneCut,
    load_snapshot,
)
from dnssec_doctor.pipeline import lab_settings
from dnssec_doctor.probe import plan
from dnssec_doctor.probe.collect import collect

ZONE = "example."
ORIGIN = dns.name.from_text(ZONE)
NS1 = Server("192.0.2.1", "ns1.example.")
PARENT = Server("192.0.2.53", "a.root-servers.")


def answer(
    query: dns.message.Message,
    *,
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR,
    edns: int | None = 0,
    soa: bool = True,
) -> bytes:
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    if edns is None:
        response.use_edns(False)
    else:
        response.use_edns(edns, payload=1232)
    response.set_rcode(rcode)
    if soa and rcode == dns.rcode.NOERROR:
        response.answer.append(
            dns.rrset.from_text(
                ZONE, 300, "IN", "SOA", "ns1.example. hostmaster.example. 1 3600 600 86400 60"
            )
        )
    return response.to_wire()


def exchange(
    id: int, purpose: Purpose, transport: Transport, response: bytes | None, error: str | None
) -> Exchange:
    rdtype = "SOA" if purpose is not Purpose.ANSWER else "A"
    qname = ZONE if purpose is not Purpose.ANSWER else f"www.{ZONE}"
    return Exchange(
        id=id,
        role=Role.AUTHORITATIVE,
        purpose=purpose,
        zone=ZONE,
        server=NS1,
        qname=qname,
        qtype=rdtype,
        rd=False,
        cd=False,
        do=purpose is not Purpose.EDNS_PROBE,
        transport=transport,
        sent_at=1_700_000_000.0 + id,
        duration=None if response is None else 0.01,
        response=response,
        error=error,
        payload=QUERY_EDNS_PAYLOAD,
    )


def query(purpose: Purpose) -> dns.message.Message:
    return plan.make_query(plan.Question(purpose, ORIGIN, dns.rdatatype.SOA))


def snapshot(
    *,
    udp: bool = True,
    tcp: bytes | None = None,
    edns: bytes | None = None,
    option: bytes | None = b"as tcp",
) -> Snapshot:
    """ns1's SOA over UDP (answered, or a timeout), and the probes' outcomes (the one with
    the unknown option answered as plain TCP was, unless given)."""
    soa = answer(query(Purpose.SOA)) if udp else None
    if option == b"as tcp":
        option = answer(query(Purpose.OPTION_PROBE)) if tcp else None
    exchanges = [
        exchange(1, Purpose.SOA, Transport.UDP, soa, None if udp else "timeout"),
        exchange(2, Purpose.TCP_PROBE, Transport.TCP, tcp, None if tcp else "timeout"),
        exchange(3, Purpose.EDNS_PROBE, Transport.UDP, edns, None if edns else "timeout"),
        exchange(4, Purpose.OPTION_PROBE, Transport.TCP, option, None if option else "timeout"),
    ]
    return Snapshot(
        name=f"www.{ZONE}",
        rdtype="A",
        collected_at=1_700_000_000.0,
        finished_at=1_700_000_010.0,
        trust_anchors=(),
        zones=(ZoneCut(".", None, (PARENT,), f"www.{ZONE}"), ZoneCut(ZONE, ".", (NS1,), ZONE)),
        exchanges=tuple(exchanges),
        targets=((f"www.{ZONE}", "A"),),
    )


def codes(snap: Snapshot) -> dict[str, str]:
    return {f.code: f.summary for f in check_servers(Evidence.of(snap), ZONE)}


GOOD_TCP = answer(query(Purpose.TCP_PROBE))
BADVERS = answer(query(Purpose.EDNS_PROBE), rcode=dns.rcode.BADVERS)


def test_the_probes_ask_what_their_purpose_says() -> None:
    tcp, option, udp = plan.transport_probes(ORIGIN)
    assert tcp[1] and option[1] and not udp[1]
    tcp_query = plan.make_query(tcp[0])
    assert tcp_query.edns == 0 and not tcp_query.options  # plain TCP: nothing else tested
    option_query = plan.make_query(option[0])
    assert option_query.edns == 0 and option_query.ednsflags & dns.flags.DO
    assert [o.otype for o in option_query.options] == [UNKNOWN_EDNS_OPTION]
    edns_query = plan.make_query(udp[0])
    assert edns_query.edns == 1 and not edns_query.options
    # No two probes, nor a probe and the walk's SOA (DO, UDP), share a replay key.
    forms = {(q.do, over_tcp) for q, over_tcp in plan.transport_probes(ORIGIN)}
    assert len(forms) == 3 and (True, False) not in forms
    # The dig commands in the log reproduce them.
    probe = exchange(2, Purpose.TCP_PROBE, Transport.TCP, None, "timeout")
    assert "+tcp" in probe.dig_command() and "+ednsopt" not in probe.dig_command()
    probe = exchange(4, Purpose.OPTION_PROBE, Transport.TCP, None, "timeout")
    assert "+tcp" in probe.dig_command() and f"+ednsopt={UNKNOWN_EDNS_OPTION}:" in (
        probe.dig_command()
    )
    version = exchange(3, Purpose.EDNS_PROBE, Transport.UDP, None, "timeout")
    assert "+edns=1 +noednsneg" in version.dig_command()


def test_a_server_that_answers_every_probe_as_rfc_6891_says_is_not_reported() -> None:
    assert codes(snapshot(tcp=GOOD_TCP, edns=BADVERS)) == {}


def test_udp_without_tcp() -> None:
    found = codes(snapshot(tcp=None, edns=BADVERS))
    assert found == {
        "SERVER_NO_TCP": "ns1.example. (192.0.2.1) answers over UDP but not over TCP (timeout)"
    }


def test_tcp_without_udp_replaces_unresponsive() -> None:
    found = codes(snapshot(udp=False, tcp=GOOD_TCP))
    assert set(found) == {"SERVER_NO_UDP"}  # not SERVER_UNRESPONSIVE: it answers over TCP


def test_a_server_silent_everywhere_is_unresponsive_only() -> None:
    assert set(codes(snapshot(udp=False))) == {"SERVER_UNRESPONSIVE"}


@pytest.mark.parametrize(
    ("edns", "said"),
    [
        (None, "answered queries with EDNS version 0 over UDP but not a query with EDNS version 1"),
        (answer(query(Purpose.EDNS_PROBE)), "answered NOERROR to a query"),
        (answer(query(Purpose.EDNS_PROBE), edns=None), "answered NOERROR without an OPT record"),
        (answer(query(Purpose.EDNS_PROBE), rcode=dns.rcode.FORMERR), "answered FORMERR to"),
        (
            answer(query(Purpose.EDNS_PROBE), rcode=dns.rcode.BADVERS, edns=1),
            "answered BADVERS in an OPT record of version 1",
        ),
    ],
)
def test_edns_version_1_mishandled(edns: bytes | None, said: str) -> None:
    found = codes(snapshot(tcp=GOOD_TCP, edns=edns))
    assert set(found) == {"EDNS_VERSION_MISHANDLED"}
    assert said in found["EDNS_VERSION_MISHANDLED"]


def test_an_unknown_option_refused() -> None:
    refused = answer(query(Purpose.OPTION_PROBE), rcode=dns.rcode.FORMERR)
    found = codes(snapshot(tcp=GOOD_TCP, edns=BADVERS, option=refused))
    assert found == {
        "EDNS_OPTION_NOT_IGNORED": "ns1.example. (192.0.2.1) answered FORMERR to a query "
        "carrying an unknown EDNS option (RFC 6891: unknown options are ignored)"
    }


def test_an_unknown_option_dropped_is_not_a_server_without_tcp() -> None:
    """A middlebox that drops queries with an unknown option: plain TCP answered, so the
    silence is the option's, never SERVER_NO_TCP."""
    found = codes(snapshot(tcp=GOOD_TCP, edns=BADVERS, option=None))
    assert found == {
        "EDNS_OPTION_NOT_IGNORED": "ns1.example. (192.0.2.1) did not answer a query "
        "carrying an unknown EDNS option (RFC 6891: unknown options are ignored)"
    }
    # TCP itself dropped: that alone, the option's silence says nothing more.
    assert set(codes(snapshot(tcp=None, edns=BADVERS, option=None))) == {"SERVER_NO_TCP"}


def test_a_server_that_does_not_serve_the_zone_is_not_judged_on_edns() -> None:
    refused = snapshot(
        tcp=GOOD_TCP, edns=answer(query(Purpose.EDNS_PROBE), rcode=dns.rcode.REFUSED)
    )
    exchanges = list(refused.exchanges)
    exchanges[0] = dataclasses.replace(
        exchanges[0], response=answer(query(Purpose.SOA), rcode=dns.rcode.REFUSED)
    )
    found = codes(dataclasses.replace(refused, exchanges=tuple(exchanges)))
    assert "EDNS_VERSION_MISHANDLED" not in found and "SERVER_REFUSED" in found


def test_a_snapshot_without_probes_says_nothing_of_transports() -> None:
    snap = snapshot(tcp=GOOD_TCP, edns=BADVERS)
    without = dataclasses.replace(snap, exchanges=snap.exchanges[:1])
    assert codes(without) == {}


def test_firewall_rules_match_the_edns_version_in_the_probe_bytes() -> None:
    apex = dns.name.from_text("edns-version-dropped.lab.")
    rules = firewall_rules(
        [
            Blocked("127.53.9.1", Drop.TCP, apex),
            Blocked("fd53::9:2", Drop.UDP, apex),
            Blocked("127.53.9.3", Drop.EDNS_VERSION_1, apex),
        ]
    )
    assert f"table inet {FIREWALL_TABLE}" in rules
    assert "ip daddr 127.53.9.1 tcp dport 53 drop" in rules
    assert "ip6 daddr fd53::9:2 udp dport 53 drop" in rules
    wire = plan.make_query(
        next(q for q, _ in plan.transport_probes(apex) if q.purpose is Purpose.EDNS_PROBE)
    ).to_wire()
    udp = bytes(8) + wire  # the offsets count from the UDP header
    length = len(apex.to_wire() or b"")
    assert udp[25 + length : 27 + length] == b"\x00\x29"  # the OPT record's type
    assert udp[30 + length] == 1  # its EDNS version
    assert f"@th,{(25 + length) * 8},16 0x0029 @th,{(30 + length) * 8},8 0x01 drop" in rules


# --- against the lab's real servers -------------------------------------------------------


@pytest.mark.lab
@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("tcp-blocked", "SERVER_NO_TCP"),
        ("udp-blocked", "SERVER_NO_UDP"),
        ("edns-version-dropped", "EDNS_VERSION_MISHANDLED"),
    ],
)
def test_a_server_behind_the_firewall_is_named(lab: LabProfile, slug: str, code: str) -> None:
    from dnssec_doctor.diagnosis.report import build_report
    from dnssec_doctor.model.options import AnalysisOptions

    scenario = find_scenario(slug)
    snap = collect(scenario.query_name, scenario.qtype, lab_settings(lab, timeout=1.0))
    report = build_report(snap, AnalysisOptions(now=snap.finished_at))
    [finding] = [f for f in report.analysis.findings if f.code == code]
    [server] = finding.servers
    assert server.endswith(f"(127.53.9.{SCENARIOS.index(scenario) + 1})")
    assert finding.zone == scenario.zone
    # Only that server and only that code: the others answer as RFC 6891 says.
    transports = {"SERVER_NO_TCP", "SERVER_NO_UDP", "EDNS_VERSION_MISHANDLED"}
    assert {f.code for f in report.analysis.findings} & transports == {code}


@pytest.mark.lab
def test_real_servers_answer_the_probes_and_scan_sends_none(lab: LabProfile) -> None:
    """NSD, Knot DNS and PowerDNS answer BADVERS to EDNS version 1 and ignore the unknown
    option over TCP; three probes go to each server of the zone that holds the name, none
    elsewhere, and none at all without transport_probes (scan, watch)."""
    for slug in ("secure-nsec", "secure-nsec3", "online-nsec3-narrow", "multi-signer"):
        scenario = find_scenario(slug)
        snap = collect(scenario.query_name, scenario.qtype, lab_settings(lab, resolvers=()))
        probes = [e for e in snap.exchanges if e.purpose in TRANSPORT_PROBES]
        servers = {s.address for s in snap.zones[-1].servers}
        assert {e.zone for e in probes} == {scenario.zone}
        assert sorted((e.server.address, e.purpose) for e in probes) == sorted(
            (s, p) for s in servers for p in TRANSPORT_PROBES
        )
        for probe in probes:
            response = dns.message.from_wire(probe.response or b"")
            if probe.purpose is Purpose.EDNS_PROBE:
                assert (response.rcode(), response.edns) == (dns.rcode.BADVERS, 0), slug
            else:
                assert response.rcode() == dns.rcode.NOERROR and response.answer, slug
                assert not any(isinstance(o, dns.edns.GenericOption) for o in response.options)
        quiet = collect(
            scenario.query_name,
            scenario.qtype,
            lab_settings(lab, resolvers=(), transport_probes=False),
        )
        assert not [e for e in quiet.exchanges if e.purpose in TRANSPORT_PROBES]


# --- a UDP response larger than the query offered ----------------------------------------


def large(query: dns.message.Message, *, tc: bool = False) -> bytes:
    """A 1,400-octet answer to ``query`` (past the 1232 it offered), TC as given."""
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA | (dns.flags.TC if tc else 0)
    text = " ".join(['"' + "x" * 200 + '"'] * 6)
    response.answer.append(dns.rrset.from_text(f"www.{ZONE}", 300, "IN", "TXT", text))
    wire = response.to_wire(max_size=65535)
    assert len(wire) > 1232
    return wire


def test_a_udp_answer_larger_than_the_query_offered_without_tc() -> None:
    snap = snapshot(tcp=GOOD_TCP, edns=BADVERS)
    big = dataclasses.replace(snap.exchanges[0], response=large(query(Purpose.SOA)))
    found = codes(dataclasses.replace(snap, exchanges=(big, *snap.exchanges[1:])))
    assert set(found) == {"EDNS_RESPONSE_TOO_LARGE"}
    assert (
        "more than the 1232 the query offered, without setting TC"
        in (found["EDNS_RESPONSE_TOO_LARGE"])
    )
    # Truncated as it should be, or over TCP (no such limit there): nothing to say.
    cut = dataclasses.replace(big, response=large(query(Purpose.SOA), tc=True))
    assert codes(dataclasses.replace(snap, exchanges=(cut, *snap.exchanges[1:]))) == {}
    over_tcp = dataclasses.replace(big, transport=Transport.TCP)
    assert "EDNS_RESPONSE_TOO_LARGE" not in codes(
        dataclasses.replace(snap, exchanges=(over_tcp, *snap.exchanges[1:]))
    )


# --- the probes' answers are never the zone's evidence -----------------------------------

SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"


def _analyze(
    tmp_path: Path, snap: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snap))
    code = main(["analyze", str(path), "--at", f"@{snap['finished_at']!r}", "--json"])
    return code, json.loads(capsys.readouterr().out)


def _udp_dead(zone: str, *probes: str) -> dict[str, Any]:
    """secure-nsec.json with every UDP question to ``zone``'s server timed out, and each
    probe of ``probes`` answered as the zone's SOA was over UDP (its recorded answer)."""
    snap = json.loads((SNAPSHOTS / "secure-nsec.json").read_text())
    exchanges = snap["exchanges"]
    soa = next(e for e in exchanges if e["zone"] == zone and e["purpose"] == "soa")
    added = [
        dict(soa, id=len(exchanges) + n, purpose=purpose, transport="tcp")
        for n, purpose in enumerate(probes, 1)
    ]
    for e in exchanges:
        if e["zone"] == zone and e["role"] == "authoritative" and e["purpose"] != "ds":
            e.update(response=None, error="timeout", duration=None)
    exchanges += added
    return snap


def _plan(report: dict[str, Any]) -> list[list[str]]:
    return [[step["task"] for step in path["steps"]] for path in report["recovery"]["paths"]]


def test_a_tcp_probe_answer_does_not_stand_in_for_a_zone_dead_over_udp(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every UDP question to secure-nsec.lab.'s server timed out; only the TCP probe's SOA
    came back. The zone is unreachable as without the probe (exit 3, the same plan: bring
    the server back), never DNSKEY_MISSING with DNSSEC steps for a transport fault."""
    zone = "secure-nsec.lab."
    code, report = _analyze(tmp_path, _udp_dead(zone), capsys)
    assert (code, report["verdict"]) == (3, "unreachable")  # before the probes: this
    without_probe = _plan(report)
    code, report = _analyze(tmp_path, _udp_dead(zone, "tcp-probe"), capsys)
    assert (code, report["verdict"]) == (3, "unreachable")
    assert [c["code"] for c in report["causes"]] == ["ZONE_UNREACHABLE"]
    found = {f["code"] for f in report["findings"]}
    assert "SERVER_NO_UDP" in found  # what the probe shows: the server answers over TCP
    assert not found & {"DNSKEY_MISSING", "SERVER_UNRESPONSIVE"}
    assert report["recovery"]["not_dnssec"] is True
    assert _plan(report) == without_probe
    assert _plan(report)[0][0] == "restore-servers"


@pytest.mark.parametrize("rcode", [dns.rcode.REFUSED, dns.rcode.NOTIMP, dns.rcode.SERVFAIL])
def test_a_probe_refused_is_no_refusal_of_the_zone(rcode: dns.rcode.Rcode) -> None:
    """The zone's own questions answered: an odd answer to a probe is the probe's finding
    (or none), never SERVER_REFUSED, whose plan repairs or retires the server."""
    tcp = answer(query(Purpose.TCP_PROBE), rcode=rcode)
    edns = answer(query(Purpose.EDNS_PROBE), rcode=rcode)
    option = answer(query(Purpose.OPTION_PROBE), rcode=rcode)
    found = codes(snapshot(tcp=tcp, edns=edns, option=option))
    assert "SERVER_REFUSED" not in found
    assert f"answered {dns.rcode.to_text(rcode)} to" in found["EDNS_VERSION_MISHANDLED"]
    # An unknown option answered NOTIMP was not ignored; REFUSED, SERVFAIL say nothing of it.
    assert ("EDNS_OPTION_NOT_IGNORED" in found) == (rcode == dns.rcode.NOTIMP)


def test_a_refused_probe_does_not_hide_a_server_that_is_not_authoritative() -> None:
    snap = snapshot(
        tcp=answer(query(Purpose.TCP_PROBE), rcode=dns.rcode.REFUSED),
        edns=answer(query(Purpose.EDNS_PROBE), rcode=dns.rcode.REFUSED),
    )
    soa, *probes = snap.exchanges
    message = dns.message.from_wire(soa.response or b"")
    message.flags &= ~dns.flags.AA
    lame = dataclasses.replace(soa, id=5, response=message.to_wire())
    found = codes(dataclasses.replace(snap, exchanges=(*probes, lame)))  # probes first
    assert "SERVER_NOT_AUTHORITATIVE" in found and "SERVER_REFUSED" not in found


def test_a_server_answering_only_the_edns_probe_is_not_unresponsive() -> None:
    found = codes(snapshot(udp=False, tcp=None, edns=BADVERS))
    assert "SERVER_UNRESPONSIVE" not in found


@pytest.mark.parametrize(
    ("offered", "judged"), [(None, False), (4096, False), (1232, True), (512, True)]
)
def test_an_answer_is_judged_against_the_payload_its_own_query_offered(
    offered: int | None, judged: bool
) -> None:
    """1,400 octets: too large for 1232 or 512, not for DNSViz's 4096; a snapshot that does
    not say what was offered is not judged."""
    snap = snapshot(tcp=GOOD_TCP, edns=BADVERS)
    big = dataclasses.replace(
        snap.exchanges[0], response=large(query(Purpose.SOA)), payload=offered
    )
    found = codes(dataclasses.replace(snap, exchanges=(big, *snap.exchanges[1:])))
    assert ("EDNS_RESPONSE_TOO_LARGE" in found) == judged
    if judged:
        assert f"more than the {offered} the query offered" in found["EDNS_RESPONSE_TOO_LARGE"]


def test_the_offered_payload_survives_the_snapshot_file_and_is_bounded() -> None:
    snap = snapshot(tcp=GOOD_TCP, edns=BADVERS)
    assert load_snapshot(json.loads(snap.dumps())) == snap
    assert {e.payload for e in snap.exchanges} == {QUERY_EDNS_PAYLOAD}
    document = json.loads(snap.dumps())
    del document["exchanges"][0]["payload"]  # written before it was recorded
    assert load_snapshot(document).exchanges[0].payload is None
    for bad in (70000, -1, "1232", 1.5, True):
        document["exchanges"][0]["payload"] = bad
        with pytest.raises(SnapshotError, match="not a UDP payload size"):
            load_snapshot(document)


def test_edns_version_1_silence_is_judged_only_beside_udp_answers() -> None:
    """The walk's UDP questions unanswered too: the path drops UDP (SERVER_NO_UDP), not
    EDNS version 1; and one lost datagram (the walk's only UDP question, the probe not
    sent) is no SERVER_NO_UDP."""
    found = codes(snapshot(udp=False, tcp=GOOD_TCP, edns=None))
    assert set(found) == {"SERVER_NO_UDP"}
    snap = snapshot(udp=False, tcp=GOOD_TCP, edns=None)
    soa, tcp, _, option = snap.exchanges
    assert codes(dataclasses.replace(snap, exchanges=(soa, tcp, option))) == {}  # not sent
    # The EDNS version 1 probe answered over UDP: the server answers over UDP.
    assert "SERVER_NO_UDP" not in codes(snapshot(udp=False, tcp=GOOD_TCP, edns=BADVERS))
