"""One zone's check as the watcher keeps it, and the conditions it raises.

Pure: built from a ``Report`` (or from the error that prevented the check) and judged at
the report's time. Conditions are named states that hold or not on each check; an alert
is raised when one starts holding and resolved when it stops (see ``alerts``).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field

import dns.name

from dnssec_doctor.analysis.chain import ZoneAssessment
from dnssec_doctor.analysis.codes import CODES, Link
from dnssec_doctor.change.state import read_state
from dnssec_doctor.diagnosis.report import Report
from dnssec_doctor.model.options import DAY
from dnssec_doctor.model.time_text import human_duration
from dnssec_doctor.pipeline import exit_code

UNCHECKED = "unchecked"  # the verdict of a zone that could not be checked
DEFAULT_EXPIRY_THRESHOLD = 3 * DAY


class Condition(enum.StrEnum):
    UNCHECKED = "unchecked"  # the zone could not be checked at all
    EXPIRING = "expiring"  # signatures expire within the threshold on some server
    EXPIRES_BEFORE_SOA_EXPIRE = "expires-before-soa-expire"  # a secondary would serve them dead
    SERVERS_DISAGREE = "servers-disagree"  # serials or per-server states differ
    DS_MISMATCH = "ds-mismatch"  # a DS at the parent matches no served key
    FAILING = "failing"  # the verdict is a failure (bogus, partial, unreachable, ...)
    NOT_A_ZONE = "not-a-zone"  # the name watched does not exist or is no zone apex


# Verdicts that are failures: a zone watched in this state alerts, from its first check.
FAILING_VERDICTS = frozenset({"bogus", "partial", "unreachable", "indeterminate"})


@dataclass(frozen=True)
class ServerResult:
    server: str
    serial: int | None
    earliest_expiration: int | None
    state: str


@dataclass(frozen=True)
class ZoneResult:
    zone: str
    checked_at: float
    verdict: str
    exit_code: int | None
    error: str | None = None
    servers: tuple[ServerResult, ...] = ()
    ds_match: bool | None = None  # None: no DS or not known
    soa_expire: int | None = None
    conditions: dict[Condition, str] = field(default_factory=dict)  # condition -> why
    report: dict[str, object] | None = None  # the JSON report, kept in the history

    @property
    def earliest_expiration(self) -> int | None:
        return min(
            (s.earliest_expiration for s in self.servers if s.earliest_expiration is not None),
            default=None,
        )


def unchecked_result(zone: str, at: float, error: str) -> ZoneResult:
    return ZoneResult(
        zone=zone,
        checked_at=at,
        verdict=UNCHECKED,
        exit_code=None,
        error=error,
        conditions={Condition.UNCHECKED: f"{zone} could not be checked: {error}"},
    )


def zone_result(
    zone: str,
    report: Report,
    *,
    threshold: float = DEFAULT_EXPIRY_THRESHOLD,
    report_json: dict[str, object] | None = None,
) -> ZoneResult:
    analysis = report.analysis
    now = analysis.now
    assessment = _assessment(zone, analysis.zones)
    if assessment is None:
        return unchecked_result(zone, now, "the probe reached no zone")
    apex = dns.name.from_text(assessment.zone) == dns.name.from_text(zone)
    state = read_state(report).zone(assessment.zone)
    servers = tuple(
        ServerResult(v.server, v.serial, v.earliest_expiration, v.state.value)
        for v in assessment.servers
    )
    # Findings that say the DS at the parent no longer matches the zone's keys.
    mismatches = sorted({f.code for f in assessment.findings if CODES[f.code].link is Link.DS})
    ds_match: bool | None = None
    if assessment.ds_records:
        ds_match = not mismatches
    soa_expire = state.soa_expire if state is not None else None
    result = ZoneResult(
        zone=assessment.zone if apex else zone,
        checked_at=now,
        verdict=report.diagnosis.verdict.value,
        exit_code=int(exit_code(report.diagnosis)),
        servers=servers,
        ds_match=ds_match,
        soa_expire=soa_expire,
        report=report_json,
    )
    conditions = judge_conditions(result, threshold)
    verdict = report.diagnosis.verdict.value
    if verdict in FAILING_VERDICTS:
        conditions[Condition.FAILING] = f"{zone} is {verdict}: {report.diagnosis.headline}"
    if not apex:
        # A mistyped zone must not be watched in silence (nor its parent in its place).
        conditions[Condition.NOT_A_ZONE] = (
            f"{zone} does not exist (NXDOMAIN in {assessment.zone}): a mistyped zone?"
            if analysis.outcome == "nxdomain"
            else f"{zone} is not a zone: it is a name in {assessment.zone} (watch the zone)"
        )
    if ds_match is False:
        conditions[Condition.DS_MISMATCH] = (
            f"the DS of {assessment.zone} at the parent does not match its keys "
            f"({', '.join(mismatches)})"
        )
    return dataclasses.replace(result, conditions=conditions)


def judge_conditions(result: ZoneResult, threshold: float) -> dict[Condition, str]:
    conditions: dict[Condition, str] = {}
    now = result.checked_at
    soon = [
        (s.server, s.earliest_expiration)
        for s in result.servers
        if s.earliest_expiration is not None and s.earliest_expiration - now < threshold
    ]
    if soon:
        server, expiry = min(soon, key=lambda pair: pair[1])
        when = (
            f"expired {human_duration(now - expiry)} ago"
            if expiry <= now
            else f"expire in {human_duration(expiry - now)}"
        )
        conditions[Condition.EXPIRING] = (
            f"signatures of {result.zone} on {server} {when} (threshold "
            f"{human_duration(threshold)})"
        )
    earliest = result.earliest_expiration
    if result.soa_expire and earliest is not None and now < earliest < now + result.soa_expire:
        conditions[Condition.EXPIRES_BEFORE_SOA_EXPIRE] = (
            f"signatures of {result.zone} expire in {human_duration(earliest - now)}, before "
            f"the SOA expire interval ({human_duration(result.soa_expire)}): a secondary cut "
            "off from its primary would serve expired signatures"
        )
    serials = {s.serial for s in result.servers if s.serial is not None}
    states = {s.state for s in result.servers if s.state != "unreachable"}
    if len(serials) > 1 or len(states) > 1:
        detail = ", ".join(f"{s.server} serial {s.serial} {s.state}" for s in result.servers)
        conditions[Condition.SERVERS_DISAGREE] = f"the servers of {result.zone} disagree: {detail}"
    return conditions


def _assessment(zone: str, zones: tuple[ZoneAssessment, ...]) -> ZoneAssessment | None:
    wanted = dns.name.from_text(zone)
    for assessment in zones:
        if dns.name.from_text(assessment.zone) == wanted:
            return assessment
    return zones[-1] if zones else None
