"""Each RRSIG over an RRset is classified with its reason, and an RRset yields the findings
a validator's verdict implies: codes that must appear, and codes that must not."""

from __future__ import annotations

from typing import cast

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from dns.dnssectypes import Algorithm
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.RRSIG import RRSIG

from dnssec_doctor.analysis import signatures
from dnssec_doctor.analysis.signatures import (
    SignatureStatus,
    check_rrset_signatures,
    classify_signature,
    summarize_rrset_signatures,
)
from dnssec_doctor.lab import signing
from dnssec_doctor.lab.signing import KeyPair
from dnssec_doctor.model.finding import Finding, Severity
from dnssec_doctor.model.options import DAY, AnalysisOptions
from dnssec_doctor.model.time_text import clock_time, human_delta, human_duration, iso_utc

NOW = 1_795_176_000  # 2026-11-20T12:00:00Z
ZONE = dns.name.from_text("example.com.")
WWW = dns.name.from_text("www.example.com.")
OPTIONS = AnalysisOptions(now=NOW)
VALID = (NOW - DAY, NOW + 14 * DAY)

ERRORS = {
    "RRSIG_MISSING",
    "RRSIG_EXPIRED",
    "RRSIG_NOT_YET_VALID",
    "RRSIG_BAD_SIGNATURE",
    "RRSIG_NO_MATCHING_KEY",
    "RRSIG_SIGNER_MISMATCH",
    "RRSIG_LABELS_INVALID",
}


@pytest.fixture(scope="module")
def zsk() -> KeyPair:
    return signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=False)


@pytest.fixture(scope="module")
def other_zsk() -> KeyPair:
    return signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=False)


@pytest.fixture(scope="module")
def ed25519() -> KeyPair:
    return signing.generate_key(Algorithm.ED25519, ksk=False)


@pytest.fixture(scope="module")
def rsamd5() -> KeyPair:
    return signing.generate_key(Algorithm.RSAMD5, ksk=False)


def a_rrset(name: dns.name.Name = WWW, ttl: int = 300) -> dns.rrset.RRset:
    return dns.rrset.from_text(name, ttl, "IN", "A", "192.0.2.1", "192.0.2.2")


def sign(
    rrset: dns.rrset.RRset,
    key: KeyPair,
    window: tuple[float, float] = VALID,
    *,
    signer: dns.name.Name = ZONE,
    dnskey: DNSKEY | None = None,
) -> RRSIG:
    return dns.dnssec.sign(
        rrset,
        key.private,
        signer,
        dnskey or key.dnskey,
        inception=int(window[0]),
        expiration=int(window[1]),
        policy=dns.dnssec.allow_all_policy,
    )


def sigset(rrset: dns.rrset.RRset, *rrsigs: RRSIG) -> dns.rrset.RRset:
    sigs = dns.rrset.RRset(rrset.name, dns.rdataclass.IN, dns.rdatatype.RRSIG, rrset.rdtype)
    for rrsig in rrsigs:
        sigs.add(rrsig, rrset.ttl)
    return sigs


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


def check(
    rrset: dns.rrset.RRset,
    rrsigs: list[RRSIG],
    keys: list[DNSKEY],
    options: AnalysisOptions = OPTIONS,
) -> list[Finding]:
    return check_rrset_signatures(
        rrset, sigset(rrset, *rrsigs) if rrsigs else None, ZONE, keys, options
    )


# --- classify_signature -------------------------------------------------------------------


def test_valid_signature_names_its_key(zsk: KeyPair) -> None:
    rrset = a_rrset()
    result = classify_signature(rrset, sign(rrset, zsk), ZONE, [zsk.dnskey], NOW)
    assert result.status is SignatureStatus.VALID
    assert result.key == zsk.dnskey
    assert result.expanded_from is None
    assert result.seconds_to_expiry == 14 * DAY
    assert result.seconds_since_expiry == -14 * DAY
    assert result.seconds_to_inception == -DAY
    assert check(rrset, [sign(rrset, zsk)], [zsk.dnskey]) == []


def test_expired(zsk: KeyPair) -> None:
    rrset = a_rrset()
    rrsig = sign(rrset, zsk, (NOW - 30 * DAY, NOW - 10 * DAY))
    result = classify_signature(rrset, rrsig, ZONE, [zsk.dnskey], NOW)
    assert result.status is SignatureStatus.EXPIRED
    assert result.key == zsk.dnskey
    assert result.seconds_since_expiry == 10 * DAY

    findings = check(rrset, [rrsig], [zsk.dnskey])
    assert codes(findings) == {"RRSIG_EXPIRED"}
    [finding] = findings
    assert finding.severity is Severity.ERROR
    assert finding.ede == 7
    assert finding.subject == "www.example.com./A"
    assert finding.params["expiration"] == "2026-11-10T12:00:00Z"
    assert "expired 10 days ago (2026-11-10T12:00:00Z)" in finding.summary
    assert finding.records == (f"www.example.com. 300 IN RRSIG {rrsig.to_text()}",)


def test_not_yet_valid(zsk: KeyPair) -> None:
    rrset = a_rrset()
    rrsig = sign(rrset, zsk, (NOW + 10 * DAY, NOW + 40 * DAY))
    assert (
        classify_signature(rrset, rrsig, ZONE, [zsk.dnskey], NOW).status
        is SignatureStatus.NOT_YET_VALID
    )
    [finding] = check(rrset, [rrsig], [zsk.dnskey])
    assert finding.code == "RRSIG_NOT_YET_VALID"
    assert finding.ede == 8
    assert "not valid until 2026-11-30T12:00:00Z (in 10 days)" in finding.summary


def test_corrupted_signature_is_bad_even_when_expired(zsk: KeyPair) -> None:
    rrset = a_rrset()
    for window in (VALID, (NOW - 30 * DAY, NOW - 10 * DAY)):
        rrsig = signing.corrupt_signature(sign(rrset, zsk, window))
        result = classify_signature(rrset, rrsig, ZONE, [zsk.dnskey], NOW)
        assert result.status is SignatureStatus.BAD_SIGNATURE
        assert result.key == zsk.dnskey
        found = codes(check(rrset, [rrsig], [zsk.dnskey]))
        assert found == {"RRSIG_BAD_SIGNATURE"}
        assert "RRSIG_EXPIRED" not in found


def test_data_changed_after_signing_is_bad(zsk: KeyPair) -> None:
    rrsig = sign(a_rrset(), zsk)
    edited = dns.rrset.from_text(WWW, 300, "IN", "A", "192.0.2.99")
    result = classify_signature(edited, rrsig, ZONE, [zsk.dnskey], NOW)
    assert result.status is SignatureStatus.BAD_SIGNATURE


def test_unpublished_key(zsk: KeyPair, other_zsk: KeyPair) -> None:
    rrset = a_rrset()
    rrsig = sign(rrset, other_zsk)
    result = classify_signature(rrset, rrsig, ZONE, [zsk.dnskey], NOW)
    assert result.status is SignatureStatus.NO_MATCHING_KEY
    assert result.key is None
    findings = check(rrset, [rrsig], [zsk.dnskey])
    assert codes(findings) == {"RRSIG_NO_MATCHING_KEY"}
    assert findings[0].ede == 9
    assert findings[0].params["key_tag"] == other_zsk.key_tag


def test_key_without_zone_flag_does_not_count(zsk: KeyPair) -> None:
    rrset = a_rrset()
    not_zone_key = cast(DNSKEY, zsk.dnskey.replace(flags=0))
    # The tag changes with the flags; sign with the published form so the tag matches.
    rrsig = sign(rrset, zsk, dnskey=not_zone_key)
    result = classify_signature(rrset, rrsig, ZONE, [not_zone_key], NOW)
    assert result.status is SignatureStatus.NO_MATCHING_KEY
    assert "not a zone key" in result.detail


def test_signer_mismatch(zsk: KeyPair) -> None:
    rrset = a_rrset()
    rrsig = sign(rrset, zsk, signer=dns.name.from_text("com."))
    assert (
        classify_signature(rrset, rrsig, ZONE, [zsk.dnskey], NOW).status
        is SignatureStatus.SIGNER_MISMATCH
    )
    [finding] = check(rrset, [rrsig], [zsk.dnskey])
    assert finding.code == "RRSIG_SIGNER_MISMATCH"
    assert finding.params["signer"] == "com."


def test_labels_above_owner_count(zsk: KeyPair) -> None:
    rrset = a_rrset()
    rrsig = cast(RRSIG, sign(rrset, zsk).replace(labels=4))
    assert (
        classify_signature(rrset, rrsig, ZONE, [zsk.dnskey], NOW).status
        is SignatureStatus.LABELS_INVALID
    )
    assert codes(check(rrset, [rrsig], [zsk.dnskey])) == {"RRSIG_LABELS_INVALID"}


def test_wildcard_expanded_answer_validates(zsk: KeyPair) -> None:
    wildcard = a_rrset(dns.name.from_text("*.example.com."))
    rrsig = sign(wildcard, zsk)
    assert rrsig.labels == 2
    # The wildcard's own RRset: the leading "*" does not count.
    assert classify_signature(wildcard, rrsig, ZONE, [zsk.dnskey], NOW).is_valid
    for qname in ("anything.example.com.", "a.b.example.com."):
        answer = a_rrset(dns.name.from_text(qname))
        result = classify_signature(answer, rrsig, ZONE, [zsk.dnskey], NOW)
        assert result.status is SignatureStatus.VALID, qname
        assert result.expanded_from == dns.name.from_text("*.example.com.")
        assert check(answer, [rrsig], [zsk.dnskey]) == []


def test_a_dname_expanded_from_a_wildcard_is_refused(zsk: KeyPair) -> None:
    """A genuine signature over a DNAME at *.example.com. makes the DNAME served at
    sub.example.com. an expansion of it: validators refuse (a DNAME is never synthesised
    from a wildcard, RFC 4592 §4.4); the DNAME at its own name is fine."""
    wildcard = dns.rrset.from_text("*.example.com.", 300, "IN", "DNAME", "example.net.")
    rrsig = sign(wildcard, zsk)
    assert classify_signature(wildcard, rrsig, ZONE, [zsk.dnskey], NOW).is_valid
    expanded = dns.rrset.from_text("sub.example.com.", 300, "IN", "DNAME", "example.net.")
    result = classify_signature(expanded, rrsig, ZONE, [zsk.dnskey], NOW)
    assert result.status is SignatureStatus.DNAME_FROM_WILDCARD
    assert result.key == zsk.dnskey  # the crypto verified: the fault is the expansion
    [finding] = check(expanded, [rrsig], [zsk.dnskey])
    assert finding.code == "RRSIG_DNAME_FROM_WILDCARD"
    assert finding.severity is Severity.ERROR
    assert finding.params["wildcard"] == "*.example.com."
    own = dns.rrset.from_text("sub.example.com.", 300, "IN", "DNAME", "example.net.")
    assert check(own, [sign(own, zsk)], [zsk.dnskey]) == []


def test_type_mismatch(zsk: KeyPair) -> None:
    txt = dns.rrset.from_text(WWW, 300, "IN", "TXT", '"hello"')
    rrsig = sign(txt, zsk)
    result = classify_signature(a_rrset(), rrsig, ZONE, [zsk.dnskey], NOW)
    assert result.status is SignatureStatus.TYPE_MISMATCH


def test_unsupported_algorithm(rsamd5: KeyPair) -> None:
    rrset = a_rrset()
    rrsig = sign(rrset, rsamd5)
    result = classify_signature(rrset, rrsig, ZONE, [rsamd5.dnskey], NOW)
    assert result.status is SignatureStatus.ALGORITHM_UNSUPPORTED
    # Reached only when the zone is secure through another algorithm: then an RRset with
    # no signature a validator can check is bogus (a zone signed only with RSAMD5 is
    # insecure, which keys.check_zone_link decides before any RRset is judged).
    findings = check(rrset, [rrsig], [rsamd5.dnskey])
    assert codes(findings) == {"RRSIG_ALGORITHM_UNSUPPORTED"}
    assert findings[0].ede == 6


def _colliding(key: DNSKEY, offset: int = 0) -> DNSKEY:
    """Another key with the same tag: swapping two bytes an even distance apart keeps the
    key tag's 16-bit sum."""
    data = bytearray(key.key)
    first = next(i for i in range(offset, len(data) - 2, 2) if data[i] != data[i + 2])
    data[first], data[first + 2] = data[first + 2], data[first]
    collision = cast(DNSKEY, key.replace(key=bytes(data)))
    assert collision != key
    assert dns.dnssec.key_id(collision) == dns.dnssec.key_id(key)
    return collision


def test_key_tag_collision_tries_each_key(ed25519: KeyPair) -> None:
    rrset = a_rrset()
    rrsig = sign(rrset, ed25519)
    impostor = _colliding(ed25519.dnskey)
    result = classify_signature(rrset, rrsig, ZONE, [impostor, ed25519.dnskey], NOW)
    assert result.status is SignatureStatus.VALID
    assert result.key == ed25519.dnskey

    only_impostor = classify_signature(rrset, rrsig, ZONE, [impostor], NOW)
    assert only_impostor.status is SignatureStatus.BAD_SIGNATURE
    two = classify_signature(
        rrset, rrsig, ZONE, [impostor, _colliding(ed25519.dnskey, offset=1)], NOW
    )
    assert "tried 2 keys" in two.detail


def test_revoked_key_signs_only_the_dnskey_rrset(zsk: KeyPair) -> None:
    revoked = cast(DNSKEY, zsk.dnskey.replace(flags=zsk.dnskey.flags | 0x0080))
    rrset = a_rrset()
    rrsig = sign(rrset, zsk, dnskey=revoked)
    assert (
        classify_signature(rrset, rrsig, ZONE, [revoked], NOW).status is SignatureStatus.KEY_REVOKED
    )
    assert codes(check(rrset, [rrsig], [revoked])) == {"RRSIG_KEY_REVOKED"}

    keyset = dns.rrset.from_rdata(ZONE, 300, revoked)
    self_signature = sign(keyset, zsk, dnskey=revoked)
    assert classify_signature(keyset, self_signature, ZONE, [revoked], NOW).is_valid


# --- check_rrset_signatures ---------------------------------------------------------------


def test_missing_signatures_in_signed_zone(zsk: KeyPair) -> None:
    rrset = a_rrset()
    findings = check(rrset, [], [zsk.dnskey])
    assert codes(findings) == {"RRSIG_MISSING"}
    assert findings[0].ede == 10
    assert findings[0].params["rrset"] == "www.example.com./A"
    unsigned = check_rrset_signatures(rrset, None, ZONE, [], OPTIONS, signed_zone=False)
    assert unsigned == []


def test_signature_over_another_type_is_not_a_signature(zsk: KeyPair) -> None:
    rrset = a_rrset()
    txt = dns.rrset.from_text(WWW, 300, "IN", "TXT", '"hello"')
    findings = check_rrset_signatures(
        rrset, sigset(txt, sign(txt, zsk)), ZONE, [zsk.dnskey], OPTIONS
    )
    assert codes(findings) == {"RRSIG_MISSING"}


def test_one_valid_signature_is_enough(zsk: KeyPair, other_zsk: KeyPair) -> None:
    rrset = a_rrset()
    expired = sign(rrset, other_zsk, (NOW - 30 * DAY, NOW - 10 * DAY))
    good = sign(rrset, zsk)
    findings = check(rrset, [expired, good], [zsk.dnskey, other_zsk.dnskey])
    assert codes(findings).isdisjoint(ERRORS)
    assert not [f for f in findings if f.severity >= Severity.ERROR]


def test_expires_soon(zsk: KeyPair) -> None:
    rrset = a_rrset()
    rrsig = sign(rrset, zsk, (NOW - 12 * DAY, NOW + 1.5 * DAY))
    findings = check(rrset, [rrsig], [zsk.dnskey])
    assert codes(findings) == {"RRSIG_EXPIRES_SOON"}
    assert "expires in 36 hours (2026-11-22T00:00:00Z)" in findings[0].summary
    assert findings[0].severity is Severity.WARNING


def test_expires_soon_only_when_every_valid_signature_does(zsk: KeyPair, ed25519: KeyPair) -> None:
    rrset = a_rrset()
    soon = sign(rrset, zsk, (NOW - 12 * DAY, NOW + DAY))
    later = sign(rrset, ed25519)
    # Both algorithms sign, so only the window matters here.
    findings = check(rrset, [soon, later], [zsk.dnskey, ed25519.dnskey])
    assert "RRSIG_EXPIRES_SOON" not in codes(findings)


def test_served_ttl_above_original(zsk: KeyPair) -> None:
    rrsig = sign(a_rrset(ttl=300), zsk)
    served = a_rrset(ttl=3600)
    findings = check(served, [rrsig], [zsk.dnskey])
    assert codes(findings) == {"RRSIG_TTL_EXCEEDS_ORIGINAL"}
    assert findings[0].params["ttl"] == 3600
    assert findings[0].params["original_ttl"] == 300


def test_ttl_outlives_signature(zsk: KeyPair) -> None:
    rrset = a_rrset(ttl=7200)
    rrsig = sign(rrset, zsk, (NOW - DAY, NOW + 3600))
    found = codes(check(rrset, [rrsig], [zsk.dnskey]))
    assert found == {"RRSIG_EXPIRES_SOON", "RRSIG_TTL_OUTLIVES_SIGNATURE"}


def test_published_algorithm_that_signs_nothing(zsk: KeyPair, ed25519: KeyPair) -> None:
    rrset = a_rrset()
    findings = check(rrset, [sign(rrset, zsk)], [zsk.dnskey, ed25519.dnskey])
    assert codes(findings) == {"DNSKEY_ALGORITHM_SIGNS_NOTHING"}
    assert findings[0].params["algorithm"] == 15
    assert findings[0].severity is Severity.WARNING


def test_one_error_for_the_most_telling_failure(
    zsk: KeyPair, other_zsk: KeyPair, ed25519: KeyPair
) -> None:
    rrset = a_rrset()
    expired = sign(rrset, zsk, (NOW - 30 * DAY, NOW - 10 * DAY))
    unknown_key = sign(rrset, other_zsk)
    corrupt = signing.corrupt_signature(sign(rrset, ed25519))
    keys = [zsk.dnskey, ed25519.dnskey]

    findings = check(rrset, [corrupt, unknown_key, expired], keys)
    assert [f.code for f in findings if f.severity is Severity.ERROR] == ["RRSIG_EXPIRED"]
    findings = check(rrset, [corrupt, unknown_key], keys)
    assert [f.code for f in findings if f.severity is Severity.ERROR] == ["RRSIG_NO_MATCHING_KEY"]


def test_latest_expired_signature_is_reported(zsk: KeyPair, ed25519: KeyPair) -> None:
    rrset = a_rrset()
    older = sign(rrset, zsk, (NOW - 30 * DAY, NOW - 10 * DAY))
    newer = sign(rrset, ed25519, (NOW - 20 * DAY, NOW - 2 * DAY))
    summary = summarize_rrset_signatures(
        rrset, sigset(rrset, older, newer), ZONE, [zsk.dnskey, ed25519.dnskey], NOW
    )
    assert not summary.is_valid
    worst = summary.most_telling_failure
    assert worst is not None
    assert worst.rrsig == newer


# --- formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "now"),
        (0.4, "now"),
        (45, "in 45 seconds"),
        (-1, "1 second ago"),
        (-600, "10 minutes ago"),
        (3600, "in 60 minutes"),
        (1.5 * DAY, "in 36 hours"),
        (DAY, "in 24 hours"),
        (2 * DAY, "in 2 days"),
        (-3 * DAY, "3 days ago"),
        (-10 * DAY - 7200, "10 days ago"),
        (2.5 * DAY, "in 3 days"),
    ],
)
def test_human_delta(seconds: float, text: str) -> None:
    assert human_delta(seconds) == text


def test_human_duration_and_iso_time() -> None:
    assert human_duration(-36 * 3600) == "36 hours"
    assert human_duration(86400 * 14) == "14 days"
    assert iso_utc(NOW) == "2026-11-20T12:00:00Z"


def test_progress_lines_stamp_the_local_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """watch and go-insecure stamp their lines with the machine's local time."""
    import time

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        assert clock_time(NOW) == "13:00:00"  # 12:00 UTC, CET in November
    finally:
        monkeypatch.undo()
        time.tzset()


# --- the verdicts remembered (a scan verifies each shared signature once) ----------------


def test_a_signature_verified_once_is_not_verified_again(
    zsk: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    rrset = a_rrset(dns.name.from_text("once.example.com."))
    rrsig = sign(rrset, zsk)
    verified: list[RRSIG] = []
    real = signatures._verify

    def counted(rrset: dns.rrset.RRset, rrsig: RRSIG, key: DNSKEY) -> bool:
        verified.append(rrsig)
        return real(rrset, rrsig, key)

    monkeypatch.setattr(signatures, "_verify", counted)
    for now in (NOW, NOW + 20 * DAY):  # the window is judged apart, each time
        assert classify_signature(rrset, rrsig, ZONE, [zsk.dnskey], NOW).is_valid
        expired = classify_signature(rrset, rrsig, ZONE, [zsk.dnskey], now)
        assert expired.status is (SignatureStatus.VALID if now == NOW else SignatureStatus.EXPIRED)
    assert len(verified) == 1


def test_a_remembered_verdict_never_answers_a_different_record(
    zsk: KeyPair, other_zsk: KeyPair
) -> None:
    """Whatever differs — a record, a byte of the signature, the key — is judged anew:
    the memo is keyed by the exact bytes."""
    owner = dns.name.from_text("memo.example.com.")
    rrset = a_rrset(owner)
    rrsig = sign(rrset, zsk)
    assert classify_signature(rrset, rrsig, ZONE, [zsk.dnskey], NOW).is_valid
    edited = dns.rrset.from_text(owner, 300, "IN", "A", "192.0.2.1", "192.0.2.99")
    assert classify_signature(edited, rrsig, ZONE, [zsk.dnskey], NOW).status is (
        SignatureStatus.BAD_SIGNATURE
    )
    corrupted = signing.corrupt_signature(rrsig)
    assert classify_signature(rrset, corrupted, ZONE, [zsk.dnskey], NOW).status is (
        SignatureStatus.BAD_SIGNATURE
    )
    # A key with the same tag and algorithm (a collision) is tried with its own bytes.
    assert not signatures._verifies(rrset, rrsig, _colliding(zsk.dnskey))
    assert not signatures._verifies(rrset, rrsig, other_zsk.dnskey)
    assert signatures._verifies(rrset, rrsig, zsk.dnskey)


P256 = "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
RSA = "AwEAAcq3sL2nGkT3pm0rGgtgkFc7Lr1YqeA3PvwkR5uK6kGK0y2Q1u2Hc7FgHgx0kSmM8U0s6B2zZLdZ0Y3X1i0="


@pytest.mark.parametrize(
    ("rdtype", "text"),
    [
        ("DNSKEY", f"257 3 13 {P256}"),
        ("DNSKEY", f"256 3 8 {RSA}"),
        ("DNSKEY", f"257 3 1 {RSA}"),  # RSAMD5: another formula
        ("DNSKEY", f"385 3 13 {P256}"),  # REVOKE
        ("CDNSKEY", f"257 3 13 {P256}"),
    ],
)
def test_a_remembered_key_tag_is_the_tag_dnspython_computes(rdtype: str, text: str) -> None:
    key = dns.rdata.from_text("IN", rdtype, text)
    assert signatures.key_tag(key) == dns.dnssec.key_id(key)  # type: ignore[arg-type]
    assert signatures.key_tag(key) == dns.dnssec.key_id(key)  # type: ignore[arg-type]  # again
