"""The one table of finding codes: stable names, never reused, each documenting itself.

Every check emits findings only through ``make_finding`` with a code from this table, so
every fact about a code lives here and nowhere else: its severity, the EDE a validator
would attach, the summary template, the explanation, the link of the chain of trust it
breaks, its rank as a primary cause, whether it is a warning that makes a healthy check
exit 1, and who acts on it. The diagnosis, the SVG, the web view, ``watch`` and the
Nagios output read these fields; the recovery planner of each cause is registered for
its code in ``diagnosis.recovery``. ``dnssec-doctor codes`` lists the table and
``dnssec-doctor explain CODE`` prints one entry. A test fails when an entry is incomplete
(tests/test_codes.py).

New entries: pass the long prose fields by keyword (``meaning=``, ``why=``, ``fix=``,
``risk=``), so that the call site tells them apart.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass

from dnssec_doctor.model.diagnosis import Actor
from dnssec_doctor.model.finding import Finding, Param, Severity


class Family(enum.StrEnum):
    DELEGATION = "delegation"
    SERVERS = "servers"
    DS = "ds"
    DNSKEY = "dnskey"
    RRSIG = "rrsig"
    DENIAL = "denial"
    ZONE = "zone"  # the zone file's content: what its servers load and serve
    RESOLVERS = "resolvers"
    CHAIN = "chain"
    INTERNAL = "internal"


class Status(enum.StrEnum):
    STABLE = "stable"
    REMOVED = "removed"  # kept so that the code is never reused


class Link(enum.StrEnum):
    """The link of the chain of trust a finding breaks: what the SVG draws broken, what
    ``watch`` calls a DS mismatch."""

    DELEGATION = "delegation"  # the parent's NS set: no server of the zone can be used
    DS = "ds"  # the DS at the parent and the key it must name
    SIGNATURE = "signature"  # an RRSIG, over the DNSKEY RRset or over the answer
    DENIAL = "denial"  # the proof that a name or type does not exist
    SERVERS = "servers"  # one server's copy of the zone


@dataclass(frozen=True)
class Code:
    """One finding code and every fact about it, each a keyword field (so that "why" and
    "fix" cannot be swapped unseen in an entry)."""

    code: str
    _: KW_ONLY
    family: Family
    severity: Severity
    summary: str  # str.format template over the finding's params
    meaning: str  # what it means
    why: str  # why validation breaks (or would)
    fix: str  # how to fix it
    risk: str  # recovery risk: what can go wrong while fixing
    ede: int | None = None
    references: tuple[str, ...] = ()
    status: Status = Status.STABLE
    # The link of the chain it breaks; None: no link (a notice, an observation).
    link: Link | None = None
    # Its rank as the primary cause of a failure, lowest first (the closer to the root of
    # the problem, the lower); None: never a primary cause. Ranks are unique.
    rank: int | None = None
    # The chain of trust ends here (an insecure answer, not a failure): when the answer
    # is insecure, such causes rank before every other.
    ends_chain: bool = False
    # A warning that makes an otherwise healthy check exit 1.
    exit_warning: bool = False
    # Who acts on it (for the parent's records, the recovery plan says which parent).
    actor: Actor | None = None

    @property
    def params(self) -> frozenset[str]:
        return frozenset(
            field for _, field, _, _ in string.Formatter().parse(self.summary) if field
        )


class UnknownCode(KeyError):
    """A code that is not in the table."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# The risk of fixing a server's transport: a firewall or a server, never a record.
_PATH_RISK = (
    "None for DNSSEC: opening a port or replacing a middlebox changes no record and no key."
)


def _table(*codes: Code) -> dict[str, Code]:
    table: dict[str, Code] = {}
    for code in codes:
        if code.code in table:
            raise ValueError(f"duplicate finding code {code.code}")
        table[code.code] = code
    return table


_NO_RISK = "None: the change only adds correct data."
_PUBLISH_DS_RISK = (
    "Resolvers that cached the wrong DS keep failing until its TTL at the parent expires, "
    "unless their operators flush it (unbound-control flush_zone, rndc flushtree, the "
    "public resolvers' cache-flush pages: the recovery plan prints the commands)."
)

CODES: Mapping[str, Code] = _table(
    # --- delegation and servers ---------------------------------------------------------
    Code(
        "SERVER_UNRESPONSIVE",
        family=Family.SERVERS,
        severity=Severity.WARNING,
        summary="{server} did not answer ({error})",
        meaning="One authoritative server of the zone gave no usable answer: timeout, connection "
        "refused or a network error.",
        why="Not a DNSSEC failure by itself: resolvers retry another server. It slows every "
        "resolution that tries this server first, and if it is the last working server the "
        "zone goes dark for everyone.",
        fix="Bring the server back, or remove its NS record and glue at the parent and in the "
        "zone.",
        risk="Removing an NS at the parent is safe once the zone's remaining servers answer.",
        references=("RFC 1034 §4.3.2",),
        link=Link.SERVERS,
        exit_warning=True,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "SERVER_REFUSED",
        family=Family.SERVERS,
        severity=Severity.WARNING,
        summary="{server} answered {rcode} for {qname} {qtype}",
        meaning="A server listed as authoritative for the zone answers REFUSED (or SERVFAIL, or "
        "NOTAUTH): it is configured without the zone, or its copy failed to load.",
        why="Resolvers treat it as lame and try another server; if none is left, the zone is "
        "unreachable for everyone, validating or not.",
        fix="Load the zone on that server (check its logs for a load error), or remove it from "
        "the NS set at the parent and in the zone.",
        risk=_NO_RISK,
        references=("RFC 1035 §4.1.1",),
        link=Link.SERVERS,
        exit_warning=True,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "SERVER_NOT_AUTHORITATIVE",
        family=Family.SERVERS,
        severity=Severity.WARNING,
        summary="{server} answered {qname} {qtype} without the AA flag (lame)",
        meaning="A server delegated for the zone answers, but not authoritatively: it does not "
        "serve the zone (a lame delegation).",
        why="Resolvers discard the answer and try another server.",
        fix="Serve the zone on that server or remove it from the NS set.",
        risk=_NO_RISK,
        references=("RFC 1034 §4.3.2",),
        link=Link.SERVERS,
        exit_warning=True,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "SERVER_MALFORMED_RESPONSE",
        family=Family.SERVERS,
        severity=Severity.WARNING,
        summary="{server} sent a response that cannot be parsed ({error})",
        meaning="The bytes that came back are not a valid DNS message for the question asked.",
        why="Resolvers drop such responses and retry elsewhere; a middlebox or a broken server "
        "is likely.",
        fix="Check the server and any firewall or load balancer in front of it.",
        risk=_NO_RISK,
        references=("RFC 1035 §4",),
        link=Link.SERVERS,
        exit_warning=True,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RECORD_MALFORMED",
        family=Family.SERVERS,
        severity=Severity.WARNING,
        summary="{server} sent a {rrtype} record for {owner} that cannot be read ({error})",
        meaning="One record of a response has RDATA that does not fit its type: a DS whose digest "
        "length does not match its digest type, an RRSIG cut short, a field out of range. "
        "The rest of the message is read as usual; the record is shown as received, byte "
        "for byte (RFC 3597 form).",
        why="A record that cannot be read proves nothing: a malformed DS matches no key, a "
        "malformed RRSIG is no signature, a malformed NSEC or NSEC3 denies nothing. Whether "
        "that breaks validation depends on what else the RRset holds (see the other "
        "findings).",
        fix="Find where the record comes from (the zone file, the signer, the registrar's DS "
        "form, a middlebox rewriting answers) and publish it correctly.",
        risk=_NO_RISK,
        references=("RFC 3597 §5", "RFC 4034", "RFC 4035 §5"),
        link=Link.SERVERS,
        exit_warning=True,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "ZONE_UNREACHABLE",
        family=Family.DELEGATION,
        severity=Severity.ERROR,
        summary="no authoritative server of {zone} gave a usable answer",
        meaning="Every server the parent delegates the zone to timed out, refused or was lame.",
        why="Not DNSSEC: every resolver fails, validating or not (EDE 22, No Reachable "
        "Authority). DNSSEC changes will not help.",
        fix="Restore at least one of the zone's servers, or fix the NS records and glue at the "
        "parent (registrar) so they point at servers that serve the zone.",
        risk="Changing NS at the registrar takes the parent's NS TTL to reach every resolver.",
        ede=22,
        references=("RFC 8914 §4.23",),
        link=Link.DELEGATION,
        rank=10,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "PROBE_DEADLINE_REACHED",
        family=Family.SERVERS,
        severity=Severity.ERROR,
        summary="the probe's own deadline ({deadline} s) ran out before any server of {zone} "
        "answered: nothing is known about the zone",
        meaning="This run stopped waiting: the time left for the whole probe (--deadline) ended "
        "while the questions to the zone's servers were unanswered or not yet sent.",
        why="Nothing: no server was given the time to answer, so no verdict can be drawn, good "
        "or bad, and none is (indeterminate). A server that is really down times out within "
        "the per-query --timeout.",
        fix="Run the check again with a longer --deadline (the default is 20 s).",
        risk=_NO_RISK,
        rank=5,
        actor=Actor.YOU,
    ),
    Code(
        "REDIRECT_LOOP",
        family=Family.DELEGATION,
        severity=Severity.ERROR,
        summary="{start} never resolves: the CNAME/DNAME chain loops ({chain})",
        meaning="Following the CNAME and DNAME records from the name leads back to a name already "
        "on the chain: there is no end with data.",
        why="Not DNSSEC: every resolver fails, validating or not (measured in the lab: Unbound "
        '1.17, BIND 9.18 and Knot Resolver 5.6 answer SERVFAIL; BIND adds EDE 0 "max. '
        'restarts reached"). Signatures on the chain do not matter.',
        fix="Point one name of the loop at a name that holds the data (or remove the CNAME and "
        "publish the data itself).",
        risk="Resolvers cache the loop's records for their TTL; the fix shows once they expire.",
        references=("RFC 1034 §3.6.2", "RFC 6672 §3"),
        rank=12,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "REDIRECT_CHAIN_TOO_LONG",
        family=Family.DELEGATION,
        severity=Severity.ERROR,
        summary="{start} goes through {count} CNAME/DNAME redirections, more than resolvers follow "
        "(Unbound, BIND: {limit}): {chain}",
        meaning="The chain of CNAME and DNAME records from the name to its data is longer than "
        "some validating resolvers follow.",
        why="Not DNSSEC: resolvers give up and answer SERVFAIL, validating or not. Measured in the "
        "lab, caches empty, the whole chain in one zone: Unbound 1.17 and BIND 9.18 follow 11 "
        'redirections (then SERVFAIL; BIND adds EDE 0 "max. restarts reached"), Knot '
        "Resolver 5.6 follows 12. With the end of the chain cached they follow further, so "
        "users behind some resolvers fail, sometimes, while others resolve the name.",
        fix="Shorten the chain: point the name (or an early link) straight at the final target.",
        risk="Resolvers cache the old chain for its TTL; the fix shows once it expires.",
        references=("RFC 1034 §3.6.2", "RFC 6672 §3"),
        rank=14,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "REDIRECT_NAME_TOO_LONG",
        family=Family.DELEGATION,
        severity=Severity.ERROR,
        summary="{start} never resolves: the DNAME at {owner} (to {target}) would make {name} a "
        "name longer than 255 octets; its servers answer YXDOMAIN",
        meaning="A DNAME replaces the part of a name it owns with its target; when the result "
        "would exceed the 255 octets a domain name may have, no name is synthesised and the "
        "server answers YXDOMAIN (RFC 6672 §2.2).",
        why="Not DNSSEC: the name cannot be resolved by anyone, validating or not. Validators "
        "pass the YXDOMAIN on (the DNAME itself may validate); nothing answers the question.",
        fix="Shorten the DNAME's target, or do not use names this long below the DNAME's owner.",
        risk="Resolvers cache the YXDOMAIN for the negative TTL; the fix shows once it expires.",
        references=("RFC 6672 §2.2", "RFC 1035 §2.3.4"),
        rank=16,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DELEGATION_NS_MISMATCH",
        family=Family.DELEGATION,
        severity=Severity.WARNING,
        summary="the parent delegates {zone} to {parent_ns}; the zone lists {child_ns}",
        meaning="The NS set at the parent differs from the NS set in the zone.",
        why="Not a validation failure; resolvers may use either set, so a server in only one of "
        "them sees part of the traffic.",
        fix="Make the NS records in the zone and at the registrar the same.",
        risk=_NO_RISK,
        references=("RFC 1034 §4.2.2",),
        link=Link.DELEGATION,
        actor=Actor.DNS_OPERATOR,
        exit_warning=True,
    ),
    Code(
        "SERVER_NO_TCP",
        family=Family.SERVERS,
        severity=Severity.WARNING,
        summary="{server} answers over UDP but not over TCP ({error})",
        meaning="An authoritative server answered the check's questions over UDP, and did not "
        "answer the same server's SOA asked over TCP: a firewall drops TCP port 53, or the "
        "server does not listen on TCP.",
        why="Not a validation failure while every answer fits in a UDP response. An answer that "
        "does not (a large DNSKEY RRset during a key rollover, many signatures, a large "
        "TXT) comes back truncated, the resolver must ask again over TCP, and from this "
        "server it gets nothing: SERVFAIL for those names once it is the only server left. "
        "DNS over TCP is required of every server (RFC 7766).",
        fix="Open TCP port 53 to the server (firewall, security group) and make it listen on "
        "TCP; verify with: dig +tcp @SERVER ZONE SOA.",
        risk=_PATH_RISK,
        references=("RFC 7766 §5", "RFC 1123 §6.1.3.2"),
        link=Link.SERVERS,
        actor=Actor.DNS_OPERATOR,
        exit_warning=True,
    ),
    Code(
        "SERVER_NO_UDP",
        family=Family.SERVERS,
        severity=Severity.WARNING,
        summary="{server} answers over TCP but not over UDP ({error})",
        meaning="An authoritative server answered the SOA asked over TCP, and none of the "
        "questions asked over UDP: a firewall drops UDP port 53 to it.",
        why="Resolvers ask over UDP first and count the server as dead: every resolution "
        "that tries it first waits for a timeout, and if it is the last server working "
        "over UDP the zone goes dark, though the server itself is fine.",
        fix="Open UDP port 53 to the server (firewall, security group); verify with: "
        "dig +notcp @SERVER ZONE SOA.",
        risk=_PATH_RISK,
        references=("RFC 1035 §4.2", "RFC 7766 §1"),
        link=Link.SERVERS,
        actor=Actor.DNS_OPERATOR,
        exit_warning=True,
    ),
    Code(
        "EDNS_VERSION_MISHANDLED",
        family=Family.SERVERS,
        severity=Severity.WARNING,
        summary="{server} {answer} a query with EDNS version 1, where RFC 6891 asks for BADVERS "
        "in an OPT record of version 0",
        meaning="A query with an EDNS version the server does not implement must be answered "
        "BADVERS with the highest version it does implement (RFC 6891 §6.1.3). This "
        "server did not: it dropped the query (a firewall or a server that discards EDNS "
        "it does not know), answered it as if it were version 0, or answered with "
        "another error.",
        why="Not a validation failure today: resolvers ask with version 0. It is the sign of "
        "an EDNS implementation or a middlebox that mishandles what it does not know, the "
        "kind that broke resolution on DNS flag day 2019 and that will break the next "
        "EDNS version and new EDNS options.",
        fix="Upgrade the server, or the firewall or load balancer in front of it, to one that "
        "passes and answers EDNS as RFC 6891 says; verify with: "
        "dig +edns=1 +noednsneg @SERVER ZONE SOA (the answer: status BADVERS, EDNS version "
        "0).",
        risk=_PATH_RISK,
        references=("RFC 6891 §6.1.3", "RFC 6891 §7"),
        link=Link.SERVERS,
        actor=Actor.DNS_OPERATOR,
        exit_warning=True,
    ),
    Code(
        "EDNS_OPTION_NOT_IGNORED",
        family=Family.SERVERS,
        severity=Severity.WARNING,
        summary="{server} {answer} a query carrying an unknown EDNS option (RFC 6891: unknown "
        "options are ignored)",
        meaning="The server refused a query because it carried an EDNS option it does not know "
        "(option code 65001, for local and experimental use), or left it unanswered over TCP "
        "while it answered the same question without the option; RFC 6891 §6.1.2 requires "
        "it to ignore the option and answer.",
        why="Not a validation failure today: resolvers send few options. Any resolver that "
        "sends one this server does not know (a cookie, client subnet, padding) gets an "
        "error instead of the zone's data.",
        fix="Upgrade the server, or the middlebox in front of it, to one that ignores unknown "
        "EDNS options; verify with: dig +ednsopt=65001 @SERVER ZONE SOA.",
        risk=_PATH_RISK,
        references=("RFC 6891 §6.1.2",),
        link=Link.SERVERS,
        actor=Actor.DNS_OPERATOR,
        exit_warning=True,
    ),
    Code(
        "EDNS_RESPONSE_TOO_LARGE",
        family=Family.SERVERS,
        severity=Severity.WARNING,
        summary="{server} answered {qname} {qtype} over UDP with {size} octets, more than the "
        "{payload} the query offered, without setting TC",
        meaning="The server sent a UDP response larger than the payload size the query "
        "advertised in its OPT record, instead of truncating it (TC) so that the client asks "
        "again over TCP (RFC 6891 §6.2.3).",
        why="Not a validation failure where the response arrives. A response above 1232 "
        "octets is fragmented on many paths, and fragments are dropped by many firewalls: "
        "a resolver that advertised the same size waits for an answer that never comes, "
        "times out, and SERVFAILs once no other server answers. DNSSEC answers (DNSKEY "
        "RRsets, signed denials) are the large ones.",
        fix="Make the server honour the client's buffer size (and cap its own, e.g. 1232: "
        "edns-udp-size/max-udp-size in BIND, ipv4-edns-size in NSD, udp-max-payload in Knot "
        "DNS); verify with: dig +bufsize=1232 +dnssec @SERVER ZONE DNSKEY (TC set when it "
        "does not fit).",
        risk=_PATH_RISK,
        references=("RFC 6891 §6.2.3", "RFC 9715"),
        link=Link.SERVERS,
        actor=Actor.DNS_OPERATOR,
        exit_warning=True,
    ),
    Code(
        "SERIAL_MISMATCH",
        family=Family.SERVERS,
        severity=Severity.WARNING,
        summary="servers of {zone} serve different SOA serials: {serials}",
        meaning="Not every server has the same version of the zone: a secondary has stopped "
        "transferring, or a change is still propagating.",
        why="A server with an old copy serves old signatures; when they expire, that server's "
        "answers fail validation while the others are fine.",
        fix="Check zone transfers (NOTIFY, IXFR/AXFR, TSIG) to the servers with the old serial.",
        risk=_NO_RISK,
        references=("RFC 1996",),
        link=Link.SERVERS,
        exit_warning=True,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "SERVER_STALE_COPY",
        family=Family.SERVERS,
        severity=Severity.ERROR,
        summary="{server} serves an old copy of {zone} (serial {serial}, newest {newest}) whose "
        "signatures fail validation",
        meaning="One server serves data that fails validation while the zone's other servers serve "
        "good data: typically a secondary that stopped transferring and kept serving "
        "signatures that have since expired.",
        why="Validating resolvers that ask this server get bogus data; most retry another "
        "server and hide the problem, some fail, and every retry costs time. When the last "
        "good server goes, the zone fails for everyone.",
        fix="Repair zone transfers to that server (or take it out of the NS set) so it serves "
        "the current, freshly signed copy.",
        risk="Removing the server from the NS set takes the parent's NS TTL to reach resolvers.",
        ede=7,
        references=("RFC 4035 §5.3.1",),
        link=Link.SERVERS,
        rank=90,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "MULTI_SIGNER_KEY_MISSING",
        family=Family.SERVERS,
        severity=Severity.ERROR,
        summary="{server} does not publish key {key_tag} (algorithm {algorithm}) of {zone}, with "
        "which {signer} signs",
        meaning="The zone's servers sign with different keys (several providers, RFC 8901), and "
        "one server's DNSKEY RRset leaves out a key another server signs with. Each server's "
        "answers validate with its own keys.",
        why="A resolver may take the DNSKEY RRset from one server and the data from another: "
        "with this server's DNSKEY RRset, the other server's signatures have no key, and "
        "the data is bogus (SERVFAIL, DNSKEY Missing). Whether a resolver fails depends on "
        "which servers it asked and what it cached; many retry another server and hide it.",
        fix="The provider that runs the named server adds the missing key to its DNSKEY RRset "
        "(each provider publishes every provider's ZSK, RFC 8901 §2.1.1), and keeps it as "
        "long as the other provider signs with it.",
        risk="None: adding a key to the DNSKEY RRset only adds correct data. Removing the other "
        "provider's signatures instead would break resolvers that cached the old DNSKEY "
        "RRset until it expires.",
        ede=9,
        references=("RFC 8901 §2.1.1", "RFC 4035 §5.3.1"),
        link=Link.SERVERS,
        rank=92,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "IPV6_SKIPPED",
        family=Family.SERVERS,
        severity=Severity.INFO,
        summary="{count} IPv6 addresses were not asked: this host has no IPv6 route "
        "({servers_text})",
        meaning="Some name servers have IPv6 addresses that this machine cannot reach.",
        why="Nothing is known about those addresses; resolvers with IPv6 may see them differ.",
        fix="Run the check from a host with IPv6 to cover them.",
        risk=_NO_RISK,
        actor=Actor.YOU,
    ),
    # --- DS ---------------------------------------------------------------------------
    Code(
        "DS_DIGEST_MISMATCH",
        family=Family.DS,
        severity=Severity.ERROR,
        summary="DS {key_tag}/{algorithm}/{digest_type} at the parent does not match the digest of "
        "DNSKEY {key_tag} in {zone}",
        meaning="The parent's DS names a key the zone publishes (same key tag and algorithm), but "
        "its digest is not that key's digest: a wrongly copied DS.",
        why="Validators cannot authenticate the zone's DNSKEY RRset from the parent: the whole "
        "zone is bogus.",
        fix="Replace the DS at the registrar with the DS computed from the zone's live KSK "
        "(printed in the recovery plan).",
        risk=_PUBLISH_DS_RISK,
        ede=9,
        references=("RFC 4034 §5.1.4", "RFC 4035 §5.2"),
        link=Link.DS,
        rank=60,
        actor=Actor.REGISTRAR,
    ),
    Code(
        "DS_NO_MATCHING_KEY",
        family=Family.DS,
        severity=Severity.ERROR,
        summary="no DNSKEY in {zone} matches DS {key_tag}/{algorithm}/{digest_type} at the parent",
        meaning="The parent's DS names a key tag that the zone does not publish: the DS of a key "
        "retired in a rollover, or of the previous DNS provider's key.",
        why="With no DS matching a published KSK, validators cannot authenticate the zone: "
        "every answer from it is bogus.",
        fix="Publish the DS of the live KSK at the registrar and remove the stale one, or "
        "publish the matching key again.",
        risk=_PUBLISH_DS_RISK,
        ede=9,
        references=("RFC 4035 §5.2",),
        link=Link.DS,
        rank=80,
        actor=Actor.REGISTRAR,
    ),
    Code(
        "DS_MALFORMED",
        family=Family.DS,
        severity=Severity.ERROR,
        summary="the parent publishes a DS for {zone} that cannot be read ({error})",
        meaning="The DS RRset at the parent holds a record whose RDATA does not fit the DS format: "
        "typically a digest whose length does not match its digest type (a digest cut short "
        "or pasted twice at the registrar).",
        why="Such a DS matches no key. Unbound and Knot Resolver fail the zone when no other DS "
        "matches (Unbound: EDE 9); BIND 9.18 refuses the parent's whole DS answer and fails "
        "the zone even when a valid DS stands beside the malformed one. Either way, part of "
        "the validating resolvers answer SERVFAIL for every name in the zone.",
        fix="At the registrar, remove the malformed DS and publish the DS of the live KSK "
        "(printed below), copied exactly.",
        risk=_PUBLISH_DS_RISK,
        ede=9,
        references=("RFC 4034 §5.1", "RFC 4035 §5.2"),
        link=Link.DS,
        rank=85,
        actor=Actor.REGISTRAR,
    ),
    Code(
        "DS_KEY_NOT_ZONE_KEY",
        family=Family.DS,
        severity=Severity.ERROR,
        summary="the DS {key_tag}/{algorithm}/{digest_type} of {zone} names a key without the Zone "
        "Key flag ({detail})",
        meaning="The DS matches a published DNSKEY, but that key's Zone Key flag (bit 7 of the "
        "flags, RFC 4034 §2.1.1) is clear: it is not a DNSSEC zone key, and no other DS leads to "
        "one.",
        why="Validators may use only zone keys to validate zone data (RFC 4034 §5.2): the chain "
        "of trust stops at that DS and the zone is bogus. RFC 8914's code is EDE 11 (No Zone "
        "Key Bit Set). Measured in the lab: Unbound 1.17 fails with EDE 11, Knot Resolver 5.6 "
        "with EDE 6; BIND 9.18 does not check the flag and validates the zone.",
        fix="Publish the key with the Zone Key flag (flags 257 for a KSK), sign the DNSKEY RRset "
        "with it, then replace the DS at the registrar: the digest covers the flags, so the "
        "DS changes with them.",
        risk=_PUBLISH_DS_RISK,
        ede=11,
        references=("RFC 4034 §2.1.1", "RFC 4034 §5.2", "RFC 8914 §4.12"),
        link=Link.DS,
        rank=82,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DS_KEY_REVOKED",
        family=Family.DS,
        severity=Severity.ERROR,
        summary="the DS {key_tag}/{algorithm}/{digest_type} of {zone} names a key with the REVOKE "
        "flag set ({detail})",
        meaning="The DS matches a published DNSKEY (its digest was computed over the key with the "
        "REVOKE flag, RFC 5011), and no other DS leads to a key that is not revoked.",
        why="A revoked key may not validate anything, so the chain of trust stops at that DS and "
        "the zone is bogus. Measured in the lab: BIND 9.18, Knot Resolver 5.6 (EDE 6) and "
        "PowerDNS Recursor 4.8 (EDE 9) fail; Unbound 1.17 validates the zone.",
        fix="Publish a new KSK without the REVOKE flag, sign the DNSKEY RRset with it, then "
        "replace the DS at the registrar with the new key's DS.",
        risk=_PUBLISH_DS_RISK,
        ede=9,
        references=("RFC 5011 §2.1", "RFC 4035 §5.2"),
        link=Link.DS,
        rank=84,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DS_STALE",
        family=Family.DS,
        severity=Severity.WARNING,
        summary="DS {key_tag}/{algorithm}/{digest_type} at the parent matches no key of {zone}; "
        "another DS does",
        meaning="Beside a valid DS, the parent keeps one that matches no published key: left over "
        "from a rollover or a migration.",
        why="Validators use any DS that matches, so the zone validates; but some validators and "
        "caches fail depending on timing, and the stale DS confuses every later change.",
        fix="Remove the stale DS at the registrar; keep only DS that match active keys.",
        risk="Safe: the remaining DS still matches the live KSK.",
        references=("RFC 6781 §4.1.2",),
        link=Link.DS,
        exit_warning=True,
        actor=Actor.REGISTRAR,
    ),
    Code(
        "DS_ALGORITHM_MISMATCH",
        family=Family.DS,
        severity=Severity.ERROR,
        summary="DS {key_tag} at the parent names algorithm {algorithm}; {zone} has keys of "
        "algorithm {zone_algorithms} only",
        meaning="The DS at the parent is for an algorithm the zone no longer (or never) uses: "
        "typical after a move to another DNS provider that signs with another algorithm.",
        why="A validator supporting the DS algorithm expects a key of that algorithm; finding "
        "none, the zone is bogus.",
        fix="Replace the DS at the registrar with the DS of the zone's current KSK.",
        risk=_PUBLISH_DS_RISK,
        ede=9,
        references=("RFC 4035 §5.2", "RFC 6840 §5.11"),
        link=Link.DS,
        rank=70,
        actor=Actor.REGISTRAR,
    ),
    Code(
        "DS_DIGEST_UNSUPPORTED",
        family=Family.DS,
        severity=Severity.WARNING,
        summary="DS {key_tag}/{algorithm} at the parent uses digest type {digest_type}, which "
        "validators do not implement",
        meaning="The DS uses a digest algorithm (such as GOST, type 3) that validators have "
        "dropped.",
        why="A DS set with only unsupported digests makes the zone insecure (unsigned, EDE 2) "
        "to validators: it is not protected, though it resolves.",
        fix="Publish a DS with digest type 2 (SHA-256) at the registrar.",
        risk="Safe: adding a supported DS only turns validation on.",
        ede=2,
        references=("RFC 8624 §3.3", "RFC 4035 §5.2"),
        rank=250,
        ends_chain=True,
        # Insecure though signed, like DS_MISSING_FOR_SIGNED_ZONE: the same exit code (1).
        exit_warning=True,
        actor=Actor.REGISTRAR,
    ),
    Code(
        "DS_DIGEST_DEPRECATED",
        family=Family.DS,
        severity=Severity.NOTICE,
        summary="DS {key_tag}/{algorithm} uses digest type {digest_type} (SHA-1), which must no "
        "longer be published",
        meaning="SHA-1 DS records are deprecated.",
        why="Validators still accept them today; some are dropping SHA-1.",
        fix="Publish a SHA-256 DS (type 2) and then remove the SHA-1 one.",
        risk="Safe in that order.",
        references=("RFC 8624 §3.3",),
        actor=Actor.REGISTRAR,
    ),
    Code(
        "DS_SHA1_ONLY",
        family=Family.DS,
        severity=Severity.WARNING,
        summary="every DS of {zone} uses SHA-1 (digest type 1): {ds_list}",
        meaning="The parent holds only SHA-1 DS records for the zone, no SHA-256 (2) or SHA-384 "
        "(4).",
        why="RFC 9904/9905 retire SHA-1: a DS set with only SHA-1 digests must not be created. "
        "Validators that no longer implement SHA-1 treat the zone as insecure (EDE 2, "
        "Unsupported DS Digest Type): its protection is gone there.",
        fix="Publish a SHA-256 DS (printed below) at the registrar, then remove the SHA-1 DS.",
        risk="Safe in that order: the SHA-256 DS matches the same key.",
        ede=2,
        references=("RFC 9904", "RFC 9905", "RFC 8624 §3.3"),
        exit_warning=True,
        actor=Actor.REGISTRAR,
    ),
    Code(
        "DS_FOR_UNSIGNED_ZONE",
        family=Family.DS,
        severity=Severity.ERROR,
        summary="the parent has DS for {zone}, but the zone is served unsigned",
        meaning="The zone's servers publish no DNSKEY and no signatures while the parent still "
        "publishes a DS: signing was turned off with the DS left behind.",
        why="The DS tells validators the zone must be signed; with no signed data, every answer "
        "from the zone is bogus. This is the dangerous order.",
        fix="Either turn signing back on with the key the DS names, or remove the DS at the "
        "registrar (and only then leave signing off).",
        risk="Removing the DS ends the outage once the parent's DS TTL has passed. Never "
        "disable signing while a DS remains.",
        ede=9,
        references=("RFC 4035 §5.2", "RFC 6781 §4.3"),
        link=Link.DS,
        rank=40,
        actor=Actor.REGISTRAR,
    ),
    Code(
        "DS_MISSING_FOR_SIGNED_ZONE",
        family=Family.DS,
        severity=Severity.WARNING,
        summary="{zone} is signed but the parent publishes no DS for it",
        meaning="The zone publishes DNSKEY and signatures, but the chain of trust stops at the "
        "parent.",
        why="Validators treat the zone as unsigned: it resolves, with no DNSSEC protection.",
        fix="Publish the DS of the zone's KSK at the registrar (printed in the recovery plan).",
        risk="Check first that the DNSKEY RRset is served and signed on every server: a DS "
        "turns validation on, and any fault then becomes an outage.",
        references=("RFC 4035 §5.2",),
        rank=270,
        ends_chain=True,
        exit_warning=True,
        actor=Actor.REGISTRAR,
    ),
    Code(
        "DS_PARENT_INCONSISTENT",
        family=Family.DS,
        severity=Severity.WARNING,
        summary="the parent's servers disagree on the DS RRset of {zone}",
        meaning="Different servers of the parent zone serve different DS RRsets: a change at the "
        "registry is still propagating, or a parent server is stale.",
        why="Validators see either set depending on which parent server they ask.",
        fix="Wait for the parent to converge; if it does not, report it to the registry.",
        risk=_NO_RISK,
        references=("RFC 4035 §5.2",),
        exit_warning=True,
        actor=Actor.PARENT_OPERATOR,
    ),
    Code(
        "CDS_MATCHES_NO_DNSKEY",
        family=Family.DS,
        severity=Severity.WARNING,
        summary="the zone's {rrtype} {record} names no key of its DNSKEY RRset",
        meaning="The zone asks its parent (RFC 7344) for a DS of a key it does not publish: a CDS "
        "whose key tag, algorithm or digest fits no DNSKEY, or a CDNSKEY that is not in "
        "the DNSKEY RRset.",
        why="A parent that scans CDS refuses the request (RFC 7344 §4.1), so the rollover it "
        "was meant for stalls; a parent that applied it would publish a DS matching "
        "nothing, and the zone would fail validation.",
        fix="Publish CDS and CDNSKEY records made from the zone's current KSK (dnssec-dsfromkey "
        "-C, or let the signer maintain them), or remove them.",
        risk="A parent that scans CDS acts on what is published: correct it before it does.",
        references=("RFC 7344 §4.1", "RFC 7344 §5"),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "CDS_CDNSKEY_DISAGREE",
        family=Family.DS,
        severity=Severity.WARNING,
        summary="the zone's CDS and CDNSKEY RRsets ask for different keys",
        meaning="The CDS and the CDNSKEY records must name the same keys: each CDS is a digest of "
        "a key of the CDNSKEY RRset and each CDNSKEY has its CDS.",
        why="A parent that reads both refuses an inconsistent request, so the DS update the "
        "zone asks for never happens.",
        fix="Regenerate both from the same keys (dnssec-dsfromkey -C and the DNSKEY of the KSK), "
        "or publish only one kind.",
        risk="A parent that scans CDS acts on what is published: correct it before it does.",
        references=("RFC 7344 §4", "RFC 8078 §3"),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "CDS_CDNSKEY_UNPAIRED",
        family=Family.DS,
        severity=Severity.NOTICE,
        summary="the zone publishes {rrtype} without {missing}",
        meaning="RFC 7344 lets a child publish CDS or CDNSKEY; some parents read only one of them "
        "and several registries require both.",
        why="No effect on validation; a parent that reads only the missing kind never sees the "
        "request.",
        fix="Publish both, made from the same keys.",
        risk=_NO_RISK,
        references=("RFC 7344 §4", "RFC 8078 §3"),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "CDS_DELETE_INCOMPLETE",
        family=Family.DS,
        severity=Severity.WARNING,
        summary="the zone's request to remove its DS is incomplete: {reason}",
        meaning="RFC 8078 §4 asks for the DS to be removed with CDS 0 0 0 00 and CDNSKEY 0 3 0 "
        "AA==, each the only record of its RRset and published together.",
        why="A parent refuses a delete signal mixed with keys, or one half of it, so the DS "
        "stays; if signing is then turned off, the zone fails validation.",
        fix="Publish exactly CDS 0 0 0 00 and CDNSKEY 0 3 0 AA== (nothing else in those RRsets), "
        "and keep the zone signed until the parent has removed the DS.",
        risk="Never stop signing before the DS is gone at the parent and its TTL has passed.",
        references=("RFC 8078 §4",),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "CDS_MISMATCH",
        family=Family.DS,
        severity=Severity.NOTICE,
        summary="the zone's {rrtype} RRset does not match the DS at the parent",
        meaning="The zone asks the parent (RFC 7344/8078) for a DS set other than the one "
        "published: a rollover waiting for the parent, or a stale CDS.",
        why="No effect on validation by itself; a parent that scans CDS will replace the DS.",
        fix="Let the parent pick up the CDS, or correct/remove the CDS and CDNSKEY records.",
        risk="A parent that scans CDS applies it automatically: make sure it is what you want.",
        references=("RFC 7344", "RFC 8078"),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "CDS_DELETE_REQUESTED",
        family=Family.DS,
        severity=Severity.NOTICE,
        summary="{zone} publishes a {rrtype} delete request while the parent still has a DS",
        meaning="The zone asks the parent (RFC 8078 §4) to remove its DS.",
        why="None until the parent acts; then the zone becomes insecure.",
        fix="If intended, wait for the parent to remove the DS and its TTL to pass before "
        "disabling signing.",
        risk="Never disable signing before the DS is gone from every parent server.",
        references=("RFC 8078 §4",),
        actor=Actor.DNS_OPERATOR,
    ),
    # --- DNSKEY --------------------------------------------------------------------------
    Code(
        "DNSKEY_MISSING",
        family=Family.DNSKEY,
        severity=Severity.ERROR,
        summary="{zone} serves no DNSKEY RRset while the parent has a DS",
        meaning="The zone's data is signed, and the parent says it is signed, but the zone "
        "publishes no DNSKEY records.",
        why="Without keys, validators can authenticate nothing in the zone: everything is bogus.",
        fix="Publish the DNSKEY RRset again (re-enable the signer's key publication), or remove "
        "the DS at the registrar.",
        risk="Removing the DS is a rollback that ends the outage after the DS TTL.",
        ede=9,
        references=("RFC 4035 §2.1", "RFC 4035 §5.2"),
        link=Link.DS,
        rank=50,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DNSKEY_NOT_SIGNED_BY_DS_KEY",
        family=Family.DNSKEY,
        severity=Severity.ERROR,
        summary="the DNSKEY RRset of {zone} has no valid signature by a key that a DS matches "
        "(DS keys: {ds_keys}; signed by: {signers})",
        meaning="The key the parent's DS points at publishes, but does not sign the DNSKEY RRset "
        "(or its signature is not valid).",
        why="The chain of trust runs DS → KSK → signature over the DNSKEY RRset. Without that "
        "signature validators cannot trust any key of the zone: everything is bogus.",
        fix="Sign the DNSKEY RRset with the KSK that the DS names (check the signer's KSK "
        "configuration), or publish the DS of the key that does sign it.",
        risk="Publishing a new DS takes the parent's DS TTL to reach resolvers.",
        ede=10,
        references=("RFC 4035 §5.2",),
        link=Link.DS,
        rank=120,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DNSKEY_ALGORITHM_UNSUPPORTED",
        family=Family.DNSKEY,
        severity=Severity.WARNING,
        summary="{zone} is signed only with algorithm {algorithm} ({algorithm_name}), which "
        "validators do not support",
        meaning="Validators ignore keys of algorithms they do not implement (RSAMD5, DSA, GOST, "
        "...).",
        why="With no supported algorithm the zone is treated as unsigned (insecure, EDE 1): it "
        "resolves, with no protection.",
        fix="Roll the zone to a supported algorithm (13, ECDSA P-256, is the usual choice) and "
        "replace the DS.",
        risk="An algorithm rollover has its own safe order (RFC 6781 §4.1.4): new keys and "
        "signatures first, then the DS.",
        ede=1,
        references=("RFC 8624 §3.1", "RFC 4035 §5.2"),
        rank=240,
        ends_chain=True,
        # Insecure though signed, like DS_MISSING_FOR_SIGNED_ZONE: the same exit code (1).
        exit_warning=True,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DNSKEY_ALGORITHM_DEPRECATED",
        family=Family.DNSKEY,
        severity=Severity.WARNING,
        summary="DNSKEY {key_tag} of {zone} uses algorithm {algorithm} ({algorithm_name}), which "
        "must not be used for signing",
        meaning="The algorithm is being retired (RSASHA1 and RSASHA1-NSEC3-SHA1: SHA-1 signatures, "
        "RFC 9904 and RFC 9905).",
        why="The lab's Unbound, BIND and Knot Resolver still validate it, but validator builds on "
        "systems whose crypto policy refuses SHA-1 (RHEL 9 and derivatives) already treat "
        "it as unsupported: the zone is insecure there, and it will be for more of them.",
        fix="Roll the zone to ECDSA P-256 (13) or Ed25519 (15).",
        risk="Follow the algorithm rollover order of RFC 6781 §4.1.4: new signatures everywhere "
        "first, the DS last.",
        references=("RFC 9904", "RFC 9905", "RFC 8624 §3.1"),
        actor=Actor.DNS_OPERATOR,
        exit_warning=True,
    ),
    Code(
        "DNSKEY_KEY_TOO_SHORT",
        family=Family.DNSKEY,
        severity=Severity.NOTICE,
        summary="DNSKEY {key_tag} of {zone} is a {bits}-bit RSA key",
        meaning="RSA keys under 2048 bits are considered weak.",
        why="Validators accept them; attackers with resources might not be stopped.",
        fix="Roll to a 2048-bit RSA key or to an ECDSA or EdDSA key.",
        risk="A normal key rollover.",
        references=("RFC 8624 §3.1",),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DNSKEY_REVOKED",
        family=Family.DNSKEY,
        severity=Severity.NOTICE,
        summary="DNSKEY {key_tag} of {zone} has the REVOKE flag set",
        meaning="A revoked key (RFC 5011) may not be used to validate anything.",
        why="If it is the only key a DS or trust anchor matches, validation fails.",
        fix="Make sure another KSK with a DS is active before revoking.",
        risk=_NO_RISK,
        references=("RFC 5011 §2.1",),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DNSKEY_ALGORITHM_SIGNS_NOTHING",
        family=Family.DNSKEY,
        severity=Severity.WARNING,
        summary="{zone} publishes keys of algorithm {algorithm} but no {rrset} signature of that "
        "algorithm",
        meaning="Every algorithm in the DNSKEY RRset should sign every RRset of the zone.",
        why="Strict validators and some older ones fail when an algorithm's signatures are "
        "missing; most accept one valid path.",
        fix="Sign with every published algorithm, or remove the unused keys.",
        risk="During an algorithm rollover follow RFC 6781 §4.1.4.",
        references=("RFC 4035 §2.2", "RFC 6840 §5.11"),
        exit_warning=True,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DNSKEY_NOT_ZONE_KEY",
        family=Family.DNSKEY,
        severity=Severity.WARNING,
        summary="DNSKEY {key_tag} of {zone} has flags {flags} and protocol {protocol}: not a "
        "usable zone key",
        meaning="A key in the apex DNSKEY RRset lacks the Zone Key flag (bit 7) or has a protocol "
        "other than 3.",
        why="Validators ignore such a key: a DS naming it, or a signature made with it, leads "
        "nowhere.",
        fix="Publish the key with flags 256 (ZSK) or 257 (KSK) and protocol 3, or remove it.",
        risk="Removing a key that signs nothing is safe.",
        references=("RFC 4034 §2.1.1", "RFC 4034 §2.1.2"),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "TRUST_ANCHOR_MISMATCH",
        family=Family.CHAIN,
        severity=Severity.ERROR,
        summary="no root DNSKEY matches the trust anchor {anchor}",
        meaning="The configured trust anchor does not match any key the root (or the anchored "
        "zone) publishes.",
        why="Validators with this anchor fail everything below it.",
        fix="Update the trust anchor (for the real root, let RFC 5011 or your OS update it).",
        risk=_NO_RISK,
        ede=9,
        references=("RFC 4035 §4.4", "RFC 5011"),
        link=Link.DS,
        rank=20,
        actor=Actor.YOU,
    ),
    Code(
        "ZONE_OUTSIDE_TRUST_ANCHOR",
        family=Family.CHAIN,
        severity=Severity.INFO,
        summary="{zone} is not at or below a configured trust anchor ({anchors})",
        meaning="The configured trust anchors are for other zones (an island of trust, such as a "
        "private hierarchy's apex): nothing anchors this zone, so its data is not validated.",
        why="Validators with only these anchors treat the zone as insecure: neither secure nor "
        "bogus, whatever its signatures say.",
        fix="Nothing, if that is the intent; to validate it, add its anchor (or the root's).",
        risk=_NO_RISK,
        references=("RFC 4035 §4.4", "RFC 4033 §3.1"),
        rank=290,
        ends_chain=True,
        actor=Actor.YOU,
    ),
    Code(
        "ALGORITHM_ACCEPTED_BY_PROFILE",
        family=Family.DNSKEY,
        severity=Severity.WARNING,
        summary="DNSKEY {key_tag} of {zone} uses retired algorithm {algorithm} ({algorithm_name}), "
        "validated only because the validator profile accepts it",
        meaning="The key's algorithm is retired (RSAMD5, DSA): current validators must not "
        "validate it, but the validator profile given to this analysis (a build that still does) "
        "accepts it, so the zone was judged as that build judges it.",
        why="Validators that follow RFC 9904 treat a zone signed only with this algorithm as "
        "insecure (EDE 1), not secure; the verdict holds only for the profiled build.",
        fix="Roll the zone to a current algorithm: ECDSA P-256 (13) or Ed25519 (15).",
        risk="Follow the algorithm rollover order of RFC 6781 §4.1.4.",
        references=("RFC 9904 §3.1", "RFC 6781 §4.1.4"),
        actor=Actor.DNS_OPERATOR,
    ),
    # --- RRSIG ---------------------------------------------------------------------------
    Code(
        "RRSIG_EXPIRED",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="the RRSIG over {rrset} by key {key_tag} expired {delta} ({expiration})",
        meaning="The signature's validity window has ended. Signatures are short-lived; if the "
        "signer stops re-signing, they all expire together.",
        why="An expired signature is not valid: validators return SERVFAIL for the data, and "
        'if it covers the DNSKEY RRset, for the whole zone. "It worked yesterday and '
        'nobody touched DNS."',
        fix="Restore the signing pipeline (or re-sign now) and publish the re-signed zone on "
        "every server; verify fresh RRSIG timestamps.",
        risk="None on the DNS side; resolvers recover as the cached failure expires.",
        ede=7,
        references=("RFC 4035 §5.3.1",),
        link=Link.SIGNATURE,
        rank=100,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_NOT_YET_VALID",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="the RRSIG over {rrset} by key {key_tag} is not valid until {inception} ({delta})",
        meaning="The signature's inception lies in the future: the signer's clock is ahead, or the "
        "zone was published before its signatures became valid.",
        why="Validators reject signatures before their inception: SERVFAIL for the data.",
        fix="Fix the signer's clock (NTP) and re-sign with an inception in the past (most "
        "signers back-date an hour). A signer that signs at query time (online signing: "
        "Knot DNS onlinesign, PowerDNS live signing) does that by itself as soon as its clock "
        "is right.",
        risk=_NO_RISK,
        ede=8,
        references=("RFC 4035 §5.3.1",),
        link=Link.SIGNATURE,
        rank=110,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_WINDOW_INVERTED",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="the RRSIG over {rrset} by key {key_tag} expires ({expiration}) before its "
        "inception ({inception})",
        meaning="The signature's expiration precedes its inception: it is valid at no moment. A "
        "signer with a broken clock or validity settings, or the two fields swapped by hand.",
        why="Validators reject the signature whatever the time; with no other valid signature the "
        "RRset is bogus. RFC 8914's code for it is EDE 25 (Signature Expired before Valid); "
        "measured in the lab, Unbound 1.17 sends EDE 8 and Knot Resolver 5.6 EDE 7 instead, "
        "BIND none.",
        fix="Fix the signer's validity settings (inception in the past, expiration after it) and "
        "re-sign.",
        risk=_NO_RISK,
        ede=25,
        references=("RFC 4034 §3.1.5", "RFC 4035 §5.3.1", "RFC 8914 §4.26"),
        link=Link.SIGNATURE,
        rank=115,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_EXPIRES_SOON",
        family=Family.RRSIG,
        severity=Severity.WARNING,
        summary="the RRSIG over {rrset} by key {key_tag} expires {delta} ({expiration})",
        meaning="The signature is valid now but expires within the warning horizon.",
        why="If the signer does not refresh it in time, the data fails validation at expiration.",
        fix="Check that the signer is running and re-signs before expiry (typical refresh is "
        "days ahead).",
        risk=_NO_RISK,
        references=("RFC 6781 §4.4.2",),
        link=Link.SIGNATURE,
        exit_warning=True,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_MISSING",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="{rrset} is served without any RRSIG in a signed zone",
        meaning="An RRset of a signed zone comes back with no signature.",
        why="Validators require a signature for every authoritative RRset of a signed zone: "
        "SERVFAIL for this data.",
        fix="Re-sign the zone; check for records added after signing, or a server that strips "
        "signatures.",
        risk=_NO_RISK,
        ede=10,
        references=("RFC 4035 §2.2",),
        link=Link.SIGNATURE,
        rank=190,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_MALFORMED",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="the only RRSIG over {rrset} cannot be read ({error})",
        meaning="The server sends a signature record for the RRset, but its RDATA does not fit the "
        "RRSIG format (cut short, or a field missing), and no other signature covers the "
        "RRset.",
        why="A signature that cannot be read is no signature: the RRset is unsigned in a signed "
        "zone, and validators fail it (SERVFAIL).",
        fix="Re-sign the zone and check the path from the signer to the server (zone transfer, "
        "a hand-edited zone file, a middlebox rewriting answers).",
        risk=_NO_RISK,
        ede=10,
        references=("RFC 4034 §3.1", "RFC 4035 §5.3"),
        link=Link.SIGNATURE,
        rank=195,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_BAD_SIGNATURE",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="the RRSIG over {rrset} by key {key_tag} does not verify",
        meaning="The signature bytes do not verify with the key it names: the data or the "
        "signature changed after signing (corruption, an edit without re-signing, a "
        "broken transfer).",
        why="Validators reject the data: SERVFAIL.",
        fix="Re-sign the zone and republish it on every server.",
        risk=_NO_RISK,
        ede=6,
        references=("RFC 4035 §5.3.3",),
        link=Link.SIGNATURE,
        rank=150,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_NO_MATCHING_KEY",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="the RRSIG over {rrset} names key {key_tag} (algorithm {algorithm}), which {zone} "
        "does not publish",
        meaning="The data is signed by a key that is missing from the DNSKEY RRset: a ZSK that was "
        "removed too early, or never published.",
        why="Validators cannot verify the signature without the key: SERVFAIL for the data.",
        fix="Publish the key again (and keep it until its signatures have expired from "
        "caches), or re-sign with a published key.",
        risk="Remove a key only after every signature it made has expired from caches.",
        ede=9,
        references=("RFC 4035 §5.3.1", "RFC 6781 §4.1.1"),
        link=Link.SIGNATURE,
        rank=130,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_KEY_REVOKED",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="the RRSIG over {rrset} was made by key {key_tag}, which has the REVOKE flag set",
        meaning="The data is signed by a key the zone has revoked (RFC 5011); a revoked key may "
        "sign only the DNSKEY RRset.",
        why="Validators do not use revoked keys: SERVFAIL for the data.",
        fix="Re-sign with an active key, or do not revoke a key that still signs data.",
        risk=_NO_RISK,
        ede=9,
        references=("RFC 5011 §2.1",),
        link=Link.SIGNATURE,
        rank=140,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_ALGORITHM_UNSUPPORTED",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="the RRSIGs over {rrset} use only algorithm {algorithm} ({algorithm_name}), which "
        "validators do not support",
        meaning="The RRset is signed only with an algorithm validators lack, while the zone is "
        "secured through another.",
        why="With no signature they can check, validators reject the data.",
        fix="Sign the RRset with the zone's supported algorithm.",
        risk=_NO_RISK,
        ede=6,
        references=("RFC 6840 §5.11",),
        link=Link.SIGNATURE,
        rank=160,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_SIGNER_MISMATCH",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="the RRSIG over {rrset} names signer {signer}, not the zone apex {zone}",
        meaning="A signature's signer name must be the apex of the zone holding the data.",
        why="Validators reject such signatures.",
        fix="Re-sign the zone with the right origin.",
        risk=_NO_RISK,
        ede=6,
        references=("RFC 4035 §5.3.1",),
        link=Link.SIGNATURE,
        rank=170,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_LABELS_INVALID",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="the RRSIG over {rrset} has a labels field of {labels}, more than the owner has",
        meaning="The labels field must not exceed the owner name's label count.",
        why="Validators reject the signature.",
        fix="Re-sign the zone.",
        risk=_NO_RISK,
        ede=6,
        references=("RFC 4035 §5.3.1",),
        link=Link.SIGNATURE,
        rank=180,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_DNAME_FROM_WILDCARD",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="{rrset} is signed as an expansion of the wildcard {wildcard}: a DNAME is never "
        "synthesised from a wildcard",
        meaning="The RRSIG over the DNAME has fewer labels than its owner: the server synthesised "
        "the DNAME from a DNAME at a wildcard name. A DNAME redirects the names below its "
        "owner; it is not expanded from a wildcard (RFC 4592 §4.4, RFC 6672 §3.3).",
        why="Validators reject a DNAME proven only by a wildcard expansion (Unbound: SERVFAIL, "
        "EDE 6): every name below it fails.",
        fix="Remove the DNAME at the wildcard name and publish DNAMEs at the names meant to be "
        "redirected; re-sign the zone.",
        risk=_NO_RISK,
        ede=6,
        references=("RFC 4592 §4.4", "RFC 6672 §3.3", "RFC 4035 §5.3.2"),
        link=Link.SIGNATURE,
        rank=185,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_TTL_EXCEEDS_ORIGINAL",
        family=Family.RRSIG,
        severity=Severity.NOTICE,
        summary="{rrset} is served with TTL {ttl}, above the signed original TTL {original_ttl}",
        meaning="The TTL served is larger than the one the signature covers.",
        why="Validators cap the TTL at the original TTL; no failure, but caching differs from "
        "what the operator expects.",
        fix="Re-sign after changing TTLs.",
        risk=_NO_RISK,
        references=("RFC 4035 §5.3.3",),
        link=Link.SIGNATURE,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_TTL_OUTLIVES_SIGNATURE",
        family=Family.RRSIG,
        severity=Severity.WARNING,
        summary="{rrset} has TTL {ttl}, longer than its signature's remaining validity ({delta})",
        meaning="A resolver caching the data for its full TTL would hold it past the signature's "
        "expiration.",
        why="Validators cap the cache time at the signature expiration; refresh timing gets tight.",
        fix="Re-sign earlier or lower the TTL.",
        risk=_NO_RISK,
        references=("RFC 4035 §5.3.3",),
        link=Link.SIGNATURE,
        actor=Actor.DNS_OPERATOR,
        exit_warning=True,
    ),
    Code(
        "RRSIG_UNEXPECTED",
        family=Family.RRSIG,
        severity=Severity.WARNING,
        summary="{rrset} carries RRSIGs that should not exist: {reason}",
        meaning="The zone signs data it is not authoritative for: the NS RRset at a delegation, "
        "glue below it, or a type the name does not have.",
        why="Validators ignore such signatures, but a signer that signs the delegation's NS or "
        "glue does not see the zone cut: the child's data may be signed by the wrong zone.",
        fix="Check the signer's view of the delegation (the NS records at the cut) and re-sign.",
        risk=_NO_RISK,
        references=("RFC 4035 §2.2",),
        link=Link.SIGNATURE,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_TTL_MISMATCH",
        family=Family.RRSIG,
        severity=Severity.NOTICE,
        summary="the RRSIGs over {rrset} have TTL {rrsig_ttl}; the RRset has TTL {ttl}",
        meaning="An RRSIG's TTL must equal the TTL of the RRset it covers.",
        why="Caches may keep the data and its signature for different times and end up "
        "holding data without a signature.",
        fix="Re-sign after changing TTLs, so that signatures take the RRset's TTL.",
        risk=_NO_RISK,
        references=("RFC 4034 §3", "RFC 4035 §2.2"),
        link=Link.SIGNATURE,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_EXPIRES_BEFORE_SOA_EXPIRE",
        family=Family.RRSIG,
        severity=Severity.NOTICE,
        summary="{count} signatures of {zone} expire within the SOA expire interval ({expire}); "
        "the first at {earliest}",
        meaning="A secondary that loses contact with its primary keeps serving the zone for the "
        "SOA expire interval; signatures that expire sooner are then served expired.",
        why="If re-signed copies stop reaching a secondary, it serves bogus data before it "
        "stops serving the zone at all.",
        fix="Make the signature validity longer than the SOA expire value, or lower the expire "
        "value.",
        risk=_NO_RISK,
        references=("RFC 1035 §3.3.13", "RFC 6781 §4.4.2"),
        link=Link.SIGNATURE,
        actor=Actor.DNS_OPERATOR,
    ),
    # --- the zone's content ------------------------------------------------------------
    Code(
        "OUT_OF_ZONE_DATA",
        family=Family.ZONE,
        severity=Severity.ERROR,
        summary="{name} ({types}, line {line}) lies outside {zone}: out-of-zone data is never "
        "served",
        meaning="The zone file holds records whose owner is neither the zone's apex nor a name "
        "below it, such as www.example.net. in the zone example.com. (often an absolute name "
        "with the wrong suffix, or address records for a name server in another zone).",
        why="Validators never see such records: no server answers for them from this zone. "
        "Servers disagree on the file itself: NSD refuses to load a primary zone that "
        "holds them (the whole zone then goes unserved), BIND and Knot skip them. Glue "
        "below a delegation of the zone is in the zone and is not out-of-zone data.",
        fix="Remove the records, or move them to the zone that holds their owner name. A name "
        "server's address for a delegation belongs in the zone of the name server's name.",
        risk="None for resolution: the records were never served. Check that nothing expected "
        "them to be.",
        references=("RFC 1034 §4.2.1", "RFC 9471 §2"),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DNAME_OCCLUDED_DATA",
        family=Family.ZONE,
        severity=Severity.ERROR,
        summary="{name} ({types}, line {line}) lies below the DNAME at {dname}: occluded data is "
        "never served",
        meaning="A DNAME redirects every name below its owner to the target: a server answers "
        "queries there with a synthesised CNAME, so data the zone holds below the DNAME "
        "owner is occluded. It is never served, so it must be neither signed nor in the "
        "NSEC/NSEC3 chain.",
        why="Validators never see the occluded data. Servers disagree on the file: Knot and "
        "NSD refuse to load a zone with data below a DNAME (the whole zone then goes "
        "unserved), BIND loads it and never serves the data.",
        fix="Remove the records below the DNAME owner, or remove the DNAME if the names below "
        "it are meant to be answered from this zone. The DNAME itself stays signed and in "
        "the denial chain.",
        risk="Removing the DNAME changes every answer below its owner: the occluded data "
        "becomes visible and everything not in the zone becomes NXDOMAIN.",
        references=("RFC 6672 §2.4",),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "CNAME_AND_OTHER_DATA",
        family=Family.ZONE,
        severity=Severity.ERROR,
        summary="{name} ({types}, line {line}) has a CNAME beside other data",
        meaning="A name with a CNAME is an alias: it may hold nothing else but the DNSSEC records "
        "that sign and deny it (RRSIG, NSEC). This one holds other types as well, often "
        "an alias added where an A record or an MX already was.",
        why="Servers refuse the file: BIND (named-checkzone: 'CNAME and other data'), Knot and "
        "NSD do not load a zone with it, so the whole zone goes unserved. A resolver "
        "that met both would not know which to follow.",
        fix="Keep either the CNAME or the other records at this name; to alias the zone's apex, "
        "publish the target's addresses there instead.",
        risk="Removing the CNAME changes what the name answers: check who relies on the alias.",
        references=("RFC 1034 §3.6.2", "RFC 2181 §10.1", "RFC 4035 §2.5"),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "CNAME_MULTIPLE",
        family=Family.ZONE,
        severity=Severity.ERROR,
        summary="{name} ({types}, line {line}) has more than one CNAME record",
        meaning="A name can be an alias of one name only: the CNAME RRset holds exactly one "
        "record.",
        why="Servers refuse the file (BIND: 'multiple RRs of singleton type'; Knot and NSD "
        "likewise), so the whole zone goes unserved.",
        fix="Keep the one CNAME record the name should point to.",
        risk="Whoever used the removed target loses it: check which alias is meant.",
        references=("RFC 2181 §10.1",),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DNAME_MULTIPLE",
        family=Family.ZONE,
        severity=Severity.ERROR,
        summary="{name} ({types}, line {line}) has more than one DNAME record",
        meaning="A DNAME redirects a whole subtree to one target: the DNAME RRset holds exactly "
        "one record.",
        why="Servers refuse the file (BIND: 'multiple RRs of singleton type'), so the whole "
        "zone goes unserved.",
        fix="Keep the one DNAME record the subtree should be redirected to.",
        risk="Names below the owner follow the kept target only: check which is meant.",
        references=("RFC 6672 §2.4",),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DNAME_BESIDE_NS",
        family=Family.ZONE,
        severity=Severity.ERROR,
        summary="{name} ({types}, line {line}) has a DNAME beside the NS of a delegation",
        meaning="Below the apex, a name with NS records is a delegation: the names below it belong "
        "to the child zone, so a DNAME redirecting them cannot stand beside the NS.",
        why="The delegation occludes the DNAME: parent servers answer with a referral and never "
        "with the DNAME, and strict servers refuse the file. Which answer a resolver sees "
        "depends on the server.",
        fix="Remove the DNAME (and let the child zone publish one at its apex), or remove the "
        "delegation.",
        risk="Removing the delegation takes the child zone off the parent; removing the DNAME "
        "changes nothing that was served.",
        references=("RFC 6672 §2.3",),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "APEX_NS_MISSING",
        family=Family.ZONE,
        severity=Severity.ERROR,
        summary="{name} ({types}, line {line}) is the zone's apex and has no NS records",
        meaning="Every zone lists its authoritative servers in an NS RRset at its apex.",
        why="Servers refuse the file (BIND: 'has no NS records', Knot and NSD likewise), so the "
        "zone goes unserved; a resolver asking the zone for its servers gets nothing.",
        fix="Add the NS RRset of the zone's servers at the apex, the same names as the "
        "delegation in the parent, and re-sign.",
        risk=_NO_RISK,
        references=("RFC 1034 §4.2.1", "RFC 1035 §5.2"),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "GLUE_MISSING",
        family=Family.ZONE,
        severity=Severity.ERROR,
        summary="the NS of {name} (line {line}) names {target}, inside the zone, which has no "
        "address (A or AAAA) in it",
        meaning="A name server whose name lies inside the zone can only be reached through an "
        "address the zone publishes: at a delegation that is the glue below the cut, for "
        "the apex or a sibling the authoritative A/AAAA records.",
        why="named-checkzone refuses the zone ('has no address records'); resolvers cannot find "
        "the server's address, and for a delegation whose servers all lack glue the child "
        "zone cannot be resolved at all.",
        fix="Add the A and/or AAAA records of the name server (below a delegation: the glue the "
        "child's registrar lists), or correct the NS target.",
        risk=_NO_RISK,
        references=("RFC 1034 §4.2.1", "RFC 9471 §2"),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "GLUE_UNUSED",
        family=Family.ZONE,
        severity=Severity.NOTICE,
        summary="{name} ({types}, line {line}) is an address below a delegation that no NS names",
        meaning="Addresses below a delegation are glue: they exist only for the NS records that "
        "name them. This one is named by no NS of the zone, often left behind when a "
        "name server was renamed or removed.",
        why="Servers never serve it (it is not authoritative data) and validators never see it; "
        "stale glue misleads whoever reads the file.",
        fix="Remove the records, or add the NS record they were meant for.",
        risk="None: no server served them.",
        references=("RFC 9471 §2",),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DELEGATION_DS_UNUSABLE",
        family=Family.DS,
        severity=Severity.WARNING,
        summary="the DS of {name} (line {line}: {ds}) use only algorithms or digest types "
        "validators do not implement",
        meaning="A delegation's DS records name the child's keys by algorithm and digest type. "
        "When every DS uses an algorithm (such as 0, reserved, or an unassigned number) or "
        "a digest type validators do not implement, none of them can authenticate the "
        "child.",
        why="Validators then treat the delegation as insecure (RFC 4035 §5.2): the child zone "
        "resolves, unprotected, though it may be signed; a typo in the DS hides a broken "
        "chain the same way.",
        fix="Publish the child's DS with its real algorithm and digest type 2 (SHA-256), as "
        "dnssec-dsfromkey prints it from the child's KSK.",
        risk="Adding a usable DS turns validation of the child on: check the child's keys "
        "match first, or the child fails to resolve.",
        references=("RFC 4035 §5.2", "RFC 9904"),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "RRSIG_COVERS_RRSIG",
        family=Family.RRSIG,
        severity=Severity.ERROR,
        summary="{name} ({types}, line {line}) has an RRSIG whose covered type is RRSIG",
        meaning="An RRSIG signs an RRset of some other type; RRSIGs themselves are never signed. "
        "This name holds a signature over signatures, which no signer should produce.",
        why="Validators cannot use it: there is no RRSIG RRset to validate and resolvers never "
        "ask for one. Its presence shows a signer or an editing step that broke the file, "
        "and strict tools refuse it.",
        fix="Remove the RRSIG that covers RRSIG and re-sign the zone with a correct signer.",
        risk="None: no validator used the signature.",
        references=("RFC 4035 §2.2", "RFC 4034 §3"),
        actor=Actor.DNS_OPERATOR,
    ),
    # --- denial of existence -------------------------------------------------------------
    Code(
        "DENIAL_PROOF_MISSING",
        family=Family.DENIAL,
        severity=Severity.ERROR,
        summary="the {kind} answer for {qname} {qtype} carries no usable NSEC or NSEC3 records "
        "({reason})",
        meaning="A negative answer from a signed zone must prove the name or type does not exist.",
        why="Without the proof, validators cannot tell a real negative answer from a forged "
        "one: nonexistent names SERVFAIL instead of NXDOMAIN, while existing names work.",
        fix="Re-sign the zone so the NSEC/NSEC3 chain is complete, and check that every server "
        "serves it.",
        risk=_NO_RISK,
        ede=12,
        references=("RFC 4035 §3.1.3", "RFC 5155 §7.2"),
        link=Link.DENIAL,
        rank=200,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "NXDOMAIN_PROOF_INVALID",
        family=Family.DENIAL,
        severity=Severity.ERROR,
        summary="the NXDOMAIN answer for {qname} does not prove it: {reason}",
        meaning="The NSEC/NSEC3 records in the negative answer do not cover the name (or do not "
        "rule out a wildcard).",
        why="Validators reject the denial: nonexistent names SERVFAIL instead of NXDOMAIN.",
        fix="Re-sign the zone; a broken or stale denial chain is a signer fault.",
        risk=_NO_RISK,
        ede=12,
        references=("RFC 4035 §5.4", "RFC 5155 §8.4"),
        link=Link.DENIAL,
        rank=210,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "NODATA_PROOF_INVALID",
        family=Family.DENIAL,
        severity=Severity.ERROR,
        summary="the NODATA answer for {qname} {qtype} does not prove it: {reason}",
        meaning="The NSEC/NSEC3 record for the name lists the type as present, or no matching "
        "record is given.",
        why="Validators reject the denial: the query SERVFAILs instead of an empty answer.",
        fix="Re-sign the zone so the type bitmaps match the data.",
        risk=_NO_RISK,
        ede=12,
        references=("RFC 4035 §5.4", "RFC 5155 §8.5"),
        link=Link.DENIAL,
        rank=220,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "WILDCARD_PROOF_MISSING",
        family=Family.DENIAL,
        severity=Severity.ERROR,
        summary="the wildcard answer for {qname} comes without proof that no closer name exists: "
        "{reason}",
        meaning="An answer synthesised from a wildcard must carry the NSEC/NSEC3 record showing "
        "the exact name does not exist.",
        why="Validators reject the wildcard answer.",
        fix="Re-sign the zone; check that every server includes the proof.",
        risk=_NO_RISK,
        ede=12,
        references=("RFC 4035 §5.3.4", "RFC 5155 §8.8"),
        link=Link.DENIAL,
        rank=230,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "NSEC3_ITERATIONS_EXCESSIVE",
        family=Family.DENIAL,
        severity=Severity.WARNING,
        summary="{zone} uses NSEC3 with {iterations} iterations; validators give up above {limit}",
        meaning="Extra NSEC3 iterations cost resolvers CPU and add nothing (RFC 9276).",
        why="Validators treat answers needing such NSEC3 records as insecure (EDE 27), and some "
        "as bogus: negative answers lose their protection.",
        fix="Re-sign with NSEC3 iterations 0 and an empty salt (RFC 9276).",
        risk="Changing NSEC3 parameters is a normal re-sign.",
        ede=27,
        references=("RFC 9276 §3.1", "RFC 9276 §3.2"),
        link=Link.DENIAL,
        rank=260,
        ends_chain=True,
        # Insecure though signed, like DS_MISSING_FOR_SIGNED_ZONE: the same exit code (1).
        exit_warning=True,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "NSEC3_ITERATIONS_NONZERO",
        family=Family.DENIAL,
        severity=Severity.WARNING,
        summary="{zone} uses NSEC3 with {iterations} iterations; RFC 9276 says 0",
        meaning="Extra iterations make every negative answer more expensive and protect nothing.",
        why="Validators accept moderate values today, but RFC 9276 lets them treat any "
        "iterations above 0 as insecure (or fail), and their caps keep dropping (Unbound "
        "1.17: 150; several current BIND, Knot Resolver and PowerDNS Recursor releases: 50).",
        fix="Re-sign with NSEC3 iterations 0.",
        risk=_NO_RISK,
        references=("RFC 9276 §3.1",),
        actor=Actor.DNS_OPERATOR,
        exit_warning=True,
    ),
    Code(
        "NSEC3_SALT_PRESENT",
        family=Family.DENIAL,
        severity=Severity.NOTICE,
        summary="{zone} uses an NSEC3 salt ({salt}); RFC 9276 says none",
        meaning="A salt adds nothing against zone walking.",
        why="No validation effect.",
        fix="Re-sign with an empty salt.",
        risk=_NO_RISK,
        references=("RFC 9276 §3.1",),
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DENIAL_CHAIN_BROKEN",
        family=Family.DENIAL,
        severity=Severity.ERROR,
        summary="the {mechanism} chain of {zone} is broken at {name}: {reason}",
        meaning="The denial-of-existence chain must hold one record per authoritative name (and, "
        "for NSEC3, per empty non-terminal), in canonical (hash) order, the last pointing "
        "back to the first.",
        why="Negative answers for names in the broken span cannot be proven: validators answer "
        "SERVFAIL instead of NXDOMAIN or NODATA.",
        fix="Re-sign the zone from scratch (a full re-sign rebuilds the chain); check that no "
        "tool edits the signed zone afterwards.",
        risk=_NO_RISK,
        ede=12,
        references=("RFC 4035 §2.3", "RFC 5155 §7.1"),
        link=Link.DENIAL,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "DENIAL_BITMAP_MISMATCH",
        family=Family.DENIAL,
        severity=Severity.ERROR,
        summary="the {mechanism} record of {name} lists {listed}; the name has {expected}",
        meaning="The type bitmap must list exactly the types present at the name (RFC 4035 §2.3, "
        "RFC 5155 §7.1).",
        why="A missing type lets an attacker deny data that exists; an extra type makes NODATA "
        "answers for it unprovable: validators answer SERVFAIL.",
        fix="Re-sign the zone so that the bitmaps are rebuilt from the data.",
        risk=_NO_RISK,
        ede=12,
        references=("RFC 4034 §4.1.2", "RFC 5155 §3.2.1"),
        link=Link.DENIAL,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "NSEC3PARAM_MISMATCH",
        family=Family.DENIAL,
        severity=Severity.ERROR,
        summary="the NSEC3PARAM of {zone} ({param}) does not match the NSEC3 chain ({chain})",
        meaning="Authoritative servers find the NSEC3 chain through the NSEC3PARAM record; it must "
        "carry the chain's hash algorithm, iterations and salt.",
        why="Servers cannot find the NSEC3 records for negative answers and send none: "
        "validators answer SERVFAIL.",
        fix="Re-sign the zone with one set of NSEC3 parameters and publish the matching "
        "NSEC3PARAM.",
        risk=_NO_RISK,
        ede=12,
        references=("RFC 5155 §4", "RFC 5155 §7.3"),
        link=Link.DENIAL,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "NSEC3PARAM_FLAGS_NONZERO",
        family=Family.DENIAL,
        severity=Severity.ERROR,
        summary="the NSEC3PARAM of {zone} has flags {flags}; it must have 0, or servers ignore it",
        meaning="The NSEC3PARAM's flags field must be 0 (RFC 5155 §4.1.2). Opt-out is marked in "
        "each NSEC3 record, never in the NSEC3PARAM, even in a zone signed with opt-out.",
        why="Servers must ignore an NSEC3PARAM whose flags are not 0 (BIND does): they then "
        "find no NSEC3 chain, send negative answers without a proof, and validators "
        "answer SERVFAIL for names and types that do not exist.",
        fix="Publish the NSEC3PARAM with flags 0 and the chain's algorithm, iterations and "
        "salt, and re-sign it.",
        risk=_NO_RISK,
        ede=12,
        references=("RFC 5155 §4.1.2",),
        link=Link.DENIAL,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "NSEC3_OPT_OUT",
        family=Family.DENIAL,
        severity=Severity.NOTICE,
        summary="{count} of {total} NSEC3 records of {zone} are opt-out: negative answers in their "
        "spans are insecure",
        meaning="An NSEC3 record with the opt-out flag may cover insecure delegations (NS without "
        "DS) that have no NSEC3 of their own (RFC 5155 §6). The flag holds for that "
        "record's span only: a chain may mix opt-out and ordinary records, and an insecure "
        "delegation left out of the chain must fall in an opt-out span.",
        why="Validators accept the proof that an insecure delegation has no DS from an opt-out "
        "span, but treat NXDOMAIN, NODATA and wildcard answers that rest on an opt-out span "
        "as insecure (no AD flag, RFC 5155 §9.2): an attacker can forge unsigned "
        "delegations or deny names there. Spans without the flag stay fully secure.",
        fix="Nothing, if the zone needs it: RFC 9276 keeps opt-out for large, highly dynamic "
        "zones with few signed delegations. Otherwise re-sign without opt-out.",
        risk="Re-signing without opt-out adds an NSEC3 per insecure delegation: a larger zone.",
        references=("RFC 5155 §6", "RFC 5155 §9.2", "RFC 9276 §3.1"),
        actor=Actor.DNS_OPERATOR,
    ),
    # --- resolvers ----------------------------------------------------------------------
    Code(
        "RESOLVER_SERVFAIL",
        family=Family.RESOLVERS,
        severity=Severity.ERROR,
        summary="resolver {resolver} answers SERVFAIL{ede_text}",
        meaning="A validating resolver fails the question.",
        why="Clients behind that resolver cannot resolve the name.",
        fix="Fix the cause found in the chain of trust; the resolver recovers as its cached "
        "failure expires.",
        risk="Flushing the resolver's cache (where you run it) speeds recovery for its clients.",
        references=("RFC 8914",),
        actor=Actor.NOBODY,
    ),
    Code(
        "RESOLVER_NOT_VALIDATING",
        family=Family.RESOLVERS,
        severity=Severity.NOTICE,
        summary="resolver {resolver} does not validate: it answers {anchor} SOA, signed at the "
        "trust anchor, without AD",
        meaning="A validating resolver sets AD on every answer it validated, and the trust "
        "anchor's own zone always validates. This resolver never does: it passes on what the "
        "servers send, checked or not.",
        why="Nothing breaks at it: it answers even when DNSSEC fails, so it is no witness of "
        "validation (its answer beside validators' SERVFAIL is the fingerprint of a DNSSEC "
        "failure). It is left out of the validating view.",
        fix="Nothing to fix for the zone. To judge validation, ask validating resolvers "
        "(--resolver); to protect its clients, turn validation on where it is run.",
        risk=_NO_RISK,
        references=("RFC 4035 §3.2.3", "RFC 6840 §5.8"),
        actor=Actor.RESOLVER_OPERATOR,
    ),
    Code(
        "RESOLVER_CD_ANSWERS",
        family=Family.RESOLVERS,
        severity=Severity.ERROR,
        summary="resolver {resolver} answers {cd_rcode} with checking disabled but SERVFAIL "
        "without it",
        meaning="The data is there, but validation of it fails: the strongest sign that DNSSEC is "
        "the failing layer.",
        why="Validating resolvers refuse data they cannot authenticate.",
        fix="Fix the DNSSEC cause found in the chain of trust.",
        risk=_NO_RISK,
        references=("RFC 4035 §3.2.2",),
        actor=Actor.NOBODY,
    ),
    Code(
        "RESOLVER_UNREACHABLE",
        family=Family.RESOLVERS,
        severity=Severity.NOTICE,
        summary="resolver {resolver} did not answer ({error})",
        meaning="A resolver the check was told to ask gave no answer.",
        why="Nothing is known about its view.",
        fix="Check the address, or leave it out with --no-resolvers.",
        risk=_NO_RISK,
        actor=Actor.YOU,
    ),
    Code(
        "RESOLVERS_DISAGREE",
        family=Family.RESOLVERS,
        severity=Severity.WARNING,
        summary="resolvers disagree: {answers}",
        meaning="Some validating resolvers answer, others fail.",
        why="Cache state or validation timing differs between them: some recover earlier, or a "
        "stale server is asked by some and not others.",
        fix="Fix the cause; resolvers converge as cached data expires.",
        risk=_NO_RISK,
        actor=Actor.NOBODY,
    ),
    # --- chain -----------------------------------------------------------------------
    Code(
        "ZONE_UNSIGNED",
        family=Family.CHAIN,
        severity=Severity.INFO,
        summary="{zone} is not signed and the parent has no DS for it: the chain of trust ends "
        "there",
        meaning="An insecure delegation: the parent proves there is no DS, and the zone has no "
        "keys.",
        why="Nothing breaks: validators treat the zone's data as unsigned (no AD flag).",
        fix="To protect the zone, sign it and then publish its DS at the registrar.",
        risk="Publish the DS only after every server serves the signed zone.",
        references=("RFC 4035 §5.2",),
        rank=280,
        ends_chain=True,
        actor=Actor.DNS_OPERATOR,
    ),
    Code(
        "INSECURE_DELEGATION_UNPROVEN",
        family=Family.CHAIN,
        severity=Severity.ERROR,
        summary="{zone}'s answer for the DS of {child} is neither a DS RRset nor a valid proof "
        "that there is none: {reason}",
        meaning="A signed parent must either serve the child's DS or prove, with validly signed "
        "NSEC/NSEC3 records, that there is none (a matching NSEC without the DS bit, or an "
        "opt-out span covering the name), on every one of its servers. This parent answers "
        "without such a proof: none, one that does not cover the name, or one whose "
        "signature fails.",
        why="Validators cannot decide whether the child is signed: every answer of the child is "
        "bogus (SERVFAIL), whatever the child serves. The zone that breaks is the parent. "
        "Measured in the lab with a corrupt signature over the proof: Unbound EDE 9, Knot "
        "Resolver EDE 6, BIND none.",
        fix="The parent's operator (the registry for a TLD) fixes its signer's denial chain; "
        "nothing in the child can. Signing the child and publishing its DS also ends it.",
        risk=_NO_RISK,
        ede=12,
        references=("RFC 4035 §5.2",),
        link=Link.DS,
        rank=30,
        actor=Actor.PARENT_OPERATOR,
    ),
    Code(
        "CHECK_CRASHED",
        family=Family.INTERNAL,
        severity=Severity.WARNING,
        summary="the {check} check failed on {subject}: {error}",
        meaning="dnssec-doctor hit an internal error in one check; the other checks ran.",
        why="Unknown: this part of the chain was not analysed.",
        fix="Report it with the snapshot (dnssec-doctor probe ... -o snapshot.json).",
        risk=_NO_RISK,
        exit_warning=True,
        actor=Actor.YOU,
    ),
)


def lookup(code: str) -> Code:
    try:
        return CODES[code]
    except KeyError:
        raise UnknownCode(code) from None


def emits(*codes: str) -> tuple[str, ...]:
    """A check module's ``EMITS``: the codes it can emit, each checked against the table
    (tests/test_codes.py checks that the module emits no other)."""
    return tuple(lookup(code).code for code in codes)


def make_finding(
    code: str,
    *,
    zone: str | None,
    subject: str,
    servers: tuple[str, ...] = (),
    records: tuple[str, ...] = (),
    **params: Param,
) -> Finding:
    """A finding of ``code`` with its summary filled in from ``params``."""
    entry = lookup(code)
    values: dict[str, Param] = {"zone": zone, "subject": subject, **params}
    missing = entry.params - values.keys()
    if missing:
        raise ValueError(f"{code} needs parameters {sorted(missing)}")
    return Finding(
        code=code,
        severity=entry.severity,
        zone=zone,
        subject=subject,
        summary=entry.summary.format(**values),
        params=params,
        servers=servers,
        records=records,
        ede=entry.ede,
    )
