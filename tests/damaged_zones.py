"""The damaged-zone corpus: a signed zone and a zone of unusual syntax, damaged at random
(seeded) a few octets at a time. The reader comparison (``test_zonefile_fast``) and the
signature judgement comparison (``test_signature_judgements``) run over the same texts."""

from __future__ import annotations

import random
from collections.abc import Iterator

import dns.name
from cryptography.hazmat.primitives.asymmetric import ec
from dns.dnssecalgs.ecdsa import PrivateECDSAP256SHA256

from dnssec_doctor.lab import signing
from dnssec_doctor.lab.scenarios import BuildContext, Keys, make_zone, primary_hosts, sign

ORIGIN = dns.name.from_text("example.lab.")
NOW = 1_800_000_000  # the signing time of signed_text(): its signatures are valid then


def _fixed_key(scalar: int, *, ksk: bool) -> signing.KeyPair:
    """A P-256 key made from a fixed private scalar: with RFC 6979 signatures (dnspython's
    default) the signed text, and so every damaged copy, is the same on every run."""
    private = PrivateECDSAP256SHA256(key=ec.derive_private_key(scalar, ec.SECP256R1()))
    flags = signing.KSK_FLAGS if ksk else signing.ZSK_FLAGS
    return signing.KeyPair(private=private, dnskey=private.public_key().to_dnskey(flags=flags))


FIXED_KEYS = Keys(_fixed_key(20261121, ksk=True), _fixed_key(20261203, ksk=False))


def signed_text(denial: signing.Denial) -> bytes:
    context = BuildContext(now=1_800_000_000, index=0, parent=dns.name.from_text("lab."))
    zone = make_zone(
        ORIGIN,
        primary_hosts(context, ORIGIN),
        serial=1,
        extra='txt 300 IN TXT "v=spf1 -all" "two; words"\nmx 300 IN MX 10 mail\n',
    )
    sign(zone, FIXED_KEYS, context.valid, denial=denial)
    return zone.to_text(relativize=False, sorted=True).encode()


UNUSUAL = b"""\
$TTL 1h
$ORIGIN example.lab.
@ IN SOA ns1 hostmaster ( 1 ; serial
    7200 3600 ; refresh, retry
    1209600 300 )
@ 3600 NS ns1
  NS ns2.example.lab.
ns1 IN 300 A 192.0.2.1
ns2 300 in a 192.0.2.2
ns2 aaaa 2001:db8::1 ; lower-case type, TTL from $TTL
Mixed.Case 300 TXT "a;b" "(c)" plain
esc 300 TXT "with \\"escape\\""
weird 300 TYPE65534 \\# 3 010203
srv 300 SRV 0 5 5060 sip
caa 300 CAA 0 issue "ca.example"
*.wild 300 A 192.0.2.9
long 1d MX 10 mail
relative 300 CNAME target
sig 300 RRSIG A 8 2 300 20300101000000 20200101000000 12345 example.lab. AAEC AwQ=
sig 300 RRSIG A 8 2 300 1893456000 1577836800 12345 example.lab. ( AAECAw== )
sig 300 RRSIG TYPE1 8 2 300 20300101000000 20200101000000 1 example.lab. AAECAw==
n3 300 NSEC3 1 1 0 - ( 0123456789abcdefghijklmnopqrstuv A RRSIG )
n3 300 NSEC3 1 0 10 aabbcc 0123456789ABCDEFGHIJKLMNOPQRSTUV TYPE65534
n3 300 NSEC3 1 0 0 - CPNMU A ; unpadded base32hex (RFC 5155 section 3.3)
nsec 300 NSEC next.example.lab. A NS SOA RRSIG NSEC DNSKEY TYPE1234 CAA
key 300 DNSKEY 257 3 13 ( AAAA
    AAAA ) ; split base64
ds 300 DS 1 13 2 ( 00112233445566778899aabbccddeeff
    00112233445566778899aabbccddeeff )
ds 300 DS 1 13 2 0011223
$ORIGIN sub.example.lab.
@ 300 A 192.0.2.3
"""


_DAMAGE = b' \t\n;()"\\.$@*019aAzZ=+/-#'


def damage(base: bytes, count: int, seed: int) -> Iterator[bytes]:
    """``count`` copies of ``base``, each with one to four octets changed, deleted or
    inserted at random."""
    generator = random.Random(seed)
    for _ in range(count):
        text = bytearray(base)
        for _ in range(generator.randint(1, 4)):
            where = generator.randrange(len(text))
            action = generator.random()
            if action < 0.4:
                text[where] = generator.choice(_DAMAGE)
            elif action < 0.7:
                del text[where]
            else:
                text.insert(where, generator.choice(_DAMAGE))
        yield bytes(text)


def damaged_zones(count: int = 1500, seed: int = 20261121) -> Iterator[bytes]:
    """``count`` damaged copies of the start of an NSEC-signed zone followed by
    ``UNUSUAL``: the cut falls inside a record, so none reads to its end (the reader's
    errors are compared on them)."""
    yield from damage(signed_text(signing.NSEC)[:6000] + UNUSUAL[:400], count, seed)


def damaged_signed_zones(count: int = 1500, seed: int = 20261203) -> Iterator[bytes]:
    """``count`` damaged copies of whole signed zones, half NSEC, half NSEC3: most still
    read, with signatures, TTLs, names and keys damaged."""
    nsec3 = signing.Denial(signing.DenialKind.NSEC3, iterations=0, salt=b"")
    yield from damage(signed_text(signing.NSEC), count // 2, seed)
    yield from damage(signed_text(nsec3), count - count // 2, seed + 1)
