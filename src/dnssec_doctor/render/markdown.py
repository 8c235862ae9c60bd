"""``check --format markdown``: a report to paste into a registrar's or a DNS provider's
ticket — the verdict, the evidence records, what to ask them to do, and how to check it.

Pure: takes a report, returns Markdown. Strings from DNS are hostile: in running text
every character Markdown or HTML would act on is escaped; records and commands go into
fenced blocks whose fence is longer than any backtick run inside; everything is made
printable first.
"""

from __future__ import annotations

import re

from dnssec_doctor import __version__
from dnssec_doctor.analysis.resolvers import ede_name
from dnssec_doctor.diagnosis.report import Report
from dnssec_doctor.model.diagnosis import Actor
from dnssec_doctor.model.time_text import iso_utc as iso
from dnssec_doctor.render.plan import (
    path_title,
    plan_cautions,
    step_details,
    step_sentence,
    step_tag,
)
from dnssec_doctor.render.sentences import conclusion_text, ede_text, headline_text, view_texts
from dnssec_doctor.render.terminal import printable

# What Markdown or HTML acts on inside running text (emphasis, code, links, tables,
# tags, entities); "." and "-" matter only at a line's start, where our own words are.
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#!|~&])")


def text(value: str) -> str:
    """Running text: printable, every Markdown and HTML metacharacter escaped."""
    return _SPECIAL.sub(r"\\\1", printable(value))


def block(lines: list[str]) -> list[str]:
    """A fenced block that no line inside can close."""
    body = [printable(line) for line in lines]
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *body, fence]


def render_markdown(report: Report) -> str:
    diagnosis = report.diagnosis
    analysis = report.analysis
    verdict = diagnosis.verdict.value.upper()
    if diagnosis.name_missing:
        verdict = f"DOES NOT EXIST (NXDOMAIN, {diagnosis.verdict.value})"
    if diagnosis.headline.forecast_at is not None:
        verdict += f", forecast for {iso(diagnosis.headline.forecast_at)}"
    lines = [
        f"# DNSSEC report: {text(diagnosis.name)} {text(diagnosis.rdtype)} is {text(verdict)}",
        "",
        f"**{text(headline_text(diagnosis))}**",
        "",
    ]
    if ede_text(diagnosis):
        lines += [text(ede_text(diagnosis)), ""]
    lines += [text(conclusion_text(diagnosis.views)), ""]
    asks = sorted(
        {s.actor for s in diagnosis.recovery.steps if s.actor not in (Actor.NOBODY, Actor.YOU)},
        key=list(Actor).index,
    )
    if asks:
        who = ", ".join(actor.value for actor in asks)
        lines += [f"Who can act: {text(who)}.", ""]
    if diagnosis.recovery:
        lines += ["## What to do", ""]
        if len(diagnosis.recovery.paths) > 1:
            lines += [
                "These are alternatives: follow one path from its first step to its last.",
                "",
            ]
        for path in diagnosis.recovery.paths:
            lines += [f"### {text(path_title(path, alone=len(diagnosis.recovery.paths) == 1))}", ""]
            for number, step in enumerate(path.steps, start=1):
                lines.append(f"{number}. **{text(step_tag(step))}**: {text(step_sentence(step))}")
                details = step_details(step)
                if details:
                    lines += ["", *("   " + line for line in block(details))]
                    lines.append("")
            lines.append("")
        for caution in plan_cautions(diagnosis.recovery):
            lines += [f"> {text(caution)}", ""]
    if diagnosis.causes:
        lines += ["## Evidence", ""]
        for finding in diagnosis.causes:
            lines.append(f"- `{finding.code}`: {text(finding.summary)}")
            if finding.servers:
                lines.append(f"  (seen on {text(', '.join(finding.servers))})")
            if finding.records:
                lines += ["", *("  " + line for line in block(list(finding.records))), ""]
        lines.append("")
    seen = view_texts(diagnosis.views)
    lines += [
        "## Four views",
        "",
        "| view | observed |",
        "| --- | --- |",
        f"| authoritative servers | {text(seen['authoritative'])} |",
        f"| validating resolvers | {text(seen['validating'])} |",
        f"| checking disabled (+cd) | {text(seen['checking_disabled'])} |",
        f"| DS at the parent | {text(seen['parent_ds'])} |",
        "",
    ]
    if analysis.resolvers:
        lines += ["| resolver | rcode | AD | +cd | EDE |", "| --- | --- | --- | --- | --- |"]
        for r in analysis.resolvers:
            ede = "; ".join(
                f"{code} {ede_name(code)}" + (f": {t}" if t else "") for code, t in r.ede
            )
            lines.append(
                f"| {text(r.address)} | {text(r.rcode or r.error or '-')} | "
                f"{'AD' if r.ad else '-'} | {text(r.cd_rcode or '-')} | {text(ede or '-')} |"
            )
        lines.append("")
    lines += [
        f"Checked with dnssec-doctor {text(__version__)}: {len(report.snapshot.exchanges)} "
        f"queries, collected {iso(report.snapshot.collected_at)}, judged at {iso(analysis.now)}.",
        "",
    ]
    return "\n".join(lines)
