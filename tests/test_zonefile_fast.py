"""The zone reader's C accelerator reads exactly what the Python reader reads.

``zonefile._fastread`` parses the common records and hands everything else to the
Python reader; these tests read the same texts both ways (``accelerated`` True and False)
and require the same records, or the same error at the same line: on signed zones, on a
zone full of unusual syntax, and on thousands of randomly damaged zones. The packed form
the zone scanner reads (``read_packed``) must scan to the same result as the records.
"""

from __future__ import annotations

import itertools

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest

from damaged_zones import ORIGIN, UNUSUAL, damaged_signed_zones, damaged_zones, signed_text
from dnssec_doctor.lab import signing
from dnssec_doctor.verify.scan import ScanContext, Scanner, ScanResult
from dnssec_doctor.zonefile import _fastread
from dnssec_doctor.zonefile.reader import (
    DNSKEY,
    ReaderState,
    Record,
    ZoneFileError,
    read_packed,
    read_records,
)

ORIGIN_WIRE = ORIGIN.to_wire()


def read_both(
    text: bytes, origin: bytes | None = ORIGIN_WIRE
) -> tuple[list[Record] | str, list[Record] | str]:
    def read(accelerated: bool) -> list[Record] | str:
        try:
            return list(
                read_records(text, ReaderState(origin=origin), source="z", accelerated=accelerated)
            )
        except ZoneFileError as error:
            return str(error)

    return read(True), read(False)


def scan_both(text: bytes) -> tuple[ScanResult | str, ScanResult | str, int]:
    """The scan of ``text`` read as records and read packed (or the same error), and how
    many packed runs the packed reading had."""
    origin = ORIGIN.to_wire()
    assert origin is not None
    try:
        records = list(read_records(text, ReaderState(origin=origin), source="z"))
    except ZoneFileError as error:
        with pytest.raises(ZoneFileError) as caught:
            list(read_packed(text, ReaderState(origin=origin), source="z"))
        return str(error), str(caught.value), 0
    items = list(read_packed(text, ReaderState(origin=origin), source="z"))
    context = ScanContext(
        source="z",
        origin=origin,
        dnskeys=tuple(r[3] for r in records if r[0] == origin and r[2] == DNSKEY),
        now=1_800_000_000,
        expire_warning=86400,
        horizons=(86400,),
        soa_expire=1209600,
        nsec3=(b"\xab", 1),
    )
    return (
        Scanner(context).scan(records),
        Scanner(context).scan(items),
        sum(isinstance(item, bytes) for item in items),
    )


def test_the_type_table_agrees_with_dnspython() -> None:
    names = _fastread.type_names()
    assert len(names) > 50
    for name, (value, _parsed) in names.items():
        assert dns.rdatatype.from_text(name) == value, name
    parsed = {name for name, (_, is_parsed) in names.items() if is_parsed}
    assert {"A", "AAAA", "NS", "SOA", "TXT", "DS", "DNSKEY", "RRSIG", "NSEC", "NSEC3"} <= parsed


@pytest.mark.parametrize(
    "denial", [signing.NSEC, signing.Denial(signing.DenialKind.NSEC3, iterations=1, salt=b"\xab")]
)
def test_signed_zones_read_the_same(denial: signing.Denial) -> None:
    text = signed_text(denial)
    fast, slow = read_both(text)
    assert isinstance(fast, list) and len(fast) > 20
    assert fast == slow


def test_unusual_syntax_reads_the_same() -> None:
    fast, slow = read_both(UNUSUAL, origin=None)
    assert fast == slow


def test_an_nsec3_next_hash_may_be_unpadded() -> None:
    """RFC 5155 §3.3 writes the next hashed owner in base32hex without padding: a hash
    whose length is not a multiple of five octets has no '=' (BIND's good-nsec3-nopadhash)."""
    fast, slow = read_both(b"n3 300 NSEC3 1 0 0 - CPNMU A\n")
    assert fast == slow
    assert isinstance(fast, list)
    assert fast[0][3][:9] == b"\x01\x00\x00\x00\x00\x03foo"  # length 3, then the hash


@pytest.mark.parametrize(
    "denial", [signing.NSEC, signing.Denial(signing.DenialKind.NSEC3, iterations=1, salt=b"\xab")]
)
def test_packed_records_scan_the_same(denial: signing.Denial) -> None:
    lines = signed_text(denial).splitlines(keepends=True)
    # Records the accelerator leaves to Python inside owner groups (a type it does not
    # parse, an escape in a TXT), so packed runs and tuples alternate within owners.
    for index in (len(lines) * 2 // 3, len(lines) // 3, 1):
        owner = lines[index].split()[0]
        lines[index:index] = [
            owner + b" 300 IN TYPE65280 \\# 2 abcd\n",
            owner + b' 300 TXT "a\\"b"\n',
        ]
    as_records, packed, runs = scan_both(b"".join(lines))
    assert runs > 1
    assert isinstance(as_records, ScanResult)
    assert as_records.names and as_records.valid_signatures > 10
    assert as_records == packed


@pytest.mark.parametrize(
    "text",
    [
        b"a 300 A 192.0.2.1\n b 300 A\n",
        b"a 300 A 1.2.3\n",
        b"a 300 A 01.2.3.4\n",
        b"a 300 RRSIG A 8 2 300 00001231000000 20200101000000 1 x. AAAA\n",
        b"a 300 RRSIG A 8 2 300 20301301000000 20200101000000 1 x. AAAA\n",
        b"a 300 RRSIG A 8 2 300 20300101000000 20200101000000 1 x. AAA\n",
        b"a 300 DNSKEY 257 3 13 AA=A\n",
        b"a 300 NSEC3 1 0 0 - 0123456789abcdef A\n",
        b"a 300 ( A 192.0.2.1\n",
        b"a 300 A 192.0.2.1 )\n",
        b'a 300 TXT "unterminated\n',
        b"a 300 MX 65536 b\n",
        b"a 300 A 192.0.2.1\x00\n",
        b"a 300 NSEC3 1 0 0 " + b"ab" * 256 + b" 0123456789abcdef A\n",
        b"a 300 NSEC3 1 0 0 - " + b"01234567" * 60 + b" A\n",
        b"a 4294967296 A 192.0.2.1\n",
        b"a.." + b" 300 A 192.0.2.1\n",
        b"x" * 64 + b" 300 A 192.0.2.1\n",
        b" 300 A 192.0.2.1\n",
        b"a 300 IN\n",
        b"a CH A 192.0.2.1\n",
        b"a 300 DS 1 13 2 0011\n",  # a SHA-256 digest of 2 octets
        b"a 300 DS 1 13 1 " + b"00" * 32 + b"\n",  # SHA-1 is 20 octets
        b"a 300 DS 1 13 4 " + b"00" * 32 + b"\n",
        b"a 300 DS 1 13 0 00\n",  # digest type 0 is reserved (RFC 3658 section 2.4)
        b"a 300 CDS 1 13 2 ( 00112233 44556677 )\n",
    ],
)
def test_bad_records_fail_the_same_way(text: bytes) -> None:
    fast, slow = read_both(text)
    assert fast == slow


def test_randomly_damaged_zones_read_the_same() -> None:
    differences = []
    for text in itertools.chain(damaged_zones(), damaged_signed_zones()):
        fast, slow = read_both(text)
        as_records, packed, _runs = scan_both(text)
        if fast != slow or as_records != packed:
            differences.append(text)
        for record in fast if isinstance(fast, list) else ():
            # every record the reader returns is one the rest of the program can read
            dns.rdata.from_wire(dns.rdataclass.IN, record[2], record[3], 0, len(record[3]))
    assert not differences, differences[0]


def test_a_ds_whose_digest_does_not_fit_its_type_is_one_error_at_its_line() -> None:
    text = b"a 300 A 192.0.2.1\nsub 300 NS ns.sub\nsub 300 DS 12345 13 2 ababab\n"
    fast, slow = read_both(text)
    assert fast == slow == "z, line 3: invalid DS: digest length inconsistent with digest type"
    unknown = b"sub 300 DS 12345 13 99 ababab\ncds 300 CDS 0 0 0 00\n"  # may be any length
    fast, slow = read_both(unknown)
    assert fast == slow and isinstance(fast, list) and len(fast) == 2
