"""`analyze` on DNSViz probes: DNSViz's own recorded real-internet probes (its 0.9.4 source
distribution's tests/data, fetched by scripts/fetch-conformance), judged at their
collection time, and probes DNSViz itself writes of lab scenarios, judged like `check`."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
from pathlib import Path

import pytest

from dnssec_doctor.cli import main
from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.lab.scenarios import SCENARIOS
from dnssec_doctor.replay.dnsviz import probe_to_snapshot

ROOT = Path(__file__).parents[1]
CACHE = ROOT / ".cache" / "conformance"
DATA = CACHE / "dnsviz" / "tests" / "data"
DNSVIZ = CACHE / "dnsviz-venv" / "bin" / "dnsviz"


def analyze_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code = main(["analyze", *args, "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code in (0, 1, 2, 3)
    return dict(document)


@pytest.fixture(scope="module")
def recorded() -> Path:
    assert DATA.is_dir(), f"{DATA} is missing: run scripts/fetch-conformance"
    return DATA


@pytest.mark.parametrize(
    ("probe", "name", "collected", "exit_code"),
    [
        # Warnings of its own (stale DS, short RSA keys, SHA-1 DS digests): exit 1.
        ("example-authoritative.json.gz", "example.com.", "2020-11-09T20:50:57Z", 1),
        ("root-authoritative.json.gz", ".", "2019-01-08T05:54:31Z", 0),
    ],
)
def test_dnsviz_recorded_internet_probes_are_secure_at_their_collection_time(
    recorded: Path,
    probe: str,
    name: str,
    collected: str,
    exit_code: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["analyze", str(recorded / probe), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["name"] == name
    assert report["verdict"] == "secure", report["causes"]
    assert report["collected_at"] == collected
    # DNSViz offered 4096 octets (512 on some retries), not our 1232: an answer of 1,500
    # octets to it is no EDNS_RESPONSE_TOO_LARGE (22 false ones on the root before).
    assert "EDNS_RESPONSE_TOO_LARGE" not in {f["code"] for f in report["findings"]}
    assert code == exit_code, [f["code"] for f in report["findings"]]
    # Judged years later, every signature has long expired.
    later = analyze_json([str(recorded / probe), "--at", "2026-01-01T00:00:00Z"], capsys)
    assert later["verdict"] == "bogus" and later["ede"] == 7


def test_every_response_keeps_the_bytes_dnsviz_recorded(recorded: Path) -> None:
    document = json.loads(
        gzip.decompress((recorded / "example-authoritative.json.gz").read_bytes())
    )
    recorded_wires = {
        base64.b64decode(response["message"])
        for entry in document.values()
        if isinstance(entry, dict) and "queries" in entry
        for query in entry["queries"]
        for clients in query["responses"].values()
        for response in clients.values()
        if response.get("message")
    }
    snapshot = probe_to_snapshot(document)
    kept = [e.response for e in snapshot.exchanges if e.response is not None]
    assert kept and all(wire in recorded_wires for wire in kept)
    assert {z.zone for z in snapshot.zones} == {".", "com.", "example.com."}


def test_plain_and_gzipped_probes_are_recognised_by_content(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "probe.txt"  # the name says nothing
    plain.write_bytes(gzip.decompress((recorded / "example-authoritative.json.gz").read_bytes()))
    gzipped = analyze_json([str(recorded / "example-authoritative.json.gz")], capsys)
    assert analyze_json([str(plain)], capsys)["verdict"] == gzipped["verdict"] == "secure"


def test_name_and_type_choose_what_is_diagnosed(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    probe = str(recorded / "example-authoritative.json.gz")
    report = analyze_json([probe, "--name", "example.net", "--type", "AAAA"], capsys)
    assert (report["name"], report["type"], report["verdict"]) == ("example.net.", "AAAA", "secure")


def test_a_recursive_probe_gives_the_resolver_views(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = analyze_json([str(recorded / "example-recursive.json.gz")], capsys)
    resolvers = report["resolvers"]
    assert isinstance(resolvers, list) and resolvers
    assert {r["address"] for r in resolvers} == {"192.0.2.2", "2001:db8::2"}
    assert all(r["rcode"] == "NOERROR" for r in resolvers)


BAD = {
    "not gzip inside": b"\x1f\x8b\x08\x00garbage",
    "not json": b"{probe",
    "wrong version": json.dumps({"_meta._dnsviz.": {"version": 3, "names": ["a."]}}).encode(),
    "name missing": json.dumps({"_meta._dnsviz.": {"version": 1.2, "names": ["a."]}}).encode(),
    "no queries shape": json.dumps(
        {
            "_meta._dnsviz.": {"version": 1.2, "names": ["a."]},
            "a.": {"type": "authoritative", "queries": 7, "analysis_start": "x"},
        }
    ).encode(),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_probe_is_one_line_and_exit_4(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "probe.json"
    path.write_bytes(BAD[case])
    assert main(["analyze", str(path)]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and str(path) in err


def test_asking_for_what_dnsviz_did_not_ask_is_exit_4(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    probe = str(recorded / "example-authoritative.json.gz")
    assert main(["analyze", probe, "--name", "www.example.org"]) == 4
    assert main(["analyze", probe, "--type", "SRV"]) == 4
    assert capsys.readouterr().err.count("\n") == 2


LAB_NAMES = ["secure-nsec", "secure-nsec3", "rrsig-expired", "ds-bad-digest", "dnskey-missing"]


@pytest.mark.lab
@pytest.mark.parametrize("slug", LAB_NAMES)
def test_probes_dnsviz_writes_of_the_lab_are_judged_as_check_judges(
    lab: LabProfile, slug: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert DNSVIZ.exists(), f"{DNSVIZ} is missing: run scripts/fetch-conformance"
    scenario = next(s for s in SCENARIOS if s.slug == slug)
    probe = tmp_path / "probe.json"
    written = subprocess.run(
        [
            str(DNSVIZ),
            "probe",
            "-A",
            "-a",
            ".",
            "-x",
            ".:a.root-servers.=127.53.0.1",
            "-o",
            str(probe),
            scenario.query_name,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert written.returncode == 0, written.stderr
    anchor = str(lab.trust_anchor_ds)
    report = analyze_json([str(probe), "--trust-anchor", anchor], capsys)
    assert report["name"] == scenario.query_name
    assert report["verdict"] == scenario.diagnosis.verdict.value, report["causes"]
    causes = [c["code"] for c in report["causes"]]  # type: ignore[union-attr]
    assert (causes[0] if causes else None) == scenario.diagnosis.cause
