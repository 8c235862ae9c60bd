"""Scanning owner groups: the per-record half of zone verification, run in worker processes.

A slice of the zone file is read as compact records (``zonefile.reader``); the records of
one owner name arrive together. For each owner this module verifies every signature it
can judge locally (RFC 4035 §5.3: signer, labels, key, cryptography, window), builds the
canonical signed data itself (RFC 4034 §3.1.8.1, §6) and verifies it with keys loaded
once. What needs the whole zone (is a name below a delegation? is the denial chain
complete?) is left to ``verify.zone``: each owner is summarised as a small tuple.

Problems are counted per finding code; for each code only the first few RRsets are kept
as examples (file offset and type). The main process re-reads those and explains them with
the same classification ``check`` uses (``analysis.signatures``), so findings are
identical whichever way the zone was read.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from dnssec_doctor.analysis.signatures import SUPPORTED_ALGORITHMS
from dnssec_doctor.verify.crypto import KeyRing, nsec3_hash
from dnssec_doctor.zonefile.reader import (
    DNSKEY,
    DS,
    NS,
    NSEC,
    NSEC3,
    RRSIG,
    SOA,
    Record,
    label_count,
    name_labels,
    sort_key,
    type_bitmap,
)

# Owner flags.
HAS_NS = 1
HAS_DS = 2
HAS_SOA = 4
HAS_RRSIG = 8
HAS_DATA = 16  # a type other than RRSIG, NSEC and NSEC3
HAS_NSEC = 32
IS_APEX = 64

# One owner name: (sort key, owner wire, file offset, line, flags, expected NSEC bitmap,
# expected NSEC3 bitmap, NSEC3 hash of the name or None, the NSEC (next wire, bitmap) or
# None, types served without any RRSIG)
NameSummary = tuple[
    bytes,
    bytes,
    int,
    int,
    int,
    bytes,
    bytes,
    bytes | None,
    tuple[bytes, bytes] | None,
    tuple[int, ...],
]
# One NSEC3 record: (hash in the owner label or None when malformed, owner wire, offset,
# line, hash algorithm, flags, iterations, salt, next hash, bitmap)
Nsec3Summary = tuple[bytes | None, bytes, int, int, int, int, int, bytes, bytes, bytes]


@dataclass(frozen=True)
class ScanContext:
    """Everything a worker needs, picklable: no dnspython objects."""

    source: str
    origin: bytes
    dnskeys: tuple[bytes, ...]  # apex DNSKEY RDATA
    now: float
    expire_warning: float
    horizons: tuple[float, ...]  # seconds from now
    soa_expire: int
    nsec3: tuple[bytes, int] | None  # (salt, iterations) of NSEC3PARAM, to hash names
    max_examples: int = 20


@dataclass
class ScanResult:
    names: list[NameSummary] = field(default_factory=list)
    nsec3s: list[Nsec3Summary] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # finding code -> RRsets
    # code -> [(owner wire, offset of the owner's first record, type)]
    examples: dict[str, list[tuple[bytes, int, int]]] = field(default_factory=dict)
    records: int = 0
    rrsets: int = 0
    signatures: int = 0  # RRSIGs judged
    valid_signatures: int = 0
    earliest: tuple[int, bytes, int] | None = None  # (expiration, owner wire, covered type)
    horizon_counts: list[int] = field(default_factory=list)
    before_soa_expire: int = 0

    def note(self, code: str, owner: bytes, offset: int, rdtype: int, limit: int) -> None:
        self.counts[code] = self.counts.get(code, 0) + 1
        kept = self.examples.setdefault(code, [])
        if len(kept) < limit:
            kept.append((owner, offset, rdtype))

    def merge(self, other: ScanResult, max_examples: int) -> None:
        self.names += other.names
        self.nsec3s += other.nsec3s
        for code, count in other.counts.items():
            self.counts[code] = self.counts.get(code, 0) + count
            kept = self.examples.setdefault(code, [])
            kept += other.examples.get(code, [])[: max(0, max_examples - len(kept))]
        self.records += other.records
        self.rrsets += other.rrsets
        self.signatures += other.signatures
        self.valid_signatures += other.valid_signatures
        if other.earliest is not None and (self.earliest is None or other.earliest < self.earliest):
            self.earliest = other.earliest
        if not self.horizon_counts:
            self.horizon_counts = list(other.horizon_counts)
        else:
            for index, count in enumerate(other.horizon_counts):
                self.horizon_counts[index] += count
        self.before_soa_expire += other.before_soa_expire


# The failing statuses, most telling first (as ``analysis.signatures.FAILURE_PRIORITY``).
_FAILURE_CODES = (
    "RRSIG_EXPIRED",
    "RRSIG_NOT_YET_VALID",
    "RRSIG_NO_MATCHING_KEY",
    "RRSIG_BAD_SIGNATURE",
    "RRSIG_KEY_REVOKED",
    "RRSIG_SIGNER_MISMATCH",
    "RRSIG_LABELS_INVALID",
)
_UNSUPPORTED = "unsupported"

_RRSIG_HEADER = struct.Struct("!HBBIIIH")
_RR_HEADER = struct.Struct("!HHIH")


class Scanner:
    """Scans owner groups of one zone; keeps keys and counters across groups."""

    def __init__(self, context: ScanContext) -> None:
        self.context = context
        self.keys = KeyRing(context.dnskeys)
        self.supported_algorithms = {a for a in self.keys.algorithms if a in SUPPORTED_ALGORITHMS}
        self.origin_key = sort_key(context.origin)
        self.result = ScanResult(horizon_counts=[0] * len(context.horizons))
        self.deadlines = [context.now + h for h in context.horizons]
        self.soa_deadline = context.now + context.soa_expire

    def scan(self, records: Iterable[Record]) -> ScanResult:
        group: list[Record] = []
        owner = b""
        for record in records:
            if record[0] != owner:
                if group:
                    self.scan_group(owner, group)
                owner = record[0]
                group = [record]
            else:
                group.append(record)
        if group:
            self.scan_group(owner, group)
        return self.result

    def scan_group(self, owner: bytes, group: list[Record]) -> None:
        context = self.context
        result = self.result
        result.records += len(group)
        rrsets: dict[int, tuple[int, list[bytes]]] = {}  # type -> (ttl, rdatas)
        sigs: dict[int, list[tuple[int, bytes]]] = {}  # covered type -> [(ttl, rdata)]
        offset = group[0][5]
        line = group[0][4]
        for _, ttl, rdtype, rdata, _, _ in group:
            if rdtype == RRSIG:
                covered = (rdata[0] << 8) | rdata[1]
                sigs.setdefault(covered, []).append((ttl, rdata))
            else:
                entry = rrsets.get(rdtype)
                if entry is None:
                    rrsets[rdtype] = (ttl, [rdata])
                else:
                    entry[1].append(rdata)
        types = set(rrsets)
        is_apex = owner == context.origin
        flags = IS_APEX if is_apex else 0
        if NS in types:
            flags |= HAS_NS
        if DS in types:
            flags |= HAS_DS
        if SOA in types:
            flags |= HAS_SOA
        if sigs:
            flags |= HAS_RRSIG
        if NSEC in types:
            flags |= HAS_NSEC
        data_types = types - {NSEC, NSEC3}
        if data_types:
            flags |= HAS_DATA
        is_cut = bool(flags & HAS_NS) and not is_apex

        if NSEC3 in types and not data_types and NSEC not in types:
            self._nsec3_owner(owner, offset, line, rrsets[NSEC3][1])
            name_summary = None
        else:
            if NSEC3 in types:
                for rdata in rrsets[NSEC3][1]:
                    self._nsec3_owner(owner, offset, line, [rdata])
            name_summary = self._name_summary(owner, offset, line, flags, types, rrsets, is_cut)

        unsigned: list[int] = []
        for rdtype, (ttl, rdatas) in rrsets.items():
            result.rrsets += 1
            covering = sigs.pop(rdtype, None)
            if is_apex and rdtype == DNSKEY:
                continue  # the DS -> DNSKEY link judges the DNSKEY RRset (analysis.keys)
            if covering is None:
                unsigned.append(rdtype)
                continue
            if is_cut and rdtype not in (DS, NSEC):
                # RFC 4035 §2.2: the NS at a delegation and glue are not signed.
                result.note("RRSIG_UNEXPECTED", owner, offset, rdtype, context.max_examples)
                continue
            self._check_rrset(owner, offset, rdtype, ttl, rdatas, covering)
        for rdtype in sigs:  # signatures over a type the owner does not have
            result.note("RRSIG_UNEXPECTED", owner, offset, rdtype, context.max_examples)
        if name_summary is not None:
            result.names.append((*name_summary, tuple(unsigned)))
        elif unsigned:
            for rdtype in unsigned:
                result.note("RRSIG_MISSING", owner, offset, rdtype, context.max_examples)

    def _name_summary(
        self,
        owner: bytes,
        offset: int,
        line: int,
        flags: int,
        types: set[int],
        rrsets: dict[int, tuple[int, list[bytes]]],
        is_cut: bool,
    ) -> tuple[bytes, bytes, int, int, int, bytes, bytes, bytes | None, tuple[bytes, bytes] | None]:
        if is_cut:
            base = {NS, DS} & types
            expected_nsec = type_bitmap(base | {NSEC, RRSIG})
            expected_nsec3 = type_bitmap(base | ({RRSIG} if DS in types else set()))
        else:
            data = types - {NSEC, NSEC3}
            expected_nsec = type_bitmap(data | {NSEC, RRSIG})
            expected_nsec3 = type_bitmap(data | ({RRSIG} if data else set()))
        nsec: tuple[bytes, bytes] | None = None
        if NSEC in types:
            rdata = rrsets[NSEC][1][0]
            end = _name_end(rdata, 0)
            nsec = (rdata[:end].lower(), rdata[end:])
        hashed = None
        if self.context.nsec3 is not None:
            salt, iterations = self.context.nsec3
            hashed = nsec3_hash(owner, salt, iterations)
        return (
            sort_key(owner),
            owner,
            offset,
            line,
            flags,
            expected_nsec,
            expected_nsec3,
            hashed,
            nsec,
        )

    def _nsec3_owner(self, owner: bytes, offset: int, line: int, rdatas: list[bytes]) -> None:
        labels = name_labels(owner)
        hashed: bytes | None = None
        if labels and owner[len(labels[0]) + 1 :] == self.context.origin:
            try:
                hashed = base64.b32hexdecode(labels[0].upper())
            except (binascii.Error, ValueError):
                hashed = None
        for rdata in rdatas:
            algorithm, flags, iterations, salt_length = struct.unpack_from("!BBHB", rdata)
            salt = rdata[5 : 5 + salt_length]
            index = 5 + salt_length
            hash_length = rdata[index]
            following = rdata[index + 1 : index + 1 + hash_length]
            bitmap = rdata[index + 1 + hash_length :]
            self.result.nsec3s.append(
                (hashed, owner, offset, line, algorithm, flags, iterations, salt, following, bitmap)
            )

    def _check_rrset(
        self,
        owner: bytes,
        offset: int,
        rdtype: int,
        ttl: int,
        rdatas: list[bytes],
        covering: list[tuple[int, bytes]],
    ) -> None:
        context = self.context
        result = self.result
        canonical = sorted(set(rdatas))
        owner_labels = label_count(owner)
        full_labels = owner_labels + (1 if owner[:2] == b"\x01*" else 0)
        signed_by: set[int] = set()
        failures: set[str] = set()
        valid_expirations: list[int] = []
        any_supported = False
        ttl_mismatch = False
        exceeds_original = False
        for sig_ttl, rrsig in covering:
            result.signatures += 1
            _, algorithm, labels, original_ttl, expiration, inception, tag = (
                _RRSIG_HEADER.unpack_from(rrsig)
            )
            signer_end = _name_end(rrsig, 18)
            signer = rrsig[18:signer_end]
            if signer != context.origin:
                failures.add("RRSIG_SIGNER_MISMATCH")
                signed_by.add(algorithm)
                continue
            if labels > owner_labels:
                failures.add("RRSIG_LABELS_INVALID")
                signed_by.add(algorithm)
                continue
            if algorithm not in SUPPORTED_ALGORITHMS:
                continue  # validators ignore it; judged with the zone's algorithms
            any_supported = True
            signed_by.add(algorithm)
            candidates = [k for k in self.keys.candidates(algorithm, tag) if k.is_zone_key]
            if not candidates:
                failures.add("RRSIG_NO_MATCHING_KEY")
                continue
            usable = [k for k in candidates if not k.is_revoked or rdtype == DNSKEY]
            if not usable:
                failures.add("RRSIG_KEY_REVOKED")
                continue
            if labels < full_labels:
                # RFC 4035 §5.3.2: a wildcard's signature is over "*." + the last labels.
                kept = name_labels(owner)[full_labels - labels :]
                signed_owner = b"\x01*" + b"".join(bytes((len(x),)) + x for x in kept) + b"\x00"
            else:
                signed_owner = owner
            header = _RR_HEADER.pack  # owner | type | class | original TTL | RDLENGTH | RDATA
            data = rrsig[:signer_end] + b"".join(
                signed_owner + header(rdtype, 1, original_ttl, len(rd)) + rd for rd in canonical
            )
            signature = rrsig[signer_end:]
            if inception > expiration or not any(
                k.verify is not None and k.verify(signature, data) for k in usable
            ):
                failures.add("RRSIG_BAD_SIGNATURE")
                continue
            if expiration < context.now:
                failures.add("RRSIG_EXPIRED")
                continue
            if inception > context.now:
                failures.add("RRSIG_NOT_YET_VALID")
                continue
            result.valid_signatures += 1
            valid_expirations.append(expiration)
            if sig_ttl != ttl:
                ttl_mismatch = True
            if ttl > original_ttl:
                exceeds_original = True
            earliest = result.earliest
            if earliest is None or expiration < earliest[0]:
                result.earliest = (expiration, owner, rdtype)
            for index, deadline in enumerate(self.deadlines):
                if expiration < deadline:
                    result.horizon_counts[index] += 1
            if expiration < self.soa_deadline:
                result.before_soa_expire += 1

        note = result.note
        limit = context.max_examples
        for code in _FAILURE_CODES:
            if code in failures:
                note(code, owner, offset, rdtype, limit)
        if not any_supported and not failures and self.supported_algorithms:
            note("RRSIG_ALGORITHM_UNSUPPORTED", owner, offset, rdtype, limit)
        if self.supported_algorithms - signed_by:
            note("DNSKEY_ALGORITHM_SIGNS_NOTHING", owner, offset, rdtype, limit)
        if valid_expirations:
            remaining = max(valid_expirations) - context.now
            if remaining < context.expire_warning:
                note("RRSIG_EXPIRES_SOON", owner, offset, rdtype, limit)
            if exceeds_original:
                note("RRSIG_TTL_EXCEEDS_ORIGINAL", owner, offset, rdtype, limit)
            if ttl > remaining:
                note("RRSIG_TTL_OUTLIVES_SIGNATURE", owner, offset, rdtype, limit)
            if ttl_mismatch:
                note("RRSIG_TTL_MISMATCH", owner, offset, rdtype, limit)


def _name_end(wire: bytes, start: int) -> int:
    """The offset just past the uncompressed name that starts at ``start``."""
    index = start
    while wire[index]:
        index += wire[index] + 1
    return index + 1
