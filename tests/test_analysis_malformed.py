"""Malformed records are evidence: messages built byte by byte with records whose RDATA
does not fit their type, read record by record; the link and the verdict they lead to.

No finding, verdict or exit code may depend on whether dnspython can read a record: a DS
that cannot be read matches no key, an RRSIG that cannot be read is no signature, a key
whose material is junk signs nothing."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import dns.dnssec
import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from dns.dnssectypes import Algorithm
from dns.rdtypes.ANY.DNSKEY import DNSKEY

from dnssec_doctor.analysis.keys import LinkState, check_zone_link
from dnssec_doctor.analysis.signatures import SignatureStatus, classify_signature
from dnssec_doctor.analysis.wire import parse_message
from dnssec_doctor.cli import main
from dnssec_doctor.lab import signing
from dnssec_doctor.lab.signing import KeyPair
from dnssec_doctor.model.options import DAY, AnalysisOptions

NOW = 1_795_176_000  # 2026-11-20T12:00:00Z
ZONE = dns.name.from_text("example.com.")
OPTIONS = AnalysisOptions(now=NOW)
SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"
IN, A, DS, RRSIG, OPT = 1, 1, 43, 46, 41


def name(text: str) -> bytes:
    return b"".join(bytes([len(label)]) + label.encode() for label in text.split(".")) + b"\0"


def record(owner: bytes, rdtype: int, rdata: bytes, *, ttl: int = 300, rdclass: int = IN) -> bytes:
    return owner + struct.pack("!HHIH", rdtype, rdclass, ttl, len(rdata)) + rdata


def message(
    question: bytes,
    answer: list[bytes] = (),  # type: ignore[assignment]
    authority: list[bytes] = (),  # type: ignore[assignment]
    additional: list[bytes] = (),  # type: ignore[assignment]
    *,
    ident: int = 0x1234,
    flags: int = 0x8400,  # QR AA
) -> bytes:
    header = struct.pack("!HHHHHH", ident, flags, 1, len(answer), len(authority), len(additional))
    return header + question + b"".join(answer) + b"".join(authority) + b"".join(additional)


WWW = name("www.example.com")
QUESTION = WWW + struct.pack("!HH", A, IN)
POINTER_TO_QNAME = b"\xc0\x0c"
SHORT_DS = struct.pack("!HBB", 12345, 13, 2) + bytes(range(20))  # SHA-256 digest of 20 bytes
SHORT_RRSIG = struct.pack("!HBBI", A, 13, 3, 300) + b"\x00\x01\x02\x03"  # cut after 8 bytes
EDNS = record(b"\0", OPT, b"", ttl=0x8000, rdclass=1232)  # DO set, payload 1232


# --- reading record by record ---------------------------------------------------------


def test_a_readable_message_has_no_malformed_records() -> None:
    wire = message(QUESTION, [record(POINTER_TO_QNAME, A, bytes([192, 0, 2, 1]))])
    parsed = parse_message(wire)
    assert parsed.message is not None and parsed.malformed == () and parsed.error is None


def test_records_that_cannot_be_read_are_set_aside_with_their_bytes() -> None:
    wire = message(
        QUESTION,
        [
            record(POINTER_TO_QNAME, A, bytes([192, 0, 2, 1])),
            record(POINTER_TO_QNAME, RRSIG, SHORT_RRSIG),
        ],
        [record(name("example.com"), DS, SHORT_DS, ttl=120)],
        [EDNS],
    )
    with pytest.raises(dns.exception.FormError):
        dns.message.from_wire(wire)  # dnspython refuses the whole message
    parsed = parse_message(wire)
    assert parsed.message is not None and parsed.error is None
    kept = parsed.message
    assert [(r.name, r.rdtype) for r in kept.answer] == [
        (dns.name.from_text("www.example.com."), dns.rdatatype.A)
    ]
    assert kept.answer[0][0].address == "192.0.2.1"
    assert kept.authority == []
    assert kept.edns == 0 and kept.ednsflags & dns.flags.DO and kept.payload == 1232
    assert kept.id == 0x1234 and kept.flags & dns.flags.AA
    rrsig, ds = parsed.malformed
    assert (rrsig.section, str(rrsig.name), rrsig.rdtype, rrsig.rdata) == (
        "answer",
        "www.example.com.",
        RRSIG,
        SHORT_RRSIG,
    )
    assert rrsig.covers == A
    assert (ds.section, str(ds.name), ds.rdtype, ds.ttl, ds.rdata) == (
        "authority",
        "example.com.",
        DS,
        120,
        SHORT_DS,
    )
    assert ds.to_text() == f"example.com. 120 IN DS \\# 24 {SHORT_DS.hex()}"
    assert ds.covers is None


def test_a_message_whose_framing_is_broken_stays_unread() -> None:
    overrun = POINTER_TO_QNAME + struct.pack("!HHIH", A, IN, 300, 40) + bytes(4)
    parsed = parse_message(message(QUESTION, [overrun]))
    assert parsed.message is None and parsed.malformed == ()
    assert parsed.error


def test_a_name_pointing_forward_stays_unread() -> None:
    forward = b"\xc0\xff" + struct.pack("!HHIH", A, IN, 300, 4) + bytes(4)
    parsed = parse_message(message(QUESTION, [forward]))
    assert parsed.message is None and parsed.error


def test_names_compressed_into_a_dropped_record_survive() -> None:
    """The rebuilt message is uncompressed, so a later record whose name points into a
    record that was set aside still reads right."""
    ds_owner = name("example.com")
    ds = record(ds_owner, DS, SHORT_DS)
    pointer = struct.pack("!H", 0xC000 | (12 + len(QUESTION)))  # at the DS record's owner
    ns = record(pointer, 2, name("ns1.example.com"))
    parsed = parse_message(message(QUESTION, [], [ds, ns]))
    assert parsed.message is not None
    [ns_rrset] = parsed.message.authority
    assert str(ns_rrset.name) == "example.com." and str(ns_rrset[0].target) == "ns1.example.com."


# --- a DS that cannot be read matches no key -----------------------------------------------


@pytest.fixture(scope="module")
def ksk() -> KeyPair:
    return signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=True)


@pytest.fixture(scope="module")
def zsk() -> KeyPair:
    return signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=False)


def signed_keys(*keys: KeyPair, signers: tuple[KeyPair, ...]) -> tuple[dns.rrset.RRset, ...]:
    keyset = dns.rrset.from_rdata_list(ZONE, 300, [k.dnskey for k in keys])
    sigs = dns.rrset.RRset(ZONE, dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
    for signer in signers:
        sigs.add(
            dns.dnssec.sign(
                keyset,
                signer.private,
                ZONE,
                signer.dnskey,
                inception=NOW - DAY,
                expiration=NOW + 14 * DAY,
            ),
            300,
        )
    return keyset, sigs


def ds_rrset(*rdatas: dns.rdata.Rdata) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(ZONE, 3600, list(rdatas))


def short(ds: dns.rdata.Rdata) -> dns.rdata.GenericRdata:
    return dns.rdata.GenericRdata(dns.rdataclass.IN, dns.rdatatype.DS, ds.to_digestable()[:24])


def test_the_only_ds_malformed_is_bogus_not_insecure(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset, sigs = signed_keys(ksk, zsk, signers=(ksk,))
    link = check_zone_link(
        ZONE, ds_rrset(short(ksk.ds(ZONE))), keyset, sigs, OPTIONS, zone_has_signatures=True
    )
    assert link.state is LinkState.BOGUS
    cause = link.findings[0]
    assert cause.code == "DS_MALFORMED" and cause.ede == 9
    assert "a digest of 20 bytes for digest type 2 (SHA256), which has 32" in cause.summary
    assert cause.records == (f"example.com. 3600 IN DS \\# 24 {short(ksk.ds(ZONE)).data.hex()}",)
    assert link.trusted_keys == ()


def test_a_malformed_ds_beside_a_matching_one_still_breaks(ksk: KeyPair, zsk: KeyPair) -> None:
    """BIND refuses the whole DS answer (measured: lab scenario ds-malformed-extra)."""
    keyset, sigs = signed_keys(ksk, zsk, signers=(ksk,))
    retired = signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=True)
    link = check_zone_link(
        ZONE,
        ds_rrset(ksk.ds(ZONE), short(retired.ds(ZONE))),
        keyset,
        sigs,
        OPTIONS,
        zone_has_signatures=True,
    )
    assert link.state is LinkState.BOGUS
    assert [f.code for f in link.findings if f.severity >= 3] == ["DS_MALFORMED"]


def test_a_malformed_ds_of_a_digest_validators_lack_is_ignored(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset, sigs = signed_keys(ksk, zsk, signers=(ksk,))
    gost = dns.rdata.GenericRdata(
        dns.rdataclass.IN, dns.rdatatype.DS, struct.pack("!HBB", 1, 13, 3) + bytes(5)
    )
    link = check_zone_link(
        ZONE, ds_rrset(ksk.ds(ZONE), gost), keyset, sigs, OPTIONS, zone_has_signatures=True
    )
    assert link.state is LinkState.SECURE
    assert "DS_MALFORMED" not in {f.code for f in link.findings}


# --- a key whose material is junk signs nothing -----------------------------------------------


def test_a_signature_by_a_key_of_junk_material_is_bad_not_a_crash(ksk: KeyPair) -> None:
    """A P-256 key whose 64 bytes are no point on the curve: dnspython reads the DNSKEY, the
    crypto refuses the key, and the signature naming it is a bad signature."""
    junk = DNSKEY(dns.rdataclass.IN, dns.rdatatype.DNSKEY, 256, 3, 13, b"\x01" * 64)
    rrset = dns.rrset.from_text(ZONE, 300, "IN", "A", "192.0.2.1")
    genuine = dns.dnssec.sign(
        rrset, ksk.private, ZONE, ksk.dnskey, inception=NOW - DAY, expiration=NOW + DAY
    )
    claimed = genuine.replace(key_tag=dns.dnssec.key_id(junk))
    check = classify_signature(rrset, claimed, ZONE, [junk], NOW)
    assert check.status is SignatureStatus.BAD_SIGNATURE


def test_a_ksk_of_junk_material_that_the_ds_names_signs_nothing(zsk: KeyPair) -> None:
    junk = DNSKEY(dns.rdataclass.IN, dns.rdatatype.DNSKEY, 257, 3, 13, b"\x01" * 64)
    ds = dns.dnssec.make_ds(ZONE, junk, "SHA256")
    keyset = dns.rrset.from_rdata_list(ZONE, 300, [junk, zsk.dnskey])
    sigs = dns.rrset.RRset(ZONE, dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
    genuine = dns.dnssec.sign(
        keyset, zsk.private, ZONE, zsk.dnskey, inception=NOW - DAY, expiration=NOW + DAY
    )
    sigs.add(genuine.replace(key_tag=dns.dnssec.key_id(junk)), 300)
    link = check_zone_link(ZONE, ds_rrset(ds), keyset, sigs, OPTIONS, zone_has_signatures=True)
    assert link.state is LinkState.BOGUS
    assert link.findings[0].code == "RRSIG_BAD_SIGNATURE"


# --- whole snapshots: a recorded lab answer, its bytes rewritten --------------------------------


def _exchange(snapshot: dict[str, object], purpose: str, qname: str) -> dict[str, object]:
    [exchange] = [
        e
        for e in snapshot["exchanges"]  # type: ignore[attr-defined]
        if e["purpose"] == purpose and e["qname"] == qname and e["role"] == "authoritative"
    ]
    return exchange  # type: ignore[no-any-return]


def _rewrite_answer(wire: bytes, change: dict[int, bytes]) -> bytes:
    """The response rebuilt byte by byte from its parsed records, with the RDATA of the
    answer records of the given types replaced."""
    original = dns.message.from_wire(wire)
    answer = []
    for rrset in original.answer:
        rdtype = int(rrset.rdtype)
        for rdata in rrset:
            data = change.get(rdtype, rdata.to_digestable())
            answer.append(record(rrset.name.to_wire(), rdtype, data, ttl=rrset.ttl))
    question = original.question[0]
    header = struct.pack("!HHHHHH", original.id, original.flags, 1, len(answer), 0, 0)
    return (
        header
        + question.name.to_wire()
        + struct.pack("!HH", question.rdtype, question.rdclass)
        + b"".join(answer)
    )


def _analyze(
    tmp_path: Path, snapshot: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, object]]:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot))
    code = main(["analyze", str(path), "--at", f"@{snapshot['finished_at']!r}", "--json"])
    return code, json.loads(capsys.readouterr().out)


def _cut_rrsig(wire: bytes) -> bytes:
    [rrsig] = [r for r in dns.message.from_wire(wire).answer if r.rdtype == dns.rdatatype.RRSIG]
    return _rewrite_answer(wire, {RRSIG: rrsig[0].to_digestable()[:22]})


def test_an_answer_whose_only_rrsig_is_cut_short_is_bogus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = json.loads((SNAPSHOTS / "secure-nsec.json").read_text())
    code, report = _analyze(tmp_path, snapshot, capsys)
    assert (code, report["verdict"]) == (0, "secure")  # the recorded snapshot as it was
    exchange = _exchange(snapshot, "answer", "www.secure-nsec.lab.")
    wire = base64.b64decode(exchange["response"])  # type: ignore[arg-type]
    exchange["response"] = base64.b64encode(_cut_rrsig(wire)).decode()
    code, report = _analyze(tmp_path, snapshot, capsys)
    assert (code, report["verdict"], report["zone"]) == (2, "bogus", "secure-nsec.lab.")
    assert report["causes"][0]["code"] == "RRSIG_MALFORMED"
    findings = {f["code"]: f for f in report["findings"]}
    assert "RECORD_MALFORMED" in findings
    assert any("RRSIG \\# 22 0001" in r for r in findings["RECORD_MALFORMED"]["records"])


def test_a_ds_cut_short_at_the_parent_is_never_insecure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = json.loads((SNAPSHOTS / "secure-nsec.json").read_text())
    for exchange in snapshot["exchanges"]:
        if exchange["purpose"] == "ds" and exchange["qname"] == "secure-nsec.lab.":
            wire = base64.b64decode(exchange["response"])
            [ds] = [r for r in dns.message.from_wire(wire).answer if r.rdtype == DS]
            cut = _rewrite_answer(wire, {DS: ds[0].to_digestable()[:24]})
            exchange["response"] = base64.b64encode(cut).decode()
    code, report = _analyze(tmp_path, snapshot, capsys)
    assert (code, report["verdict"], report["zone"]) == (2, "bogus", "secure-nsec.lab.")
    codes = {f["code"] for f in report["findings"]}
    assert {"DS_MALFORMED", "RECORD_MALFORMED"} <= codes
    assert not codes & {"DS_MISSING_FOR_SIGNED_ZONE", "INSECURE_DELEGATION_UNPROVEN"}


def test_a_signature_whose_window_is_inverted_is_valid_at_no_moment(ksk: KeyPair) -> None:
    rrset = dns.rrset.from_text(ZONE, 300, "IN", "A", "192.0.2.1")
    inverted = dns.dnssec.sign(
        rrset, ksk.private, ZONE, ksk.dnskey, inception=NOW + DAY, expiration=NOW - DAY
    )
    for moment in (NOW - 2 * DAY, NOW, NOW + 2 * DAY):
        check = classify_signature(rrset, inverted, ZONE, [ksk.dnskey], moment)
        assert check.status is SignatureStatus.WINDOW_INVERTED


def test_a_ds_naming_a_key_without_the_zone_key_flag(ksk: KeyPair, zsk: KeyPair) -> None:
    """EDE 11: the digest matches, but the key is no zone key (flags 1, SEP only)."""
    flagless = ksk.dnskey.replace(flags=1)
    keyset = dns.rrset.from_rdata_list(ZONE, 300, [flagless, zsk.dnskey])
    sigs = dns.rrset.RRset(ZONE, dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
    sigs.add(
        dns.dnssec.sign(
            keyset, ksk.private, ZONE, flagless, inception=NOW - DAY, expiration=NOW + DAY
        ),
        300,
    )
    ds = dns.dnssec.make_ds(ZONE, flagless, "SHA256")
    link = check_zone_link(ZONE, ds_rrset(ds), keyset, sigs, OPTIONS, zone_has_signatures=True)
    assert link.state is LinkState.BOGUS
    assert (link.findings[0].code, link.findings[0].ede) == ("DS_KEY_NOT_ZONE_KEY", 11)


def test_a_check_that_crashes_becomes_a_finding_and_the_rest_still_run() -> None:
    """zonemaster's habit: one crashing check is a CHECK_CRASHED finding naming the check
    and the error, never an exception that takes the whole diagnosis down."""
    from dnssec_doctor.analysis.chain import guarded
    from dnssec_doctor.model.finding import Finding

    findings: list[Finding] = []

    def broken(value: int) -> int:
        return value // 0

    assert guarded("denial", "www.example./A", findings, broken, 1) is None
    assert guarded("servers", "example.", findings, lambda: 42) == 42
    [crash] = findings
    assert crash.code == "CHECK_CRASHED"
    assert crash.params["check"] == "denial"
    assert "ZeroDivisionError" in str(crash.params["error"])
