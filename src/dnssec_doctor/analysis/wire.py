"""Reading a DNS message record by record, so that one malformed record is evidence and
not the loss of the whole message.

dnspython refuses a message over a single record whose RDATA does not fit its type (a DS
whose digest length does not match its digest type, an RRSIG cut short). Validators do
not all do that: Unbound, for one, keeps a DS with the wrong digest length and finds that
it matches no key. So when dnspython refuses, the message is walked here record by record:
every record whose framing (owner, type, class, TTL, RDATA length) is intact but whose
RDATA dnspython cannot read is set aside as a ``MalformedRecord`` with its bytes, and the
rest is rebuilt (uncompressed) and parsed as a message. A message whose framing is broken
(an owner name or an RDATA running past the end) cannot be read by anyone and stays
unparsed.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import struct
import threading
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

SECTIONS = ("answer", "authority", "additional")
_HEADER = struct.Struct("!HHHHHH")
_RR_FIXED = struct.Struct("!HHIH")
# What dnspython raises for bytes it cannot read (hostile input: any of them).
PARSE_ERRORS = (dns.exception.DNSException, ValueError, IndexError, UnicodeError, struct.error)


@dataclass(frozen=True)
class MalformedRecord:
    """One record whose RDATA cannot be read as its type, kept as received."""

    section: str  # "answer", "authority" or "additional"
    name: dns.name.Name
    rdtype: int
    rdclass: int
    ttl: int
    rdata: bytes
    error: str

    @property
    def type_text(self) -> str:
        return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(self.rdtype))

    @property
    def covers(self) -> int | None:
        """For an RRSIG, the type it claims to cover (its first two bytes), if present."""
        if self.rdtype != dns.rdatatype.RRSIG or len(self.rdata) < 2:
            return None
        return int.from_bytes(self.rdata[:2], "big")

    def to_text(self) -> str:
        """The record in RFC 3597 form: every byte as received."""
        rdclass = dns.rdataclass.to_text(dns.rdataclass.RdataClass.make(self.rdclass))
        data = f" {self.rdata.hex()}" if self.rdata else ""
        return f"{self.name} {self.ttl} {rdclass} {self.type_text} \\# {len(self.rdata)}{data}"

    def as_generic(self) -> dns.rdata.GenericRdata:
        """The record as opaque RDATA: what a signature over its RRset covers."""
        return dns.rdata.GenericRdata(
            dns.rdataclass.RdataClass.make(self.rdclass),
            dns.rdatatype.RdataType.make(self.rdtype),
            self.rdata,
        )


@dataclass(frozen=True)
class ParsedMessage:
    """A response parsed, with the records that could not be, or why there is no
    message."""

    message: dns.message.Message | None
    malformed: tuple[MalformedRecord, ...]
    error: str | None  # why there is no message


# Parsed messages by their bytes: ``check`` parses each response once, in the probe while
# it waits for the next answers, and the analysis finds it here. Keyed by the bytes after
# the message ID: the same answer given to another query (a scan's shared cache hands one
# server's answer to every name that asks the same question, each with its own ID) is the
# same message, parsed once. Bounded (least recently used first out) by count and by the
# bytes of wire kept (a parsed message takes up to ~36 times its wire: 2 MiB of wire is at
# most ~75 MB parsed, however large a hostile server makes its answers: 64 KiB at most
# each, so at least 32 are kept). A parsed message is never modified by its readers.
_PARSED_CAPACITY = 1024
_PARSED_WIRE_BUDGET = 2 << 20
_parsed_wire = 0  # bytes of wire of the messages kept
_parsed: collections.OrderedDict[bytes, ParsedMessage] = collections.OrderedDict()
_parsed_lock = threading.Lock()  # a scan's probe and its analysis thread both read it


def parse_message(wire: bytes) -> ParsedMessage:
    """The message in ``wire``, with the records dnspython cannot read set aside."""
    if len(wire) < _HEADER.size:
        return _parse(wire)  # no header, no message: nothing worth keeping
    key = wire[2:]
    with _parsed_lock:
        parsed = _parsed.get(key)
        if parsed is not None:
            _parsed.move_to_end(key)
    ident = int.from_bytes(wire[:2], "big")
    if parsed is not None and parsed.message is not None and parsed.message.id != ident:
        # Kept from the same answer to another query: this one's ID, the records shared.
        message = copy.copy(parsed.message)
        message.id = ident
        parsed = dataclasses.replace(parsed, message=message)
    elif parsed is not None:
        return parsed
    else:
        parsed = _parse(wire)
    _keep(key, parsed)
    return parsed


def _keep(key: bytes, parsed: ParsedMessage) -> None:
    global _parsed_wire
    with _parsed_lock:  # the latest ID kept: the same bytes again find the same message
        if key not in _parsed:
            _parsed_wire += len(key)
        _parsed[key] = parsed
        while len(_parsed) > _PARSED_CAPACITY or _parsed_wire > _PARSED_WIRE_BUDGET:
            dropped, _ = _parsed.popitem(last=False)
            _parsed_wire -= len(dropped)


def _parse(wire: bytes) -> ParsedMessage:
    try:
        return ParsedMessage(dns.message.from_wire(wire, ignore_trailing=True), (), None)
    except PARSE_ERRORS as error:
        refused = f"{type(error).__name__}: {error}"
    try:
        rebuilt, malformed = _rebuild_without_malformed(wire)
        if not malformed:
            return ParsedMessage(None, (), refused)
        message = dns.message.from_wire(rebuilt, ignore_trailing=True)
    except PARSE_ERRORS:
        return ParsedMessage(None, (), refused)
    return ParsedMessage(message, malformed, None)


def _rebuild_without_malformed(wire: bytes) -> tuple[bytes, tuple[MalformedRecord, ...]]:
    """The message re-encoded without compression and without the records whose RDATA
    cannot be read; raises for a message whose framing is broken."""
    ident, flags, qdcount, *counts = _HEADER.unpack_from(wire, 0)
    offset = _HEADER.size
    question = b""
    for _ in range(qdcount):
        name, used = dns.name.from_wire(wire, offset)
        offset += used
        question += (name.to_wire() or b"") + wire[offset : offset + 4]
        offset += 4
    if offset > len(wire):
        raise dns.exception.FormError("the question runs past the end")
    kept_counts: list[int] = []
    body = b""
    malformed: list[MalformedRecord] = []
    for section, count in zip(SECTIONS, counts, strict=True):
        kept = 0
        for _ in range(count):
            name, used = dns.name.from_wire(wire, offset)
            offset += used
            rdtype, rdclass, ttl, rdlength = _RR_FIXED.unpack_from(wire, offset)
            offset += _RR_FIXED.size
            end = offset + rdlength
            if end > len(wire):
                raise dns.exception.FormError("a record's RDATA runs past the end")
            try:
                rdata = dns.rdata.from_wire(rdclass, rdtype, wire, offset, rdlength)
                encoded = rdata.to_wire() or b""
            except PARSE_ERRORS as error:
                malformed.append(
                    MalformedRecord(
                        section,
                        name,
                        rdtype,
                        rdclass,
                        ttl,
                        wire[offset:end],
                        f"{type(error).__name__}: {error}",
                    )
                )
            else:
                owner = name.to_wire() or b""
                body += owner + _RR_FIXED.pack(rdtype, rdclass, ttl, len(encoded)) + encoded
                kept += 1
            offset = end
        kept_counts.append(kept)
    header = _HEADER.pack(ident, flags, qdcount, *kept_counts)
    return header + question + body, tuple(malformed)


def with_malformed(
    rrset: dns.rrset.RRset | None,
    name: dns.name.Name,
    rdtype: int,
    malformed: tuple[MalformedRecord, ...],
    section: str,
) -> dns.rrset.RRset | None:
    """``rrset`` (or a new one) with the malformed records of the same owner and type added
    as opaque RDATA: the RRset as the server sent it, which its signatures cover."""
    extra = [m for m in malformed if m.section == section and m.name == name and m.rdtype == rdtype]
    if not extra:
        return rrset
    whole = dns.rrset.RRset(name, dns.rdataclass.IN, dns.rdatatype.RdataType.make(rdtype))
    if rrset is not None:
        whole.update(rrset)
    for record in extra:
        whole.add(record.as_generic(), record.ttl if rrset is None else rrset.ttl)
    return whole
