"""Judging a scanned zone: delegations, the denial chain, the keys and the DS, the forecast.

``verify.scan`` summarised every owner name and verified every signature it could judge
alone. What needs the whole zone is decided here, in one pass over the names in
canonical order:

- which names the zone serves: records outside the zone (never served, refused by some
  servers), names below a delegation (glue, occluded data) and names below a DNAME
  (occluded, RFC 6672 §2.4) are never signed and never in the denial chain; which RRsets
  must be signed (RFC 4035 §2.2);
- the NSEC chain (RFC 4034 §4, RFC 4035 §2.3) or the NSEC3 chain (RFC 5155 §7.1): every
  name present, ordered, closed, with the type bitmap the name's data calls for, opt-out
  spans (insecure delegations may be left out where an opt-out record covers them), the
  NSEC3PARAM against the chain, RFC 9276 parameters;
- the DNSKEY RRset and its link from the DS given (or the zone's CDS/CDNSKEY), with the
  DS the operator should send, by ``analysis.keys`` exactly as ``check`` does;
- the expiry forecast.

Signature findings are explained by ``analysis.signatures`` on the records of the
examples the scan kept, so they read exactly as ``check``'s. Pure: no I/O but the
``load_group`` callback, time from the options.
"""

from __future__ import annotations

import base64
import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.dnssectypes import DSDigest
from dns.rdtypes.ANY.CDNSKEY import CDNSKEY
from dns.rdtypes.ANY.CDS import CDS
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.DS import DS
from dns.rdtypes.dnskeybase import Flag

from dnssec_doctor.analysis.codes import lookup, make_finding
from dnssec_doctor.analysis.keys import (
    SUPPORTED_DIGESTS,
    ZoneLink,
    check_cds,
    check_cds_request,
    check_trust_anchor,
    check_zone_link,
    ds_to_publish,
)
from dnssec_doctor.analysis.signatures import (
    SignatureStatus,
    healthy_signature_findings,
    is_algorithm_supported,
    most_telling,
    rrset_label,
    rrset_records,
    signature_failure_finding,
    summarize_rrset_signatures,
    unused_algorithm_findings,
)
from dnssec_doctor.model.finding import Finding, Severity
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.time_text import human_duration, iso_utc
from dnssec_doctor.verify.crypto import nsec3_hash
from dnssec_doctor.verify.scan import (
    CNAME_AND_OTHER_DATA,
    HAS_ADDRESS,
    HAS_DNAME,
    HAS_DS,
    HAS_NS,
    HAS_NSEC,
    HAS_RRSIG,
    IS_APEX,
    SEVERAL_CNAMES,
    SEVERAL_DNAMES,
    NameSummary,
    Nsec3Summary,
    ScanResult,
)
from dnssec_doctor.zonefile.reader import (
    CDNSKEY as CDNSKEY_TYPE,
)
from dnssec_doctor.zonefile.reader import (
    CDS as CDS_TYPE,
)
from dnssec_doctor.zonefile.reader import (
    DNSKEY as DNSKEY_TYPE,
)
from dnssec_doctor.zonefile.reader import (
    NSEC3PARAM,
    RRSIG,
    SOA,
    Record,
    bitmap_types,
    name_text,
    sort_key,
)

_OPT_OUT = 0x01
_NSEC3_SHA1 = 1
# Validators treat more NSEC3 iterations than this as insecure (RFC 9276 §3.2; BIND,
# Unbound and Knot Resolver all stop at 150 or fewer). AnalysisOptions carries the value.

GroupLoader = Callable[[bytes, int], list[Record]]

# What servers refuse to load at one name (the scan's flags): RFC 2181 §10.1, RFC 6672 §2.4.
_NAME_RULES = (
    (CNAME_AND_OTHER_DATA, "CNAME_AND_OTHER_DATA"),
    (SEVERAL_CNAMES, "CNAME_MULTIPLE"),
    (SEVERAL_DNAMES, "DNAME_MULTIPLE"),
)


@dataclass(frozen=True)
class Forecast:
    """When the zone's signatures run out."""

    earliest_expiration: int | None
    earliest_rrset: str | None
    horizons: tuple[tuple[float, int], ...]  # (seconds from now, signatures expiring before)
    soa_expire: int
    before_soa_expire: int  # signatures that expire before now + SOA expire


@dataclass(frozen=True)
class Verification:
    """The verdict on one zone file."""

    zone: str
    source: str
    now: float
    findings: tuple[Finding, ...]  # the examples: at most max_examples per code
    counts: dict[str, int]  # code -> how many RRsets, names or records it applies to
    ds_to_publish: tuple[str, ...]
    ds_source: str  # where the DS judged came from: "--ds", "CDS", "CDNSKEY" or "none"
    forecast: Forecast
    records: int
    rrsets: int
    names: int
    signatures: int
    valid_signatures: int
    denial: str  # "NSEC", "NSEC3" or "none"
    mode: str = ""
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def severity(self) -> Severity | None:
        worst = [lookup(code).severity for code, count in self.counts.items() if count]
        return max(worst) if worst else None

    @property
    def status(self) -> str:
        """``valid``, ``valid with warnings`` or ``invalid``."""
        severity = self.severity
        if severity is Severity.ERROR:
            return "invalid"
        if severity is Severity.WARNING:
            return "valid with warnings"
        return "valid"

    @property
    def exit_code(self) -> int:
        """As ``check``: 0 valid, 1 valid with warnings, 2 invalid."""
        return {"valid": 0, "valid with warnings": 1, "invalid": 2}[self.status]


class _Collector:
    """Findings kept per code up to a limit, with every occurrence counted."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.findings: list[Finding] = []
        self.counts: dict[str, int] = {}
        self.kept: dict[str, int] = {}
        self.seen: set[tuple[str, str, str]] = set()

    def count(self, code: str, number: int = 1) -> None:
        self.counts[code] = self.counts.get(code, 0) + number

    def keep(self, finding: Finding) -> None:
        key = (finding.code, finding.subject, finding.summary)
        if key in self.seen or self.kept.get(finding.code, 0) >= self.limit:
            return
        self.seen.add(key)
        self.kept[finding.code] = self.kept.get(finding.code, 0) + 1
        self.findings.append(finding)

    def add(self, finding: Finding) -> None:
        self.count(finding.code)
        self.keep(finding)


def judge_zone(
    *,
    origin: bytes,
    source: str,
    apex: Sequence[Record],
    result: ScanResult,
    load_group: GroupLoader,
    options: AnalysisOptions,
    ds: Sequence[DS],
    horizons: Sequence[float],
    max_examples: int,
    mode: str = "",
) -> Verification:
    zone = dns.name.from_wire(origin, 0)[0]
    zone_text = zone.to_text()
    out = _Collector(max_examples)
    apex_sets = _rrsets(zone, apex)
    dnskey_rrset = apex_sets.get(DNSKEY_TYPE)
    dnskey_sigs = _rrsigs(zone, apex, DNSKEY_TYPE)
    keys = [k for k in (dnskey_rrset or ()) if isinstance(k, DNSKEY)]
    signed = bool(keys) or any(n[4] & HAS_RRSIG for n in result.names) or bool(result.signatures)

    # --- the DS -> DNSKEY link ---------------------------------------------------------
    link, ds_source = _link(zone, ds, apex_sets, dnskey_rrset, dnskey_sigs, options, signed)
    for finding in link.findings:
        out.add(finding)
    for finding in check_cds_request(
        zone, keys, apex_sets.get(CDS_TYPE), apex_sets.get(CDNSKEY_TYPE)
    ):
        out.add(finding)
    for key in keys:
        if not key.flags & Flag.ZONE or key.protocol != 3:
            out.add(
                make_finding(
                    "DNSKEY_NOT_ZONE_KEY",
                    zone=zone_text,
                    subject=f"DNSKEY {dns.dnssec.key_id(key)}/{key.algorithm}",
                    records=(f"{zone_text} IN DNSKEY {key.to_text()}",),
                    key_tag=dns.dnssec.key_id(key),
                    flags=int(key.flags),
                    protocol=int(key.protocol),
                )
            )
    publish = tuple(
        f"{zone_text} {dnskey_rrset.ttl if dnskey_rrset is not None else 3600} IN DS "
        f"{record.to_text()}"
        for record in ds_to_publish(zone, link)
    )

    # --- what the zone serves: out-of-zone data, delegations, DNAMEs, unsigned data ------
    # In canonical order a name's descendants follow it at once, so one "occluder" (the
    # last delegation or DNAME) tells whether a name lies below one.
    origin_key = sort_key(origin)
    zone_prefix = _below(origin_key)
    result.names.sort()  # in place: the main process holds one summary per name
    names = result.names
    authoritative: list[NameSummary] = []
    # Names below a delegation or a DNAME, with (the occluder's owner, is it a DNAME).
    hidden: list[tuple[NameSummary, bytes, bool]] = []
    outside: set[bytes] = set()
    occluder: tuple[bytes, bytes, bool] | None = None  # (key prefix below, owner, is a DNAME)
    for summary in names:
        name_key, owner, offset, _, flags = summary[:5]
        if not name_key.startswith(zone_prefix) and name_key != origin_key:
            outside.add(owner)
            _name_finding(out, "OUT_OF_ZONE_DATA", zone, owner, offset, load_group)
            continue
        if occluder is not None and name_key.startswith(occluder[0]):
            _, top, by_dname = occluder
            hidden.append((summary, top, by_dname))
            below = None
            if by_dname:
                # RFC 6672 §2.4: the DNAME's own RRsets are signed and in the chain, the
                # names below it are occluded, as below a delegation.
                dname = name_text(top)
                _name_finding(
                    out, "DNAME_OCCLUDED_DATA", zone, owner, offset, load_group, dname=dname
                )
                below = f"the name lies below the DNAME at {dname}: occluded data is never served"
            if flags & HAS_RRSIG:
                _example(out, "RRSIG_UNEXPECTED", owner, offset, 0, load_group, zone, below=below)
            if flags & HAS_NSEC:
                where = _occluder_text(top, by_dname)
                _chain(out, zone, "NSEC", owner, f"an NSEC record at a name below {where}")
            continue
        occluder = None
        is_cut = bool(flags & HAS_NS) and not flags & IS_APEX
        if is_cut or flags & HAS_DNAME:
            # A DNAME beside the NS of a delegation is itself occluded by the cut.
            occluder = (_below(name_key), owner, not is_cut)
        authoritative.append(summary)
        for flag, code in _NAME_RULES:
            if flags & flag:
                _name_finding(out, code, zone, owner, offset, load_group)
        if is_cut and flags & HAS_DNAME:
            _name_finding(out, "DNAME_BESIDE_NS", zone, owner, offset, load_group)
        if flags & IS_APEX and not flags & HAS_NS:
            _name_finding(out, "APEX_NS_MISSING", zone, owner, offset, load_group)
        if signed:
            for rdtype in summary[9]:
                if is_cut and rdtype != dns.rdatatype.DS:
                    continue  # RFC 4035 §2.2: NS at a delegation and its glue are unsigned
                out.count("RRSIG_MISSING")
                if out.kept.get("RRSIG_MISSING", 0) < max_examples:
                    _explain(out, owner, offset, rdtype, load_group, zone, keys, options, apex)

    # The scan summarises every out-of-zone owner as a name (reported above) and judges
    # none of its records: the NSEC3 records it returns are the zone's.
    nsec3s = result.nsec3s

    _check_glue(out, zone, origin_key, zone_prefix, names, hidden, result.ns_targets, load_group)
    _check_delegation_ds(out, zone, names, hidden, result.ds_heads, options)

    # --- signature examples ------------------------------------------------------------------
    for code, count in result.counts.items():
        out.count(code, count)
        for owner, offset, rdtype in result.examples.get(code, []):
            if code == "RRSIG_UNEXPECTED":
                _example(out, code, owner, offset, rdtype, load_group, zone, counted=True)
            elif code == "RRSIG_COVERS_RRSIG":
                _name_finding(out, code, zone, owner, offset, load_group, counted=True)
            else:
                _explain(out, owner, offset, rdtype, load_group, zone, keys, options, apex)

    # --- denial of existence ----------------------------------------------------------------
    denial = "none"
    if signed:
        if any(n[4] & HAS_NSEC for n in authoritative):
            denial = "NSEC"
            _check_nsec_chain(out, zone, authoritative)
        elif nsec3s:
            denial = "NSEC3"
            _check_nsec3_chain(out, zone, origin, authoritative, hidden, nsec3s, apex, options)
        else:
            _chain(out, zone, "NSEC", origin, "the zone has neither NSEC nor NSEC3 records")

    # --- forecast ------------------------------------------------------------------------------
    soa = next(r[3] for r in apex if r[2] == SOA)
    soa_expire = int.from_bytes(soa[-8:-4], "big")
    earliest = result.earliest
    dnskey_expirations = [
        int(s.expiration) for s in (dnskey_sigs or ()) if s.expiration >= options.now
    ]
    earliest_rrset = None
    earliest_expiration = None
    if earliest is not None:
        earliest_expiration = earliest[0]
        covered = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(earliest[2]))
        earliest_rrset = f"{name_text(earliest[1])}/{covered}"
    if dnskey_expirations and (
        earliest_expiration is None or min(dnskey_expirations) < earliest_expiration
    ):
        earliest_expiration = min(dnskey_expirations)
        earliest_rrset = f"{zone_text}/DNSKEY"
    counts = list(result.horizon_counts) or [0] * len(horizons)
    for index, horizon in enumerate(horizons):
        counts[index] += sum(1 for e in dnskey_expirations if e < options.now + horizon)
    before_soa = result.before_soa_expire + sum(
        1 for e in dnskey_expirations if e < options.now + soa_expire
    )
    if before_soa:
        out.add(
            make_finding(
                "RRSIG_EXPIRES_BEFORE_SOA_EXPIRE",
                zone=zone_text,
                subject=f"{zone_text}/SOA",
                count=before_soa,
                expire=human_duration(soa_expire),
                earliest=iso_utc(earliest_expiration or options.now),
            )
        )
    forecast = Forecast(
        earliest_expiration,
        earliest_rrset,
        tuple(zip(horizons, counts, strict=True)),
        soa_expire,
        before_soa,
    )
    findings = sorted(out.findings, key=lambda f: -f.severity)
    return Verification(
        zone=zone_text,
        source=source,
        now=options.now,
        findings=tuple(findings),
        counts={code: count for code, count in out.counts.items() if count},
        ds_to_publish=publish,
        ds_source=ds_source,
        forecast=forecast,
        records=result.records,
        rrsets=result.rrsets,
        names=len(result.names),
        signatures=result.signatures + len(dnskey_sigs or ()),
        valid_signatures=result.valid_signatures
        + sum(1 for c in link.ksk_signatures if c.status is SignatureStatus.VALID),
        denial=denial,
        mode=mode,
    )


# --- keys -------------------------------------------------------------------------------------


def _link(
    zone: dns.name.Name,
    ds: Sequence[DS],
    apex_sets: dict[int, dns.rrset.RRset],
    dnskey_rrset: dns.rrset.RRset | None,
    dnskey_sigs: dns.rrset.RRset | None,
    options: AnalysisOptions,
    signed: bool,
) -> tuple[ZoneLink, str]:
    cds = apex_sets.get(CDS_TYPE)
    cdnskey = apex_sets.get(CDNSKEY_TYPE)
    keys = [k for k in (dnskey_rrset or ()) if isinstance(k, DNSKEY)]
    if ds:
        ds_rrset = dns.rrset.RRset(zone, dns.rdataclass.IN, dns.rdatatype.DS)
        for record in ds:
            ds_rrset.add(record, 3600)
        link = check_zone_link(
            zone, ds_rrset, dnskey_rrset, dnskey_sigs, options, zone_has_signatures=signed
        )
        extra = check_cds(zone, ds_rrset, cds, cdnskey)
        return _with(link, extra), "--ds"
    derived = _ds_from_cds(zone, cds, cdnskey)
    if derived is not None:
        records, source = derived
        ds_rrset = dns.rrset.RRset(zone, dns.rdataclass.IN, dns.rdatatype.DS)
        for record in records:
            ds_rrset.add(record, 3600)
        link = check_zone_link(
            zone, ds_rrset, dnskey_rrset, dnskey_sigs, options, zone_has_signatures=signed
        )
        return link, source
    if not keys:
        link = check_zone_link(
            zone, None, dnskey_rrset, dnskey_sigs, options, zone_has_signatures=signed
        )
        return link, "none"
    # No DS to judge: the zone's own SEP keys stand in for it, so that the DNSKEY RRset
    # must still be signed by the key the DS will name.
    anchors = [k for k in keys if k.flags & Flag.SEP and k.flags & Flag.ZONE] or keys
    link = check_trust_anchor(anchors, dnskey_rrset, dnskey_sigs, options, zone=zone)
    return link, "none"


def _with(link: ZoneLink, extra: list[Finding]) -> ZoneLink:
    if not extra:
        return link
    return ZoneLink(
        zone=link.zone,
        state=link.state,
        findings=(*link.findings, *extra),
        trusted_keys=link.trusted_keys,
        ds_checks=link.ds_checks,
        ksk_signatures=link.ksk_signatures,
        live_ksks=link.live_ksks,
        insecure_reason=link.insecure_reason,
        ede=link.ede,
    )


def _ds_from_cds(
    zone: dns.name.Name, cds: dns.rrset.RRset | None, cdnskey: dns.rrset.RRset | None
) -> tuple[list[DS], str] | None:
    """The DS set the zone asks its parent for (RFC 7344), unless it asks for deletion."""
    if cds is not None:
        records = [
            DS(dns.rdataclass.IN, dns.rdatatype.DS, c.key_tag, c.algorithm, c.digest_type, c.digest)
            for c in cds
            if isinstance(c, CDS) and c.algorithm != 0
        ]
        if records:
            return records, "CDS"
    if cdnskey is not None:
        records = []
        for key in cdnskey:
            if isinstance(key, CDNSKEY) and key.algorithm != 0:
                as_dnskey = DNSKEY(
                    dns.rdataclass.IN,
                    dns.rdatatype.DNSKEY,
                    key.flags,
                    key.protocol,
                    key.algorithm,
                    key.key,
                )
                records.append(
                    dns.dnssec.make_ds(
                        zone, as_dnskey, DSDigest.SHA256, policy=dns.dnssec.allow_all_policy
                    )
                )
        if records:
            return records, "CDNSKEY"
    return None


# --- signatures -------------------------------------------------------------------------------


def _rrsets(zone: dns.name.Name, records: Sequence[Record]) -> dict[int, dns.rrset.RRset]:
    """The non-RRSIG RRsets of one owner group, as dnspython objects."""
    sets: dict[int, dns.rrset.RRset] = {}
    for owner, ttl, rdtype, rdata, _, _ in records:
        if rdtype == RRSIG:
            continue
        rrset = sets.get(rdtype)
        if rrset is None:
            name = dns.name.from_wire(owner, 0)[0]
            rrset = sets[rdtype] = dns.rrset.RRset(
                name, dns.rdataclass.IN, dns.rdatatype.RdataType.make(rdtype)
            )
        rrset.add(_rdata(rdtype, rdata), ttl)
    return sets


def _rrsigs(zone: dns.name.Name, records: Sequence[Record], covered: int) -> dns.rrset.RRset | None:
    rrset: dns.rrset.RRset | None = None
    for owner, ttl, rdtype, rdata, _, _ in records:
        if rdtype != RRSIG or int.from_bytes(rdata[:2], "big") != covered:
            continue
        if rrset is None:
            rrset = dns.rrset.RRset(
                dns.name.from_wire(owner, 0)[0],
                dns.rdataclass.IN,
                dns.rdatatype.RRSIG,
                dns.rdatatype.RdataType.make(covered),
            )
        rrset.add(_rdata(rdtype, rdata), ttl)
    return rrset


def _rdata(rdtype: int, wire: bytes) -> dns.rdata.Rdata:
    return dns.rdata.from_wire(
        dns.rdataclass.IN, dns.rdatatype.RdataType.make(rdtype), wire, 0, len(wire)
    )


def _explain(
    out: _Collector,
    owner: bytes,
    offset: int,
    rdtype: int,
    load_group: GroupLoader,
    zone: dns.name.Name,
    keys: Sequence[DNSKEY],
    options: AnalysisOptions,
    apex: Sequence[Record],
) -> None:
    group = list(apex) if owner == apex[0][0] else load_group(owner, offset)
    rrset = _rrsets(zone, group).get(rdtype)
    if rrset is None:
        return
    rrsigs = _rrsigs(zone, group, rdtype)
    sig_ttls = {r[1] for r in group if r[2] == RRSIG and int.from_bytes(r[3][:2], "big") == rdtype}
    for finding in rrset_findings(rrset, rrsigs, zone, keys, options, sig_ttls):
        out.keep(finding)


def rrset_findings(
    rrset: dns.rrset.RRset,
    rrsigs: dns.rrset.RRset | None,
    zone: dns.name.Name,
    dnskeys: Sequence[DNSKEY],
    options: AnalysisOptions,
    rrsig_ttls: set[int] | None = None,
) -> list[Finding]:
    """Findings on one RRset of a zone file, stricter than ``check_rrset_signatures``: in a
    zone about to be published every signature must verify, not just one."""
    zone_text = zone.to_text()
    subject = rrset_label(rrset)
    summary = summarize_rrset_signatures(rrset, rrsigs, zone, dnskeys, options.now)
    if not summary.checks:
        return [
            make_finding(
                "RRSIG_MISSING",
                zone=zone_text,
                subject=subject,
                records=rrset_records(rrset),
                rrset=subject,
            )
        ]
    rrsig_ttl = rrsigs.ttl if rrsigs is not None else rrset.ttl
    supported_keys = [k for k in dnskeys if is_algorithm_supported(k.algorithm)]
    judged = [c for c in summary.checks if c.status is not SignatureStatus.ALGORITHM_UNSUPPORTED]
    findings: list[Finding] = []
    if not judged:
        if supported_keys:
            worst = most_telling(summary.checks)
            assert worst is not None
            findings.append(signature_failure_finding(rrset, worst, zone, rrsig_ttl=rrsig_ttl))
        return findings
    for check in judged:
        if not check.is_valid:
            findings.append(signature_failure_finding(rrset, check, zone, rrsig_ttl=rrsig_ttl))
    findings += unused_algorithm_findings(summary, supported_keys, zone, ())
    findings += healthy_signature_findings(rrset, summary.valid, zone, options, rrsig_ttl=rrsig_ttl)
    if rrsig_ttls and rrsig_ttls != {rrset.ttl}:
        findings.append(
            make_finding(
                "RRSIG_TTL_MISMATCH",
                zone=zone_text,
                subject=subject,
                records=rrset_records(rrset),
                rrset=subject,
                ttl=int(rrset.ttl),
                rrsig_ttl=", ".join(str(t) for t in sorted(rrsig_ttls)),
            )
        )
    return findings


def _example(
    out: _Collector,
    code: str,
    owner: bytes,
    offset: int,
    rdtype: int,
    load_group: GroupLoader,
    zone: dns.name.Name,
    *,
    counted: bool = False,
    below: str | None = None,
) -> None:
    """RRSIG_UNEXPECTED on the signatures of ``owner`` (over ``rdtype``, 0: any); ``below``
    says why the name is not the zone's to sign, when not a delegation."""
    group = load_group(owner, offset)
    covered = sorted(
        {
            int.from_bytes(r[3][:2], "big")
            for r in group
            if r[2] == RRSIG and (not rdtype or int.from_bytes(r[3][:2], "big") == rdtype)
        }
    )
    types = {r[2] for r in group}
    name = name_text(owner)
    for covered_type in covered or [rdtype]:
        type_text = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(covered_type))
        if covered_type not in types:
            reason = f"{name} has no {type_text} RRset"
        elif below is not None:
            reason = below
        elif dns.rdatatype.NS in types and covered_type != dns.rdatatype.DS:
            reason = "the data at a delegation (NS and glue) is not signed by the parent"
        else:
            reason = "the name lies below a delegation (glue or occluded data)"
        finding = make_finding(
            "RRSIG_UNEXPECTED",
            zone=zone.to_text(),
            subject=f"{name}/{type_text}",
            rrset=f"{name}/{type_text}",
            reason=reason,
        )
        if counted:
            out.keep(finding)
        else:
            out.add(finding)


# --- names the zone does not serve -------------------------------------------------------------


def _below(name_key: bytes) -> bytes:
    """The sort-key prefix of every name below this one."""
    return name_key + b"\x00" if name_key else b""


def _occluder_text(owner: bytes, is_dname: bool) -> str:
    return f"the {'DNAME at' if is_dname else 'delegation'} {name_text(owner)}"


def _name_finding(
    out: _Collector,
    code: str,
    zone: dns.name.Name,
    owner: bytes,
    offset: int,
    load_group: GroupLoader,
    *,
    counted: bool = False,
    **params: str,
) -> None:
    """A finding on a name's records as a whole (out of zone, occluded, a CNAME beside
    other data, ...): counted (unless ``counted`` already), and for the examples kept,
    re-read for its types, records and the line they start on."""
    if not counted:
        out.count(code)
    if out.kept.get(code, 0) >= out.limit:
        return
    group = load_group(owner, offset)
    name = name_text(owner)
    types = sorted({r[2] for r in group})
    out.keep(
        make_finding(
            code,
            zone=zone.to_text(),
            subject=name,
            servers=(),  # from a file: no server showed it
            records=tuple(
                line for rrset in _rrsets(zone, group).values() for line in rrset_records(rrset)
            ),
            name=name,
            types=" ".join(dns.rdatatype.to_text(dns.rdatatype.RdataType.make(t)) for t in types),
            line=group[0][4] if group else 0,
            **params,
        )
    )


# --- name servers' addresses ----------------------------------------------------------------


def _check_glue(
    out: _Collector,
    zone: dns.name.Name,
    origin_key: bytes,
    zone_prefix: bytes,
    names: Sequence[NameSummary],
    hidden: Sequence[tuple[NameSummary, bytes, bool]],
    ns_targets: Sequence[tuple[bytes, bytes]],
    load_group: GroupLoader,
) -> None:
    """Every name server inside the zone, of the apex or of a delegation, has an address
    in the file (GLUE_MISSING: named-checkzone refuses the zone, and below a delegation
    resolvers cannot reach the child); every address below a delegation is some NS's
    (GLUE_UNUSED). ``names`` is sorted by key."""
    keys = [n[0] for n in names]
    occluded = {summary[1] for summary, _, _ in hidden}  # their NS is never served
    used: set[bytes] = set()
    for owner, target in sorted(set(ns_targets)):
        if owner in occluded:
            continue
        target_key = sort_key(target)
        if target_key != origin_key and not target_key.startswith(zone_prefix):
            continue  # another zone's name: its addresses are that zone's
        used.add(target)
        server = _find(keys, names, target)
        if server is not None and server[4] & HAS_ADDRESS:
            continue
        out.add(
            make_finding(
                "GLUE_MISSING",
                zone=zone.to_text(),
                subject=f"{name_text(owner)}/NS",
                name=name_text(owner),
                target=name_text(target),
                line=_line_of(keys, names, owner),
            )
        )
    for summary, _top, by_dname in hidden:
        if not by_dname and summary[4] & HAS_ADDRESS and summary[1] not in used:
            _name_finding(out, "GLUE_UNUSED", zone, summary[1], summary[2], load_group)


def _find(keys: Sequence[bytes], names: Sequence[NameSummary], owner: bytes) -> NameSummary | None:
    """The summary of ``owner`` among ``names`` (sorted; ``keys`` their sort keys)."""
    key = sort_key(owner)
    index = bisect.bisect_left(keys, key)
    return names[index] if index < len(keys) and keys[index] == key else None


def _line_of(keys: Sequence[bytes], names: Sequence[NameSummary], owner: bytes) -> int:
    found = _find(keys, names, owner)
    return found[3] if found is not None else 0


def _check_delegation_ds(
    out: _Collector,
    zone: dns.name.Name,
    names: Sequence[NameSummary],
    hidden: Sequence[tuple[NameSummary, bytes, bool]],
    ds_heads: Sequence[tuple[bytes, int, int, int]],
    options: AnalysisOptions,
) -> None:
    """A delegation whose DS all use algorithms or digest types validators do not
    implement is insecure to them (RFC 4035 §5.2): DELEGATION_DS_UNUSABLE."""
    by_owner: dict[bytes, list[tuple[int, int, int]]] = {}
    for owner, tag, algorithm, digest_type in ds_heads:
        by_owner.setdefault(owner, []).append((tag, algorithm, digest_type))
    occluded = {summary[1] for summary, _, _ in hidden}
    keys = [n[0] for n in names]
    for owner, heads in sorted(by_owner.items()):
        if owner in occluded or owner == zone.to_wire():
            continue
        if any(
            is_algorithm_supported(algorithm, options.accepted_algorithms)
            and digest_type in SUPPORTED_DIGESTS
            for _, algorithm, digest_type in heads
        ):
            continue
        out.add(
            make_finding(
                "DELEGATION_DS_UNUSABLE",
                zone=zone.to_text(),
                subject=f"{name_text(owner)}/DS",
                name=name_text(owner),
                line=_line_of(keys, names, owner),
                ds=", ".join(f"{t} {a} {d}" for t, a, d in sorted(set(heads))),
            )
        )


# --- denial of existence ------------------------------------------------------------------


def _chain(out: _Collector, zone: dns.name.Name, mechanism: str, owner: bytes, reason: str) -> None:
    name = name_text(owner)
    out.add(
        make_finding(
            "DENIAL_CHAIN_BROKEN",
            zone=zone.to_text(),
            subject=f"{name}/{mechanism}",
            mechanism=mechanism,
            name=name,
            reason=reason,
        )
    )


def _bitmap(
    out: _Collector,
    zone: dns.name.Name,
    mechanism: str,
    name: str,
    listed: bytes,
    expected: bytes,
) -> None:
    out.add(
        make_finding(
            "DENIAL_BITMAP_MISMATCH",
            zone=zone.to_text(),
            subject=f"{name}/{mechanism}",
            mechanism=mechanism,
            name=name,
            listed=_types_text(listed),
            expected=_types_text(expected),
        )
    )


def _types_text(bitmap: bytes) -> str:
    types = bitmap_types(bitmap)
    if not types:
        return "no types"
    return " ".join(dns.rdatatype.to_text(dns.rdatatype.RdataType.make(t)) for t in types)


def _check_nsec_chain(out: _Collector, zone: dns.name.Name, names: Sequence[NameSummary]) -> None:
    """RFC 4035 §2.3: one NSEC per authoritative name, each pointing at the next name in
    canonical order, the last back to the apex, listing the types present."""
    for index, summary in enumerate(names):
        owner = summary[1]
        following = names[(index + 1) % len(names)][1]
        nsec = summary[8]
        if nsec is None:
            _chain(out, zone, "NSEC", owner, f"{name_text(owner)} has no NSEC record")
            continue
        next_wire, bitmap = nsec
        if next_wire != following:
            what = "the apex" if index + 1 == len(names) else "the next name in canonical order"
            _chain(
                out,
                zone,
                "NSEC",
                owner,
                f"its NSEC points to {name_text(next_wire)}; {what} is {name_text(following)}",
            )
        if bitmap != summary[5]:
            _bitmap(out, zone, "NSEC", name_text(owner), bitmap, summary[5])


def _check_nsec3_chain(
    out: _Collector,
    zone: dns.name.Name,
    origin: bytes,
    names: Sequence[NameSummary],
    hidden: Sequence[tuple[NameSummary, bytes, bool]],
    nsec3s: Sequence[Nsec3Summary],
    apex: Sequence[Record],
    options: AnalysisOptions,
) -> None:
    """RFC 5155 §7.1: one NSEC3 per authoritative name and empty non-terminal, ordered by
    hash, closed, with the bitmap the name's data calls for, all with the NSEC3PARAM's
    parameters. Under opt-out an insecure delegation (and an empty non-terminal that only
    leads to insecure delegations) may go without one, where the NSEC3 covering its hash
    has the opt-out flag: that record's span is what a validator reads (RFC 5155 §8.6)."""
    zone_text = zone.to_text()
    param = next((r[3] for r in apex if r[2] == NSEC3PARAM), None)
    chain_params = {(n[4], n[6], n[7]) for n in nsec3s}
    chain_text = ", ".join(
        f"algorithm {a}, {i} iterations, salt {s.hex() or '-'}" for a, i, s in sorted(chain_params)
    )
    if param is None:
        used = min(chain_params)
        out.add(
            make_finding(
                "NSEC3PARAM_MISMATCH",
                zone=zone_text,
                subject=f"{zone_text}/NSEC3PARAM",
                param="no NSEC3PARAM",
                chain=chain_text,
            )
        )
    else:
        salt_length = param[4]
        used = (param[0], int.from_bytes(param[2:4], "big"), param[5 : 5 + salt_length])
        if chain_params != {used}:
            out.add(
                make_finding(
                    "NSEC3PARAM_MISMATCH",
                    zone=zone_text,
                    subject=f"{zone_text}/NSEC3PARAM",
                    param=f"algorithm {used[0]}, {used[1]} iterations, salt {used[2].hex() or '-'}",
                    chain=chain_text,
                )
            )
        if param[1]:
            # RFC 5155 §4.1.2: opt-out lives in the NSEC3 records; servers ignore this one.
            out.add(
                make_finding(
                    "NSEC3PARAM_FLAGS_NONZERO",
                    zone=zone_text,
                    subject=f"{zone_text}/NSEC3PARAM",
                    flags=param[1],
                )
            )
    _algorithm, iterations, salt = used
    if iterations > options.nsec3_iteration_limit:
        out.add(
            make_finding(
                "NSEC3_ITERATIONS_EXCESSIVE",
                zone=zone_text,
                subject=zone_text,
                iterations=iterations,
                limit=options.nsec3_iteration_limit,
            )
        )
    elif iterations:
        out.add(
            make_finding(
                "NSEC3_ITERATIONS_NONZERO", zone=zone_text, subject=zone_text, iterations=iterations
            )
        )
    if salt:
        out.add(
            make_finding("NSEC3_SALT_PRESENT", zone=zone_text, subject=zone_text, salt=salt.hex())
        )

    # The chain, in hash order, only the records with the parameters in use.
    chain: list[Nsec3Summary] = []
    for nsec3 in nsec3s:
        if nsec3[0] is None or len(nsec3[0]) != 20:
            _chain(out, zone, "NSEC3", nsec3[1], "the owner is not a hash label under the apex")
        elif (nsec3[4], nsec3[6], nsec3[7]) == used:
            chain.append(nsec3)
            if nsec3[5] & ~_OPT_OUT:
                _chain(
                    out,
                    zone,
                    "NSEC3",
                    nsec3[1],
                    f"its flags are {nsec3[5]}: validators ignore an NSEC3 whose flags are "
                    "neither 0 nor 1 (opt-out)",
                )
    chain.sort(key=_hash_of)
    # Each record's next hash must be the following record's hash (the last's, the
    # first's). Duplicates lie side by side: one record per hash is kept (the last, the
    # others are reported), with its position, by which names mark the records they
    # match (a set of 100,000 matched hashes would cost the main process megabytes more).
    unique: list[Nsec3Summary] = []
    hashes: list[bytes] = []
    opt_outs = 0
    for record, following in zip(chain, chain[1:] + chain[:1], strict=True):
        digest = record[0]
        assert digest is not None  # the chain holds only records with a hash label
        if following[0] == digest and len(chain) > 1:
            _chain(out, zone, "NSEC3", record[1], "two NSEC3 records share this hash")
        elif record[8] != following[0]:
            _chain(
                out,
                zone,
                "NSEC3",
                record[1],
                f"its next hash is {_b32(record[8])}; the next hash in the chain is "
                f"{_b32(following[0] or b'')}",
            )
        if hashes and hashes[-1] == digest:
            unique[-1] = record
        else:
            unique.append(record)
            hashes.append(digest)
        opt_outs += record[5] == _OPT_OUT
    position = dict(zip(hashes, range(len(hashes)), strict=True))
    matched = bytearray(len(unique))
    if opt_outs:
        out.add(
            make_finding(
                "NSEC3_OPT_OUT", zone=zone_text, subject=zone_text, count=opt_outs, total=len(chain)
            )
        )

    # The scan hashed every name with the NSEC3PARAM's parameters: reuse those hashes
    # when the chain uses the same.
    scanned_hashes_apply = param is not None and used == (
        param[0],
        int.from_bytes(param[2:4], "big"),
        param[5 : 5 + param[4]],
    )

    def hashed(summary: NameSummary) -> bytes:
        if summary[7] is not None and scanned_hashes_apply:
            return summary[7]
        return nsec3_hash(summary[1], salt, iterations)

    keys = [n[0] for n in names]  # canonical order

    def present(owner: bytes) -> bool:
        key = sort_key(owner)
        index = bisect.bisect_left(keys, key)
        return index < len(keys) and keys[index] == key

    def opt_out_covers(digest: bytes) -> bool:
        if not hashes:
            return False
        # The record before the hash covers it; index -1 wraps to the last, as the chain.
        covering = unique[bisect.bisect_left(hashes, digest) - 1]
        return covering[5] == _OPT_OUT  # other flags: ignored

    # Empty non-terminals need NSEC3 records too, except those that only lead to insecure
    # delegations, which opt-out may leave out (RFC 5155 §7.1, erratum 3441).
    required_ents: set[bytes] = set()
    optional_ents: set[bytes] = set()
    apex_length = len(origin)
    for summary in names:
        owner, flags = summary[1], summary[4]
        is_cut = bool(flags & HAS_NS) and not flags & IS_APEX
        insecure_cut = is_cut and not flags & HAS_DS
        if len(owner) - owner[0] - 1 > apex_length:  # the parent is not the apex
            ents = optional_ents if insecure_cut else required_ents
            parent = owner[owner[0] + 1 :]
            while len(parent) > apex_length and not present(parent):
                ents.add(parent)
                parent = parent[parent[0] + 1 :]
        digest = hashed(summary)
        slot = position.get(digest)
        if slot is None:
            name = name_text(owner)
            if insecure_cut and opt_outs:
                if opt_out_covers(digest):
                    continue
                reason = (
                    f"the insecure delegation {name} has no NSEC3 and the NSEC3 covering it "
                    "is not opt-out: validators cannot prove it has no DS"
                )
            elif is_cut and opt_outs:
                reason = (
                    f"the signed delegation {name} has no NSEC3 record (opt-out only spares "
                    "delegations without DS)"
                )
            else:
                reason = f"{name} has no NSEC3 record"
            _chain(out, zone, "NSEC3", owner, reason)
            continue
        matched[slot] = 1
        if unique[slot][9] != summary[6]:
            _bitmap(out, zone, "NSEC3", name_text(owner), unique[slot][9], summary[6])
    for ent in sorted(required_ents | optional_ents):
        digest = nsec3_hash(ent, salt, iterations)
        slot = position.get(digest)
        if slot is None:
            name = name_text(ent)
            if ent in required_ents or not opt_outs:
                reason = f"the empty non-terminal {name} has no NSEC3"
            elif opt_out_covers(digest):
                continue
            else:
                reason = (
                    f"the empty non-terminal {name} has no NSEC3 and the NSEC3 covering it "
                    "is not opt-out"
                )
            _chain(out, zone, "NSEC3", ent, reason)
            continue
        matched[slot] = 1
        if unique[slot][9]:
            _bitmap(out, zone, "NSEC3", name_text(ent), unique[slot][9], b"")
    if all(matched):
        return
    # A stray record may be that of a name the zone does not serve: say so.
    unserved = {hashed(summary): (summary[1], top, is_dname) for summary, top, is_dname in hidden}
    for record, seen in zip(unique, matched, strict=True):
        if seen:
            continue
        if record[0] in unserved:
            owner, top, is_dname = unserved[record[0]]
            reason = (
                f"the NSEC3 record is that of {name_text(owner)}, which lies below "
                f"{_occluder_text(top, is_dname)}: names the zone does not serve have no NSEC3"
            )
        else:
            reason = "the NSEC3 record matches no name in the zone"
        _chain(out, zone, "NSEC3", record[1], reason)


def _hash_of(record: Nsec3Summary) -> bytes:
    return record[0] or b""


def _b32(digest: bytes) -> str:
    return base64.b32hexencode(digest).decode().lower()


# The codes this module emits besides those of analysis.keys and analysis.signatures.
EMITS: tuple[str, ...] = tuple(
    lookup(code).code
    for code in (
        "DENIAL_CHAIN_BROKEN",
        "DENIAL_BITMAP_MISMATCH",
        "NSEC3PARAM_MISMATCH",
        "NSEC3PARAM_FLAGS_NONZERO",
        "NSEC3_OPT_OUT",
        "OUT_OF_ZONE_DATA",
        "DNAME_OCCLUDED_DATA",
        "CNAME_AND_OTHER_DATA",
        "CNAME_MULTIPLE",
        "DNAME_MULTIPLE",
        "DNAME_BESIDE_NS",
        "APEX_NS_MISSING",
        "GLUE_MISSING",
        "GLUE_UNUSED",
        "DELEGATION_DS_UNUSABLE",
        "RRSIG_COVERS_RRSIG",
        "RRSIG_UNEXPECTED",
        "RRSIG_TTL_MISMATCH",
        "RRSIG_EXPIRES_BEFORE_SOA_EXPIRE",
        "DNSKEY_NOT_ZONE_KEY",
        "NSEC3_ITERATIONS_EXCESSIVE",
        "NSEC3_ITERATIONS_NONZERO",
        "NSEC3_SALT_PRESENT",
    )
)
