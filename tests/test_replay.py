"""Replay: the scripted transport, reading Unbound/Deckard scenarios, and `replay` itself
on scenarios signed here (secure, bogus, an island of trust, a DSA-signed zone)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import dns.message
import dns.rcode
import pytest
from dns.dnssectypes import Algorithm

from dnssec_doctor.cli import main
from dnssec_doctor.model.snapshot import Server
from dnssec_doctor.probe.transport import ScriptedTransport
from dnssec_doctor.replay.run import run_scenario
from dnssec_doctor.replay.scenario import ReplayFormatError, parse_scenario
from replay_support import scenario_text, signed_example


@pytest.fixture(scope="module")
def ed25519_zone() -> tuple[object, str]:
    return signed_example()


@pytest.fixture
def island(ed25519_zone, tmp_path: Path) -> Path:
    """The secure island of trust as a replay file."""
    zone, anchor = ed25519_zone
    path = tmp_path / "island.rpl"
    path.write_text(scenario_text(zone, anchor))
    return path


def test_a_silent_scripted_server_times_out_at_once() -> None:
    transport = ScriptedTransport(lambda query, server, tcp: None)
    query = dns.message.make_query("www.example.", "A")
    reply = asyncio.run(transport.exchange(query, Server("192.0.2.1"), tcp=False, timeout=30))
    assert (reply.response, reply.error) == (None, "timeout")
    assert transport.silent == 1


def test_a_scripted_answer_is_sent_as_bytes_malformed_or_not() -> None:
    answers: list[dns.message.Message | bytes] = [b"\x00\x01garbage"]
    transport = ScriptedTransport(lambda query, server, tcp: answers[0])
    query = dns.message.make_query("www.example.", "A")
    reply = asyncio.run(transport.exchange(query, Server("192.0.2.1"), tcp=True, timeout=1))
    assert reply.response == b"\x00\x01garbage" and reply.error is None
    answers[0] = dns.message.make_response(query)
    reply = asyncio.run(transport.exchange(query, Server("192.0.2.1"), tcp=False, timeout=1))
    assert dns.message.from_wire(reply.response or b"").id == query.id


def test_the_configuration_is_read_in_blocks_and_at_top_level(ed25519_zone) -> None:
    zone, anchor = ed25519_zone
    for top_level in (False, True):
        scenario = parse_scenario(scenario_text(zone, anchor, top_level=top_level))
        assert scenario.trust_anchors[0].startswith("example. 3600 IN DS ")
        assert scenario.root_addresses == ("192.0.2.1",)
        assert scenario.override_date == 1768435200.0  # 2026-01-15T00:00:00Z
        assert [s.kind for s in scenario.steps] == ["QUERY", "CHECK_ANSWER"]
        assert len(scenario.ranges) == 2 and len(scenario.ranges[1].entries) == 5


def test_a_secure_island_of_trust_agrees(ed25519_zone) -> None:
    zone, anchor = ed25519_zone
    (result,) = run_scenario(parse_scenario(scenario_text(zone, anchor)))
    assert result.expected.verdict == "secure"
    assert result.verdict == "secure" and result.agrees is True
    assert result.report is not None
    codes = {f.code for f in result.report.analysis.findings}
    assert "ZONE_OUTSIDE_TRUST_ANCHOR" in codes  # the root is not anchored: insecure
    zones = {z.zone: z.state.value for z in result.report.analysis.zones}
    assert zones == {".": "insecure", "example.": "secure"}


def test_a_wrong_anchor_is_bogus_and_so_expected(ed25519_zone) -> None:
    zone, anchor = ed25519_zone
    wrong = anchor[:-4] + ("0000" if not anchor.endswith("0000") else "1111")
    text = scenario_text(zone, wrong, expect="QR RD RA DO SERVFAIL")
    (result,) = run_scenario(parse_scenario(text))
    assert result.expected.verdict == "bogus"
    assert result.verdict == "bogus" and result.agrees is True


def test_an_ede_the_scenario_states_must_match(ed25519_zone) -> None:
    zone, anchor = ed25519_zone
    wrong = anchor[:-4] + ("0000" if not anchor.endswith("0000") else "1111")
    text = scenario_text(zone, wrong, expect="QR RD RA DO SERVFAIL", ede=7)
    (result,) = run_scenario(parse_scenario(text))
    assert result.verdict == "bogus" and result.report is not None
    assert result.report.diagnosis.ede != 7 and result.agrees is False


def test_a_dsa_zone_is_insecure_unless_the_profile_accepts_dsa_and_then_says_so() -> None:
    zone, anchor = signed_example(Algorithm.DSA)
    scenario = parse_scenario(scenario_text(zone, anchor))
    (plain,) = run_scenario(scenario)
    assert plain.verdict == "insecure" and plain.agrees is False
    assert plain.report is not None and plain.report.diagnosis.ede == 1
    (profiled,) = run_scenario(scenario, accepted_algorithms=frozenset({3}))
    assert profiled.verdict == "secure" and profiled.report is not None
    warned = [f for f in profiled.report.diagnosis.warnings]
    assert "ALGORITHM_ACCEPTED_BY_PROFILE" in {f.code for f in warned}


def test_replay_json_has_one_step_per_query_with_the_check_report(
    island: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(island), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    (step,) = document["steps"]
    assert (step["qname"], step["qtype"]) == ("www.example.", "A")
    assert step["expected"] == {
        "rcode": "NOERROR",
        "flags": ["AD", "DO", "QR", "RA", "RD"],
        "ede": None,
        "verdict": "secure",
        "line": step["expected"]["line"],
    }
    assert step["report"]["verdict"] == "secure" and step["agrees"] is True
    assert {"name", "type", "verdict", "causes", "queries"} <= set(step["report"])


def test_replay_text_puts_our_verdict_beside_the_expected_one(
    ed25519_zone, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zone, anchor = ed25519_zone
    path = tmp_path / "island.rpl"
    path.write_text(scenario_text(zone, anchor, expect="QR RD RA DO SERVFAIL"))
    assert main(["replay", str(path)]) == 2  # a step differs
    out = capsys.readouterr().out
    assert "expected: SERVFAIL DO QR RA RD -> bogus" in out
    assert "ours:     secure" in out and "=> DIFFER" in out


_EMPTY = "SCENARIO_BEGIN x\nSCENARIO_END\n"
BAD_FILES = {
    "empty": ("", "not a replay file"),
    "no scenario": ("server:\n\tval-override-date: 1\nCONFIG_END\n", "no SCENARIO_BEGIN"),
    "cut short": ("CONFIG_END\nSCENARIO_BEGIN x\nRANGE_BEGIN 0 100\n", "no RANGE_END"),
    "bad range": ("CONFIG_END\nSCENARIO_BEGIN x\nRANGE_BEGIN a b\n", "two step numbers"),
    "bad record": (
        "CONFIG_END\nSCENARIO_BEGIN x\nRANGE_BEGIN 0 1\nENTRY_BEGIN\nSECTION ANSWER\n"
        "www. IN A not-an-address\nENTRY_END\nRANGE_END\nSCENARIO_END\n",
        ":6: bad record",
    ),
    "bad reply word": (
        "CONFIG_END\nSCENARIO_BEGIN x\nSTEP 1 QUERY\nENTRY_BEGIN\nREPLY XX\nENTRY_END\n",
        "unknown REPLY word",
    ),
    "bad anchor": (
        'server:\n\ttrust-anchor: "example. IN A 1.2.3.4"\nCONFIG_END\n' + _EMPTY,
        "trust-anchor",
    ),
    "bad date": (
        'server:\n\tval-override-date: "yesterday"\nCONFIG_END\n' + _EMPTY,
        "override-date",
    ),
    "binary": ("\x00\x01\x02", "or CONFIG_END"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_replay_file_is_one_line_and_exit_4(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, message = BAD_FILES[case]
    path = tmp_path / "bad.rpl"
    path.write_text(text)
    with pytest.raises(ReplayFormatError):
        parse_scenario(text, str(path))
    assert main(["replay", str(path)]) == 4
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_file_that_is_not_utf8_or_missing_is_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin.rpl"
    path.write_bytes(b"\xff\xfe CONFIG_END")
    assert main(["replay", str(path)]) == 4
    assert main(["replay", str(tmp_path / "missing.rpl")]) == 4
    assert capsys.readouterr().err.count("\n") == 2


def test_unknown_profile_algorithms_are_usage_errors(
    island: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(island), "--accept-algorithm", "ED25519"]) == 4
    assert "not a retired algorithm" in capsys.readouterr().err


def test_a_name_outside_every_anchor_is_insecure_and_says_why(ed25519_zone) -> None:
    zone, anchor = ed25519_zone
    elsewhere = anchor.replace("example.", "other.", 1)
    text = scenario_text(zone, elsewhere, expect="QR RD RA DO NOERROR")
    (result,) = run_scenario(parse_scenario(text))
    assert result.expected.verdict == "insecure"
    assert result.verdict == "insecure" and result.agrees is True
    assert result.report is not None
    assert result.report.diagnosis.causes[0].code == "ZONE_OUTSIDE_TRUST_ANCHOR"
    assert result.report.diagnosis.zone == "."
