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

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from dnssec_doctor.analysis.signatures import SUPPORTED_ALGORITHMS
from dnssec_doctor.verify import _scan
from dnssec_doctor.verify.crypto import key_tag, public_key_der
from dnssec_doctor.zonefile.reader import Record

# Owner flags.
HAS_NS = 1
HAS_DS = 2
HAS_SOA = 4
HAS_RRSIG = 8
HAS_DATA = 16  # a type other than RRSIG, NSEC and NSEC3
HAS_NSEC = 32
IS_APEX = 64
HAS_DNAME = 128  # the names below are occluded (RFC 6672 §2.4)

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


class Scanner:
    """Scans the owner groups of one zone, in file order (the C core in ``_scan.c``)."""

    def __init__(self, context: ScanContext) -> None:
        self.context = context
        keys = []
        for rdata in context.dnskeys:
            if len(rdata) < 4:
                continue
            flags, protocol, algorithm = struct.unpack_from("!HBB", rdata)
            der = public_key_der(algorithm, rdata[4:])
            keys.append((flags, protocol, algorithm, key_tag(rdata), der))
        self._core = _scan.Scanner(
            origin=context.origin,
            keys=keys,
            supported=sorted(SUPPORTED_ALGORITHMS),
            now=float(context.now),
            expire_warning=float(context.expire_warning),
            deadlines=[float(context.now + h) for h in context.horizons],
            soa_deadline=float(context.now + context.soa_expire),
            nsec3=context.nsec3,
            max_examples=context.max_examples,
        )

    def scan(self, records: Iterable[Record]) -> ScanResult:
        """Scan ``records`` (owner groups contiguous, in file order) and return the result;
        a scanner is used once."""
        self._core.scan(records)
        (
            names,
            nsec3s,
            counts,
            examples,
            record_count,
            rrsets,
            signatures,
            valid,
            earliest,
            horizon_counts,
            before_soa_expire,
        ) = self._core.finish()
        return ScanResult(
            names=names,
            nsec3s=nsec3s,
            counts=counts,
            examples=examples,
            records=record_count,
            rrsets=rrsets,
            signatures=signatures,
            valid_signatures=valid,
            earliest=earliest,
            horizon_counts=horizon_counts,
            before_soa_expire=before_soa_expire,
        )
