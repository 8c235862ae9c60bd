"""The C scanner (``verify/_scan.c``) on records no reader would produce: random RDATA of
every type it parses, truncated RRSIGs, odd owners. It must count every record and return,
never crash: a crash here would take the whole ``zone verify`` down with it. Arguments
outside their wire fields (a type above 65535, a TTL above 32 bits, an owner longer than a
name) are refused with ValueError at the entry, and every key given is used.

``scripts/sanitize`` runs these tests again with both C parts built with AddressSanitizer
and UndefinedBehaviorSanitizer."""

from __future__ import annotations

import random

import pytest

from dnssec_doctor.verify import _scan

ORIGIN = b"\x07example\x00"
OWNERS = [
    ORIGIN,
    b"\x01a" + ORIGIN,
    b"\x01*" + ORIGIN,
    b"\x03foo\x00",  # outside the zone
    b"\x20" + bytes(32) + ORIGIN,
    b"\x05ab",  # truncated
]


def random_rdata(generator: random.Random, rdtype: int) -> bytes:
    if rdtype == 46 and generator.random() < 0.7:  # an RRSIG that gets as far as the crypto
        header = bytes([0, generator.choice([1, 2, 46, 47]), generator.choice([5, 8, 13, 15])])
        return (
            header
            + bytes([generator.randrange(5)])
            + generator.randbytes(12)
            + generator.choice([ORIGIN, b"\x03foo\x00", b"\x09"])
            + generator.randbytes(generator.randrange(70))
        )
    return generator.randbytes(generator.randrange(60))


def test_random_records_are_counted_and_never_crash_the_scanner() -> None:
    generator = random.Random(20261121)
    for _ in range(1500):
        scanner = _scan.Scanner(
            origin=ORIGIN,
            keys=[(257, 3, 13, generator.randrange(65536), None), (256, 3, 8, 1234, b"bad")],
            supported=[8, 13, 15],
            now=1.8e9,
            expire_warning=86400.0,
            deadlines=[1.8e9 + 86400],
            soa_deadline=1.8e9 + 1e6,
            nsec3=(generator.randbytes(generator.randrange(4)), generator.randrange(3))
            if generator.random() < 0.5
            else None,
            max_examples=3,
        )
        records = []
        for line in range(1, generator.randrange(2, 10)):
            rdtype = generator.choice([1, 2, 5, 6, 39, 43, 46, 47, 48, 50, 51, 65534])
            owner = generator.choice(OWNERS)
            records.append(
                (
                    owner,
                    generator.randrange(100000),
                    rdtype,
                    random_rdata(generator, rdtype),
                    line,
                    0,
                )
            )
        records.sort(key=lambda record: record[0])
        scanner.scan(records)
        result = scanner.finish()
        assert result.records == len(records)  # every record counted
        assert result.valid_signatures == 0  # random signatures never verify


def plain_scanner(**changes: object) -> _scan.Scanner:
    arguments: dict[str, object] = {
        "origin": ORIGIN,
        "keys": [],
        "supported": [8, 13, 15],
        "now": 1.8e9,
        "expire_warning": 86400.0,
        "deadlines": [],
        "soa_deadline": 1.8e9,
        "nsec3": None,
        "max_examples": 3,
    }
    arguments.update(changes)
    return _scan.Scanner(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ((ORIGIN, 300, 65536, b"", 1, 0), "type must be 0-65535, not 65536"),
        ((ORIGIN, 300, 1 << 40, b"", 1, 0), "type must be 0-65535"),
        ((ORIGIN, 300, -1, b"", 1, 0), "type must be 0-65535, not -1"),
        ((ORIGIN, 1 << 32, 1, b"\x01\x02\x03\x04", 1, 0), "TTL must be 0-4294967295"),
        ((ORIGIN, -5, 1, b"\x01\x02\x03\x04", 1, 0), "TTL must be 0-4294967295, not -5"),
        ((ORIGIN, 1 << 70, 1, b"", 1, 0), "out of range"),
        ((b"", 300, 1, b"", 1, 0), "owner must be 1-255 octets"),
        (((b"\x3f" + b"a" * 63) * 4 + b"\x00", 300, 1, b"", 1, 0), "owner must be 1-255 octets"),
        ((ORIGIN, 300, 1, bytes(65536), 1, 0), "RDATA must be at most 65535"),
    ],
)
def test_records_outside_their_wire_fields_are_refused(
    record: tuple[bytes, int, int, bytes, int, int], message: str
) -> None:
    scanner = plain_scanner()
    with pytest.raises(ValueError, match=message):
        scanner.scan([record])


def test_the_largest_values_that_fit_are_scanned() -> None:
    scanner = plain_scanner()
    owner = (b"\x3f" + b"a" * 63) * 3 + b"\x3d" + b"a" * 61 + b"\x00"  # 255 octets
    scanner.scan(
        [
            (ORIGIN, 4294967295, 65535, bytes(65535), 1, 0),
            (owner, 0, 0, b"", 2, 1),
        ]
    )
    totals = scanner.finish()
    assert totals.records == 2
    assert len(totals.names) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"keys": [(257, 3, 256, 1, None)]}, "must fit their wire fields"),
        ({"keys": [(1 << 16, 3, 13, 1, None)]}, "must fit their wire fields"),
        ({"keys": [(257, 3, 13, -1, None)]}, "must fit their wire fields"),
        ({"supported": [8, 300]}, "supported algorithms are 0-255"),
        ({"nsec3": (b"", 1 << 20)}, "iterations 0-65535"),
        ({"nsec3": (bytes(256), 0)}, "salt of at most 255 octets"),
        ({"origin": b""}, "origin must be a name"),
    ],
)
def test_arguments_outside_their_fields_are_refused(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        plain_scanner(**changes)


def test_every_key_is_used_however_many() -> None:
    """A signature by the 100th key of the RRset is judged against it (once, the scanner
    kept 64 keys and dropped the rest: their signatures read as 'no matching key')."""
    keys = [(257, 3, 13, tag, None) for tag in range(100)]
    rrsig = (
        bytes([0, 1, 13, 1])  # covers A, ECDSAP256SHA256, 1 label
        + (300).to_bytes(4, "big")
        + (1_900_000_000).to_bytes(4, "big")
        + (1_700_000_000).to_bytes(4, "big")
        + (99).to_bytes(2, "big")
        + ORIGIN
        + bytes(64)
    )
    scanner = plain_scanner(keys=keys)
    scanner.scan([(ORIGIN, 300, 1, b"\x7f\x00\x00\x01", 1, 0), (ORIGIN, 300, 46, rrsig, 2, 1)])
    totals = scanner.finish()
    # the key matches (no DER to verify with): a bad signature, not a missing key
    assert set(totals.counts) == {"RRSIG_BAD_SIGNATURE"}
    assert totals.signatures == 1
