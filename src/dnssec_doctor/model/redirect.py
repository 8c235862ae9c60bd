"""Where a CNAME or DNAME sends a question next: one reader for the probe (which follows
the chain) and the analysis (which judges it: loops, chains longer than resolvers follow)."""

from __future__ import annotations

import dns.message
import dns.name
import dns.rdatatype


def read_redirect(
    message: dns.message.Message, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> dns.name.Name | None:
    """Where a CNAME at ``qname``, or a DNAME above it, sends the question next."""
    if rdtype in (dns.rdatatype.CNAME, dns.rdatatype.ANY):
        return None
    for rrset in message.answer:
        if rrset.name == qname and rrset.rdtype == dns.rdatatype.CNAME:
            for rdata in rrset:
                target = getattr(rdata, "target", None)
                if isinstance(target, dns.name.Name):
                    return target
    if rdtype == dns.rdatatype.DNAME:
        return None
    for rrset in message.answer:
        if (
            rrset.rdtype == dns.rdatatype.DNAME
            and qname != rrset.name
            and qname.is_subdomain(rrset.name)
        ):
            for rdata in rrset:
                target = getattr(rdata, "target", None)
                if not isinstance(target, dns.name.Name):
                    continue
                try:
                    return qname.relativize(rrset.name).derelativize(target)
                except dns.name.NameTooLong:
                    return None
    return None


def read_chain(
    message: dns.message.Message, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> list[dns.name.Name]:
    """The names one answer redirects ``qname`` through, in order (a server returns the
    rest of a chain inside its zone with the first CNAME). A name already on the chain ends
    it, included, so that the caller sees the loop."""
    chain: list[dns.name.Name] = []
    seen = {qname}
    current = qname
    while (following := read_redirect(message, current, rdtype)) is not None:
        chain.append(following)
        if following in seen:
            break
        seen.add(following)
        current = following
    return chain
