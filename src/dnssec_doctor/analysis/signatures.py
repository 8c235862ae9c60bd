"""Signatures: why each RRSIG over an RRset is, or is not, valid.

``dns.dnssec.validate()`` answers yes or no and folds "no matching key", "refused by
policy" and "bad signature" into one message. A diagnosis needs the reason, so each
(RRset, RRSIG) pair is classified here step by step, the way RFC 4035 §5.3.1 lists the
checks: covered type, signer, labels, algorithm, key, then the cryptography with only the
key the signature names, and last the validity window against ``now``. The crypto is
judged before the window so that a corrupted signature is reported as corrupted even when
it has also expired.

Which algorithms count as supported is this module's decision, not dnspython's policy:
dnspython's ``rfc_9904_policy`` (today the RFC 8624 table) refuses only RSAMD5 and DSA for
validation and would accept anything else it implements (even experimental numbers).
Deployed validators (Unbound, BIND, Knot Resolver, the public resolvers) validate 5, 7, 8,
10, 13, 14, 15 and 16 and treat every other number as unknown, so that is the set used
here. RSAMD5 (1), DSA (3, 6) and GOST (12) are unsupported.

Pure: no clock (``now`` is an argument), no I/O.
"""

from __future__ import annotations

import collections
import enum
import functools
import hashlib
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import dns.dnssec
import dns.exception
import dns.name
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from dns.dnssectypes import Algorithm
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.RRSIG import RRSIG
from dns.rdtypes.dnskeybase import DNSKEYBase, Flag

from dnssec_doctor.analysis.codes import lookup, make_finding
from dnssec_doctor.analysis.wire import MalformedRecord
from dnssec_doctor.model.finding import Finding, Param
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.time_text import human_delta, human_duration, iso_utc

# Algorithms deployed validators implement (see the module docstring).
SUPPORTED_ALGORITHMS: frozenset[int] = frozenset(
    {
        Algorithm.RSASHA1,
        Algorithm.RSASHA1NSEC3SHA1,
        Algorithm.RSASHA256,
        Algorithm.RSASHA512,
        Algorithm.ECDSAP256SHA256,
        Algorithm.ECDSAP384SHA384,
        Algorithm.ED25519,
        Algorithm.ED448,
    }
)


# Retired algorithms a validator profile may accept (``AnalysisOptions.accepted_algorithms``):
# the numbers dnspython can still verify. RFC 9904 says they must not be validated.
RETIRED_ALGORITHMS: frozenset[int] = frozenset(
    {Algorithm.RSAMD5, Algorithm.DSA, Algorithm.DSANSEC3SHA1}
)


def is_algorithm_supported(algorithm: int, accepted: frozenset[int] = frozenset()) -> bool:
    """Whether validators implement DNSKEY/RRSIG ``algorithm``; ``accepted`` adds the
    retired algorithms a validator profile still validates."""
    return algorithm in SUPPORTED_ALGORITHMS or algorithm in accepted


def algorithm_name(algorithm: int) -> str:
    """The mnemonic of ``algorithm`` ("ECDSAP256SHA256"), or its number when unknown."""
    return Algorithm.to_text(algorithm)


class SignatureStatus(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    WINDOW_INVERTED = "window-inverted"  # expiration before inception: valid at no moment
    NO_MATCHING_KEY = "no-matching-key"  # no published zone key with that tag and algorithm
    SIGNER_MISMATCH = "signer-mismatch"  # signer name is not the zone apex
    LABELS_INVALID = "labels-invalid"  # labels field exceeds the owner's label count
    DNAME_FROM_WILDCARD = "dname-from-wildcard"  # a DNAME expanded from a wildcard DNAME
    TYPE_MISMATCH = "type-mismatch"  # the RRSIG covers another type or class
    BAD_SIGNATURE = "bad-signature"  # the crypto fails with every candidate key
    ALGORITHM_UNSUPPORTED = "algorithm-unsupported"
    KEY_REVOKED = "key-revoked"  # the only candidate keys carry the REVOKE flag (RFC 5011)


# The codes this module can emit.
EMITS: tuple[str, ...] = tuple(
    lookup(code).code
    for code in (
        "RRSIG_MISSING",
        "RRSIG_MALFORMED",
        "RRSIG_EXPIRED",
        "RRSIG_NOT_YET_VALID",
        "RRSIG_WINDOW_INVERTED",
        "RRSIG_NO_MATCHING_KEY",
        "RRSIG_BAD_SIGNATURE",
        "RRSIG_SIGNER_MISMATCH",
        "RRSIG_LABELS_INVALID",
        "RRSIG_DNAME_FROM_WILDCARD",
        "RRSIG_EXPIRES_SOON",
        "RRSIG_TTL_EXCEEDS_ORIGINAL",
        "RRSIG_TTL_OUTLIVES_SIGNATURE",
        "RRSIG_KEY_REVOKED",
        "RRSIG_ALGORITHM_UNSUPPORTED",
        "DNSKEY_ALGORITHM_SIGNS_NOTHING",
    )
)

# The most telling failure first, used when no signature over an RRset is valid:
# - a window failure (EXPIRED, NOT_YET_VALID) is only reported after the crypto verified,
#   so the signature is genuine and the fix is plain (restart the signer, fix its clock);
#   it is also what stops most zones ("worked yesterday").
# - NO_MATCHING_KEY next: a key-management slip (a ZSK removed too early) with a clear fix.
# - BAD_SIGNATURE: genuine corruption, or data edited without re-signing.
# - KEY_REVOKED, then the structural faults a signer rarely makes.
# - ALGORITHM_UNSUPPORTED last: validators ignore such signatures rather than fail on them,
#   so any other failure beside it is the one that bites.
FAILURE_PRIORITY: tuple[SignatureStatus, ...] = (
    SignatureStatus.EXPIRED,
    SignatureStatus.NOT_YET_VALID,
    SignatureStatus.WINDOW_INVERTED,
    SignatureStatus.NO_MATCHING_KEY,
    SignatureStatus.BAD_SIGNATURE,
    SignatureStatus.KEY_REVOKED,
    SignatureStatus.SIGNER_MISMATCH,
    SignatureStatus.LABELS_INVALID,
    SignatureStatus.DNAME_FROM_WILDCARD,
    SignatureStatus.TYPE_MISMATCH,
    SignatureStatus.ALGORITHM_UNSUPPORTED,
)


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on one RRSIG over one RRset, with the key that was used or tried."""

    rrsig: RRSIG
    status: SignatureStatus
    key: DNSKEY | None  # the key that verified it, or the (first) candidate that failed
    detail: str  # one human sentence: why this status
    now: float  # the moment the window was judged at
    expanded_from: dns.name.Name | None = None  # the wildcard an answer was synthesised from

    @property
    def is_valid(self) -> bool:
        return self.status is SignatureStatus.VALID

    @property
    def key_tag(self) -> int:
        return int(self.rrsig.key_tag)

    @property
    def algorithm(self) -> int:
        return int(self.rrsig.algorithm)

    @property
    def expiration(self) -> int:
        return int(self.rrsig.expiration)

    @property
    def inception(self) -> int:
        return int(self.rrsig.inception)

    @property
    def seconds_to_expiry(self) -> float:
        """Seconds from ``now`` until expiration; negative once expired."""
        return int(self.rrsig.expiration) - self.now

    @property
    def seconds_since_expiry(self) -> float:
        """Seconds since expiration; negative while still ahead."""
        return self.now - int(self.rrsig.expiration)

    @property
    def seconds_to_inception(self) -> float:
        """Seconds from ``now`` until inception; negative once the window has opened."""
        return int(self.rrsig.inception) - self.now


def classify_signature(
    rrset: dns.rrset.RRset,
    rrsig: RRSIG,
    zone: dns.name.Name,
    dnskeys: Sequence[DNSKEY],
    now: float,
    accepted: frozenset[int] = frozenset(),
) -> SignatureCheck:
    """Classify one RRSIG over ``rrset`` of ``zone`` against the zone's DNSKEYs at ``now``."""

    def verdict(
        status: SignatureStatus,
        detail: str,
        key: DNSKEY | None = None,
        expanded_from: dns.name.Name | None = None,
    ) -> SignatureCheck:
        return SignatureCheck(rrsig, status, key, detail, now, expanded_from)

    if rrsig.type_covered != rrset.rdtype or rrsig.rdclass != rrset.rdclass:
        return verdict(
            SignatureStatus.TYPE_MISMATCH,
            f"the RRSIG covers {dns.rdatatype.to_text(rrsig.type_covered)}, "
            f"not {dns.rdatatype.to_text(rrset.rdtype)}",
        )
    if rrsig.signer != zone:
        return verdict(
            SignatureStatus.SIGNER_MISMATCH,
            f"the signer is {rrsig.signer}, the zone apex is {zone}",
        )
    owner_labels = owner_label_count(rrset.name)
    if rrsig.labels > owner_labels:
        return verdict(
            SignatureStatus.LABELS_INVALID,
            f"the labels field is {rrsig.labels}; {rrset.name} has {owner_labels}",
        )
    expanded_from = None
    if rrsig.labels < owner_labels:
        # RFC 4035 §5.3.2: the answer was synthesised from the wildcard at that depth.
        suffix = rrset.name.split(rrsig.labels + 1)[1]
        expanded_from = dns.name.Name((b"*", *suffix.labels))
    if not is_algorithm_supported(rrsig.algorithm, accepted):
        return verdict(
            SignatureStatus.ALGORITHM_UNSUPPORTED,
            f"algorithm {rrsig.algorithm} ({algorithm_name(rrsig.algorithm)}) is not "
            "implemented by validators",
            expanded_from=expanded_from,
        )

    named = [
        key for key in dnskeys if key.algorithm == rrsig.algorithm and key_tag(key) == rrsig.key_tag
    ]
    zone_keys = [k for k in named if k.flags & Flag.ZONE and k.protocol == 3]
    if not zone_keys:
        detail = f"no DNSKEY {rrsig.key_tag}/{rrsig.algorithm} is published in {zone}"
        if named:
            detail = (
                f"DNSKEY {rrsig.key_tag}/{rrsig.algorithm} is published but is not a zone "
                f"key (flags {named[0].flags}, protocol {named[0].protocol})"
            )
        return verdict(
            SignatureStatus.NO_MATCHING_KEY,
            detail,
            named[0] if named else None,
            expanded_from,
        )
    # RFC 5011 §2.1: a revoked key may sign only the DNSKEY RRset (to announce revocation).
    usable = [
        k
        for k in zone_keys
        if not k.flags & Flag.REVOKE or rrsig.type_covered == dns.rdatatype.DNSKEY
    ]
    if not usable:
        return verdict(
            SignatureStatus.KEY_REVOKED,
            f"DNSKEY {rrsig.key_tag}/{rrsig.algorithm} has the REVOKE flag set",
            zone_keys[0],
            expanded_from,
        )

    if rrsig.expiration < rrsig.inception:
        # No moment lies inside the window: nothing to verify (RFC 8914 EDE 25).
        return verdict(
            SignatureStatus.WINDOW_INVERTED,
            f"expires ({iso_utc(rrsig.expiration)}) before its inception "
            f"({iso_utc(rrsig.inception)})",
            usable[0],
            expanded_from,
        )

    # Key tags collide (RFC 4034 Appendix B): try each candidate on its own.
    verified = next((k for k in usable if _verifies(rrset, rrsig, k)), None)
    if verified is None:
        tried = "" if len(usable) == 1 else f" (tried {len(usable)} keys with that tag)"
        return verdict(
            SignatureStatus.BAD_SIGNATURE,
            f"the signature does not verify with DNSKEY {rrsig.key_tag}/{rrsig.algorithm}" + tried,
            usable[0],
            expanded_from,
        )

    if expanded_from is not None and rrset.rdtype == dns.rdatatype.DNAME:
        # Genuine, but a DNAME is never synthesised from a wildcard (RFC 4592 §4.4).
        return verdict(
            SignatureStatus.DNAME_FROM_WILDCARD,
            f"the RRSIG's labels field ({rrsig.labels}) makes the DNAME an expansion of "
            f"{expanded_from}",
            verified,
            expanded_from,
        )
    if rrsig.expiration < now:
        return verdict(
            SignatureStatus.EXPIRED,
            f"expired {human_delta(rrsig.expiration - now)} ({iso_utc(rrsig.expiration)})",
            verified,
            expanded_from,
        )
    if rrsig.inception > now:
        return verdict(
            SignatureStatus.NOT_YET_VALID,
            f"valid only from {iso_utc(rrsig.inception)} ({human_delta(rrsig.inception - now)})",
            verified,
            expanded_from,
        )
    return verdict(
        SignatureStatus.VALID,
        f"valid until {iso_utc(rrsig.expiration)} ({human_delta(rrsig.expiration - now)})",
        verified,
        expanded_from,
    )


def key_tag(key: DNSKEYBase) -> int:
    """The key tag of ``key`` (RFC 4034 Appendix B), as ``dns.dnssec.key_id`` computes it
    (a CDNSKEY's too: the same RDATA). Remembered by the fields it is computed from: every
    signature and DS is matched against the same keys of the zones above (a scan: the
    root's and the TLD's for each name), and computing a tag walks the key's bytes in
    Python, about 20 times the cost of the look-up."""
    return _key_tag(int(key.flags), int(key.protocol), int(key.algorithm), bytes(key.key))


@functools.lru_cache(maxsize=4096)
def _key_tag(flags: int, protocol: int, algorithm: int, material: bytes) -> int:
    return dns.dnssec.key_id(
        DNSKEY(dns.rdataclass.IN, dns.rdatatype.DNSKEY, flags, protocol, algorithm, material)
    )


def owner_label_count(name: dns.name.Name) -> int:
    """The label count an RRSIG over ``name`` must carry (RFC 4034 §3.1.3): the root and a
    leading ``*`` do not count."""
    count = len(name) - 1 if name.is_absolute() else len(name)
    return count - 1 if name.is_wild() else count


# The cryptography's verdicts, by the exact bytes judged: the RRset (owner, class, type,
# TTL, every record), the RRSIG and the key. The verdict does not depend on the time (the
# window is judged apart), so a signature that many names share (a scan: the root's and a
# TLD's, the same RRset from each of a zone's servers) is verified once per process. A
# different record, signature or key is a different key here and can never hit: the key
# is the SHA-256 of those bytes, each part prefixed by its length (32 bytes an entry
# whatever the records' size; a collision is beyond reach). Bounded, least recently used
# first out.
_VERIFIED_CAPACITY = 4096
_verified: collections.OrderedDict[bytes, bool] = collections.OrderedDict()
_verified_lock = threading.Lock()  # a scan's analysis thread beside its probe


def _verifies(rrset: dns.rrset.RRset, rrsig: RRSIG, key: DNSKEY) -> bool:
    """Only the cryptography: one key, no policy, ``now`` inside the window."""
    if rrsig.inception > rrsig.expiration:
        return False  # no moment lies inside an inverted window
    try:
        parts = [
            rrset.name.to_wire(),
            struct.pack("!HHHI", rrset.rdclass, rrset.rdtype, rrset.covers, rrset.ttl),
            *sorted(rdata.to_wire() for rdata in rrset),
            rrsig.to_wire(),
            key.to_wire(),
        ]
        digest = hashlib.sha256(len(parts).to_bytes(4, "big"))
        for part in parts:
            digest.update(len(part).to_bytes(4, "big"))
            digest.update(part)
        judged: bytes | None = digest.digest()
    except (dns.exception.DNSException, ValueError, TypeError, struct.error):
        judged = None  # cannot be written down exactly: verified each time
    if judged is not None:
        with _verified_lock:
            known = _verified.get(judged)
            if known is not None:
                _verified.move_to_end(judged)
                return known
    verdict = _verify(rrset, rrsig, key)
    if judged is not None:
        with _verified_lock:
            _verified[judged] = verdict
            if len(_verified) > _VERIFIED_CAPACITY:
                _verified.popitem(last=False)
    return verdict


def _verify(rrset: dns.rrset.RRset, rrsig: RRSIG, key: DNSKEY) -> bool:
    """``_verifies`` without the memo."""
    keyset = dns.rdataset.Rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    keyset.add(key)
    keys: dict[dns.name.Name, dns.rdataset.Rdataset] = {rrsig.signer: keyset}
    try:
        dns.dnssec.validate_rrsig(
            rrset,
            rrsig,
            keys,  # type: ignore[arg-type]  # dict is invariant; a Rdataset value is accepted
            now=float(rrsig.inception),
            policy=dns.dnssec.allow_all_policy,
        )
    except (dns.exception.DNSException, ValueError):
        # ValidationFailure, UnsupportedAlgorithm, and key or signature bytes that the
        # crypto library refuses outright.
        if rrsig.algorithm in _DSA_ALGORITHMS:
            return _verifies_dsa(rrset, rrsig, key)
        return False
    return True


_DSA_ALGORITHMS = frozenset({Algorithm.DSA, Algorithm.DSANSEC3SHA1})


def _verifies_dsa(rrset: dns.rrset.RRset, rrsig: RRSIG, key: DNSKEY) -> bool:
    """DSA (RFC 2536) where the crypto library refuses: keys under 1024 bits (the
    library takes 1024 bits and up only) and signatures written as DER (r, s), as old
    ldns signers wrote them and Unbound still reads them. DSA is retired and reached only
    through a validator profile that accepts it; the arithmetic is FIPS 186's verify."""
    material = bytes(key.key)
    if not material:
        return False
    t = material[0]
    size = 64 + t * 8
    q = int.from_bytes(material[1:21], "big")
    p = int.from_bytes(material[21 : 21 + size], "big")
    g = int.from_bytes(material[21 + size : 21 + 2 * size], "big")
    y = int.from_bytes(material[21 + 2 * size : 21 + 3 * size], "big")
    if t > 8 or len(material) != 21 + 3 * size or not (q and p and g and y):
        return False
    signature = bytes(rrsig.signature)
    try:
        if signature[:1] == b"\x30":
            r, s = decode_dss_signature(signature)
        elif len(signature) == 41:
            r = int.from_bytes(signature[1:21], "big")
            s = int.from_bytes(signature[21:], "big")
        else:
            return False
        data = dns.dnssec._make_rrsig_signature_data(rrset, rrsig)  # the RFC 4034 §3.1.8.1 input
    except (ValueError, dns.exception.DNSException):
        return False
    if not (0 < r < q and 0 < s < q):
        return False
    digest = int.from_bytes(hashlib.sha1(data).digest(), "big")
    w = pow(s, -1, q)
    v = (pow(g, digest * w % q, p) * pow(y, r * w % q, p)) % p % q
    return v == r


@dataclass(frozen=True)
class RRsetSignatures:
    """Every signature over one RRset, classified."""

    rrset: dns.rrset.RRset
    checks: tuple[SignatureCheck, ...]

    @property
    def valid(self) -> tuple[SignatureCheck, ...]:
        return tuple(c for c in self.checks if c.is_valid)

    @property
    def is_valid(self) -> bool:
        return any(c.is_valid for c in self.checks)

    @property
    def most_telling_failure(self) -> SignatureCheck | None:
        """The failing check to report when none is valid (``FAILURE_PRIORITY``)."""
        return most_telling(self.checks)


def most_telling(checks: Sequence[SignatureCheck]) -> SignatureCheck | None:
    """The failing check that best explains the failure, by ``FAILURE_PRIORITY``; among
    expired signatures the latest expiration, among premature ones the earliest inception
    (the signature closest to being valid)."""
    failing = [c for c in checks if not c.is_valid]
    if not failing:
        return None

    def rank(check: SignatureCheck) -> tuple[int, float]:
        tiebreak = 0.0
        if check.status is SignatureStatus.EXPIRED:
            tiebreak = -check.expiration
        elif check.status is SignatureStatus.NOT_YET_VALID:
            tiebreak = check.inception
        return FAILURE_PRIORITY.index(check.status), tiebreak

    return min(failing, key=rank)


def summarize_rrset_signatures(
    rrset: dns.rrset.RRset,
    rrsigs: dns.rrset.RRset | None,
    zone: dns.name.Name,
    dnskeys: Sequence[DNSKEY],
    now: float,
    accepted: frozenset[int] = frozenset(),
) -> RRsetSignatures:
    """Classify every RRSIG in ``rrsigs`` that covers ``rrset``'s type."""
    covering = [
        s for s in (rrsigs or ()) if isinstance(s, RRSIG) and s.type_covered == rrset.rdtype
    ]
    return RRsetSignatures(
        rrset, tuple(classify_signature(rrset, s, zone, dnskeys, now, accepted) for s in covering)
    )


def check_rrset_signatures(
    rrset: dns.rrset.RRset,
    rrsigs: dns.rrset.RRset | None,
    zone: dns.name.Name,
    dnskeys: Sequence[DNSKEY],
    options: AnalysisOptions,
    *,
    servers: tuple[str, ...] = (),
    signed_zone: bool = True,
    malformed_rrsigs: Sequence[MalformedRecord] = (),
) -> list[Finding]:
    """Findings on the signatures over one RRset of ``zone``.

    ``dnskeys`` are the zone's published keys; ``malformed_rrsigs`` the RRSIG records over
    the RRset that could not be read (no signature, but not silence either). With no
    signature at all, a signed zone gets RRSIG_MISSING (RRSIG_MALFORMED when the only
    ones cannot be read). With a valid signature, only warnings and notices (expiring soon,
    TTLs, an algorithm that signs nothing). With none valid, exactly one error: the most
    telling failure (``FAILURE_PRIORITY``).
    """
    summary = summarize_rrset_signatures(
        rrset, rrsigs, zone, dnskeys, options.now, options.accepted_algorithms
    )
    subject = rrset_label(rrset)
    zone_text = zone.to_text()
    if not summary.checks:
        if malformed_rrsigs:
            return [
                make_finding(
                    "RRSIG_MALFORMED",
                    zone=zone_text,
                    subject=subject,
                    servers=servers,
                    records=(*rrset_records(rrset), *(m.to_text() for m in malformed_rrsigs)),
                    rrset=subject,
                    error=malformed_rrsigs[0].error,
                )
            ]
        if not signed_zone:
            return []
        return [
            make_finding(
                "RRSIG_MISSING",
                zone=zone_text,
                subject=subject,
                servers=servers,
                records=rrset_records(rrset),
                rrset=subject,
            )
        ]
    rrsig_ttl = rrsigs.ttl if rrsigs is not None else rrset.ttl
    findings = unused_algorithm_findings(summary, dnskeys, zone, servers)
    if summary.is_valid:
        findings += healthy_signature_findings(
            rrset, summary.valid, zone, options, servers=servers, rrsig_ttl=rrsig_ttl
        )
        return findings
    worst = summary.most_telling_failure
    assert worst is not None  # checks exist and none is valid
    findings.insert(
        0, signature_failure_finding(rrset, worst, zone, servers=servers, rrsig_ttl=rrsig_ttl)
    )
    return findings


def signature_failure_finding(
    rrset: dns.rrset.RRset,
    check: SignatureCheck,
    zone: dns.name.Name,
    *,
    servers: tuple[str, ...] = (),
    rrsig_ttl: int | None = None,
) -> Finding:
    """The one error finding for a failing signature check over ``rrset``."""
    subject = rrset_label(rrset)
    rrsig = check.rrsig
    params: dict[str, Param] = {
        "rrset": subject,
        "key_tag": check.key_tag,
        "algorithm": check.algorithm,
        "status": str(check.status),
        "detail": check.detail,
    }
    status = check.status
    if status is SignatureStatus.EXPIRED:
        code = "RRSIG_EXPIRED"
        params |= {
            "delta": human_delta(check.seconds_to_expiry),
            "expiration": iso_utc(check.expiration),
        }
    elif status is SignatureStatus.NOT_YET_VALID:
        code = "RRSIG_NOT_YET_VALID"
        params |= {
            "delta": human_delta(check.seconds_to_inception),
            "inception": iso_utc(check.inception),
        }
    elif status is SignatureStatus.WINDOW_INVERTED:
        code = "RRSIG_WINDOW_INVERTED"
        params |= {"inception": iso_utc(check.inception), "expiration": iso_utc(check.expiration)}
    elif status is SignatureStatus.NO_MATCHING_KEY:
        code = "RRSIG_NO_MATCHING_KEY"
    elif status is SignatureStatus.KEY_REVOKED:
        code = "RRSIG_KEY_REVOKED"
    elif status is SignatureStatus.SIGNER_MISMATCH:
        code = "RRSIG_SIGNER_MISMATCH"
        params["signer"] = rrsig.signer.to_text()
    elif status is SignatureStatus.LABELS_INVALID:
        code = "RRSIG_LABELS_INVALID"
        params["labels"] = int(rrsig.labels)
    elif status is SignatureStatus.DNAME_FROM_WILDCARD:
        code = "RRSIG_DNAME_FROM_WILDCARD"
        params["wildcard"] = str(check.expanded_from)
    elif status is SignatureStatus.ALGORITHM_UNSUPPORTED:
        code = "RRSIG_ALGORITHM_UNSUPPORTED"
        params["algorithm_name"] = algorithm_name(check.algorithm)
    else:  # BAD_SIGNATURE, TYPE_MISMATCH
        code = "RRSIG_BAD_SIGNATURE"
    return make_finding(
        code,
        zone=zone.to_text(),
        subject=subject,
        servers=servers,
        records=(rrsig_record(rrset.name, rrsig, rrset.ttl if rrsig_ttl is None else rrsig_ttl),),
        **params,
    )


def healthy_signature_findings(
    rrset: dns.rrset.RRset,
    valid: Sequence[SignatureCheck],
    zone: dns.name.Name,
    options: AnalysisOptions,
    *,
    servers: tuple[str, ...] = (),
    rrsig_ttl: int | None = None,
) -> list[Finding]:
    """Warnings and notices about an RRset that validates through ``valid`` (non-empty):
    every such signature expiring soon, and TTLs beyond what the signature covers."""
    if not valid:
        return []
    subject = rrset_label(rrset)
    zone_text = zone.to_text()
    ttl_of_sig = rrset.ttl if rrsig_ttl is None else rrsig_ttl
    findings: list[Finding] = []
    # The signature that keeps the RRset valid longest decides.
    longest = max(valid, key=lambda c: c.expiration)
    remaining = longest.seconds_to_expiry
    if remaining < options.expire_warning:
        findings.append(
            make_finding(
                "RRSIG_EXPIRES_SOON",
                zone=zone_text,
                subject=subject,
                servers=servers,
                records=(rrsig_record(rrset.name, longest.rrsig, ttl_of_sig),),
                rrset=subject,
                key_tag=longest.key_tag,
                delta=human_delta(remaining),
                expiration=iso_utc(longest.expiration),
                seconds=remaining,
            )
        )
    exceeded = next((c for c in valid if rrset.ttl > c.rrsig.original_ttl), None)
    if exceeded is not None:
        findings.append(
            make_finding(
                "RRSIG_TTL_EXCEEDS_ORIGINAL",
                zone=zone_text,
                subject=subject,
                servers=servers,
                records=(rrsig_record(rrset.name, exceeded.rrsig, ttl_of_sig),),
                rrset=subject,
                ttl=int(rrset.ttl),
                original_ttl=int(exceeded.rrsig.original_ttl),
                key_tag=exceeded.key_tag,
            )
        )
    if rrset.ttl > remaining:
        findings.append(
            make_finding(
                "RRSIG_TTL_OUTLIVES_SIGNATURE",
                zone=zone_text,
                subject=subject,
                servers=servers,
                records=(rrsig_record(rrset.name, longest.rrsig, ttl_of_sig),),
                rrset=subject,
                ttl=int(rrset.ttl),
                delta=human_duration(remaining),
                key_tag=longest.key_tag,
                expiration=iso_utc(longest.expiration),
            )
        )
    return findings


def unused_algorithm_findings(
    summary: RRsetSignatures,
    dnskeys: Sequence[DNSKEY],
    zone: dns.name.Name,
    servers: tuple[str, ...],
) -> list[Finding]:
    # RFC 4035 §2.2: each algorithm of the apex DNSKEY RRset signs every RRset. A signature
    # of that algorithm counts whatever its status: a broken one is reported on its own.
    published = sorted({int(k.algorithm) for k in dnskeys if k.flags & Flag.ZONE})
    signing = {c.algorithm for c in summary.checks}
    subject = rrset_label(summary.rrset)
    return [
        make_finding(
            "DNSKEY_ALGORITHM_SIGNS_NOTHING",
            zone=zone.to_text(),
            subject=subject,
            servers=servers,
            algorithm=algorithm,
            algorithm_name=algorithm_name(algorithm),
            rrset=subject,
        )
        for algorithm in published
        if algorithm not in signing
    ]


# --- formatting ---------------------------------------------------------------------------


def rrset_label(rrset: dns.rrset.RRset) -> str:
    """``www.example.com./A``: how findings name an RRset."""
    return f"{rrset.name}/{dns.rdatatype.to_text(rrset.rdtype)}"


def rrset_records(rrset: dns.rrset.RRset) -> tuple[str, ...]:
    """The RRset in zone-file form, one line per record."""
    return tuple(rrset.to_text().splitlines())


def rrsig_record(owner: dns.name.Name, rrsig: RRSIG, ttl: int) -> str:
    """One RRSIG in zone-file form."""
    return f"{owner} {ttl} {dns.rdataclass.to_text(rrsig.rdclass)} RRSIG {rrsig.to_text()}"
