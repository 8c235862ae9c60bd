"""Every lab scenario diagnosed against the real servers: verdict, EDE, the zone where the
chain breaks, the primary cause, and the codes that must and must not appear."""

from __future__ import annotations

import json
import subprocess

import pytest

from dnssec_doctor.diagnosis.report import Report, build_report
from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.lab.scenarios import SCENARIOS, Scenario
from dnssec_doctor.model.diagnosis import Actor, Conclusion, HeadlineKind, PathRole, Task
from dnssec_doctor.model.finding import Severity
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.snapshot import DENIAL_PROBE_PREFIX, load_snapshot
from dnssec_doctor.model.verdict import Verdict
from dnssec_doctor.pipeline import lab_settings
from dnssec_doctor.probe.collect import collect
from dnssec_doctor.render.json import render_json
from dnssec_doctor.render.sentences import ede_text, headline_text
from dnssec_doctor.render.text import render_text
from plan_support import assert_diagnosis_plan
from report_support import assert_markdown_report, assert_valid_report

pytestmark = pytest.mark.lab

_REPORTS: dict[str, Report] = {}


def diagnose_scenario(profile: LabProfile, scenario: Scenario) -> Report:
    if scenario.slug not in _REPORTS:
        settings = lab_settings(profile, timeout=1.0, deadline=10.0)
        snapshot = collect(scenario.query_name, scenario.qtype, settings)
        _REPORTS[scenario.slug] = build_report(snapshot, AnalysisOptions(now=snapshot.finished_at))
    return _REPORTS[scenario.slug]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.slug for s in SCENARIOS])
def test_scenario_is_diagnosed_as_declared(lab: LabProfile, scenario: Scenario) -> None:
    report = diagnose_scenario(lab, scenario)
    diagnosis = report.diagnosis
    expected = scenario.diagnosis
    summary = [f"{f.code}: {f.summary}" for f in report.analysis.findings]
    assert diagnosis.verdict is expected.verdict, summary
    assert diagnosis.ede == expected.ede, summary
    assert diagnosis.zone == expected.zone, summary
    cause = diagnosis.causes[0].code if diagnosis.causes else None
    assert cause == expected.cause, summary
    codes = {f.code for f in report.analysis.findings}
    assert set(expected.warnings) <= codes, summary
    assert "CHECK_CRASHED" not in codes, summary
    if expected.verdict is Verdict.SECURE:
        assert not [f for f in report.analysis.findings if f.severity is Severity.ERROR], summary
    if expected.verdict is not Verdict.UNREACHABLE:
        assert "ZONE_UNREACHABLE" not in codes, summary


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.slug for s in SCENARIOS])
def test_verdict_agrees_with_the_validators(lab: LabProfile, scenario: Scenario) -> None:
    """Where the lab's validators agree, our verdict agrees with them; where it differs
    (a stale secondary), the report says why. Where they disagree (a malformed DS beside a
    valid one: BIND fails; a stale secondary: PowerDNS Recursor fails), the catalogue
    declares it and the verdict is a failure."""
    report = diagnose_scenario(lab, scenario)
    resolvers = [r for r in report.analysis.resolvers if r.answered]
    assert resolvers, "the lab's validating resolvers must answer"
    # An answer that is not data or a denial (SERVFAIL; YXDOMAIN for an overlong DNAME)
    failed = {r.rcode not in ("NOERROR", "NXDOMAIN") for r in resolvers}
    verdict = report.diagnosis.verdict
    if len(failed) > 1:
        declared = scenario.resolver.differs or scenario.resolver.sometimes
        assert declared, [(r.address, r.rcode) for r in resolvers]
        assert verdict in (Verdict.BOGUS, Verdict.UNREACHABLE, Verdict.PARTIAL)
        if verdict is Verdict.PARTIAL:
            # Some resolvers asked the server whose data fails; the others retried.
            assert report.diagnosis.views.conclusion is Conclusion.SOME_RESOLVERS_FAIL
        return
    if failed == {True}:
        assert verdict in (Verdict.BOGUS, Verdict.UNREACHABLE)
    elif verdict is Verdict.PARTIAL:
        assert report.diagnosis.views.conclusion is Conclusion.HIDDEN_BY_RETRY
    else:
        assert verdict in (Verdict.SECURE, Verdict.INSECURE)
        assert all(r.ad == (verdict is Verdict.SECURE) for r in resolvers)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.slug for s in SCENARIOS])
def test_recovery_is_a_plan_of_alternative_paths(lab: LabProfile, scenario: Scenario) -> None:
    """Every scenario's plan has the structure an operator can follow literally:
    alternative paths (the fastest first), one actor per step, one wait per transition,
    a final check; a failure has a way out; only a DNSSEC failure touches DNSSEC."""
    report = diagnose_scenario(lab, scenario)
    diagnosis = report.diagnosis
    zone = next((z for z in report.analysis.zones if z.zone == diagnosis.zone), None)
    assert_diagnosis_plan(diagnosis, ds_ttl=zone.ds_ttl if zone is not None else None)
    if diagnosis.verdict is Verdict.BOGUS:
        assert diagnosis.recovery.paths, scenario.slug
        if len(diagnosis.recovery.paths) > 1:  # a rollback is never first when a fix exists
            first = diagnosis.recovery.paths[0].steps[0]
            assert first.task is not Task.REMOVE_DS, scenario.slug


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.slug for s in SCENARIOS])
def test_headline_leads_with_a_cause_the_user_can_act_on(
    lab: LabProfile, scenario: Scenario
) -> None:
    """The probe's own test names are never the cause; a count of similar causes never
    reads "(and 1 more signatures like it)"; the EDE comes after the cause, and says
    whether the resolvers returned it."""
    diagnosis = diagnose_scenario(lab, scenario).diagnosis
    for cause in diagnosis.causes:
        assert DENIAL_PROBE_PREFIX not in cause.subject, scenario.slug
    text = headline_text(diagnosis)
    assert DENIAL_PROBE_PREFIX not in text and "like it" not in text, text
    assert "EDE" not in text.split(":", 1)[0]  # the cause leads, not the code
    if diagnosis.ede is not None and diagnosis.verdict is not Verdict.SECURE:
        returned = diagnosis.ede in diagnosis.views.ede_returned
        assert ("returned it" in ede_text(diagnosis)) is returned, ede_text(diagnosis)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.slug for s in SCENARIOS])
def test_json_and_markdown_reports_of_every_scenario(lab: LabProfile, scenario: Scenario) -> None:
    """The real report of every scenario follows docs/check-json.schema.json, and its
    Markdown form carries the verdict, the exact records of the plan and the causes."""
    report = diagnose_scenario(lab, scenario)
    assert_valid_report(json.loads(json.dumps(render_json(report))))
    assert_markdown_report(report)


def test_every_signature_expired_leads_with_the_dnskey_rrset(lab: LabProfile) -> None:
    [scenario] = [s for s in SCENARIOS if s.slug == "rrsig-expired"]
    diagnosis = diagnose_scenario(lab, scenario).diagnosis
    assert diagnosis.causes[0].params["rrset"] == f"{scenario.zone}/DNSKEY"
    assert diagnosis.headline.similar >= 1


def test_a_cname_into_a_broken_zone_says_cname_and_who_can_repoint_it(lab: LabProfile) -> None:
    [scenario] = [s for s in SCENARIOS if s.slug == "cname-into-broken"]
    diagnosis = diagnose_scenario(lab, scenario).diagnosis
    assert diagnosis.headline.alias_zone == "cname-into-broken.lab."
    assert "CNAME" in headline_text(diagnosis)
    repoint = [s for s in diagnosis.recovery.steps if s.task is Task.REPOINT_ALIAS]
    assert [(s.actor, s.zone) for s in repoint] == [(Actor.DNS_OPERATOR, "cname-into-broken.lab.")]


def test_excessive_nsec3_iterations_agree_in_headline_and_chain_table(lab: LabProfile) -> None:
    [scenario] = [s for s in SCENARIOS if s.slug == "nsec3-iterations"]
    report = diagnose_scenario(lab, scenario)
    assert report.diagnosis.headline.kind is HeadlineKind.DENIAL_UNPROTECTED
    text = render_text(report)
    [row] = [line for line in text.splitlines() if line.startswith(f"  {scenario.zone} ")]
    assert "secure; denial of existence insecure" in row


def test_wrong_ds_recovery_publishes_the_live_ksk_ds_at_the_registrar(lab: LabProfile) -> None:
    [scenario] = [s for s in SCENARIOS if s.slug == "ds-bad-digest"]
    report = diagnose_scenario(lab, scenario)
    [zone] = [z for z in report.analysis.zones if z.zone == scenario.zone]
    [path] = report.diagnosis.recovery.paths
    replace = path.steps[0]
    assert (replace.task, replace.actor) == (Task.REPLACE_DS, Actor.REGISTRAR)
    assert replace.records == zone.ds_to_publish and replace.records
    live_tags = {r.split()[-4] for r in replace.records}
    assert live_tags == {r.split()[-4] for r in zone.ds_records}  # same key, right digest
    assert replace.remove == zone.ds_records
    assert zone.ds_ttl == 120  # the lab's DS TTL, observed at the parent
    [wait] = [s for s in path.steps if s.task is Task.WAIT_DS_EXPIRY]
    assert wait.wait_seconds == zone.ds_ttl + 300 and wait.params["ttl_assumed"] is False
    # The parent's publication is polled at one of its servers, for the zone's DS.
    [poll] = [s for s in path.steps if s.task is Task.WAIT_PARENT_PUBLISHES]
    assert poll.commands == (f"dig +norec @127.53.1.1 {scenario.zone} DS",)


def test_signing_switched_off_with_the_ds_left_resumes_signing_first(lab: LabProfile) -> None:
    [scenario] = [s for s in SCENARIOS if s.slug == "ds-unsigned-zone"]
    report = diagnose_scenario(lab, scenario)
    [zone] = [z for z in report.analysis.zones if z.zone == scenario.zone]
    fastest, fallback = report.diagnosis.recovery.paths
    resume = fastest.steps[0]
    assert (resume.task, resume.actor) == (Task.RESUME_SIGNING, Actor.DNS_OPERATOR)
    assert resume.params["key_tags"] == zone.ds_records[0].split()[-4]  # the key named
    assert (fallback.role, fallback.steps[0].task) == (PathRole.FALLBACK, Task.REMOVE_DS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.slug for s in SCENARIOS])
def test_every_scenario_snapshot_reads_back_equal_from_its_document(
    lab: LabProfile, scenario: Scenario
) -> None:
    """What a one-shot check's analysis reads (its probe's child hands the snapshot back
    as this document, probe/forked.py) is the snapshot the probe took, whole."""
    snapshot = diagnose_scenario(lab, scenario).snapshot
    assert load_snapshot(json.loads(snapshot.dumps())) == snapshot


def test_snapshot_round_trip_gives_the_same_diagnosis(lab: LabProfile) -> None:
    [scenario] = [s for s in SCENARIOS if s.slug == "stale-secondary"]
    report = diagnose_scenario(lab, scenario)
    again = load_snapshot(json.loads(report.snapshot.dumps()))
    offline = build_report(again, AnalysisOptions(now=report.snapshot.finished_at))
    assert offline.diagnosis == report.diagnosis


def delv_verdict(profile: LabProfile, scenario: Scenario) -> str:
    """delv's own validation, through the lab's non-validating resolver: secure,
    insecure, or failed."""
    [plain] = [r for r in profile.resolvers if not r.validating]
    try:
        result = subprocess.run(
            [
                "delv",
                f"@{plain.address}",
                "-a",
                str(profile.trust_anchor_conf),
                "+root=.",
                "+nomtrace",
                scenario.query_name,
                scenario.qtype,
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except subprocess.TimeoutExpired:
        # delv 9.18 keeps asking after a YXDOMAIN (an overlong DNAME, dname-too-long):
        # no validation result at all.
        return "failed"
    output = result.stdout + result.stderr
    if "; fully validated" in output or "; negative response, fully validated" in output:
        return "secure"
    if "; unsigned answer" in output or "; negative response, unsigned answer" in output:
        return "insecure"
    return "failed"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.slug for s in SCENARIOS])
def test_verdict_agrees_with_delv_and_unbound(lab: LabProfile, scenario: Scenario) -> None:
    """Where delv and Unbound agree, so does dnssec-doctor; where it differs (a stale
    secondary that the resolvers hide by retrying), the report says why."""
    report = diagnose_scenario(lab, scenario)
    [unbound] = [r for r in report.analysis.resolvers if r.address == "127.53.53.1"]
    delv = delv_verdict(lab, scenario)
    verdict = report.diagnosis.verdict
    if verdict is Verdict.PARTIAL:
        assert report.diagnosis.views.conclusion in (
            Conclusion.HIDDEN_BY_RETRY,
            Conclusion.SOME_RESOLVERS_FAIL,
        )
        return
    ours = {
        Verdict.SECURE: "secure",
        Verdict.INSECURE: "insecure",
        Verdict.BOGUS: "failed",
        Verdict.UNREACHABLE: "failed",
    }[verdict]
    unbound_class = (
        "failed" if unbound.rcode == "SERVFAIL" else ("secure" if unbound.ad else "insecure")
    )
    if delv == unbound_class and not scenario.resolver.differs:
        assert ours == delv, (scenario.slug, delv, unbound.rcode, unbound.ad)
