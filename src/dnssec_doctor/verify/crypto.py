"""DNSKEY material for the zone scanner: key tags, public keys, NSEC3 hashes.

``dns.dnssec.validate_rrsig`` rebuilds the key object and the signed data from dnspython
objects on every call; a zone verifier checks hundreds of thousands of signatures with a
handful of keys. Here each DNSKEY is decoded once, by ``cryptography`` (which rejects
malformed keys), into the DER form the scanner's OpenSSL loads (``_scan.c``).
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PublicKey = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)

_RSA_ALGORITHMS = (5, 7, 8, 10)
_EC_CURVES: dict[int, tuple[ec.EllipticCurve, int]] = {
    13: (ec.SECP256R1(), 32),
    14: (ec.SECP384R1(), 48),
}


def key_tag(dnskey_rdata: bytes) -> int:
    """RFC 4034 Appendix B."""
    if len(dnskey_rdata) > 3 and dnskey_rdata[3] == 1:  # RSAMD5
        return int.from_bytes(dnskey_rdata[-3:-1], "big")
    total = 0
    for index, octet in enumerate(dnskey_rdata):
        total += octet if index & 1 else octet << 8
    total += (total >> 16) & 0xFFFF
    return total & 0xFFFF


def public_key_der(algorithm: int, key: bytes) -> bytes | None:
    """The DNSKEY public key (RFC 3110, RFC 6605, RFC 8080 formats) as DER
    SubjectPublicKeyInfo, for the scanner's OpenSSL; None for an algorithm or key bytes
    that cannot be used (unknown algorithm, malformed key)."""
    try:
        public_key = _public_key(algorithm, key)
    except (ValueError, TypeError, IndexError):
        return None
    if public_key is None:
        return None
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _public_key(algorithm: int, key: bytes) -> PublicKey | None:
    if algorithm in _RSA_ALGORITHMS:
        if key[0]:
            exponent_length, start = key[0], 1
        else:
            exponent_length, start = int.from_bytes(key[1:3], "big"), 3
        exponent = int.from_bytes(key[start : start + exponent_length], "big")
        modulus = int.from_bytes(key[start + exponent_length :], "big")
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    if algorithm in _EC_CURVES:
        curve, size = _EC_CURVES[algorithm]
        if len(key) != 2 * size:
            return None
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + key)
    if algorithm == 15:
        return ed25519.Ed25519PublicKey.from_public_bytes(key)
    if algorithm == 16:
        return ed448.Ed448PublicKey.from_public_bytes(key)
    return None


def nsec3_hash(name_wire: bytes, salt: bytes, iterations: int) -> bytes:
    """RFC 5155 §5 (SHA-1, the only hash algorithm defined)."""
    digest = hashlib.sha1(name_wire + salt).digest()
    for _ in range(iterations):
        digest = hashlib.sha1(digest + salt).digest()
    return digest
