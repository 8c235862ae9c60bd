"""From the analysis to a diagnosis: the verdict, the primary cause, the recovery plan.

These are rules over findings and zone states, nothing else: the diagnosis never looks
at packets. Which finding is the primary cause follows each code's rank in the code
table (the closer to the root of the problem, the lower); the recovery plan for each
cause is the planner registered for its code (``diagnosis.recovery``), in the safe order,
with waits computed from the TTLs actually observed.
"""

from __future__ import annotations

from collections.abc import Sequence

from dnssec_doctor.analysis.chain import Analysis, ChainState, ZoneAssessment
from dnssec_doctor.analysis.codes import CODES
from dnssec_doctor.diagnosis.profile import Profile, is_warning, sets_exit_warning
from dnssec_doctor.diagnosis.public_resolvers import documented_answers
from dnssec_doctor.diagnosis.recovery import alias_zone, plan_recovery
from dnssec_doctor.diagnosis.validators import expected_answers
from dnssec_doctor.model.diagnosis import Conclusion, Diagnosis, Headline, HeadlineKind, Views
from dnssec_doctor.model.finding import Finding
from dnssec_doctor.model.snapshot import DENIAL_PROBE_PREFIX
from dnssec_doctor.model.verdict import Verdict

_VERDICT = {
    ChainState.SECURE: Verdict.SECURE,
    ChainState.INSECURE: Verdict.INSECURE,
    ChainState.BOGUS: Verdict.BOGUS,
    ChainState.PARTIAL: Verdict.PARTIAL,
    ChainState.UNREACHABLE: Verdict.UNREACHABLE,
    ChainState.INDETERMINATE: Verdict.INDETERMINATE,
}


def diagnose(analysis: Analysis, profile: Profile | None = None) -> Diagnosis:
    """The diagnosis of ``analysis``, with warnings after the severity ``profile`` (the
    code table's defaults without one)."""
    profile = profile or {}
    verdict = _VERDICT[analysis.state]
    breaking = breaking_zone(analysis)
    causes = primary_causes(analysis, breaking)
    ede = causes[0].ede if causes and verdict is not Verdict.SECURE else None
    warnings = tuple(f for f in analysis.findings if is_warning(f, profile) and f not in causes)
    views = four_views(analysis, verdict)
    recovery = plan_recovery(analysis, verdict, breaking, causes)
    return Diagnosis(
        name=analysis.name,
        rdtype=analysis.rdtype,
        verdict=verdict,
        ede=ede,
        zone=breaking.zone if breaking is not None and verdict is not Verdict.SECURE else None,
        headline=headline(analysis, verdict, breaking, causes),
        causes=causes,
        warnings=warnings,
        recovery=recovery,
        views=views,
        exit_warning=any(sets_exit_warning(f.code, profile) for f in analysis.findings),
        name_missing=_missing(analysis),
        validators=expected_answers(causes[0].code)
        if causes and verdict is not Verdict.SECURE
        else (),
        public_resolvers=documented_answers(causes[0].code)
        if causes and verdict is not Verdict.SECURE
        else (),
    )


def _missing(analysis: Analysis) -> bool:
    """The name asked does not exist (and validators accept that it does not)."""
    return analysis.outcome == "nxdomain"


def breaking_zone(analysis: Analysis) -> ZoneAssessment | None:
    """The topmost zone on the answer's path whose own state is the failure (or, for an
    insecure answer, where the chain of trust ends)."""
    wanted = {
        ChainState.BOGUS: {ChainState.BOGUS},
        ChainState.PARTIAL: {ChainState.PARTIAL},
        ChainState.UNREACHABLE: {ChainState.UNREACHABLE},
        ChainState.INSECURE: {ChainState.INSECURE},
        ChainState.INDETERMINATE: {ChainState.INDETERMINATE},
    }.get(analysis.state, set())
    path = answer_path(analysis)
    if any(not zone.outside_anchors for zone in path):
        # Above an island of trust nothing is validated: the chain starts at its anchor.
        path = [zone for zone in path if not zone.outside_anchors]
    by_zone = {z.zone: z for z in analysis.zones}
    for zone in path:
        if zone.state in wanted:
            if zone.parent in by_zone and _parent_fails_to_prove(analysis, zone):
                return by_zone[zone.parent]  # the parent's denial chain is what breaks
            return zone
    # The chain holds but the answer itself fails (a missing or bad signature, a broken
    # denial): the zone that serves the answer.
    return path[-1] if path and analysis.state is not ChainState.SECURE else None


def _parent_fails_to_prove(analysis: Analysis, zone: ZoneAssessment) -> bool:
    """Whether ``zone`` is bogus because its parent cannot prove it has no DS."""
    return any(
        f.code == "INSECURE_DELEGATION_UNPROVEN"
        and f.zone == zone.parent
        and f.subject == f"{zone.zone}/DS"
        for f in analysis.findings
    )


def answer_path(analysis: Analysis) -> list[ZoneAssessment]:
    """Zones from the root to the zone of the final target, following the CNAME chain."""
    by_zone = {z.zone: z for z in analysis.zones}
    leaves = [z for z in analysis.zones if not any(o.parent == z.zone for o in analysis.zones)]
    if not leaves:
        return list(analysis.zones)
    # Every leaf is a zone of some target; take them in the order found and walk up.
    path: list[ZoneAssessment] = []
    for leaf in leaves:
        chain = []
        current: ZoneAssessment | None = leaf
        while current is not None:
            chain.append(current)
            current = by_zone.get(current.parent) if current.parent else None
        for zone in reversed(chain):
            if zone not in path:
                path.append(zone)
    return path


def primary_causes(analysis: Analysis, breaking: ZoneAssessment | None) -> tuple[Finding, ...]:
    """Findings that explain the verdict, the primary one first. Among findings of the
    same rank, one over the zone's DNSKEY RRset comes first (it fails the whole zone),
    then what the user asked about; the probe's own test names are evidence about the
    zone's denial chain, and a cause only when nothing else explains the verdict."""
    if breaking is None:
        return ()
    pool = [f for f in analysis.findings if f.zone == breaking.zone]
    pool += [f for f in analysis.answer_findings if f not in pool]
    insecure = analysis.state is ChainState.INSECURE
    keyed = [(key, f) for f in pool if (key := rank_key(f, insecure=insecure)) is not None]
    keyed.sort(
        key=lambda pair: (
            *pair[0],
            not _over_dnskey(pair[1], breaking.zone),
            pair[1] not in analysis.answer_findings,
        )
    )
    causes = [f for _, f in keyed]
    asked = [f for f in causes if not _about_probe_name(f)]
    return tuple(asked or causes)


def _over_dnskey(finding: Finding, zone: str) -> bool:
    return finding.params.get("rrset") == f"{zone}/DNSKEY" or finding.subject == f"{zone}/DNSKEY"


def _about_probe_name(finding: Finding) -> bool:
    """Whether the finding is about one of the probe's own denial test names."""
    texts = [finding.subject, *(str(v) for v in finding.params.values())]
    return any(DENIAL_PROBE_PREFIX in text for text in texts)


def rank_key(finding: Finding, *, insecure: bool) -> tuple[bool, int] | None:
    """Where ``finding`` ranks as a primary cause (lower first), from its code's rank in
    the table; None if its code is never a cause. When the answer is insecure, the
    reasons a chain of trust ends come first: what validators act on (a broken NSEC3
    chain beyond the iteration limit is insecure to them, not bogus)."""
    entry = CODES[finding.code]
    if entry.rank is None:
        return None
    return (not (insecure and entry.ends_chain), entry.rank)


# How far after the probe a judgement is a forecast (``--at +3d``), not the present.
FORECAST_AFTER = 300


def headline(
    analysis: Analysis, verdict: Verdict, breaking: ZoneAssessment | None, causes: Sequence[Finding]
) -> Headline:
    forecast = analysis.now if analysis.now > analysis.collected_at + FORECAST_AFTER else None
    if _missing(analysis) and verdict is Verdict.SECURE:
        holder = answer_path(analysis)[-1].zone if analysis.zones else None
        return Headline(HeadlineKind.NAME_MISSING, holder, None, forecast_at=forecast)
    missing = _missing(analysis) and verdict is Verdict.INSECURE
    if verdict is Verdict.SECURE:
        return Headline(HeadlineKind.VALIDATES, None, None, forecast_at=forecast)
    where = breaking.zone if breaking else (causes[0].zone if causes else None)
    if not causes:
        return Headline(HeadlineKind.NO_CAUSE, where, None, forecast_at=forecast)
    cause = causes[0]
    similar = sum(1 for f in causes[1:] if f.code == cause.code)
    alias = alias_zone(analysis, breaking)
    kind = HeadlineKind.CHAIN_BREAKS
    if verdict is Verdict.INSECURE:
        kind = {
            "ZONE_UNSIGNED": HeadlineKind.UNSIGNED,
            "NSEC3_ITERATIONS_EXCESSIVE": HeadlineKind.DENIAL_UNPROTECTED,
        }.get(cause.code, HeadlineKind.CHAIN_ENDS)
    elif verdict is Verdict.UNREACHABLE:
        kind = HeadlineKind.NOT_DNSSEC
    elif verdict is Verdict.PARTIAL and cause.code == "MULTI_SIGNER_KEY_MISSING":
        kind = HeadlineKind.KEYS_DISAGREE
    elif verdict is Verdict.INDETERMINATE and cause.code == "PROBE_DEADLINE_REACHED":
        kind = HeadlineKind.NO_VERDICT
    elif verdict is Verdict.PARTIAL:
        kind = HeadlineKind.PARTIAL
    elif (
        breaking is not None
        and breaking.state is ChainState.SECURE
        and cause.code != "INSECURE_DELEGATION_UNPROVEN"  # the parent's own proof fails
    ):
        kind = HeadlineKind.ANSWER_FAILS
    return Headline(kind, where, cause, similar, forecast, alias, missing)


def four_views(analysis: Analysis, verdict: Verdict) -> Views:
    path = answer_path(analysis)
    leaf = path[-1] if path else None
    validators = [r for r in analysis.resolvers if r.answered and r.validates is not False]
    not_validating = tuple(
        r.address for r in analysis.resolvers if r.answered and r.validates is False
    )
    failing = [r for r in validators if r.failed]
    cd_ok = [r for r in failing if r.cd_rcode in ("NOERROR", "NXDOMAIN")]
    broken = next((z for z in path if z.state is not ChainState.SECURE), leaf)
    if verdict is Verdict.UNREACHABLE:
        failing_layer: bool | None = False
        conclusion = Conclusion.NOT_DNSSEC
    elif verdict in (Verdict.BOGUS, Verdict.PARTIAL):
        failing_layer = True
        if verdict is Verdict.PARTIAL and failing and len(failing) < len(validators):
            conclusion = Conclusion.SOME_RESOLVERS_FAIL
        elif cd_ok:
            conclusion = Conclusion.CD_ANSWERS
        elif verdict is Verdict.PARTIAL and not failing:
            conclusion = Conclusion.HIDDEN_BY_RETRY
        else:
            conclusion = Conclusion.DATA_FAILS
    elif verdict is Verdict.INDETERMINATE:
        failing_layer = None
        conclusion = Conclusion.UNDECIDED
    else:
        failing_layer = False
        conclusion = Conclusion.INSECURE if verdict is Verdict.INSECURE else Conclusion.VALIDATES
    return Views(
        answer_zone=leaf.zone if leaf is not None else None,
        servers=len(leaf.servers) if leaf is not None else 0,
        silent_servers=tuple(s.server for s in leaf.servers if not s.answered) if leaf else (),
        resolvers_asked=len(analysis.resolvers),
        resolvers_answering=len(validators),
        resolvers_failing=len(failing),
        resolvers_with_ad=sum(r.ad for r in validators),
        ede_seen=tuple(sorted({code for r in failing for code, _ in r.ede})),
        ede_returned=tuple(sorted({code for r in validators for code, _ in r.ede})),
        cd_answering=len(cd_ok),
        ds_zone=broken.zone if broken is not None else None,
        ds_parent=broken.parent if broken is not None else None,
        ds_count=len(broken.ds_records) if broken is not None else 0,
        dnssec_failing=failing_layer,
        conclusion=conclusion,
        not_validating=not_validating,
    )
