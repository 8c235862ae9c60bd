"""The code table: unique, documented, every template's parameters filled by its users."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from dnssec_doctor.analysis.codes import CODES, Family, Status, UnknownCode, lookup, make_finding
from dnssec_doctor.diagnosis.recovery import PLANNERS
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


# --- the table is the single source of every per-code fact --------------------------------

# The modules that emit findings, each with the EMITS it declares: the live chain's checks
# (what check and analyze run) and zone verify (which also runs the key and signature
# checks, and in C the signature rules: verify/_scan.c).
CHAIN_CHECKS = tuple(
    sorted(
        path.stem
        for path in (SRC / "analysis").glob("*.py")
        if path.name != "codes.py" and "make_finding(" in path.read_text()
    )
)


def _chain_emits() -> dict[str, tuple[str, ...]]:
    return {
        name: importlib.import_module(f"dnssec_doctor.analysis.{name}").EMITS
        for name in CHAIN_CHECKS
    }


def _code_literals(path: Path) -> set[str]:
    """The codes a source file names: a check module names only codes it emits."""
    if path.suffix == ".c":
        return set(re.findall(r'"([A-Z][A-Z0-9_]+)"', path.read_text())) & CODES.keys()
    tree = ast.parse(path.read_text(), filename=str(path))
    emits_node = next(
        (
            node
            for node in tree.body
            if isinstance(node, ast.AnnAssign | ast.Assign)
            and "EMITS" in ast.unparse(node).split("=")[0]
        ),
        None,
    )
    inside = {id(n) for n in ast.walk(emits_node)} if emits_node is not None else set()
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in CODES
        and id(node) not in inside
    }


@pytest.mark.parametrize("name", CHAIN_CHECKS)
def test_a_check_emits_only_codes_it_declares(name: str) -> None:
    declared = set(_chain_emits()[name])
    named = _code_literals(SRC / "analysis" / f"{name}.py")
    assert named - declared == set(), f"analysis/{name}.py emits codes missing from its EMITS"
    # keys re-declares what it runs of signatures; every other declaration is its own.
    borrowed = set(_chain_emits()["signatures"]) if name == "keys" else set()
    assert declared - named - borrowed == set(), f"analysis/{name}.py declares codes it never names"


def test_zone_verify_emits_only_codes_it_declares() -> None:
    from dnssec_doctor.analysis.keys import EMITS as KEY_CODES
    from dnssec_doctor.verify.zone import EMITS as ZONE_CODES

    declared = set(ZONE_CODES) | set(KEY_CODES)
    for path in (SRC / "verify" / "zone.py", SRC / "verify" / "_scan.c"):
        assert _code_literals(path) - declared == set(), path.name


def test_every_code_is_declared_by_a_check() -> None:
    from dnssec_doctor.verify.zone import EMITS as ZONE_CODES

    declared = {c for codes in _chain_emits().values() for c in codes} | set(ZONE_CODES)
    stable = {name for name, code in CODES.items() if code.status is Status.STABLE}
    assert stable - declared == set()


def test_every_cause_of_a_failure_has_a_rank_and_a_planner() -> None:
    """An error the check can find is a primary cause: it needs its rank, or the
    diagnosis never names it, and its recovery planner, or the plan is empty. Resolver
    findings are the symptom seen from outside, never the cause."""
    chain_codes = {c for codes in _chain_emits().values() for c in codes}
    for name in sorted(chain_codes):
        code = CODES[name]
        if code.severity is Severity.ERROR and code.family is not Family.RESOLVERS:
            assert code.rank is not None, f"{name} is an error without a rank as a cause"
    for name, code in CODES.items():
        if code.rank is not None:
            assert name in PLANNERS, f"{name} can be a primary cause but has no planner"
    assert set(PLANNERS) <= {name for name, code in CODES.items() if code.rank is not None}


def test_ranks_are_unique_and_every_code_says_who_acts() -> None:
    ranks = [code.rank for code in CODES.values() if code.rank is not None]
    assert len(ranks) == len(set(ranks))
    for name, code in CODES.items():
        assert code.actor is not None, f"{name} does not say who acts"
        if code.exit_warning:
            assert code.severity is Severity.WARNING, name
        if code.ends_chain:
            assert code.rank is not None, name


def test_the_cause_ranking_follows_the_table() -> None:
    """The diagnosis ranks by the table: a DS mismatch before an expired signature in the
    same zone, and an insecure delegation's reason first when the answer is insecure."""
    from dnssec_doctor.diagnosis.rules import rank_key

    ds = make_finding("DS_FOR_UNSIGNED_ZONE", zone="example.", subject="DS 1/13/2")
    unsigned = make_finding("ZONE_UNSIGNED", zone="example.", subject="example.")
    assert rank_key(ds, insecure=False) < rank_key(unsigned, insecure=False)
    assert rank_key(unsigned, insecure=True) < rank_key(ds, insecure=True)
    notice = make_finding(
        "IPV6_SKIPPED",
        zone=None,
        subject="IPv6",
        count=1,
        servers_text="ns.example. (2001:db8::53)",
    )
    assert rank_key(notice, insecure=False) is None


def test_codes_and_explain_show_the_table_facts(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from dnssec_doctor.cli import main

    assert main(["codes", "--json"]) == 0
    listed = {entry["code"]: entry for entry in json.loads(capsys.readouterr().out)}
    entry = listed["DS_DIGEST_MISMATCH"]
    assert (entry["link"], entry["actor"], entry["rank"]) == ("ds", "registrar", 60)
    assert listed["RRSIG_EXPIRES_SOON"]["exit_warning"] is True
    assert listed["ZONE_UNSIGNED"]["ends_chain"] is True
    assert main(["explain", "DS_DIGEST_MISMATCH"]) == 0
    facts = capsys.readouterr().out.split("Facts\n", 1)[1].splitlines()[0]
    assert facts == "  who acts: registrar; breaks the ds link; cause rank 60"
