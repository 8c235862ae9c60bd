"""The health of a zone's authoritative servers: do they answer, authoritatively, over
UDP and TCP, with EDNS as RFC 6891 says, and do they serve the same version of the zone."""

from __future__ import annotations

import dns.flags
import dns.name
import dns.rcode
import dns.rdatatype

from dnssec_doctor.analysis.codes import emits, make_finding
from dnssec_doctor.analysis.context import Evidence, Observation
from dnssec_doctor.model.finding import Finding, Param
from dnssec_doctor.model.snapshot import (
    CUT_BY_DEADLINE,
    TRANSPORT_PROBES,
    Purpose,
    Transport,
)

# The codes this module can emit.
EMITS = emits(
    "SERVER_UNRESPONSIVE",
    "SERVER_MALFORMED_RESPONSE",
    "RECORD_MALFORMED",
    "SERVER_REFUSED",
    "SERVER_NOT_AUTHORITATIVE",
    "SERIAL_MISMATCH",
    "DELEGATION_NS_MISMATCH",
    "SERVER_NO_TCP",
    "SERVER_NO_UDP",
    "EDNS_VERSION_MISHANDLED",
    "EDNS_OPTION_NOT_IGNORED",
    "EDNS_RESPONSE_TOO_LARGE",
)

# Answers to the query with an unknown EDNS option that show the server did not ignore it.
_OPTION_REFUSALS = frozenset({dns.rcode.FORMERR, dns.rcode.NOTIMP, dns.rcode.BADVERS})


SKIPPED = "skipped"  # the probe's prefix for questions it did not send to a dead server


def check_servers(evidence: Evidence, zone: str) -> list[Finding]:
    findings: list[Finding] = []
    by_server: dict[str, list[Observation]] = {}
    for observation in evidence.authoritative(zone):
        if observation.exchange.purpose is Purpose.ADDRESS:
            continue  # asked of the parent, or about another name
        by_server.setdefault(observation.server, []).append(observation)
    # The transport probes say only whether the server answers at all (a server silent
    # over UDP but answering over TCP is SERVER_NO_UDP, not unresponsive); how they were
    # answered is _check_transports' to judge, never SERVER_REFUSED and the like.
    probed: dict[str, list[Observation]] = {}
    for observation in evidence.authoritative(zone, *TRANSPORT_PROBES):
        probed.setdefault(observation.server, []).append(observation)
    for server, observations in by_server.items():
        findings += _check_one_server(zone, server, observations, probed.get(server, []))
    for observation in evidence.authoritative(zone, Purpose.DS):
        findings += malformed_records(zone, observation)  # the parent's servers, about zone
    findings += _check_serials(evidence, zone)
    findings += _check_ns_sets(evidence, zone)
    findings += _check_transports(evidence, zone)
    return findings


def _check_one_server(
    zone: str, server: str, observations: list[Observation], probes: list[Observation]
) -> list[Finding]:
    # Questions not sent, and waits our own deadline ended, say nothing about the server.
    sent = [o for o in observations if _sent(o)]
    if sent and not any(_responded(o) for o in [*sent, *probes] if _sent(o)):
        error = sent[0].exchange.error or "no response"
        return [_server_finding("SERVER_UNRESPONSIVE", zone, server, error=error)]
    findings = []
    for observation in sent:
        exchange = observation.exchange
        if observation.parse_error is not None:
            findings.append(
                _server_finding(
                    "SERVER_MALFORMED_RESPONSE", zone, server, error=observation.parse_error
                )
            )
            continue
        message = observation.message
        if message is None:
            continue
        findings += malformed_records(zone, observation)
        findings += _oversized(zone, observation)
        rcode = message.rcode()
        if rcode in (dns.rcode.REFUSED, dns.rcode.SERVFAIL, dns.rcode.NOTAUTH, dns.rcode.NOTIMP):
            findings.append(
                _server_finding(
                    "SERVER_REFUSED",
                    zone,
                    server,
                    rcode=dns.rcode.to_text(rcode),
                    qname=exchange.qname,
                    qtype=exchange.qtype,
                )
            )
            break  # one line per server is enough: the rest say the same
        if exchange.purpose in (Purpose.SOA, Purpose.DNSKEY) and not message.flags & dns.flags.AA:
            findings.append(
                _server_finding(
                    "SERVER_NOT_AUTHORITATIVE",
                    zone,
                    server,
                    qname=exchange.qname,
                    qtype=exchange.qtype,
                )
            )
            break
    return findings


def _server_finding(code: str, zone: str, server: str, **params: Param) -> Finding:
    """A finding about one server of ``zone``: its subject, its server list and its
    ``server`` parameter are that server."""
    return make_finding(
        code, zone=zone, subject=server, servers=(server,), records=(), server=server, **params
    )


def _sent(observation: Observation) -> bool:
    """Whether the question reached the server and its wait was its own (not skipped, not
    cut short by our deadline)."""
    error = observation.exchange.error or ""
    return not error.startswith(SKIPPED) and error not in CUT_BY_DEADLINE


def _responded(observation: Observation) -> bool:
    return observation.message is not None or observation.parse_error is not None


def _check_transports(evidence: Evidence, zone: str) -> list[Finding]:
    """What the transport probes (check sends them to the zone that holds the name) show
    of each server: TCP and UDP each answered, EDNS version 1 and an unknown option
    handled as RFC 6891 says. A snapshot without them (scan, watch) says nothing here."""
    udp: dict[str, list[Observation]] = {}  # the walk's own questions over UDP
    soa_ok: dict[str, bool] = {}  # the server answers the zone's SOA NOERROR, authoritatively
    for observation in evidence.authoritative(zone):
        exchange = observation.exchange
        if exchange.purpose is Purpose.ADDRESS:
            continue
        if exchange.transport is Transport.UDP and _sent(observation):
            udp.setdefault(observation.server, []).append(observation)
        if exchange.purpose is Purpose.SOA and observation.authoritative:
            ok = observation.rcode == dns.rcode.NOERROR
            soa_ok[observation.server] = soa_ok.get(observation.server, False) or ok
    # The EDNS version 1 probe is a UDP datagram of its own: a server it got an answer
    # from answers over UDP, and one silent to it and to the walk is silent twice.
    edns_sent: dict[str, list[Observation]] = {}
    for probe in evidence.authoritative(zone, Purpose.EDNS_PROBE):
        if _sent(probe):
            edns_sent.setdefault(probe.server, []).append(probe)
    findings: list[Finding] = []
    for probe in evidence.authoritative(zone, Purpose.TCP_PROBE):
        server = probe.server
        asked = udp.get(server, [])
        datagrams = [*asked, *edns_sent.get(server, [])]
        udp_answered = any(_responded(o) for o in datagrams)
        if not _sent(probe):
            continue
        if not _responded(probe):
            if udp_answered:
                error = probe.exchange.error or "no response"
                findings.append(_server_finding("SERVER_NO_TCP", zone, server, error=error))
            continue
        # One lost datagram is no finding: at least two went unanswered.
        if asked and len(datagrams) >= 2 and not udp_answered:
            error = asked[0].exchange.error or "no response"
            findings.append(_server_finding("SERVER_NO_UDP", zone, server, error=error))
    findings += _check_option(evidence, zone, soa_ok)
    for probe in evidence.authoritative(zone, Purpose.EDNS_PROBE):
        server = probe.server
        if not _sent(probe) or not soa_ok.get(server):
            continue  # a server that does not serve the zone's SOA: said elsewhere
        answer = _edns_version_answer(probe)
        if answer == _SILENT and not any(_responded(o) for o in udp.get(server, [])):
            continue  # silence is judged only beside answers over UDP (one lost datagram)
        if answer is not None:
            findings.append(_server_finding("EDNS_VERSION_MISHANDLED", zone, server, answer=answer))
    return findings


def _check_option(evidence: Evidence, zone: str, soa_ok: dict[str, bool]) -> list[Finding]:
    """The query with an unknown EDNS option (over TCP): refused, or left unanswered by a
    server that answered the same question over TCP without the option (so TCP itself is
    not what failed)."""
    tcp_answered = {
        probe.server
        for probe in evidence.authoritative(zone, Purpose.TCP_PROBE)
        if _sent(probe) and _responded(probe)
    }
    findings: list[Finding] = []
    for probe in evidence.authoritative(zone, Purpose.OPTION_PROBE):
        server = probe.server
        if not _sent(probe) or not soa_ok.get(server):
            continue  # a server that does not serve the zone's SOA: said elsewhere
        if probe.message is not None and probe.message.rcode() in _OPTION_REFUSALS:
            answer = f"answered {dns.rcode.to_text(probe.message.rcode())} to"
        elif not _responded(probe) and server in tcp_answered:
            answer = "did not answer"
        else:
            continue
        findings.append(_server_finding("EDNS_OPTION_NOT_IGNORED", zone, server, answer=answer))
    return findings


# The EDNS version 1 probe unanswered, said only of a server that answered the walk's
# questions (EDNS version 0) over UDP in the same check.
_SILENT = "answered queries with EDNS version 0 over UDP but not"


def _edns_version_answer(probe: Observation) -> str | None:
    """What was wrong with the answer to the EDNS version 1 query (None: BADVERS with an
    OPT record of version 0, as RFC 6891 §6.1.3 says)."""
    message = probe.message
    if message is None:
        return None if probe.parse_error is not None else _SILENT
    rcode = message.rcode()
    if message.edns < 0:
        return f"answered {dns.rcode.to_text(rcode)} without an OPT record to"
    if rcode != dns.rcode.BADVERS:
        return f"answered {dns.rcode.to_text(rcode)} to"
    if message.edns != 0:
        return f"answered BADVERS in an OPT record of version {message.edns} to"
    return None


def _oversized(zone: str, observation: Observation) -> list[Finding]:
    """A UDP response larger than the payload the query advertised, without TC: the
    server ignored the buffer size (RFC 6891 §6.2.3), so the path may fragment or drop it
    and a resolver that advertised the same size may never see it. Judged only where the
    snapshot records what the query offered (DNSViz offers 4096 or 512, we 1232)."""
    exchange = observation.exchange
    wire = exchange.response or b""
    truncated = len(wire) >= 3 and bool(wire[2] & 0x02)
    offered = exchange.payload
    if (
        exchange.transport is not Transport.UDP
        or offered is None
        or len(wire) <= max(offered, 512)  # below 512 the limit is 512 (RFC 6891 §6.2.3)
        or truncated
    ):
        return []
    return [
        _server_finding(
            "EDNS_RESPONSE_TOO_LARGE",
            zone,
            observation.server,
            size=len(wire),
            payload=offered,
            qname=exchange.qname,
            qtype=exchange.qtype,
        )
    ]


def malformed_records(zone: str, observation: Observation) -> list[Finding]:
    """Each record of the response whose RDATA could not be read, with its bytes. A DS
    belongs to the zone at its owner (the parent serves it in referrals and DS answers
    alike: one finding, not one per question)."""
    return [
        make_finding(
            "RECORD_MALFORMED",
            zone=str(record.name) if record.rdtype == dns.rdatatype.DS else zone,
            subject=f"{record.name}/{record.type_text}",
            servers=(observation.server,),
            records=(record.to_text(),),
            server=observation.server,
            rrtype=record.type_text,
            owner=str(record.name),
            error=record.error,
        )
        for record in observation.malformed
    ]


def _check_serials(evidence: Evidence, zone: str) -> list[Finding]:
    origin = dns.name.from_text(zone)
    serials: dict[int, list[str]] = {}
    for observation in evidence.authoritative(zone, Purpose.SOA):
        soa = observation.rrset(origin, dns.rdatatype.SOA)
        if soa is not None and observation.authoritative:
            serials.setdefault(soa[0].serial, []).append(observation.server)
    if len(serials) < 2:
        return []
    text = ", ".join(
        f"{serial} ({', '.join(servers)})" for serial, servers in sorted(serials.items())
    )
    servers = tuple(s for group in serials.values() for s in group)
    return [
        make_finding(
            "SERIAL_MISMATCH", zone=zone, subject=f"{zone}/SOA", servers=servers, serials=text
        )
    ]


def _check_ns_sets(evidence: Evidence, zone: str) -> list[Finding]:
    cut = evidence.zone_cut(zone)
    if cut is None or cut.parent is None:
        return []
    origin = dns.name.from_text(zone)
    parent_ns = {dns.name.from_text(s.name) for s in cut.servers if s.name}
    child_ns: set[dns.name.Name] = set()
    for observation in evidence.authoritative(zone, Purpose.NS):
        ns = observation.rrset(origin, dns.rdatatype.NS)
        if ns is not None and observation.authoritative:
            child_ns |= {rd.target for rd in ns}
    if not parent_ns or not child_ns or parent_ns == child_ns:
        return []
    return [
        make_finding(
            "DELEGATION_NS_MISMATCH",
            zone=zone,
            subject=f"{zone}/NS",
            parent_ns=" ".join(sorted(map(str, parent_ns))),
            child_ns=" ".join(sorted(map(str, child_ns))),
        )
    ]
