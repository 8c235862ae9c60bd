"""What a change window compares: per zone, the DS at the parent, the keys, signatures,
serials and state each server showed, read from one analysed snapshot.

Pure: built from a ``Report`` (snapshot + analysis), no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.dnssec
import dns.exception
import dns.name
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.DS import DS
from dns.rdtypes.ANY.RRSIG import RRSIG
from dns.rdtypes.dnskeybase import Flag

from dnssec_doctor.analysis.context import Evidence
from dnssec_doctor.diagnosis.report import Report
from dnssec_doctor.model.records import parse_record
from dnssec_doctor.model.snapshot import Purpose


@dataclass(frozen=True)
class ServerState:
    """One authoritative server of a zone."""

    server: str
    answered: bool
    serial: int | None
    dnskeys: tuple[DNSKEY, ...]
    signers: tuple[tuple[int, int], ...]  # (key tag, algorithm) of RRSIGs over the DNSKEYs
    earliest_expiration: int | None
    newest_inception: int | None
    state: str
    # (key tag, algorithm) of the RRSIGs over the zone's data (its SOA): the ZSKs at work.
    data_signers: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class ZoneState:
    zone: str
    state: str
    ds: tuple[DS, ...]  # what the parent publishes (the first answering parent server)
    ds_by_server: tuple[tuple[str, tuple[DS, ...]], ...]  # each parent server's DS set
    ds_ttl: int | None
    negative_ttl: int | None
    servers: tuple[ServerState, ...]
    soa_expire: int | None
    dnskey_ttl: int | None = None
    # The configured trust anchors for this zone itself (the root's, or an island's apex).
    anchors: tuple[DS | DNSKEY, ...] = ()

    @property
    def dnskeys(self) -> tuple[DNSKEY, ...]:
        """Every key some server serves, each once."""
        return tuple(dict.fromkeys(k for s in self.servers for k in s.dnskeys))

    @property
    def signed(self) -> bool:
        return any(s.dnskeys for s in self.servers)

    def server(self, label: str) -> ServerState | None:
        return next((s for s in self.servers if s.server == label), None)


@dataclass(frozen=True)
class SnapshotState:
    name: str
    rdtype: str
    verdict: str
    collected_at: float
    zones: tuple[ZoneState, ...]

    def zone(self, name: str) -> ZoneState | None:
        return next((z for z in self.zones if z.zone == name), None)


def read_state(report: Report) -> SnapshotState:
    evidence = Evidence.of(report.snapshot)
    zones = []
    for assessment in report.analysis.zones:
        origin = dns.name.from_text(assessment.zone)
        ds_by_server: dict[str, tuple[DS, ...]] = {}
        for observation in evidence.authoritative(assessment.zone, Purpose.DS):
            if observation.message is None or observation.message.rcode() not in (0, 3):
                continue
            rrset = observation.rrset(origin, dns.rdatatype.DS)
            ds_by_server[observation.server] = tuple(
                rd for rd in (rrset or ()) if isinstance(rd, DS)
            )
        keys: dict[str, tuple[DNSKEY, ...]] = {}
        signers: dict[str, tuple[tuple[int, int], ...]] = {}
        data_signers: dict[str, tuple[tuple[int, int], ...]] = {}
        soa_expire: int | None = None
        for observation in evidence.authoritative(assessment.zone, Purpose.DNSKEY, Purpose.SOA):
            if not observation.authoritative:
                continue
            if observation.exchange.purpose is Purpose.SOA:
                soa = observation.rrset(origin, dns.rdatatype.SOA)
                if soa is not None and soa_expire is None:
                    soa_expire = int(soa[0].expire)
                soa_sigs = observation.signatures(origin, dns.rdatatype.SOA)
                data_signers[observation.server] = _signers(soa_sigs)
                continue
            rrset = observation.rrset(origin, dns.rdatatype.DNSKEY)
            keys[observation.server] = tuple(rd for rd in (rrset or ()) if isinstance(rd, DNSKEY))
            sigs = observation.signatures(origin, dns.rdatatype.DNSKEY)
            signers[observation.server] = _signers(sigs)
        servers = tuple(
            ServerState(
                server=view.server,
                answered=view.answered,
                serial=view.serial,
                dnskeys=keys.get(view.server, ()),
                signers=signers.get(view.server, ()),
                earliest_expiration=view.earliest_expiration,
                newest_inception=view.newest_inception,
                state=view.state.value,
                data_signers=data_signers.get(view.server, ()),
            )
            for view in assessment.servers
        )
        first = next(iter(ds_by_server.values()), ())
        zones.append(
            ZoneState(
                zone=assessment.zone,
                state=assessment.state.value,
                ds=first,
                ds_by_server=tuple(ds_by_server.items()),
                ds_ttl=assessment.ds_ttl,
                negative_ttl=assessment.negative_ttl,
                servers=servers,
                soa_expire=soa_expire,
                dnskey_ttl=assessment.dnskey_ttl,
                anchors=_anchors_of(report.snapshot.trust_anchors, origin),
            )
        )
    return SnapshotState(
        name=report.diagnosis.name,
        rdtype=report.diagnosis.rdtype,
        verdict=report.diagnosis.verdict.value,
        collected_at=report.snapshot.collected_at,
        zones=tuple(zones),
    )


def _signers(sigs: dns.rrset.RRset | None) -> tuple[tuple[int, int], ...]:
    return tuple(
        sorted({(int(s.key_tag), int(s.algorithm)) for s in sigs or () if isinstance(s, RRSIG)})
    )


def _anchors_of(lines: tuple[str, ...], origin: dns.name.Name) -> tuple[DS | DNSKEY, ...]:
    """The trust anchors (zone-file lines) whose owner is ``origin``."""
    found: list[DS | DNSKEY] = []
    for line in lines:
        try:
            owner = dns.name.from_text(line.split(None, 1)[0])
        except (dns.exception.DNSException, IndexError):
            continue
        rdata = parse_record(line, "DS", "DNSKEY")
        if owner == origin and isinstance(rdata, DS | DNSKEY):
            found.append(rdata)
    return tuple(found)


def key_label(key: DNSKEY) -> str:
    """``KSK 12345/13`` (with ``revoked`` when the REVOKE bit is set)."""
    kind = "KSK" if key.flags & Flag.SEP else "ZSK"
    revoked = " revoked" if key.flags & Flag.REVOKE else ""
    return f"{kind} {dns.dnssec.key_id(key)}/{key.algorithm}{revoked}"


def ds_label(ds: DS) -> str:
    return f"DS {ds.key_tag}/{ds.algorithm}/{ds.digest_type}"


def same_key(a: DNSKEY, b: DNSKEY) -> bool:
    """The same key material, whatever the flags (a revoked key is the same key)."""
    return a.algorithm == b.algorithm and a.key == b.key


def every_server(count: int) -> str:
    """ "the only server" or "all 3 servers", never "all 1 servers"."""
    return "the only server" if count == 1 else f"all {count} servers"
