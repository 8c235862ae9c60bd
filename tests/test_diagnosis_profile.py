"""Severity profiles (check/analyze --profile FILE): the site's policy changes how a
finding is reported and whether a healthy check exits 1, never the verdict.

Run over a committed lab snapshot (tests/data/snapshots), judged 12 days after it was
taken, when its signatures expire within the default 3-day warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dnssec_doctor.cli import main
from dnssec_doctor.diagnosis.profile import parse_severity_profile
from dnssec_doctor.errors import UsageError
from dnssec_doctor.model.finding import Severity

SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"


def analyze(
    slug: str, days: float, profile: Path | None, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, object]]:
    snapshot = SNAPSHOTS / f"{slug}.json"
    at = json.loads(snapshot.read_text())["finished_at"] + days * 86400
    extra = ["--profile", str(profile)] if profile else []
    code = main(["analyze", str(snapshot), "--at", f"@{at!r}", "--json", *extra])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, json.loads(captured.out)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(text)
    return path


def severities(report: dict[str, object], code: str) -> set[str]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return {f["severity"] for f in findings if f["code"] == code}


def warning_codes(report: dict[str, object]) -> set[str]:
    warnings = report["warnings"]
    assert isinstance(warnings, list)
    return {w["code"] for w in warnings}


def test_without_a_profile_an_expiring_signature_is_a_warning_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, report = analyze("secure-nsec", 12, None, capsys)
    assert (code, report["verdict"]) == (1, "secure")
    assert severities(report, "RRSIG_EXPIRES_SOON") == {"warning"}
    assert warning_codes(report) == {"RRSIG_EXPIRES_SOON"}


def test_a_profile_lowers_a_warning_below_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = write(tmp_path, '[severity]\nRRSIG_EXPIRES_SOON = "notice"\n')
    code, report = analyze("secure-nsec", 12, profile, capsys)
    assert (code, report["verdict"]) == (0, "secure")
    assert severities(report, "RRSIG_EXPIRES_SOON") == {"notice"}
    assert warning_codes(report) == set()


def test_a_profile_raises_a_warning_to_an_error_that_is_still_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = write(tmp_path, '[severity]\nRRSIG_EXPIRES_SOON = "ERROR"\n')
    code, report = analyze("secure-nsec", 12, profile, capsys)
    assert (code, report["verdict"]) == (1, "secure")
    assert severities(report, "RRSIG_EXPIRES_SOON") == {"error"}
    assert warning_codes(report) == {"RRSIG_EXPIRES_SOON"}


def test_a_profile_never_changes_the_verdict_or_the_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = write(tmp_path, '[severity]\nRRSIG_EXPIRED = "info"\n')
    code, report = analyze("rrsig-expired", 0, profile, capsys)
    assert (code, report["verdict"], report["ede"]) == (2, "bogus", 7)
    causes = report["causes"]
    assert isinstance(causes, list)
    assert causes[0]["code"] == "RRSIG_EXPIRED"
    assert severities(report, "RRSIG_EXPIRED") == {"info"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[severity]\nNO_SUCH_CODE = "error"\n', "unknown code 'NO_SUCH_CODE'"),
        ('[severity]\nRRSIG_EXPIRED = "fatal"\n', "RRSIG_EXPIRED = 'fatal' is not a severity"),
        ("[severity]\nRRSIG_EXPIRED = 3\n", "RRSIG_EXPIRED = 3 is not a severity"),
        ('[levels]\nRRSIG_EXPIRED = "error"\n', "unknown table 'levels'"),
        ('severity = "error"\n', "severity must be a table"),
        ("[severity\n", "is not a TOML profile"),
    ],
)
def test_a_bad_profile_is_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=r"^p\.toml") as raised:
        parse_severity_profile(text, "p.toml")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_parse_severity_profile_reads_each_level() -> None:
    text = '[severity]\nRRSIG_EXPIRED = "warning"\nDS_STALE = "info"\nIPV6_SKIPPED = "notice"\n'
    assert parse_severity_profile(text, "p.toml") == {
        "RRSIG_EXPIRED": Severity.WARNING,
        "DS_STALE": Severity.INFO,
        "IPV6_SKIPPED": Severity.NOTICE,
    }


def test_a_bad_or_missing_profile_file_exits_4_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = str(SNAPSHOTS / "secure-nsec.json")
    assert main(["analyze", snapshot, "--profile", str(tmp_path / "none.toml")]) == 4
    assert "cannot read" in capsys.readouterr().err
    bad = write(tmp_path, "[severity]\nX = 1\n")
    # check stops before it sends a query: no lab, no network needed to see the error.
    assert main(["check", "--lab", "--lab-dir", str(tmp_path), "x.", "--profile", str(bad)]) == 4
    err = capsys.readouterr().err
    assert "unknown code 'X'" in err
    assert err.count("\n") == 1
