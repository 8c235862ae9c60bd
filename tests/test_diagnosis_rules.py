"""Diagnosis rules on hand-built analyses: verdict, primary cause, exit code, safe order."""

from __future__ import annotations

import dataclasses

import dns.name
import dns.rdata

from dnssec_doctor.analysis.chain import Analysis, ChainState, ZoneAssessment
from dnssec_doctor.analysis.codes import make_finding
from dnssec_doctor.analysis.keys import match_ds
from dnssec_doctor.analysis.results import DsResult
from dnssec_doctor.change.insecure import DEFAULT_ASSUMED_DS_TTL
from dnssec_doctor.diagnosis.rules import FORECAST_AFTER, diagnose
from dnssec_doctor.model.diagnosis import (
    ASSUMED_DS_TTL,
    Actor,
    Conclusion,
    HeadlineKind,
    PathRole,
    StepKind,
    Task,
)
from dnssec_doctor.model.finding import Finding
from dnssec_doctor.model.verdict import Verdict
from dnssec_doctor.pipeline import exit_code
from dnssec_doctor.render.plan import step_sentence
from dnssec_doctor.render.sentences import ede_text, headline_text
from plan_support import assert_diagnosis_plan

NOW = 1_800_000_000.0
DS = "example.lab. 120 IN DS 111 13 2 " + "aa" * 32
LIVE = "example.lab. IN DS 222 13 2 " + "bb" * 32
# The DS against a zone that serves no key (the analyses below are built by hand).
DS_RESULT = DsResult(
    DS, match_ds(dns.rdata.from_text("IN", "DS", DS.split(" DS ")[1]), dns.name.root, [])
)


def _zone(
    zone: str, parent: str | None, state: ChainState, findings: tuple[Finding, ...] = ()
) -> ZoneAssessment:
    return ZoneAssessment(
        zone=zone,
        parent=parent,
        via="www.example.lab.",
        state=state,
        servers=(),
        ds=(DS_RESULT,) if zone == "example.lab." else (),
        keys=(),
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
    assert exit_code(diagnosis) == 2
    assert_diagnosis_plan(diagnosis, ds_ttl=120)
    fastest, fallback = diagnosis.recovery.paths
    assert (fastest.role, fallback.role) == (PathRole.FASTEST, PathRole.FALLBACK)
    replace = fastest.steps[0]
    assert (replace.task, replace.actor) == (Task.REPLACE_DS, Actor.REGISTRAR)
    assert (replace.records, replace.remove) == ((LIVE,), (DS,))
    waits = [s for s in fastest.steps if s.kind is StepKind.WAIT]
    assert [w.task for w in waits] == [Task.WAIT_PARENT_PUBLISHES, Task.WAIT_DS_EXPIRY]
    assert waits[1].wait_seconds == 120 + 300  # the DS TTL observed, then failure cache
    assert fastest.eta_seconds == 420 and fastest.eta_open
    # The other way: the DNS operator publishes the key the DS names, no registrar.
    assert fallback.steps[0].task is Task.REPUBLISH_RETIRED_KEY
    assert fallback.steps[0].params["key_tags"] == "111"
    assert Actor.REGISTRAR not in {s.actor for s in fallback.steps}


def test_an_unobserved_ds_ttl_is_assumed_and_said_so() -> None:
    cause = _finding("DS_NO_MATCHING_KEY", key_tag=111, algorithm=13, digest_type=2)
    analysis = _analysis(ChainState.BOGUS, (cause,))
    zones = (*analysis.zones[:2], dataclasses.replace(analysis.zones[2], ds_ttl=None))
    diagnosis = diagnose(dataclasses.replace(analysis, zones=zones))
    [wait] = [s for s in diagnosis.recovery.steps if s.task is Task.WAIT_DS_EXPIRY]
    assert wait.params["ttl"] == ASSUMED_DS_TTL and wait.params["ttl_assumed"] is True
    assert "assumed" in step_sentence(wait)
    assert DEFAULT_ASSUMED_DS_TTL == ASSUMED_DS_TTL  # go-insecure assumes the same


def test_ds_left_on_an_unsigned_zone_never_advises_turning_signing_off_first() -> None:
    cause = _finding("DS_FOR_UNSIGNED_ZONE")
    diagnosis = diagnose(_analysis(ChainState.BOGUS, (cause,)))
    assert_diagnosis_plan(diagnosis)
    assert diagnosis.recovery.never_disable_signing
    fastest, fallback = diagnosis.recovery.paths
    # Signing again with the key the DS names is the fast fix, and names the key.
    first = fastest.steps[0]
    assert (first.task, first.actor) == (Task.RESUME_SIGNING, Actor.DNS_OPERATOR)
    assert first.params["key_tags"] == "111" and "key 111" in step_sentence(first)
    # Removing the DS is the other way, at the registrar, never turning signing off.
    assert fallback.role is PathRole.FALLBACK
    assert (fallback.steps[0].task, fallback.steps[0].remove) == (Task.REMOVE_DS, (DS,))
    assert fallback.steps[-1].params["expect"] == "insecure"


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
    assert exit_code(diagnose(_analysis(ChainState.SECURE, (soon,)))) == 1
    assert exit_code(diagnose(_analysis(ChainState.SECURE, ()))) == 0
    unsigned = _finding("ZONE_UNSIGNED")
    insecure = diagnose(_analysis(ChainState.INSECURE, (unsigned,)))
    assert (insecure.verdict, insecure.ede, exit_code(insecure)) == (Verdict.INSECURE, None, 0)
    no_ds = _finding("DS_MISSING_FOR_SIGNED_ZONE")
    assert exit_code(diagnose(_analysis(ChainState.INSECURE, (no_ds,)))) == 1


def test_unreachable_is_not_dnssec() -> None:
    diagnosis = diagnose(_analysis(ChainState.UNREACHABLE, (_finding("ZONE_UNREACHABLE"),)))
    assert exit_code(diagnosis) == 3
    assert diagnosis.views.dnssec_failing is False
    assert_diagnosis_plan(diagnosis)
    assert diagnosis.recovery.not_dnssec and not diagnosis.recovery.never_disable_signing
    assert diagnosis.recovery.paths[0].steps[0].task is Task.RESTORE_SERVERS


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
    assert exit_code(diagnosis) == 2
    assert [c.code for c in diagnosis.causes] == ["INSECURE_DELEGATION_UNPROVEN"]
    assert (diagnosis.headline.kind, diagnosis.headline.zone) == (HeadlineKind.CHAIN_BREAKS, "lab.")
    assert diagnosis.headline.cause == cause
    assert_diagnosis_plan(diagnosis)
    fix = diagnosis.recovery.paths[0].steps[0]
    assert (fix.task, fix.actor, fix.zone) == (
        Task.FIX_PARENT_DENIAL,
        Actor.PARENT_OPERATOR,
        "lab.",
    )
    assert fix.records == cause.records
    assert Actor.REGISTRAR not in {step.actor for step in diagnosis.recovery.steps}
    assert diagnosis.recovery.paths[0].steps[-1].params["expect"] == "insecure"


def _expired(rrset: str, key_tag: int) -> Finding:
    return _finding(
        "RRSIG_EXPIRED", rrset=rrset, key_tag=key_tag, delta="2 days ago",
        expiration="2026-01-01T00:00:00Z",
    )  # fmt: skip


def test_every_signature_expired_names_the_dnskey_rrset_first() -> None:
    """When the signer stopped, every signature expired: the one that fails the whole
    zone is the DNSKEY RRset's, not the leaf record's that happened to be asked."""
    leaf = _expired("www.example.lab./A", 2)
    dnskey = _expired("example.lab./DNSKEY", 1)
    soa = _expired("example.lab./SOA", 2)
    analysis = dataclasses.replace(
        _analysis(ChainState.BOGUS, (leaf, soa, dnskey)), answer_findings=(leaf,)
    )
    diagnosis = diagnose(analysis)
    assert diagnosis.causes[0] == dnskey
    assert (diagnosis.headline.cause, diagnosis.headline.similar) == (dnskey, 2)
    text = headline_text(diagnosis)
    assert "2 more signatures of example.lab. fail the same way" in text
    assert "like it" not in text


def test_the_probes_own_names_are_never_the_cause() -> None:
    asked = _finding("NXDOMAIN_PROOF_INVALID", qname="nx.example.lab.", reason="no NSEC covers it")
    probe = make_finding(
        "NXDOMAIN_PROOF_INVALID",
        zone="example.lab.",
        subject="dnssec-doctor-nx-0123456789.example.lab./A",
        qname="dnssec-doctor-nx-0123456789.example.lab.",
        reason="no NSEC covers it",
    )
    diagnosis = diagnose(_analysis(ChainState.BOGUS, (probe, asked)))
    assert diagnosis.causes == (asked,)
    assert "dnssec-doctor-nx-" not in headline_text(diagnosis)
    # Only when nothing else explains the failure is the probe's own evidence named.
    alone = diagnose(_analysis(ChainState.BOGUS, (probe,)))
    assert alone.causes == (probe,)


def test_a_judgement_after_the_probe_is_marked_as_a_forecast() -> None:
    analysis = _analysis(ChainState.BOGUS, (_expired("www.example.lab./A", 2),))
    now = dataclasses.replace(analysis, now=NOW + FORECAST_AFTER)
    assert diagnose(now).headline.forecast_at is None
    later = diagnose(dataclasses.replace(analysis, now=NOW + 3 * 86400))
    assert later.headline.forecast_at == NOW + 3 * 86400
    assert headline_text(later).startswith("Forecast for 2027-01-")


def test_the_ede_line_says_whether_resolvers_returned_it() -> None:
    cause = _finding("DS_NO_MATCHING_KEY", key_tag=111, algorithm=13, digest_type=2)
    diagnosis = diagnose(_analysis(ChainState.BOGUS, (cause,)))
    assert diagnosis.ede == 9 and diagnosis.views.ede_returned == ()
    assert ede_text(diagnosis).startswith("EDE 9 (DNSKEY Missing) is what a validator sends")
    seen = dataclasses.replace(
        diagnosis, views=dataclasses.replace(diagnosis.views, ede_returned=(6, 9))
    )
    assert ede_text(seen) == "EDE 9 (DNSKEY Missing): the resolvers asked returned it."


def test_excessive_nsec3_iterations_unprotect_only_denial() -> None:
    cause = _finding("NSEC3_ITERATIONS_EXCESSIVE", iterations=200, limit=150)
    diagnosis = diagnose(_analysis(ChainState.INSECURE, (cause,)))
    assert diagnosis.headline.kind is HeadlineKind.DENIAL_UNPROTECTED
    assert diagnosis.views.conclusion is Conclusion.INSECURE
    assert "names that exist still validate" in headline_text(diagnosis)


def test_the_flush_step_has_a_command_for_each_lab_validator() -> None:
    """Resolver operators running any of the four validators the lab measures get the
    command that empties that zone from their cache."""
    from dnssec_doctor.diagnosis.recovery import _flush

    commands = _flush("example.com.").commands
    assert [c.split()[0] for c in commands] == [
        "unbound-control",
        "unbound-control",
        "rndc",
        "kresctl",
        "rec_control",
    ]
    assert commands[-1] == "rec_control wipe-cache 'example.com.$'"
