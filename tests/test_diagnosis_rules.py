"""Diagnosis rules on hand-built analyses: verdict, primary cause, exit code, safe order."""

from __future__ import annotations

from dnssec_doctor.analysis.chain import Analysis, ChainState, ZoneAssessment
from dnssec_doctor.analysis.codes import make_finding
from dnssec_doctor.diagnosis.rules import diagnose
from dnssec_doctor.model.diagnosis import Actor
from dnssec_doctor.model.finding import Finding
from dnssec_doctor.model.verdict import Verdict

NOW = 1_800_000_000.0
DS = "example.lab. 120 IN DS 111 13 2 " + "aa" * 32
LIVE = "example.lab. IN DS 222 13 2 " + "bb" * 32


def _zone(
    zone: str, parent: str | None, state: ChainState, findings: tuple[Finding, ...] = ()
) -> ZoneAssessment:
    return ZoneAssessment(
        zone=zone,
        parent=parent,
        via="www.example.lab.",
        state=state,
        servers=(),
        ds_records=(DS,) if zone == "example.lab." else (),
        dnskey_records=(),
        ds_to_publish=(LIVE,) if zone == "example.lab." else (),
        findings=findings,
        ds_ttl=120,
    )


def _analysis(state: ChainState, findings: tuple[Finding, ...]) -> Analysis:
    zones = (
        _zone(".", None, ChainState.SECURE),
        _zone("lab.", ".", ChainState.SECURE),
        _zone("example.lab.", "lab.", state, findings),
    )
    return Analysis(
        name="www.example.lab.",
        rdtype="A",
        now=NOW,
        collected_at=NOW,
        zones=zones,
        state=state,
        resolvers=(),
        findings=findings,
        answer_findings=(),
    )


def _finding(code: str, **params: object) -> Finding:
    return make_finding(code, zone="example.lab.", subject="example.lab.", **params)  # type: ignore[arg-type]


def test_stale_ds_is_replaced_at_the_registrar_with_the_live_ksk_ds() -> None:
    cause = _finding("DS_NO_MATCHING_KEY", key_tag=111, algorithm=13, digest_type=2)
    diagnosis = diagnose(_analysis(ChainState.BOGUS, (cause,)))
    assert (diagnosis.verdict, diagnosis.ede, diagnosis.zone) == (Verdict.BOGUS, 9, "example.lab.")
    assert diagnosis.exit_code == 2
    publish, remove = diagnosis.recovery[:2]
    assert (publish.actor, publish.records) == (Actor.REGISTRAR, (LIVE,))
    assert (remove.actor, remove.records) == (Actor.REGISTRAR, (DS,))
    assert remove.wait_seconds >= 120  # the DS TTL observed at the parent


def test_ds_left_on_an_unsigned_zone_never_advises_turning_signing_off_first() -> None:
    cause = _finding("DS_FOR_UNSIGNED_ZONE")
    diagnosis = diagnose(_analysis(ChainState.BOGUS, (cause,)))
    first = diagnosis.recovery[0]
    assert first.actor is Actor.REGISTRAR and first.records == (DS,)
    assert "Do not turn DNSSEC signing off while a DS" in first.why


def test_the_most_causal_finding_comes_first() -> None:
    expired = _finding(
        "RRSIG_EXPIRED", rrset="www.example.lab./A", key_tag=1, delta="2 days ago",
        expiration="2026-01-01T00:00:00Z",
    )  # fmt: skip
    missing = _finding("RRSIG_MISSING", rrset="mail.example.lab./A")
    dnskey_missing = _finding("DNSKEY_MISSING")
    diagnosis = diagnose(_analysis(ChainState.BOGUS, (expired, missing, dnskey_missing)))
    assert [c.code for c in diagnosis.causes] == [
        "DNSKEY_MISSING",
        "RRSIG_EXPIRED",
        "RRSIG_MISSING",
    ]
    assert diagnosis.ede == 9


def test_healthy_with_warnings_exits_1_and_insecure_without_reason_exits_0() -> None:
    soon = _finding(
        "RRSIG_EXPIRES_SOON", rrset="www.example.lab./A", key_tag=1, delta="in 36 hours",
        expiration="2026-01-01T00:00:00Z",
    )  # fmt: skip
    assert diagnose(_analysis(ChainState.SECURE, (soon,))).exit_code == 1
    assert diagnose(_analysis(ChainState.SECURE, ())).exit_code == 0
    unsigned = _finding("ZONE_UNSIGNED")
    insecure = diagnose(_analysis(ChainState.INSECURE, (unsigned,)))
    assert (insecure.verdict, insecure.ede, insecure.exit_code) == (Verdict.INSECURE, None, 0)
    no_ds = _finding("DS_MISSING_FOR_SIGNED_ZONE")
    assert diagnose(_analysis(ChainState.INSECURE, (no_ds,))).exit_code == 1


def test_unreachable_is_not_dnssec() -> None:
    diagnosis = diagnose(_analysis(ChainState.UNREACHABLE, (_finding("ZONE_UNREACHABLE"),)))
    assert diagnosis.exit_code == 3
    assert diagnosis.views.dnssec_failing is False
    assert diagnosis.recovery[0].action.startswith("Not a DNSSEC fault")


def test_an_unproven_insecure_delegation_breaks_at_the_parent() -> None:
    """The child is bogus, but what breaks is the parent's denial chain: the diagnosis
    names the parent, and the recovery its operator, never the child's."""
    cause = make_finding(
        "INSECURE_DELEGATION_UNPROVEN",
        zone="lab.",
        subject="example.lab./DS",
        servers=("ns1.lab. (127.53.1.1)",),
        records=("example.lab. 60 IN RRSIG NSEC 13 2 60 ...",),
        child="example.lab.",
        reason="RRSIG_BAD_SIGNATURE: the RRSIG over example.lab./NSEC does not verify",
    )
    diagnosis = diagnose(_analysis(ChainState.BOGUS, (cause,)))
    assert (diagnosis.verdict, diagnosis.ede, diagnosis.zone) == (Verdict.BOGUS, 12, "lab.")
    assert diagnosis.exit_code == 2
    assert [c.code for c in diagnosis.causes] == ["INSECURE_DELEGATION_UNPROVEN"]
    assert diagnosis.headline.startswith("The chain of trust breaks at lab.:")
    fix = diagnosis.recovery[0]
    assert fix.actor is Actor.PARENT_OPERATOR
    assert "lab." in fix.action and fix.records == cause.records
    assert Actor.REGISTRAR not in {step.actor for step in diagnosis.recovery}
