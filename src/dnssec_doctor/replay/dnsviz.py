"""DNSViz probes as snapshots: the JSON ``dnsviz probe`` writes, converted to ours.

A DNSViz probe (format 1.x: a ``_meta._dnsviz.`` entry naming the probed names, and one
entry per name with its servers and queries, every response as base64 wire bytes) holds
what our probe collects, asked differently. The conversion keeps every response's bytes
as DNSViz recorded them and maps each query onto our purposes:

- the chain is the probed name's zone and its parents (``parent``), each with the servers
  of ``auth_ns_ip_mapping``;
- a question for the zone's DS goes to the parent's servers (purpose DS); the zone's
  DNSKEY, SOA, NS, CDS and CDNSKEY to its own; ``nxdomain_name`` and ``nxrrset_name`` are
  the denial probes; the name with the chosen type is the answer; a question a parent's
  server is asked about the child is a referral;
- DNSViz repeats questions with other EDNS options to test servers (no EDNS, EDNS
  version 1, small buffers, 0x20 case): only the first ordinary one (EDNS 0, DO set) per
  server and question is kept, and the others are counted in the notes;
- a probe through recursive servers (``type: recursive``) gives resolver views (plain,
  DO, DO+CD by the query's flags), not authoritative data.

Pure: a parsed JSON document in, a ``Snapshot`` out; a ``DnsvizProbeError`` (exit 4) for
a document that is not a DNSViz probe or cannot be read as one.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import time
from collections.abc import Mapping
from typing import Any

import dns.exception
import dns.flags
import dns.name
import dns.rdatatype

from dnssec_doctor.errors import UsageError
from dnssec_doctor.model.snapshot import (
    Exchange,
    Purpose,
    Role,
    Server,
    Snapshot,
    Transport,
    ZoneCut,
)

META = "_meta._dnsviz."
_APEX_PURPOSES = {
    "DNSKEY": Purpose.DNSKEY,
    "SOA": Purpose.SOA,
    "NS": Purpose.NS,
    "CDS": Purpose.CDS,
    "CDNSKEY": Purpose.CDNSKEY,
}
_ERRORS = {"TIMEOUT": "timeout", "FORMERR": "malformed response", "OTHER": "error"}
_ERRNOS = {
    "ECONNREFUSED": "connection refused",
    "ECONNRESET": "connection reset",
    "ENETUNREACH": "network unreachable",
    "EHOSTUNREACH": "host unreachable",
    "EADDRNOTAVAIL": "address not available",
}


class DnsvizProbeError(UsageError):
    """A document that claims to be a DNSViz probe and cannot be read as one."""


def is_dnsviz_probe(document: object) -> bool:
    return isinstance(document, dict) and META in document


def probe_to_snapshot(
    document: Mapping[str, Any],
    *,
    name: str | None = None,
    rdtype: str | None = None,
    trust_anchors: tuple[str, ...] = (),
    source: str = "the DNSViz probe",
) -> Snapshot:
    """The snapshot of ``name`` (default: the deepest name probed) and ``rdtype``
    (default: the type DNSViz asked of it) in a DNSViz probe."""
    try:
        return _Converter(document, source).convert(name, rdtype, trust_anchors)
    except DnsvizProbeError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, dns.exception.DNSException) as e:
        raise DnsvizProbeError(f"{source}: not a readable DNSViz probe: {_describe(e)}") from None


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing {error.args[0]!r}"
    return str(error) or type(error).__name__


class _Converter:
    def __init__(self, document: Mapping[str, Any], source: str) -> None:
        self.source = source
        meta = document.get(META)
        if not isinstance(meta, dict) or not isinstance(meta.get("names"), list):
            raise DnsvizProbeError(f"{source}: not a DNSViz probe (no {META} names)")
        version = meta.get("version")
        if not isinstance(version, int | float) or not 1 <= version < 2:
            raise DnsvizProbeError(f"{source}: DNSViz probe format {version!r} is not 1.x")
        self.names = [dns.name.from_text(str(n)) for n in meta["names"]]
        self.entries = {
            dns.name.from_text(key): value
            for key, value in document.items()
            if key != META and isinstance(value, dict)
        }
        self.notes: list[str] = []

    def fail(self, message: str) -> DnsvizProbeError:
        return DnsvizProbeError(f"{self.source}: {message}")

    def convert(
        self, name_text: str | None, rdtype_text: str | None, trust_anchors: tuple[str, ...]
    ) -> Snapshot:
        if not self.names:
            raise self.fail("the probe names no name")
        target = (
            dns.name.from_text(name_text)
            if name_text
            else max(self.names, key=lambda n: len(n))  # the deepest (first on a tie)
        )
        entry = self.entries.get(target)
        if entry is None:
            probed = ", ".join(n.to_text() for n in self.names)
            raise self.fail(f"{target} is not in the probe (it has {probed})")
        asked = self.asked_types(target, entry)
        rdtype = self.choose_type(target, entry, asked, rdtype_text)
        chain = self.chain(target)
        recursive = entry.get("type") == "recursive"
        exchanges: list[Exchange] = []
        for zone in chain:
            exchanges += self.exchanges_of(zone, target, rdtype, recursive)
        exchanges = [_renumber(e, i) for i, e in enumerate(exchanges, start=1)]
        # The probe ran from the top zone down: from its first start to its last end.
        starts = [_moment(self.entries[z].get("analysis_start"), self) for z in chain]
        ends = [
            _moment(self.entries[z]["analysis_end"], self)
            for z in chain
            if "analysis_end" in self.entries[z]
        ]
        started, finished = min(starts), max(ends + starts)
        others = sorted(t for t in asked if t != rdtype and t not in _APEX_PURPOSES and t != "DS")
        if others:
            self.notes.append(
                f"DNSViz also asked {target} {', '.join(others)}: not diagnosed (--type)"
            )
        cuts = () if recursive else tuple(self.cut(z, target) for z in chain if self.is_zone(z))
        return Snapshot(
            name=target.to_text(),
            rdtype=rdtype,
            collected_at=started,
            finished_at=max(started, finished),
            trust_anchors=trust_anchors,
            zones=cuts,
            exchanges=tuple(exchanges),
            resolvers=tuple(
                dict.fromkeys(e.server.address for e in exchanges if e.role is Role.RESOLVER)
            ),
            targets=((target.to_text(), rdtype),),
            notes=tuple(dict.fromkeys(self.notes)),
            tool=f"DNSViz probe (converted from {self.source})",
            extra={"source": "dnsviz"},
        )

    def asked_types(self, target: dns.name.Name, entry: Mapping[str, Any]) -> list[str]:
        types: list[str] = []
        for query in entry.get("queries", []):
            if dns.name.from_text(query["qname"]) == target:
                types.append(str(query["qtype"]).upper())
        return list(dict.fromkeys(types))

    def choose_type(
        self,
        target: dns.name.Name,
        entry: Mapping[str, Any],
        asked: list[str],
        wanted: str | None,
    ) -> str:
        if wanted is not None:
            chosen = dns.rdatatype.to_text(dns.rdatatype.from_text(wanted))
            if chosen not in asked:
                raise self.fail(
                    f"DNSViz did not ask {target} {chosen}; it asked {', '.join(asked)}"
                )
            return chosen
        preferred = entry.get("auth_rdtype")
        if isinstance(preferred, str) and preferred.upper() in asked:
            return preferred.upper()
        if "A" in asked:
            return "A"
        if "SOA" in asked:  # a zone probed for itself (the root): its apex
            return "SOA"
        if not asked:
            raise self.fail(f"the probe asked {target} nothing")
        return asked[0]

    def chain(self, target: dns.name.Name) -> list[dns.name.Name]:
        """The zones from the top down to the probed name's zone."""
        zones: list[dns.name.Name] = []
        current: dns.name.Name | None = target
        while current is not None:
            if current in zones:
                raise self.fail(f"the parents of {target} loop at {current}")
            entry = self.entries.get(current)
            if entry is None:
                raise self.fail(f"{current}, a parent on the way to {target}, is not in the probe")
            zones.append(current)
            parent = entry.get("parent")
            current = dns.name.from_text(parent) if parent else None
        return list(reversed(zones))

    def is_zone(self, name: dns.name.Name) -> bool:
        """DNSViz records a zone's servers; a name inside a zone has none."""
        return "auth_ns_ip_mapping" in self.entries.get(name, {})

    def zone_of(self, name: dns.name.Name) -> dns.name.Name:
        """The zone holding ``name``: itself if it is one, else its nearest zone parent."""
        current: dns.name.Name | None = name
        while current is not None and not self.is_zone(current):
            parent = self.entries.get(current, {}).get("parent")
            current = dns.name.from_text(parent) if parent else None
        if current is None:
            raise self.fail(f"no zone above {name} in the probe")
        return current

    def servers_of(self, zone: dns.name.Name) -> dict[str, str]:
        """address -> NS name of the zone's servers."""
        mapping = self.entries.get(zone, {}).get("auth_ns_ip_mapping") or {}
        return {str(ip): str(ns) for ns, ips in mapping.items() for ip in ips}

    def cut(self, zone: dns.name.Name, target: dns.name.Name) -> ZoneCut:
        parent = self.entries[zone].get("parent")
        servers = tuple(Server(ip, ns) for ip, ns in self.servers_of(zone).items())
        return ZoneCut(
            zone=zone.to_text(),
            parent=str(dns.name.from_text(parent)) if parent else None,
            servers=servers,
            via=target.to_text(),
        )

    def exchanges_of(
        self, zone: dns.name.Name, target: dns.name.Name, rdtype: str, recursive: bool
    ) -> list[Exchange]:
        entry = self.entries[zone]
        if not self.is_zone(zone):
            # A name inside a zone: asked of that zone's servers, nothing of its own.
            zone = self.zone_of(zone)
            parent_name = None
        else:
            parent_name = entry.get("parent")
        own = self.servers_of(zone)
        parent = self.servers_of(dns.name.from_text(parent_name)) if parent_name else {}
        started = _moment(entry.get("analysis_start"), self)
        denial = {
            (dns.name.from_text(entry[n]), str(entry[t]).upper())
            for n, t in (("nxdomain_name", "nxdomain_rdtype"), ("nxrrset_name", "nxrrset_rdtype"))
            if entry.get(n) and entry.get(t)
        }
        # (server, question) -> the exchange kept and how good its response is
        best: dict[tuple[str, dns.name.Name, str], tuple[int, Exchange]] = {}
        skipped = 0
        for query in entry.get("queries", []):
            qname = dns.name.from_text(query["qname"])
            qtype = str(query["qtype"]).upper()
            options = query.get("options", {})
            flags = int(options.get("flags", 0))
            edns_flags = int(options.get("edns_flags", 0))
            ordinary = (
                options.get("edns_version", -1) == 0
                and edns_flags & dns.flags.DO
                and not flags & ~(dns.flags.RD | dns.flags.CD)
                and qname.to_text() == qname.to_text().lower()
            )
            for address, clients in query.get("responses", {}).items():
                for response in clients.values():
                    payload = options.get("edns_max_udp_payload")
                    effective = _effective(
                        flags,
                        edns_flags,
                        bool(options.get("tcp")),
                        payload if isinstance(payload, int) else None,
                        response,
                    )
                    if not ordinary or not effective[1] & dns.flags.DO:
                        skipped += 1  # a diagnostic query, or retried without DO
                        continue
                    where = self.place(
                        zone, qname, qtype, target, rdtype, address, own, parent, denial, recursive
                    )
                    if where is None:
                        continue
                    role, purpose, zone_text, name = where
                    exchange = _exchange(
                        role,
                        purpose,
                        zone_text,
                        Server(address, name),
                        qname,
                        qtype,
                        *effective,
                        started,
                        response,
                    )
                    key = (address, qname, qtype)
                    rank = _rank(exchange)
                    if rank == 1:
                        skipped += 1  # truncated: what came over TCP, if anything, is another
                        continue
                    if key in best:
                        skipped += 1
                        if rank <= best[key][0]:
                            continue
                    best[key] = (rank, exchange)
        found = [exchange for _, exchange in best.values()]
        if skipped:
            self.notes.append(
                f"{skipped} DNSViz responses at {zone} to repeated or diagnostic queries "
                "(other EDNS options or buffer sizes, no DO, 0x20 case, truncated) not used"
            )
        return found

    def place(
        self,
        zone: dns.name.Name,
        qname: dns.name.Name,
        qtype: str,
        target: dns.name.Name,
        rdtype: str,
        address: str,
        own: dict[str, str],
        parent: dict[str, str],
        denial: set[tuple[dns.name.Name, str]],
        recursive: bool,
    ) -> tuple[Role, Purpose, str | None, str | None] | None:
        """Who was asked what, in our terms; None for a question we do not use."""
        if recursive:
            if qname != target or qtype != rdtype:
                return None
            return Role.RESOLVER, Purpose.RESOLVER_DO, None, None
        zone_text = zone.to_text()
        if qtype == "DS" and qname == zone:
            return Role.AUTHORITATIVE, Purpose.DS, zone_text, parent.get(address)
        if address in own:
            if (qname, qtype) in denial and (qname != zone or qtype not in _APEX_PURPOSES):
                return Role.AUTHORITATIVE, Purpose.DENIAL, zone_text, own[address]
            if qname == zone and qtype in _APEX_PURPOSES and (qname, qtype) != (target, rdtype):
                return Role.AUTHORITATIVE, _APEX_PURPOSES[qtype], zone_text, own[address]
            if qname == target and qtype == rdtype:
                return Role.AUTHORITATIVE, Purpose.ANSWER, zone_text, own[address]
            return None
        if address in parent and qname == zone and parent:
            # The parent's servers asked about the child: the referral to it.
            parent_zone = self.entries[zone].get("parent")
            return Role.AUTHORITATIVE, Purpose.REFERRAL, parent_zone, parent[address]
        return None


def _exchange(
    role: Role,
    purpose: Purpose,
    zone: str | None,
    server: Server,
    qname: dns.name.Name,
    qtype: str,
    flags: int,
    edns_flags: int,
    tcp: bool,
    payload: int | None,
    started: float,
    response: Mapping[str, Any],
) -> Exchange:
    message = response.get("message")
    wire: bytes | None = None
    error: str | None = None
    if message:
        try:
            wire = base64.b64decode(str(message), validate=True)
        except (binascii.Error, ValueError):
            error = "the recorded response is not base64"
    else:
        cause = str(response.get("error", "OTHER"))
        errno_name = response.get("errno")
        error = _ERRNOS.get(str(errno_name), _ERRORS.get(cause, cause.lower().replace("_", " ")))
    if role is Role.RESOLVER:
        purpose = (
            Purpose.RESOLVER_CD
            if flags & dns.flags.CD
            else Purpose.RESOLVER_DO
            if edns_flags & dns.flags.DO
            else Purpose.RESOLVER_PLAIN
        )
    elapsed = response.get("time_elapsed")
    return Exchange(
        id=0,
        role=role,
        purpose=purpose,
        zone=zone,
        server=server,
        qname=qname.to_text(),
        qtype=qtype,
        rd=bool(flags & dns.flags.RD),
        cd=bool(flags & dns.flags.CD),
        do=bool(edns_flags & dns.flags.DO),
        transport=Transport.TCP if tcp else Transport.UDP,
        sent_at=started,
        duration=float(elapsed) / 1000 if isinstance(elapsed, int | float) and wire else None,
        response=wire,
        error=error,
        payload=payload if payload is None or 0 <= payload <= 65535 else None,
    )


def _effective(
    flags: int, edns_flags: int, tcp: bool, payload: int | None, response: Mapping[str, Any]
) -> tuple[int, int, bool, int | None]:
    """The flags, EDNS flags, transport and UDP payload size offered (its
    ``edns_max_udp_payload``; None if not known) of the query that got the recorded
    response: DNSViz retries with other options (``history``) and records only the last
    response."""
    for retry in response.get("history") or ():
        action = retry.get("action")
        argument = retry.get("action_arg")
        if action == "USE_TCP":
            tcp = True
        elif action == "USE_UDP":
            tcp = False
        elif action == "CHANGE_UDP_MAX_PAYLOAD":
            tcp = False
            payload = argument if isinstance(argument, int) else None
        elif action == "DISABLE_EDNS":
            edns_flags = 0
            payload = 512  # without EDNS, 512 octets (RFC 1035 §4.2.1)
        elif action == "CLEAR_EDNS_FLAG" and isinstance(argument, int):
            edns_flags &= ~argument
        elif action == "SET_EDNS_FLAG" and isinstance(argument, int):
            edns_flags |= argument
        elif action == "CLEAR_FLAG" and isinstance(argument, int):
            flags &= ~argument
        elif action == "SET_FLAG" and isinstance(argument, int):
            flags |= argument
    return flags, edns_flags, tcp, payload


def _rank(exchange: Exchange) -> int:
    """Among repeats of one question (DNSViz varies the buffer size): a whole response
    (2) beats none (0); a truncated one (1) is incomplete and not used."""
    wire = exchange.response
    if not wire:
        return 0
    return 1 if len(wire) >= 4 and wire[2] & (dns.flags.TC >> 8) else 2


def _renumber(exchange: Exchange, number: int) -> Exchange:
    from dataclasses import replace

    return replace(exchange, id=number)


def _moment(text: object, converter: _Converter) -> float:
    """DNSViz writes "2020-11-09 20:52:07 UTC"."""
    if not isinstance(text, str):
        raise converter.fail("a name has no analysis_start time")
    try:
        return float(calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S UTC")))
    except ValueError:
        raise converter.fail(f"unreadable time {text[:40]!r}") from None
