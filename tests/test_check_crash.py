"""A check that crashes becomes a CHECK_CRASHED finding, the other checks still run, and
the verdict never rests on the silence of the check that crashed: what it should have
proven is indeterminate, not secure.

The data is a signed island of trust replayed from a scenario built in Python
(tests/replay_support.py); the crash is forced by making one check raise.
"""

from __future__ import annotations

from typing import Any

import dns.rdatatype
import dns.rrset
import pytest

from dnssec_doctor.analysis import signatures
from dnssec_doctor.diagnosis.report import Report
from dnssec_doctor.model.verdict import Verdict
from dnssec_doctor.pipeline import exit_code
from dnssec_doctor.replay.run import run_scenario
from dnssec_doctor.replay.scenario import parse_scenario
from replay_support import scenario_text, signed_example


@pytest.fixture(scope="module")
def island() -> str:
    zone, anchor = signed_example()
    return scenario_text(zone, anchor)


def check_island(text: str) -> Report:
    (result,) = run_scenario(parse_scenario(text))
    assert result.report is not None
    return result.report


def crash_on(rdtype: dns.rdatatype.RdataType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the signature check raise for RRsets of ``rdtype`` only."""
    judge = signatures.check_rrset_signatures

    def crashing(rrset: dns.rrset.RRset, *args: Any, **kwargs: Any) -> Any:
        if rrset.rdtype == rdtype:
            raise RuntimeError("the check exploded")
        return judge(rrset, *args, **kwargs)

    monkeypatch.setattr(signatures, "check_rrset_signatures", crashing)


def test_the_island_is_secure_when_nothing_crashes(island: str) -> None:
    report = check_island(island)
    assert report.diagnosis.verdict is Verdict.SECURE
    assert "CHECK_CRASHED" not in {f.code for f in report.analysis.findings}


def test_a_crashed_answer_check_is_indeterminate_not_secure(
    island: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_on(dns.rdatatype.A, monkeypatch)
    report = check_island(island)
    crashed = [f for f in report.analysis.findings if f.code == "CHECK_CRASHED"]
    assert crashed and "RuntimeError: the check exploded" in crashed[0].summary
    assert report.diagnosis.verdict is Verdict.INDETERMINATE
    assert exit_code(report.diagnosis) == 3
    # The other checks ran: the zone's keys were judged and validated.
    (zone,) = [z for z in report.analysis.zones if z.zone == "example."]
    assert zone.state.value == "secure"


def test_a_crashed_check_of_the_zone_apex_is_indeterminate(
    island: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_on(dns.rdatatype.SOA, monkeypatch)
    report = check_island(island)
    assert "CHECK_CRASHED" in {f.code for f in report.analysis.findings}
    (zone,) = [z for z in report.analysis.zones if z.zone == "example."]
    assert zone.state.value == "indeterminate"
    assert report.diagnosis.verdict is Verdict.INDETERMINATE
