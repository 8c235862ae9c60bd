"""The health of a zone's authoritative servers: do they answer, authoritatively, and
do they serve the same version of the zone."""

from __future__ import annotations

import dns.flags
import dns.name
import dns.rcode
import dns.rdatatype

from dnssec_doctor.analysis.codes import emits, make_finding
from dnssec_doctor.analysis.context import Evidence, Observation
from dnssec_doctor.model.finding import Finding
from dnssec_doctor.model.snapshot import CUT_BY_DEADLINE, Purpose

# The codes this module can emit.
EMITS = emits(
    "SERVER_UNRESPONSIVE",
    "SERVER_MALFORMED_RESPONSE",
    "RECORD_MALFORMED",
    "SERVER_REFUSED",
    "SERVER_NOT_AUTHORITATIVE",
    "SERIAL_MISMATCH",
    "DELEGATION_NS_MISMATCH",
)

SKIPPED = "skipped"  # the probe's prefix for questions it did not send to a dead server


def check_servers(evidence: Evidence, zone: str) -> list[Finding]:
    findings: list[Finding] = []
    by_server: dict[str, list[Observation]] = {}
    for observation in evidence.authoritative(zone):
        if observation.exchange.purpose is Purpose.ADDRESS:
            continue  # asked of the parent, or about another name
        by_server.setdefault(observation.server, []).append(observation)
    for server, observations in by_server.items():
        findings += _check_one_server(zone, server, observations)
    for observation in evidence.authoritative(zone, Purpose.DS):
        findings += malformed_records(zone, observation)  # the parent's servers, about zone
    findings += _check_serials(evidence, zone)
    findings += _check_ns_sets(evidence, zone)
    return findings


def _check_one_server(zone: str, server: str, observations: list[Observation]) -> list[Finding]:
    # Questions not sent, and waits our own deadline ended, say nothing about the server.
    sent = [
        o
        for o in observations
        if not (o.exchange.error or "").startswith(SKIPPED)
        and o.exchange.error not in CUT_BY_DEADLINE
    ]
    if sent and all(o.message is None and o.parse_error is None for o in sent):
        error = sent[0].exchange.error or "no response"
        return [
            make_finding(
                "SERVER_UNRESPONSIVE",
                zone=zone,
                subject=server,
                servers=(server,),
                server=server,
                error=error,
            )
        ]
    findings = []
    for observation in sent:
        exchange = observation.exchange
        if observation.parse_error is not None:
            findings.append(
                make_finding(
                    "SERVER_MALFORMED_RESPONSE",
                    zone=zone,
                    subject=server,
                    servers=(server,),
                    server=server,
                    error=observation.parse_error,
                )
            )
            continue
        message = observation.message
        if message is None:
            continue
        findings += malformed_records(zone, observation)
        rcode = message.rcode()
        if rcode in (dns.rcode.REFUSED, dns.rcode.SERVFAIL, dns.rcode.NOTAUTH, dns.rcode.NOTIMP):
            findings.append(
                make_finding(
                    "SERVER_REFUSED",
                    zone=zone,
                    subject=server,
                    servers=(server,),
                    server=server,
                    rcode=dns.rcode.to_text(rcode),
                    qname=exchange.qname,
                    qtype=exchange.qtype,
                )
            )
            break  # one line per server is enough: the rest say the same
        if exchange.purpose in (Purpose.SOA, Purpose.DNSKEY) and not message.flags & dns.flags.AA:
            findings.append(
                make_finding(
                    "SERVER_NOT_AUTHORITATIVE",
                    zone=zone,
                    subject=server,
                    servers=(server,),
                    server=server,
                    qname=exchange.qname,
                    qtype=exchange.qtype,
                )
            )
            break
    return findings


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
