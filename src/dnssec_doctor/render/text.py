"""The terminal report: verdict first, then cause, fix steps, then the evidence (the four
views, the chain of trust, the resolvers, other findings).

Pure: takes a report and whether to colour, returns the text.
"""

from __future__ import annotations

from dnssec_doctor.analysis.codes import CODES, Family
from dnssec_doctor.analysis.resolvers import ede_name
from dnssec_doctor.diagnosis.report import Report
from dnssec_doctor.model.finding import Finding, Severity
from dnssec_doctor.model.time_text import iso_utc
from dnssec_doctor.model.verdict import Verdict
from dnssec_doctor.render.exchange import exchange_outcome, outcome_text
from dnssec_doctor.render.plan import plan_lines
from dnssec_doctor.render.sentences import conclusion_text, ede_text, headline_text, view_texts
from dnssec_doctor.render.terminal import Painted, terminal_text
from dnssec_doctor.render.validators import public_resolver_lines, validator_lines

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


def _bold(text: str) -> Painted:
    return Painted(text, "1")


def _sentence(text: str) -> str:
    """End a sentence once: a name's trailing dot serves as the full stop, so
    "... for example.com.." reads "... for example.com."."""
    if text.endswith("..") and not text.endswith("\\.."):
        return text[:-1]
    return text


def _is_resolver_finding(finding: Finding) -> bool:
    """Resolver findings are the Resolvers table, line for line; listing them again as
    findings only buries the rest."""
    code = CODES.get(finding.code)
    return code is not None and code.family is Family.RESOLVERS


def _finding_lines(finding: Finding, *, evidence: bool) -> list[str | Painted]:
    tag = f"{finding.severity.label:<7}"
    lines: list[str | Painted] = [
        Painted(
            f"  {tag} {finding.code}: {finding.summary}",
            _SEVERITY_COLOUR[finding.severity],
            2,
            2 + len(tag),
        )
    ]
    if evidence:
        if finding.servers:
            lines.append(f"            seen on: {', '.join(finding.servers)}")
        lines += [f"            {record}" for record in finding.records]
    return lines


def banner(report: Report) -> tuple[str, str]:
    """The report's first line and its colour: name, type, verdict (never a healthy word
    over a name that does not exist), and whether it is a forecast (--at)."""
    diagnosis = report.diagnosis
    verdict = diagnosis.verdict
    text = f"{diagnosis.name} {diagnosis.rdtype}: {verdict.value.upper()}"
    colour = _VERDICT_COLOUR[verdict]
    if diagnosis.name_missing and verdict in (Verdict.SECURE, Verdict.INSECURE):
        # Never a green "SECURE" over a name that does not exist.
        text = f"{diagnosis.name} {diagnosis.rdtype}: DOES NOT EXIST (NXDOMAIN, {verdict.value})"
        colour = _VERDICT_COLOUR[Verdict.UNREACHABLE]
    if diagnosis.headline.forecast_at is not None:
        text += f" (forecast for {iso_utc(diagnosis.headline.forecast_at)})"
    return text, colour


def render_brief(report: Report, *, colour: bool = False) -> str:
    """check --brief: one line, the banner, the headline and the EDE."""
    text, paint = banner(report)
    parts = [text, headline_text(report.diagnosis)]
    if ede_text(report.diagnosis):
        parts.append(ede_text(report.diagnosis))
    return terminal_text([Painted(" - ".join(parts), f"1;{paint}")], colour=colour) + "\n"


def render_text(
    report: Report, *, colour: bool = False, log: bool = False, width: int | None = None
) -> str:
    """The report; ``width``: fold longer lines to it (a terminal's width), None: never."""
    diagnosis = report.diagnosis
    analysis = report.analysis
    verdict = diagnosis.verdict
    views = diagnosis.views
    warnings = [f for f in diagnosis.warnings if not _is_resolver_finding(f)]
    first, first_colour = banner(report)
    if warnings and verdict in (Verdict.SECURE, Verdict.INSECURE):
        first += f", {len(warnings)} warning" + ("" if len(warnings) == 1 else "s")
    lines: list[str | Painted] = [
        Painted(first, f"1;{first_colour}"),
        headline_text(diagnosis),
    ]
    if ede_text(diagnosis):  # the cause leads; the EDE that goes with it comes second
        lines.append(ede_text(diagnosis))
    if verdict is not Verdict.SECURE:  # "validates" already says it
        lines.append(conclusion_text(views))
    lines.append("")

    if diagnosis.causes:
        lines.append(_bold("Cause" if len(diagnosis.causes) == 1 else "Causes (primary first)"))
        for finding in diagnosis.causes:
            lines += _finding_lines(finding, evidence=True)
        lines.append("")
    if warnings:
        lines.append(_bold("Warnings"))
        for finding in warnings:
            lines += _finding_lines(finding, evidence=False)
        lines.append("")
    if diagnosis.recovery:
        alternatives = len(diagnosis.recovery.paths) > 1
        lines.append(_bold("What to do: follow one path" if alternatives else "What to do"))
        lines += plan_lines(diagnosis.recovery)
        lines.append("")

    if diagnosis.validators:
        lines.append(_bold("What each validator will answer (measured on the lab's releases)"))
        lines += validator_lines(diagnosis.validators)
        lines.append("")
    if any(a.documented for a in diagnosis.public_resolvers):
        lines.append(
            _bold("What the public resolvers document (their operators' pages, not measured)")
        )
        lines += public_resolver_lines(diagnosis.public_resolvers)
        lines.append("")
    seen = view_texts(views)
    lines += [
        _bold("Four views (is DNSSEC the failing layer?)"),
        f"  authoritative       {seen['authoritative']}",
        f"  validating          {seen['validating']}",
        f"  checking disabled   {seen['checking_disabled']}",
        f"  parent DS           {seen['parent_ds']}",
        "",
    ]
    lines.append(_bold("Chain of trust"))
    for zone in analysis.zones:
        state = zone.state.value
        if any(f.code == "NSEC3_ITERATIONS_EXCESSIVE" for f in zone.findings):
            state += "; denial of existence insecure (NSEC3 iterations over the limit)"
        lines.append(f"  {zone.zone:<32} {state}")
        parent_ds = [_ds_rdata(record) for record in zone.ds_records]
        for record in parent_ds:
            lines.append(f"      parent DS     {record}")
        if zone.state.value != "secure":
            # The DS the live KSK needs, when the parent does not have it already.
            for record in zone.ds_to_publish:
                if _ds_rdata(record) not in parent_ds:
                    lines.append(f"      live KSK DS   {_ds_rdata(record)}")
        for server in zone.servers:
            if not server.answered:
                lines.append(f"      {server.server:<44} no answer  {server.state.value}")
                continue
            expiry = iso_utc(server.earliest_expiration) if server.earliest_expiration else "-"
            keys = ",".join(str(t) for t in server.dnskey_tags) or "-"
            lines.append(
                f"      {server.server:<44} serial {server.serial or '-'}  keys {keys}  "
                f"earliest RRSIG expiry {expiry}  {server.state.value}"
            )
    lines.append("")
    if analysis.resolvers:
        lines.append(_bold("Resolvers"))
        for resolver in analysis.resolvers:
            if not resolver.answered:
                lines.append(f"  {resolver.address:<16} no answer ({resolver.error})")
                continue
            ede = "; ".join(
                f"EDE {code} {ede_name(code)}" + (f": {text}" if text else "")
                for code, text in resolver.ede
            )
            line = (
                f"  {resolver.address:<16} {resolver.rcode:<9} {'AD' if resolver.ad else '--'}  "
                f"+cd {resolver.cd_rcode or '-':<9} {ede}"
            )
            if resolver.validates is False:
                line = line.rstrip() + "  (not validating: no AD even at the trust anchor)"
            lines.append(line.rstrip())
        lines.append("")
    others = [
        f
        for f in analysis.findings
        if f.severity >= Severity.NOTICE
        and f not in diagnosis.causes
        and f not in warnings
        and not _is_resolver_finding(f)
    ]
    if others:
        lines.append(_bold("Other findings"))
        for finding in others:
            lines += _finding_lines(finding, evidence=False)
        lines.append("")
    for note in analysis.notes:
        lines.append(f"note: {note}")
    sent = report.snapshot.exchanges
    hint = "" if log else " The incident log (--log, or --json) has each query and its dig command."
    lines.append(
        f"{len(sent)} queries, collected {iso_utc(report.snapshot.collected_at)}, judged at "
        f"{iso_utc(analysis.now)}.{hint}"
    )
    if log:
        lines += ["", _bold("Incident log")]
        for exchange in sent:
            outcome = outcome_text(exchange_outcome(exchange))
            lines.append(f"  {iso_utc(exchange.sent_at)}  {exchange.dig_command():<70}  {outcome}")
    return terminal_text(lines, colour=colour, width=width).rstrip() + "\n"


def _ds_rdata(record: str) -> str:
    """The DS fields without owner, TTL and class: "12345 13 2 abcd..."."""
    return record.split(" IN DS ", 1)[-1]
