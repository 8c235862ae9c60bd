"""A streaming zone-file reader: records as compact canonical wire, without dnspython objects.

``dns.zone.from_file`` builds a tree of Python objects for every record: on a zone of
half a million records that is over a minute and half a gigabyte. A verifier needs far
less: for each record its owner, TTL, type and RDATA in the canonical wire form of
RFC 4034 §6.2, which is what signatures are computed over. This reader produces exactly
that, as plain tuples of ``bytes`` and ``int``, one record at a time.

It parses the common types that signers emit (A, AAAA, NS, CNAME, PTR, DNAME, MX, TXT,
SOA, DS, CDS, DNSKEY, CDNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM) itself, and hands every
other type, escaped names and unusual syntax to dnspython (``dns.rdata.from_text``), so
anything dnspython reads is read here too, including RFC 3597 ``\\# LENGTH HEX`` data and
``TYPE65534`` mnemonics. Every syntax error is a ``ZoneFileError`` naming the file and line.

Only class IN is supported. ``$INCLUDE`` and ``$GENERATE`` are refused (signers do not
emit them).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import socket
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.ttl

try:
    from dnssec_doctor.zonefile import _fastread
except ImportError:  # installed without a C compiler: the same records, slower
    _fastread = None  # type: ignore[assignment]

# (owner wire, TTL, type, canonical RDATA wire, line number, byte offset of the record)
Record = tuple[bytes, int, int, bytes, int, int]

IN = 1
A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, DNAME = 1, 2, 5, 6, 12, 15, 16, 28, 39
DS, RRSIG, NSEC, DNSKEY, NSEC3, NSEC3PARAM, CDS, CDNSKEY = 43, 46, 47, 48, 50, 51, 59, 60


class ZoneFileError(Exception):
    """A zone file that cannot be read, with where: ``source, line N: message``."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}, line {line}: {message}")
        self.source = source
        self.line = line
        self.message = message

    def __reduce__(self) -> tuple[type[ZoneFileError], tuple[str, int, str]]:
        # The parallel scan's workers send their errors back pickled.
        return ZoneFileError, (self.source, self.line, self.message)


# No record's text needs more than this: RDATA is at most 65,535 octets, 262,140 characters
# when every octet is written \DDD. A longer line or parenthesised record is refused at
# once (a file of NULs or an unclosed parenthesis must not be read into memory whole, nor
# quoted back). The accelerator hands such text to this reader (_fastread.MAX_RECORD_TEXT).
MAX_RECORD_TEXT = 1 << 20


class RecordTooLong(ZoneFileError):
    """A line or record longer than ``MAX_RECORD_TEXT``: the file's own error wherever it
    is read from (a window of the file that holds it holds the error too)."""

    def __init__(self, source: str, line: int) -> None:
        super().__init__(
            source,
            line,
            f"a line or record longer than {MAX_RECORD_TEXT // (1 << 20)} MiB: "
            "not a zone file (no record needs more than 256 KiB)",
        )

    def __reduce__(self) -> tuple[type[RecordTooLong], tuple[str, int]]:  # type: ignore[override]
        return RecordTooLong, (self.source, self.line)


class _Syntax(Exception):
    """A syntax error inside one record; the reader adds file and line."""


@dataclass
class ReaderState:
    """What a zone file's earlier lines set for the later ones."""

    origin: bytes | None  # canonical (lowercase) wire; None until known
    default_ttl: int | None = None  # $TTL
    last_ttl: int | None = None  # RFC 1035: a record without TTL takes the last one
    owner: bytes | None = None  # a line starting with blank space belongs to this owner


# --- names -----------------------------------------------------------------------------


def name_wire(text: bytes, origin: bytes | None, *, keep_case: bool = False) -> bytes:
    """The lowercase wire form of a presentation-format name, relative to ``origin``
    (``keep_case``: as written, for the one name a canonical form leaves alone)."""
    if text == b"@":
        if origin is None:
            raise _Syntax("@ used before the origin is known (give --origin or $ORIGIN)")
        return origin
    if b"\\" in text:
        return _escaped_name_wire(text, origin, keep_case)
    if text == b".":
        return b"\x00"
    absolute = text.endswith(b".")
    labels = (text[:-1] if absolute else text).split(b".")
    if not keep_case:
        labels = [label.lower() for label in labels]
    out = bytearray()
    for label in labels:
        size = len(label)
        if not 0 < size < 64:
            raise _Syntax("invalid name: an empty label or one longer than 63 octets")
        out.append(size)
        out += label
    if absolute:
        out.append(0)
    else:
        if origin is None:
            raise _Syntax("a relative name before the origin is known (give --origin or $ORIGIN)")
        out += origin
    if len(out) > 255:
        raise _Syntax("invalid name: longer than 255 octets")
    return bytes(out)


def _escaped_name_wire(text: bytes, origin: bytes | None, keep_case: bool = False) -> bytes:
    base = dns.name.from_wire(origin, 0)[0] if origin is not None else None
    try:
        name = dns.name.from_text(text.decode("latin-1"), origin=base)
    except dns.exception.DNSException as error:
        raise _Syntax(f"invalid name: {error}") from None
    if not name.is_absolute():
        raise _Syntax("a relative name before the origin is known (give --origin or $ORIGIN)")
    wire = (name if keep_case else name.canonicalize()).to_wire()
    assert wire is not None
    return wire


def name_text(wire: bytes) -> str:
    """``www.example.``: the presentation form of a wire name."""
    return str(dns.name.from_wire(wire, 0)[0])


def name_labels(wire: bytes) -> list[bytes]:
    """The labels of a wire name, leftmost first, without the root."""
    labels = []
    index = 0
    while wire[index]:
        size = wire[index]
        labels.append(wire[index + 1 : index + 1 + size])
        index += size + 1
    return labels


def label_count(wire: bytes) -> int:
    """RFC 4034 §3.1.3: labels of the owner, not counting the root or a leading ``*``."""
    count = 0
    index = 0
    while wire[index]:
        count += 1
        index += wire[index] + 1
    return count - 1 if wire[:2] == b"\x01*" else count


def sort_key(wire: bytes) -> bytes:
    """A bytes key whose order is the canonical name order of RFC 4034 §6.1 (the labels
    right to left, each compared as lowercase octets)."""
    labels = name_labels(wire)
    labels.reverse()
    if any(b"\x00" in label or b"\x01" in label for label in labels):
        # Keep \x00 as the separator: map the two lowest octets above it.
        labels = [
            label.replace(b"\x01", b"\x01\x02").replace(b"\x00", b"\x01\x01") for label in labels
        ]
    return b"\x00".join(labels)


# --- type bitmaps ------------------------------------------------------------------------

_bitmaps: dict[tuple[int, ...], bytes] = {}


def type_bitmap(types: Iterable[int]) -> bytes:
    """The NSEC/NSEC3 type bitmap (RFC 4034 §4.1.2) of ``types``, in wire form."""
    key = tuple(sorted(set(types)))
    cached = _bitmaps.get(key)
    if cached is not None:
        return cached
    windows: dict[int, bytearray] = {}
    for rdtype in key:
        window, bit = divmod(rdtype, 256)
        octets = windows.setdefault(window, bytearray(32))
        octets[bit >> 3] |= 0x80 >> (bit & 7)
    out = bytearray()
    for window in sorted(windows):
        octets = windows[window].rstrip(b"\x00")
        out += bytes((window, len(octets))) + octets
    _bitmaps[key] = bytes(out)
    return bytes(out)


def bitmap_types(wire: bytes) -> list[int]:
    """The types listed in a wire type bitmap."""
    types = []
    index = 0
    while index + 1 < len(wire):
        window, size = wire[index], wire[index + 1]
        for offset, octet in enumerate(wire[index + 2 : index + 2 + size]):
            for bit in range(8):
                if octet & (0x80 >> bit):
                    types.append(window * 256 + offset * 8 + bit)
        index += 2 + size
    return types


def _type_name(rdtype: int) -> str:
    return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))


# --- tokens -----------------------------------------------------------------------------

_types: dict[bytes, int] = {}


def rdtype_of(token: bytes) -> int:
    """A type mnemonic or ``TYPEnnn`` as a number; ``_Syntax`` if unknown."""
    known = _types.get(token)
    if known is not None:
        return known
    try:
        value = int(dns.rdatatype.from_text(token.decode("latin-1")))
    except (dns.exception.DNSException, ValueError):
        raise _Syntax("unknown record type") from None
    _types[token] = value
    return value


def _ttl(token: bytes) -> int:
    if token.isdigit():
        value = int(token)
    else:
        try:
            value = int(dns.ttl.from_text(token.decode("latin-1")))
        except (dns.exception.DNSException, ValueError):
            raise _Syntax("invalid TTL") from None
    if value > 0x7FFFFFFF:
        raise _Syntax(f"TTL {value} out of range")
    return value


_times: dict[bytes, int] = {}


def _time(token: bytes) -> int:
    """An RRSIG time: YYYYMMDDHHmmSS (UTC) or seconds (RFC 4034 §3.2)."""
    known = _times.get(token)
    if known is not None:
        return known
    if len(token) == 14 and token.isdigit():
        fields = (
            int(token[:4]),
            int(token[4:6]),
            int(token[6:8]),
            int(token[8:10]),
            int(token[10:12]),
            int(token[12:14]),
        )
        if not (fields[0] and 1 <= fields[1] <= 12 and 1 <= fields[2] <= 31 and fields[3] < 24):
            raise _Syntax("invalid time")
        value = calendar.timegm((*fields, 0, 0, 0)) & 0xFFFFFFFF
    elif token.isdigit():
        value = int(token)
        if value > 0xFFFFFFFF:
            raise _Syntax(f"time {value} out of range")
    else:
        raise _Syntax("invalid time")
    _times[token] = value
    return value


def _u(token: bytes, bits: int, what: str) -> int:
    if not token.isdigit() or int(token) >> bits:
        raise _Syntax(f"invalid {what}")
    return int(token)


def _b64(tokens: list[bytes], what: str) -> bytes:
    try:
        return base64.b64decode(b"".join(tokens), validate=True)
    except (binascii.Error, ValueError):
        raise _Syntax(f"invalid base64 in {what}") from None


def _hex(tokens: list[bytes], what: str) -> bytes:
    try:
        return bytes.fromhex(b"".join(tokens).decode("latin-1"))
    except ValueError:
        raise _Syntax(f"invalid hex in {what}") from None


# --- RDATA ------------------------------------------------------------------------------


def _check_with_dnspython(rdtype: int, wire: bytes) -> None:
    """Refuse RDATA that dnspython (and so the rest of the program) cannot read: a DS
    digest whose length does not fit its digest type, the reserved digest type 0 (BIND's
    named-checkzone refuses both). Every record the reader returns must be readable."""
    try:
        dns.rdata.from_wire(
            dns.rdataclass.IN, dns.rdatatype.RdataType.make(rdtype), wire, 0, len(wire)
        )
    except dns.exception.DNSException as error:
        raise _Syntax(f"invalid {_type_name(rdtype)}: {error}") from None


def _need(tokens: list[bytes], count: int, what: str) -> None:
    if len(tokens) < count:
        raise _Syntax(f"{what} needs {count} fields, got {len(tokens)}")


def _exact(tokens: list[bytes], count: int, what: str) -> None:
    if len(tokens) != count:
        raise _Syntax(f"{what} needs {count} fields, got {len(tokens)}")


def rdata_wire(rdtype: int, tokens: list[bytes], origin: bytes | None) -> bytes:
    """The canonical wire RDATA (RFC 4034 §6.2) of a record given as tokens."""
    if rdtype == A:
        return _address(tokens, socket.AF_INET, "A", "IPv4")
    if rdtype == AAAA:
        return _address(tokens, socket.AF_INET6, "AAAA", "IPv6")
    if rdtype in (NS, CNAME, PTR, DNAME):
        _exact(tokens, 1, _type_name(rdtype))
        return name_wire(tokens[0], origin)
    if rdtype == MX:
        _exact(tokens, 2, "MX")
        return struct.pack("!H", _u(tokens[0], 16, "MX preference")) + name_wire(tokens[1], origin)
    if rdtype == SOA:
        _exact(tokens, 7, "SOA")
        numbers = [_ttl(t) if not t.isdigit() else _u(t, 32, "SOA field") for t in tokens[2:]]
        return (
            name_wire(tokens[0], origin)
            + name_wire(tokens[1], origin)
            + struct.pack("!IIIII", *numbers)
        )
    if rdtype in (DS, CDS):
        _need(tokens, 4, "DS")
        wire = struct.pack(
            "!HBB",
            _u(tokens[0], 16, "key tag"),
            _u(tokens[1], 8, "algorithm"),
            _u(tokens[2], 8, "digest type"),
        ) + _hex(tokens[3:], "DS digest")
        _check_with_dnspython(rdtype, wire)
        return wire
    if rdtype in (DNSKEY, CDNSKEY):
        _need(tokens, 4, "DNSKEY")
        return struct.pack(
            "!HBB",
            _u(tokens[0], 16, "flags"),
            _u(tokens[1], 8, "protocol"),
            _u(tokens[2], 8, "algorithm"),
        ) + _b64(tokens[3:], "DNSKEY")
    if rdtype == RRSIG:
        _need(tokens, 9, "RRSIG")
        return (
            struct.pack(
                "!HBBIIIH",
                rdtype_of(tokens[0]),
                _u(tokens[1], 8, "algorithm"),
                _u(tokens[2], 8, "labels"),
                _u(tokens[3], 32, "original TTL"),
                _time(tokens[4]),
                _time(tokens[5]),
                _u(tokens[6], 16, "key tag"),
            )
            + name_wire(tokens[7], origin)
            + _b64(tokens[8:], "RRSIG")
        )
    if rdtype == NSEC:
        _need(tokens, 1, "NSEC")
        # RFC 6840 §5.1: the next name keeps its case in the canonical form (BIND signs
        # it as written: bin/tests/system/verify's nsec-next-name-case-mismatch); the
        # chain is compared without case (the scanner lowercases it).
        return name_wire(tokens[0], origin, keep_case=True) + type_bitmap(
            rdtype_of(t) for t in tokens[1:]
        )
    if rdtype == NSEC3:
        _need(tokens, 5, "NSEC3")
        hashed = tokens[4].upper()  # RFC 5155 §3.3: base32hex "without padding"
        try:
            following = base64.b32hexdecode(hashed + b"=" * (-len(hashed) % 8))
        except (binascii.Error, ValueError):
            raise _Syntax("invalid base32hex next hashed owner in NSEC3") from None
        if len(following) > 255:
            raise _Syntax("the next hashed owner in NSEC3 is longer than 255 octets")
        return (
            _nsec3_parameters(tokens, "NSEC3")
            + bytes((len(following),))
            + following
            + type_bitmap(rdtype_of(t) for t in tokens[5:])
        )
    if rdtype == NSEC3PARAM:
        _exact(tokens, 4, "NSEC3PARAM")
        return _nsec3_parameters(tokens, "NSEC3PARAM")
    return _fallback(rdtype, b" ".join(tokens), origin)


def _address(tokens: list[bytes], family: socket.AddressFamily, rdtype: str, what: str) -> bytes:
    _exact(tokens, 1, rdtype)
    try:
        return socket.inet_pton(family, tokens[0].decode("latin-1"))
    except (OSError, ValueError):  # ValueError: an embedded NUL
        raise _Syntax(f"invalid {what} address") from None


def _nsec3_parameters(tokens: list[bytes], what: str) -> bytes:
    """Hash algorithm, flags, iterations and salt: NSEC3PARAM's whole rdata, and the
    first fields of every NSEC3 (RFC 5155 §3.2, §4.2)."""
    salt = b"" if tokens[3] == b"-" else _hex([tokens[3]], f"{what} salt")
    if len(salt) > 255:
        raise _Syntax(f"the {what} salt is longer than 255 octets")
    header = struct.pack(
        "!BBHB",
        _u(tokens[0], 8, "hash algorithm"),
        _u(tokens[1], 8, "flags"),
        _u(tokens[2], 16, "iterations"),
        len(salt),
    )
    return header + salt


def _fallback(rdtype: int, text: bytes, origin: bytes | None) -> bytes:
    """Any other type, or unusual syntax: dnspython parses, the wire is canonicalised."""
    base = dns.name.from_wire(origin, 0)[0] if origin is not None else None
    try:
        rdata = dns.rdata.from_text(
            dns.rdataclass.IN,
            dns.rdatatype.RdataType.make(rdtype),
            text.decode("latin-1"),
            origin=base,
            relativize=False,
        )
        return rdata.to_digestable(base)
    except (dns.exception.DNSException, ValueError, UnicodeError) as error:
        detail = str(error) or type(error).__name__
        raise _Syntax(f"invalid {_type_name(rdtype)} data: {detail}") from None


# --- lines ------------------------------------------------------------------------------


def _clean(line: bytes) -> tuple[bytes, int]:
    """The line without its comment and with grouping parentheses blanked, and the change
    in parenthesis depth. Quoted and escaped characters are kept as they are."""
    if b'"' not in line and b"\\" not in line:
        cut = line.find(b";")
        if cut >= 0:
            line = line[:cut]
        opens = line.count(b"(")
        closes = line.count(b")")
        if opens or closes:
            line = line.replace(b"(", b" ").replace(b")", b" ")
        return line, opens - closes
    out = bytearray()
    depth = 0
    quoted = escaped = False
    for octet in line:
        if escaped:
            escaped = False
        elif octet == 0x5C:  # backslash
            escaped = True
        elif octet == 0x22:
            quoted = not quoted
        elif not quoted:
            if octet == 0x3B:  # ;
                break
            if octet in (0x28, 0x29):  # ( )
                depth += 1 if octet == 0x28 else -1
                out.append(0x20)
                continue
        out.append(octet)
    return bytes(out), depth


def _tokens(text: bytes) -> list[bytes]:
    """Split on blanks, keeping quoted strings (with their quotes) as one token."""
    if b'"' not in text:
        return text.split()
    tokens = []
    current = bytearray()
    quoted = escaped = False
    started = False
    for octet in text:
        if escaped:
            current.append(octet)
            escaped = False
        elif octet == 0x5C:
            current.append(octet)
            escaped = True
        elif octet == 0x22:
            current.append(octet)
            quoted = not quoted
            started = True
        elif octet in b" \t\r" and not quoted:
            if started:
                tokens.append(bytes(current))
                current.clear()
                started = False
        else:
            current.append(octet)
            started = True
    if quoted:
        raise _Syntax("unterminated quoted string")
    if started:
        tokens.append(bytes(current))
    return tokens


def _txt_wire(tokens: list[bytes], rdtype: int, origin: bytes | None) -> bytes:
    out = bytearray()
    for token in tokens:
        if b"\\" in token:
            return _fallback(rdtype, b" ".join(tokens), origin)
        text = token[1:-1] if token[:1] == b'"' and token[-1:] == b'"' and len(token) > 1 else token
        if len(text) > 255:
            raise _Syntax("a TXT string is longer than 255 octets")
        out.append(len(text))
        out += text
    if not tokens:
        raise _Syntax("TXT needs at least one string")
    return bytes(out)


_FAST_BATCH = 4096  # records per call into the accelerator


def read_records(
    data: bytes,
    state: ReaderState,
    *,
    source: str,
    first_line: int = 1,
    base_offset: int = 0,
    directives: bool = True,
    accelerated: bool = True,
) -> Iterator[Record]:
    """The records of ``data`` (a whole zone file or a slice of one that starts at a line),
    in file order. ``state`` carries origin, TTLs and the current owner across calls.
    With ``directives`` False a ``$`` line raises ``ZoneFileError`` (parallel slices must
    not change the state).

    The C accelerator (``_fastread``) reads runs of common records; it stops before any
    record it is not sure of, which this loop then reads (one line or record at a time),
    so every error and every unusual form has this one implementation. ``accelerated``
    False reads everything here (the tests compare the two)."""
    for item in _read(data, state, source, first_line, base_offset, directives, accelerated):
        if isinstance(item, list):
            yield from item
        elif isinstance(item, tuple):  # (packed runs only come from read_packed)
            yield item


def read_packed(
    data: bytes,
    state: ReaderState,
    *,
    source: str,
    first_line: int = 1,
    base_offset: int = 0,
    directives: bool = True,
) -> Iterator[bytes | Record]:
    """``read_records``, but the accelerator's runs come as packed records (one bytes
    object each, ``_packed.h``) for the zone scanner, which reads them without a Python
    object per record; the records read here come as tuples, in file order with them
    (all of them, without the accelerator)."""
    for item in _read(data, state, source, first_line, base_offset, directives, True, True):
        assert not isinstance(item, list)  # the accelerator's runs come packed
        if item:  # (an empty run: the accelerator stopped at the first record)
            yield item


def _read(
    data: bytes,
    state: ReaderState,
    source: str,
    first_line: int,
    base_offset: int,
    directives: bool,
    accelerated: bool,
    packed: bool = False,
) -> Iterator[list[Record] | bytes | Record]:
    """The reading loop: runs from the accelerator (a list of records, or packed) and the
    records read in Python, one at a time."""
    fast = _fastread.parse if accelerated and _fastread is not None else None
    number = first_line - 1
    size = len(data)
    position = 0
    while position < size:
        if fast is not None:
            records, position, number, state.owner, last_ttl, slow = fast(
                data,
                position,
                number,
                base_offset,
                state.origin,
                state.owner,
                -1 if state.default_ttl is None else state.default_ttl,
                -1 if state.last_ttl is None else state.last_ttl,
                _FAST_BATCH,
                packed,
            )
            state.last_ttl = None if last_ttl < 0 else last_ttl
            yield records
            if not slow or position >= size:
                continue
        end = data.find(b"\n", position, position + MAX_RECORD_TEXT + 1)
        if end < 0:
            if size - position > MAX_RECORD_TEXT:
                raise RecordTooLong(source, number + 1)
            end = size
        number += 1
        record_line, record_offset = number, base_offset + position
        raw = data[position:end]
        line, change = _clean(raw)
        position = end + 1
        if change > 0:
            # A record over several lines: take the block up to the line holding the
            # closing parenthesis in one piece (signers write most RRSIGs that way).
            line, position, number = _continue(
                data, line, change, position, number, source, record_line
            )
        elif change < 0:
            raise ZoneFileError(source, number, "unbalanced parenthesis")
        elif not line or line.isspace():
            continue
        try:
            record = _parse_line(line, state, directives)
        except _Syntax as error:
            raise ZoneFileError(source, record_line, str(error)) from None
        if record is not None:
            owner, ttl, rdtype, rdata = record
            yield owner, ttl, rdtype, rdata, record_line, record_offset


def _continue(
    data: bytes, line: bytes, depth: int, position: int, number: int, source: str, first: int
) -> tuple[bytes, int, int]:
    """Join the lines after ``line`` until the parentheses close; returns the joined
    text, the position after it and the last line number."""
    size = len(data)
    limit = min(size, position + MAX_RECORD_TEXT)
    close = data.find(b")", position, limit)
    end = data.find(b"\n", close, limit) if close >= 0 else -1
    if close >= 0 and end < 0 and limit == size:
        end = size  # the last line of the file
    if end >= 0:
        block = data[position:end]
        if b'"' not in block and b"\\" not in block and block.count(b"(") == 0:
            if b";" in block:
                block = b"\n".join(part.split(b";", 1)[0] for part in block.split(b"\n"))
            if block.count(b")") == depth:
                text = line + b" " + block.replace(b")", b" ").replace(b"\n", b" ")
                return text, end + 1, number + data.count(b"\n", position, end) + 1
    # The general case: line by line, quotes and escapes respected.
    pending = [line]
    start = position
    while depth > 0:
        if position >= size:
            raise ZoneFileError(source, first, "unbalanced parenthesis: no closing )")
        end = data.find(b"\n", position, position + MAX_RECORD_TEXT + 1)
        if end < 0:
            end = size
        if end - start > MAX_RECORD_TEXT:
            raise RecordTooLong(source, first)
        number += 1
        part, change = _clean(data[position:end])
        position = end + 1
        depth += change
        pending.append(part)
    if depth < 0:
        raise ZoneFileError(source, number, "unbalanced parenthesis")
    return b" ".join(pending), position, number


def _parse_line(
    line: bytes, state: ReaderState, directives: bool
) -> tuple[bytes, int, int, bytes] | None:
    tokens = _tokens(line)
    if not tokens:
        return None
    first = line[:1]
    if first == b"$":
        if not directives:
            raise _Syntax("directive inside a parallel slice")
        _directive(tokens, state)
        return None
    if first in b" \t":
        if state.owner is None:
            raise _Syntax("a record without owner name before any owner")
        owner = state.owner
        index = 0
    else:
        owner = name_wire(tokens[0], state.origin)
        state.owner = owner
        index = 1
    ttl: int | None = None
    rdtype: int | None = None
    # [TTL] [class] type, or [class] [TTL] type (RFC 1035 §5.1).
    for _ in range(3):
        if index >= len(tokens):
            raise _Syntax("record type missing")
        token = tokens[index]
        if token[:1].isdigit() and ttl is None:
            ttl = _ttl(token)
            index += 1
            continue
        upper = token.upper()
        if upper == b"IN":
            index += 1
            continue
        if upper in (b"CH", b"HS", b"CS", b"ANY", b"NONE") or (
            upper.startswith(b"CLASS") and upper[5:].isdigit()
        ):
            raise _Syntax(f"class {token.decode('latin-1')} is not supported (only IN)")
        rdtype = rdtype_of(upper)
        index += 1
        break
    if rdtype is None:
        raise _Syntax("record type missing")
    if ttl is None:
        ttl = state.default_ttl if state.default_ttl is not None else state.last_ttl
        if ttl is None:
            raise _Syntax("no TTL and no $TTL before this record")
    else:
        state.last_ttl = ttl
    rest = tokens[index:]
    if rest[:1] == [b"\\#"]:
        rdata = _generic(rdtype, rest, state.origin)
    elif rdtype == TXT:
        rdata = _txt_wire(rest, rdtype, state.origin)
    else:
        if b'"' in line:
            rdata = _fallback(rdtype, b" ".join(rest), state.origin)
        else:
            rdata = rdata_wire(rdtype, rest, state.origin)
    if len(rdata) > 65535:
        raise _Syntax("RDATA longer than 65535 octets")
    return owner, ttl, rdtype, rdata


def _generic(rdtype: int, tokens: list[bytes], origin: bytes | None) -> bytes:
    """RFC 3597 ``\\# LENGTH HEX``: known types are converted to their canonical form."""
    if len(tokens) < 2 or not tokens[1].isdigit():
        raise _Syntax("RFC 3597 data needs \\# LENGTH HEX")
    data = _hex(tokens[2:], "RFC 3597 data")
    if len(data) != int(tokens[1]):
        raise _Syntax(f"RFC 3597 data has {len(data)} octets, the length says {int(tokens[1])}")
    if dns.rdatatype.is_metatype(dns.rdatatype.RdataType.make(rdtype)):
        raise _Syntax(f"{_type_name(rdtype)} is a meta-type, not a record type")
    if not _type_name(rdtype).startswith("TYPE"):
        # A known type: dnspython decodes it, so embedded names are lowercased.
        return _fallback(rdtype, b" ".join(tokens), origin)
    return data


def _directive(tokens: list[bytes], state: ReaderState) -> None:
    keyword = tokens[0].upper()
    if keyword == b"$ORIGIN":
        if len(tokens) != 2:
            raise _Syntax("$ORIGIN needs one name")
        state.origin = name_wire(tokens[1], state.origin)
    elif keyword == b"$TTL":
        if len(tokens) != 2:
            raise _Syntax("$TTL needs one value")
        state.default_ttl = _ttl(tokens[1])
        state.last_ttl = state.default_ttl
    elif keyword in (b"$INCLUDE", b"$GENERATE"):
        raise _Syntax(
            f"{keyword.decode()} is not supported: give the zone as one file (named-compilezone "
            "-o - writes it)"
        )
    else:
        raise _Syntax("unknown directive (only $ORIGIN and $TTL are read)")
