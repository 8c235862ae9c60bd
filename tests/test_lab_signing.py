"""The lab's signer produces zones that a validator accepts, with complete denial chains."""

from __future__ import annotations

import base64

import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest
from dns.dnssectypes import Algorithm

from dnssec_doctor.lab import signing
from dnssec_doctor.lab.scenarios import Host, HostRole, Keys, make_zone, sign
from dnssec_doctor.lab.signing import NSEC, NSEC3, Denial, DenialKind, Window

NOW = 1_800_000_000
ORIGIN = dns.name.from_text("example.lab.")


def _zone() -> dns.zone.Zone:
    hosts = [Host(dns.name.from_text("ns1.example.lab."), "127.53.2.1", HostRole.PRIMARY)]
    extra = "\n".join(
        [
            "deep.a.b A 127.53.250.1",  # empty non-terminals a.b and b
            "child NS ns.child",
            "ns.child A 127.53.250.2",  # glue: not signed, not in the chain
            "secure NS ns.elsewhere.lab.",
            "secure DS 12345 13 2 " + "00" * 32,
        ]
    )
    return make_zone(ORIGIN, hosts, serial=1, extra=extra)


def _signed(
    denial: Denial, algorithm: Algorithm = Algorithm.ECDSAP256SHA256
) -> tuple[dns.zone.Zone, Keys]:
    zone = _zone()
    keys = Keys.generate(algorithm)
    sign(zone, keys, Window(NOW - 3600, NOW + 86400), denial=denial)
    return zone, keys


def _rrsets(zone: dns.zone.Zone) -> list[tuple[dns.rrset.RRset, dns.rrset.RRset | None]]:
    found = []
    for name, node in zone.nodes.items():
        for rdataset in node.rdatasets:
            if rdataset.rdtype == dns.rdatatype.RRSIG:
                continue
            rrset = dns.rrset.RRset(name, rdataset.rdclass, rdataset.rdtype)
            rrset.update(rdataset)
            sigs = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, rdataset.rdtype)
            sig_rrset = None
            if sigs is not None:
                sig_rrset = dns.rrset.RRset(
                    name, dns.rdataclass.IN, dns.rdatatype.RRSIG, rdataset.rdtype
                )
                sig_rrset.update(sigs)
            found.append((rrset, sig_rrset))
    return found


@pytest.mark.parametrize("denial", [NSEC, NSEC3], ids=["nsec", "nsec3"])
def test_every_authoritative_rrset_validates_and_nothing_else_is_signed(denial: Denial) -> None:
    zone, keys = _signed(denial)
    dnskeys = {ORIGIN: zone.get_rdataset(ORIGIN, dns.rdatatype.DNSKEY)}
    glue = dns.name.from_text("ns.child.example.lab.")
    cut = dns.name.from_text("child.example.lab.")
    for rrset, sigs in _rrsets(zone):
        unsigned = rrset.name == glue or (rrset.name == cut and rrset.rdtype == dns.rdatatype.NS)
        unsigned |= rrset.rdtype == dns.rdatatype.NS and rrset.name != ORIGIN
        if unsigned:
            assert sigs is None, f"{rrset.name} {rrset.rdtype.name} must not be signed"
            continue
        assert sigs is not None, f"{rrset.name} {rrset.rdtype.name} is not signed"
        dns.dnssec.validate(rrset, sigs, dnskeys, now=NOW)  # raises if bogus
        signer_tags = {sig.key_tag for sig in sigs}
        expected = keys.ksk if rrset.rdtype == dns.rdatatype.DNSKEY else keys.zsk
        assert signer_tags == {expected.key_tag}


def test_nsec_chain_is_closed_in_canonical_order_with_right_bitmaps() -> None:
    zone, _ = _signed(NSEC)
    owners = sorted(
        n
        for n, node in zone.nodes.items()
        if node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC)
    )
    expected = sorted(
        dns.name.from_text(n, ORIGIN)
        for n in ("@", "ns1", "www", "mail", "deep.a.b", "child", "secure")
    )
    assert owners == expected
    for index, owner in enumerate(owners):
        [nsec] = zone.get_rdataset(owner, dns.rdatatype.NSEC)
        assert nsec.next == owners[(index + 1) % len(owners)]
    [apex] = zone.get_rdataset(ORIGIN, dns.rdatatype.NSEC)
    assert _types(apex) == {
        dns.rdatatype.SOA,
        dns.rdatatype.NS,
        dns.rdatatype.MX,
        dns.rdatatype.DNSKEY,
        dns.rdatatype.NSEC,
        dns.rdatatype.RRSIG,
    }
    [insecure_cut] = zone.get_rdataset(dns.name.from_text("child", ORIGIN), dns.rdatatype.NSEC)
    assert _types(insecure_cut) == {dns.rdatatype.NS, dns.rdatatype.NSEC, dns.rdatatype.RRSIG}
    [secure_cut] = zone.get_rdataset(dns.name.from_text("secure", ORIGIN), dns.rdatatype.NSEC)
    assert _types(secure_cut) == {
        dns.rdatatype.NS,
        dns.rdatatype.DS,
        dns.rdatatype.NSEC,
        dns.rdatatype.RRSIG,
    }


def test_nsec3_chain_hashes_every_name_including_empty_non_terminals() -> None:
    denial = Denial(kind=DenialKind.NSEC3, iterations=5, salt=b"\xab\xcd")
    zone, _ = _signed(denial)
    hashed = {
        n.labels[0]: n
        for n, node in zone.nodes.items()
        if node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC3)
    }
    names = ("@", "ns1", "www", "mail", "deep.a.b", "a.b", "b", "child", "secure")
    expected = {
        dns.dnssec.nsec3_hash(dns.name.from_text(n, ORIGIN), b"\xab\xcd", 5, 1).lower().encode()
        for n in names
    }
    assert set(hashed) == expected
    digests = sorted(base64.b32hexdecode(label.upper()) for label in hashed)
    for index, digest in enumerate(digests):
        owner = hashed[base64.b32hexencode(digest).lower()]
        [nsec3] = zone.get_rdataset(owner, dns.rdatatype.NSEC3)
        assert (nsec3.iterations, nsec3.salt) == (5, b"\xab\xcd")
        assert nsec3.next == digests[(index + 1) % len(digests)]
    [param] = zone.get_rdataset(ORIGIN, dns.rdatatype.NSEC3PARAM)
    assert (param.iterations, param.salt) == (5, b"\xab\xcd")
    ent = hashed[
        dns.dnssec.nsec3_hash(dns.name.from_text("b", ORIGIN), b"\xab\xcd", 5, 1).lower().encode()
    ]
    [empty] = zone.get_rdataset(ent, dns.rdatatype.NSEC3)
    assert _types(empty) == set()


def test_corrupted_signature_no_longer_validates() -> None:
    zone, _ = _signed(NSEC)
    www = dns.name.from_text("www", ORIGIN)
    signing.replace_signatures(zone, www, dns.rdatatype.A, signing.corrupt_signature)
    [(rrset, sigs)] = [
        (r, s) for r, s in _rrsets(zone) if r.name == www and r.rdtype == dns.rdatatype.A
    ]
    assert sigs is not None
    with pytest.raises(dns.dnssec.ValidationFailure):
        dns.dnssec.validate(
            rrset, sigs, {ORIGIN: zone.get_rdataset(ORIGIN, dns.rdatatype.DNSKEY)}, now=NOW
        )


def test_rsamd5_keys_sign_for_the_unsupported_algorithm_scenario() -> None:
    zone, keys = _signed(NSEC, Algorithm.RSAMD5)
    assert keys.ksk.algorithm is Algorithm.RSAMD5
    sigs = zone.get_rdataset(
        dns.name.from_text("www", ORIGIN), dns.rdatatype.RRSIG, dns.rdatatype.A
    )
    assert sigs is not None and {s.algorithm for s in sigs} == {Algorithm.RSAMD5}


def _types(rdata: object) -> set[dns.rdatatype.RdataType]:
    found = set()
    for window, bitmap in rdata.windows:  # type: ignore[attr-defined]
        for index, byte in enumerate(bitmap):
            for bit in range(8):
                if byte & (0x80 >> bit):
                    found.add(dns.rdatatype.RdataType.make(window * 256 + index * 8 + bit))
    return found
