"""``check --nagios``: the monitoring-plugins output convention (Nagios, Icinga, Naemon).

One status line ``DNSSEC <STATE> - <text> | <performance data>``, then as long output the
causes and the recovery plan (the same paths and steps as the text report), and the exit
code the monitoring core reads: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Performance data:
seconds to the earliest signature expiry (overall and per zone, with the warning threshold
and 0 as critical), servers answering, servers whose data validates, the probe's duration
and its queries.
"""

from __future__ import annotations

import enum

from dnssec_doctor.diagnosis.report import Report
from dnssec_doctor.model.verdict import Verdict
from dnssec_doctor.render.plan import plan_lines
from dnssec_doctor.render.sentences import headline_text
from dnssec_doctor.render.terminal import printable, terminal_text


class PluginState(enum.IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


def plugin_state(report: Report, critical_seconds: float = 0.0) -> PluginState:
    verdict = report.diagnosis.verdict
    if verdict in (Verdict.BOGUS, Verdict.PARTIAL, Verdict.UNREACHABLE):
        return PluginState.CRITICAL
    earliest = _earliest_expiry(report)
    if (
        critical_seconds > 0
        and earliest is not None
        and earliest - report.analysis.now < (critical_seconds)
    ):
        return PluginState.CRITICAL
    if report.analysis.outcome == "nxdomain":  # the monitored name is gone
        return PluginState.CRITICAL
    if verdict is Verdict.INDETERMINATE:
        return PluginState.UNKNOWN
    return PluginState.WARNING if report.diagnosis.exit_warning else PluginState.OK


def _earliest_expiry(report: Report) -> int | None:
    return min(
        (
            s.earliest_expiration
            for z in report.analysis.zones
            for s in z.servers
            if s.earliest_expiration is not None
        ),
        default=None,
    )


def render_nagios(
    report: Report, *, warning_seconds: float, critical_seconds: float = 0.0
) -> tuple[str, int]:
    """The plugin output and its exit code (``warning_seconds`` and ``critical_seconds``:
    -w and -c, how soon a signature may expire before WARNING and CRITICAL)."""
    state = plugin_state(report, critical_seconds)
    diagnosis = report.diagnosis
    analysis = report.analysis
    now = analysis.now
    text = (
        f"{diagnosis.name} {diagnosis.rdtype} {diagnosis.verdict.value}: {headline_text(diagnosis)}"
    )
    text = text.replace("|", "/")  # "|" starts the performance data
    perf: list[str] = []
    expiries = {
        z.zone: min(
            (s.earliest_expiration for s in z.servers if s.earliest_expiration is not None),
            default=None,
        )
        for z in analysis.zones
    }
    known = [e for e in expiries.values() if e is not None]
    if known:
        perf.append(_perf("expiry", min(known) - now, warning_seconds, critical_seconds))
    for zone, expiry in expiries.items():
        if expiry is not None:
            perf.append(_perf(f"expiry {zone}", expiry - now, warning_seconds, critical_seconds))
    views = [s for z in analysis.zones for s in z.servers]
    perf.append(f"servers={len(views)};;;0;")
    perf.append(f"servers_answering={sum(1 for s in views if s.answered)};;;0;")
    valid = sum(1 for s in views if s.state.value in ("secure", "insecure"))
    perf.append(f"servers_valid={valid};;;0;")
    snapshot = report.snapshot
    perf.append(f"probe_time={snapshot.finished_at - snapshot.collected_at:.3f}s;;;0;")
    perf.append(f"queries={len(snapshot.exchanges)};;;0;")
    lines = [f"DNSSEC {state.name} - {text} | {' '.join(perf)}"]
    for finding in (*diagnosis.causes, *diagnosis.warnings):
        lines.append(
            f"{finding.severity.label}: {finding.code}: {finding.summary}".replace("|", "/")
        )
    if diagnosis.recovery:
        lines.append("What to do:")
        lines += [line.replace("|", "/") for line in plan_lines(diagnosis.recovery)]
    return terminal_text(lines, colour=False) + "\n", int(state)


def unknown(message: str) -> tuple[str, int]:
    """The plugin output when the check itself could not run."""
    return f"DNSSEC UNKNOWN - {printable(message.replace('|', '/'))}\n", int(PluginState.UNKNOWN)


def _perf(label: str, seconds: float, warning: float, critical: float = 0.0) -> str:
    # The plugin guidelines: a label with a space, "=" or "'" is quoted, and a "'" in it
    # doubled; "|" would start the performance data of a long-output line.
    label = label.replace("|", "/")
    quoted = "'" + label.replace("'", "''") + "'" if any(c in label for c in " ='") else label
    return f"{quoted}={int(seconds)}s;{int(warning)}:;{int(critical)}:;;"
