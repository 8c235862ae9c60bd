"""CNAME and DNAME chains: a loop, or a chain longer than validating resolvers follow,
breaks the name for everyone, validating or not.

The probe follows each redirection (``snapshot.targets``); the analysis reads where the
last name's own answers send the question next. Back into the chain: a loop. Further than
resolvers follow: an over-long chain. Limits measured in the lab, caches empty, the whole
chain in one zone: Unbound 1.17 and BIND 9.18 follow 11 redirections (the 12th: SERVFAIL;
BIND adds EDE 0 "max. restarts reached"), Knot Resolver 5.6 follows 12. With the end of
the chain already cached they follow longer chains: the failure depends on cache state.
"""

from __future__ import annotations

from collections.abc import Callable

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from dnssec_doctor.analysis.codes import emits, make_finding
from dnssec_doctor.analysis.context import Evidence
from dnssec_doctor.model.finding import Finding
from dnssec_doctor.model.redirect import read_redirect
from dnssec_doctor.model.snapshot import Purpose, Role

# The codes this module can emit.
EMITS = emits("REDIRECT_CHAIN_TOO_LONG", "REDIRECT_LOOP", "REDIRECT_NAME_TOO_LONG")

# The fewest redirections a major validator follows (Unbound 1.17, BIND 9.18: measured).
RESOLVER_REDIRECT_LIMIT = 11


def check_redirects(
    evidence: Evidence, zone_of: Callable[[dns.name.Name], str | None]
) -> list[Finding]:
    """REDIRECT_LOOP, REDIRECT_CHAIN_TOO_LONG or REDIRECT_NAME_TOO_LONG for the snapshot's
    question, if any."""
    targets = evidence.snapshot.targets or ((evidence.snapshot.name, evidence.snapshot.rdtype),)
    chain = [dns.name.from_text(name) for name, _ in targets]
    qtype = dns.rdatatype.from_text(targets[0][1])
    last = chain[-1]
    zone = zone_of(last)
    start = f"{chain[0]} {targets[0][1]}"
    overflow = _dname_overflow(evidence, last)
    if overflow is not None:
        owner, target = overflow
        return [
            make_finding(
                "REDIRECT_NAME_TOO_LONG",
                zone=zone,
                subject=start,
                records=_chain_records(evidence, chain, qtype),
                start=start,
                owner=str(owner),
                target=str(target),
                name=str(last),
            )
        ]
    if len(targets) < 2:
        return []
    following = _next_name(evidence, last, qtype)
    if following is not None and following in chain:
        loop = [*chain[chain.index(following) :], following]
        return [
            make_finding(
                "REDIRECT_LOOP",
                zone=zone,
                subject=start,
                records=_chain_records(evidence, chain, qtype),
                start=start,
                chain=" → ".join(map(str, loop)),
            )
        ]
    redirections = len(chain) - 1 + (following is not None)
    if redirections <= RESOLVER_REDIRECT_LIMIT:
        return []
    shown = " → ".join(map(str, chain)) + (f" → {following} …" if following else "")
    return [
        make_finding(
            "REDIRECT_CHAIN_TOO_LONG",
            zone=zone,
            subject=start,
            records=_chain_records(evidence, chain, qtype),
            start=start,
            count=f"at least {redirections}" if following is not None else str(redirections),
            limit=RESOLVER_REDIRECT_LIMIT,
            chain=shown,
        )
    ]


def _answers(
    evidence: Evidence,
    qname: dns.name.Name,
    rcodes: tuple[dns.rcode.Rcode, ...] | None = None,
) -> list[dns.message.Message]:
    return [
        o.message
        for o in evidence.observations
        if o.exchange.role is Role.AUTHORITATIVE
        and o.exchange.purpose is Purpose.ANSWER
        and o.message is not None
        and o.authoritative
        and (rcodes is None or o.message.rcode() in rcodes)
        and dns.name.from_text(o.exchange.qname) == qname
    ]


def _dname_overflow(
    evidence: Evidence, qname: dns.name.Name
) -> tuple[dns.name.Name, dns.name.Name] | None:
    """The DNAME (owner, target) whose substitution would make ``qname`` longer than a
    name may be, where a server of its zone answered YXDOMAIN (RFC 6672 §2.2)."""
    for message in _answers(evidence, qname, rcodes=(dns.rcode.YXDOMAIN,)):
        for rrset in message.answer:
            if rrset.rdtype != dns.rdatatype.DNAME or len(rrset) != 1:
                continue
            if qname == rrset.name or not qname.is_subdomain(rrset.name):
                continue
            target = rrset[0].target
            try:
                qname.relativize(rrset.name).derelativize(target)
            except dns.name.NameTooLong:
                return rrset.name, target
    return None


def _next_name(
    evidence: Evidence, qname: dns.name.Name, qtype: dns.rdatatype.RdataType
) -> dns.name.Name | None:
    for message in _answers(evidence, qname):
        following = read_redirect(message, qname, qtype)
        if following is not None:
            return following
    return None


def _chain_records(
    evidence: Evidence, chain: list[dns.name.Name], qtype: dns.rdatatype.RdataType
) -> tuple[str, ...]:
    """The CNAME and DNAME records of the chain, as the servers gave them."""
    records: dict[str, None] = {}
    for name in chain:
        for message in _answers(evidence, name)[:1]:
            for rrset in message.answer:
                if rrset.rdtype in (dns.rdatatype.CNAME, dns.rdatatype.DNAME):
                    records.update(dict.fromkeys(rrset.to_text().splitlines()))
    return tuple(records)
