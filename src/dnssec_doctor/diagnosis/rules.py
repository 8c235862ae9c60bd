"""From the analysis to a diagnosis: the verdict, the primary cause, the recovery plan.

These are rules over findings and zone states, nothing else: the diagnosis never looks
at packets. Which finding is the primary cause follows each code's rank in the code
table (the closer to the root of the problem, the lower); the recovery plan for each
cause is the planner registered for its code (``diagnosis.recovery``), in the safe order,
with waits computed from the TTLs actually observed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dnssec_doctor.analysis.chain import Analysis, ChainState, ZoneAssessment
from dnssec_doctor.analysis.codes import CODES
from dnssec_doctor.analysis.resolvers import ede_name
from dnssec_doctor.diagnosis.profile import Profile, is_warning, sets_exit_warning
from dnssec_doctor.diagnosis.recovery import plan_recovery
from dnssec_doctor.errors import ExitCode
from dnssec_doctor.model.diagnosis import Diagnosis, Views
from dnssec_doctor.model.finding import Finding
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
    """The diagnosis of ``analysis``, with warnings and exit code after the severity
    ``profile`` (the code table's defaults without one)."""
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
        exit_code=int(exit_code(verdict, analysis.findings, profile, missing=_missing(analysis))),
    )


def _missing(analysis: Analysis) -> bool:
    """The name asked does not exist (and validators accept that it does not)."""
    return analysis.outcome == "nxdomain"


def exit_code(
    verdict: Verdict,
    findings: Sequence[Finding],
    profile: Profile | None = None,
    *,
    missing: bool = False,
) -> ExitCode:
    """``missing``: the name does not exist. A proven NXDOMAIN is DNS working as meant, but
    not the healthy answer whoever checks a name expects: broken, not by DNSSEC (3)."""
    if verdict in (Verdict.BOGUS, Verdict.PARTIAL):
        return ExitCode.DNSSEC_FAILURE
    if verdict in (Verdict.UNREACHABLE, Verdict.INDETERMINATE) or missing:
        return ExitCode.NOT_DNSSEC
    if any(sets_exit_warning(f.code, profile or {}) for f in findings):
        return ExitCode.WARNINGS
    return ExitCode.OK


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
    """Findings that explain the verdict, the primary one first."""
    if breaking is None:
        return ()
    pool = [f for f in analysis.findings if f.zone == breaking.zone]
    pool += [f for f in analysis.answer_findings if f not in pool]
    insecure = analysis.state is ChainState.INSECURE
    keyed = [(key, f) for f in pool if (key := rank_key(f, insecure=insecure)) is not None]
    # Among equals, what the user asked about comes before the probe's own test names.
    keyed.sort(key=lambda pair: (*pair[0], pair[1] not in analysis.answer_findings))
    return tuple(f for _, f in keyed)


def rank_key(finding: Finding, *, insecure: bool) -> tuple[bool, int] | None:
    """Where ``finding`` ranks as a primary cause (lower first), from its code's rank in
    the table; None if its code is never a cause. When the answer is insecure, the
    reasons a chain of trust ends come first: what validators act on (a broken NSEC3
    chain beyond the iteration limit is insecure to them, not bogus)."""
    entry = CODES[finding.code]
    if entry.rank is None:
        return None
    return (not (insecure and entry.ends_chain), entry.rank)


def _sentence(text: str) -> str:
    """End with one full stop, even after a name's trailing dot."""
    return text if text.endswith(".") else text + "."


def headline(
    analysis: Analysis, verdict: Verdict, breaking: ZoneAssessment | None, causes: Sequence[Finding]
) -> str:
    if _missing(analysis) and verdict is Verdict.SECURE:
        holder = answer_path(analysis)[-1].zone if analysis.zones else "its zone"
        return (
            f"{analysis.name} does not exist (NXDOMAIN): {holder} proves it with a validly "
            "signed denial. Not a DNSSEC fault: check the name, or the zone's contents."
        )
    if _missing(analysis) and verdict is Verdict.INSECURE:
        why = headline(replace(analysis, outcome=None), verdict, breaking, causes)
        return f"{analysis.name} does not exist (NXDOMAIN, not protected by DNSSEC). {why}"
    if verdict is Verdict.SECURE:
        return f"{analysis.name} {analysis.rdtype} validates: the chain of trust is intact."
    where = breaking.zone if breaking else (causes[0].zone if causes else None) or "?"
    if not causes:
        return f"{analysis.name} {analysis.rdtype} is {verdict.value} at {where}."
    cause = causes[0]
    more = _similar_count(causes)
    summary = cause.summary + (f" (and {more} more signatures like it)" if more else "")
    if verdict is Verdict.INSECURE:
        if cause.code == "ZONE_UNSIGNED":
            return _sentence(summary)  # a name keeps its case: "unsigned.lab. is not ..."
        return _sentence(f"The chain of trust ends at {where}: {summary}")
    if verdict is Verdict.UNREACHABLE:
        return _sentence(f"Not DNSSEC: {summary}")
    if verdict is Verdict.PARTIAL and cause.code == "MULTI_SIGNER_KEY_MISSING":
        return _sentence(f"The servers' keys do not agree: {summary}")
    if verdict is Verdict.INDETERMINATE and cause.code == "PROBE_DEADLINE_REACHED":
        return _sentence(f"No verdict: {summary}")
    if verdict is Verdict.PARTIAL:
        return _sentence(f"One server serves data that fails validation: {summary}")
    if (
        breaking is not None
        and breaking.state is ChainState.SECURE
        and cause.code != "INSECURE_DELEGATION_UNPROVEN"  # the parent's own proof fails
    ):
        return _sentence(
            f"The chain of trust holds down to {where}, but the answer fails: {summary}"
        )
    return _sentence(f"The chain of trust breaks at {where}: {summary}")


def _similar_count(causes: Sequence[Finding]) -> int:
    """How many other causes carry the primary one's code (every signature expired...)."""
    return sum(1 for f in causes[1:] if f.code == causes[0].code)


def four_views(analysis: Analysis, verdict: Verdict) -> Views:
    path = answer_path(analysis)
    leaf = path[-1] if path else None
    if leaf is not None:
        answered = [s for s in leaf.servers if s.answered]
        auth = f"{len(answered)}/{len(leaf.servers)} servers of {leaf.zone} answer"
        dead = [s.server for s in leaf.servers if not s.answered]
        if dead:
            auth += f" (no answer from {', '.join(dead)})"
    else:
        auth = "no authoritative server found"
    validators = [r for r in analysis.resolvers if r.answered]
    if validators:
        failing = [r for r in validators if r.failed]
        edes = sorted({code for r in failing for code, _ in r.ede})
        ede_text = f", EDE {', '.join(f'{c} ({ede_name(c)})' for c in edes)}" if edes else ""
        validating = (
            f"SERVFAIL at {len(failing)}/{len(validators)}{ede_text}"
            if failing
            else (
                f"answer at {len(validators)}/{len(validators)}"
                + (f" ({sum(r.ad for r in validators)} with AD)" if validators else "")
            )
        )
        cd_ok = [r for r in failing if r.cd_rcode in ("NOERROR", "NXDOMAIN")]
        checking_disabled = (
            f"answers at {len(cd_ok)}/{len(failing)} of the failing resolvers"
            if failing
            else "not needed"
        )
    else:
        validating = (
            "not asked (--no-resolvers)" if not analysis.resolvers else "no resolver answered"
        )
        failing, cd_ok = [], []
        checking_disabled = "not asked"
    parent_ds = "no zone found"
    if leaf is not None:
        broken = next((z for z in path if z.state not in (ChainState.SECURE,)), leaf)
        parent_ds = (
            f"{len(broken.ds_records)} DS for {broken.zone} at {broken.parent}"
            if broken.ds_records
            else f"no DS for {broken.zone} at {broken.parent or 'the trust anchor'}"
        )
    if verdict is Verdict.UNREACHABLE:
        failing_layer: bool | None = False
        conclusion = "DNSSEC is not the failing layer: the authoritative servers do not answer."
    elif verdict in (Verdict.BOGUS, Verdict.PARTIAL):
        failing_layer = True
        if cd_ok:
            conclusion = (
                "DNSSEC is the failing layer: resolvers answer with checking disabled and "
                "SERVFAIL without."
            )
        elif verdict is Verdict.PARTIAL and not failing:
            conclusion = (
                "DNSSEC is the failing layer on some servers: validating resolvers retried another "
                "server and hide it, until the good servers go."
            )
        else:
            conclusion = (
                "DNSSEC is the failing layer: the zone's servers answer but the data does not "
                "validate."
            )
    elif verdict is Verdict.INDETERMINATE:
        failing_layer = None
        conclusion = "The views do not tell whether DNSSEC is the failing layer."
    else:
        failing_layer = False
        conclusion = "DNSSEC is not failing: validators accept the answer" + (
            " as insecure (not protected by DNSSEC)." if verdict is Verdict.INSECURE else "."
        )
    return Views(auth, validating, checking_disabled, parent_ds, failing_layer, conclusion)
