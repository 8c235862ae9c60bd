"""Renderers of a change window: the diff (text, JSON) and the planned-DS pre-flight."""

from __future__ import annotations

from typing import Any

from dnssec_doctor.change.diff import Diff, Impact
from dnssec_doctor.change.planned import PlannedDsResult
from dnssec_doctor.render.terminal import terminal_text

_MARK = {Impact.EXPECTED: "ok      ", Impact.RISKY: "RISKY   ", Impact.BREAKING: "BREAKING"}


def render_diff_text(diff: Diff) -> str:
    decision = diff.decision
    lines = [
        f"{decision.value.upper()}: {diff.name} {diff.rdtype}  "
        f"({diff.before.verdict} -> {diff.after.verdict})",
    ]
    if not diff.changes:
        lines.append("  no change in DS, DNSKEY, signatures, serials or server state")
    for change in sorted(diff.changes, key=lambda c: -c.impact):
        where = f"{change.zone} " if change.zone else ""
        lines.append(f"  {_MARK[change.impact]} {change.kind.value:<16} {where}{change.subject}")
        lines.append(f"           {change.detail}")
    counts = {i: sum(1 for c in diff.changes if c.impact is i) for i in Impact}
    lines.append(
        f"{len(diff.changes)} changes: {counts[Impact.BREAKING]} breaking, "
        f"{counts[Impact.RISKY]} risky, {counts[Impact.EXPECTED]} expected"
    )
    return terminal_text(lines, colour=False) + "\n"


def render_diff_json(diff: Diff) -> dict[str, Any]:
    return {
        "name": diff.name,
        "type": diff.rdtype,
        "decision": diff.decision.value,
        "before": {"verdict": diff.before.verdict, "collected_at": diff.before.collected_at},
        "after": {"verdict": diff.after.verdict, "collected_at": diff.after.collected_at},
        "changes": [
            {
                "kind": c.kind.value,
                "zone": c.zone,
                "subject": c.subject,
                "impact": c.impact.label,
                "detail": c.detail,
                "servers": list(c.servers),
            }
            for c in diff.changes
        ],
    }


def render_planned_ds_text(result: PlannedDsResult) -> str:
    lines = [("SAFE: " if result.ok else "UNSAFE: ") + result.summary]
    for check in result.servers:
        lines.append(f"  {'ok  ' if check.ok else 'FAIL'} {check.server}: {check.detail}")
    return terminal_text(lines, colour=False) + "\n"


def render_planned_ds_json(result: PlannedDsResult) -> dict[str, Any]:
    return {
        "zone": result.zone,
        "ds": result.planned.ds.to_text(),
        "ok": result.ok,
        "summary": result.summary,
        "servers": [{"server": c.server, "ok": c.ok, "detail": c.detail} for c in result.servers],
    }
