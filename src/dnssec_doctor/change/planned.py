"""Pre-flight for a planned DS: would this DS validate against the keys served now, on
every server of the zone?

A DS is only useful if, on every authoritative server, it matches a published zone key
(not revoked) and that key's signature over the DNSKEY RRset is valid now. Publishing a DS
that fails on one server makes the zone fail for resolvers that ask that server. Pure:
reads the snapshot's evidence, judged at ``options.now``.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdata
import dns.rdatatype
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.DS import DS
from dns.rdtypes.ANY.RRSIG import RRSIG
from dns.rdtypes.dnskeybase import Flag

from dnssec_doctor.analysis.context import Evidence
from dnssec_doctor.analysis.keys import DsStatus, match_ds
from dnssec_doctor.analysis.signatures import classify_signature
from dnssec_doctor.change.state import every_server
from dnssec_doctor.diagnosis.report import Report
from dnssec_doctor.errors import UsageError
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.snapshot import Purpose


@dataclass(frozen=True)
class PlannedDs:
    owner: str | None  # the zone the record names, if it names one
    ds: DS

    @property
    def label(self) -> str:
        return f"DS {self.ds.key_tag}/{self.ds.algorithm}/{self.ds.digest_type}"


@dataclass(frozen=True)
class ServerCheck:
    server: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class PlannedDsResult:
    zone: str
    planned: PlannedDs
    servers: tuple[ServerCheck, ...]

    @property
    def ok(self) -> bool:
        return bool(self.servers) and all(s.ok for s in self.servers)

    @property
    def summary(self) -> str:
        if not self.servers:
            return f"{self.planned.label} cannot be checked: no server of {self.zone} served keys"
        failing = [s.server for s in self.servers if not s.ok]
        if not failing:
            return (
                f"{self.planned.label} would validate on {every_server(len(self.servers))} of "
                f"{self.zone}: safe to publish"
            )
        return (
            f"{self.planned.label} would NOT validate on {len(failing)} of {len(self.servers)} "
            f"servers of {self.zone}: do not publish it"
        )


def parse_planned_ds(text: str) -> PlannedDs:
    """``zone. 3600 IN DS 12345 13 2 ABCD...`` or just ``12345 13 2 ABCD...``."""
    tokens = text.split()
    upper = [t.upper() for t in tokens]
    owner: str | None = None
    rdata = tokens
    if "DS" in upper:
        index = upper.index("DS")
        rdata = tokens[index + 1 :]
        if index > 0:
            try:
                owner = dns.name.from_text(tokens[0]).to_text()
            except dns.exception.DNSException:
                raise UsageError(f"--planned-ds: invalid owner name {tokens[0]!r}") from None
    try:
        record = dns.rdata.from_text("IN", "DS", " ".join(rdata))
    except (dns.exception.DNSException, ValueError) as error:
        raise UsageError(
            f"--planned-ds: not a DS record: {error}",
            hint='write "example.com. IN DS 12345 13 2 ABCD..." or "12345 13 2 ABCD..."',
        ) from None
    assert isinstance(record, DS)
    return PlannedDs(owner, record)


def check_planned_ds(
    report: Report, planned: PlannedDs, options: AnalysisOptions
) -> PlannedDsResult:
    zone = planned.owner or _zone_of_name(report)
    origin = dns.name.from_text(zone)
    evidence = Evidence.of(report.snapshot)
    checks: list[ServerCheck] = []
    for observation in evidence.authoritative(zone, Purpose.DNSKEY):
        if not observation.authoritative:
            checks.append(ServerCheck(observation.server, False, "no authoritative answer"))
            continue
        rrset = observation.rrset(origin, dns.rdatatype.DNSKEY)
        keys = [k for k in rrset or () if isinstance(k, DNSKEY)]
        if rrset is None or not keys:
            checks.append(ServerCheck(observation.server, False, "serves no DNSKEY"))
            continue
        match = match_ds(planned.ds, origin, keys, options.accepted_algorithms)
        if match.status is not DsStatus.MATCH or match.key is None:
            checks.append(ServerCheck(observation.server, False, match.detail))
            continue
        key = match.key
        if key.flags & Flag.REVOKE:
            checks.append(ServerCheck(observation.server, False, "the key it matches is revoked"))
            continue
        sigs = [
            s
            for s in observation.signatures(origin, dns.rdatatype.DNSKEY) or ()
            if isinstance(s, RRSIG)
        ]
        verdicts = [
            classify_signature(rrset, s, origin, keys, options.now, options.accepted_algorithms)
            for s in sigs
        ]
        by_key = [v for v in verdicts if v.key == key]
        if any(v.is_valid for v in by_key):
            checks.append(
                ServerCheck(
                    observation.server, True, f"{match.detail}, which signs the DNSKEY RRset"
                )
            )
        elif by_key:
            checks.append(
                ServerCheck(observation.server, False, f"{match.detail}, but {by_key[0].detail}")
            )
        else:
            checks.append(
                ServerCheck(
                    observation.server,
                    False,
                    f"{match.detail}, but that key does not sign the DNSKEY RRset",
                )
            )
    return PlannedDsResult(zone, planned, tuple(checks))


def _zone_of_name(report: Report) -> str:
    """The deepest zone holding the checked name (the one whose DS would change)."""
    name = dns.name.from_text(report.snapshot.name)
    holders = [
        z.zone for z in report.analysis.zones if name.is_subdomain(dns.name.from_text(z.zone))
    ]
    if not holders:
        raise UsageError("--planned-ds: the probe found no zone for the name")
    return max(holders, key=lambda z: len(dns.name.from_text(z)))
