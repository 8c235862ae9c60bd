"""A parsed, indexed view of a snapshot: what every server said, by zone and purpose.

Parsing happens once, here. A response that cannot be parsed is kept with its error, so
that the server checks can report it; a record that cannot be read is set aside with its
bytes and the rest of its message kept (``analysis.wire``); nothing in this module raises
for bad data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dnssec_doctor.analysis.wire import MalformedRecord, parse_message, with_malformed
from dnssec_doctor.model.snapshot import (
    TRANSPORT_PROBES,
    Exchange,
    Purpose,
    Role,
    Snapshot,
    ZoneCut,
)


@dataclass(frozen=True)
class Observation:
    """One exchange with its parsed response (or why there is none)."""

    exchange: Exchange
    message: dns.message.Message | None
    parse_error: str | None
    malformed: tuple[MalformedRecord, ...] = ()  # records whose RDATA cannot be read

    @property
    def server(self) -> str:
        return self.exchange.server.label()

    @property
    def answered(self) -> bool:
        return self.message is not None

    @property
    def rcode(self) -> int | None:
        return None if self.message is None else self.message.rcode()

    @property
    def rcode_text(self) -> str:
        if self.message is None:
            return "TIMEOUT" if self.exchange.error == "timeout" else "NO ANSWER"
        return dns.rcode.to_text(self.message.rcode())

    @property
    def authoritative(self) -> bool:
        return self.message is not None and bool(self.message.flags & dns.flags.AA)

    def rrset(
        self,
        name: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        *,
        section: str = "answer",
        covers: dns.rdatatype.RdataType = dns.rdatatype.NONE,
    ) -> dns.rrset.RRset | None:
        if self.message is None:
            return None
        rrsets = getattr(self.message, section)
        for rrset in rrsets:
            if rrset.name == name and rrset.rdtype == rdtype and rrset.covers == covers:
                return rrset  # type: ignore[no-any-return]
        return None

    def signatures(
        self, name: dns.name.Name, covered: dns.rdatatype.RdataType, *, section: str = "answer"
    ) -> dns.rrset.RRset | None:
        return self.rrset(name, dns.rdatatype.RRSIG, section=section, covers=covered)

    def sent_rrset(
        self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType, *, section: str = "answer"
    ) -> dns.rrset.RRset | None:
        """The RRset as the server sent it: its malformed records included as opaque
        RDATA (what a signature over it covers, and a record all the same)."""
        return with_malformed(
            self.rrset(name, rdtype, section=section), name, rdtype, self.malformed, section
        )

    def malformed_signatures(
        self, name: dns.name.Name, covered: dns.rdatatype.RdataType, *, section: str = "answer"
    ) -> tuple[MalformedRecord, ...]:
        """The RRSIGs at ``name`` claiming to cover ``covered`` that cannot be read."""
        return tuple(
            m
            for m in self.malformed
            if m.section == section and m.name == name and m.covers == covered
        )


def parse(exchange: Exchange) -> Observation:
    if exchange.response is None:
        return Observation(exchange, None, None)
    parsed = parse_message(exchange.response)
    return Observation(exchange, parsed.message, parsed.error, parsed.malformed)


# Purposes authoritative() leaves out unless asked for by name.
_ONLY_ASKED_FOR = frozenset({Purpose.DS, *TRANSPORT_PROBES})


@dataclass(frozen=True)
class Evidence:
    """Everything the analysis reads, parsed once."""

    snapshot: Snapshot
    observations: tuple[Observation, ...]

    @classmethod
    def of(cls, snapshot: Snapshot) -> Evidence:
        return cls(snapshot, tuple(parse(e) for e in snapshot.exchanges))

    @cached_property
    def target(self) -> tuple[dns.name.Name, dns.rdatatype.RdataType]:
        return dns.name.from_text(self.snapshot.name), dns.rdatatype.from_text(self.snapshot.rdtype)

    def authoritative(
        self, zone: str, *purposes: Purpose, qname: str | None = None
    ) -> Iterator[Observation]:
        """Observations of the zone's servers, by purpose. DS questions are about the zone
        but asked of the parent's servers, and the transport probes (TCP, EDNS version 1)
        test how a server answers, not what the zone holds: they come only when asked for
        by purpose, so an answer over TCP never stands in for the zone's own over UDP."""
        for observation in self._by_zone.get(zone, ()):
            exchange = observation.exchange
            if purposes and exchange.purpose not in purposes:
                continue
            if not purposes and exchange.purpose in _ONLY_ASKED_FOR:
                continue
            if qname is not None and dns.name.from_text(exchange.qname) != dns.name.from_text(
                qname
            ):
                continue
            yield observation

    @cached_property
    def _by_zone(self) -> dict[str | None, list[Observation]]:
        """The authoritative observations by zone, in the snapshot's order: the analysis
        asks for one zone's some hundred times a name."""
        by_zone: dict[str | None, list[Observation]] = {}
        for observation in self.observations:
            if observation.exchange.role is Role.AUTHORITATIVE:
                by_zone.setdefault(observation.exchange.zone, []).append(observation)
        return by_zone

    def resolver(self, address: str, purpose: Purpose) -> list[Observation]:
        return [
            o
            for o in self.observations
            if o.exchange.role is Role.RESOLVER
            and o.exchange.server.address == address
            and o.exchange.purpose is purpose
        ]

    def zone_cut(self, zone: str) -> ZoneCut | None:
        for cut in self.snapshot.zones:
            if cut.zone == zone:
                return cut
        return None

    @cached_property
    def zones(self) -> tuple[str, ...]:
        """Zones on the path, each once, top down in the order the probe found them."""
        return tuple(dict.fromkeys(cut.zone for cut in self.snapshot.zones))
