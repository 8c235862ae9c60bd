"""The report of ``zone verify``: status first, then findings (examples per code, with the
count of all), the DS to send to the registrar, and the expiry forecast.

Pure: takes a verification, returns text or a JSON-ready dict.
"""

from __future__ import annotations

from typing import Any

from dnssec_doctor import __version__
from dnssec_doctor.analysis.codes import lookup
from dnssec_doctor.model.finding import Severity
from dnssec_doctor.model.time_text import human_duration, iso_utc
from dnssec_doctor.render.json import finding_json
from dnssec_doctor.render.terminal import Painted, terminal_text
from dnssec_doctor.verify.zone import Verification

JSON_VERSION = 1

_STATUS_COLOUR = {"valid": "32", "valid with warnings": "33", "invalid": "31"}
_SEVERITY_COLOUR = {
    Severity.ERROR: "31",
    Severity.WARNING: "33",
    Severity.NOTICE: "36",
    Severity.INFO: "2",
}


def render_verification_text(result: Verification, *, colour: bool = False) -> str:
    counts = result.counts
    by_severity: dict[Severity, int] = {}
    for code, count in counts.items():
        severity = lookup(code).severity
        by_severity[severity] = by_severity.get(severity, 0) + count
    tally = ", ".join(
        f"{by_severity[s]} {s.label}{'' if by_severity[s] == 1 else 's'}"
        for s in (Severity.ERROR, Severity.WARNING, Severity.NOTICE)
        if by_severity.get(s)
    )
    banner = f"{result.zone} ({result.source}): {result.status.upper()}"
    if tally:
        banner += f" — {tally}"
    lines: list[str | Painted] = [Painted(banner, f"1;{_STATUS_COLOUR[result.status]}")]
    lines.append(
        f"  {result.records:,} records, {result.rrsets:,} RRsets, {result.names:,} names; "
        f"{result.signatures:,} signatures checked, {result.valid_signatures:,} valid; "
        f"denial: {result.denial}; judged at {iso_utc(result.now)}"
    )
    lines.append("")
    shown: dict[str, int] = {}
    if result.findings:
        lines.append("Findings")
        for finding in result.findings:
            tag = f"{finding.severity.label:<7}"
            lines.append(
                Painted(
                    f"  {tag} {finding.code}: {finding.summary}",
                    _SEVERITY_COLOUR[finding.severity],
                    2,
                    2 + len(tag),
                )
            )
            lines += [f"            {record}" for record in finding.records[:4]]
            shown[finding.code] = shown.get(finding.code, 0) + 1
        more = [
            f"  … and {count - shown.get(code, 0):,} more with {code}"
            for code, count in sorted(counts.items())
            if count > shown.get(code, 0)
        ]
        lines += more
        lines.append("")
    if result.ds_to_publish:
        source = {
            "--ds": "checked against the DS given",
            "CDS": "checked against the zone's CDS",
            "CDNSKEY": "checked against the zone's CDNSKEY",
            "none": "no DS given: the SEP keys stood in for it",
        }[result.ds_source]
        lines.append(f"DS to send to the registrar ({source})")
        lines += [f"  {record}" for record in result.ds_to_publish]
        lines.append("")
    forecast = result.forecast
    lines.append("Expiry forecast")
    if forecast.earliest_expiration is None:
        lines.append("  no valid signature")
    else:
        lines.append(
            f"  earliest expiry    {iso_utc(forecast.earliest_expiration)} "
            f"(in {human_duration(forecast.earliest_expiration - result.now)}), "
            f"{forecast.earliest_rrset}"
        )
        for horizon, count in forecast.horizons:
            lines.append(f"  within {human_duration(horizon):<10} {count:,} signatures expire")
        lines.append(
            f"  before SOA expire ({human_duration(forecast.soa_expire)}): "
            f"{forecast.before_soa_expire:,} signatures"
        )
    if result.mode:
        lines.append("")
        took = result.stats.get("seconds")
        lines.append(
            f"read {result.mode}" + (f" in {took:.2f} s" if took is not None else "") + "."
        )
    return terminal_text(lines, colour=colour).rstrip() + "\n"


def render_verification_json(result: Verification) -> dict[str, Any]:
    forecast = result.forecast
    return {
        "version": JSON_VERSION,
        "tool": f"dnssec-doctor {__version__}",
        "zone": result.zone,
        "source": result.source,
        "status": result.status,
        "exit_code": result.exit_code,
        "judged_at": iso_utc(result.now),
        "counts": dict(sorted(result.counts.items())),
        "findings": [finding_json(f) for f in result.findings],
        "ds_to_publish": list(result.ds_to_publish),
        "ds_source": result.ds_source,
        "forecast": {
            "earliest_expiration": iso_utc(forecast.earliest_expiration)
            if forecast.earliest_expiration is not None
            else None,
            "earliest_rrset": forecast.earliest_rrset,
            "horizons": [
                {"seconds": int(horizon), "expiring": count} for horizon, count in forecast.horizons
            ],
            "soa_expire": forecast.soa_expire,
            "before_soa_expire": forecast.before_soa_expire,
        },
        "stats": {
            "records": result.records,
            "rrsets": result.rrsets,
            "names": result.names,
            "signatures": result.signatures,
            "valid_signatures": result.valid_signatures,
            "denial": result.denial,
            "mode": result.mode,
            **result.stats,
        },
    }
