"""Denial of existence: does one authoritative response prove what it denies?

A signed zone answers "no such name" (NXDOMAIN), "no such type" (NODATA), a wildcard
expansion and an insecure delegation with NSEC (RFC 4035 §5.4, RFC 4592) or NSEC3
(RFC 5155 §8) records. This module judges the *logic* of those proofs from one response:
which records cover or match which names, what the type bitmaps say, the closest encloser
and the wildcard. Whether the records' signatures verify is the rrsig check's business.

The rules follow what validators do (Unbound, BIND, the RFCs they implement), so that a
proof judged invalid here is one a validator rejects:

- an NSEC or NSEC3 from the parent side of a delegation (NS without SOA) or at a DNAME
  cannot deny names below it, nor types other than DS;
- NSEC3 records with an unknown hash algorithm or undefined flags are ignored;
- NSEC3 iterations above the validator limit make the answer insecure, whatever the proof
  says (RFC 9276 §3.2), and an opt-out span over the name denied (or over the next
  closer name of a wildcard answer) makes it insecure (RFC 5155 §9.2);
- each NSEC3 record is compared with the name hashed under that record's own parameters,
  so a proof may combine the records of two chains (a zone changing its NSEC3PARAM).

The analysis is pure: a parsed ``dns.message.Message`` in, a ``DenialResult`` out.
"""

from __future__ import annotations

import abc
import base64
import binascii
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import dns.dnssec
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.rdtypes.ANY.NSEC
import dns.rdtypes.ANY.NSEC3
import dns.rdtypes.ANY.RRSIG
import dns.rrset

from dnssec_doctor.analysis.codes import emits, make_finding
from dnssec_doctor.model.finding import Finding
from dnssec_doctor.model.options import AnalysisOptions

# The codes this module can emit.
EMITS = emits(
    "INSECURE_DELEGATION_UNPROVEN",
    "DENIAL_PROOF_MISSING",
    "NXDOMAIN_PROOF_INVALID",
    "NODATA_PROOF_INVALID",
    "WILDCARD_PROOF_MISSING",
    "NSEC3_ITERATIONS_EXCESSIVE",
    "NSEC3_ITERATIONS_NONZERO",
    "NSEC3_SALT_PRESENT",
)

_NSEC3_SHA1 = 1
_SHA1_LENGTH = 20
_OPT_OUT = 0x01
_MAX_CHAIN = 16  # CNAME links followed inside one response


class ResponseKind(enum.StrEnum):
    """What an authoritative response says about the question, as far as ``zone`` goes."""

    ANSWER = "answer"
    WILDCARD_ANSWER = "wildcard answer"  # synthesised from a wildcard (RRSIG labels < owner's)
    CNAME = "cname"  # an alias, answered or leaving the zone
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    REFERRAL = "referral"  # a delegation to a child zone
    ERROR = "error"  # an rcode other than NOERROR and NXDOMAIN: nothing to prove


class ProofStatus(enum.StrEnum):
    PROVEN = "proven"
    MISSING = "missing"  # no usable NSEC or NSEC3 record at all
    INVALID = "invalid"  # records present, but they do not prove the denial
    OPT_OUT = "opt-out"  # rests on an opt-out span: validators call the answer insecure
    INSECURE_ITERATIONS = "insecure-iterations"  # NSEC3 iterations above the validator limit
    NOT_NEEDED = "not-needed"  # a plain answer, or a delegation with its DS


class Mechanism(enum.StrEnum):
    NSEC = "NSEC"
    NSEC3 = "NSEC3"


@dataclass(frozen=True)
class Nsec3Parameters:
    """One set of NSEC3 hash parameters seen in a response."""

    algorithm: int
    iterations: int
    salt: str  # hex, "" for none

    def __str__(self) -> str:
        return f"algorithm {self.algorithm}, {self.iterations} iterations, salt {self.salt or '-'}"


@dataclass(frozen=True)
class DenialResult:
    """What one response's denial of existence proves (or fails to), by which mechanism,
    with the records it rests on and the findings."""

    kind: ResponseKind
    status: ProofStatus
    findings: tuple[Finding, ...] = ()
    name: dns.name.Name | None = None  # what is denied: qname, a CNAME target, a delegation point
    mechanism: Mechanism | None = None  # what the proof rests on
    # The proof's records in zone-file form; when nothing proves, every record examined.
    records: tuple[str, ...] = ()
    closest_encloser: dns.name.Name | None = None
    next_closer: dns.name.Name | None = None
    wildcard: dns.name.Name | None = None  # the wildcard that answered (or lacks the type)
    opt_out: bool = False  # the next closer name lies in an opt-out span
    nsec3_parameters: tuple[Nsec3Parameters, ...] = ()
    reason: str | None = None  # why the proof fails, in words


# --- reading the response ----------------------------------------------------------------


def bitmap_fault(where: str, record: _Typed, name: dns.name.Name, qtype: int) -> str | None:
    """Why a matching NSEC or NSEC3 record does not prove that ``name`` lacks ``qtype``
    (None: it does)."""
    if record.has(qtype):
        return f"{where} lists {_type_text(qtype)} in its type bitmap"
    if qtype != dns.rdatatype.CNAME and record.has(dns.rdatatype.CNAME):
        return f"{where} lists CNAME: {name} is an alias, which the answer should give"
    if qtype == dns.rdatatype.DS:
        if record.has(dns.rdatatype.SOA) and name != dns.name.root:
            return f"{where} lists SOA: it is the child zone's apex, not the parent's"
    elif record.is_delegation:
        return (
            f"{where} is the parent side of a delegation (NS without SOA): it cannot "
            f"deny {_type_text(qtype)}, which the child zone holds"
        )
    return None


def _type_text(rdtype: int) -> str:
    return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))


def _bitmap_types(windows: Iterable[tuple[int, bytes]]) -> frozenset[int]:
    types = set()
    for window, bitmap in windows:
        for index, octet in enumerate(bitmap):
            for bit in range(8):
                if octet & (0x80 >> bit):
                    types.add(window * 256 + index * 8 + bit)
    return frozenset(types)


def _record_text(owner: dns.name.Name, ttl: int, rdata: dns.rdata.Rdata) -> str:
    return f"{owner} {ttl} IN {_type_text(rdata.rdtype)} {rdata.to_text()}"


def _label_count(name: dns.name.Name) -> int:
    return len(name.labels) - 1 if name.is_absolute() else len(name.labels)


def _wildcard(parent: dns.name.Name) -> dns.name.Name:
    return dns.name.Name((b"*", *parent.labels))


def _is_wildcard(name: dns.name.Name) -> bool:
    return bool(name.labels) and name.labels[0] == b"*"


def _next_closer(name: dns.name.Name, encloser: dns.name.Name) -> dns.name.Name:
    """The ancestor of ``name`` one label below ``encloser`` (``name`` strictly below it)."""
    return dns.name.Name(name.labels[-(len(encloser.labels) + 1) :])


def _common_ancestor(a: dns.name.Name, b: dns.name.Name) -> dns.name.Name:
    _, _, common = a.fullcompare(b)
    return dns.name.Name(a.labels[len(a.labels) - common :]) if common else dns.name.root


@dataclass(frozen=True)
class _Typed:
    """A denial record's type bitmap."""

    types: frozenset[int]

    def has(self, rdtype: int) -> bool:
        return rdtype in self.types

    @property
    def is_delegation(self) -> bool:
        """The parent side of a zone cut: names below belong to the child."""
        return self.has(dns.rdatatype.NS) and not self.has(dns.rdatatype.SOA)

    @property
    def blocks_descent(self) -> bool:
        return self.is_delegation or self.has(dns.rdatatype.DNAME)


@dataclass(frozen=True)
class _Nsec(_Typed):
    """One NSEC record of a response: its owner, the next name, and its types."""

    owner: dns.name.Name
    next: dns.name.Name
    text: str

    def covers(self, name: dns.name.Name) -> bool:
        """Canonically between owner and next, as validators compare (no ancestor check)."""
        if name == self.owner:
            return False
        if self.owner == self.next:  # a zone of one name: everything else below it
            return name.is_subdomain(self.next) and name != self.next
        if self.next < self.owner:  # the last NSEC points back to the apex
            return self.owner < name and name.is_subdomain(self.next) and name != self.next
        return bool(self.owner < name < self.next)


@dataclass(frozen=True)
class _Nsec3(_Typed):
    """One NSEC3 record of a response: the hashed owner, the next hash, its parameters
    and types."""

    owner: dns.name.Name
    digest: bytes  # the owner's hash
    next: bytes
    parameters: Nsec3Parameters
    opt_out: bool
    text: str

    @property
    def label(self) -> str:
        return self.owner.labels[0].decode("ascii", "replace")

    def covers(self, digest: bytes) -> bool:
        if self.digest < digest < self.next:
            return True
        return self.next <= self.digest and (digest > self.digest or digest < self.next)


@dataclass
class _Records:
    """The denial records of a response that can take part in a proof of ``zone``."""

    nsec: list[_Nsec] = field(default_factory=list)
    nsec3: dict[Nsec3Parameters, list[_Nsec3]] = field(default_factory=dict)
    examined: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # why some records cannot take part

    @property
    def empty(self) -> bool:
        return not self.nsec and not self.nsec3


def _hash_label_digest(label: bytes) -> bytes | None:
    text = label.upper()
    text += b"=" * (-len(text) % 8)
    try:
        return base64.b32hexdecode(text)
    except (binascii.Error, ValueError):
        return None


def _read_records(message: dns.message.Message, zone: dns.name.Name) -> _Records:
    records = _Records()
    for rrset in message.authority:
        if rrset.rdtype == dns.rdatatype.NSEC:
            for rdata in rrset:
                _add_nsec(records, rrset.name, rrset.ttl, rdata, zone)
        elif rrset.rdtype == dns.rdatatype.NSEC3:
            for rdata in rrset:
                _add_nsec3(records, rrset.name, rrset.ttl, rdata, zone)
    return records


def _add_nsec(
    records: _Records, owner: dns.name.Name, ttl: int, rdata: dns.rdata.Rdata, zone: dns.name.Name
) -> None:
    if not isinstance(rdata, dns.rdtypes.ANY.NSEC.NSEC):
        return
    text = _record_text(owner, ttl, rdata)
    records.examined.append(text)
    if not owner.is_subdomain(zone):
        records.ignored.append(f"the NSEC at {owner} is outside {zone}")
        return
    records.nsec.append(_Nsec(_bitmap_types(rdata.windows), owner, rdata.next, text))


def _add_nsec3(
    records: _Records, owner: dns.name.Name, ttl: int, rdata: dns.rdata.Rdata, zone: dns.name.Name
) -> None:
    if not isinstance(rdata, dns.rdtypes.ANY.NSEC3.NSEC3):
        return
    text = _record_text(owner, ttl, rdata)
    records.examined.append(text)
    if rdata.algorithm != _NSEC3_SHA1:
        records.ignored.append(
            f"the NSEC3 at {owner} uses hash algorithm {rdata.algorithm}, unknown to validators"
        )
        return
    if rdata.flags & ~_OPT_OUT:
        records.ignored.append(f"the NSEC3 at {owner} has undefined flags {rdata.flags}")
        return
    if owner == dns.name.root or owner.parent() != zone:
        records.ignored.append(f"the NSEC3 at {owner} is not a hashed name directly in {zone}")
        return
    digest = _hash_label_digest(owner.labels[0])
    if digest is None or len(digest) != _SHA1_LENGTH or len(rdata.next) != _SHA1_LENGTH:
        records.ignored.append(f"the NSEC3 at {owner} does not hold a SHA-1 hash")
        return
    parameters = Nsec3Parameters(rdata.algorithm, rdata.iterations, rdata.salt.hex())
    records.nsec3.setdefault(parameters, []).append(
        _Nsec3(
            _bitmap_types(rdata.windows),
            owner,
            digest,
            rdata.next,
            parameters,
            bool(rdata.flags & _OPT_OUT),
            text,
        )
    )


# --- classifying the response ------------------------------------------------------------


@dataclass(frozen=True)
class _Walk:
    """The answer section followed from qname through CNAMEs."""

    end: dns.name.Name  # the last name reached
    answered: bool  # an RRset of qtype (or the alias itself) was found at the end
    aliases: int  # CNAME links followed
    left_zone: bool  # the chain leaves the zone: the rest is another zone's business
    expansions: tuple[
        tuple[dns.name.Name, dns.name.Name], ...
    ]  # (owner, wildcard) for synthesised RRsets


def _find(
    section: list[dns.rrset.RRset], name: dns.name.Name, rdtype: int, covers: int = 0
) -> dns.rrset.RRset | None:
    for rrset in section:
        if rrset.name == name and rrset.rdtype == rdtype and rrset.covers == covers:
            return rrset
    return None


def _expanded_from(
    message: dns.message.Message, owner: dns.name.Name, rdtype: int
) -> dns.name.Name | None:
    """The wildcard an answer RRset was synthesised from, read off its RRSIG labels (for
    ANY, of every RRset at ``owner``)."""
    labels = [
        sig.labels
        for rrset in message.answer
        if rrset.name == owner
        and rrset.rdtype == dns.rdatatype.RRSIG
        and (rrset.covers == rdtype or rdtype == dns.rdatatype.ANY)
        for sig in rrset
        if isinstance(sig, dns.rdtypes.ANY.RRSIG.RRSIG)
    ]
    if not labels:
        return None
    count = _label_count(owner)
    fewest = min(labels)
    if fewest >= count or (_is_wildcard(owner) and fewest == count - 1):
        return None  # an ordinary RRset, or the wildcard asked for by its own name
    return _wildcard(dns.name.Name(owner.labels[len(owner.labels) - fewest - 1 :]))


def _walk_answer(
    message: dns.message.Message, qname: dns.name.Name, qtype: int, zone: dns.name.Name
) -> _Walk:
    name, aliases = qname, 0
    expansions: list[tuple[dns.name.Name, dns.name.Name]] = []
    while True:
        if not name.is_subdomain(zone):
            return _Walk(name, False, aliases, True, tuple(expansions))
        if _find(message.answer, name, qtype) is not None or (
            qtype == dns.rdatatype.ANY and any(r.name == name for r in message.answer)
        ):
            wildcard = _expanded_from(message, name, qtype)
            if wildcard is not None:
                expansions.append((name, wildcard))
            return _Walk(name, True, aliases, False, tuple(expansions))
        cname = _find(message.answer, name, dns.rdatatype.CNAME)
        if cname is None or aliases >= _MAX_CHAIN:
            return _Walk(name, False, aliases, False, tuple(expansions))
        wildcard = _expanded_from(message, name, dns.rdatatype.CNAME)
        if wildcard is not None:
            expansions.append((name, wildcard))
        name, aliases = next(iter(cname)).target, aliases + 1


def _referral_cut(
    message: dns.message.Message, name: dns.name.Name, zone: dns.name.Name
) -> dns.name.Name | None:
    if any(rrset.rdtype == dns.rdatatype.SOA for rrset in message.authority):
        return None
    for rrset in message.authority:
        if (
            rrset.rdtype == dns.rdatatype.NS
            and rrset.name != zone
            and rrset.name.is_subdomain(zone)
            and name.is_subdomain(rrset.name)
        ):
            return rrset.name
    return _nsec_cut(message, name, zone)


def _nsec_cut(
    message: dns.message.Message, name: dns.name.Name, zone: dns.name.Name
) -> dns.name.Name | None:
    """A CNAME into a child zone: the chain ends below a delegation that an NSEC in the
    response shows (NS without SOA at its owner), as servers answer an alias whose target
    lies beyond a cut. The target is another zone's to answer; what must be proven here is
    the cut's DS (or its absence)."""
    if name == zone or not name.is_subdomain(zone):
        return None
    ancestors = [name.split(depth)[1] for depth in range(len(zone) + 1, len(name) + 1)]
    for rrset in message.authority:
        if rrset.rdtype not in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3):
            continue
        for rdata in rrset:
            types = _bitmap_types(getattr(rdata, "windows", ()))
            if dns.rdatatype.NS not in types or dns.rdatatype.SOA in types:
                continue
            if rrset.rdtype == dns.rdatatype.NSEC:
                owners = [rrset.name] if rrset.name in ancestors else []
            else:
                owners = [a for a in ancestors if _nsec3_owns(rrset.name, rdata, a, zone)]
            if owners:
                return owners[0]
    return None


def _nsec3_owns(
    owner: dns.name.Name, rdata: dns.rdata.Rdata, name: dns.name.Name, zone: dns.name.Name
) -> bool:
    """Whether the NSEC3 at ``owner`` is the one of ``name`` (its hashed owner name)."""
    if not isinstance(rdata, dns.rdtypes.ANY.NSEC3.NSEC3) or owner.parent() != zone:
        return False
    if rdata.algorithm != _NSEC3_SHA1:
        return False
    try:
        text = dns.dnssec.nsec3_hash(name, rdata.salt, rdata.iterations, rdata.algorithm)
    except (ValueError, dns.exception.DNSException):
        return False
    return owner.labels[0].decode("ascii", "replace").lower() == text.lower()


def _classify(
    message: dns.message.Message, walk: _Walk, zone: dns.name.Name
) -> tuple[ResponseKind, dns.name.Name | None]:
    rcode = message.rcode()
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return ResponseKind.ERROR, None
    if walk.answered or walk.left_zone:
        if walk.expansions:
            return ResponseKind.WILDCARD_ANSWER, None
        return (ResponseKind.CNAME if walk.aliases else ResponseKind.ANSWER), None
    if rcode == dns.rcode.NXDOMAIN:
        return ResponseKind.NXDOMAIN, None
    cut = _referral_cut(message, walk.end, zone)
    if cut is not None:
        return ResponseKind.REFERRAL, cut
    return ResponseKind.NODATA, None


def classify_response(
    message: dns.message.Message,
    qname: dns.name.Name,
    qtype: dns.rdatatype.RdataType,
    zone: dns.name.Name,
) -> ResponseKind:
    """What ``message`` (from a server of ``zone``) answers to ``qname``/``qtype``.

    CNAMEs in the answer are followed while they stay in ``zone``: the kind is that of the
    last name reached (an alias to a missing name is NXDOMAIN); a chain leaving the zone is
    CNAME. Any answer RRset synthesised from a wildcard makes it WILDCARD_ANSWER."""
    kind, _ = _classify(message, _walk_answer(message, qname, qtype, zone), zone)
    return kind


_NXNAME = 128  # RFC 9824's meta type: set in a compact denial's NSEC bitmap


def denies_existence(
    message: dns.message.Message,
    qname: dns.name.Name,
    qtype: dns.rdatatype.RdataType,
    zone: dns.name.Name,
) -> bool:
    """Whether ``message`` says the name reached does not exist: an NXDOMAIN, or a compact
    denial (RFC 9824: NOERROR and an NSEC at the name whose bitmap holds NXNAME)."""
    walk = _walk_answer(message, qname, qtype, zone)
    kind, _ = _classify(message, walk, zone)
    if kind is ResponseKind.NXDOMAIN:
        return True
    if kind is not ResponseKind.NODATA:
        return False
    return any(
        rrset.rdtype == dns.rdatatype.NSEC
        and rrset.name == walk.end
        and any(_NXNAME in _bitmap_types(rdata.windows) for rdata in rrset)
        for rrset in message.authority
    )


# --- what must be proven ------------------------------------------------------------------


class _Need(enum.Enum):
    NXDOMAIN = "NXDOMAIN"
    NODATA = "NODATA"
    WILDCARD = "wildcard"
    NO_DS = "no DS"


@dataclass(frozen=True)
class _Obligation:
    """One thing a denial must prove (a name, a type, a wildcard, an unsigned
    delegation)."""

    need: _Need
    name: dns.name.Name
    qtype: int
    wildcard: dns.name.Name | None = None  # WILDCARD: the wildcard the answer came from
    delegation: bool = False  # NO_DS: the name must be a zone cut (NS in the bitmap)
    for_ds: bool = False  # failures are INSECURE_DELEGATION_UNPROVEN for ``name``


@dataclass(frozen=True)
class _Proof:
    """How one obligation was proven, or why it was not."""

    status: ProofStatus  # PROVEN, OPT_OUT or INVALID
    mechanism: Mechanism
    reason: str | None = None
    records: tuple[str, ...] = ()
    closest_encloser: dns.name.Name | None = None
    next_closer: dns.name.Name | None = None
    wildcard: dns.name.Name | None = None
    opt_out: bool = False


def _texts(*records: _Nsec | _Nsec3 | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.text for r in records if r is not None))


class _Prover(abc.ABC):
    """What a denial mechanism must prove, dispatched by obligation."""

    def prove(self, obligation: _Obligation) -> _Proof:
        if obligation.need is _Need.NXDOMAIN:
            return self._nxdomain(obligation.name)
        if obligation.need is _Need.NODATA:
            return self._nodata(obligation.name, obligation.qtype)
        if obligation.need is _Need.WILDCARD:
            assert obligation.wildcard is not None
            return self._wildcard_answer(obligation.name, obligation.wildcard)
        return self._no_ds(obligation.name, obligation.delegation)

    @abc.abstractmethod
    def _nxdomain(self, name: dns.name.Name) -> _Proof: ...

    @abc.abstractmethod
    def _nodata(self, name: dns.name.Name, qtype: int) -> _Proof: ...

    @abc.abstractmethod
    def _wildcard_answer(self, name: dns.name.Name, wildcard: dns.name.Name) -> _Proof: ...

    @abc.abstractmethod
    def _no_ds(self, name: dns.name.Name, delegation: bool) -> _Proof: ...


# --- NSEC ----------------------------------------------------------------------------------


class _NsecProof(_Prover):
    """Proofs over the NSEC records of one response (RFC 4035 §5.4, RFC 4592)."""

    def __init__(self, records: list[_Nsec], zone: dns.name.Name) -> None:
        self.records = records
        self.zone = zone

    def matching(self, name: dns.name.Name) -> _Nsec | None:
        return next((r for r in self.records if r.owner == name), None)

    def covering(self, name: dns.name.Name) -> tuple[_Nsec | None, str]:
        """The NSEC proving ``name`` does not exist, or why none does."""
        misused = None
        overreaching = None
        for record in self.records:
            if not record.covers(name):
                continue
            if name.is_subdomain(record.owner) and record.blocks_descent:
                misused = record
                continue
            if not record.next.is_subdomain(self.zone):
                # RFC 4034 §4.1.1: the next name is the zone's next owner (the apex after
                # the last); one outside the zone would deny other zones' names.
                overreaching = record
                continue
            return record, ""
        if overreaching is not None:
            return None, (
                f"the NSEC at {overreaching.owner} points outside {self.zone} (to "
                f"{overreaching.next}): it cannot deny names"
            )
        if misused is not None:
            what = "a DNAME" if misused.has(dns.rdatatype.DNAME) else "a delegation"
            return None, (
                f"the NSEC at {misused.owner} is {what} (its bitmap lists "
                f"{self._types(misused)}): it cannot deny names below it"
            )
        return None, f"no NSEC covers {name}; {self._nearest(name)}"

    def _nearest(self, name: dns.name.Name) -> str:
        """The NSEC a server would have picked to cover ``name``: its canonical predecessor."""
        before = [r for r in self.records if r.owner < name]
        record = max(before or self.records, key=lambda r: r.owner)
        return f"the NSEC at {record.owner} points to {record.next}"

    @staticmethod
    def _types(record: _Typed) -> str:
        return " ".join(sorted(_type_text(t) for t in record.types)) or "no types"

    def encloser(self, name: dns.name.Name, record: _Nsec) -> dns.name.Name:
        """The closest encloser an NSEC covering ``name`` implies (RFC 4035 §5.4)."""
        candidates = [_common_ancestor(name, record.owner), _common_ancestor(name, record.next)]
        closest = max(candidates, key=len)
        return closest if closest.is_subdomain(self.zone) else self.zone

    def _fail(self, reason: str, *records: _Nsec | None) -> _Proof:
        return _Proof(ProofStatus.INVALID, Mechanism.NSEC, reason, _texts(*records))

    def _nxdomain(self, name: dns.name.Name) -> _Proof:
        if (match := self.matching(name)) is not None:
            return self._fail(f"the NSEC at {name} shows that the name exists", match)
        cover, why = self.covering(name)
        if cover is None:
            return self._fail(why)
        encloser = self.encloser(name, cover)
        wildcard = _wildcard(encloser)
        if (match := self.matching(wildcard)) is not None:
            return self._fail(
                f"the NSEC at {wildcard} shows that the wildcard exists: the server should "
                f"have answered from it",
                cover,
                match,
            )
        wildcard_cover, why = self.covering(wildcard)
        if wildcard_cover is None:
            return self._fail(f"nothing proves that {wildcard} does not exist: {why}", cover)
        return _Proof(
            ProofStatus.PROVEN,
            Mechanism.NSEC,
            records=_texts(cover, wildcard_cover),
            closest_encloser=encloser,
            next_closer=_next_closer(name, encloser) if name != encloser else None,
        )

    def _bitmap_fault(self, record: _Nsec, name: dns.name.Name, qtype: int) -> str | None:
        return bitmap_fault(f"the NSEC at {record.owner}", record, name, qtype)

    def _nodata(self, name: dns.name.Name, qtype: int) -> _Proof:
        match = self.matching(name)
        if match is not None:
            fault = self._bitmap_fault(match, name, qtype)
            if fault is not None:
                return self._fail(fault, match)
            return _Proof(ProofStatus.PROVEN, Mechanism.NSEC, records=_texts(match))
        for record in self.records:  # an empty non-terminal: the next name lies below it
            if record.owner < name and record.next.is_subdomain(name) and record.next != name:
                return _Proof(ProofStatus.PROVEN, Mechanism.NSEC, records=_texts(record))
        cover, why = self.covering(name)
        if cover is None:
            return self._fail(f"no NSEC matches {name}; {why}")
        encloser = self.encloser(name, cover)
        wildcard = _wildcard(encloser)
        wildcard_match = self.matching(wildcard)
        if wildcard_match is None:
            return self._fail(
                f"no NSEC matches {name}, and the NSEC at {cover.owner} (pointing to "
                f"{cover.next}) shows the name does not exist: NXDOMAIN was due",
                cover,
            )
        fault = self._bitmap_fault(wildcard_match, wildcard, qtype)
        if fault is not None:
            return self._fail(fault, cover, wildcard_match)
        return _Proof(
            ProofStatus.PROVEN,
            Mechanism.NSEC,
            records=_texts(cover, wildcard_match),
            closest_encloser=encloser,
            next_closer=_next_closer(name, encloser),
            wildcard=wildcard,
        )

    def _wildcard_answer(self, name: dns.name.Name, wildcard: dns.name.Name) -> _Proof:
        source = wildcard.parent()
        if (match := self.matching(name)) is not None:
            return self._fail(
                f"the NSEC at {name} shows the name exists: no wildcard applies", match
            )
        cover, why = self.covering(name)
        if cover is None:
            return self._fail(why)
        encloser = self.encloser(name, cover)
        if encloser != source and encloser.is_subdomain(source):
            return self._fail(
                f"the NSEC at {cover.owner} (pointing to {cover.next}) shows that {encloser} "
                f"exists: {wildcard} does not apply to {name}",
                cover,
            )
        return _Proof(
            ProofStatus.PROVEN,
            Mechanism.NSEC,
            records=_texts(cover),
            closest_encloser=source,
            next_closer=_next_closer(name, source),
            wildcard=wildcard,
        )

    def _no_ds(self, name: dns.name.Name, delegation: bool) -> _Proof:
        match = self.matching(name)
        if match is None:
            cover, why = self.covering(name)
            detail = why if cover is None else f"the NSEC at {cover.owner} covers it"
            return self._fail(f"no NSEC matches {name}; {detail}", cover)
        where = f"the NSEC at {name}"
        if match.has(dns.rdatatype.DS):
            return self._fail(f"{where} lists DS, yet no DS was served", match)
        if match.has(dns.rdatatype.SOA) and name != dns.name.root:
            return self._fail(
                f"{where} lists SOA: it is the child zone's apex NSEC, not the parent's", match
            )
        if delegation and not match.has(dns.rdatatype.NS):
            return self._fail(f"{where} does not list NS: there is no delegation there", match)
        return _Proof(ProofStatus.PROVEN, Mechanism.NSEC, records=_texts(match))


# --- NSEC3 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Encloser:
    """An NSEC3 closest encloser, with the next closer name and the NSEC3 covering it."""

    name: dns.name.Name
    record: _Nsec3
    next_closer: dns.name.Name | None = None
    cover: _Nsec3 | None = None  # the NSEC3 covering the next closer name


class _Nsec3Proof(_Prover):
    """Proofs over the NSEC3 records of one response (RFC 5155 §8).

    Each record is compared with the name hashed under that record's own parameters, as
    Unbound, BIND and Knot Resolver do: a proof may rest on records of several parameter
    sets (a zone in the middle of an NSEC3PARAM change serves both chains)."""

    def __init__(self, records: list[_Nsec3], zone: dns.name.Name) -> None:
        self.records = records
        self.parameters = tuple(dict.fromkeys(r.parameters for r in records))
        self.zone = zone
        self._hashes: dict[tuple[dns.name.Name, Nsec3Parameters], bytes] = {}

    def digest(self, name: dns.name.Name, parameters: Nsec3Parameters) -> bytes:
        key = (name, parameters)
        if key not in self._hashes:
            text = dns.dnssec.nsec3_hash(
                name, bytes.fromhex(parameters.salt), parameters.iterations, parameters.algorithm
            )
            self._hashes[key] = base64.b32hexdecode(text)
        return self._hashes[key]

    def hashed(self, name: dns.name.Name) -> str:
        hashes = [
            base64.b32hexencode(self.digest(name, p)).decode("ascii").lower()
            for p in self.parameters
        ]
        if len(hashes) == 1:
            return f"hash {hashes[0]}"
        return "hashes " + ", ".join(
            f"{h} ({p})" for h, p in zip(hashes, self.parameters, strict=True)
        )

    def matching(self, name: dns.name.Name) -> _Nsec3 | None:
        return next((r for r in self.records if r.digest == self.digest(name, r.parameters)), None)

    def covering(self, name: dns.name.Name) -> _Nsec3 | None:
        return next((r for r in self.records if r.covers(self.digest(name, r.parameters))), None)

    def _fail(self, reason: str, *records: _Nsec3 | None) -> _Proof:
        return _Proof(ProofStatus.INVALID, Mechanism.NSEC3, reason, _texts(*records))

    def _no_cover(self, name: dns.name.Name, what: str = "") -> str:
        return f"no NSEC3 covers {what}{name} ({self.hashed(name)})"

    def closest_encloser(self, name: dns.name.Name) -> _Encloser | str:
        """The closest encloser proof for ``name`` (RFC 5155 §8.3), or why there is none.
        When ``name`` itself matches, the encloser is ``name`` with no next closer."""
        candidate = name
        while True:
            record = self.matching(candidate)
            if record is not None:
                break
            if candidate == self.zone or candidate == dns.name.root:
                return f"no NSEC3 matches {self.zone} or any name between it and {name}"
            candidate = candidate.parent()
        if candidate == name:
            return _Encloser(name, record)
        if record.has(dns.rdatatype.DNAME):
            return (
                f"the NSEC3 {record.label} for the closest encloser {candidate} lists DNAME: "
                f"it cannot deny names below it"
            )
        if record.is_delegation:
            return (
                f"the closest encloser {candidate} is a delegation (its NSEC3 {record.label} "
                f"lists NS without SOA): names below it belong to the child zone"
            )
        next_closer = _next_closer(name, candidate)
        cover = self.covering(next_closer)
        if cover is None:
            return self._no_cover(next_closer, "the next closer name ")
        return _Encloser(candidate, record, next_closer, cover)

    def _proof(
        self,
        *records: _Nsec3 | None,
        encloser: _Encloser | None,
        wildcard: dns.name.Name | None = None,
    ) -> _Proof:
        opt_out = bool(encloser and encloser.cover and encloser.cover.opt_out)
        return _Proof(
            ProofStatus.OPT_OUT if opt_out else ProofStatus.PROVEN,
            Mechanism.NSEC3,
            records=_texts(*records),
            closest_encloser=encloser.name if encloser else None,
            next_closer=encloser.next_closer if encloser else None,
            wildcard=wildcard,
            opt_out=opt_out,
        )

    def _nxdomain(self, name: dns.name.Name) -> _Proof:
        encloser = self.closest_encloser(name)
        if isinstance(encloser, str):
            return self._fail(encloser)
        if encloser.name == name:
            return self._fail(
                f"the NSEC3 {encloser.record.label} matches {name}: the name exists",
                encloser.record,
            )
        wildcard = _wildcard(encloser.name)
        if (match := self.matching(wildcard)) is not None:
            return self._fail(
                f"the NSEC3 {match.label} matches {wildcard}: the wildcard exists and the "
                f"server should have answered from it",
                encloser.record,
                encloser.cover,
                match,
            )
        wildcard_cover = self.covering(wildcard)
        if wildcard_cover is None:
            return self._fail(self._no_cover(wildcard), encloser.record, encloser.cover)
        return self._proof(encloser.record, encloser.cover, wildcard_cover, encloser=encloser)

    def _bitmap_fault(self, record: _Nsec3, name: dns.name.Name, qtype: int) -> str | None:
        return bitmap_fault(f"the NSEC3 {record.label} for {name}", record, name, qtype)

    def _nodata(self, name: dns.name.Name, qtype: int) -> _Proof:
        if (match := self.matching(name)) is not None:
            fault = self._bitmap_fault(match, name, qtype)
            if fault is not None:
                return self._fail(fault, match)
            return self._proof(match, encloser=None)
        encloser = self.closest_encloser(name)
        if isinstance(encloser, str):
            return self._fail(f"no NSEC3 matches {name} ({self.hashed(name)}); {encloser}")
        wildcard = _wildcard(encloser.name)
        wildcard_match = self.matching(wildcard)
        if wildcard_match is not None:
            fault = self._bitmap_fault(wildcard_match, wildcard, qtype)
            records = (encloser.record, encloser.cover, wildcard_match)
            if fault is not None:
                return self._fail(fault, *records)
            return self._proof(*records, encloser=encloser, wildcard=wildcard)
        assert encloser.cover is not None
        if encloser.cover.opt_out:
            # An unsigned delegation (qtype DS, RFC 5155 §8.6) or an empty non-terminal
            # above only such delegations may lack an NSEC3 of its own.
            return self._proof(encloser.record, encloser.cover, encloser=encloser)
        return self._fail(
            f"no NSEC3 matches {name} ({self.hashed(name)}), and the NSEC3 "
            f"{encloser.cover.label} covering {encloser.next_closer} is not opt-out",
            encloser.record,
            encloser.cover,
        )

    def _wildcard_answer(self, name: dns.name.Name, wildcard: dns.name.Name) -> _Proof:
        if (match := self.matching(name)) is not None:
            return self._fail(
                f"the NSEC3 {match.label} matches {name}: the name exists, no wildcard applies",
                match,
            )
        source = wildcard.parent()
        next_closer = _next_closer(name, source)
        cover = self.covering(next_closer)
        if cover is None:
            return self._fail(self._no_cover(next_closer, "the next closer name "))
        # An opt-out span may hide an unsigned delegation at the next closer name, whose
        # data would have answered instead of the wildcard: validators call the answer
        # insecure (Unbound's nsec3_prove_wildcard; RFC 5155 §9.2).
        return _Proof(
            ProofStatus.OPT_OUT if cover.opt_out else ProofStatus.PROVEN,
            Mechanism.NSEC3,
            records=_texts(cover),
            closest_encloser=source,
            next_closer=next_closer,
            wildcard=wildcard,
            opt_out=cover.opt_out,
        )

    def _no_ds(self, name: dns.name.Name, delegation: bool) -> _Proof:
        if (match := self.matching(name)) is not None:
            where = f"the NSEC3 {match.label} for {name}"
            if match.has(dns.rdatatype.DS):
                return self._fail(f"{where} lists DS, yet no DS was served", match)
            if match.has(dns.rdatatype.SOA) and name != dns.name.root:
                return self._fail(
                    f"{where} lists SOA: it is the child zone's apex, not the parent's", match
                )
            if delegation and not match.has(dns.rdatatype.NS):
                return self._fail(f"{where} does not list NS: there is no delegation there", match)
            return self._proof(match, encloser=None)
        encloser = self.closest_encloser(name)
        if isinstance(encloser, str):
            return self._fail(f"no NSEC3 matches {name} ({self.hashed(name)}); {encloser}")
        assert encloser.cover is not None
        if not encloser.cover.opt_out:
            return self._fail(
                f"no NSEC3 matches {name} ({self.hashed(name)}), and the NSEC3 "
                f"{encloser.cover.label} covering {encloser.next_closer} is not opt-out",
                encloser.record,
                encloser.cover,
            )
        return self._proof(encloser.record, encloser.cover, encloser=encloser)


# --- judging -----------------------------------------------------------------------------

_RANK = {ProofStatus.PROVEN: 0, ProofStatus.OPT_OUT: 1, ProofStatus.INVALID: 2}
_SEVERITY = {
    ProofStatus.NOT_NEEDED: 0,
    ProofStatus.PROVEN: 1,
    ProofStatus.OPT_OUT: 2,
    ProofStatus.INSECURE_ITERATIONS: 3,
    ProofStatus.MISSING: 4,
    ProofStatus.INVALID: 5,
}


def _provers(records: _Records, zone: dns.name.Name) -> Iterator[_NsecProof | _Nsec3Proof]:
    if records.nsec:
        yield _NsecProof(records.nsec, zone)
    if records.nsec3:
        yield _Nsec3Proof([r for group in records.nsec3.values() for r in group], zone)


def _best_proof(obligation: _Obligation, records: _Records, zone: dns.name.Name) -> _Proof:
    proofs = [prover.prove(obligation) for prover in _provers(records, zone)]
    best = min(proofs, key=lambda p: _RANK[p.status])
    if best.status is not ProofStatus.INVALID:
        return best
    reasons = [p.reason for p in proofs if p.reason]
    if len(records.nsec3) > 1:
        reasons.append(
            f"the NSEC3 records use {len(records.nsec3)} different parameter sets "
            f"({'; '.join(str(p) for p in records.nsec3)})"
        )
    reasons += records.ignored
    return _Proof(
        ProofStatus.INVALID,
        best.mechanism,
        "; ".join(dict.fromkeys(reasons)),
        tuple(records.examined),
    )


@dataclass(frozen=True)
class _Context:
    """The zone, servers, records and options one denial proof is judged with."""

    zone: dns.name.Name
    servers: tuple[str, ...]
    records: _Records
    options: AnalysisOptions


def _failure_finding(
    obligation: _Obligation, status: ProofStatus, reason: str, context: _Context
) -> Finding:
    name, qtype = obligation.name, _type_text(obligation.qtype)
    servers, records = context.servers, tuple(context.records.examined)
    if obligation.for_ds:
        # The zone that breaks is the parent: its denial chain fails to prove the absence.
        return make_finding(
            "INSECURE_DELEGATION_UNPROVEN",
            zone=str(context.zone),
            subject=f"{name}/DS",
            child=str(name),
            servers=servers,
            records=records,
            reason=reason,
        )
    if obligation.need is _Need.WILDCARD:
        code = "WILDCARD_PROOF_MISSING"
    elif status is ProofStatus.MISSING:
        code = "DENIAL_PROOF_MISSING"
    elif obligation.need is _Need.NXDOMAIN:
        code = "NXDOMAIN_PROOF_INVALID"
    else:
        code = "NODATA_PROOF_INVALID"
    return make_finding(
        code,
        zone=str(context.zone),
        subject=f"{name}/{qtype}",
        servers=servers,
        records=records,
        kind=obligation.need.value,
        qname=str(name),
        qtype=qtype,
        reason=reason,
    )


def _parameter_findings(context: _Context) -> list[Finding]:
    findings = []
    zone, servers = str(context.zone), context.servers
    limit = context.options.nsec3_iteration_limit
    for parameters, group in context.records.nsec3.items():
        subject = f"NSEC3 {parameters}"
        records = tuple(r.text for r in group)
        iterations = parameters.iterations
        if iterations > limit:
            findings.append(
                make_finding(
                    "NSEC3_ITERATIONS_EXCESSIVE",
                    zone=zone,
                    subject=subject,
                    servers=servers,
                    records=records,
                    iterations=iterations,
                    limit=limit,
                )
            )
        elif iterations > 0:
            findings.append(
                make_finding(
                    "NSEC3_ITERATIONS_NONZERO",
                    zone=zone,
                    subject=subject,
                    servers=servers,
                    records=records,
                    iterations=iterations,
                )
            )
        if parameters.salt:
            findings.append(
                make_finding(
                    "NSEC3_SALT_PRESENT",
                    zone=zone,
                    subject=subject,
                    servers=servers,
                    records=records,
                    salt=parameters.salt,
                )
            )
    return findings


def _judge(kind: ResponseKind, obligations: list[_Obligation], context: _Context) -> DenialResult:
    records = context.records
    parameters = tuple(records.nsec3)
    findings = _parameter_findings(context)
    if not obligations:
        return DenialResult(
            kind, ProofStatus.NOT_NEEDED, tuple(findings), nsec3_parameters=parameters
        )
    excessive = any(p.iterations > context.options.nsec3_iteration_limit for p in parameters)
    results: list[tuple[ProofStatus, _Proof | None]] = []
    for obligation in obligations:
        if records.empty:
            reason = "; ".join(records.ignored) or "no NSEC or NSEC3 record in the response"
            findings.append(_failure_finding(obligation, ProofStatus.MISSING, reason, context))
            results.append((ProofStatus.MISSING, None))
            continue
        proof = _best_proof(obligation, records, context.zone)
        status = proof.status
        if proof.status is ProofStatus.INVALID:
            findings.append(_failure_finding(obligation, status, proof.reason or "", context))
        if excessive and not (proof.mechanism is Mechanism.NSEC and status is ProofStatus.PROVEN):
            # Validators stop at the iteration count: the answer is insecure whatever the
            # proof says. A broken proof is still reported: it turns bogus once fixed.
            status = ProofStatus.INSECURE_ITERATIONS
        results.append((status, proof))
    status = max((s for s, _ in results), key=lambda s: _SEVERITY[s])
    primary = results[0][1]
    used = tuple(dict.fromkeys(t for _, p in results if p is not None for t in p.records))
    return DenialResult(
        kind=kind,
        status=status,
        findings=tuple(findings),
        name=obligations[0].name,
        mechanism=primary.mechanism if primary else None,
        records=used or tuple(records.examined),
        closest_encloser=primary.closest_encloser if primary else None,
        next_closer=primary.next_closer if primary else None,
        wildcard=primary.wildcard if primary else None,
        opt_out=any(p.opt_out for _, p in results if p is not None),
        nsec3_parameters=parameters,
        reason="; ".join(p.reason for _, p in results if p is not None and p.reason) or None,
    )


def _obligations(
    message: dns.message.Message, qname: dns.name.Name, qtype: int, zone: dns.name.Name
) -> tuple[ResponseKind, list[_Obligation]]:
    walk = _walk_answer(message, qname, qtype, zone)
    kind, cut = _classify(message, walk, zone)
    obligations = []
    if kind is ResponseKind.NXDOMAIN:
        obligations.append(_Obligation(_Need.NXDOMAIN, walk.end, qtype))
    elif kind is ResponseKind.NODATA:
        obligations.append(_Obligation(_Need.NODATA, walk.end, qtype))
    elif kind is ResponseKind.REFERRAL:
        assert cut is not None
        if _find(message.authority, cut, dns.rdatatype.DS) is None:
            obligations.append(
                _Obligation(_Need.NO_DS, cut, dns.rdatatype.DS, delegation=True, for_ds=True)
            )
    if kind is not ResponseKind.ERROR:
        obligations += [
            _Obligation(_Need.WILDCARD, owner, qtype, wildcard=wildcard)
            for owner, wildcard in walk.expansions
        ]
    return kind, obligations


def _require_inside(name: dns.name.Name, zone: dns.name.Name) -> None:
    if not name.is_absolute() or not name.is_subdomain(zone):
        raise ValueError(f"{name} is not in the zone {zone}: ask the zone that holds it")


def check_denial(
    message: dns.message.Message,
    qname: dns.name.Name,
    qtype: dns.rdatatype.RdataType,
    zone: dns.name.Name,
    options: AnalysisOptions,
    *,
    servers: tuple[str, ...] = (),
) -> DenialResult:
    """Judge the proof of non-existence in ``message``, a response of a server of the
    signed zone ``zone`` to ``qname``/``qtype``: NXDOMAIN, NODATA (wildcard NODATA
    included), the non-existence of qname behind a wildcard answer, and the absence of
    DS in a referral to an unsigned child. ``servers`` label the evidence."""
    _require_inside(qname, zone)
    kind, obligations = _obligations(message, qname, qtype, zone)
    context = _Context(zone, servers, _read_records(message, zone), options)
    return _judge(kind, obligations, context)


def check_ds_denial(
    message: dns.message.Message,
    parent: dns.name.Name,
    child: dns.name.Name,
    options: AnalysisOptions,
    servers: tuple[str, ...] = (),
) -> DenialResult:
    """Judge the parent's proof that ``child`` has no DS, in ``message``, the response of
    a server of ``parent`` to ``child``/DS: an insecure delegation. A DS RRset in the
    answer needs no proof."""
    _require_inside(child, parent)
    kind = classify_response(message, child, dns.rdatatype.DS, parent)
    context = _Context(parent, servers, _read_records(message, parent), options)
    if kind is ResponseKind.NXDOMAIN:
        obligation = _Obligation(_Need.NXDOMAIN, child, dns.rdatatype.DS, for_ds=True)
    elif kind in (ResponseKind.NODATA, ResponseKind.REFERRAL):
        obligation = _Obligation(_Need.NO_DS, child, dns.rdatatype.DS, delegation=True, for_ds=True)
    else:
        return _judge(kind, [], context)
    return _judge(kind, [obligation], context)
