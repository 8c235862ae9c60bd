"""The terminal report: verdict first, then cause, fix steps, the four views, evidence.

Pure: takes a report and whether to colour, returns the text.
"""

from __future__ import annotations

from dnssec_doctor.analysis.resolvers import ede_name
from dnssec_doctor.diagnosis.report import Report
from dnssec_doctor.model.finding import Finding, Severity
from dnssec_doctor.model.verdict import Verdict
from dnssec_doctor.render.json import iso

_VERDICT_COLOUR = {
    Verdict.SECURE: "32",  # green
    Verdict.INSECURE: "33",  # yellow
    Verdict.BOGUS: "31",  # red
    Verdict.PARTIAL: "31",
    Verdict.UNREACHABLE: "35",  # magenta
    Verdict.INDETERMINATE: "35",
}
_SEVERITY_COLOUR = {
    Severity.ERROR: "31",
    Severity.WARNING: "33",
    Severity.NOTICE: "36",
    Severity.INFO: "2",
}


class _Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text

    def bold(self, text: str) -> str:
        return self(text, "1")


def _wait(seconds: int) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60} s" if seconds % 60 else f"{seconds // 60} min"
    return f"{seconds} s"


def _finding_lines(finding: Finding, style: _Style, *, evidence: bool) -> list[str]:
    tag = style(f"{finding.severity.label:<7}", _SEVERITY_COLOUR[finding.severity])
    lines = [f"  {tag} {finding.code}: {finding.summary}"]
    if evidence:
        if finding.servers:
            lines.append(f"            seen on: {', '.join(finding.servers)}")
        lines += [f"            {record}" for record in finding.records]
    return lines


def render_text(report: Report, *, colour: bool = False, log: bool = False) -> str:
    style = _Style(colour)
    diagnosis = report.diagnosis
    analysis = report.analysis
    verdict = diagnosis.verdict
    banner = f"{diagnosis.name} {diagnosis.rdtype}: {verdict.value.upper()}"
    if diagnosis.ede is not None:
        banner += f" (EDE {diagnosis.ede}, {ede_name(diagnosis.ede)})"
    lines = [style(style.bold(banner), _VERDICT_COLOUR[verdict]), diagnosis.headline, ""]

    views = diagnosis.views
    lines += [
        style.bold("Is DNSSEC the failing layer?"),
        f"  authoritative       {views.authoritative}",
        f"  validating          {views.validating}",
        f"  checking disabled   {views.checking_disabled}",
        f"  parent DS           {views.parent_ds}",
        f"  => {views.conclusion}",
        "",
    ]
    if diagnosis.causes:
        lines.append(
            style.bold("Cause" if len(diagnosis.causes) == 1 else "Causes (primary first)")
        )
        for finding in diagnosis.causes:
            lines += _finding_lines(finding, style, evidence=True)
        lines.append("")
    if diagnosis.recovery:
        lines.append(style.bold("What to do, in this order"))
        for number, step in enumerate(diagnosis.recovery, start=1):
            lines.append(f"  {number}. [{step.actor.value}] {step.action}")
            lines += [f"       {record}" for record in step.records]
            if step.why:
                lines.append(f"       ({step.why})")
            if step.wait_seconds:
                lines.append(f"       then wait {_wait(step.wait_seconds)}")
        if diagnosis.recovery_note:
            lines.append(f"  Recovery: {diagnosis.recovery_note}")
        lines.append("")

    lines.append(style.bold("Chain of trust"))
    for zone in analysis.zones:
        lines.append(f"  {zone.zone:<32} {zone.state.value}")
        for record in zone.ds_records:
            lines.append(f"      parent DS  {record.split(' IN DS ', 1)[-1]}")
        if zone.ds_to_publish and zone.state.value != "secure":
            for record in zone.ds_to_publish:
                lines.append(f"      live KSK   {record}")
        for server in zone.servers:
            expiry = iso(server.earliest_expiration) if server.earliest_expiration else "-"
            keys = ",".join(str(t) for t in server.dnskey_tags) or "-"
            lines.append(
                f"      {server.server:<44} serial {server.serial or '-'}  keys {keys}  "
                f"first RRSIG expiry {expiry}  {server.state.value}"
            )
    lines.append("")
    if analysis.resolvers:
        lines.append(style.bold("Resolvers"))
        for resolver in analysis.resolvers:
            if not resolver.answered:
                lines.append(f"  {resolver.address:<16} no answer ({resolver.error})")
                continue
            ede = "; ".join(
                f"EDE {code} {ede_name(code)}" + (f": {text}" if text else "")
                for code, text in resolver.ede
            )
            lines.append(
                f"  {resolver.address:<16} {resolver.rcode:<9} {'AD' if resolver.ad else '--'}  "
                f"+cd {resolver.cd_rcode or '-':<9} {ede}"
            )
        lines.append("")
    others = [
        f for f in analysis.findings if f not in diagnosis.causes and f.severity >= Severity.NOTICE
    ]
    if others:
        lines.append(style.bold("Other findings"))
        for finding in others:
            lines += _finding_lines(finding, style, evidence=False)
        lines.append("")
    for note in analysis.notes:
        lines.append(f"note: {note}")
    sent = report.snapshot.exchanges
    hint = "" if log else " The incident log (--log, or --json) has each query and its dig command."
    lines.append(
        f"{len(sent)} queries, collected {iso(report.snapshot.collected_at)}, judged at "
        f"{iso(analysis.now)}.{hint}"
    )
    if log:
        lines += ["", style.bold("Incident log")]
        for exchange in sent:
            outcome = exchange.error or ("answered" if exchange.response else "no answer")
            lines.append(f"  {iso(exchange.sent_at)}  {exchange.dig_command():<70}  {outcome}")
    return "\n".join(lines).rstrip() + "\n"
