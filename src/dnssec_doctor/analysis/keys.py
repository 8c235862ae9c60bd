"""Keys: the DS → DNSKEY link of one zone, and the trust anchor → DNSKEY link at the top.

A validator trusts a zone's DNSKEY RRset when a DS record at the parent (or a configured
trust anchor) matches a published key and that key's signature over the DNSKEY RRset is
valid (RFC 4035 §5.2). ``check_zone_link`` walks that link and says which step breaks:

- no DS and no DNSKEY: an unsigned zone, insecure by design;
- no DS but keys: signed, but the chain stops at the parent (insecure);
- only DS of algorithms or digests validators lack: insecure (EDE 1 or 2);
- DS but no DNSKEY: signing turned off with the DS left behind, or keys not served;
- no DS matches a key: wrong digest, a retired key, another algorithm, a DS that cannot be
  read (its RDATA does not fit the DS format: it matches no key);
- a matched key that does not validly sign the DNSKEY RRset.

It also grades the keys (deprecated algorithm, short RSA, revoked) and the DS digests, and
names the live KSKs from which the recovery plan computes the DS to publish
(``ds_to_publish``). ``check_cds`` compares CDS/CDNSKEY with the DS set.

Pure: time comes from ``AnalysisOptions.now``; no I/O.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import dns.dnssec
import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.dnssectypes import Algorithm, DSDigest
from dns.rdtypes.ANY.CDNSKEY import CDNSKEY
from dns.rdtypes.ANY.CDS import CDS
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.DS import DS
from dns.rdtypes.ANY.RRSIG import RRSIG
from dns.rdtypes.dnskeybase import Flag

from dnssec_doctor.analysis.codes import lookup, make_finding
from dnssec_doctor.analysis.signatures import EMITS as SIGNATURE_CODES
from dnssec_doctor.analysis.signatures import (
    RRsetSignatures,
    SignatureCheck,
    SignatureStatus,
    algorithm_name,
    classify_signature,
    healthy_signature_findings,
    is_algorithm_supported,
    key_tag,
    most_telling,
    rrset_label,
    signature_failure_finding,
    unused_algorithm_findings,
)
from dnssec_doctor.model.finding import Finding, Severity
from dnssec_doctor.model.options import AnalysisOptions

# Digest types validators implement (RFC 8624 §3.3): SHA-1, SHA-256, SHA-384.
SUPPORTED_DIGESTS: frozenset[int] = frozenset({DSDigest.SHA1, DSDigest.SHA256, DSDigest.SHA384})

# Algorithms that must no longer sign (RFC 8624 §3.1; validators still accept them).
DEPRECATED_ALGORITHMS: frozenset[int] = frozenset({Algorithm.RSASHA1, Algorithm.RSASHA1NSEC3SHA1})
_RSA_ALGORITHMS = frozenset(
    {
        Algorithm.RSAMD5,
        Algorithm.RSASHA1,
        Algorithm.RSASHA1NSEC3SHA1,
        Algorithm.RSASHA256,
        Algorithm.RSASHA512,
    }
)


class DsStatus(enum.StrEnum):
    MATCH = "match"
    DIGEST_MISMATCH = "digest-mismatch"  # a key with that tag and algorithm, another digest
    NO_MATCHING_KEY = "no-matching-key"  # no zone key with that tag and algorithm
    NOT_ZONE_KEY = "not-zone-key"  # the digest matches a key without the Zone Key flag
    ALGORITHM_MISMATCH = "algorithm-mismatch"  # the zone has no key of the DS algorithm
    DIGEST_UNSUPPORTED = "digest-unsupported"  # digest type not 1, 2 or 4
    ALGORITHM_UNSUPPORTED = "algorithm-unsupported"  # validators lack the DS algorithm

    @property
    def is_supported(self) -> bool:
        """Whether validators use such a DS at all (RFC 4035 §5.2 ignores the others)."""
        return self not in (DsStatus.DIGEST_UNSUPPORTED, DsStatus.ALGORITHM_UNSUPPORTED)


@dataclass(frozen=True)
class DsCheck:
    """One DS (or trust anchor) against the zone's DNSKEY RRset."""

    ds: DS
    status: DsStatus
    key: DNSKEY | None  # the matching key, or for DIGEST_MISMATCH the key with that tag
    detail: str
    # Whatever validators make of the DS: the keys whose digest it holds, the keys with
    # its key tag and algorithm, and those with its key tag alone (what the report's key
    # table and the SVG draw).
    digest_keys: tuple[DNSKEY, ...] = ()
    named_keys: tuple[DNSKEY, ...] = ()
    tag_keys: tuple[DNSKEY, ...] = ()

    @property
    def label(self) -> str:
        """``DS 12345/13/2``."""
        return f"DS {self.ds.key_tag}/{self.ds.algorithm}/{self.ds.digest_type}"


class LinkState(enum.StrEnum):
    SECURE = "secure"  # the DNSKEY RRset validates from the DS set (or trust anchor)
    INSECURE = "insecure"  # no usable DS: validators treat the zone as unsigned
    BOGUS = "bogus"  # a usable DS exists but the DNSKEY RRset does not validate from it


@dataclass(frozen=True)
class ZoneLink:
    """The verdict on one zone's DS → DNSKEY link."""

    zone: dns.name.Name
    state: LinkState
    findings: tuple[Finding, ...]
    # The zone's DNSKEYs when the DNSKEY RRset validates from the DS set; else empty. Feed
    # these to check_rrset_signatures for the rest of the zone.
    trusted_keys: tuple[DNSKEY, ...] = ()
    ds_checks: tuple[DsCheck, ...] = ()
    ksk_signatures: tuple[SignatureCheck, ...] = ()  # every RRSIG over the DNSKEY RRset
    # Zone keys (not revoked) that sign the DNSKEY RRset validly, then other SEP keys.
    live_ksks: tuple[DNSKEY, ...] = ()
    insecure_reason: str | None = None  # why the zone is insecure (state INSECURE only)
    # The EDE a validator attaches: 1 or 2 for an insecure zone signed with what validators
    # lack; for a bogus zone, that of the error finding that breaks the link.
    ede: int | None = None

    @property
    def is_secure(self) -> bool:
        return self.state is LinkState.SECURE


def match_ds(
    ds: DS,
    zone: dns.name.Name,
    dnskeys: Sequence[DNSKEY],
    accepted: frozenset[int] = frozenset(),
) -> DsCheck:
    """Match one DS against the zone's keys (``accepted``: retired algorithms the
    validator profile still validates): the one DS↔DNSKEY matcher (the diagnosis, the
    report's key table, the SVG and ``change`` all read its result)."""
    tagged = tuple(k for k in dnskeys if key_tag(k) == ds.key_tag)
    named = tuple(k for k in tagged if k.algorithm == ds.algorithm)
    digests = tuple(k for k in dnskeys if ds_digest(zone, k, ds.digest_type) == ds.digest)

    def check(status: DsStatus, key: DNSKEY | None, detail: str) -> DsCheck:
        return DsCheck(
            ds, status, key, detail, digest_keys=digests, named_keys=named, tag_keys=tagged
        )

    if not is_algorithm_supported(ds.algorithm, accepted):
        return check(
            DsStatus.ALGORITHM_UNSUPPORTED,
            None,
            f"algorithm {ds.algorithm} ({algorithm_name(ds.algorithm)}) is not implemented "
            "by validators",
        )
    if ds.digest_type not in SUPPORTED_DIGESTS:
        return check(
            DsStatus.DIGEST_UNSUPPORTED,
            None,
            f"digest type {ds.digest_type} ({DSDigest.to_text(ds.digest_type)}) is not "
            "implemented by validators",
        )
    for key in named:
        if key not in digests:
            continue
        if not key.flags & Flag.ZONE or key.protocol != 3:
            # RFC 4034 §5.2: the key a DS names must be a zone key.
            return check(
                DsStatus.NOT_ZONE_KEY,
                key,
                f"DNSKEY {ds.key_tag} matches the digest but is not a zone key "
                f"(flags {key.flags}, protocol {key.protocol})",
            )
        return check(DsStatus.MATCH, key, f"matches DNSKEY {ds.key_tag}")
    if named:
        return check(
            DsStatus.DIGEST_MISMATCH,
            named[0],
            f"DNSKEY {ds.key_tag}/{ds.algorithm} is published but its digest differs",
        )
    algorithms = {int(k.algorithm) for k in dnskeys}
    if algorithms and ds.algorithm not in algorithms:
        return check(
            DsStatus.ALGORITHM_MISMATCH,
            None,
            f"the zone has no key of algorithm {ds.algorithm}; its keys are algorithm "
            f"{_join(sorted(algorithms))}",
        )
    return check(
        DsStatus.NO_MATCHING_KEY, None, f"no DNSKEY {ds.key_tag}/{ds.algorithm} is published"
    )


# A pure function of its arguments, asked for the same keys by every name under a zone (a
# scan: the root's and the TLD's keys for each name): remembered, by the key's bytes.
@functools.lru_cache(maxsize=4096)
def ds_digest(zone: dns.name.Name, key: DNSKEY | CDNSKEY, digest_type: int) -> bytes | None:
    """The digest of ``key`` under ``digest_type``, or None if it cannot be computed."""
    try:
        ds = dns.dnssec.make_ds(
            zone, key, DSDigest(digest_type), policy=dns.dnssec.allow_all_policy
        )
    except (dns.exception.DNSException, ValueError):
        return None
    return bytes(ds.digest)


def check_zone_link(
    zone: dns.name.Name,
    ds_rrset: dns.rrset.RRset | None,
    dnskey_rrset: dns.rrset.RRset | None,
    dnskey_rrsigs: dns.rrset.RRset | None,
    options: AnalysisOptions,
    *,
    zone_has_signatures: bool,
    servers: tuple[str, ...] = (),
) -> ZoneLink:
    """The DS → DNSKEY link of ``zone``.

    ``ds_rrset`` is the DS RRset at the parent (None: the parent has none; proving that
    is the denial checks' business), ``dnskey_rrset`` and ``dnskey_rrsigs`` the zone's apex
    DNSKEY RRset and its signatures, ``zone_has_signatures`` whether any RRSIG was seen in
    the zone's answers. The link covers the DNSKEY RRset's signatures completely: do not
    pass that RRset to ``check_rrset_signatures`` as well.
    """
    ds_list = [rd for rd in (ds_rrset or ()) if isinstance(rd, DS)]
    ds_ttl = ds_rrset.ttl if ds_rrset is not None else 0
    ds_checks = tuple(
        match_ds(ds, zone, _keys(dnskey_rrset), options.accepted_algorithms) for ds in ds_list
    )
    # Records of the RRset that could not be read as DS (``analysis.wire``): each matches no
    # key. One whose algorithm and digest type validators implement breaks the link (see
    # ``_link``); RFC 4035 §5.2 has validators ignore the others, as they ignore a readable
    # DS of such types.
    ds_findings: list[Finding] = [
        make_finding(
            "DS_MALFORMED",
            zone=zone.to_text(),
            subject=f"{zone}/DS",
            servers=servers,
            records=(f"{zone} {ds_ttl} IN DS {rd.to_text()}",),
            error=describe_malformed_ds(rd.to_digestable()),
        )
        for rd in (ds_rrset or ())
        if not isinstance(rd, DS) and _claims_supported_ds(rd.to_digestable())
    ]
    for check in ds_checks:
        if check.ds.digest_type == DSDigest.SHA1 and check.status.is_supported:
            ds_findings.append(_ds_finding("DS_DIGEST_DEPRECATED", zone, check, ds_ttl, servers))
    usable_digests = {int(c.ds.digest_type) for c in ds_checks if c.status.is_supported}
    if usable_digests == {DSDigest.SHA1}:
        ds_findings.append(
            make_finding(
                "DS_SHA1_ONLY",
                zone=zone.to_text(),
                subject=f"{zone}/DS",
                servers=servers,
                records=tuple(sorted(_ds_record(zone, c.ds, ds_ttl) for c in ds_checks)),
                ds_list=", ".join(sorted({c.label for c in ds_checks})),
            )
        )
    return _link(
        zone,
        ds_checks,
        dnskey_rrset,
        dnskey_rrsigs,
        options,
        extra=ds_findings,
        zone_has_signatures=zone_has_signatures,
        servers=servers,
        ds_ttl=ds_ttl,
        anchor=False,
    )


def check_trust_anchor(
    anchors: Sequence[DS | DNSKEY],
    dnskey_rrset: dns.rrset.RRset | None,
    dnskey_rrsigs: dns.rrset.RRset | None,
    options: AnalysisOptions,
    servers: tuple[str, ...] = (),
    *,
    zone: dns.name.Name = dns.name.root,
) -> ZoneLink:
    """The trust anchor → DNSKEY link of ``zone`` (the root unless told otherwise).

    DS anchors are matched like a DS set; a DNSKEY anchor matches a published zone key
    with the same algorithm and public key that is not revoked.
    """
    keys = _keys(dnskey_rrset)
    checks = tuple(
        match_ds(anchor, zone, keys, options.accepted_algorithms)
        if isinstance(anchor, DS)
        else _match_key_anchor(anchor, zone, keys, options.accepted_algorithms)
        for anchor in anchors
    )
    return _link(
        zone,
        checks,
        dnskey_rrset,
        dnskey_rrsigs,
        options,
        extra=[],
        zone_has_signatures=True,
        servers=servers,
        ds_ttl=0,
        anchor=True,
    )


def _match_key_anchor(
    anchor: DNSKEY, zone: dns.name.Name, dnskeys: Sequence[DNSKEY], accepted: frozenset[int]
) -> DsCheck:
    # Reported as the SHA-256 DS of the anchor, so that DS and key anchors read alike.
    ds = dns.dnssec.make_ds(zone, anchor, DSDigest.SHA256, policy=dns.dnssec.allow_all_policy)
    if not is_algorithm_supported(anchor.algorithm, accepted):
        return DsCheck(
            ds,
            DsStatus.ALGORITHM_UNSUPPORTED,
            None,
            f"trust anchor algorithm {anchor.algorithm} is not implemented by validators",
        )
    same = [k for k in dnskeys if k.algorithm == anchor.algorithm and k.key == anchor.key]
    usable = [k for k in same if k.flags & Flag.ZONE and not k.flags & Flag.REVOKE]
    if usable:
        return DsCheck(ds, DsStatus.MATCH, usable[0], "the trust anchor key is published")
    if same:
        return DsCheck(
            ds,
            DsStatus.NO_MATCHING_KEY,
            same[0],
            f"the trust anchor key is published with flags {same[0].flags} (revoked or not "
            "a zone key)",
        )
    algorithms = {int(k.algorithm) for k in dnskeys}
    if algorithms and anchor.algorithm not in algorithms:
        return DsCheck(
            ds,
            DsStatus.ALGORITHM_MISMATCH,
            None,
            f"no published key has the trust anchor's algorithm {anchor.algorithm}",
        )
    return DsCheck(ds, DsStatus.NO_MATCHING_KEY, None, "the trust anchor key is not published")


def _link(
    zone: dns.name.Name,
    ds_checks: tuple[DsCheck, ...],
    dnskey_rrset: dns.rrset.RRset | None,
    dnskey_rrsigs: dns.rrset.RRset | None,
    options: AnalysisOptions,
    *,
    extra: list[Finding],
    zone_has_signatures: bool,
    servers: tuple[str, ...],
    ds_ttl: int,
    anchor: bool,
) -> ZoneLink:
    zone_text = zone.to_text()
    keys = _keys(dnskey_rrset)
    ksk_signatures: tuple[SignatureCheck, ...] = ()
    if dnskey_rrset is not None:
        ksk_signatures = tuple(
            classify_signature(
                dnskey_rrset, rrsig, zone, keys, options.now, options.accepted_algorithms
            )
            for rrsig in (dnskey_rrsigs or ())
            if isinstance(rrsig, RRSIG) and rrsig.type_covered == dns.rdatatype.DNSKEY
        )
    live = _live_ksks(keys, ksk_signatures)
    # A malformed DS is a cause only when nothing else leads to a key (below).
    malformed = [f for f in extra if f.code == "DS_MALFORMED"]
    findings = _key_findings(zone, keys, options, servers)
    findings += [f for f in extra if f.code != "DS_MALFORMED"]

    def done(
        state: LinkState,
        *more: Finding,
        reason: str | None = None,
        ede: int | None = None,
        trusted: tuple[DNSKEY, ...] = (),
    ) -> ZoneLink:
        # The finding that decides the state comes first.
        every = (*more, *findings)
        if ede is None and state is LinkState.BOGUS:
            ede = next((f.ede for f in every if f.severity is Severity.ERROR), None)
        return ZoneLink(
            zone=zone,
            state=state,
            findings=every,
            trusted_keys=trusted,
            ds_checks=ds_checks,
            ksk_signatures=ksk_signatures,
            live_ksks=live,
            insecure_reason=reason,
            ede=ede,
        )

    if malformed:
        # Measured in the lab: Unbound and Knot Resolver find that such a DS matches no key
        # (bogus unless another DS matches); BIND 9.18 refuses the parent's whole DS answer
        # and fails the zone even when another DS matches. Either way part of the
        # validating world fails the zone.
        return done(
            LinkState.BOGUS,
            *(
                _ds_failure_finding(zone, c, keys, ds_ttl, servers)
                for c in ds_checks
                if c.status.is_supported and c.status is not DsStatus.MATCH
            ),
            *malformed,
        )

    if not ds_checks:
        if anchor:
            return done(
                LinkState.INSECURE,
                reason=f"no trust anchor is configured for {zone_text}",
            )
        if not keys:
            return done(
                LinkState.INSECURE,
                make_finding("ZONE_UNSIGNED", zone=zone_text, subject=zone_text, servers=servers),
                reason="the parent has no DS and the zone no DNSKEY",
            )
        return done(
            LinkState.INSECURE,
            make_finding(
                "DS_MISSING_FOR_SIGNED_ZONE",
                zone=zone_text,
                subject=zone_text,
                servers=servers,
                records=_records(dnskey_rrset),
            ),
            reason="the zone is signed but the parent has no DS",
        )

    usable = [c for c in ds_checks if c.status.is_supported]
    unsupported_digests = [
        _ds_finding("DS_DIGEST_UNSUPPORTED", zone, c, ds_ttl, servers)
        for c in ds_checks
        if c.status is DsStatus.DIGEST_UNSUPPORTED
    ]
    if not usable:
        # RFC 4035 §5.2: a DS set with no supported algorithm/digest makes the zone insecure.
        unsupported_algorithms = sorted(
            {int(c.ds.algorithm) for c in ds_checks if c.status is DsStatus.ALGORITHM_UNSUPPORTED}
        )
        algorithm_findings = [
            make_finding(
                "DNSKEY_ALGORITHM_UNSUPPORTED",
                zone=zone_text,
                subject=zone_text,
                servers=servers,
                records=tuple(_ds_record(zone, c.ds, ds_ttl) for c in ds_checks),
                algorithm=algorithm,
                algorithm_name=algorithm_name(algorithm),
            )
            for algorithm in unsupported_algorithms
        ]
        what = "algorithms" if unsupported_algorithms else "digest types"
        return done(
            LinkState.INSECURE,
            *algorithm_findings,
            *unsupported_digests,
            reason=f"every DS uses {what} validators do not implement",
            ede=1 if unsupported_algorithms else 2,
        )

    if not keys:
        ds_records = tuple(_ds_record(zone, c.ds, ds_ttl) for c in usable)
        if anchor:
            missing = _anchor_mismatch(zone, usable, servers)
        else:
            missing = make_finding(
                "DNSKEY_MISSING" if zone_has_signatures else "DS_FOR_UNSIGNED_ZONE",
                zone=zone_text,
                subject=zone_text,
                servers=servers,
                records=ds_records,
            )
        return done(LinkState.BOGUS, missing, *unsupported_digests)

    matched = [
        c
        for c in usable
        if c.status is DsStatus.MATCH and c.key is not None and not c.key.flags & Flag.REVOKE
    ]
    if not matched:
        if anchor:
            return done(LinkState.BOGUS, _anchor_mismatch(zone, usable, servers))
        return done(
            LinkState.BOGUS,
            *(_ds_failure_finding(zone, c, keys, ds_ttl, servers) for c in usable),
            *unsupported_digests,
        )
    stale: list[Finding] = []
    if not anchor:
        # Old anchors beside a matching one are normal during a root KSK rollover.
        stale = [
            _ds_finding("DS_STALE", zone, c, ds_ttl, servers)
            for c in usable
            if c.status is not DsStatus.MATCH
        ]
    assert dnskey_rrset is not None  # keys is non-empty

    ds_keys = [c.key for c in matched if c.key is not None]
    valid = [s for s in ksk_signatures if s.is_valid and s.key in ds_keys]
    rrsig_ttl = dnskey_rrsigs.ttl if dnskey_rrsigs is not None else dnskey_rrset.ttl
    if valid:
        summary = RRsetSignatures(dnskey_rrset, ksk_signatures)
        healthy = healthy_signature_findings(
            dnskey_rrset, valid, zone, options, servers=servers, rrsig_ttl=rrsig_ttl
        )
        unused = unused_algorithm_findings(summary, keys, zone, servers)
        return done(
            LinkState.SECURE,
            *stale,
            *unsupported_digests,
            *healthy,
            *unused,
            trusted=tuple(keys),
        )

    # A matched key exists but does not validly sign the DNSKEY RRset: say why its own
    # signature fails if it made one, else that it signs nothing.
    ds_key_ids = {(int(k.algorithm), key_tag(k)) for k in ds_keys}
    by_ds_key = [
        s for s in ksk_signatures if s.key in ds_keys or (s.algorithm, s.key_tag) in ds_key_ids
    ]
    worst = most_telling(by_ds_key)
    if worst is not None and worst.status is not SignatureStatus.VALID:
        failure = signature_failure_finding(
            dnskey_rrset, worst, zone, servers=servers, rrsig_ttl=rrsig_ttl
        )
    else:
        signers = sorted({f"{s.key_tag}/{s.algorithm}" for s in ksk_signatures})
        failure = make_finding(
            "DNSKEY_NOT_SIGNED_BY_DS_KEY",
            zone=zone_text,
            subject=rrset_label(dnskey_rrset),
            servers=servers,
            records=_records(dnskey_rrset),
            ds_keys=", ".join(sorted(f"{key_tag(k)}/{k.algorithm}" for k in ds_keys)),
            signers=", ".join(signers) if signers else "none",
        )
    return done(LinkState.BOGUS, failure, *stale, *unsupported_digests)


def _anchor_mismatch(
    zone: dns.name.Name, checks: Sequence[DsCheck], servers: tuple[str, ...]
) -> Finding:
    return make_finding(
        "TRUST_ANCHOR_MISMATCH",
        zone=zone.to_text(),
        subject=zone.to_text(),
        servers=servers,
        records=tuple(_ds_record(zone, c.ds, 0) for c in checks),
        anchor=", ".join(f"{c.ds.key_tag}/{c.ds.algorithm}" for c in checks),
        details="; ".join(c.detail for c in checks),
    )


def _ds_failure_finding(
    zone: dns.name.Name,
    check: DsCheck,
    keys: Sequence[DNSKEY],
    ds_ttl: int,
    servers: tuple[str, ...],
) -> Finding:
    if check.status is DsStatus.DIGEST_MISMATCH:
        return _ds_finding("DS_DIGEST_MISMATCH", zone, check, ds_ttl, servers)
    if check.status is DsStatus.NOT_ZONE_KEY:
        return _ds_finding("DS_KEY_NOT_ZONE_KEY", zone, check, ds_ttl, servers)
    if check.status is DsStatus.MATCH and check.key is not None and check.key.flags & Flag.REVOKE:
        return _ds_finding("DS_KEY_REVOKED", zone, check, ds_ttl, servers)
    if check.status is DsStatus.ALGORITHM_MISMATCH:
        return _ds_finding(
            "DS_ALGORITHM_MISMATCH",
            zone,
            check,
            ds_ttl,
            servers,
            zone_algorithms=_join(sorted({int(k.algorithm) for k in keys})),
        )
    return _ds_finding("DS_NO_MATCHING_KEY", zone, check, ds_ttl, servers)


def _ds_finding(
    code: str,
    zone: dns.name.Name,
    check: DsCheck,
    ds_ttl: int,
    servers: tuple[str, ...],
    **more: str,
) -> Finding:
    ds = check.ds
    return make_finding(
        code,
        zone=zone.to_text(),
        subject=check.label,
        servers=servers,
        records=(_ds_record(zone, ds, ds_ttl),),
        key_tag=int(ds.key_tag),
        algorithm=int(ds.algorithm),
        digest_type=int(ds.digest_type),
        status=str(check.status),
        detail=check.detail,
        **more,
    )


def _key_findings(
    zone: dns.name.Name,
    keys: Sequence[DNSKEY],
    options: AnalysisOptions,
    servers: tuple[str, ...],
) -> list[Finding]:
    """Grades of the published keys: deprecated algorithm, short RSA, revoked."""
    zone_text = zone.to_text()
    findings: list[Finding] = []
    for key in keys:
        tag = key_tag(key)
        subject = f"DNSKEY {tag}/{key.algorithm}"
        records = (_key_record(zone, key),)
        graded = []
        if key.algorithm in options.accepted_algorithms and not is_algorithm_supported(
            key.algorithm
        ):
            graded.append("ALGORITHM_ACCEPTED_BY_PROFILE")  # retired, validated by profile
        if key.algorithm in DEPRECATED_ALGORITHMS:
            graded.append("DNSKEY_ALGORITHM_DEPRECATED")
        findings += [
            make_finding(
                code,
                zone=zone_text,
                subject=subject,
                servers=servers,
                records=records,
                key_tag=tag,
                algorithm=int(key.algorithm),
                algorithm_name=algorithm_name(key.algorithm),
            )
            for code in graded
        ]
        bits = rsa_key_bits(key)
        if bits is not None and bits < options.min_rsa_bits:
            findings.append(
                make_finding(
                    "DNSKEY_KEY_TOO_SHORT",
                    zone=zone_text,
                    subject=subject,
                    servers=servers,
                    records=records,
                    key_tag=tag,
                    algorithm=int(key.algorithm),
                    bits=bits,
                )
            )
        if key.flags & Flag.REVOKE:
            findings.append(
                make_finding(
                    "DNSKEY_REVOKED",
                    zone=zone_text,
                    subject=subject,
                    servers=servers,
                    records=records,
                    key_tag=tag,
                    algorithm=int(key.algorithm),
                )
            )
    return findings


def drop_stale_ds_served_elsewhere(
    findings: Sequence[Finding],
    ds_rrset: dns.rrset.RRset | None,
    zone: dns.name.Name,
    served: Sequence[DNSKEY],
) -> list[Finding]:
    """``findings`` without the DS_STALE of a DS that matches no key of one server but a
    key another server serves: each provider of a multi-signer zone (RFC 8901) publishes
    its own KSK, and the DS RRset holds one for each."""

    def served_elsewhere(finding: Finding) -> bool:
        if finding.code != "DS_STALE" or ds_rrset is None:
            return False
        named = (finding.params.get("key_tag"), finding.params.get("algorithm"))
        return any(
            isinstance(ds, DS)
            and (ds.key_tag, int(ds.algorithm)) == named
            and match_ds(ds, zone, served).status is DsStatus.MATCH
            for ds in ds_rrset
        )

    return [f for f in findings if not served_elsewhere(f)]


def check_signing_keys_published(
    zone: dns.name.Name,
    signed_with: Mapping[str, set[tuple[int, int]]],
    own_keys: Mapping[str, Sequence[DNSKEY]],
    published: Mapping[str, Sequence[DNSKEY]],
) -> list[Finding]:
    """Multi-signer (RFC 8901): every key a server signs the zone's data with must be in
    every server's DNSKEY RRset, since a resolver may take the keys from one server and
    the data from another.

    ``signed_with`` holds, per server, the (key tag, algorithm) of its data signatures;
    ``own_keys`` the keys each server's own DNSKEY RRset vouches for (only servers whose
    chain validates); ``published`` every server's DNSKEY RRset as served.
    """
    findings = []
    for signer, tags in signed_with.items():
        for tag, algorithm in sorted(tags):
            used = [
                k
                for k in own_keys.get(signer, ())
                if int(k.algorithm) == algorithm and key_tag(k) == tag
            ]
            if not used:
                continue  # no key of its own signs it: the signature checks report that
            for server, keys in published.items():
                if server == signer or any(k in keys for k in used):
                    continue
                findings.append(
                    make_finding(
                        "MULTI_SIGNER_KEY_MISSING",
                        zone=zone.to_text(),
                        subject=f"{server} {tag}/{algorithm}",
                        servers=(server,),
                        records=tuple(_key_record(zone, k) for k in used),
                        server=server,
                        key_tag=tag,
                        algorithm=algorithm,
                        signer=signer,
                    )
                )
    return findings


def rsa_key_bits(key: DNSKEY) -> int | None:
    """The modulus size of an RSA DNSKEY (RFC 3110 §2), None for other algorithms or
    malformed key data."""
    if key.algorithm not in _RSA_ALGORITHMS:
        return None
    data = bytes(key.key)
    if not data:
        return None
    if data[0]:
        exponent_length, start = data[0], 1
    else:
        if len(data) < 3:
            return None
        exponent_length, start = int.from_bytes(data[1:3], "big"), 3
    modulus = data[start + exponent_length :]
    return int.from_bytes(modulus, "big").bit_length() if modulus else None


def _live_ksks(
    keys: Sequence[DNSKEY], ksk_signatures: Sequence[SignatureCheck]
) -> tuple[DNSKEY, ...]:
    live: list[DNSKEY] = []
    for check in ksk_signatures:
        key = check.key
        if check.is_valid and key is not None and key not in live and not key.flags & Flag.REVOKE:
            live.append(key)
    for key in keys:
        usable = key.flags & Flag.ZONE and not key.flags & Flag.REVOKE
        if usable and key.flags & Flag.SEP and key not in live:
            live.append(key)
    return tuple(live)


def ds_to_publish(zone: dns.name.Name, link: ZoneLink) -> list[DS]:
    """The SHA-256 DS records the parent should publish: one per live KSK that validly signs
    the DNSKEY RRset, or, when none does, one per SEP key."""
    signing = [
        c.key
        for c in link.ksk_signatures
        if c.is_valid and c.key is not None and not c.key.flags & Flag.REVOKE
    ]
    chosen: list[DNSKEY] = []
    for key in signing or [k for k in link.live_ksks if k.flags & Flag.SEP]:
        if key not in chosen:
            chosen.append(key)
    return [
        dns.dnssec.make_ds(zone, key, DSDigest.SHA256, policy=dns.dnssec.allow_all_policy)
        for key in chosen
    ]


# --- CDS / CDNSKEY ---------------------------------------------------------------------------


def check_cds(
    zone: dns.name.Name,
    ds_rrset: dns.rrset.RRset | None,
    cds_rrset: dns.rrset.RRset | None,
    cdnskey_rrset: dns.rrset.RRset | None,
) -> list[Finding]:
    """CDS_MISMATCH when the zone's CDS or CDNSKEY RRset asks for another DS set than the
    parent publishes (RFC 7344), including a delete request (RFC 8078 §4) while a DS
    remains."""
    ds_list = [rd for rd in (ds_rrset or ()) if isinstance(rd, DS)]
    published = {_ds_tuple(ds) for ds in ds_list}
    findings: list[Finding] = []
    zone_text = zone.to_text()

    if cds_rrset is not None and len(cds_rrset):
        cds_list = [rd for rd in cds_rrset if isinstance(rd, CDS)]
        delete = _is_cds_delete(cds_list)
        wanted = set() if delete else {_ds_tuple(c) for c in cds_list}
        if wanted != published:
            findings.append(_cds_finding(zone_text, "CDS", cds_rrset, delete))

    if cdnskey_rrset is not None and len(cdnskey_rrset):
        keys = [rd for rd in cdnskey_rrset if isinstance(rd, CDNSKEY)]
        delete = _is_cdnskey_delete(keys)
        if delete:
            differs = bool(ds_list)
        else:
            # Each CDNSKEY must have a DS, and each DS must come from a CDNSKEY.
            def has_ds(key: CDNSKEY) -> bool:
                return any(ds_digest(zone, key, ds.digest_type) == ds.digest for ds in ds_list)

            def has_key(ds: DS) -> bool:
                return any(ds_digest(zone, key, ds.digest_type) == ds.digest for key in keys)

            differs = not all(map(has_ds, keys)) or not all(map(has_key, ds_list))
        if differs:
            findings.append(_cds_finding(zone_text, "CDNSKEY", cdnskey_rrset, delete))
    return findings


def check_cds_request(
    zone: dns.name.Name,
    dnskeys: Sequence[DNSKEY],
    cds_rrset: dns.rrset.RRset | None,
    cdnskey_rrset: dns.rrset.RRset | None,
) -> list[Finding]:
    """Whether the zone's CDS and CDNSKEY make a request a parent can act on, whatever DS
    the parent has (RFC 7344 §4, §5; RFC 8078 §4): each CDS and CDNSKEY names a key of the
    DNSKEY RRset, both RRsets ask for the same keys, both are published, and a delete
    request (``CDS 0 0 0 00`` with ``CDNSKEY 0 3 0 AA==``) is complete and alone."""
    cds = [rd for rd in (cds_rrset or ()) if isinstance(rd, CDS)]
    cdnskeys = [rd for rd in (cdnskey_rrset or ()) if isinstance(rd, CDNSKEY)]
    if not cds and not cdnskeys:
        return []
    zone_text = zone.to_text()
    findings: list[Finding] = []

    def finding(code: str, rrtype: str, rrset: dns.rrset.RRset | None, **params: str) -> None:
        findings.append(
            make_finding(
                code,
                zone=zone_text,
                subject=f"{zone_text}/{rrtype}",
                servers=(),
                records=tuple(rrset.to_text().splitlines()) if rrset is not None else (),
                rrtype=rrtype,
                **params,
            )
        )

    cds_delete, cdnskey_delete = _is_cds_delete(cds), _is_cdnskey_delete(cdnskeys)
    if cds_delete or cdnskey_delete:
        if (cds_delete and len(cds) > 1) or (cdnskey_delete and len(cdnskeys) > 1):
            reason = "the delete record is not alone in its RRset"
        elif not (cds and cdnskeys):
            reason = "only one of CDS and CDNSKEY is published"
        elif cds_delete != cdnskey_delete:
            reason = "the other RRset asks for keys instead"
        else:
            return findings
        finding("CDS_DELETE_INCOMPLETE", "CDS" if cds else "CDNSKEY", cds_rrset, reason=reason)
        return findings
    digests = {(int(k.algorithm), key_tag(k), bytes(k.key)) for k in dnskeys}
    for record in cds:
        if not any(
            key_tag(key) == record.key_tag
            and key.algorithm == record.algorithm
            and ds_digest(zone, key, record.digest_type) == record.digest
            for key in dnskeys
        ):
            finding("CDS_MATCHES_NO_DNSKEY", "CDS", cds_rrset, record=record.to_text())
    for key in cdnskeys:
        if (int(key.algorithm), key_tag(key), bytes(key.key)) not in digests:
            finding("CDS_MATCHES_NO_DNSKEY", "CDNSKEY", cdnskey_rrset, record=key.to_text())
    if cds and cdnskeys:
        # RFC 7344 §4: both name the same keys (a CDS per digest type it uses)
        asked_by_cds = {(c.key_tag, int(c.algorithm)) for c in cds}
        asked_by_cdnskey = {(key_tag(k), int(k.algorithm)) for k in cdnskeys}
        unmatched = [
            c
            for c in cds
            if not any(ds_digest(zone, k, c.digest_type) == c.digest for k in cdnskeys)
        ]
        if asked_by_cds != asked_by_cdnskey or unmatched:
            finding("CDS_CDNSKEY_DISAGREE", "CDS", cds_rrset)
    else:
        finding(
            "CDS_CDNSKEY_UNPAIRED",
            "CDS" if cds else "CDNSKEY",
            cds_rrset if cds else cdnskey_rrset,
            missing="CDNSKEY" if cds else "CDS",
        )
    return findings


def _cds_finding(zone: str, rrtype: str, rrset: dns.rrset.RRset, delete: bool) -> Finding:
    return make_finding(
        "CDS_DELETE_REQUESTED" if delete else "CDS_MISMATCH",
        zone=zone,
        subject=f"{rrset.name}/{rrtype}",
        records=tuple(rrset.to_text().splitlines()),
        rrtype=rrtype,
    )


def _is_cds_delete(records: Sequence[CDS]) -> bool:
    # RFC 8078 §4: CDS 0 0 0 00 asks the parent to remove the DS RRset.
    return any(
        c.key_tag == 0 and c.algorithm == 0 and c.digest_type == 0 and c.digest in (b"", b"\x00")
        for c in records
    )


def _is_cdnskey_delete(records: Sequence[CDNSKEY]) -> bool:
    # RFC 8078 §4: CDNSKEY 0 3 0 AA== asks the parent to remove the DS RRset.
    return any(k.flags == 0 and k.protocol == 3 and k.algorithm == 0 for k in records)


_DIGEST_LENGTHS = {DSDigest.SHA1: 20, DSDigest.SHA256: 32, DSDigest.SHA384: 48}


def _claims_supported_ds(rdata: bytes) -> bool:
    """Whether DS RDATA that cannot be read names an algorithm and a digest type that
    validators implement (too short to name them: assume it does, it is still a DS)."""
    if len(rdata) < 4:
        return True
    return is_algorithm_supported(rdata[2]) and rdata[3] in SUPPORTED_DIGESTS


def describe_malformed_ds(rdata: bytes) -> str:
    """Why DS RDATA cannot be read, from its bytes alone."""
    if len(rdata) < 4:
        return f"{len(rdata)} bytes of RDATA; a DS needs at least 4 before its digest"
    digest_type = rdata[3]
    expected = _DIGEST_LENGTHS.get(DSDigest.make(digest_type))
    if expected is not None and len(rdata) - 4 != expected:
        return (
            f"a digest of {len(rdata) - 4} bytes for digest type {digest_type} "
            f"({DSDigest.to_text(digest_type)}), which has {expected}"
        )
    return f"{len(rdata)} bytes of RDATA that do not form a DS"


def _ds_tuple(ds: DS | CDS) -> tuple[int, int, int, bytes]:
    return (int(ds.key_tag), int(ds.algorithm), int(ds.digest_type), bytes(ds.digest))


# --- helpers ---------------------------------------------------------------------------------


def _keys(dnskey_rrset: dns.rrset.RRset | None) -> list[DNSKEY]:
    return [rd for rd in (dnskey_rrset or ()) if isinstance(rd, DNSKEY)]


def _records(rrset: dns.rrset.RRset | None) -> tuple[str, ...]:
    return tuple(rrset.to_text().splitlines()) if rrset is not None else ()


def _ds_record(zone: dns.name.Name, ds: DS, ttl: int) -> str:
    return f"{zone} {ttl} {dns.rdataclass.to_text(ds.rdclass)} DS {ds.to_text()}"


def _key_record(zone: dns.name.Name, key: DNSKEY) -> str:
    return f"{zone} IN DNSKEY {key.to_text()}"


def _join(numbers: Sequence[int]) -> str:
    return ", ".join(str(n) for n in numbers)


# The codes this module can emit (besides the signature codes over the DNSKEY RRset).
EMITS: tuple[str, ...] = (
    *(
        lookup(code).code
        for code in (
            "ZONE_UNSIGNED",
            "DS_MISSING_FOR_SIGNED_ZONE",
            "DS_FOR_UNSIGNED_ZONE",
            "DNSKEY_MISSING",
            "DS_DIGEST_UNSUPPORTED",
            "DNSKEY_ALGORITHM_UNSUPPORTED",
            "DS_NO_MATCHING_KEY",
            "DS_DIGEST_MISMATCH",
            "DS_ALGORITHM_MISMATCH",
            "DS_STALE",
            "DS_MALFORMED",
            "CDS_DELETE_INCOMPLETE",
            "CDS_MATCHES_NO_DNSKEY",
            "CDS_CDNSKEY_DISAGREE",
            "CDS_CDNSKEY_UNPAIRED",
            "DS_KEY_NOT_ZONE_KEY",
            "DS_KEY_REVOKED",
            "DS_SHA1_ONLY",
            "DS_DIGEST_DEPRECATED",
            "DNSKEY_NOT_SIGNED_BY_DS_KEY",
            "DNSKEY_ALGORITHM_DEPRECATED",
            "DNSKEY_KEY_TOO_SHORT",
            "DNSKEY_REVOKED",
            "MULTI_SIGNER_KEY_MISSING",
            "TRUST_ANCHOR_MISMATCH",
            "CDS_MISMATCH",
            "CDS_DELETE_REQUESTED",
            "ALGORITHM_ACCEPTED_BY_PROFILE",
        )
    ),
    *SIGNATURE_CODES,
)
