"""zone verify: every defect class on a zone file broken for it, and every lab scenario's
zone judged as the catalogue declares. Zones are built with the lab's builders; no server."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.NSEC
import dns.zone
import pytest
from dns.dnssectypes import Algorithm
from dns.rdtypes.util import Bitmap

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
NOT_IN_A_FILE = {"ZONE_UNREACHABLE"}  # nothing wrong with the data


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.slug)
def test_scenario_zone_passes_or_fails_as_declared(scenario: Scenario, tmp_path: Path) -> None:
    origin = dns.name.from_text(scenario.zone)
    ctx = BuildContext(now=NOW, index=0, parent=origin.parent())
    results: dict[str, Verification] = {}
    for number, built in enumerate(scenario.build(ctx, origin)):
        copies = [("main", built.zone), ("stale", built.stale_copy)]
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
        assert set(expected.warnings) - {"SERVER_UNRESPONSIVE"} <= codes
        if expected.cause and expected.cause != "DS_MISSING_FOR_SIGNED_ZONE":
            assert expected.cause in codes
        return
    cause = expected.cause or ""
    broken_here = any(str(r.zone) == expected.zone for r in results.values())
    if cause in NOT_IN_A_FILE or not broken_here:
        assert worst == 0, {k: r.counts for k, r in results.items()}
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
    assert result.exit_code == 0  # notices


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
    assert result.counts == {}


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
        assert verify(path).counts == {}, verify(path).findings
    zone, keys = signed_zone(extra=extra)
    cut = dns.name.from_text("insecure", ORIGIN)
    ns = zone.get_rdataset(cut, dns.rdatatype.NS)
    assert ns is not None
    signing.sign_rdataset(zone, cut, ns, [keys.zsk], CTX.valid)
    result = verify(write(zone, tmp_path / "z"))
    assert result.counts == {"RRSIG_UNEXPECTED": 1}


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
    assert err == f"dnssec-doctor: {path}, line 5: invalid IPv4 address '999.1.2.3'\n"
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
