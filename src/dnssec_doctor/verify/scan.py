"""Scanning owner groups: the per-record half of zone verification, run in worker processes.

A slice of the zone file is read as compact records (``zonefile.reader``); the records of
one owner name arrive together. The scanner (C, ``_scan.c``, with OpenSSL keys loaded once
from the apex DNSKEYs) judges, for each owner:

- each RRset's signatures (RFC 4035 §5.3), each alone, in this order: signer is the zone
  (else RRSIG_SIGNER_MISMATCH), labels not above the owner's (RRSIG_LABELS_INVALID),
  algorithm one validators implement (else ignored, as they do), a zone key with that
  algorithm and tag (RRSIG_NO_MATCHING_KEY), not revoked unless over the DNSKEY RRset
  (RRSIG_KEY_REVOKED), inception not after expiration (RRSIG_WINDOW_INVERTED), the
  cryptography over the canonical signed data built from the wire (RFC 4034 §3.1.8.1, §6;
  wildcard owners per §5.3.2; RRSIG_BAD_SIGNATURE), then the window at ``now`` (RRSIG_EXPIRED,
  RRSIG_NOT_YET_VALID). An RRset is noted once per failing code; with a valid signature
  its TTLs are checked (RRSIG_TTL_MISMATCH, RRSIG_TTL_EXCEEDS_ORIGINAL,
  RRSIG_TTL_OUTLIVES_SIGNATURE) and its latest expiry against ``expire_warning``
  (RRSIG_EXPIRES_SOON); every algorithm of the zone keys must sign it
  (DNSKEY_ALGORITHM_SIGNS_NOTHING, RFC 6840 §5.11);
- what must not be signed: the NS and glue at a delegation (RFC 4035 §2.2), signatures
  over a type the owner lacks (RRSIG_UNEXPECTED), signatures over signatures
  (RRSIG_COVERS_RRSIG: RFC 4035 §2.2, RRSIGs are not signed); the apex DNSKEY RRset is
  left to the DS -> DNSKEY link (``analysis.keys``);
- the owner's summary for ``verify.zone`` (a delegation, the denial chain and unsigned
  RRsets need the whole zone): flags, the NSEC and NSEC3 type bitmaps its data calls for,
  its NSEC3 hash, the NSEC it holds, its types without any RRSIG; a CNAME beside other
  data, several CNAME or several DNAME records at the name (flags). An owner of NSEC3
  records only is summarised as NSEC3 records (its unsigned types are RRSIG_MISSING).
  An owner outside the zone is summarised and nothing more: its records are not the
  zone's to judge.

Problems are counted per finding code; for each code only the first few RRsets are kept
as examples (file offset and type). The main process re-reads those and explains them with
the same classification ``check`` uses (``analysis.signatures``), so findings are
identical whichever way the zone was read. Expiry statistics (the earliest, per horizon,
before the SOA expire interval) count valid signatures.
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
CNAME_AND_OTHER_DATA = 256  # a CNAME beside data other than RRSIG, NSEC, KEY (RFC 2181 §10.1)
SEVERAL_CNAMES = 512  # CNAME is a singleton type
SEVERAL_DNAMES = 1024  # so is DNAME (RFC 6672 §2.4)
HAS_ADDRESS = 2048  # A or AAAA: an address for a name server (glue)

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
    ns_targets: list[tuple[bytes, bytes]] = field(default_factory=list)  # (owner, NS target)
    # (owner, key tag, algorithm, digest type) of each DS
    ds_heads: list[tuple[bytes, int, int, int]] = field(default_factory=list)

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
        self.ns_targets += other.ns_targets
        self.ds_heads += other.ds_heads


class Scanner:
    """Scans the owner groups of one zone, in file order (the C core in ``_scan.c``)."""

    def __init__(self, context: ScanContext) -> None:
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

    def scan(self, records: Iterable[Record | bytes]) -> ScanResult:
        """Scan ``records`` (owner groups contiguous, in file order: record tuples, or runs
        of packed records from ``zonefile.reader.read_packed``) and return the result; a
        scanner is used once."""
        self._core.scan(records)
        totals = self._core.finish()
        return ScanResult(
            names=totals.names,
            nsec3s=totals.nsec3s,
            counts=totals.counts,
            examples=totals.examples,
            records=totals.records,
            rrsets=totals.rrsets,
            signatures=totals.signatures,
            valid_signatures=totals.valid_signatures,
            earliest=totals.earliest,
            horizon_counts=totals.horizon_counts,
            before_soa_expire=totals.before_soa_expire,
            ns_targets=totals.ns_targets,
            ds_heads=totals.ds_heads,
        )
