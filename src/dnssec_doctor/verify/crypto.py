"""Signature cryptography on raw bytes: public keys loaded once, one call per signature.

``dns.dnssec.validate_rrsig`` rebuilds the key object and the signed data from dnspython
objects on every call; a zone verifier checks hundreds of thousands of signatures with a
handful of keys. Here each DNSKEY becomes a ``cryptography`` public key once
(``KeyRing``), and ``verify`` takes the canonical signed data (RFC 4034 §3.1.8.1) as
bytes.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

Verify = Callable[[bytes, bytes], bool]  # (signature, signed data) -> valid

_RSA_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    5: hashes.SHA1,
    7: hashes.SHA1,
    8: hashes.SHA256,
    10: hashes.SHA512,
}
_EC: dict[int, tuple[ec.EllipticCurve, type[hashes.HashAlgorithm], int]] = {
    13: (ec.SECP256R1(), hashes.SHA256, 32),
    14: (ec.SECP384R1(), hashes.SHA384, 48),
}

ZONE_FLAG = 0x0100
REVOKE_FLAG = 0x0080
SEP_FLAG = 0x0001


def key_tag(dnskey_rdata: bytes) -> int:
    """RFC 4034 Appendix B."""
    if len(dnskey_rdata) > 3 and dnskey_rdata[3] == 1:  # RSAMD5
        return int.from_bytes(dnskey_rdata[-3:-1], "big")
    total = 0
    for index, octet in enumerate(dnskey_rdata):
        total += octet if index & 1 else octet << 8
    total += (total >> 16) & 0xFFFF
    return total & 0xFFFF


def make_verifier(algorithm: int, key: bytes) -> Verify | None:
    """A verifier for one public key, or None for an algorithm or key bytes that
    cannot be used (unknown algorithm, malformed key)."""
    try:
        return _make_verifier(algorithm, key)
    except (ValueError, TypeError, IndexError):
        return None


def _make_verifier(algorithm: int, key: bytes) -> Verify | None:
    if algorithm in _RSA_HASHES:
        if key[0]:
            exponent_length, start = key[0], 1
        else:
            exponent_length, start = int.from_bytes(key[1:3], "big"), 3
        exponent = int.from_bytes(key[start : start + exponent_length], "big")
        modulus = int.from_bytes(key[start + exponent_length :], "big")
        rsa_key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
        rsa_hash = _RSA_HASHES[algorithm]()
        pkcs1 = padding.PKCS1v15()

        def verify_rsa(signature: bytes, data: bytes) -> bool:
            try:
                rsa_key.verify(signature, data, pkcs1, rsa_hash)
            except (InvalidSignature, ValueError):
                return False
            return True

        return verify_rsa
    if algorithm in _EC:
        curve, hash_class, size = _EC[algorithm]
        if len(key) != 2 * size:
            return None
        ec_key = ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + key)
        ecdsa = ec.ECDSA(hash_class())

        def verify_ec(signature: bytes, data: bytes) -> bool:
            if len(signature) != 2 * size:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            )
            try:
                ec_key.verify(der, data, ecdsa)
            except (InvalidSignature, ValueError):
                return False
            return True

        return verify_ec
    if algorithm in (15, 16):
        ed_key: ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
        if algorithm == 15:
            ed_key = ed25519.Ed25519PublicKey.from_public_bytes(key)
        else:
            ed_key = ed448.Ed448PublicKey.from_public_bytes(key)

        def verify_ed(signature: bytes, data: bytes) -> bool:
            try:
                ed_key.verify(signature, data)
            except (InvalidSignature, ValueError):
                return False
            return True

        return verify_ed
    return None


@dataclass(frozen=True)
class ZoneKey:
    flags: int
    protocol: int
    algorithm: int
    tag: int
    verify: Verify | None  # None: the algorithm or key bytes cannot be used

    @property
    def is_zone_key(self) -> bool:
        return bool(self.flags & ZONE_FLAG) and self.protocol == 3

    @property
    def is_revoked(self) -> bool:
        return bool(self.flags & REVOKE_FLAG)


class KeyRing:
    """The apex DNSKEYs by (algorithm, key tag), each with its verifier built once."""

    def __init__(self, dnskeys: Iterable[bytes]) -> None:
        self.keys: dict[tuple[int, int], list[ZoneKey]] = {}
        self.algorithms: set[int] = set()  # of the zone keys: each must sign every RRset
        for rdata in dnskeys:
            if len(rdata) < 4:
                continue
            flags, protocol, algorithm = struct.unpack_from("!HBB", rdata)
            key = ZoneKey(
                flags, protocol, algorithm, key_tag(rdata), make_verifier(algorithm, rdata[4:])
            )
            self.keys.setdefault((algorithm, key.tag), []).append(key)
            if key.is_zone_key:
                self.algorithms.add(algorithm)

    def candidates(self, algorithm: int, tag: int) -> list[ZoneKey]:
        return self.keys.get((algorithm, tag), [])


def nsec3_hash(name_wire: bytes, salt: bytes, iterations: int) -> bytes:
    """RFC 5155 §5 (SHA-1, the only hash algorithm defined)."""
    digest = hashlib.sha1(name_wire + salt).digest()
    for _ in range(iterations):
        digest = hashlib.sha1(digest + salt).digest()
    return digest
