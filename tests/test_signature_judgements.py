"""The signature rules exist twice: in C (``verify/_scan.c``, judging every RRset of a zone
file) and in Python (``analysis.signatures``, through ``verify.zone.rrset_findings``, which
explains the RRsets the scan kept as examples). Over the whole damaged-zone corpus both
must judge every signed RRset alike: the same finding codes on the same RRsets, at four
instants (inside the signatures' window, just before they expire, after, and before their
inception)."""

from __future__ import annotations

import itertools

import dns.name
from dns.rdtypes.ANY.DNSKEY import DNSKEY

from damaged_zones import NOW, ORIGIN, damaged_signed_zones, signed_text
from dnssec_doctor.lab import signing
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.verify.scan import ScanContext, Scanner
from dnssec_doctor.verify.zone import _rrsets, _rrsigs, rrset_findings
from dnssec_doctor.zonefile.reader import (
    DNSKEY as DNSKEY_TYPE,
)
from dnssec_doctor.zonefile.reader import (
    DS,
    NS,
    NSEC,
    RRSIG,
    ReaderState,
    Record,
    ZoneFileError,
    read_records,
)

# What the scan notes about a group's structure rather than its signatures: judged by
# verify.zone over the whole zone, not by the signature rules.
STRUCTURAL = {"RRSIG_MISSING", "RRSIG_UNEXPECTED", "RRSIG_COVERS_RRSIG"}
EXPIRE_WARNING = 86400 * 3
Judgements = set[tuple[int, int, str]]  # (offset of the owner's first record, type, code)


def c_judgements(records: list[Record], origin: bytes, now: float) -> Judgements:
    context = ScanContext(
        source="z",
        origin=origin,
        dnskeys=tuple(r[3] for r in records if r[0] == origin and r[2] == DNSKEY_TYPE),
        now=now,
        expire_warning=EXPIRE_WARNING,
        horizons=(),
        soa_expire=0,
        nsec3=None,
        max_examples=1 << 30,
    )
    result = Scanner(context).scan(records)
    return {
        (offset, rdtype, code)
        for code, examples in result.examples.items()
        if code not in STRUCTURAL
        for _owner, offset, rdtype in examples
    }


def python_judgements(records: list[Record], origin: bytes, now: float) -> Judgements:
    """The same RRsets judged by ``rrset_findings``: each owner group as the scan sees it
    (contiguous records of one owner), inside the zone, with signatures; not the apex
    DNSKEY RRset (the DS -> DNSKEY link judges it) nor the unsigned data at a delegation."""
    zone = dns.name.from_wire(origin, 0)[0]
    apex = [r for r in records if r[0] == origin]
    keys = [k for k in _rrsets(zone, apex).get(DNSKEY_TYPE, ()) if isinstance(k, DNSKEY)]
    options = AnalysisOptions(now=now, expire_warning=EXPIRE_WARNING)
    judged: Judgements = set()
    for owner, grouped in itertools.groupby(records, key=lambda r: r[0]):
        group = list(grouped)
        if not dns.name.from_wire(owner, 0)[0].is_subdomain(zone):
            continue
        types = {r[2] for r in group}
        is_cut = NS in types and owner != origin
        for rdtype, rrset in _rrsets(zone, group).items():
            rrsigs = _rrsigs(zone, group, rdtype)
            if rrsigs is None or (owner == origin and rdtype == DNSKEY_TYPE):
                continue
            if is_cut and rdtype not in (DS, NSEC):
                continue
            sig_ttls = {
                r[1] for r in group if r[2] == RRSIG and int.from_bytes(r[3][:2], "big") == rdtype
            }
            for finding in rrset_findings(rrset, rrsigs, zone, keys, options, sig_ttls):
                judged.add((group[0][5], rdtype, finding.code))
    return judged


def test_c_and_python_judge_every_signature_of_the_damaged_zones_alike() -> None:
    origin = ORIGIN.to_wire()
    assert origin is not None
    intact = read_records(signed_text(signing.NSEC), ReaderState(origin=origin), source="z")
    rrsig = next(r[3] for r in intact if r[2] == RRSIG)
    expiration, inception = int.from_bytes(rrsig[8:12], "big"), int.from_bytes(rrsig[12:16], "big")
    assert inception < NOW < expiration
    instants = (NOW, expiration - 100, expiration + 10, inception - 10)
    differences = []
    judged = 0
    codes: set[str] = set()
    for text in damaged_signed_zones():
        try:
            records = list(read_records(text, ReaderState(origin=origin), source="z"))
        except ZoneFileError:
            continue
        judged += 1
        for now in instants:
            in_c, in_python = (
                c_judgements(records, origin, now),
                python_judgements(records, origin, now),
            )
            codes |= {code for _, _, code in in_c}
            if in_c != in_python:
                differences.append((now, text, sorted(in_c - in_python), sorted(in_python - in_c)))
    assert not differences, (len(differences), differences[0])
    # the corpus reaches the rules: most damaged zones still read, and damage gives findings
    assert judged > 150
    assert {
        "RRSIG_BAD_SIGNATURE",
        "RRSIG_NO_MATCHING_KEY",
        "RRSIG_SIGNER_MISMATCH",
        "RRSIG_TTL_MISMATCH",
        "RRSIG_EXPIRED",
        "RRSIG_NOT_YET_VALID",
        "RRSIG_EXPIRES_SOON",
        "RRSIG_TTL_OUTLIVES_SIGNATURE",
    } <= codes, codes
