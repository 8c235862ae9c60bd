"""The DS → DNSKEY link of one zone (and the trust anchor link at the top): the state it
ends in and the codes that must, and must not, appear."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from dns.dnssecalgs import get_algorithm_cls
from dns.dnssectypes import Algorithm, DSDigest
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.DS import DS
from dns.rdtypes.ANY.RRSIG import RRSIG

from dnssec_doctor.analysis.keys import (
    DsStatus,
    LinkState,
    ZoneLink,
    check_cds,
    check_signing_keys_published,
    check_trust_anchor,
    check_zone_link,
    ds_to_publish,
    match_ds,
    rsa_key_bits,
)
from dnssec_doctor.analysis.signatures import SignatureStatus
from dnssec_doctor.lab import signing
from dnssec_doctor.lab.signing import KeyPair
from dnssec_doctor.model.finding import Finding, Severity
from dnssec_doctor.model.options import DAY, AnalysisOptions

NOW = 1_795_176_000  # 2026-11-20T12:00:00Z
ZONE = dns.name.from_text("example.com.")
OPTIONS = AnalysisOptions(now=NOW)
VALID = (NOW - DAY, NOW + 14 * DAY)
EXPIRED = (NOW - 30 * DAY, NOW - 10 * DAY)

LINK_ERRORS = {
    "DS_DIGEST_MISMATCH",
    "DS_NO_MATCHING_KEY",
    "DS_ALGORITHM_MISMATCH",
    "DS_FOR_UNSIGNED_ZONE",
    "DNSKEY_MISSING",
    "DNSKEY_NOT_SIGNED_BY_DS_KEY",
    "TRUST_ANCHOR_MISMATCH",
    "RRSIG_EXPIRED",
    "RRSIG_BAD_SIGNATURE",
}


@pytest.fixture(scope="module")
def ksk() -> KeyPair:
    return signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=True)


@pytest.fixture(scope="module")
def zsk() -> KeyPair:
    return signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=False)


@pytest.fixture(scope="module")
def retired() -> KeyPair:
    return signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=True)


def dnskeys(*keys: DNSKEY) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(ZONE, 300, list(keys))


def signed(
    keyset: dns.rrset.RRset, *signers: KeyPair, window: tuple[int, int] = VALID
) -> dns.rrset.RRset:
    sigs = dns.rrset.RRset(ZONE, dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
    for key in signers:
        rrsig = dns.dnssec.sign(
            keyset,
            key.private,
            ZONE,
            key.dnskey,
            inception=window[0],
            expiration=window[1],
            policy=dns.dnssec.allow_all_policy,
        )
        sigs.add(rrsig, keyset.ttl)
    return sigs


def ds_set(*records: DS) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(ZONE, 3600, list(records))


def link(
    ds: Sequence[DS] | None,
    keyset: dns.rrset.RRset | None,
    sigs: dns.rrset.RRset | None,
    *,
    zone_has_signatures: bool = True,
    options: AnalysisOptions = OPTIONS,
) -> ZoneLink:
    return check_zone_link(
        ZONE,
        ds_set(*ds) if ds else None,
        keyset,
        sigs,
        options,
        zone_has_signatures=zone_has_signatures,
    )


def codes(findings: Sequence[Finding]) -> set[str]:
    return {f.code for f in findings}


def healthy(ksk: KeyPair, zsk: KeyPair) -> tuple[dns.rrset.RRset, dns.rrset.RRset]:
    keyset = dnskeys(ksk.dnskey, zsk.dnskey)
    return keyset, signed(keyset, ksk)


# --- match_ds ---------------------------------------------------------------------------


def test_match_ds_statuses(ksk: KeyPair, zsk: KeyPair, retired: KeyPair) -> None:
    keys = [ksk.dnskey, zsk.dnskey]
    good = ksk.ds(ZONE)
    assert match_ds(good, ZONE, keys).status is DsStatus.MATCH
    assert match_ds(good, ZONE, keys).key == ksk.dnskey
    assert match_ds(ksk.ds(ZONE, DSDigest.SHA384), ZONE, keys).status is DsStatus.MATCH
    flipped = signing.altered_ds(good, digest=signing.flipped(good.digest))
    assert match_ds(flipped, ZONE, keys).status is DsStatus.DIGEST_MISMATCH
    assert match_ds(flipped, ZONE, keys).key == ksk.dnskey
    assert match_ds(retired.ds(ZONE), ZONE, keys).status is DsStatus.NO_MATCHING_KEY
    wrong_algorithm = signing.altered_ds(good, algorithm=Algorithm.RSASHA256)
    assert match_ds(wrong_algorithm, ZONE, keys).status is DsStatus.ALGORITHM_MISMATCH
    gost = signing.altered_ds(good, digest_type=DSDigest.GOST)
    assert match_ds(gost, ZONE, keys).status is DsStatus.DIGEST_UNSUPPORTED
    unknown_digest = signing.altered_ds(good, digest_type=9)
    assert match_ds(unknown_digest, ZONE, keys).status is DsStatus.DIGEST_UNSUPPORTED
    md5 = signing.altered_ds(good, algorithm=Algorithm.RSAMD5)
    assert match_ds(md5, ZONE, keys).status is DsStatus.ALGORITHM_UNSUPPORTED
    assert match_ds(good, ZONE, []).status is DsStatus.NO_MATCHING_KEY


# --- check_zone_link ----------------------------------------------------------------------


def test_secure(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset, sigs = healthy(ksk, zsk)
    result = link([ksk.ds(ZONE)], keyset, sigs)
    assert result.state is LinkState.SECURE
    assert result.findings == ()
    assert set(result.trusted_keys) == {ksk.dnskey, zsk.dnskey}
    assert [c.status for c in result.ksk_signatures] == [SignatureStatus.VALID]
    assert result.live_ksks == (ksk.dnskey,)
    assert ds_to_publish(ZONE, result) == [ksk.ds(ZONE)]


def test_unsigned_zone() -> None:
    result = link(None, None, None, zone_has_signatures=False)
    assert result.state is LinkState.INSECURE
    assert codes(result.findings) == {"ZONE_UNSIGNED"}
    assert result.findings[0].severity is Severity.INFO
    assert result.trusted_keys == ()
    assert result.insecure_reason


def test_signed_zone_without_ds(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset, sigs = healthy(ksk, zsk)
    result = link(None, keyset, sigs)
    assert result.state is LinkState.INSECURE
    assert codes(result.findings) == {"DS_MISSING_FOR_SIGNED_ZONE"}
    assert result.trusted_keys == ()
    assert ds_to_publish(ZONE, result) == [ksk.ds(ZONE)]


def test_ds_left_after_signing_was_turned_off(ksk: KeyPair) -> None:
    result = link([ksk.ds(ZONE)], None, None, zone_has_signatures=False)
    assert result.state is LinkState.BOGUS
    assert codes(result.findings) == {"DS_FOR_UNSIGNED_ZONE"}
    assert result.ede == 9
    assert "DNSKEY_MISSING" not in codes(result.findings)


def test_dnskey_missing_in_signed_zone(ksk: KeyPair) -> None:
    result = link([ksk.ds(ZONE)], None, None, zone_has_signatures=True)
    assert result.state is LinkState.BOGUS
    assert codes(result.findings) == {"DNSKEY_MISSING"}


def test_ds_digest_mismatch(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset, sigs = healthy(ksk, zsk)
    good = ksk.ds(ZONE)
    result = link([signing.altered_ds(good, digest=signing.flipped(good.digest))], keyset, sigs)
    assert result.state is LinkState.BOGUS
    assert codes(result.findings) == {"DS_DIGEST_MISMATCH"}
    assert result.ede == 9
    assert result.trusted_keys == ()
    assert result.findings[0].subject == f"DS {good.key_tag}/13/2"
    # The recovery plan still knows which DS to publish.
    assert ds_to_publish(ZONE, result) == [good]


def test_stale_ds(ksk: KeyPair, zsk: KeyPair, retired: KeyPair) -> None:
    keyset, sigs = healthy(ksk, zsk)
    result = link([retired.ds(ZONE)], keyset, sigs)
    assert result.state is LinkState.BOGUS
    assert codes(result.findings) == {"DS_NO_MATCHING_KEY"}
    assert "DS_DIGEST_MISMATCH" not in codes(result.findings)


def test_stale_ds_beside_valid_one(ksk: KeyPair, zsk: KeyPair, retired: KeyPair) -> None:
    keyset, sigs = healthy(ksk, zsk)
    result = link([ksk.ds(ZONE), retired.ds(ZONE)], keyset, sigs)
    assert result.state is LinkState.SECURE
    assert codes(result.findings) == {"DS_STALE"}
    [stale] = result.findings
    assert stale.severity is Severity.WARNING
    assert stale.params["key_tag"] == retired.key_tag


def test_ds_of_another_algorithm(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset, sigs = healthy(ksk, zsk)
    result = link([signing.altered_ds(ksk.ds(ZONE), algorithm=Algorithm.RSASHA256)], keyset, sigs)
    assert result.state is LinkState.BOGUS
    assert codes(result.findings) == {"DS_ALGORITHM_MISMATCH"}
    assert result.findings[0].params["zone_algorithms"] == "13"


def test_only_unsupported_digest_is_insecure(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset, sigs = healthy(ksk, zsk)
    result = link([signing.altered_ds(ksk.ds(ZONE), digest_type=DSDigest.GOST)], keyset, sigs)
    assert result.state is LinkState.INSECURE
    assert result.ede == 2
    assert codes(result.findings) == {"DS_DIGEST_UNSUPPORTED"}
    assert codes(result.findings).isdisjoint(LINK_ERRORS)


def test_unsupported_digest_beside_a_good_ds(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset, sigs = healthy(ksk, zsk)
    gost = signing.altered_ds(ksk.ds(ZONE), digest_type=DSDigest.GOST)
    result = link([ksk.ds(ZONE), gost], keyset, sigs)
    assert result.state is LinkState.SECURE
    assert codes(result.findings) == {"DS_DIGEST_UNSUPPORTED"}


def test_only_unsupported_algorithm_is_insecure() -> None:
    ksk = signing.generate_key(Algorithm.RSAMD5, ksk=True)
    keyset = dnskeys(ksk.dnskey)
    result = link([ksk.ds(ZONE)], keyset, signed(keyset, ksk))
    assert result.state is LinkState.INSECURE
    assert result.ede == 1
    found = codes(result.findings)
    assert "DNSKEY_ALGORITHM_UNSUPPORTED" in found
    assert found.isdisjoint(LINK_ERRORS)
    [unsupported] = [f for f in result.findings if f.code == "DNSKEY_ALGORITHM_UNSUPPORTED"]
    assert unsupported.params["algorithm_name"] == "RSAMD5"


def test_dnskey_signed_only_by_zsk(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset = dnskeys(ksk.dnskey, zsk.dnskey)
    result = link([ksk.ds(ZONE)], keyset, signed(keyset, zsk))
    assert result.state is LinkState.BOGUS
    assert codes(result.findings) == {"DNSKEY_NOT_SIGNED_BY_DS_KEY"}
    assert result.ede == 10
    finding = result.findings[0]
    assert finding.params["ds_keys"] == f"{ksk.key_tag}/13"
    assert finding.params["signers"] == f"{zsk.key_tag}/13"
    # The key that does sign the DNSKEY RRset is the one whose DS would work.
    assert ds_to_publish(ZONE, result) == [zsk.ds(ZONE)]


def test_dnskey_not_signed_at_all(ksk: KeyPair, zsk: KeyPair) -> None:
    result = link([ksk.ds(ZONE)], dnskeys(ksk.dnskey, zsk.dnskey), None)
    assert codes(result.findings) == {"DNSKEY_NOT_SIGNED_BY_DS_KEY"}
    assert result.findings[0].params["signers"] == "none"
    assert ds_to_publish(ZONE, result) == [ksk.ds(ZONE)]


def test_dnskey_signature_expired(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset = dnskeys(ksk.dnskey, zsk.dnskey)
    result = link([ksk.ds(ZONE)], keyset, signed(keyset, ksk, window=EXPIRED))
    assert result.state is LinkState.BOGUS
    assert codes(result.findings) == {"RRSIG_EXPIRED"}
    assert result.findings[0].subject == "example.com./DNSKEY"
    assert result.ede == 7
    assert "DNSKEY_NOT_SIGNED_BY_DS_KEY" not in codes(result.findings)


def test_dnskey_signature_corrupt(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset = dnskeys(ksk.dnskey, zsk.dnskey)
    sigs = signed(keyset, ksk)
    corrupt = dns.rrset.from_rdata_list(
        ZONE, 300, [signing.corrupt_signature(cast(RRSIG, rd)) for rd in sigs]
    )
    result = link([ksk.ds(ZONE)], keyset, corrupt)
    assert codes(result.findings) == {"RRSIG_BAD_SIGNATURE"}
    assert result.state is LinkState.BOGUS


def test_dnskey_signature_expiring_soon_counts_only_the_ds_key(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset = dnskeys(ksk.dnskey, zsk.dnskey)
    sigs = signed(keyset, ksk, window=(NOW - DAY, NOW + DAY))
    for rrsig in signed(keyset, zsk):  # valid for 14 days, but no DS names the ZSK
        sigs.add(rrsig)
    result = link([ksk.ds(ZONE)], keyset, sigs)
    assert result.state is LinkState.SECURE
    assert codes(result.findings) == {"RRSIG_EXPIRES_SOON"}


def test_key_grades(ksk: KeyPair, zsk: KeyPair) -> None:
    private = get_algorithm_cls(Algorithm.RSASHA1).generate(key_size=1024)  # type: ignore[attr-defined]
    short = KeyPair(private, private.public_key().to_dnskey(flags=256))
    revoked = signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=True).dnskey
    revoked = cast(DNSKEY, revoked.replace(flags=revoked.flags | 0x0080))
    keyset = dnskeys(ksk.dnskey, zsk.dnskey, short.dnskey, revoked)
    sigs = signed(keyset, ksk, short)
    sha1 = ksk.ds(ZONE, DSDigest.SHA1)
    result = link([ksk.ds(ZONE), sha1], keyset, sigs)
    assert result.state is LinkState.SECURE
    assert codes(result.findings) == {
        "DNSKEY_ALGORITHM_DEPRECATED",
        "DNSKEY_KEY_TOO_SHORT",
        "DNSKEY_REVOKED",
        "DS_DIGEST_DEPRECATED",
    }
    assert rsa_key_bits(short.dnskey) == 1024
    assert rsa_key_bits(ksk.dnskey) is None
    too_short = next(f for f in result.findings if f.code == "DNSKEY_KEY_TOO_SHORT")
    assert too_short.params["bits"] == 1024
    assert revoked not in result.live_ksks


# --- trust anchors ------------------------------------------------------------------------


ROOT = dns.name.root


def root_keys(ksk: KeyPair, zsk: KeyPair) -> tuple[dns.rrset.RRset, dns.rrset.RRset]:
    keyset = dns.rrset.from_rdata_list(ROOT, 300, [ksk.dnskey, zsk.dnskey])
    sigs = dns.rrset.RRset(ROOT, dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
    sigs.add(
        dns.dnssec.sign(
            keyset, ksk.private, ROOT, ksk.dnskey, inception=VALID[0], expiration=VALID[1]
        ),
        300,
    )
    return keyset, sigs


def test_trust_anchor_as_ds(ksk: KeyPair, zsk: KeyPair, retired: KeyPair) -> None:
    keyset, sigs = root_keys(ksk, zsk)
    result = check_trust_anchor([retired.ds(ROOT), ksk.ds(ROOT)], keyset, sigs, OPTIONS)
    assert result.state is LinkState.SECURE
    assert result.findings == ()  # an old anchor beside the current one is not stale DS
    assert result.zone == ROOT


def test_trust_anchor_as_dnskey(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset, sigs = root_keys(ksk, zsk)
    result = check_trust_anchor([ksk.dnskey], keyset, sigs, OPTIONS)
    assert result.state is LinkState.SECURE
    assert set(result.trusted_keys) == {ksk.dnskey, zsk.dnskey}


def test_trust_anchor_mismatch(ksk: KeyPair, zsk: KeyPair, retired: KeyPair) -> None:
    keyset, sigs = root_keys(ksk, zsk)
    for anchor in (retired.ds(ROOT), retired.dnskey):
        result = check_trust_anchor([anchor], keyset, sigs, OPTIONS)
        assert result.state is LinkState.BOGUS
        assert codes(result.findings) == {"TRUST_ANCHOR_MISMATCH"}
        assert str(retired.key_tag) in result.findings[0].summary
        assert "DS_NO_MATCHING_KEY" not in codes(result.findings)


def test_trust_anchor_published_revoked(ksk: KeyPair, zsk: KeyPair) -> None:
    revoked = cast(DNSKEY, ksk.dnskey.replace(flags=ksk.dnskey.flags | 0x0080))
    keyset = dns.rrset.from_rdata_list(ROOT, 300, [revoked, zsk.dnskey])
    result = check_trust_anchor([ksk.dnskey], keyset, None, OPTIONS)
    assert result.state is LinkState.BOGUS
    assert "TRUST_ANCHOR_MISMATCH" in codes(result.findings)


def test_trust_anchor_signature_expired(ksk: KeyPair, zsk: KeyPair) -> None:
    keyset = dns.rrset.from_rdata_list(ROOT, 300, [ksk.dnskey, zsk.dnskey])
    sigs = dns.rrset.RRset(ROOT, dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
    sigs.add(
        dns.dnssec.sign(
            keyset, ksk.private, ROOT, ksk.dnskey, inception=EXPIRED[0], expiration=EXPIRED[1]
        ),
        300,
    )
    result = check_trust_anchor([ksk.dnskey], keyset, sigs, OPTIONS)
    assert codes(result.findings) == {"RRSIG_EXPIRED"}
    assert result.state is LinkState.BOGUS


# --- CDS / CDNSKEY ---------------------------------------------------------------------------


def cds_of(*records: str) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(ZONE, 300, "IN", "CDS", list(records))


def cdnskey_of(*keys: DNSKEY) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(ZONE, 300, "IN", "CDNSKEY", [k.to_text() for k in keys])


def test_cds_matching_the_ds_set(ksk: KeyPair) -> None:
    ds = ds_set(ksk.ds(ZONE))
    assert check_cds(ZONE, ds, cds_of(ksk.ds(ZONE).to_text()), cdnskey_of(ksk.dnskey)) == []
    assert check_cds(ZONE, ds, None, None) == []


def test_cds_asking_for_another_ds(ksk: KeyPair, retired: KeyPair) -> None:
    ds = ds_set(retired.ds(ZONE))
    findings = check_cds(ZONE, ds, cds_of(ksk.ds(ZONE).to_text()), cdnskey_of(ksk.dnskey))
    assert [f.params["rrtype"] for f in findings] == ["CDS", "CDNSKEY"]
    assert {f.code for f in findings} == {"CDS_MISMATCH"}
    assert all(f.severity is Severity.NOTICE for f in findings)


def test_cds_delete_request(ksk: KeyPair) -> None:
    ds = ds_set(ksk.ds(ZONE))
    [finding] = check_cds(ZONE, ds, cds_of("0 0 0 00"), None)
    assert finding.code == "CDS_DELETE_REQUESTED"
    assert "delete request" in finding.summary
    delete_key = dns.rrset.from_text(ZONE, 300, "IN", "CDNSKEY", "0 3 0 AA==")
    [finding] = check_cds(ZONE, ds, None, delete_key)
    assert finding.code == "CDS_DELETE_REQUESTED"
    # Once the parent has removed the DS, the delete request matches the state.
    assert check_cds(ZONE, None, cds_of("0 0 0 00"), delete_key) == []


# --- one DS↔DNSKEY matcher: the diagnosis, the web view and the SVG agree -------------------


@pytest.mark.parametrize("digest", [DSDigest.SHA1, DSDigest.SHA256, DSDigest.SHA384])
def test_the_web_view_words_the_match_the_diagnosis_found(ksk: KeyPair, digest: DSDigest) -> None:
    """A SHA-1 DS too: validators use it, and dnspython's default policy refuses to make
    one. The key table words ``match_ds``'s result; it matches nothing itself."""
    from dnssec_doctor.analysis.results import key_results
    from dnssec_doctor.web.view import _ds_outcome

    keys = key_results(dnskeys(ksk.dnskey))
    ds = dns.dnssec.make_ds(ZONE, ksk.dnskey, digest, policy=dns.dnssec.allow_all_policy)
    tag = dns.dnssec.key_id(ksk.dnskey)
    check = match_ds(ds, ZONE, [ksk.dnskey])
    assert check.status is DsStatus.MATCH
    assert check.digest_keys == (ksk.dnskey,)
    assert _ds_outcome(check, keys) == (f"matches KSK {tag}", True)
    wrong = dns.rdata.from_text(
        "IN", "DS", f"{tag} {int(ds.algorithm)} {int(digest)} {'00' * len(ds.digest)}"
    )
    assert isinstance(wrong, DS)
    check = match_ds(wrong, ZONE, [ksk.dnskey])
    assert check.status is DsStatus.DIGEST_MISMATCH
    assert (check.digest_keys, check.named_keys) == ((), (ksk.dnskey,))
    assert _ds_outcome(check, keys) == (f"digest differs from KSK {tag}", False)


def test_the_key_table_does_not_call_a_ds_of_a_non_zone_key_a_match(ksk: KeyPair) -> None:
    """The digest matches, but the key lacks the Zone Key flag: validators refuse it
    (DS_KEY_NOT_ZONE_KEY), and the table said "matches" in green before it read the
    diagnosis's match."""
    from dnssec_doctor.analysis.results import key_results
    from dnssec_doctor.web.view import _ds_outcome

    key = DNSKEY(ksk.dnskey.rdclass, ksk.dnskey.rdtype, 1, 3, ksk.dnskey.algorithm, ksk.dnskey.key)
    ds = dns.dnssec.make_ds(ZONE, key, DSDigest.SHA256, policy=dns.dnssec.allow_all_policy)
    check = match_ds(ds, ZONE, [key])
    assert check.status is DsStatus.NOT_ZONE_KEY and check.digest_keys == (key,)
    outcome, ok = _ds_outcome(check, key_results(dnskeys(key)))
    assert not ok and "not a zone key" in outcome


# --- multi-signer (RFC 8901): every server publishes every key any server signs with -------


def _zsk() -> DNSKEY:
    return signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=False).dnskey


def _tag(key: DNSKEY) -> tuple[int, int]:
    return (dns.dnssec.key_id(key), int(key.algorithm))


def test_multi_signer_with_both_zsks_everywhere_is_fine() -> None:
    zsk_a, zsk_b = _zsk(), _zsk()
    both = (zsk_a, zsk_b)
    findings = check_signing_keys_published(
        ZONE,
        {"ns1": {_tag(zsk_a)}, "ns2": {_tag(zsk_b)}},
        {"ns1": both, "ns2": both},
        {"ns1": both, "ns2": both},
    )
    assert findings == []


def test_a_server_that_omits_the_other_providers_zsk_is_named() -> None:
    zsk_a, zsk_b = _zsk(), _zsk()
    findings = check_signing_keys_published(
        ZONE,
        {"ns1": {_tag(zsk_a)}, "ns2": {_tag(zsk_b)}},
        {"ns1": (zsk_a, zsk_b), "ns2": (zsk_b,)},
        {"ns1": (zsk_a, zsk_b), "ns2": (zsk_b,)},
    )
    [finding] = findings
    assert finding.code == "MULTI_SIGNER_KEY_MISSING"
    assert finding.servers == ("ns2",)  # the provider that must publish the key
    assert finding.params["signer"] == "ns1"
    assert finding.params["key_tag"] == dns.dnssec.key_id(zsk_a)
    assert finding.records == (f"{ZONE} IN DNSKEY {zsk_a.to_text()}",)


def test_a_signature_by_a_key_its_own_server_lacks_is_left_to_the_signature_checks() -> None:
    zsk_a, zsk_b = _zsk(), _zsk()
    findings = check_signing_keys_published(
        ZONE,
        {"ns1": {_tag(zsk_a)}},
        {"ns1": (zsk_b,), "ns2": (zsk_b,)},
        {"ns1": (zsk_b,), "ns2": (zsk_b,)},
    )
    assert findings == []


def test_a_ds_over_the_revoked_ksk_names_the_revocation(ksk: KeyPair, zsk: KeyPair) -> None:
    """The DS was computed over the key with the REVOKE flag (RFC 5011): it matches, but a
    revoked key validates nothing, so the link is bogus with a code that says why."""
    flagged = cast(DNSKEY, ksk.dnskey.replace(flags=ksk.dnskey.flags | 0x0080))
    revoked = KeyPair(ksk.private, flagged)
    keyset = dnskeys(flagged, zsk.dnskey)
    result = link([revoked.ds(ZONE)], keyset, signed(keyset, revoked))
    assert result.state is LinkState.BOGUS
    assert "DS_KEY_REVOKED" in codes(result.findings)
    assert "DS_NO_MATCHING_KEY" not in codes(result.findings)
    # The DS over the key as it was before revocation matches no published key.
    before = link([ksk.ds(ZONE)], keyset, signed(keyset, revoked))
    assert before.state is LinkState.BOGUS
    assert "DS_NO_MATCHING_KEY" in codes(before.findings)
    assert "DS_KEY_REVOKED" not in codes(before.findings)
