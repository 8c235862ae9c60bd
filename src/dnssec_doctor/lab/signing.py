"""Signing zones for the lab, step by step, so that scenarios can break any step.

``dns.dnssec.sign_zone`` signs a whole zone in one call and cannot do NSEC3; the lab needs
to publish keys that sign nothing, sign with keys that are not published, give one RRset
another window, build an NSEC3 chain with 200 iterations, and so on. So signing is split
into the steps a signer performs — publish keys, build the denial chain, sign every
RRset — each a function over a ``dns.zone.Zone``. The cryptography is dnspython's.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import dns.dnssec
import dns.name
import dns.node
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.DS
import dns.rdtypes.ANY.NSEC
import dns.rdtypes.ANY.NSEC3
import dns.rdtypes.ANY.NSEC3PARAM
import dns.rdtypes.ANY.RRSIG
import dns.rrset
import dns.zone
from cryptography.hazmat.primitives.asymmetric import ec
from dns.dnssecalgs import get_algorithm_cls
from dns.dnssecalgs.base import GenericPrivateKey
from dns.dnssectypes import Algorithm, DSDigest
from dns.rdtypes.util import Bitmap

KSK_FLAGS = 257
ZSK_FLAGS = 256

_KEY_SIZES = {
    Algorithm.RSAMD5: 1024,
    Algorithm.RSASHA1: 2048,
    Algorithm.RSASHA256: 2048,
    Algorithm.RSASHA512: 2048,
}


@dataclass(frozen=True)
class KeyPair:
    """A private key with the DNSKEY record that publishes it."""

    private: GenericPrivateKey
    dnskey: dns.rdtypes.ANY.DNSKEY.DNSKEY

    @property
    def key_tag(self) -> int:
        return dns.dnssec.key_id(self.dnskey)

    @property
    def algorithm(self) -> Algorithm:
        return Algorithm(self.dnskey.algorithm)

    def ds(self, owner: dns.name.Name, digest: DSDigest = DSDigest.SHA256) -> dns.rdtypes.ANY.DS.DS:
        """The DS record a parent publishes for this key."""
        return dns.dnssec.make_ds(owner, self.dnskey, digest, policy=_PERMISSIVE)


def bind_private_key(key: KeyPair) -> str:
    """An ECDSA key in BIND's private-key format (v1.2), as PowerDNS's pdnsutil imports it."""
    private = getattr(key.private, "key", None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise ValueError(f"only ECDSA keys are written in BIND's form, not {key.algorithm.name}")
    size = (private.curve.key_size + 7) // 8
    scalar = private.private_numbers().private_value.to_bytes(size, "big")
    return (
        "Private-key-format: v1.2\n"
        f"Algorithm: {int(key.algorithm)} ({key.algorithm.name})\n"
        f"PrivateKey: {base64.b64encode(scalar).decode()}\n"
    )


def generate_key(algorithm: Algorithm, *, ksk: bool) -> KeyPair:
    """Generate a key of ``algorithm`` with the SEP flag set for a KSK."""
    cls: Any = get_algorithm_cls(algorithm)  # each subclass defines its own generate()
    size = _KEY_SIZES.get(algorithm)
    private: GenericPrivateKey = cls.generate(key_size=size) if size else cls.generate()
    dnskey = private.public_key().to_dnskey(flags=KSK_FLAGS if ksk else ZSK_FLAGS)
    return KeyPair(private=private, dnskey=dnskey)


@dataclass(frozen=True)
class Window:
    """A signature validity window in POSIX seconds."""

    inception: int
    expiration: int


class DenialKind(enum.StrEnum):
    NSEC = "nsec"
    NSEC3 = "nsec3"


@dataclass(frozen=True)
class Denial:
    """How the zone proves that names and types do not exist."""

    kind: DenialKind = DenialKind.NSEC
    iterations: int = 0
    salt: bytes = b""
    # NSEC3 opt-out (RFC 5155 §6): unsigned delegations get no NSEC3 record, and every
    # NSEC3 carries the opt-out flag.
    opt_out: bool = False

    @property
    def nsec3param(self) -> dns.rdtypes.ANY.NSEC3PARAM.NSEC3PARAM:
        return dns.rdtypes.ANY.NSEC3PARAM.NSEC3PARAM(
            dns.rdataclass.IN, dns.rdatatype.NSEC3PARAM, 1, 0, self.iterations, self.salt
        )


NSEC = Denial()
NSEC3 = Denial(kind=DenialKind.NSEC3)
_OPT_OUT_FLAG = 0x01


def delegation_points(zone: dns.zone.Zone) -> set[dns.name.Name]:
    """Names below the apex that hold an NS RRset: zone cuts."""
    origin = _origin(zone)
    return {
        name
        for name, node in zone.nodes.items()
        if _absolute(name, origin) != origin
        and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS)
    }


def authoritative_names(zone: dns.zone.Zone) -> list[dns.name.Name]:
    """Absolute owner names the zone is authoritative for (cuts included, glue excluded)."""
    origin = _origin(zone)
    cuts = {_absolute(n, origin) for n in delegation_points(zone)}
    names = []
    for name in zone.nodes:
        absolute = _absolute(name, origin)
        if _below_cut(absolute, origin, cuts):
            continue  # glue or occluded data below a cut
        names.append(absolute)
    return sorted(names)


def _below_cut(name: dns.name.Name, origin: dns.name.Name, cuts: set[dns.name.Name]) -> bool:
    """Whether a zone cut lies strictly above ``name`` (its ancestors are looked up, so a
    TLD of 100,000 delegations is not a quadratic walk)."""
    while name != origin and len(name) > len(origin):
        name = name.parent()
        if name in cuts:
            return True
    return False


def publish_keys(zone: dns.zone.Zone, keys: Iterable[KeyPair], ttl: int) -> None:
    """Replace the apex DNSKEY RRset with ``keys``."""
    rdataset = dns.rdataset.Rdataset(dns.rdataclass.IN, dns.rdatatype.DNSKEY, ttl=ttl)
    for key in keys:
        rdataset.add(key.dnskey)
    node = zone.find_node(_origin(zone), create=True)
    node.replace_rdataset(rdataset)


def add_denial_chain(zone: dns.zone.Zone, denial: Denial, *, ttl: int) -> None:
    """Add the NSEC or NSEC3 chain (and NSEC3PARAM) for the zone's current contents."""
    if denial.kind is DenialKind.NSEC:
        _add_nsec_chain(zone, ttl)
    else:
        _add_nsec3_chain(zone, denial, ttl)


def _add_nsec_chain(zone: dns.zone.Zone, ttl: int) -> None:
    origin = _origin(zone)
    cuts = {_absolute(n, origin) for n in delegation_points(zone)}
    names = authoritative_names(zone)
    for index, name in enumerate(names):
        following = names[(index + 1) % len(names)]
        types = _types_at(zone, name) | {dns.rdatatype.NSEC, dns.rdatatype.RRSIG}
        if name in cuts and dns.rdatatype.DS not in types:
            # An insecure delegation: its NS is not signed, but the NSEC itself is.
            types = {t for t in types if t in (dns.rdatatype.NS, dns.rdatatype.NSEC)}
            types.add(dns.rdatatype.RRSIG)
        nsec = dns.rdtypes.ANY.NSEC.NSEC(
            dns.rdataclass.IN,
            dns.rdatatype.NSEC,
            following,
            Bitmap.from_rdtypes(sorted(types)).windows,
        )
        _put(zone, name, nsec, ttl)


def _add_nsec3_chain(zone: dns.zone.Zone, denial: Denial, ttl: int) -> None:
    origin = _origin(zone)
    cuts = {_absolute(n, origin) for n in delegation_points(zone)}
    names = set(authoritative_names(zone))
    if denial.opt_out:
        names = {
            n for n in names if n not in cuts or zone.get_rdataset(n, dns.rdatatype.DS) is not None
        }
    # Empty non-terminals get NSEC3 records too (RFC 5155 §7.1); with opt-out, only those
    # above a name that keeps its NSEC3.
    for name in list(names):
        parent = name.parent() if name != origin else origin
        while parent != origin and parent.is_subdomain(origin):
            names.add(parent)
            parent = parent.parent()
    apex = zone.find_node(origin, create=True)
    apex.replace_rdataset(rdataset_of(denial.nsec3param, 0))
    hashed = sorted(
        (base64.b32hexdecode(dns.dnssec.nsec3_hash(name, denial.salt, denial.iterations, 1)), name)
        for name in names
    )
    for index, (digest, name) in enumerate(hashed):
        following = hashed[(index + 1) % len(hashed)][0]
        types = _types_at(zone, name)
        if types and (name not in cuts or dns.rdatatype.DS in types):
            types.add(dns.rdatatype.RRSIG)
        nsec3 = dns.rdtypes.ANY.NSEC3.NSEC3(
            dns.rdataclass.IN,
            dns.rdatatype.NSEC3,
            1,
            _OPT_OUT_FLAG if denial.opt_out else 0,
            denial.iterations,
            denial.salt,
            following,
            Bitmap.from_rdtypes(sorted(types)).windows,
        )
        owner = dns.name.Name((base64.b32hexencode(digest).lower(), *origin.labels))
        _put(zone, owner, nsec3, ttl)


def sign_rrsets(
    zone: dns.zone.Zone,
    *,
    dnskey_signers: Sequence[KeyPair],
    data_signers: Sequence[KeyPair],
    window: Window,
) -> None:
    """Sign every authoritative RRset: the apex DNSKEY RRset with ``dnskey_signers``,
    everything else (DS at cuts included; NS at cuts and glue excluded) with
    ``data_signers``. Existing RRSIGs are replaced."""
    origin = _origin(zone)
    cuts = {_absolute(n, origin) for n in delegation_points(zone)}
    owners = set(authoritative_names(zone))
    for name, node in list(zone.nodes.items()):
        absolute = _absolute(name, origin)
        if absolute not in owners and not _is_nsec3_owner(node):
            continue
        node.delete_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.ANY)
        for rdataset in list(node.rdatasets):
            if rdataset.rdtype == dns.rdatatype.RRSIG:
                continue
            if (
                absolute in cuts
                and rdataset.rdtype != dns.rdatatype.DS
                and (rdataset.rdtype != dns.rdatatype.NSEC)
            ):
                continue
            is_dnskey = rdataset.rdtype == dns.rdatatype.DNSKEY and absolute == origin
            signers = dnskey_signers if is_dnskey else data_signers
            sign_rdataset(zone, absolute, rdataset, signers, window)


def sign_rdataset(
    zone: dns.zone.Zone,
    owner: dns.name.Name,
    rdataset: dns.rdataset.Rdataset,
    signers: Sequence[KeyPair],
    window: Window,
) -> None:
    """Add (beside any there are) RRSIGs over one RRset by each of ``signers``."""
    origin = _origin(zone)
    rrset = dns.rrset.RRset(owner, rdataset.rdclass, rdataset.rdtype)
    rrset.update(rdataset)
    sigs = zone.find_rdataset(owner, dns.rdatatype.RRSIG, rdataset.rdtype, create=True)
    for key in signers:
        rrsig = dns.dnssec.sign(
            rrset,
            key.private,
            origin,
            key.dnskey,
            inception=window.inception,
            expiration=window.expiration,
            policy=_PERMISSIVE,
        )
        sigs.add(rrsig, rdataset.ttl)


def remove_signatures(
    zone: dns.zone.Zone, owner: dns.name.Name, covered: dns.rdatatype.RdataType
) -> None:
    """Drop the RRSIGs covering one RRset."""
    zone.delete_rdataset(owner, dns.rdatatype.RRSIG, covered)


def replace_signatures(
    zone: dns.zone.Zone,
    owner: dns.name.Name,
    covered: dns.rdatatype.RdataType,
    change: Callable[[dns.rdtypes.ANY.RRSIG.RRSIG], dns.rdtypes.ANY.RRSIG.RRSIG],
) -> None:
    """Rewrite each RRSIG covering one RRset through ``change``."""
    rdataset = zone.get_rdataset(owner, dns.rdatatype.RRSIG, covered)
    if rdataset is None:
        raise KeyError(f"no RRSIG over {owner} {covered.name}")
    replacement = dns.rdataset.Rdataset(
        rdataset.rdclass, dns.rdatatype.RRSIG, covered, rdataset.ttl
    )
    for rrsig in rdataset:
        replacement.add(change(rrsig))
    zone.replace_rdataset(owner, replacement)


def corrupt_signature(rrsig: dns.rdtypes.ANY.RRSIG.RRSIG) -> dns.rdtypes.ANY.RRSIG.RRSIG:
    """Flip bits in the middle of the signature bytes, as a bad transfer or HSM would."""
    signature = bytearray(rrsig.signature)
    middle = len(signature) // 2
    for offset in range(middle, min(middle + 4, len(signature))):
        signature[offset] ^= 0x5A
    return cast(dns.rdtypes.ANY.RRSIG.RRSIG, rrsig.replace(signature=bytes(signature)))


def altered_ds(ds: dns.rdtypes.ANY.DS.DS, **fields: Any) -> dns.rdtypes.ANY.DS.DS:
    """``ds`` with some fields changed, for parents that publish the wrong thing."""
    return cast(dns.rdtypes.ANY.DS.DS, ds.replace(**fields))


def flipped(digest: bytes) -> bytes:
    """A digest with its first bytes inverted: a wrongly copied DS."""
    return bytes(b ^ 0xFF for b in digest[:4]) + digest[4:]


def _types_at(zone: dns.zone.Zone, name: dns.name.Name) -> set[dns.rdatatype.RdataType]:
    node = zone.get_node(name)
    if node is None:
        return set()
    return {r.rdtype for r in node.rdatasets if r.rdtype != dns.rdatatype.RRSIG}


def _is_nsec3_owner(node: dns.node.Node) -> bool:
    return node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC3) is not None


def _put(zone: dns.zone.Zone, owner: dns.name.Name, rdata: dns.rdata.Rdata, ttl: int) -> None:
    zone.find_node(owner, create=True).replace_rdataset(rdataset_of(rdata, ttl))


def rdataset_of(rdata: dns.rdata.Rdata, ttl: int) -> dns.rdataset.Rdataset:
    rdataset = dns.rdataset.Rdataset(rdata.rdclass, rdata.rdtype, ttl=ttl)
    rdataset.add(rdata)
    return rdataset


def b32_label_to_digest(label: bytes) -> bytes:
    """The hash bytes behind an NSEC3 owner's first label."""
    return base64.b32hexdecode(label.upper())


def _origin(zone: dns.zone.Zone) -> dns.name.Name:
    assert zone.origin is not None
    return zone.origin


def _absolute(name: dns.name.Name, origin: dns.name.Name) -> dns.name.Name:
    return name if name.is_absolute() else name.derelativize(origin)


class _SignAnything(dns.dnssec.Policy):
    """The lab signs with algorithms that current policy forbids (RSAMD5) on purpose."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def ok_to_sign(self, key: dns.rdtypes.ANY.DNSKEY.DNSKEY) -> bool:
        return True

    def ok_to_create_ds(self, algorithm: DSDigest) -> bool:
        return True


_PERMISSIVE = _SignAnything()
