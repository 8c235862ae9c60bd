"""The C scanner (``verify/_scan.c``) on records no reader would produce: random RDATA of
every type it parses, truncated RRSIGs, odd owners. It must count every record and return,
never crash: a crash here would take the whole ``zone verify`` down with it."""

from __future__ import annotations

import random

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
        assert result[4] == len(records)  # every record counted
        assert result[7] == 0  # random signatures never verify
