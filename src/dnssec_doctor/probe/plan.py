"""What to ask, and what a response tells the walk to do next: pure functions, no I/O.

The collector (``dnssec_doctor.probe.collect``) asks these functions which questions a
zone cut needs and reads each response through them: is it a referral to a child zone,
a redirection (CNAME, DNAME) to another name, or evidence of a zone cut that the same
servers hide by serving both parent and child. A response that cannot be read gives
"cannot follow" (``None``), never an exception: the bytes stay in the snapshot and the
analysis reports them.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import dns.edns
import dns.entropy
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.rrset

from dnssec_doctor.analysis.wire import parse_message
from dnssec_doctor.errors import UsageError
from dnssec_doctor.model.redirect import read_redirect as read_redirect  # the one reader
from dnssec_doctor.model.snapshot import (
    DENIAL_PROBE_PREFIX,
    QUERY_EDNS_PAYLOAD,
    UNKNOWN_EDNS_OPTION,
    UNKNOWN_EDNS_OPTION_DATA,
    Purpose,
    carries_unknown_option,
    edns_version,
)

EDNS_PAYLOAD = QUERY_EDNS_PAYLOAD  # the DNS flag day 2020 size: no IP fragmentation
DENIAL_PREFIX = DENIAL_PROBE_PREFIX

APEX_QUESTIONS: tuple[tuple[Purpose, dns.rdatatype.RdataType], ...] = (
    (Purpose.DNSKEY, dns.rdatatype.DNSKEY),
    (Purpose.SOA, dns.rdatatype.SOA),
    (Purpose.NS, dns.rdatatype.NS),
    (Purpose.CDS, dns.rdatatype.CDS),
    (Purpose.CDNSKEY, dns.rdatatype.CDNSKEY),
)
DENIAL_TYPE = dns.rdatatype.A
ADDRESS_TYPES = (dns.rdatatype.A, dns.rdatatype.AAAA)


@dataclass(frozen=True)
class Question:
    """One question and the header bits it is sent with."""

    purpose: Purpose
    qname: dns.name.Name
    rdtype: dns.rdatatype.RdataType
    rd: bool = False
    do: bool = True
    cd: bool = False


@dataclass(frozen=True)
class Referral:
    """A delegation read from a response: the child zone, its NS names, and the glue
    addresses the parent may vouch for (names inside the zone that was asked)."""

    child: dns.name.Name
    ns_names: tuple[dns.name.Name, ...]
    glue: Mapping[dns.name.Name, tuple[str, ...]] = field(default_factory=dict)


def parse_name(text: str) -> dns.name.Name:
    """The user's name, absolute; ``UsageError`` when it is not a domain name. The one
    parser of names from users (the command line, the web, watch, go-insecure)."""
    if not text.strip():
        # dnspython reads "" as the empty relative name, which would check the root.
        raise UsageError("invalid name '': the name is empty", hint="write . for the root")
    try:
        return dns.name.from_text(text)
    except dns.name.LabelTooLong:
        raise UsageError(f"invalid name {text!r}: a label is longer than 63 octets") from None
    except dns.name.NameTooLong:
        raise UsageError(f"invalid name {text!r}: longer than 255 octets") from None
    except (dns.exception.DNSException, ValueError, UnicodeError) as error:
        raise UsageError(f"invalid name {text!r}: {error}") from None


# The one policy on the record types a question may name (check, probe, watch, the web,
# go-insecure and replay all parse with ``parse_rdtype``):
# - meta types and transfers (AXFR, IXFR, OPT, TSIG, NXNAME, ...: RFC 6895's 128-255 and
#   OPT) and the reserved TYPE0 are not questions a resolver validates an answer to:
#   always refused;
# - RRSIG and SIG: validators answer a question for the signatures themselves without
#   validating them (RFC 4035 §3.2.1), so there is nothing to judge: always refused
#   (replay reports such a step as not replayed, as check refuses it);
# - ANY: answers may be minimal (RFC 8482) and are no one RRset to validate, so users
#   are refused it; replay alone asks it (``replay=True``), because the validators' own
#   test scenarios ask it and the replay must put the same question to the same servers.
SIGNATURE_TYPES = frozenset({dns.rdatatype.RRSIG, dns.rdatatype.SIG})


def parse_rdtype(text: str, *, replay: bool = False) -> dns.rdatatype.RdataType:
    """A record type from the user (a mnemonic or TYPEnnn), under the policy above;
    ``UsageError`` otherwise."""
    try:
        rdtype = dns.rdatatype.from_text(text)
    except (dns.exception.DNSException, ValueError):
        raise UsageError(
            f"unknown record type {text!r}", hint="for example A, AAAA, MX, TXT"
        ) from None
    name = dns.rdatatype.to_text(rdtype)
    if replay and rdtype == dns.rdatatype.ANY:
        return rdtype
    if dns.rdatatype.is_metatype(rdtype) or rdtype == 0:
        raise UsageError(f"{name} is not a type dnssec-doctor can check")
    if rdtype in SIGNATURE_TYPES:
        raise UsageError(
            f"{name} is not checked on its own", hint="check the type the signatures cover"
        )
    return rdtype


def make_query(question: Question) -> dns.message.Message:
    """The query message: EDNS0 with a 1232-byte payload, DO as asked, RD and CD as asked
    (the transport probes: the EDNS version and option their purpose says), with an ID
    of its own (random, as dnspython draws it).

    Built once per question and copied: a scan asks the same questions of the root and
    its TLDs for every name (answered from its cache, but each name's collector still
    makes its query), and building one costs more than the copy. The copy has its own
    ID, section lists and EDNS record (``want_dnssec`` and ``ednsflags`` change that
    record in place); the question's record set is shared (immutable
    rdata, and no reader adds to a query's question)."""
    # Keyed by the name's labels as written too: names compare without case, and a query
    # asks its name in the case it was given.
    model = _query_model(question, question.qname.labels)
    query = copy.copy(model)
    # Containers of its own: sections, their index, the errors list.
    query.sections = [list(section) for section in model.sections]
    query.index = dict(model.index)
    query.errors = []
    if model.opt is not None:
        query.opt = model.opt.copy()
    query.id = dns.entropy.random_16()
    return query


# The questions names share are asked for every name, so they stay among the most recent
# (the root's and each TLD's seven, a few hundred TLDs' worth): 2.5 KB each, 5 MB in all.
@functools.lru_cache(maxsize=2048)
def _query_model(question: Question, labels: tuple[bytes, ...]) -> dns.message.Message:
    options: list[dns.edns.Option] = []
    if carries_unknown_option(question.purpose):
        option = dns.edns.GenericOption(
            dns.edns.OptionType(UNKNOWN_EDNS_OPTION), UNKNOWN_EDNS_OPTION_DATA
        )
        options.append(option)
    query = dns.message.make_query(
        dns.name.Name(labels),
        question.rdtype,
        use_edns=edns_version(question.purpose),
        payload=EDNS_PAYLOAD,
        want_dnssec=question.do,
        flags=0,
        options=options,
    )
    if question.rd:
        query.flags |= dns.flags.RD
    if question.cd:
        query.flags |= dns.flags.CD
    return query


def transport_probes(zone: dns.name.Name) -> tuple[tuple[Question, bool], ...]:
    """The transport probes of one server of the zone that holds the name, each with
    whether it goes over TCP: the apex SOA over TCP as it is (without DO), over TCP with
    DO and an unknown EDNS option, and over UDP with EDNS version 1 (without DO). Plain TCP
    alone decides whether the server answers over TCP; the option is judged only where
    plain TCP answered. No question of the walk has these forms, so a recording replays
    each to its own question."""
    return (
        (Question(Purpose.TCP_PROBE, zone, dns.rdatatype.SOA, do=False), True),
        (Question(Purpose.OPTION_PROBE, zone, dns.rdatatype.SOA), True),
        (Question(Purpose.EDNS_PROBE, zone, dns.rdatatype.SOA, do=False), False),
    )


def target_question(qname: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> Question:
    """The name being resolved, asked of a zone's servers. Sent as REFERRAL; the
    collector relabels it ANSWER at the zone where the walk ends."""
    return Question(Purpose.REFERRAL, qname, rdtype)


def apex_soa_probe(qname: dns.name.Name) -> Question:
    """SOA of the name itself: the answer, or the SOA in the authority section of a
    negative answer, names the apex of the zone that holds the name."""
    return Question(Purpose.REFERRAL, qname, dns.rdatatype.SOA)


def denial_name(zone: dns.name.Name) -> dns.name.Name | None:
    """A name that cannot exist under ``zone``, the same for every run (so snapshots
    compare); None when the zone's name is too long to hold one more label."""
    digest = hashlib.sha256(zone.to_text().lower().encode()).hexdigest()[:10]
    try:
        return dns.name.Name((f"{DENIAL_PREFIX}{digest}".encode(), *zone.labels))
    except dns.name.NameTooLong:
        return None


def apex_questions(zone: dns.name.Name) -> tuple[Question, ...]:
    """What every server of a zone is asked about its apex, and the denial probe."""
    questions = [Question(purpose, zone, rdtype) for purpose, rdtype in APEX_QUESTIONS]
    nonexistent = denial_name(zone)
    if nonexistent is not None:
        questions.append(Question(Purpose.DENIAL, nonexistent, DENIAL_TYPE))
    return tuple(questions)


def ds_question(child: dns.name.Name) -> Question:
    """The child's DS RRset, asked of the parent's servers."""
    return Question(Purpose.DS, child, dns.rdatatype.DS)


def resolver_questions(
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    anchor: dns.name.Name | None = None,
) -> tuple[Question, ...]:
    """The three views of a resolver: what a stub sees, what a validator says (rcode, AD,
    EDE), and the data with validation off; with ``anchor`` (the trust anchor's zone) a
    fourth: its SOA with DO, which a validating resolver always answers with AD."""
    questions = (
        Question(Purpose.RESOLVER_PLAIN, qname, rdtype, rd=True, do=False),
        Question(Purpose.RESOLVER_DO, qname, rdtype, rd=True, do=True),
        Question(Purpose.RESOLVER_CD, qname, rdtype, rd=True, do=True, cd=True),
    )
    if anchor is None:
        return questions
    return (
        *questions,
        Question(Purpose.RESOLVER_ANCHOR, anchor, dns.rdatatype.SOA, rd=True, do=True),
    )


def address_questions(name: dns.name.Name) -> tuple[Question, ...]:
    return tuple(Question(Purpose.ADDRESS, name, rdtype) for rdtype in ADDRESS_TYPES)


# --- reading responses -------------------------------------------------------------


def read_response(wire: bytes | None, question: Question) -> dns.message.Message | None:
    """The response as a message the walk may follow: it parses (records that do not are
    skipped), it is a response to a standard query, and it answers ``question``."""
    if not wire:
        return None
    # The analysis's parse, remembered for it (analysis.wire); a message with records
    # dnspython cannot read is followed as far as it parses.
    parsed = parse_message(wire)
    if parsed.message is not None and not parsed.malformed:
        message = parsed.message
    else:
        try:
            message = dns.message.from_wire(wire, ignore_trailing=True, continue_on_error=True)
        except Exception:  # hostile bytes: whatever the parser trips on, it cannot be followed
            return None
    if not message.flags & dns.flags.QR or message.opcode() != dns.opcode.QUERY:
        return None
    if len(message.question) != 1:
        return None
    asked = message.question[0]
    if asked.name != question.qname or asked.rdtype != question.rdtype:
        return None
    return message


def is_authoritative_answer(message: dns.message.Message) -> bool:
    return bool(message.flags & dns.flags.AA) and message.rcode() in (
        dns.rcode.NOERROR,
        dns.rcode.NXDOMAIN,
    )


def read_referral(
    message: dns.message.Message, zone: dns.name.Name, qname: dns.name.Name
) -> Referral | None:
    """A referral from ``zone`` towards ``qname``: no AA, NOERROR, no answer, and an NS
    RRset in the authority section whose owner is below ``zone`` and at or above
    ``qname``. Anything else (an upward or sideways referral) cannot be followed."""
    if message.flags & dns.flags.AA or message.rcode() != dns.rcode.NOERROR or message.answer:
        return None
    best: dns.rrset.RRset | None = None
    for rrset in message.authority:
        if rrset.rdtype != dns.rdatatype.NS:
            continue
        owner = rrset.name
        if owner == zone or not owner.is_subdomain(zone) or not qname.is_subdomain(owner):
            continue
        if best is None or len(owner) > len(best.name):
            best = rrset
    if best is None or len(best) == 0:
        return None
    # Sorted: servers rotate their RRsets, and snapshots of the same state should compare.
    ns_names = tuple(sorted(set(_names(best, "target"))))
    glue: dict[dns.name.Name, list[str]] = {}
    for rrset in message.additional:
        # Only addresses the asked servers are authoritative for: glue from elsewhere is
        # how caches get poisoned, and such a name is looked up on its own instead.
        if (
            rrset.rdtype in ADDRESS_TYPES
            and rrset.name in ns_names
            and rrset.name.is_subdomain(zone)
            and _addresses(rrset)
        ):
            glue.setdefault(rrset.name, []).extend(_addresses(rrset))
    return Referral(
        child=best.name,
        ns_names=ns_names,
        glue={name: _sorted_addresses(found) for name, found in glue.items()},
    )


def merge_referrals(referrals: Iterable[Referral]) -> Referral | None:
    """One delegation from what several parent servers said: the child most of them
    named (the deepest on a tie), with every NS name and glue address they gave for it."""
    found = list(referrals)
    if not found:
        return None
    votes: dict[dns.name.Name, int] = {}
    for referral in found:
        votes[referral.child] = votes.get(referral.child, 0) + 1
    child = max(votes, key=lambda name: (votes[name], len(name)))
    ns_names: dict[dns.name.Name, None] = {}
    glue: dict[dns.name.Name, dict[str, None]] = {}
    for referral in found:
        if referral.child != child:
            continue
        ns_names.update(dict.fromkeys(referral.ns_names))
        for name, addresses in referral.glue.items():
            glue.setdefault(name, {}).update(dict.fromkeys(addresses))
    return Referral(
        child, tuple(sorted(ns_names)), {n: _sorted_addresses(a) for n, a in glue.items()}
    )


def _sorted_addresses(addresses: Iterable[str]) -> tuple[str, ...]:
    """IPv4 before IPv6, each in numeric order."""

    def key(address: str) -> tuple[int, int, str]:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return (7, 0, address)
        return (ip.version, int(ip), address)

    return tuple(sorted(set(addresses), key=key))


def read_hidden_apex(
    message: dns.message.Message, zone: dns.name.Name, qname: dns.name.Name
) -> dns.name.Name | None:
    """The apex of a zone below ``zone`` that an authoritative answer came from, when the
    same server serves both: the owner of the SOA it carries, or the signer of the
    signatures over the name's data. None when the answer is the zone's own."""
    if not is_authoritative_answer(message):
        return None
    candidates: list[dns.name.Name] = []
    for rrset in (*message.answer, *message.authority):
        if rrset.rdtype == dns.rdatatype.SOA:
            candidates.append(rrset.name)
        elif rrset.rdtype == dns.rdatatype.RRSIG and (
            rrset.name == qname or rrset.covers == dns.rdatatype.SOA
        ):
            candidates += _names(rrset, "signer")
    below = [c for c in candidates if c != zone and c.is_subdomain(zone) and qname.is_subdomain(c)]
    return max(below, key=len) if below else None


def needs_apex_probe(
    message: dns.message.Message, zone: dns.name.Name, qname: dns.name.Name
) -> bool:
    """Whether an answer leaves open which zone it came from: positive, authoritative,
    for a name below the apex, with no SOA and no signature to name the zone."""
    if qname == zone or not is_authoritative_answer(message) or not message.answer:
        return False
    if message.rcode() != dns.rcode.NOERROR:
        return False
    return not any(
        rrset.rdtype in (dns.rdatatype.RRSIG, dns.rdatatype.SOA) for rrset in message.answer
    ) and not any(rrset.rdtype == dns.rdatatype.SOA for rrset in message.authority)


def read_addresses(
    message: dns.message.Message, name: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> tuple[str, ...]:
    """The addresses of ``name`` in an answer, through a CNAME chain inside it."""
    current = name
    for _ in range(8):
        addresses = [
            address
            for rrset in message.answer
            if rrset.name == current and rrset.rdtype == rdtype
            for address in _addresses(rrset)
        ]
        if addresses:
            return tuple(dict.fromkeys(addresses))
        following = read_redirect(message, current, rdtype)
        if following is None or following == current:
            return ()
        current = following
    return ()


# Records that fail to parse may come back as generic rdata (continue_on_error): read
# fields defensively, skipping what is not there.


def _names(rrset: dns.rrset.RRset, attribute: str) -> list[dns.name.Name]:
    found = (getattr(rdata, attribute, None) for rdata in rrset)
    return [name for name in found if isinstance(name, dns.name.Name)]


def _addresses(rrset: dns.rrset.RRset) -> list[str]:
    found = (getattr(rdata, "address", None) for rdata in rrset)
    return [address for address in found if isinstance(address, str)]
