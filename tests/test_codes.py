"""The code table: unique, documented, every template's parameters filled by its users."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dnssec_doctor.analysis.codes import CODES, UnknownCode, lookup, make_finding
from dnssec_doctor.model.finding import Severity

SRC = Path(__file__).parents[1] / "src" / "dnssec_doctor"


def test_codes_are_upper_snake_and_documented() -> None:
    for name, code in CODES.items():
        assert name == code.code
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", name), name
        for section in (code.summary, code.meaning, code.why, code.fix, code.risk):
            assert section.strip(), f"{name} has an empty section"
        if code.ede is not None:
            assert 0 <= code.ede <= 30


def test_every_code_is_emitted_somewhere() -> None:
    """No dead entries: each code appears as a literal in the source outside the table."""
    sources = "\n".join(p.read_text() for p in SRC.rglob("*.py") if p.name != "codes.py")
    unused = [name for name in CODES if f'"{name}"' not in sources]
    assert unused == []


def test_make_finding_fills_the_template_and_takes_severity_from_the_table() -> None:
    finding = make_finding(
        "RRSIG_EXPIRED",
        zone="example.",
        subject="www.example./A",
        rrset="www.example./A",
        key_tag=12345,
        delta="3 days ago",
        expiration="2026-11-17T00:00:00Z",
    )
    assert finding.severity is Severity.ERROR
    assert finding.ede == 7
    assert finding.summary == (
        "the RRSIG over www.example./A by key 12345 expired 3 days ago (2026-11-17T00:00:00Z)"
    )


def test_missing_parameters_and_unknown_codes_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="needs parameters"):
        make_finding("RRSIG_EXPIRED", zone="example.", subject="x")
    with pytest.raises(UnknownCode):
        lookup("NO_SUCH_CODE")
