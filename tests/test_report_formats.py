"""The JSON Schema of ``check --json`` (docs/check-json.schema.json) holds for real
reports, and ``--format markdown`` is a report to paste into a ticket: the committed lab
snapshots here (the lab's live scenarios in tests/test_check_scenarios.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from dnssec_doctor.cli import main
from report_support import SCHEMA, assert_valid_report

SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"
CASES = sorted(path.stem for path in SNAPSHOTS.glob("*.json"))


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("slug", CASES)
def test_committed_reports_follow_the_schema(slug: str, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = SNAPSHOTS / f"{slug}.json"
    finished_at = json.loads(snapshot.read_text())["finished_at"]
    main(["analyze", str(snapshot), "--at", f"@{finished_at!r}", "--json"])
    assert_valid_report(json.loads(capsys.readouterr().out))


def test_the_schema_refuses_a_plan_that_mixes_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    """The schema can fail: a wait step with an actor, a step without its kind."""
    snapshot = SNAPSHOTS / "ds-bad-digest.json"
    finished_at = json.loads(snapshot.read_text())["finished_at"]
    main(["analyze", str(snapshot), "--at", f"@{finished_at!r}", "--json"])
    document = json.loads(capsys.readouterr().out)
    wait = next(s for p in document["recovery"]["paths"] for s in p["steps"] if s["kind"] == "wait")
    wait["actor"] = "registrar"
    with pytest.raises(jsonschema.ValidationError):
        assert_valid_report(document)
    wait["actor"] = "nobody"
    del wait["kind"]
    with pytest.raises(jsonschema.ValidationError):
        assert_valid_report(document)


@pytest.mark.parametrize("slug", CASES)
def test_markdown_report_of_every_committed_snapshot(
    slug: str, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = SNAPSHOTS / f"{slug}.json"
    finished_at = json.loads(snapshot.read_text())["finished_at"]
    code = main(["analyze", str(snapshot), "--at", f"@{finished_at!r}", "--format", "markdown"])
    markdown = capsys.readouterr().out
    assert code in (0, 1, 2, 3)
    assert markdown.startswith("# DNSSEC report: ")
    assert "## Four views" in markdown


def test_markdown_escapes_what_a_ticket_system_would_act_on() -> None:
    from dnssec_doctor.render.markdown import block, text

    assert text("*bold* [link](x) <script>|") == r"\*bold\* \[link\](x) \<script\>\|"
    assert text("\x1b[2J") == r"\\x1b\[2J"
    fenced = block(["a ``` b", "c"])
    assert fenced[0] == fenced[-1] == "````"
    assert re.fullmatch(r"`{3,}", block(["plain"])[0])


def test_json_and_markdown_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = SNAPSHOTS / "ds-bad-digest.json"
    code = main(["analyze", str(snapshot), "--json", "--format", "markdown"])
    assert code == 4
    assert capsys.readouterr().err.count("\n") == 1


def test_nagios_long_output_carries_the_same_plan() -> None:
    """The monitoring long output lists the same paths and steps as the text report."""
    from dnssec_doctor.model.options import AnalysisOptions
    from dnssec_doctor.pipeline import analyze, read_snapshot
    from dnssec_doctor.render.nagios import render_nagios
    from dnssec_doctor.render.plan import plan_lines

    snapshot = read_snapshot(SNAPSHOTS / "rrsig-expired.json")
    report = analyze(snapshot, AnalysisOptions(now=snapshot.finished_at))
    output, state = render_nagios(report, warning_seconds=3 * 86400)
    assert state == 2
    lines = output.splitlines()
    start = lines.index("What to do:")
    assert lines[start + 1 :] == plan_lines(report.diagnosis.recovery)
    assert any(line.startswith("  Fastest, ETA ") for line in lines)
    assert any(line.startswith("  Emergency only") for line in lines)


def test_nagios_says_unknown_even_for_a_bug_of_ours(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The monitoring core reads the first line and the exit code: a crash of the probe's
    process or any other bug is UNKNOWN (3), never a bare exit 70 with nothing on stdout."""
    from dnssec_doctor import pipeline

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the probe's process crashed: signal 11 (Segmentation fault)")

    monkeypatch.delenv("DNSSEC_DOCTOR_DEBUG", raising=False)
    monkeypatch.setattr(pipeline, "probe", crash)  # nothing is sent
    assert main(["check", "--nagios", "--no-resolvers", "example.com"]) == 3
    out, err = capsys.readouterr()
    assert out == (
        "DNSSEC UNKNOWN - internal error: RuntimeError: the probe's process crashed: "
        "signal 11 (Segmentation fault)\n"
    )
    assert "this is a bug" in err and "Traceback" not in err
