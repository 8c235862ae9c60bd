"""Severity profiles: a file that overrides the code table's default severities.

What a site treats as an error is policy (Zonemaster's profile idea): a profile changes
the severity each finding of a code is reported with, so what the report lists as a
warning, and whether a healthy check exits 1 — a code raised to warning or error does, a
code lowered below warning no longer does. It never changes the verdict, the cause or
the recovery plan: those follow what validators do, whatever the site's policy.

The file is TOML, one table ``[severity]`` of ``CODE = "error" | "warning" | "notice" |
"info"``:

    # dnssec-doctor severity profile (check --profile FILE)
    [severity]
    RRSIG_EXPIRES_SOON = "error"
    DNSKEY_ALGORITHM_DEPRECATED = "warning"
    NSEC3_ITERATIONS_NONZERO = "info"
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

from dnssec_doctor.analysis.codes import CODES
from dnssec_doctor.errors import UsageError
from dnssec_doctor.model.finding import Finding, Severity

if TYPE_CHECKING:
    from dnssec_doctor.analysis.chain import Analysis

_SEVERITIES = {s.label: s for s in Severity}


Profile = Mapping[str, Severity]  # severity overrides by code; empty: the defaults


def is_warning(finding: Finding, profile: Profile) -> bool:
    """Whether the report lists ``finding`` as a warning (unless it is a cause)."""
    if finding.code in profile:
        return finding.severity >= Severity.WARNING
    return finding.severity is Severity.WARNING


def sets_exit_warning(code: str, profile: Profile) -> bool:
    """Whether a finding of ``code`` makes a healthy check exit 1."""
    if code in profile:
        return profile[code] >= Severity.WARNING
    return CODES[code].exit_warning


def parse_severity_profile(text: str, source: str) -> Profile:
    """The profile in ``text`` (read from ``source``, named in errors)."""
    import tomllib  # only for --profile: a check without one does not load it

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{source} is not a TOML profile: {error}") from None
    unknown_tables = sorted(set(data) - {"severity"})
    if unknown_tables:
        raise UsageError(
            f"{source}: unknown table {unknown_tables[0]!r}", hint="a profile has one [severity]"
        )
    table = data.get("severity", {})
    if not isinstance(table, dict):
        raise UsageError(f"{source}: severity must be a table", hint="write [severity]")
    severities: dict[str, Severity] = {}
    for code, level in table.items():
        if code not in CODES:
            raise UsageError(
                f"{source}: unknown code {code!r}", hint="dnssec-doctor codes lists them"
            )
        if not isinstance(level, str) or level.lower() not in _SEVERITIES:
            raise UsageError(
                f"{source}: {code} = {level!r} is not a severity",
                hint="one of " + ", ".join(_SEVERITIES),
            )
        severities[code] = _SEVERITIES[level.lower()]
    return severities


def apply_profile(analysis: Analysis, profile: Profile) -> Analysis:
    """The analysis with every finding at its profile severity (states unchanged)."""
    if not profile:
        return analysis

    def judged(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
        return tuple(
            dataclasses.replace(f, severity=profile.get(f.code, f.severity)) for f in findings
        )

    return dataclasses.replace(
        analysis,
        findings=judged(analysis.findings),
        answer_findings=judged(analysis.answer_findings),
        zones=tuple(dataclasses.replace(z, findings=judged(z.findings)) for z in analysis.zones),
    )
