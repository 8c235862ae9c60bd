"""zone verify: every defect class on a zone file broken for it, and every lab scenario's
zone judged as the catalogue declares. Zones are built with the lab's builders; no server."""

from __future__ import annotations

import base64
import io
import json
import random
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.NSEC
import dns.rdtypes.ANY.NSEC3
import dns.rdtypes.ANY.NSEC3PARAM
import dns.zone
import pytest
from dns.dnssectypes import Algorithm, DSDigest
from dns.rdtypes.util import Bitmap

from damaged_zones import NOW as DAMAGED_NOW
from damaged_zones import damaged_signed_zones
from dnssec_doctor import cli
from dnssec_doctor.lab import signing
from dnssec_doctor.lab.scenarios import (
    SCENARIOS,
    BuildContext,
    Keys,
    Scenario,
    make_zone,
    primary_hosts,
    sign,
)
from dnssec_doctor.lab.signing import NSEC3, Denial, DenialKind
from dnssec_doctor.model.options import DAY, AnalysisOptions
from dnssec_doctor.model.verdict import Verdict
from dnssec_doctor.verify.command import verify_zone
from dnssec_doctor.verify.engine import ScanSettings, scan_zone_file
from dnssec_doctor.verify.zone import Verification
from dnssec_doctor.zonefile.reader import ZoneFileError

NOW = int(time.time())
CTX = BuildContext(now=NOW, index=0, parent=dns.name.from_text("lab."))
ORIGIN = dns.name.from_text("example.lab.")


def write(zone: dns.zone.Zone, path: Path) -> Path:
    zone.to_file(str(path), relativize=False, sorted=True)
    return path


def verify(path: Path, *, ds: list[object] | None = None, **options: float) -> Verification:
    return verify_zone(
        path,
        str(path),
        origin=None,
        options=AnalysisOptions(now=options.pop("now", NOW), **options),
        ds=list(ds or []),  # type: ignore[arg-type]
        jobs=1,
    )


def signed_zone(
    *,
    extra: str = "",
    denial: Denial = signing.NSEC,
    window: signing.Window | None = None,
    keys: Keys | None = None,
    **sign_options: object,
) -> tuple[dns.zone.Zone, Keys]:
    zone = make_zone(ORIGIN, primary_hosts(CTX, ORIGIN), serial=NOW, extra=extra)
    keys = keys or Keys.generate()
    sign(zone, keys, window or CTX.valid, denial=denial, **sign_options)  # type: ignore[arg-type]
    return zone, keys


def resign(zone: dns.zone.Zone, keys: Keys) -> None:
    for node in zone.nodes.values():
        for rdataset in [r for r in node.rdatasets if r.rdtype == dns.rdatatype.RRSIG]:
            node.rdatasets.remove(rdataset)
    signing.sign_rrsets(zone, dnskey_signers=[keys.ksk], data_signers=[keys.zsk], window=CTX.valid)


# --- the lab's scenarios ---------------------------------------------------------------------

# What the catalogue's cause (read from resolvers) looks like in the zone file itself.
CAUSE_IN_FILE = {
    "NXDOMAIN_PROOF_INVALID": "DENIAL_CHAIN_BROKEN",
    "WILDCARD_PROOF_MISSING": "DENIAL_CHAIN_BROKEN",
    "SERVER_STALE_COPY": "RRSIG_EXPIRED",  # the stale copy's signatures
}
# Nothing wrong with the signed data: the servers, or where the names point (check judges
# CNAME chains as resolvers follow them, across zones), or how servers' copies combine.
NOT_IN_A_FILE = {
    "ZONE_UNREACHABLE",
    "REDIRECT_LOOP",
    "REDIRECT_CHAIN_TOO_LONG",
    # A DNAME to a long target is valid data; only names long enough below it overflow.
    "REDIRECT_NAME_TOO_LONG",
    # Each provider's copy is whole; what breaks is one server's keys beside another's data.
    "MULTI_SIGNER_KEY_MISSING",
}


# Warnings about a server or the path to it: nothing in the zone's file shows them.
SERVER_WARNINGS = {
    "SERVER_UNRESPONSIVE",
    "SERVER_NO_TCP",
    "SERVER_NO_UDP",
    "EDNS_VERSION_MISHANDLED",
}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.slug)
def test_scenario_zone_passes_or_fails_as_declared(scenario: Scenario, tmp_path: Path) -> None:
    origin = dns.name.from_text(scenario.zone)
    ctx = BuildContext(now=NOW, index=0, parent=origin.parent())
    results: dict[str, Verification] = {}
    for number, built in enumerate(scenario.build(ctx, origin)):
        if built.online_key is not None:
            continue  # the file is unsigned: its server signs at query time
        copies = [("main", built.zone), ("second", built.second_copy)]
        for kind, zone in copies:
            if zone is None:
                continue
            path = write(zone, tmp_path / f"{number}-{kind}.zone")
            results[f"{built.origin} {kind}"] = verify(path, ds=list(built.parent_ds))
    expected = scenario.diagnosis
    worst = max((r.exit_code for r in results.values()), default=0)
    codes = {code for r in results.values() for code in r.counts}
    if expected.verdict in (Verdict.SECURE, Verdict.INSECURE):
        assert worst < 2, {k: r.counts for k, r in results.items()}
        assert set(expected.warnings) - SERVER_WARNINGS <= codes
        if expected.cause and expected.cause != "DS_MISSING_FOR_SIGNED_ZONE":
            assert expected.cause in codes
        return
    cause = expected.cause or ""
    broken_here = any(str(r.zone) == expected.zone for r in results.values())
    if cause in NOT_IN_A_FILE or not broken_here:
        # No error; a multi-signer copy warns of the other provider's DS (DS_STALE): one
        # file cannot know that another provider serves that key.
        assert worst == (1 if len(built.parent_ds) > 1 else 0), {
            k: r.counts for k, r in results.items()
        }
        return
    assert worst == 2
    assert CAUSE_IN_FILE.get(cause, cause) in codes, codes


# --- one defect class at a time -----------------------------------------------------------------


def test_healthy_nsec_and_nsec3_zones_are_valid(tmp_path: Path) -> None:
    for denial in (signing.NSEC, NSEC3):
        zone, keys = signed_zone(denial=denial, extra="*.w A 192.0.2.1\na.b.c TXT x")
        result = verify(write(zone, tmp_path / "z"), ds=[keys.ds(ORIGIN)])
        assert result.counts == {}, result.findings
        assert result.exit_code == 0
        assert result.denial == denial.kind.value.upper()
        assert result.ds_to_publish == (f"{ORIGIN} 300 IN DS {keys.ds(ORIGIN).to_text()}",)


def test_an_rrset_whose_signed_data_exceeds_64_kib_is_valid(tmp_path: Path) -> None:
    """Signed data repeats the uncompressed owner per record: 400 TXT records at a
    200-octet name make ~120 KiB, served in one TCP answer and valid for validators."""
    owner = ".".join(letter * 60 for letter in "abc")
    extra = "".join(f'{owner} 300 IN TXT "{index:03d}{"x" * 97}"\n' for index in range(400))
    zone, keys = signed_zone(extra=extra)
    result = verify(write(zone, tmp_path / "z"), ds=[keys.ds(ORIGIN)])
    assert result.counts == {}, result.findings
    assert result.exit_code == 0


def test_corrupted_signature(tmp_path: Path) -> None:
    zone, _keys = signed_zone()
    www = dns.name.from_text("www", ORIGIN)
    signing.replace_signatures(zone, www, dns.rdatatype.TXT, signing.corrupt_signature)
    result = verify(write(zone, tmp_path / "z"))
    assert result.counts == {"RRSIG_BAD_SIGNATURE": 1}
    [finding] = result.findings
    assert finding.subject == "www.example.lab./TXT"
    assert result.exit_code == 2


def test_missing_signature(tmp_path: Path) -> None:
    zone, _ = signed_zone()
    signing.remove_signatures(zone, dns.name.from_text("mail", ORIGIN), dns.rdatatype.A)
    result = verify(write(zone, tmp_path / "z"))
    assert result.counts == {"RRSIG_MISSING": 1}
    assert result.findings[0].records == (f"mail.{ORIGIN} 300 IN A 127.53.250.10",)


def test_missing_algorithm(tmp_path: Path) -> None:
    keys = Keys.generate()
    extra = signing.generate_key(Algorithm.ED25519, ksk=True)
    zone, _ = signed_zone(keys=keys, published=[keys.ksk, keys.zsk, extra])
    result = verify(write(zone, tmp_path / "z"))
    assert "DNSKEY_ALGORITHM_SIGNS_NOTHING" in result.counts
    assert result.findings[0].params["algorithm"] == 15
    assert result.exit_code == 1


def test_unordered_nsec_chain(tmp_path: Path) -> None:
    zone, keys = signed_zone()
    mail = dns.name.from_text("mail", ORIGIN)
    [nsec] = zone.get_rdataset(mail, dns.rdatatype.NSEC)  # type: ignore[misc]
    skipped = nsec.replace(next=dns.name.from_text("www", ORIGIN))  # skips ns1
    zone.replace_rdataset(mail, signing.rdataset_of(skipped, 60))
    resign(zone, keys)
    result = verify(write(zone, tmp_path / "z"))
    assert result.counts == {"DENIAL_CHAIN_BROKEN": 1}
    assert "the next name in canonical order is ns1.example.lab." in result.findings[0].summary


def test_wrong_nsec_type_bitmap(tmp_path: Path) -> None:
    zone, keys = signed_zone()
    www = dns.name.from_text("www", ORIGIN)
    [nsec] = zone.get_rdataset(www, dns.rdatatype.NSEC)  # type: ignore[misc]
    types = [dns.rdatatype.A, dns.rdatatype.RRSIG, dns.rdatatype.NSEC]  # TXT left out
    wrong = nsec.replace(windows=Bitmap.from_rdtypes(types).windows)
    zone.replace_rdataset(www, signing.rdataset_of(wrong, 60))
    resign(zone, keys)
    result = verify(write(zone, tmp_path / "z"))
    assert result.counts == {"DENIAL_BITMAP_MISMATCH": 1}
    assert result.findings[0].params["expected"] == "A TXT RRSIG NSEC"


def test_broken_nsec3_chain_and_bitmap(tmp_path: Path) -> None:
    zone, keys = signed_zone(denial=NSEC3)
    owners = sorted(n for n, node in zone.nodes.items() if node.get_rdataset(1, 50))
    zone.delete_node(owners[1])
    first = zone.get_rdataset(owners[0], dns.rdatatype.NSEC3)
    assert first is not None
    [record] = list(first)
    zone.replace_rdataset(
        owners[0],
        signing.rdataset_of(record.replace(windows=Bitmap.from_rdtypes([1, 99]).windows), 60),
    )
    resign(zone, keys)
    result = verify(write(zone, tmp_path / "z"))
    assert result.counts["DENIAL_CHAIN_BROKEN"] >= 2  # a gap and a name without NSEC3
    assert result.counts["DENIAL_BITMAP_MISMATCH"] == 1
    assert result.exit_code == 2


def test_two_nsec3_records_with_one_hash(tmp_path: Path) -> None:
    zone, keys = signed_zone(denial=NSEC3)
    owner = sorted(n for n, node in zone.nodes.items() if node.get_rdataset(1, 50))[2]
    rdataset = zone.get_rdataset(owner, dns.rdatatype.NSEC3)
    assert rdataset is not None
    [record] = list(rdataset)
    twin = record.replace(windows=Bitmap.from_rdtypes([1, 99]).windows)
    zone.replace_rdataset(owner, dns.rdataset.from_rdata(rdataset.ttl, record, twin))
    resign(zone, keys)
    result = verify(write(zone, tmp_path / "z"))
    shared = [f for f in result.findings if "two NSEC3 records share this hash" in f.summary]
    assert len(shared) == 1 and shared[0].code == "DENIAL_CHAIN_BROKEN"
    # the rest of the chain is whole: only the twin is reported
    assert result.counts["DENIAL_CHAIN_BROKEN"] == 1
    assert result.exit_code == 2


def test_nsec3param_must_match_the_chain(tmp_path: Path) -> None:
    zone, keys = signed_zone(denial=NSEC3)
    other = Denial(kind=DenialKind.NSEC3, iterations=5, salt=b"\xab")
    zone.replace_rdataset(ORIGIN, signing.rdataset_of(other.nsec3param, 0))
    resign(zone, keys)
    result = verify(write(zone, tmp_path / "z"))
    assert "NSEC3PARAM_MISMATCH" in result.counts


def test_nsec3_parameters_against_rfc_9276(tmp_path: Path) -> None:
    zone, _keys = signed_zone(denial=Denial(kind=DenialKind.NSEC3, iterations=10, salt=b"\x01"))
    result = verify(write(zone, tmp_path / "z"))
    assert set(result.counts) == {"NSEC3_ITERATIONS_NONZERO", "NSEC3_SALT_PRESENT"}
    assert (
        result.exit_code == 1
    )  # iterations above 0: a warning (validators cap them); salt: a notice


def test_ds_that_matches_nothing(tmp_path: Path) -> None:
    zone, _ = signed_zone()
    stranger = signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=True)
    result = verify(write(zone, tmp_path / "z"), ds=[stranger.ds(ORIGIN)])
    assert result.counts == {"DS_NO_MATCHING_KEY": 1}
    assert result.exit_code == 2
    assert len(result.ds_to_publish) == 1  # the DS to send instead


def test_cds_stands_in_for_the_ds(tmp_path: Path) -> None:
    keys = Keys.generate()
    cds = keys.ds(ORIGIN).to_text()
    zone, _ = signed_zone(keys=keys, extra=f"@ CDS {cds}")
    result = verify(write(zone, tmp_path / "z"))
    assert result.ds_source == "CDS"
    assert result.counts == {"CDS_CDNSKEY_UNPAIRED": 1}  # a notice: still valid
    assert result.exit_code == 0


def test_expiry_inside_the_warning_window(tmp_path: Path) -> None:
    zone, _ = signed_zone(window=CTX.window(-10, 5))
    path = write(zone, tmp_path / "z")
    assert verify(path).counts == {}
    result = verify(path, expire_warning=7 * DAY)
    assert result.counts["RRSIG_EXPIRES_SOON"] == result.rrsets - 0  # every RRset
    assert result.exit_code == 1
    later = verify(path, now=NOW + 6 * DAY)
    assert "RRSIG_EXPIRED" in later.counts
    forecast = result.forecast
    assert forecast.earliest_expiration == NOW + 5 * DAY
    assert dict(forecast.horizons)[7 * DAY] == result.valid_signatures


def test_signatures_expiring_before_soa_expire(tmp_path: Path) -> None:
    zone, _ = signed_zone(window=CTX.window(-1, 0.5))  # SOA expire is one day
    result = verify(write(zone, tmp_path / "z"))
    assert result.counts["RRSIG_EXPIRES_BEFORE_SOA_EXPIRE"] == 1
    assert result.forecast.before_soa_expire == result.valid_signatures


def test_delegations_glue_and_signed_ns_at_a_cut(tmp_path: Path) -> None:
    child = Keys.generate()
    extra = (
        "secure NS ns.secure\nns.secure A 192.0.2.53\n"
        f"secure DS {child.ds(dns.name.from_text('secure', ORIGIN)).to_text()}\n"
        "insecure NS ns.elsewhere.test.\ndeep.insecure A 192.0.2.1\n"
    )
    for denial in (signing.NSEC, NSEC3):
        zone, keys = signed_zone(extra=extra, denial=denial)
        path = write(zone, tmp_path / "z")
        # an address below a delegation that no NS names: noted, not an error
        assert verify(path).counts == {"GLUE_UNUSED": 1}, verify(path).findings
        assert verify(path).exit_code == 0
    zone, keys = signed_zone(extra=extra)
    cut = dns.name.from_text("insecure", ORIGIN)
    ns = zone.get_rdataset(cut, dns.rdatatype.NS)
    assert ns is not None
    signing.sign_rdataset(zone, cut, ns, [keys.zsk], CTX.valid)
    result = verify(write(zone, tmp_path / "z"))
    assert result.counts == {"RRSIG_UNEXPECTED": 1, "GLUE_UNUSED": 1}


# --- NSEC3 opt-out (RFC 5155 §6, §7.1) -----------------------------------------------------------

DELEGATIONS = (
    "insecure NS ns.elsewhere.test.\n"
    "deep.ent NS ns.elsewhere.test.\n"  # ent.example.lab. only leads to an insecure delegation
    "glued NS ns.glued\nns.glued A 192.0.2.10\n"
    "secure NS ns.elsewhere.test.\n"
    f"secure DS {Keys.generate().ds(dns.name.from_text('secure', ORIGIN)).to_text()}\n"
)
INSECURE = ("insecure", "deep.ent", "ent", "glued")  # what an opt-out signer leaves out


def digest_of(name: str) -> bytes:
    """The NSEC3 hash (no salt, no extra iterations, as the lab signs) of a name in ORIGIN."""
    absolute = dns.name.from_text(name, ORIGIN)
    return base64.b32hexdecode(dns.dnssec.nsec3_hash(absolute, b"", 0, 1))


def covering(digests: Iterable[bytes], digest: bytes) -> bytes:
    """The hash of the NSEC3 record whose span holds ``digest`` (the chain wraps)."""
    before = [d for d in sorted(digests) if d < digest]
    return before[-1] if before else max(digests)


def opt_out_chain(
    zone: dns.zone.Zone,
    keys: Keys,
    *,
    leave_out: Iterable[str] = INSECURE,
    plain: Iterable[bytes] = (),
    flags: int = 1,
) -> list[bytes]:
    """Turn the lab's NSEC3 chain into the one an opt-out signer writes: the records of the
    names in ``leave_out`` removed, the chain closed again, ``flags`` on every record but
    those in ``plain`` (flags 0), everything re-signed. Returns the hashes left."""
    records: dict[bytes, tuple[dns.name.Name, dns.rdtypes.ANY.NSEC3.NSEC3]] = {}
    for owner, node in zone.nodes.items():
        rdataset = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC3)
        if rdataset is not None:
            [rdata] = list(rdataset)
            records[base64.b32hexdecode(owner.labels[0].upper())] = (owner, rdata)
    for name in leave_out:
        owner, _ = records.pop(digest_of(name))
        zone.delete_node(owner)
    digests = sorted(records)
    plain = set(plain)
    for index, digest in enumerate(digests):
        owner, rdata = records[digest]
        relinked = rdata.replace(
            flags=0 if digest in plain else flags, next=digests[(index + 1) % len(digests)]
        )
        zone.replace_rdataset(owner, signing.rdataset_of(relinked, 60))
    resign(zone, keys)
    return digests


def test_opt_out_chain_may_leave_out_insecure_delegations(tmp_path: Path) -> None:
    zone, keys = signed_zone(extra=DELEGATIONS, denial=NSEC3)
    digests = opt_out_chain(zone, keys)
    result = verify(write(zone, tmp_path / "z"), ds=[keys.ds(ORIGIN)])
    assert result.counts == {"NSEC3_OPT_OUT": 1}, result.findings
    assert result.exit_code == 0
    [notice] = result.findings
    assert notice.params == {"count": len(digests), "total": len(digests)}
    # An empty non-terminal above an insecure delegation may keep its NSEC3 (it matches).
    zone, keys = signed_zone(extra=DELEGATIONS, denial=NSEC3)
    opt_out_chain(zone, keys, leave_out=("insecure", "deep.ent"))
    assert verify(write(zone, tmp_path / "z")).counts == {"NSEC3_OPT_OUT": 1}


def test_opt_out_flags_may_differ_per_record(tmp_path: Path) -> None:
    """Only the spans that hold a left-out insecure delegation need the flag."""
    zone, keys = signed_zone(extra=DELEGATIONS, denial=NSEC3)
    left = opt_out_chain(zone, keys)
    needed = {covering(left, digest_of(name)) for name in INSECURE}
    assert 0 < len(needed) < len(left)  # a chain that mixes both kinds of record
    zone, keys = signed_zone(extra=DELEGATIONS, denial=NSEC3)
    opt_out_chain(zone, keys, plain=set(left) - needed)
    result = verify(write(zone, tmp_path / "z"))
    assert result.counts == {"NSEC3_OPT_OUT": 1}, result.findings
    assert result.findings[0].params == {"count": len(needed), "total": len(left)}
    assert result.exit_code == 0


def test_opt_out_span_without_the_flag_breaks_the_insecure_delegation(tmp_path: Path) -> None:
    zone, keys = signed_zone(extra=DELEGATIONS, denial=NSEC3)
    left = opt_out_chain(zone, keys)
    zone, keys = signed_zone(extra=DELEGATIONS, denial=NSEC3)
    opt_out_chain(zone, keys, plain={covering(left, digest_of("insecure"))})
    result = verify(write(zone, tmp_path / "z"))
    assert set(result.counts) == {"DENIAL_CHAIN_BROKEN", "NSEC3_OPT_OUT"}
    summaries = [f.summary for f in result.findings if f.code == "DENIAL_CHAIN_BROKEN"]
    assert any(
        "the insecure delegation insecure.example.lab. has no NSEC3 and the NSEC3 covering it "
        "is not opt-out" in s
        for s in summaries
    ), summaries
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("secure", "the signed delegation secure.example.lab. has no NSEC3 record"),
        ("www", "www.example.lab. has no NSEC3 record"),
    ],
)
def test_opt_out_spares_only_insecure_delegations(name: str, reason: str, tmp_path: Path) -> None:
    zone, keys = signed_zone(extra=DELEGATIONS, denial=NSEC3)
    opt_out_chain(zone, keys, leave_out=(*INSECURE, name))
    result = verify(write(zone, tmp_path / "z"))
    assert result.counts == {"DENIAL_CHAIN_BROKEN": 1, "NSEC3_OPT_OUT": 1}, result.findings
    [broken] = [f for f in result.findings if f.code == "DENIAL_CHAIN_BROKEN"]
    assert broken.params["name"] == f"{name}.example.lab."
    assert reason in broken.summary
    assert result.exit_code == 2


def test_without_opt_out_every_delegation_needs_its_nsec3(tmp_path: Path) -> None:
    zone, keys = signed_zone(extra=DELEGATIONS, denial=NSEC3)
    opt_out_chain(zone, keys, leave_out=("insecure",), flags=0)
    result = verify(write(zone, tmp_path / "z"))
    assert result.counts == {"DENIAL_CHAIN_BROKEN": 1}
    assert "insecure.example.lab. has no NSEC3 record" in result.findings[0].summary


def test_nsec3_flags_other_than_opt_out_are_ignored_by_validators(tmp_path: Path) -> None:
    zone, keys = signed_zone(extra=DELEGATIONS, denial=NSEC3)
    opt_out_chain(zone, keys, leave_out=(), flags=2)
    result = verify(write(zone, tmp_path / "z"))
    assert set(result.counts) == {"DENIAL_CHAIN_BROKEN"}
    assert "validators ignore an NSEC3 whose flags are neither 0 nor 1" in (
        result.findings[0].summary
    )
    assert result.exit_code == 2


def test_nsec3param_flags_must_be_zero_even_under_opt_out(tmp_path: Path) -> None:
    zone, keys = signed_zone(extra=DELEGATIONS, denial=NSEC3)
    opt_out_chain(zone, keys)
    param = dns.rdtypes.ANY.NSEC3PARAM.NSEC3PARAM(
        dns.rdataclass.IN, dns.rdatatype.NSEC3PARAM, 1, 1, 0, b""
    )
    zone.replace_rdataset(ORIGIN, signing.rdataset_of(param, 0))
    resign(zone, keys)
    result = verify(write(zone, tmp_path / "z"))
    assert result.counts == {"NSEC3PARAM_FLAGS_NONZERO": 1, "NSEC3_OPT_OUT": 1}
    assert result.findings[0].params == {"flags": 1}
    assert result.exit_code == 2


# --- zones signed by BIND's dnssec-signzone ------------------------------------------------------

needs_bind = pytest.mark.skipif(
    shutil.which("dnssec-signzone") is None or shutil.which("dnssec-keygen") is None,
    reason="bind9-utils (dnssec-signzone, dnssec-keygen) not installed",
)


def bind_signed(tmp_path: Path, body: str, *options: str) -> Path:
    """The zone ``body`` signed by dnssec-signzone with a fresh KSK and ZSK, the window
    explicit; BIND verifies its own output (no -P)."""
    keys = []
    for role in (["-f", "KSK"], []):
        keygen = ["dnssec-keygen", "-q", "-K", str(tmp_path), "-a", "ECDSAP256SHA256", *role]
        made = subprocess.run([*keygen, str(ORIGIN)], capture_output=True, text=True, check=True)
        keys.append(str(tmp_path / made.stdout.strip()))  # Kexample.lab.+013+12345
    unsigned = tmp_path / "unsigned.zone"
    published = "".join(Path(f"{key}.key").read_text() for key in keys)
    unsigned.write_text(
        f"$ORIGIN {ORIGIN}\n$TTL 300\n@ SOA ns1 hostmaster {NOW} 3600 600 86400 60\n"
        f"@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.9\n{body}\n{published}"
    )

    def stamp(seconds: float) -> str:
        return time.strftime("%Y%m%d%H%M%S", time.gmtime(seconds))

    signed = tmp_path / "signed.zone"
    window = ["-s", stamp(NOW - 3600), "-e", stamp(NOW + 20 * DAY)]
    output = ["-o", str(ORIGIN), "-f", str(signed)]
    private = [f"{key}.private" for key in keys]
    subprocess.run(
        ["dnssec-signzone", "-q", *options, *window, *output, str(unsigned), *private],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    return signed


@needs_bind
def test_bind_opt_out_zone_is_valid(tmp_path: Path) -> None:
    signed = bind_signed(tmp_path, DELEGATIONS, "-3", "-", "-A")
    text = signed.read_text()
    assert "NSEC3PARAM 1 0 0 -" in text and "NSEC3 1 1 0 -" in text  # opt-out records
    result = verify(signed)
    assert result.counts == {"NSEC3_OPT_OUT": 1}, result.findings
    assert result.denial == "NSEC3"
    assert result.exit_code == 0


# --- out-of-zone data ----------------------------------------------------------------------------

GLUE = (
    "sub NS ns.sub\nns.sub A 192.0.2.53\n"  # glue below the delegation it serves
    "sibling NS ns.sub\n"  # and for a sibling delegation: still glue, still in the zone
    "other NS ns.other.test.\n"  # a name server outside the zone
)
OUTSIDE = (
    "www.other.example. 300 IN A 192.0.2.5\n"
    "www.other.example. 300 IN NSEC example.lab. A RRSIG NSEC\n"
    "ns.other.test. 300 IN A 192.0.2.9\n"  # not glue: no delegation of the zone holds it
    "lab. 300 IN TXT parent\n"  # above the apex
    # another zone's signed data pasted in: its signature is not this zone's to judge
    "pasted.other.example. 300 IN TXT pasted\n"
    "pasted.other.example. 300 IN RRSIG TXT 13 3 300 20300101000000 20200101000000 12345 "
    f"other.example. {'A' * 86}==\n"
)


def append(path: Path, lines: str) -> dict[str, int]:
    """Add ``lines`` at the end of the zone file; the line number of each new owner."""
    old = path.read_text()
    path.write_text(old + lines)
    first = old.count("\n") + 1
    numbers: dict[str, int] = {}
    for offset, line in enumerate(lines.splitlines()):
        numbers.setdefault(line.split()[0], first + offset)
    return numbers


@pytest.mark.parametrize("denial", [signing.NSEC, NSEC3], ids=["nsec", "nsec3"])
def test_out_of_zone_data_is_reported_and_left_out_of_the_chain(
    denial: Denial, tmp_path: Path
) -> None:
    zone, keys = signed_zone(extra=GLUE, denial=denial)
    path = write(zone, tmp_path / "z")
    extra = OUTSIDE
    if denial is NSEC3:  # an NSEC3 record outside the zone is no part of its chain either
        extra += f"{'0' * 32}.other.example. 300 IN NSEC3 1 0 0 - {'v' * 32} A\n"
    lines = append(path, extra)
    result = verify(path, ds=[keys.ds(ORIGIN)])
    assert result.counts == {"OUT_OF_ZONE_DATA": len(lines)}, result.findings
    assert result.exit_code == 2
    found = {f.subject: f for f in result.findings}
    assert set(found) == set(lines)  # the glue ns.sub.example.lab. is not out of zone
    www = found["www.other.example."]
    assert www.params["line"] == lines["www.other.example."]
    assert www.params["types"] == "A NSEC"
    assert www.records[0] == "www.other.example. 300 IN A 192.0.2.5"
    assert www.summary.startswith("www.other.example. (A NSEC, line ")


def test_out_of_zone_data_in_an_unsigned_zone(tmp_path: Path) -> None:
    zone = make_zone(ORIGIN, primary_hosts(CTX, ORIGIN), serial=NOW, extra=GLUE)
    path = write(zone, tmp_path / "z")
    append(path, "www.other.example. 300 IN A 192.0.2.5\n")
    result = verify(path)
    assert result.counts == {"OUT_OF_ZONE_DATA": 1, "ZONE_UNSIGNED": 1}
    assert result.denial == "none"
    assert result.exit_code == 2


# --- DNAME occlusion (RFC 6672 §2.4) -----------------------------------------------------------

DNAME = "d DNAME target.test.\nd TXT beside-the-dname\n"


@pytest.mark.parametrize("denial", [signing.NSEC, NSEC3], ids=["nsec", "nsec3"])
def test_data_below_a_dname_is_occluded(
    denial: Denial, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Signed as a signer that knows DNAME does it: the DNAME and its owner signed and in
    the chain, the occluded names neither signed nor in it."""
    zone, keys = signed_zone(extra=DNAME, denial=denial)
    path = write(zone, tmp_path / "z")
    assert verify(path).counts == {}
    lines = append(
        path,
        "x.d.example.lab. 300 IN A 192.0.2.7\n"
        "deeper.x.d.example.lab. 300 IN TXT occluded\n"
        "sub.d.example.lab. 300 IN NS ns.elsewhere.test.\n",
    )
    result = verify(path, ds=[keys.ds(ORIGIN)])
    assert result.counts == {"DNAME_OCCLUDED_DATA": 3}, result.findings
    assert result.exit_code == 2
    found = {f.subject: f for f in result.findings}
    assert set(found) == {"x.d.example.lab.", "deeper.x.d.example.lab.", "sub.d.example.lab."}
    assert found["x.d.example.lab."].params == {
        "name": "x.d.example.lab.",
        "types": "A",
        "line": lines["x.d.example.lab."],
        "dname": "d.example.lab.",
    }
    code, out, _ = run(["zone", "verify", str(path), "--color", "never"], capsys)
    assert code == 2
    assert "DNAME_OCCLUDED_DATA: x.d.example.lab. (A, line " in out
    assert "RRSIG_MISSING" not in out and "DENIAL_CHAIN_BROKEN" not in out


def nsec3_owner(name: str) -> str:
    """The owner of the lab's NSEC3 record for ``name``."""
    label = base64.b32hexencode(digest_of(name)).decode().lower()
    return str(dns.name.from_text(label, ORIGIN))


def test_a_signer_blind_to_dname_signs_and_chains_occluded_names(tmp_path: Path) -> None:
    zone, _keys = signed_zone(extra=DNAME + "x.d A 192.0.2.7\n")  # the lab signs x.d too
    result = verify(write(zone, tmp_path / "z"))
    assert set(result.counts) == {"DNAME_OCCLUDED_DATA", "RRSIG_UNEXPECTED", "DENIAL_CHAIN_BROKEN"}
    unexpected = [f for f in result.findings if f.code == "RRSIG_UNEXPECTED"]
    assert {f.subject for f in unexpected} == {"x.d.example.lab./A", "x.d.example.lab./NSEC"}
    assert all("below the DNAME at d.example.lab." in f.summary for f in unexpected)
    chain = {f.summary for f in result.findings if f.code == "DENIAL_CHAIN_BROKEN"}
    assert any("an NSEC record at a name below the DNAME at d.example.lab." in s for s in chain)
    assert any("the next name in canonical order is mail.example.lab." in s for s in chain)
    assert "RRSIG_MISSING" not in result.counts
    zone, _keys = signed_zone(extra=DNAME + "x.d A 192.0.2.7\n", denial=NSEC3)
    result = verify(write(zone, tmp_path / "z"))
    chain = {f.summary for f in result.findings if f.code == "DENIAL_CHAIN_BROKEN"}
    assert chain == {
        "the NSEC3 chain of example.lab. is broken at "
        f"{nsec3_owner('x.d')}: the NSEC3 record is that of x.d.example.lab., which "
        "lies below the DNAME at d.example.lab.: names the zone does not serve have no NSEC3"
    }


def test_a_dname_at_the_apex_occludes_the_whole_zone_but_its_nsec3_chain(tmp_path: Path) -> None:
    zone = dns.zone.from_text(
        f"@ 300 SOA ns.elsewhere.test. hostmaster {NOW} 3600 600 86400 60\n"
        "@ 300 NS ns.elsewhere.test.\n@ 300 DNAME example.test.\n",
        origin=ORIGIN,
        relativize=False,
    )
    keys = Keys.generate()
    sign(zone, keys, CTX.valid, denial=NSEC3)
    path = write(zone, tmp_path / "z")
    assert verify(path).counts == {}
    append(path, "www.example.lab. 300 IN A 192.0.2.1\n")
    result = verify(path)
    assert result.counts == {"DNAME_OCCLUDED_DATA": 1}
    assert result.findings[0].params["dname"] == "example.lab."


@needs_bind
def test_bind_signs_around_occluded_data(tmp_path: Path) -> None:
    signed = bind_signed(tmp_path, DNAME + "x.d A 192.0.2.7\n")
    result = verify(signed)
    assert result.counts == {"DNAME_OCCLUDED_DATA": 1}, result.findings
    assert result.findings[0].subject == "x.d.example.lab."
    assert result.exit_code == 2


def test_rfc_3597_unknown_types_are_accepted(tmp_path: Path) -> None:
    zone, _keys = signed_zone(extra="www TYPE65280 \\# 3 abcdef")
    path = write(zone, tmp_path / "z")
    assert "TYPE65280" in path.read_text()
    assert verify(path).counts == {}


def bind_style(text: str) -> str:
    """The zone as dnssec-signzone writes it: owners once, RRSIGs over several lines in
    parentheses, comments."""
    lines = ["; signed by a test", "$TTL 300"]
    previous = None
    for line in text.splitlines():
        owner, rest = line.split(" ", 1)
        if " RRSIG " in rest:
            head, signature = rest.rsplit(" ", 1)
            fields = head.split()
            rest = (
                " ".join(fields[:8])
                + " (\n\t\t\t"
                + " ".join(fields[8:])
                + f"\n\t\t\t{signature} )"
            )
        lines.append(("\t\t" if owner == previous else owner + "\t") + rest + " ; ok")
        previous = owner
    return "\n".join(lines) + "\n"


def test_multiline_bind_format_and_parallel_slices_give_the_same_result(tmp_path: Path) -> None:
    names = "\n".join(f'h{i} A 192.0.2.{i % 250}\nh{i} TXT "n{i}"' for i in range(400))
    zone, _keys = signed_zone(extra=names)
    www = dns.name.from_text("h17", ORIGIN)
    signing.replace_signatures(zone, www, dns.rdatatype.A, signing.corrupt_signature)
    flat = write(zone, tmp_path / "flat")
    bind = tmp_path / "bind"
    bind.write_text(bind_style(flat.read_text()))
    options = AnalysisOptions(now=NOW)
    results = []
    for path, jobs in ((flat, 1), (bind, 1), (bind, 2)):
        settings = ScanSettings(
            now=NOW, expire_warning=options.expire_warning, horizons=(DAY,), jobs=jobs
        )
        scan = scan_zone_file(path, str(path), None, settings, min_parallel_bytes=0)
        assert (scan.mode == "parallel") == (jobs == 2)
        results.append((scan.result.counts, scan.result.records, scan.result.valid_signatures))
    assert results[0] == results[1] == results[2]
    assert results[0][0] == {"RRSIG_BAD_SIGNATURE": 1}


def test_unsorted_and_split_owner_groups_are_read_in_memory(tmp_path: Path) -> None:
    zone, _ = signed_zone()
    lines = write(zone, tmp_path / "z").read_text().splitlines()
    soa = [line for line in lines if " SOA " in line and " RRSIG " not in line]
    rest = [line for line in lines if line not in soa]
    path = tmp_path / "shuffled"
    path.write_text("\n".join(soa + rest[::-1]) + "\n")
    result = verify(path)
    assert result.counts == {}
    assert result.mode.startswith("sorted in memory")


@pytest.mark.parametrize("denial", [signing.NSEC, NSEC3], ids=["nsec", "nsec3"])
def test_records_in_any_order_are_read(denial: Denial, tmp_path: Path) -> None:
    """RFC 1035 puts no order on a master file's records: shuffled, grouped by type, or
    with the apex's records last, the zone reads to the same verdict, without --origin
    (the zone is the owner of the SOA)."""
    zone, _ = signed_zone(denial=denial)
    lines = write(zone, tmp_path / "z").read_text().splitlines()
    in_order = verify(tmp_path / "z")
    assert in_order.counts == {}
    orders = {
        "shuffled": random.Random(7).sample(lines, len(lines)),
        "by type": sorted(lines, key=lambda line: line.split()[3]),
        "apex last": sorted(lines, key=lambda line: line.startswith("example.lab. ")),
    }
    for name, order in orders.items():
        assert not order[0].startswith("example.lab. 300 IN SOA"), name
        path = tmp_path / name.replace(" ", "-")
        path.write_text("\n".join(order) + "\n")
        result = verify(path)
        assert (result.counts, result.records) == ({}, in_order.records), name
        assert result.mode.startswith("sorted in memory"), name


def test_a_shuffled_zone_scanned_in_parallel_gives_the_same_result(tmp_path: Path) -> None:
    """The in-memory path scans its sorted records in slices on every job: the same
    counts, examples and forecast as one process."""
    from dnssec_doctor.verify import engine

    names = "".join(f"h{index} 300 IN A 192.0.2.{index % 250}\n" for index in range(300))
    zone, _ = signed_zone(extra=names)  # enough names to cut into slices (threshold lowered)
    path = write(zone, tmp_path / "signed.zone")
    lines = path.read_text().splitlines(keepends=True)
    shuffled = tmp_path / "shuffled.zone"
    shuffled.write_text("".join(random.Random(11).sample(lines, len(lines))))
    results = []
    for jobs in (1, 2):
        engine._MIN_PARALLEL_RECORDS, saved = 10, engine._MIN_PARALLEL_RECORDS
        try:
            found = verify_zone(
                shuffled,
                str(shuffled),
                origin=None,
                options=AnalysisOptions(now=NOW),
                ds=[],
                jobs=jobs,
            )
        finally:
            engine._MIN_PARALLEL_RECORDS = saved
        results.append(found)
    one, two = results
    assert one.mode.startswith("sorted in memory, 1 slice")
    assert two.mode.startswith("sorted in memory") and "1 slice" not in two.mode
    assert (one.counts, one.records, one.exit_code) == (two.counts, two.records, two.exit_code)
    assert [f.summary for f in one.findings] == [f.summary for f in two.findings]


def test_without_origin_a_zone_needs_exactly_one_soa_owner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "two.zone"
    path.write_text(
        "www.example.lab. 300 IN A 192.0.2.1\n"
        "example.lab. 300 IN SOA a. b. 1 2 3 4 5\n"
        "other.lab. 300 IN SOA a. b. 1 2 3 4 5\n"
    )
    code, out, err = run(["zone", "verify", str(path)], capsys)
    assert (code, out) == (4, "")
    assert err == (
        f"dnssec-doctor: {path}, line 3: SOA records at 2 names (lines 2, 3): give the zone's "
        "name with --origin\n"
    )
    path.write_text("www.example.lab. 300 IN A 192.0.2.1\n")
    code, _, err = run(["zone", "verify", str(path)], capsys)
    assert (code, err) == (
        4,
        f"dnssec-doctor: {path}, line 1: no SOA record: give the zone's name with --origin\n",
    )


# --- the command line --------------------------------------------------------------------------


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_malformed_zone_file_is_one_error_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zone, _ = signed_zone()
    path = write(zone, tmp_path / "bad.zone")
    lines = path.read_text().splitlines()
    lines[4] = "www.example.lab. 300 IN A 999.1.2.3"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run(["zone", "verify", str(path)], capsys)
    assert code == 4
    assert out == ""
    assert err == f"dnssec-doctor: {path}, line 5: invalid IPv4 address\n"
    path.write_text("example.lab. 300 IN SOA a. b. 1 2 3 4 5\nwww 300 IN A (\n 192.0.2.1\n")
    code, _, err = run(["zone", "verify", str(path)], capsys)
    assert (code, err) == (
        4,
        f"dnssec-doctor: {path}, line 2: unbalanced parenthesis: no closing )\n",
    )
    code, _, err = run(["zone", "verify", str(tmp_path / "missing")], capsys)
    assert code == 4 and "no such file" in err


def test_cli_json_stdin_ds_record_and_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    zone, keys = signed_zone(window=CTX.window(-1, 2))
    path = write(zone, tmp_path / "z")
    ds = f"{ORIGIN} 3600 IN DS {keys.ds(ORIGIN).to_text()}"
    code, out, _ = run(["zone", "verify", str(path), "--ds-record", ds, "--json"], capsys)
    report = json.loads(out)
    assert code == 1 and report["exit_code"] == 1
    assert report["status"] == "valid with warnings"
    assert set(report["counts"]) == {"RRSIG_EXPIRES_SOON"}
    assert report["ds_to_publish"] == [ds.replace("3600", "300")]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    code, out, _ = run(["zone", "verify", "-", "--expire-warning", "1d"], capsys)
    assert code == 0
    assert out.startswith(f"{ORIGIN} (<stdin>): VALID")
    code, _, err = run(["zone", "verify", str(path), "--at", "+3d"], capsys)
    assert code == 2
    code, _, err = run(["zone", "verify", str(path), "--ds-record", "nonsense"], capsys)
    assert code == 4 and "not a DS record" in err
    code, _, err = run(["zone", "verify", str(path), "--expire-warning", "soon"], capsys)
    assert code == 4 and "invalid duration" in err


def test_axfr_input(capsys: pytest.CaptureFixture[str]) -> None:
    """The zone transferred from a server on loopback (a minimal AXFR responder)."""
    import socket
    import struct
    import threading

    import dns.message
    import dns.rrset

    zone, keys = signed_zone()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            (length,) = struct.unpack("!H", connection.recv(2))
            query = dns.message.from_wire(connection.recv(length))
            response = dns.message.make_response(query)
            soa = zone.find_rrset(ORIGIN, dns.rdatatype.SOA)
            response.answer.append(soa)
            for name, node in zone.nodes.items():
                for rdataset in node.rdatasets:
                    if rdataset.rdtype != dns.rdatatype.SOA:
                        rrset = dns.rrset.RRset(
                            name, rdataset.rdclass, rdataset.rdtype, rdataset.covers
                        )
                        rrset.update(rdataset)
                        response.answer.append(rrset)
            response.answer.append(soa)
            wire = response.to_wire(max_size=65535)
            connection.sendall(struct.pack("!H", len(wire)) + wire)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ds = keys.ds(ORIGIN).to_text()
    code, out, err = run(
        [
            "zone",
            "verify",
            "--axfr",
            f"127.0.0.1#{port}",
            "--origin",
            str(ORIGIN),
            "--ds-record",
            ds,
        ],
        capsys,
    )
    thread.join(5)
    listener.close()
    assert (code, err) == (0, "")
    assert out.startswith(f"{ORIGIN} (AXFR of {ORIGIN} from 127.0.0.1#{port}): VALID")
    code, _, err = run(["zone", "verify", "--axfr", "127.0.0.1#1"], capsys)
    assert code == 4 and "--axfr needs --origin" in err


def test_an_endless_axfr_stops_at_the_record_cap(capsys: pytest.CaptureFixture[str]) -> None:
    """A server that never ends its transfer: the transfer is streamed to disk and stops at
    --max-records, one line, exit 4 (it grew ~10 MB/s in memory before)."""
    import socket
    import struct
    import threading

    import dns.message
    import dns.rrset

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    sent = []

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            (length,) = struct.unpack("!H", connection.recv(2))
            query = dns.message.from_wire(connection.recv(length))
            soa = dns.rrset.from_text(
                ORIGIN, 300, "IN", "SOA", "ns1.example.lab. hm.example.lab. 1 7200 3600 1209600 300"
            )
            for batch in range(10_000):  # far more than the cap; it stops reading first
                response = dns.message.make_response(query)
                if batch == 0:
                    response.answer.append(soa)
                for index in range(100):
                    name = dns.name.from_text(f"h{batch}-{index}", ORIGIN)
                    response.answer.append(dns.rrset.from_text(name, 300, "IN", "A", "192.0.2.1"))
                wire = response.to_wire()
                try:
                    connection.sendall(struct.pack("!H", len(wire)) + wire)
                except OSError:
                    return
                sent.append(batch)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    arguments = ["zone", "verify", "--axfr", f"127.0.0.1#{port}", "--origin", str(ORIGIN)]
    code, out, err = run([*arguments, "--max-records", "1000"], capsys)
    thread.join(10)
    listener.close()
    assert (code, out) == (4, "")
    assert err.startswith(
        f"dnssec-doctor: AXFR of {ORIGIN} from 127.0.0.1#{port}: more than 1,000 records, stopped"
    )
    assert len(sent) < 10_000  # the transfer was cut off, not read to its end


def test_a_zone_of_more_records_than_the_cap_is_refused(tmp_path: Path) -> None:
    from dnssec_doctor.verify import command, engine

    assert command.MAX_RECORDS == engine.MAX_RECORDS
    zone, _ = signed_zone()
    path = write(zone, tmp_path / "signed.zone")
    lines = path.read_text().splitlines(keepends=True)
    shuffled = tmp_path / "shuffled.zone"
    shuffled.write_text("".join(random.Random(5).sample(lines, len(lines))))
    for each in (path, shuffled):  # the fast path and the path that sorts in memory
        assert verify(each).records > 10
        with pytest.raises(ZoneFileError, match="more than 10 records: give a higher --max-rec"):
            verify_zone(
                each,
                str(each),
                origin=None,
                options=AnalysisOptions(now=NOW),
                ds=[],
                jobs=1,
                max_records=10,
            )


# --- what servers refuse to load ----------------------------------------------------------------

UNSIGNED = (
    "example.lab. 300 IN SOA ns1.example.lab. hostmaster.example.lab. 1 3600 600 86400 60\n"
    "example.lab. 300 IN NS ns1.example.lab.\n"
    "ns1.example.lab. 300 IN A 192.0.2.1\n"
)


@pytest.mark.parametrize(
    ("records", "code", "name", "types"),
    [
        (
            "alias 300 IN CNAME www\nalias 300 IN A 192.0.2.2\n",
            "CNAME_AND_OTHER_DATA",
            "alias",
            "A CNAME",
        ),
        (
            "alias 300 IN CNAME www\nalias 300 IN MX 10 mail\n",
            "CNAME_AND_OTHER_DATA",
            "alias",
            "CNAME MX",
        ),
        (
            "sub 300 IN NS ns.test.\nsub 300 IN CNAME www\n",
            "CNAME_AND_OTHER_DATA",
            "sub",
            "NS CNAME",
        ),
        ("alias 300 IN CNAME a\nalias 300 IN CNAME b\n", "CNAME_MULTIPLE", "alias", "CNAME"),
        ("d 300 IN DNAME a.test.\nd 300 IN DNAME b.test.\n", "DNAME_MULTIPLE", "d", "DNAME"),
        ("d 300 IN NS ns.test.\nd 300 IN DNAME a.test.\n", "DNAME_BESIDE_NS", "d", "NS DNAME"),
    ],
)
def test_data_servers_refuse_to_load_is_an_error_at_its_line(
    records: str, code: str, name: str, types: str, tmp_path: Path
) -> None:
    path = tmp_path / "z"
    path.write_text(UNSIGNED + "$ORIGIN example.lab.\n" + records)
    result = verify(path)
    assert result.counts == {code: 1, "ZONE_UNSIGNED": 1}, result.findings
    assert result.exit_code == 2
    finding = next(f for f in result.findings if f.code == code)
    assert finding.params == {"name": f"{name}.example.lab.", "types": types, "line": 5}


def test_the_apex_needs_its_ns(tmp_path: Path) -> None:
    path = tmp_path / "z"
    path.write_text(UNSIGNED.replace("example.lab. 300 IN NS ns1.example.lab.\n", ""))
    result = verify(path)
    assert result.counts == {"APEX_NS_MISSING": 1, "ZONE_UNSIGNED": 1}
    assert result.exit_code == 2
    assert [f.params["line"] for f in result.findings if f.code == "APEX_NS_MISSING"] == [1]


@pytest.mark.parametrize(
    "records",
    [
        "alias 300 IN CNAME a\nalias 300 IN CNAME A.example.lab.\n",  # one record, twice
        "d 300 IN DNAME a.test.\nx 300 IN CNAME d\n",
        "sub 300 IN NS ns.sub\nns.sub 300 IN A 192.0.2.9\n",
    ],
)
def test_what_servers_load_gives_no_such_error(records: str, tmp_path: Path) -> None:
    path = tmp_path / "z"
    path.write_text(UNSIGNED + "$ORIGIN example.lab.\n" + records)
    result = verify(path)
    assert result.counts == {"ZONE_UNSIGNED": 1}, result.findings
    assert result.exit_code == 0


def test_a_signed_cname_beside_its_rrsig_and_nsec_is_valid(tmp_path: Path) -> None:
    for denial in (signing.NSEC, NSEC3):
        zone, _ = signed_zone(extra="alias 300 IN CNAME www\n", denial=denial)
        assert verify(write(zone, tmp_path / "z")).counts == {}


def test_an_rrsig_over_rrsigs_is_an_error(tmp_path: Path) -> None:
    zone, _ = signed_zone()
    path = write(zone, tmp_path / "z")
    lines = path.read_text().splitlines()
    signature = next(line for line in lines if line.startswith("www.") and " RRSIG A " in line)
    index = lines.index(signature)
    lines.insert(index + 1, signature.replace(" RRSIG A ", " RRSIG RRSIG "))
    path.write_text("\n".join(lines) + "\n")
    result = verify(path)
    assert result.counts == {"RRSIG_COVERS_RRSIG": 1}, result.findings
    assert result.exit_code == 2
    (finding,) = result.findings
    assert finding.params["name"] == "www.example.lab."


# --- CDS and CDNSKEY: the request to the parent -------------------------------------------------


def cds_zone(tmp_path: Path, make_extra: Callable[[Keys], str]) -> Verification:
    keys = Keys.generate()
    zone, _ = signed_zone(keys=keys, extra=make_extra(keys))
    return verify(write(zone, tmp_path / "z"))


def cds_of(key: dns.rdtypes.ANY.DNSKEY.DNSKEY, digest: DSDigest = DSDigest.SHA256) -> str:
    return dns.dnssec.make_ds(ORIGIN, key, digest).to_text()


@pytest.mark.parametrize("digest", [DSDigest.SHA256, DSDigest.SHA384])
def test_a_valid_cds_and_cdnskey_pair_is_valid_without_ds(digest: DSDigest, tmp_path: Path) -> None:
    result = cds_zone(
        tmp_path,
        lambda keys: f"@ CDS {cds_of(keys.ksk.dnskey, digest)}\n@ CDNSKEY {keys.ksk.dnskey}\n",
    )
    assert (result.counts, result.exit_code, result.ds_source) == ({}, 0, "CDS")


@pytest.mark.parametrize(
    ("make_extra", "expected"),
    [
        (lambda keys: "@ CDS 0 0 0 00\n@ CDNSKEY 0 3 0 AA==\n", {}),
        (
            lambda keys: f"@ CDS {cds_of(keys.ksk.dnskey)}\n",
            {"CDS_CDNSKEY_UNPAIRED": 1},
        ),
        (
            lambda keys: f"@ CDNSKEY {keys.ksk.dnskey}\n",
            {"CDS_CDNSKEY_UNPAIRED": 1},
        ),
        (
            lambda keys: f"@ CDS {cds_of(keys.ksk.dnskey)}\n@ CDNSKEY {keys.zsk.dnskey}\n",
            {"CDS_CDNSKEY_DISAGREE": 1},
        ),
        (lambda keys: "@ CDS 0 0 0 00\n", {"CDS_DELETE_INCOMPLETE": 1}),
        (lambda keys: "@ CDNSKEY 0 3 0 AA==\n", {"CDS_DELETE_INCOMPLETE": 1}),
        (
            lambda keys: f"@ CDS 0 0 0 00\n@ CDNSKEY {keys.ksk.dnskey}\n",
            {"CDS_DELETE_INCOMPLETE": 1},
        ),
        (
            lambda keys: f"@ CDS 0 0 0 00\n@ CDS {cds_of(keys.ksk.dnskey)}\n@ CDNSKEY 0 3 0 AA==\n",
            {"CDS_DELETE_INCOMPLETE": 1},
        ),
    ],
    ids=[
        "delete-pair",
        "cds-alone",
        "cdnskey-alone",
        "disagree",
        "delete-cds-alone",
        "delete-cdnskey-alone",
        "delete-beside-key",
        "delete-among-keys",
    ],
)
def test_cds_and_cdnskey_requests(
    make_extra: Callable[[Keys], str], expected: dict[str, int], tmp_path: Path
) -> None:
    result = cds_zone(tmp_path, make_extra)
    assert result.counts == expected, result.findings


def test_a_cds_for_a_key_the_zone_does_not_publish(tmp_path: Path) -> None:
    other = Keys.generate().ksk.dnskey
    result = cds_zone(tmp_path, lambda keys: f"@ CDS {cds_of(other)}\n@ CDNSKEY {other}\n")
    assert result.counts["CDS_MATCHES_NO_DNSKEY"] == 2, result.findings
    assert result.exit_code == 2  # the DS it asks for would match no key: as --ds does


def test_damaged_and_reordered_zones_give_a_verdict_or_one_input_error(tmp_path: Path) -> None:
    """No input gives a traceback: damaged signed zones (the reader's fuzz corpus), read in
    file order and shuffled, each give a verdict or one ZoneFileError, and the same one in
    both orders (RFC 1035 puts no order on records)."""
    shuffler = random.Random(20261204)
    verdicts = 0
    for index, text in enumerate(damaged_signed_zones(300)):
        lines = text.decode("latin-1").splitlines(keepends=True)
        orders = [("in-order", lines)]
        # Lines are records of their own unless the damage made one continue another (a
        # leading blank inherits the owner; a parenthesis spans lines): only then shuffle.
        if not any(line[:1] in (" ", "\t", "\n") or "(" in line or ")" in line for line in lines):
            orders.append(("shuffled", shuffler.sample(lines, len(lines))))
        results = []
        for name, body in orders:
            path = tmp_path / f"{index}-{name}"
            path.write_text("".join(body), encoding="latin-1")
            try:  # with the origin: a damaged owner may have lost its final dot
                found = verify_zone(
                    path,
                    str(path),
                    origin="example.lab.",
                    options=AnalysisOptions(now=DAMAGED_NOW),
                    ds=[],
                    jobs=1,
                )
            except ZoneFileError:
                results.append(None)
            else:
                results.append((found.counts, found.records))
        if results[0] is not None and len(results) == 2:
            verdicts += 1
            assert results[1] == results[0], text
    # The corpus is the same on every run (fixed keys, deterministic signatures): 35 of
    # its zones read and can be shuffled; the bound only keeps the test from passing empty.
    assert verdicts > 30


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ("sub 300 IN NS ns.sub\n", {"GLUE_MISSING": 1}),  # below its own cut
        ("sub 300 IN NS ns.other\n", {"GLUE_MISSING": 1}),  # an authoritative sibling
        ("sub 300 IN NS ns.sub\nns.sub 300 IN AAAA 2001:db8::1\n", {}),
        ("sub 300 IN NS ns.other\nns.other 300 IN A 192.0.2.3\n", {}),
        ("sub 300 IN NS ns.test.\n", {}),  # another zone's name server
        ("sub 300 IN NS ns.test.\nold.sub 300 IN A 192.0.2.4\n", {"GLUE_UNUSED": 1}),
    ],
)
def test_name_servers_inside_the_zone_need_addresses(
    records: str, expected: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "z"
    path.write_text(UNSIGNED + "$ORIGIN example.lab.\n" + records)
    result = verify(path)
    assert result.counts == {**expected, "ZONE_UNSIGNED": 1}, result.findings
    assert result.exit_code == (2 if "GLUE_MISSING" in expected else 0)
    missing = [f.params for f in result.findings if f.code == "GLUE_MISSING"]
    if missing:
        assert missing[0]["name"] == "sub.example.lab."
        assert missing[0]["line"] == 5


def test_the_apex_name_servers_need_addresses(tmp_path: Path) -> None:
    path = tmp_path / "z"
    path.write_text(UNSIGNED.replace("ns1.example.lab. 300 IN A 192.0.2.1\n", ""))
    result = verify(path)
    assert result.counts == {"GLUE_MISSING": 1, "ZONE_UNSIGNED": 1}
    (finding,) = [f for f in result.findings if f.code == "GLUE_MISSING"]
    assert finding.params == {"name": "example.lab.", "target": "ns1.example.lab.", "line": 1}


@pytest.mark.parametrize(
    ("extra", "ent"),
    [
        (
            f"a.signed NS ns.elsewhere.test.\na.signed DS {Keys.generate().ds(ORIGIN).to_text()}\n",
            "signed",
        ),
        ("i.mixed NS ns.elsewhere.test.\nwww.mixed A 192.0.2.5\n", "mixed"),
        ("i.deeper.two NS ns.elsewhere.test.\nwww.deeper.two A 192.0.2.6\n", "deeper.two"),
    ],
    ids=["above-a-signed-delegation", "beside-data", "two-levels"],
)
def test_opt_out_never_spares_an_empty_non_terminal_above_data(
    extra: str, ent: str, tmp_path: Path
) -> None:
    """RFC 5155 §7.1 with erratum 3441: opt-out may leave out an empty non-terminal only
    when everything below it is an insecure delegation; between opt-out spans, one above
    a signed delegation or authoritative data still needs its NSEC3."""
    zone, keys = signed_zone(extra=DELEGATIONS + extra, denial=NSEC3)
    leave_out = [*INSECURE, ent]
    if "." in ent:
        leave_out.append(ent.split(".", 1)[1])
    opt_out_chain(zone, keys, leave_out=leave_out)
    result = verify(write(zone, tmp_path / "z"))
    broken = sorted(f.params["name"] for f in result.findings if f.code == "DENIAL_CHAIN_BROKEN")
    assert broken == sorted(f"{name}.example.lab." for name in leave_out if name not in INSECURE)
    assert result.exit_code == 2


SHA256 = "ab" * 32


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        (f"sub 300 IN DS 12345 200 2 {SHA256}\n", {"DELEGATION_DS_UNUSABLE": 1}),
        (f"sub 300 IN DS 12345 0 2 {SHA256}\n", {"DELEGATION_DS_UNUSABLE": 1}),
        ("sub 300 IN DS 12345 13 99 abab\n", {"DELEGATION_DS_UNUSABLE": 1}),
        (f"sub 300 IN DS 12345 13 2 {SHA256}\n", {}),
        (f"sub 300 IN DS 12345 200 2 {SHA256}\nsub 300 IN DS 1 13 2 {SHA256}\n", {}),
    ],
    ids=["unknown-algorithm", "reserved-algorithm", "unknown-digest", "usable", "one-usable"],
)
def test_a_delegation_whose_ds_validators_cannot_use(
    records: str, expected: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "z"
    path.write_text(UNSIGNED + "$ORIGIN example.lab.\nsub 300 IN NS ns.test.\n" + records)
    result = verify(path)
    assert result.counts == {**expected, "ZONE_UNSIGNED": 1}, result.findings
    assert result.exit_code == (1 if expected else 0)  # insecure, not bogus: a risk
    for finding in result.findings:
        if finding.code == "DELEGATION_DS_UNUSABLE":
            assert (finding.params["name"], finding.params["line"]) == ("sub.example.lab.", 5)
