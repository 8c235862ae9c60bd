"""The simulated servers of a replay scenario: which entry answers a query, and the packet.

At a given step, the ranges that cover it are tried in file order; a range without an
``ADDRESS`` answers for any address. In a range the first entry whose ``MATCH`` words all
hold answers (testpkts' ``find_match``). No match is a silent server: the query times out,
as in Unbound's testbound, where an unmatched query is left pending.

One adaptation, stated here because it changes the packet: Unbound's scenarios leave the
AA flag out of most answers (Unbound's iterator does not look at it), while this tool,
like the resolvers that check it, discards a non-authoritative answer as lame. The
simulated servers therefore set AA on every answer that is not a referral (an answer
with records, a negative answer with an SOA, or any rcode other than NOERROR), as the
authoritative servers the scenario stands for would.
"""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from dnssec_doctor.model.snapshot import Server
from dnssec_doctor.replay.scenario import Entry, Scenario

_FLAG_BITS = {
    "QR": dns.flags.QR,
    "AA": dns.flags.AA,
    "TC": dns.flags.TC,
    "RD": dns.flags.RD,
    "CD": dns.flags.CD,
    "RA": dns.flags.RA,
    "AD": dns.flags.AD,
}


class ScenarioServers:
    """The handler of a ``ScriptedTransport``: the scenario's servers at one step."""

    def __init__(self, scenario: Scenario, step: int) -> None:
        self.ranges = [r for r in scenario.ranges if r.start <= step <= r.end]
        self.answered = 0
        self.unmatched: list[str] = []  # "address qname qtype" of the silent queries

    def __call__(
        self, query: dns.message.Message, server: Server, tcp: bool
    ) -> dns.message.Message | bytes | None:
        for candidate in self.ranges:
            if candidate.addresses and server.address not in candidate.addresses:
                continue
            for entry in candidate.entries:
                if matches(entry, query, tcp):
                    self.answered += 1
                    return respond(entry, query)
        question = query.question[0] if query.question else None
        asked = (
            f"{question.name} {dns.rdatatype.to_text(question.rdtype)}"
            if question is not None
            else "?"
        )
        self.unmatched.append(f"{server.address} {asked}")
        return None


def matches(entry: Entry, query: dns.message.Message, tcp: bool) -> bool:
    """testpkts' ``find_match`` for the MATCH words a simulated server uses."""
    if not query.question:
        return False
    question = query.question[0]
    words = entry.match
    if "opcode" in words and dns.opcode.to_text(query.opcode()) != entry.opcode:
        return False
    if entry.question is not None:
        name, rdtype, _ = entry.question
        if "qtype" in words and question.rdtype != rdtype:
            return False
        if "qname" in words and question.name != name:
            return False
        if "subdomain" in words and not question.name.is_subdomain(name):
            return False
    elif words & {"qtype", "qname", "subdomain"}:
        return False
    if "TCP" in words and not tcp:
        return False
    if "UDP" in words and tcp:
        return False
    if "DO" in words and not query.ednsflags & dns.flags.DO:
        return False
    if "noedns" in words and query.edns >= 0:
        return False
    # Words about a response (all, answer, rcode, ttl, ednsdata, serial) never hold for a
    # query a server receives here.
    return not words & {"all", "all_noedns", "answer", "rcode", "ttl", "ednsdata", "serial"}


def respond(entry: Entry, query: dns.message.Message) -> dns.message.Message | bytes:
    """The entry's packet for ``query``: its ID (copy_id), its question (copy_query)."""
    if entry.raw is not None:
        # A packet given in hex is sent as it is, but for the ID.
        return query.id.to_bytes(2, "big") + entry.raw[2:] if len(entry.raw) >= 2 else entry.raw
    response = dns.message.Message(id=query.id)
    flags = 0
    for word in entry.flags:
        flags |= _FLAG_BITS.get(word, 0)
    response.flags = flags
    response.set_opcode(dns.opcode.from_text(entry.opcode))
    response.set_rcode(dns.rcode.from_text(entry.rcode))
    if "copy_query" in entry.adjust or entry.question is None:
        response.question = list(query.question)
    else:
        name, rdtype, rdclass = entry.question
        response.find_rrset(
            response.question,
            name,
            dns.rdataclass.RdataClass(rdclass),
            dns.rdatatype.RdataType(rdtype),
            create=True,
            force_unique=True,
        )
    response.answer = [rrset.copy() for rrset in entry.answer]
    response.authority = [rrset.copy() for rrset in entry.authority]
    response.additional = [rrset.copy() for rrset in entry.additional]
    if "DO" in entry.flags:
        response.use_edns(0, dns.flags.DO, 4096)
    if not _is_referral(response):
        response.flags |= dns.flags.AA
    return response


def _is_referral(response: dns.message.Message) -> bool:
    if response.rcode() != dns.rcode.NOERROR or response.answer:
        return False
    types = {rrset.rdtype for rrset in response.authority}
    return dns.rdatatype.NS in types and dns.rdatatype.SOA not in types
