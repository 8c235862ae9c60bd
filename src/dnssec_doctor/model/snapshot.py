"""The snapshot: every query the probe sent and every response as the bytes received.

It is the contract between I/O and analysis. ``probe`` writes it, ``analyze`` reads it
offline and reaches the same result as ``check`` did at the snapshot's time. Responses
stay raw (base64 in JSON) so that a malformed reply is kept and becomes a finding
rather than being lost in parsing.

Versioned JSON::

    {"format": "dnssec-doctor-snapshot", "version": 1, "name": ..., "type": ...,
     "collected_at": ..., "finished_at": ..., "trust_anchors": [...],
     "zones": [{"zone", "parent", "servers": [{"name", "address"}], "via"}],
     "exchanges": [{"id", "role", "purpose", "zone", "server": {...}, "qname", "qtype",
                    "rd", "cd", "do", "transport", "sent_at", "duration",
                    "response": base64 | null, "error": str | null,
                    "after": id | null}],
     "resolvers": [address, ...], "targets": [[name, type], ...], "notes": [...]}
"""

from __future__ import annotations

import base64
import enum
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.name

from dnssec_doctor.model.shell import shell_command

SNAPSHOT_FORMAT = "dnssec-doctor-snapshot"
SNAPSHOT_VERSION = 1


# The probe's own names for denial questions (a name that does not exist): evidence about
# the zone's denial chain, never what the user asked.
DENIAL_PROBE_PREFIX = "dnssec-doctor-nx-"


class SnapshotError(ValueError):
    """A snapshot document that cannot be read (wrong format, version or shape)."""


class Role(enum.StrEnum):
    AUTHORITATIVE = "authoritative"
    RESOLVER = "resolver"


class Purpose(enum.StrEnum):
    """Why a query was sent; the analysis picks responses by purpose."""

    REFERRAL = "referral"  # the target name, asked of a zone's servers to find the next cut
    ANSWER = "answer"  # the target name, asked of the servers of the zone that holds it
    DS = "ds"  # the child's DS RRset, asked of the parent's servers
    DNSKEY = "dnskey"
    SOA = "soa"
    NS = "ns"
    CDS = "cds"
    CDNSKEY = "cdnskey"
    DENIAL = "denial"  # a name that cannot exist, for the NXDOMAIN proof
    ADDRESS = "address"  # resolving an NS name that had no glue
    RESOLVER_PLAIN = "resolver-plain"  # RD, no DO: what a stub sees
    RESOLVER_DO = "resolver-do"  # RD + DO: rcode, AD, EDE of a validator
    RESOLVER_CD = "resolver-cd"  # RD + DO + CD: the data with validation off
    # RD + DO, the trust anchor's own SOA: a validating resolver sets AD on it, whatever
    # the question's zone; one that never does is not validating.
    RESOLVER_ANCHOR = "resolver-anchor"
    # The transport probes (check only), to each server of the zone that holds the name:
    # the apex SOA over TCP, carrying an EDNS option no server knows (TCP works, unknown
    # options are ignored), and over UDP with EDNS version 1 (answered BADVERS).
    TCP_PROBE = "tcp-probe"
    EDNS_PROBE = "edns-probe"
    OPTION_PROBE = "option-probe"


# The UDP payload size every query advertises (EDNS0): the DNS flag day 2020 size, which
# needs no IP fragmentation. A server must fit its UDP response in it or set TC.
# The questions that test how a server answers (TCP, an unknown EDNS option, EDNS version
# 1), not what its zone holds.
TRANSPORT_PROBES = frozenset({Purpose.TCP_PROBE, Purpose.OPTION_PROBE, Purpose.EDNS_PROBE})

QUERY_EDNS_PAYLOAD = 1232

# The EDNS option the TCP probe carries: in the range for local and experimental use
# (RFC 6891 §9), so no server implements it.
UNKNOWN_EDNS_OPTION = 65001
UNKNOWN_EDNS_OPTION_DATA = b"dnssec-doctor"


def edns_version(purpose: Purpose) -> int:
    """The EDNS version a question of ``purpose`` is sent with."""
    return 1 if purpose is Purpose.EDNS_PROBE else 0


def carries_unknown_option(purpose: Purpose) -> bool:
    """Whether a question of ``purpose`` carries ``UNKNOWN_EDNS_OPTION``."""
    return purpose is Purpose.OPTION_PROBE


class Transport(enum.StrEnum):
    UDP = "udp"
    TCP = "tcp"


@dataclass(frozen=True, order=True)
class Server:
    """One address of one name server (``name`` is None for a resolver or a hint)."""

    address: str
    name: str | None = None

    def label(self) -> str:
        return f"{self.name} ({self.address})" if self.name else self.address


@dataclass(frozen=True)
class Exchange:
    """One query and what came back: the response bytes, or the transport error."""

    id: int
    role: Role
    purpose: Purpose
    zone: str | None  # the zone the question is about (None for resolver questions)
    server: Server
    qname: str
    qtype: str
    rd: bool
    cd: bool
    do: bool
    transport: Transport
    sent_at: float  # POSIX time
    duration: float | None  # seconds; None when nothing came back
    response: bytes | None
    error: str | None = None  # "timeout", "connection refused", ...
    # The exchange whose answer (or failure) this query waited for last before it was
    # sent; None when it waited for none. Counts the answers a probe waited for in a row.
    after: int | None = None
    # The largest UDP response the query offered to take (its EDNS payload size; 512
    # without EDNS); None when not known (a snapshot written before it was recorded).
    payload: int | None = None

    def dig_command(self) -> str:
        """The dig command that asks the same question of the same server."""
        flags = ["+dnssec" if self.do else "+nodnssec", "+rec" if self.rd else "+norec"]
        if self.cd:
            flags.append("+cd")
        if self.transport is Transport.TCP:
            flags.append("+tcp")
        if edns_version(self.purpose) != 0:
            flags += [f"+edns={edns_version(self.purpose)}", "+noednsneg"]
        if carries_unknown_option(self.purpose):
            flags.append(f"+ednsopt={UNKNOWN_EDNS_OPTION}:{UNKNOWN_EDNS_OPTION_DATA.hex()}")
        return shell_command("dig", f"@{self.server.address}", *flags, self.qname, self.qtype)


@dataclass(frozen=True)
class ZoneCut:
    """A zone on the path to the name, with the servers the parent delegates it to."""

    zone: str
    parent: str | None
    servers: tuple[Server, ...]
    via: str  # the name whose resolution led here (the target or a CNAME target)


@dataclass(frozen=True)
class Snapshot:
    """Everything a probe collected for one name and type: every exchange as the bytes
    received."""

    name: str
    rdtype: str
    collected_at: float
    finished_at: float
    trust_anchors: tuple[str, ...]  # DS or DNSKEY records in zone-file form
    zones: tuple[ZoneCut, ...]
    exchanges: tuple[Exchange, ...]
    resolvers: tuple[str, ...] = ()
    targets: tuple[tuple[str, str], ...] = ()  # the name, then each CNAME/DNAME target
    notes: tuple[str, ...] = ()
    tool: str = ""
    version: int = SNAPSHOT_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": SNAPSHOT_FORMAT,
            "version": self.version,
            "tool": self.tool,
            "name": self.name,
            "type": self.rdtype,
            "collected_at": self.collected_at,
            "finished_at": self.finished_at,
            "trust_anchors": list(self.trust_anchors),
            "resolvers": list(self.resolvers),
            "targets": [list(t) for t in self.targets],
            "notes": list(self.notes),
            "zones": [
                {
                    "zone": z.zone,
                    "parent": z.parent,
                    "servers": [_server_json(s) for s in z.servers],
                    "via": z.via,
                }
                for z in self.zones
            ],
            "exchanges": [_exchange_json(e) for e in self.exchanges],
            "extra": dict(self.extra),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1)


def _server_json(server: Server) -> dict[str, Any]:
    return {"name": server.name, "address": server.address}


def _exchange_json(exchange: Exchange) -> dict[str, Any]:
    return {
        "id": exchange.id,
        "role": exchange.role.value,
        "purpose": exchange.purpose.value,
        "zone": exchange.zone,
        "server": _server_json(exchange.server),
        "qname": exchange.qname,
        "qtype": exchange.qtype,
        "rd": exchange.rd,
        "cd": exchange.cd,
        "do": exchange.do,
        "transport": exchange.transport.value,
        "sent_at": exchange.sent_at,
        "duration": exchange.duration,
        "response": base64.b64encode(exchange.response).decode() if exchange.response else None,
        "error": exchange.error,
        "after": exchange.after,
        "payload": exchange.payload,
    }


def load_snapshot(data: Mapping[str, Any]) -> Snapshot:
    """Read a snapshot document; ``SnapshotError`` says what is wrong with it."""
    if not isinstance(data, Mapping) or data.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError("not a dnssec-doctor snapshot (no 'format' field of that name)")
    version = data.get("version")
    if version != SNAPSHOT_VERSION:
        raise SnapshotError(
            f"snapshot version {version!r} is not supported (expected {SNAPSHOT_VERSION})"
        )
    try:
        snapshot = Snapshot(
            name=str(data["name"]),
            rdtype=str(data["type"]),
            collected_at=_time(data["collected_at"], "collected_at"),
            finished_at=_time(data["finished_at"], "finished_at"),
            trust_anchors=tuple(str(t) for t in data["trust_anchors"]),
            resolvers=tuple(str(r) for r in data.get("resolvers", ())),
            targets=tuple((str(n), str(t)) for n, t in data.get("targets", ())),
            notes=tuple(str(n) for n in data.get("notes", ())),
            tool=str(data.get("tool", "")),
            zones=tuple(
                ZoneCut(
                    zone=str(z["zone"]),
                    parent=None if z["parent"] is None else str(z["parent"]),
                    servers=tuple(_load_server(s) for s in z["servers"]),
                    via=str(z.get("via", data["name"])),
                )
                for z in data["zones"]
            ),
            exchanges=tuple(_load_exchange(e) for e in data["exchanges"]),
            extra=dict(data.get("extra", {})),
        )
    except SnapshotError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
        raise SnapshotError(f"malformed snapshot: {type(error).__name__}: {error}") from None
    check_snapshot_bounds(snapshot)
    return snapshot


# The errors of exchanges that our own deadline ended, not the server: a query in flight
# when the probe gave up, and a wait the time left cut short of the per-query timeout.
# They are evidence of nothing about the server (the analysis says the probe ran out of
# time, never that the zone is unreachable).
UNSENT = "cancelled: deadline reached"
DEADLINE_CUT = "timeout: cut short by the deadline"
CUT_BY_DEADLINE = (UNSENT, DEADLINE_CUT)


# What a snapshot our probe writes can hold, with room to spare; beyond it a file is not
# evidence but an attack on the reader (a zone that is its own parent loops the analysis).
MAX_EXCHANGES = 100_000
MAX_ZONES = 1_000
MAX_MESSAGE = 65_535  # bytes: the largest DNS message
LATEST_TIME = 2.0**34  # seconds since 1970: the year 2514


def _time(value: Any, field_name: str) -> float:
    when = float(value)
    if not (math.isfinite(when) and 0 <= when < LATEST_TIME):
        raise SnapshotError(f"{field_name} {value!r} is not a time (seconds since 1970)")
    return when


def check_snapshot_bounds(snapshot: Snapshot) -> None:
    """What a snapshot may hold (``SnapshotError`` otherwise), whatever it was read from."""
    if len(snapshot.exchanges) > MAX_EXCHANGES or len(snapshot.zones) > MAX_ZONES:
        raise SnapshotError(
            f"{len(snapshot.exchanges)} exchanges in {len(snapshot.zones)} zones: more than "
            f"a probe makes ({MAX_EXCHANGES}, {MAX_ZONES})"
        )
    for exchange in snapshot.exchanges:
        if exchange.response is not None and len(exchange.response) > MAX_MESSAGE:
            raise SnapshotError(
                f"exchange {exchange.id} holds a response of {len(exchange.response)} bytes: "
                f"a DNS message has at most {MAX_MESSAGE}"
            )
        if exchange.duration is not None and not 0 <= exchange.duration <= 86400:
            raise SnapshotError(f"exchange {exchange.id}: duration {exchange.duration} s")
    for cut in snapshot.zones:
        if cut.parent is None:
            continue
        try:
            zone, parent = dns.name.from_text(cut.zone), dns.name.from_text(cut.parent)
        except dns.exception.DNSException as error:
            raise SnapshotError(f"zone {cut.zone[:100]!r}: {error}") from None
        if zone == parent:
            raise SnapshotError(f"zone {cut.zone[:100]} is its own parent")
        if not zone.is_subdomain(parent):
            raise SnapshotError(
                f"the parent {cut.parent[:100]} of zone {cut.zone[:100]} is not above it"
            )


def _load_server(data: Mapping[str, Any]) -> Server:
    name = data.get("name")
    return Server(address=str(data["address"]), name=None if name is None else str(name))


def _load_exchange(data: Mapping[str, Any]) -> Exchange:
    response = data.get("response")
    duration = data.get("duration")
    error = data.get("error")
    after = data.get("after")
    payload = data.get("payload")
    if payload is not None and (
        isinstance(payload, bool) or not isinstance(payload, int) or not 0 <= payload <= 65535
    ):
        raise SnapshotError(f"exchange payload {str(payload)[:20]!r} is not a UDP payload size")
    return Exchange(
        id=int(data["id"]),
        role=Role(data["role"]),
        purpose=Purpose(data["purpose"]),
        zone=None if data.get("zone") is None else str(data["zone"]),
        server=_load_server(data["server"]),
        qname=str(data["qname"]),
        qtype=str(data["qtype"]),
        rd=bool(data["rd"]),
        cd=bool(data["cd"]),
        do=bool(data["do"]),
        transport=Transport(data["transport"]),
        sent_at=_time(data["sent_at"], "sent_at"),
        duration=None if duration is None else float(duration),
        response=base64.b64decode(response, validate=True) if response else None,
        error=None if error is None else str(error),
        after=None if after is None else int(after),
        payload=payload,
    )
