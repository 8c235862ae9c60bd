"""A check that crashes becomes a CHECK_CRASHED finding and the other checks still run
(analysis/chain.py ``guarded``): a bug in one check must not cost the user the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from dnssec_doctor.analysis import chain
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.pipeline import analyze, exit_code, read_snapshot

SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"


def test_a_crashing_check_is_a_finding_and_the_rest_still_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snapshot = read_snapshot(SNAPSHOTS / "secure-nsec.json")
    options = AnalysisOptions(now=snapshot.finished_at)
    healthy = analyze(snapshot, options)

    def broken(*args: object) -> list[object]:
        raise RuntimeError("a bug in the server check")

    monkeypatch.setattr(chain, "check_servers", broken)  # the bug, stood in for
    report = analyze(snapshot, options)
    crashed = [f for f in report.analysis.findings if f.code == "CHECK_CRASHED"]
    assert crashed and all(f.params["check"] == "servers" for f in crashed)
    assert "RuntimeError: a bug in the server check" in str(crashed[0].params["error"])
    # Every other check ran: the same verdict, and a warning exit (never a clean bill).
    assert report.diagnosis.verdict is healthy.diagnosis.verdict
    assert exit_code(report.diagnosis) == 1
