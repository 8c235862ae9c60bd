"""Replay scenarios built in Python: a root that delegates to one signed zone, written in
Unbound's replay format, so that tests run the whole replay path on data they control."""

from __future__ import annotations

import datetime

import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
from cryptography.hazmat.primitives.asymmetric import dsa, ed25519
from dns.dnssectypes import Algorithm, DSDigest

JUDGED = datetime.datetime(2026, 1, 15, tzinfo=datetime.UTC)
ROOT_ADDRESS = "192.0.2.1"
ZONE_ADDRESS = "192.0.2.2"

ZONE_TEXT = """\
$ORIGIN example.
$TTL 3600
@ SOA ns hostmaster 1 7200 3600 1209600 300
@ NS ns
ns A 192.0.2.2
www A 192.0.2.80
"""


def signed_example(algorithm: Algorithm = Algorithm.ED25519) -> tuple[dns.zone.Zone, str]:
    """``example.`` signed with one key (Ed25519 or DSA) for January 2026, and its DS."""
    zone = dns.zone.from_text(ZONE_TEXT, relativize=False)
    private: ed25519.Ed25519PrivateKey | dsa.DSAPrivateKey
    if algorithm == Algorithm.DSA:
        private = dsa.generate_private_key(key_size=1024)
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    dnskey = dns.dnssec.make_dnskey(private.public_key(), algorithm, flags=257)
    dns.dnssec.sign_zone(
        zone,
        keys=[(private, dnskey)],
        inception=JUDGED - datetime.timedelta(days=10),
        expiration=JUDGED + datetime.timedelta(days=10),
        policy=dns.dnssec.allow_all_policy,
    )
    origin = dns.name.from_text("example.")
    ds = dns.dnssec.make_ds(origin, dnskey, DSDigest.SHA256, policy=dns.dnssec.allow_all_policy)
    return zone, f"example. 3600 IN DS {ds}"


def _entry(
    question: str,
    *,
    answer: list[str] = (),
    authority: list[str] = (),
    additional: list[str] = (),
    match: str = "opcode qtype qname",
    reply: str = "QR NOERROR",
) -> str:
    lines = [
        "ENTRY_BEGIN",
        f"MATCH {match}",
        "ADJUST copy_id copy_query",
        f"REPLY {reply}",
        "SECTION QUESTION",
        question,
    ]
    for title, records in (
        ("ANSWER", answer),
        ("AUTHORITY", authority),
        ("ADDITIONAL", additional),
    ):
        if records:
            lines += [f"SECTION {title}", *records]
    return "\n".join([*lines, "ENTRY_END"])


def _records(zone: dns.zone.Zone, name: str, rdtype: str) -> list[str]:
    node = zone.get_node(name)
    if node is None:
        return []
    found: list[str] = []
    wanted = dns.rdatatype.from_text(rdtype)
    for rdataset in node:
        if rdataset.rdtype == wanted or (
            rdataset.rdtype == dns.rdatatype.RRSIG and rdataset.covers == wanted
        ):
            found += (
                dns.rrset.from_rdata_list(dns.name.from_text(name), rdataset.ttl, list(rdataset))
                .to_text()
                .splitlines()
            )
    return found


def scenario_text(
    zone: dns.zone.Zone,
    anchor: str,
    *,
    expect: str = "QR RD RA AD DO NOERROR",
    ede: int | None = None,
    top_level: bool = False,
) -> str:
    """The scenario: the root refers example. to its server, which answers every RRset
    of the zone; one query for www.example. A and the answer ``expect`` states."""
    if top_level:  # Deckard writes the configuration without blocks
        config = [
            f'trust-anchor: "{anchor}"',
            'val-override-date: "20260115000000"',
            f"stub-addr: {ROOT_ADDRESS}",
        ]
    else:
        config = [
            "server:",
            f'\ttrust-anchor: "{anchor}"',
            '\tval-override-date: "20260115000000"',
            "",
            "stub-zone:",
            '\tname: "."',
            f"\tstub-addr: {ROOT_ADDRESS}",
        ]
    entries = [
        _entry(f"{name} IN {rdtype}", answer=_records(zone, name, rdtype))
        for name, rdtype in (
            ("example.", "SOA"),
            ("example.", "NS"),
            ("example.", "DNSKEY"),
            ("ns.example.", "A"),
            ("www.example.", "A"),
        )
    ]
    check_match = "all" if ede is None else f"all ede={ede}"
    return "\n".join(
        [
            "; built by tests/replay_support.py",
            *config,
            "CONFIG_END",
            "SCENARIO_BEGIN an island of trust at example.",
            "RANGE_BEGIN 0 100",
            f"\tADDRESS {ROOT_ADDRESS}",
            _entry(". IN NS", answer=[". 3600 IN NS a.root."]),
            _entry(
                ". IN SOA", answer=[". 3600 IN SOA a.root. hostmaster. 1 7200 3600 1209600 300"]
            ),
            _entry(
                "example. IN A",
                match="opcode subdomain",
                authority=["example. 3600 IN NS ns.example."],
                additional=["ns.example. 3600 IN A 192.0.2.2"],
            ),
            "RANGE_END",
            "RANGE_BEGIN 0 100",
            f"\tADDRESS {ZONE_ADDRESS}",
            *entries,
            "RANGE_END",
            "STEP 1 QUERY",
            "ENTRY_BEGIN",
            "REPLY RD DO",
            "SECTION QUESTION",
            "www.example. IN A",
            "ENTRY_END",
            "STEP 10 CHECK_ANSWER",
            "ENTRY_BEGIN",
            f"MATCH {check_match}",
            f"REPLY {expect}",
            "SECTION QUESTION",
            "www.example. IN A",
            "ENTRY_END",
            "SCENARIO_END",
            "",
        ]
    )
