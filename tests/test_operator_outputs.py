"""What an operator reads at 3 a.m., on the lab's real servers: no healthy-looking
headline over a name that does not exist, no DNSSEC advice for a fault that is not
DNSSEC, no false alarm over a zone that was never signed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from dnssec_doctor.cli import main
from dnssec_doctor.lab.profile import LabProfile

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab_args(lab: LabProfile, lab_dir: Path) -> list[str]:
    return ["--lab", "--lab-dir", str(lab_dir)]


def _run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str]:
    code = main(list(arguments))
    return code, capsys.readouterr().out


def test_a_name_that_does_not_exist_never_reads_as_healthy(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(
        capsys, "check", "www.nonexistent-zone.lab", *lab_args, "--no-resolvers", "--color", "never"
    )
    first, second = out.splitlines()[:2]
    assert code == 3, out
    assert first == "www.nonexistent-zone.lab. A: DOES NOT EXIST (NXDOMAIN, secure)"
    assert "does not exist" in second and "validates" not in second
    code, out = _run(
        capsys, "check", "www.nonexistent-zone.lab", *lab_args, "--no-resolvers", "--json"
    )
    document = json.loads(out)
    assert code == 3 and document["nxdomain"] is True and document["verdict"] == "secure"
    # Nagios: the monitored name is gone.
    code, out = _run(capsys, "check", "--nagios", "www.nonexistent-zone.lab", *lab_args)
    assert code == 2 and out.startswith("DNSSEC CRITICAL - "), out
    # In an unsigned zone too: the denial is not protected, and the name is still gone.
    code, out = _run(
        capsys, "check", "nonexistent.unsigned.lab", *lab_args, "--no-resolvers", "--color", "never"
    )
    assert code == 3 and "DOES NOT EXIST (NXDOMAIN, insecure)" in out.splitlines()[0]
    # A name that exists is unaffected.
    code, out = _run(capsys, "check", "www.secure-nsec.lab", *lab_args, "--no-resolvers", "--json")
    assert code == 0 and json.loads(out)["nxdomain"] is False


def test_go_insecure_on_a_zone_never_signed_is_no_danger(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(capsys, "go-insecure", "unsigned.lab", "--once", *lab_args)
    assert code == 0, out
    assert "DANGER" not in out and "Re-enable" not in out
    assert "already insecure" in out


def test_go_insecure_gives_a_lame_zone_no_dnssec_advice(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for zone in ("lame.lab", "refused.lab"):
        code, out = _run(capsys, "go-insecure", zone, "--once", *lab_args)
        assert code == 3, out
        assert "not a DNSSEC fault" in out
        assert "signing" not in out.lower() and "DANGER" not in out


def test_go_insecure_still_warns_when_signing_stopped_with_the_ds_left(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(capsys, "go-insecure", "ds-unsigned-zone.lab", "--once", *lab_args)
    assert code == 2 and "DANGER" in out and "Re-enable signing" in out


def test_a_zone_name_keeps_its_case_in_the_headline(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(
        capsys, "check", "www.unsigned.lab", *lab_args, "--no-resolvers", "--color", "never"
    )
    assert code == 0
    assert out.splitlines()[1].startswith("unsigned.lab. is not signed"), out


def test_a_crashing_check_becomes_a_finding_and_the_rest_still_run() -> None:
    # Deterministic: the whole-suite gate wants CHECK_CRASHED emitted by some test, and the
    # fuzz test's incidental crashes do not come on every run.
    from dnssec_doctor.analysis.chain import guarded
    from dnssec_doctor.model.finding import Finding

    findings: list[Finding] = []

    def broken(value: int) -> int:
        raise ValueError(f"cannot read {value}")

    assert guarded("example", "zone.", findings, broken, 7) is None
    assert [f.code for f in findings] == ["CHECK_CRASHED"]
    assert "ValueError: cannot read 7" in findings[0].summary
    assert guarded("example", "zone.", findings, lambda: 3) == 3


# --- one convention everywhere: options, exit codes, help ----------------------------------


def test_nagios_without_a_name_is_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--nagios"]) == 3
    assert capsys.readouterr().out.startswith("DNSSEC UNKNOWN - ")


@pytest.mark.parametrize(
    ("extra", "named"), [(["--json"], "--json"), (["--log"], "--log"), (["--brief"], "--brief")]
)
def test_nagios_refuses_a_conflicting_output_in_one_line(
    extra: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--nagios", *extra, "example.com"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("DNSSEC UNKNOWN - --nagios and ") and named in out
    assert len(out.splitlines()) == 1


def test_conflicting_or_orphan_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        (["check", "--brief", "--json", "example.com"], "--brief and --json"),
        (["check", "-w", "3d", "example.com"], "apply with --nagios"),
        (["check", "--lab-dir", "/nonexistent", "example.com"], "--lab-dir applies with --lab"),
        (["probe", "--lab-dir", "/nonexistent", "example.com", "-o", "x"], "--lab-dir"),
    ]
    for arguments, fragment in cases:
        assert main(arguments) == 4, arguments
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and fragment in err, (arguments, err)


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["check", "@127.53.53.1", "example.com"], "--resolver 127.53.53.1"),
        (["check", "-t", "AAAA", "example.com"], "example.com AAAA"),
        (["check", "example.com", "+short"], "--brief"),
        (["probe", "example.com", "+dnssec", "-o", "x"], "dig option"),
    ],
)
def test_dig_habits_get_a_one_line_hint(
    arguments: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(arguments) == 4
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and fragment in err, err


def test_values_that_look_like_dig_options_are_not_taken_for_them() -> None:
    from dnssec_doctor.cli import dig_habit

    assert dig_habit(["check", "example.com", "--at", "+3d"]) is None
    assert dig_habit(["check", "example.com", "--at", "@1795000000"]) is None
    assert dig_habit(["check", "--nagios", "-w", "+3d", "example.com"]) is None


def test_one_name_for_the_snapshot_file_and_for_the_lab_directory(tmp_path: Path) -> None:
    from dnssec_doctor.cli import build_parser

    for command, dest in (("check", "snapshot"), ("probe", "output")):
        parser, _ = build_parser(command)
        for spelling in ("-o", "--snapshot", "--output"):
            args = parser.parse_args([command, "example.com", spelling, "f.json"])
            assert getattr(args, dest) == Path("f.json")
    parser, _ = build_parser("lab")
    for arguments in (
        ["lab", "--dir", str(tmp_path), "status"],
        ["lab", "status", "--dir", str(tmp_path)],  # after the action, too
        ["lab", "up", "--lab-dir", str(tmp_path)],  # check's spelling
        ["lab", "--lab-dir", str(tmp_path), "list"],
    ):
        assert parser.parse_args(arguments).dir == tmp_path, arguments
    assert parser.parse_args(["lab", "status"]).dir is None


def test_a_lab_that_is_not_up_is_exit_5_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for arguments in (
        ["check", "www.secure-nsec.lab", "--lab", "--lab-dir", str(tmp_path)],
        ["lab", "--dir", str(tmp_path), "verify"],
        ["lab", "status", "--dir", str(tmp_path)],
    ):
        assert main(arguments) == 5, arguments
        captured = capsys.readouterr()
        assert "not up" in captured.err + captured.out


def test_the_readme_exit_code_table_is_the_code_s() -> None:
    from dnssec_doctor.errors import EXIT_CODE_MEANINGS, ExitCode, exit_code_table

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert exit_code_table() in readme
    assert set(EXIT_CODE_MEANINGS) == set(ExitCode)


def test_every_command_has_a_description_and_lists_its_exit_codes() -> None:
    from dnssec_doctor.cli import build_parser

    parser, _ = build_parser(None)
    commands = next(a for a in parser._actions if a.dest == "command")
    choices: dict[str, Any] = commands.choices  # type: ignore[assignment]
    assert {"check", "probe", "analyze", "diff", "go-insecure", "watch", "lab"} <= set(choices)

    def documented(name: str, subparser: Any) -> None:
        assert subparser.description, name
        own = f"{subparser.description} {subparser.epilog}".replace("\n", " ")
        assert "exit codes: 0 " in own or "Exit 0 " in own, name
        for action in subparser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child, grandchild in action.choices.items():
                    documented(f"{name} {child}", grandchild)

    for name, subparser in choices.items():
        documented(name, subparser)


def test_explain_takes_an_ede_number(capsys: pytest.CaptureFixture[str]) -> None:
    from dnssec_doctor.analysis.codes import CODES

    assert main(["explain", "9"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("EDE 9: DNSKEY Missing")
    expected = {c.code for c in CODES.values() if c.ede == 9}
    assert expected and all(code in out for code in expected)
    assert "RRSIG_EXPIRED" not in out  # EDE 7
    assert main(["explain", "99"]) == 4


@pytest.mark.lab
def test_brief_is_one_line_with_the_same_exit_code(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for name, code in (("www.rrsig-expired.lab", 2), ("www.secure-nsec.lab", 0)):
        assert main(["check", name, *lab_args, "--brief", "--color", "never"]) == code
        out = capsys.readouterr().out
        assert len(out.splitlines()) == 1, out
        assert out.startswith(f"{name}. A: ")


@pytest.mark.lab
def test_nagios_warning_and_critical_take_durations(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # The lab signs for about two weeks: 30 days is too soon for -c, 1 hour is fine.
    base = ["check", "--nagios", "www.secure-nsec.lab", *lab_args, "--no-resolvers"]
    assert main([*base, "-w", "40d", "-c", "30d"]) == 2
    assert capsys.readouterr().out.startswith("DNSSEC CRITICAL - ")
    assert main([*base, "-w", "40days", "-c", "1h"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("DNSSEC WARNING - ") and ";3456000:;3600:;;" in out
    assert main([*base, "-w", "1h"]) == 0


@pytest.mark.lab
def test_insecure_though_signed_exits_like_a_missing_ds(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    codes = {}
    for name in ("www.no-ds.lab", "www.unsupported-algorithm.lab", "www.ds-unsupported-digest.lab"):
        codes[name] = main(["check", name, *lab_args, "--no-resolvers", "--json"])
        assert json.loads(capsys.readouterr().out)["verdict"] == "insecure"
    assert set(codes.values()) == {1}, codes


def test_the_report_is_folded_to_the_terminal_width_never_cut() -> None:
    from dnssec_doctor import pipeline
    from dnssec_doctor.render.terminal import fold
    from dnssec_doctor.render.text import render_text

    snapshot = pipeline.read_snapshot(Path(__file__).parent / "data/snapshots/ds-bad-digest.json")
    report = pipeline.analyze(snapshot, pipeline.analysis_options(snapshot))
    whole = render_text(report)
    folded = render_text(report, width=60)
    assert max(len(line) for line in whole.splitlines()) > 60
    assert all(len(line) <= 60 for line in folded.splitlines())

    def squashed(text: str) -> str:
        return "".join(text.split())

    assert squashed(folded) == squashed(whole)  # every character kept, in order
    digest = "ab" * 40
    lines = fold(f"      parent DS     12345 13 2 {digest}", 40)
    assert all(len(line) <= 40 for line in lines) and len(lines) > 2
    assert squashed("".join(lines)).endswith(digest)
    assert all(line.startswith("          ") for line in lines[1:])  # hanging indent


@pytest.mark.lab
def test_the_incident_log_says_what_came_back(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    code, out = _run(
        capsys, "check", "www.rrsig-expired.lab", *lab_args, "--log", "--color", "never"
    )
    log = out.split("Incident log", 1)[1]
    assert code == 2 and "answered" not in log
    # Unbound's EDE: 7 (Signature Expired) fresh, 6 (DNSSEC Bogus) from its cache.
    assert re.search(r"@127\.53\.53\.1 \+dnssec \+rec .*SERVFAIL qr rd ra .*EDE [67] ", log), log
    assert re.search(r"\+norec .*NOERROR qr aa .*answer: www\.rrsig-expired\.lab\. A ", log), log
    code, out = _run(capsys, "check", "www.rrsig-expired.lab", *lab_args, "--json")
    queries = json.loads(out)["queries"]
    assert all({"rcode", "flags", "ede", "answer", "counts"} <= set(q) for q in queries)
    servfail = [
        q
        for q in queries
        if q["rcode"] == "SERVFAIL"
        and q["server"].startswith("127.53.53.1")
        and q["purpose"] == "resolver-do"
    ]
    assert servfail and any(e["code"] in (6, 7) for e in servfail[0]["ede"])
    assert "ra" in servfail[0]["flags"] and servfail[0]["answer"] == []
    answers = [
        q
        for q in queries
        if q["qname"] == "www.rrsig-expired.lab." and q["qtype"] == "A" and "aa" in q["flags"]
    ]
    assert answers and answers[0]["answer"][0].startswith("www.rrsig-expired.lab. A ")
    assert answers[0]["counts"]["answer"] >= 2  # the A and its RRSIG


@pytest.mark.lab
def test_a_non_validating_resolver_never_counts_as_validating(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # 127.53.53.4 is the lab's Unbound with validation off; .1 validates.
    code, out = _run(
        capsys,
        "check",
        "www.rrsig-expired.lab",
        *lab_args,
        "--resolver",
        "127.53.53.4",
        "--resolver",
        "127.53.53.1",
        "--json",
    )
    document = json.loads(out)
    by_address = {r["address"]: r for r in document["resolvers"]}
    assert by_address["127.53.53.4"]["validates"] is False
    assert by_address["127.53.53.1"]["validates"] is True
    assert code == 2
    # Alone, it is no witness: the validating view says so instead of "answer at 1/1".
    code, out = _run(
        capsys,
        "check",
        "www.secure-nsec.lab",
        *lab_args,
        "--resolver",
        "127.53.53.4",
        "--color",
        "never",
    )
    validating = next(line for line in out.splitlines() if line.strip().startswith("validating"))
    assert "no validating resolver answered" in validating and "1/1" not in validating
    assert "127.53.53.4 does not validate" in validating
    assert "not validating" in out.split("Resolvers", 1)[1]
