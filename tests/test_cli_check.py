"""The command line as a user meets it: ``python -m dnssec_doctor`` in a subprocess, its
exit codes, its JSON contract, and one clear line on standard error for every bad input.

Tests marked ``lab`` run against the lab's real servers (``--lab --lab-dir``); the others
need no lab. Every check and probe here passes ``--lab``, which restricts the probe to
loopback, so nothing is ever asked outside 127.0.0.0/8.
"""

from __future__ import annotations

import calendar
import datetime
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dnssec_doctor.analysis.codes import CODES
from dnssec_doctor.cli import main
from dnssec_doctor.lab import runtime
from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.model.diagnosis import Actor, PathRole, StepKind
from dnssec_doctor.model.verdict import Verdict

SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"
VERDICTS = {"secure", "insecure", "bogus", "partial", "unreachable", "indeterminate"}
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def doctor(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dnssec_doctor", *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit 4, nothing on stdout, exactly one line on stderr naming the problem."""
    assert result.returncode == 4, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dnssec-doctor: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def lab_args(lab: LabProfile) -> Iterator[list[str]]:
    """The options that point a check at the running lab. The caches are emptied after
    this module: the resolver tests want every scenario's answer fresh, with its EDE."""
    yield ["--lab", "--lab-dir", str(lab.directory), "--timeout", "1", "--deadline", "10"]
    runtime.flush_resolvers(lab.directory)


@pytest.fixture
def no_lab(tmp_path: Path) -> list[str]:
    """--lab pointing at a directory where no lab runs: a check that got as far as the
    probe would stop with "the lab is not up" instead of sending anything."""
    empty = tmp_path / "no-lab"
    empty.mkdir()
    return ["--lab", "--lab-dir", str(empty)]


# --- exit codes -----------------------------------------------------------------------

EXIT_CODES = [
    ("www.secure-nsec.lab", 0),
    ("www.expiring-soon.lab", 1),  # healthy with a warning: signatures expire in 36 hours
    ("www.ds-stale-extra.lab", 1),  # healthy with a warning: a stale DS beside the good one
    ("www.rrsig-expired.lab", 2),
    ("www.stale-secondary.lab", 2),  # partial: one server serves expired signatures
    ("www.lame.lab", 3),  # not DNSSEC: nothing answers for the zone
]


@pytest.mark.lab
@pytest.mark.parametrize("output", ["text", "json"])
@pytest.mark.parametrize(("name", "code"), EXIT_CODES, ids=[n for n, _ in EXIT_CODES])
def test_check_exit_code(lab_args: list[str], name: str, code: int, output: str) -> None:
    extra = ["--json"] if output == "json" else []
    result = doctor("check", name, *lab_args, *extra)
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stderr == ""
    if output == "json":
        assert json.loads(result.stdout)["name"] == name + "."
    else:
        assert result.stdout.startswith(f"{name}. A: ")


def test_usage_errors_exit_4() -> None:
    result = doctor("check", "www.secure-nsec.lab", "--no-such-option")
    assert result.returncode == 4
    assert "unrecognized arguments: --no-such-option" in result.stderr
    assert doctor().returncode == 4  # no command at all
    assert doctor("frobnicate").returncode == 4
    assert doctor("check").returncode == 4  # no name


# --- the JSON contract -------------------------------------------------------------------


def assert_json_contract(report: dict[str, Any]) -> None:
    """The keys other tools rely on (render/json.py), with their types."""
    assert isinstance(report["name"], str) and report["name"].endswith(".")
    assert isinstance(report["type"], str) and report["type"].isupper()
    assert report["verdict"] in VERDICTS
    assert report["ede"] is None or type(report["ede"]) is int
    assert report["zone"] is None or (
        isinstance(report["zone"], str) and report["zone"].endswith(".")
    )
    assert isinstance(report["causes"], list)
    for cause in report["causes"]:
        assert cause["code"] in CODES
        assert isinstance(cause["summary"], str) and cause["summary"]
    assert isinstance(report["recovery"]["paths"], list)
    for path in report["recovery"]["paths"]:
        assert path["role"] in {role.value for role in PathRole}
        assert type(path["eta_seconds"]) is int and path["eta_seconds"] >= 0
        for step in path["steps"]:
            assert isinstance(step["action"], str) and step["action"]
            assert step["actor"] in {actor.value for actor in Actor}
            assert step["kind"] in {kind.value for kind in StepKind}
            assert step["wait_seconds"] is None or type(step["wait_seconds"]) is int
    assert isinstance(report["resolvers"], list)
    for resolver in report["resolvers"]:
        assert isinstance(resolver["address"], str)
        assert resolver["rcode"] is None or isinstance(resolver["rcode"], str)
        assert type(resolver["ad"]) is bool
        for ede in resolver["ede"]:
            assert set(ede) == {"code", "text"}
            assert type(ede["code"]) is int and isinstance(ede["text"], str)
        assert resolver["cd_rcode"] is None or isinstance(resolver["cd_rcode"], str)
    assert isinstance(report["servers"], list) and report["servers"]
    for server in report["servers"]:
        assert isinstance(server["server"], str) and server["zone"].endswith(".")
    assert isinstance(report["queries"], list) and report["queries"]
    for query in report["queries"]:
        assert ISO_TIME.match(query["time"]), query
        assert query["dig"].startswith("dig @"), query


@pytest.mark.lab
def test_json_contract_of_a_bogus_answer(lab: LabProfile, lab_args: list[str]) -> None:
    runtime.flush_resolvers(lab.directory)  # a fresh answer carries the resolvers' EDE
    result = doctor("check", "www.rrsig-expired.lab", *lab_args, "--json")
    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    assert_json_contract(report)
    assert (report["name"], report["type"], report["verdict"]) == (
        "www.rrsig-expired.lab.",
        "A",
        "bogus",
    )
    assert (report["ede"], report["zone"]) == (7, "rrsig-expired.lab.")
    assert report["causes"][0]["code"] == "RRSIG_EXPIRED"
    assert report["recovery"]["paths"][0]["steps"][0]["actor"] == "DNS operator"
    assert {r["address"] for r in report["resolvers"]} == {
        r.address for r in lab.validating_resolvers
    }
    assert all(r["rcode"] == "SERVFAIL" and r["cd_rcode"] == "NOERROR" for r in report["resolvers"])
    assert 7 in {e["code"] for r in report["resolvers"] for e in r["ede"]}
    servers = [s for s in report["servers"] if s["zone"] == "rrsig-expired.lab."]
    assert [s["server"] for s in servers] == ["ns1.rrsig-expired.lab. (127.53.2.11)"]
    assert servers[0]["state"] == "bogus" and servers[0]["answered"] is True
    assert all(q["dig"].split()[1].startswith("@127.") for q in report["queries"])


@pytest.mark.parametrize("slug", sorted(p.stem for p in SNAPSHOTS.glob("*.json")))
def test_json_contract_of_every_committed_snapshot(slug: str) -> None:
    result = doctor("analyze", SNAPSHOTS / f"{slug}.json", "--json")
    assert result.returncode in (0, 1, 2, 3), result.stderr
    assert_json_contract(json.loads(result.stdout))


def test_null_ede_and_zone_of_a_secure_answer() -> None:
    report = json.loads(doctor("analyze", SNAPSHOTS / "secure-nsec.json", "--json").stdout)
    assert (report["verdict"], report["ede"], report["zone"]) == ("secure", None, None)
    assert report["causes"] == [] and report["recovery"]["paths"] == []


# --- --at: judging signature windows at another moment -------------------------------------


@pytest.mark.lab
def test_at_three_days_later_expiring_soon_is_bogus(lab_args: list[str]) -> None:
    now = doctor("check", "www.expiring-soon.lab", *lab_args, "--json")
    assert now.returncode == 1 and json.loads(now.stdout)["verdict"] == "secure"
    later = doctor("check", "www.expiring-soon.lab", *lab_args, "--json", "--at", "+3d")
    assert later.returncode == 2, later.stderr
    report = json.loads(later.stdout)
    assert report["verdict"] == "bogus"
    assert report["causes"][0]["code"] == "RRSIG_EXPIRED"
    assert report["ede"] == 7
    assert report["judged_at"] > report["collected_at"]


def test_at_accepts_every_documented_form() -> None:
    snapshot = SNAPSHOTS / "secure-nsec.json"
    finished_at = json.loads(snapshot.read_text())["finished_at"]
    december = calendar.timegm((2026, 12, 1, 0, 0, 0))
    forms = {
        "+3d": finished_at + 3 * 86400,
        "-12h": finished_at - 12 * 3600,  # a separate argument that starts with "-"
        "@1795000000": 1795000000,
        "2026-12-01T00:00:00Z": december,
        "2026-12-01T00:00:00": december,  # no zone: UTC
        "2026-12-01T01:00:00+01:00": december,
    }
    for form, moment in forms.items():
        result = doctor("analyze", snapshot, "--json", "--at", form)
        assert result.returncode in (0, 1, 2), (form, result.stderr)
        judged = json.loads(result.stdout)["judged_at"]
        expected = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
        assert judged == expected, form
    assert doctor("analyze", snapshot, "--at=-12h").returncode == 0


@pytest.mark.parametrize(
    "moment", ["garbage", "@abc", "+3x", "@nan", "@inf", "@1e20", "+99999999999d", "@-1"]
)
def test_bad_at_is_one_line_exit_4(moment: str) -> None:
    result = doctor("analyze", SNAPSHOTS / "secure-nsec.json", "--at", moment)
    assert_one_line_error(result, "invalid --at")


@pytest.mark.lab
@pytest.mark.parametrize("command", ["--json", "--nagios"])
def test_at_a_moment_before_now_is_taken_by_check(lab_args: list[str], command: str) -> None:
    """--at -12h (the help's own example): judged twelve hours before the collection,
    not refused as a moment before 1970 (the shift was checked against the epoch)."""
    result = doctor("check", "www.secure-nsec.lab", *lab_args, command, "--at", "-12h")
    assert result.returncode in (0, 1, 2), result.stderr
    if command == "--json":
        report = json.loads(result.stdout)
        judged, collected = (
            datetime.datetime.fromisoformat(report[key].replace("Z", "+00:00"))
            for key in ("judged_at", "collected_at")
        )
        assert abs((collected - judged).total_seconds() - 43200) <= 1
    else:
        assert not result.stdout.startswith("DNSSEC UNKNOWN"), result.stdout


def test_no_resolvers_and_resolver_together_are_refused(no_lab: list[str]) -> None:
    result = doctor(
        "check", "www.secure-nsec.lab", *no_lab, "--no-resolvers", "--resolver", "127.0.0.1"
    )
    assert_one_line_error(result, "--no-resolvers and --resolver ask for two things")


def test_bad_at_stops_check_before_any_query(no_lab: list[str]) -> None:
    """--at is read before the probe: with no lab running, the complaint is --at's."""
    result = doctor("check", "www.secure-nsec.lab", *no_lab, "--at", "garbage")
    assert_one_line_error(result, "invalid --at 'garbage'")


# --- probe + analyze = check -----------------------------------------------------------


@pytest.mark.lab
@pytest.mark.parametrize("name", ["www.rrsig-expired.lab", "www.stale-secondary.lab"])
def test_probe_then_analyze_gives_what_check_gives(
    lab_args: list[str], tmp_path: Path, name: str
) -> None:
    moment = f"@{int(time.time())}"
    snapshot = tmp_path / "snapshot.json"
    probed = doctor("probe", name, *lab_args, "-o", snapshot)
    assert probed.returncode == 0, probed.stderr
    assert f"snapshot written to {snapshot}" in probed.stdout
    offline = doctor("analyze", snapshot, "--json", "--at", moment)
    checked = doctor("check", name, *lab_args, "--json", "--at", moment)
    assert offline.returncode == checked.returncode == 2
    first, second = json.loads(offline.stdout), json.loads(checked.stdout)
    for key in ("name", "type", "verdict", "ede", "zone", "causes", "recovery", "headline"):
        assert first[key] == second[key], key


@pytest.mark.lab
def test_check_snapshot_analyzes_to_the_same_report(lab_args: list[str], tmp_path: Path) -> None:
    snapshot = tmp_path / "check.json"
    checked = doctor("check", "www.ds-bad-digest.lab", *lab_args, "--json", "-o", snapshot)
    report = json.loads(checked.stdout)
    finished_at = json.loads(snapshot.read_text())["finished_at"]
    offline = doctor("analyze", snapshot, "--json", "--at", f"@{finished_at!r}")
    assert offline.returncode == checked.returncode == 2
    assert json.loads(offline.stdout) == report


# --- bad input: one line, exit 4, no traceback ------------------------------------------------

BAD_NAMES = {
    "empty label": ("a..b", "invalid name 'a..b'"),
    "64-octet label": ("a" * 64 + ".lab", "longer than 63 octets"),
    "name over 255 octets": (".".join(["a" * 60] * 5), "longer than 255 octets"),
    "empty name": ("", "the name is empty"),
}


@pytest.mark.parametrize("command", ["check", "probe"])
@pytest.mark.parametrize("case", BAD_NAMES, ids=list(BAD_NAMES))
def test_invalid_name(no_lab: list[str], tmp_path: Path, command: str, case: str) -> None:
    name, message = BAD_NAMES[case]
    output = ["-o", str(tmp_path / "out.json")] if command == "probe" else []
    result = doctor(command, name, *no_lab, *output)
    assert_one_line_error(result, message)
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(
    ("rdtype", "message"),
    [
        ("FOO", "unknown record type 'FOO'"),
        ("TYPE65536", "unknown record type"),
        ("AXFR", "AXFR is not a type dnssec-doctor can check"),
        ("ixfr", "IXFR is not a type"),
        ("ANY", "ANY is not a type"),
    ],
)
def test_unknown_or_refused_type(no_lab: list[str], rdtype: str, message: str) -> None:
    assert_one_line_error(doctor("check", "www.secure-nsec.lab", rdtype, *no_lab), message)


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "missing": tmp_path / "missing.json",
        "directory": tmp_path,
        "not json": tmp_path / "garbage.json",
        "binary": tmp_path / "binary.json",
        "json, not a snapshot": tmp_path / "other.json",
        "json list": tmp_path / "list.json",
        "bad version": tmp_path / "version.json",
        "truncated snapshot": tmp_path / "truncated.json",
    }
    files["not json"].write_text("this is not { json\n")
    files["binary"].write_bytes(bytes(range(256)))
    files["json, not a snapshot"].write_text('{"name": "www.example.", "verdict": "secure"}')
    files["json list"].write_text("[1, 2, 3]")
    snapshot = json.loads((SNAPSHOTS / "secure-nsec.json").read_text())
    files["bad version"].write_text(json.dumps({**snapshot, "version": 99}))
    del snapshot["exchanges"]
    files["truncated snapshot"].write_text(json.dumps(snapshot))
    return files


ANALYZE_ERRORS = {
    "missing": "No such file or directory",
    "directory": "it is a directory",
    "not json": "is not JSON",
    "binary": "not UTF-8 text",
    "json, not a snapshot": "not a dnssec-doctor snapshot",
    "json list": "not a dnssec-doctor snapshot",
    "bad version": "snapshot version 99 is not supported",
    "truncated snapshot": "malformed snapshot",
}


@pytest.mark.parametrize("case", ANALYZE_ERRORS)
def test_analyze_unreadable_or_malformed(bad_files: dict[str, Path], case: str) -> None:
    result = doctor("analyze", bad_files[case])
    assert_one_line_error(result, str(bad_files[case]), ANALYZE_ERRORS[case])


@pytest.mark.lab
@pytest.mark.parametrize("option", ["--root-hints", "--trust-anchor"])
@pytest.mark.parametrize("case", ["missing", "directory", "not json", "binary", "json list"])
def test_unreadable_or_malformed_hints_and_anchor(
    lab_args: list[str], bad_files: dict[str, Path], option: str, case: str
) -> None:
    """Neither a zone file nor readable: one line naming the file, before any query."""
    result = doctor("check", "www.secure-nsec.lab", *lab_args, option, bad_files[case])
    assert_one_line_error(result, str(bad_files[case]))


@pytest.mark.lab
def test_trust_anchor_of_the_wrong_record_type(lab_args: list[str], tmp_path: Path) -> None:
    anchor = tmp_path / "anchor"
    anchor.write_text(". 3600 IN A 127.0.0.1\n")
    result = doctor("check", "www.secure-nsec.lab", *lab_args, "--trust-anchor", anchor)
    assert_one_line_error(result, "must be a DS or DNSKEY record")
    hints = tmp_path / "hints"
    hints.write_text("example. 3600 IN NS ns.example.\n")
    result = doctor("check", "www.secure-nsec.lab", *lab_args, "--root-hints", hints)
    assert_one_line_error(result, "no NS records for the root")


def test_lab_option_without_a_running_lab(no_lab: list[str], tmp_path: Path) -> None:
    for command in (["check", "www.secure-nsec.lab"], ["probe", "x.lab", "-o", tmp_path / "o"]):
        result = doctor(*command, *no_lab)
        # An environment problem (5), as from every command that needs the lab.
        assert result.returncode == 5, (result.returncode, result.stderr)
        assert result.stdout == "" and len(result.stderr.splitlines()) == 1
        assert "the lab is not up" in result.stderr and "lab up" in result.stderr


def test_explain_unknown_code() -> None:
    assert_one_line_error(doctor("explain", "NOPE"), "unknown code 'NOPE'", "dnssec-doctor codes")


def test_closed_stdout_is_no_traceback() -> None:
    """dnssec-doctor ... | head: the reader goes away before the report is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dnssec_doctor", "analyze", SNAPSHOTS / "lame.json", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    errors = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == 141
    assert errors == ""


# --- codes and explain --------------------------------------------------------------------


def test_codes_lists_every_code() -> None:
    result = doctor("codes")
    assert result.returncode == 0
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert listed == list(CODES)
    as_json = json.loads(doctor("codes", "--json").stdout)
    assert [entry["code"] for entry in as_json] == list(CODES)


@pytest.mark.parametrize("code", ["RRSIG_EXPIRED", "rrsig_expired"])
def test_explain_prints_every_section(code: str) -> None:
    result = doctor("explain", code)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("RRSIG_EXPIRED (rrsig, error — a validator attaches EDE 7)")
    sections = ["What it means", "Why validation breaks", "How to fix it", "Recovery risk"]
    positions = [lines.index(section) for section in sections]
    assert positions == sorted(positions)
    for position in positions:  # each heading is followed by its indented text
        assert lines[position + 1].startswith("  ") and lines[position + 1].strip()


def test_every_code_explains_itself(capsys: pytest.CaptureFixture[str]) -> None:
    for code in CODES:  # in-process: one interpreter, not one per code
        assert main(["explain", code]) == 0
        shown = capsys.readouterr().out
        assert shown.startswith(code + " (") and "How to fix it" in shown, code


def test_verdict_values_are_the_contract() -> None:
    assert {v.value for v in Verdict} == VERDICTS
