"""The diagnosis commands: check, probe, analyze, serve, codes, explain — argument
parsing and printing only; the work is the service layer's (``pipeline.py``).

``check`` = ``probe`` + ``analyze``; each stage also runs alone, and ``analyze`` of a
probe's snapshot gives the same result as ``check`` at the snapshot's time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnssec_doctor import pipeline
from dnssec_doctor.arguments import (
    add_profile_argument,
    add_source_arguments,
    parse_at,
    parse_profile,
    source_options,
)
from dnssec_doctor.errors import DoctorError, ExitCode, UsageError
from dnssec_doctor.pipeline import (
    parse_name,
    parse_type,
    probe_settings,
    read_severity_profile,
    read_snapshot,
)
from dnssec_doctor.progress import ProgressLine
from dnssec_doctor.render.terminal import terminal_text
from dnssec_doctor.web.serve import add_serve_arguments, run_serve

if TYPE_CHECKING:
    from dnssec_doctor.diagnosis.report import Report
    from dnssec_doctor.model.options import AnalysisOptions
    from dnssec_doctor.model.snapshot import Snapshot

# The command line is built for every command (zone verify included): the probe, the
# analysis and the renderers are imported by the commands that run them.


def add_check_commands(commands: Any) -> None:
    check = commands.add_parser(
        "check",
        help="diagnose NAME: the broken link, who fixes what, in which order",
        description="Probe the chain of trust from the root to NAME and every resolver, then "
        "diagnose: verdict, cause, evidence, recovery plan.",
    )
    _probe_arguments(check)
    _output_arguments(check)
    check.add_argument(
        "-o",
        "--snapshot",
        "--output",
        dest="snapshot",
        type=Path,
        metavar="FILE",
        help="also write the probe's snapshot to this file (as probe -o does)",
    )
    check.add_argument(
        "--graph", type=Path, metavar="FILE.svg", help="also draw the chain of trust as SVG"
    )
    check.add_argument(
        "--planned-ds",
        metavar="RECORD",
        help="pre-flight: would this DS validate against the keys served now, on every server?",
    )
    check.add_argument(
        "--nagios",
        action="store_true",
        help="monitoring-plugins output and exit codes (OK/WARNING/CRITICAL/UNKNOWN)",
    )
    check.add_argument(
        "-w",
        "--warning",
        metavar="DURATION",
        help="--nagios: WARNING when a signature expires sooner than this (default 3d)",
    )
    check.add_argument(
        "-c",
        "--critical",
        metavar="DURATION",
        help="--nagios: CRITICAL when a signature expires sooner than this (default 0: "
        "only once expired, when validation fails)",
    )

    probe = commands.add_parser(
        "probe", help="collect only: write the snapshot of NAME for later analysis"
    )
    _probe_arguments(probe)
    probe.add_argument(
        "-o",
        "--snapshot",
        "--output",
        dest="output",
        type=Path,
        required=True,
        metavar="FILE",
        help="the snapshot file to write (JSON)",
    )

    analyze = commands.add_parser(
        "analyze", help="diagnose a snapshot offline (ours, or a DNSViz probe's JSON)"
    )
    analyze.add_argument(
        "snapshot",
        type=Path,
        help="a snapshot written by probe or check -o, or the JSON of dnsviz probe "
        "(plain or gzipped)",
    )
    analyze.add_argument("--name", help="DNSViz probe: the name to diagnose (default: the deepest)")
    analyze.add_argument(
        "--type", dest="rdtype", help="DNSViz probe: the type (default: the one DNSViz asked)"
    )
    analyze.add_argument(
        "--trust-anchor",
        type=Path,
        help="DNSViz probe: DS or DNSKEY records to validate from (default: the root's)",
    )
    _output_arguments(analyze)

    serve = commands.add_parser(
        "serve",
        help="the web application: a page and an HTTP API over the same check",
        description="Serve the check on the web: a page with progress, verdict, fix and "
        "evidence, the chain of trust as a picture, shareable results, and GET /api/check "
        "(the JSON of check --json). The probe options fix what every check uses.",
    )
    add_serve_arguments(serve)

    codes = commands.add_parser("codes", help="list every finding code")
    codes.add_argument("--json", action="store_true")

    explain = commands.add_parser(
        "explain",
        help="explain one finding code, or list the causes behind an EDE number",
        description="Explain a finding code (what it means, why validation breaks, how to fix "
        "it, the recovery risk), or, given an Extended DNS Error number (RFC 8914), list the "
        "causes for which a validator gives that code.",
    )
    explain.add_argument("code", help="a finding code (DS_DIGEST_MISMATCH) or an EDE number (9)")


def _probe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the domain name to diagnose")
    parser.add_argument("type", nargs="?", default="A", help="the record type (default A)")
    add_source_arguments(
        parser,
        resolvers="the system's and 1.1.1.1, 8.8.8.8, 9.9.9.9",
        deadline=20.0,
        deadline_help="whole probe",
    )


def _output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="the JSON report (--format json)")
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        help="text (default), json (docs/check-json.schema.json), or markdown: a report "
        "to paste into a registrar's or DNS provider's ticket",
    )
    parser.add_argument(
        "--brief",
        action="store_true",
        help="one line: name, type, verdict (and EDE), the headline; the same exit code",
    )
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="judge signature windows at another moment: ISO 8601, @EPOCH, or +3d / -12h",
    )
    parser.add_argument("--log", action="store_true", help="print every query (incident log)")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help='severity profile: a TOML file of [severity] CODE = "error"|"warning"|... '
        "overriding the code table's severities",
    )
    parser.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour the report"
    )
    add_profile_argument(parser)


def _snapshot_of(
    args: argparse.Namespace, *, quiet: bool = False, then_analyze: bool = False
) -> Snapshot:
    """The snapshot of the name asked; with ``then_analyze``, probed while the analysis
    loads (in a one-shot check, by a forked child: ``pipeline.probe_in_child``)."""
    name = parse_name(args.name)
    rdtype = parse_type(args.type)
    settings = probe_settings(source_options(args), transport_probes=True)

    def probe(
        then_analyze: bool = then_analyze, answers: Callable[[bytes], None] | None = None
    ) -> Snapshot:
        line = None if quiet or not sys.stderr.isatty() else ProgressLine()
        try:
            return pipeline.probe(
                name, rdtype, settings, line, then_analyze=then_analyze, answers=answers
            )
        finally:
            if line is not None:
                line.clear()

    if then_analyze:
        try:
            snapshot = pipeline.probe_in_child(
                lambda answers: probe(then_analyze=False, answers=answers)
            )
        except BaseException:
            if not quiet and sys.stderr.isatty():
                ProgressLine.erase(sys.stderr)  # the child's line, if it ended uncleared
            raise
        if snapshot is not None:
            return snapshot
    return probe()


def _colour(args: argparse.Namespace) -> bool:
    if args.color == "always":
        return True
    if args.color == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _output_format(args: argparse.Namespace) -> str:
    """text, json or markdown; --json is --format json, and says so when they differ."""
    chosen = getattr(args, "format", None)
    if args.json and chosen not in (None, "json"):
        raise UsageError(f"--json and --format {chosen} ask for two reports: give one")
    if args.json or chosen == "json":
        args.json = True  # what check's progress line and --planned-ds read
        return "json"
    return chosen or "text"


def _terminal_width() -> int | None:
    """The terminal's width when the report goes to one (long lines are folded to it); a
    pipe or a file gets whole lines, for grep."""
    if not sys.stdout.isatty():
        return None
    import shutil

    return shutil.get_terminal_size().columns


def _emit(report: Report, args: argparse.Namespace) -> int:
    from dnssec_doctor.render.json import render_json
    from dnssec_doctor.render.text import render_brief, render_text

    form = _output_format(args)
    if args.brief:
        sys.stdout.write(render_brief(report, colour=_colour(args)))
    elif form == "json":
        print(json.dumps(render_json(report), indent=2))
    elif form == "markdown":
        from dnssec_doctor.render.markdown import render_markdown

        sys.stdout.write(render_markdown(report))
    else:
        sys.stdout.write(
            render_text(report, colour=_colour(args), log=args.log, width=_terminal_width())
        )
    return int(pipeline.exit_code(report.diagnosis))


# --- commands -----------------------------------------------------------------------------


def run_check(args: argparse.Namespace) -> int:
    # Only the probe is imported before the first query is sent; the analysis, and what
    # only --planned-ds or --graph need, after (start-up is what a check waits for first).
    if getattr(args, "nagios", False):
        return run_check_nagios(args)
    if args.warning is not None or args.critical is not None:
        raise UsageError("-w/--warning and -c/--critical apply with --nagios", hint="add --nagios")
    refuse_conflicts(args, "--brief", ("--json", "json"), ("--format", "format"), ("--log", "log"))
    refuse_conflicts(args, "--brief", ("--planned-ds", "planned_ds"))
    at = args.at
    form = _output_format(args)  # a conflict is a usage error before any query is sent
    parse_at(at, time.time())  # a bad --at or --profile: a usage error before any query
    read_severity_profile(args.profile)
    planned = None
    if args.planned_ds:
        from dnssec_doctor.change.planned import parse_planned_ds

        planned = parse_planned_ds(args.planned_ds)
    snapshot = _snapshot_of(args, quiet=form != "text", then_analyze=True)
    if args.snapshot:
        _write(args.snapshot, snapshot.dumps())
    options = analysis_options(args, snapshot)
    report = pipeline.analyze(snapshot, options)
    if args.graph:
        from dnssec_doctor.render.svg import render_svg

        _write(args.graph, render_svg(report))
    if planned is None:
        return _emit(report, args)
    from dnssec_doctor.change.planned import check_planned_ds
    from dnssec_doctor.render.change import render_planned_ds_json, render_planned_ds_text
    from dnssec_doctor.render.json import render_json

    result = check_planned_ds(report, planned, options)
    if args.json:
        document = render_json(report)
        document["planned_ds"] = render_planned_ds_json(result)
        print(json.dumps(document, indent=2))
        code = int(pipeline.exit_code(report.diagnosis))
    else:
        code = _emit(report, args)
        sys.stdout.write("\nPlanned DS\n" + render_planned_ds_text(result))
    return code if result.ok else max(code, int(ExitCode.DNSSEC_FAILURE))


def run_check_nagios(args: argparse.Namespace) -> int:
    """check --nagios: every failure, even a usage error, is UNKNOWN (exit 3)."""
    from dnssec_doctor.arguments import parse_duration
    from dnssec_doctor.render.nagios import render_nagios
    from dnssec_doctor.render.nagios import unknown as nagios_unknown

    try:
        refuse_conflicts(
            args,
            "--nagios",
            ("--json", "json"),
            ("--format", "format"),
            ("--log", "log"),
            ("--brief", "brief"),
        )
        refuse_conflicts(args, "--nagios", ("--graph", "graph"), ("--planned-ds", "planned_ds"))
        warning = parse_duration(args.warning or "3d", "-w/--warning")
        critical = parse_duration(args.critical or "0", "-c/--critical")
        if critical > warning:
            raise UsageError("-c/--critical must not be longer than -w/--warning")
        at = args.at
        parse_at(at, time.time())
        read_severity_profile(args.profile)
        snapshot = _snapshot_of(args, quiet=True, then_analyze=True)
        options = pipeline.analysis_options(
            snapshot,
            at=parse_at(args.at, snapshot.finished_at),
            accepted_algorithms=parse_profile(args.accept_algorithm),
            severities=read_severity_profile(args.profile),
            expire_warning=warning,
        )
        text, code = render_nagios(
            pipeline.analyze(snapshot, options),
            warning_seconds=warning,
            critical_seconds=critical,
        )
    except DoctorError as error:
        text, code = nagios_unknown(str(error))
    except Exception as error:  # a bug of ours: still UNKNOWN for the monitoring core
        if os.environ.get("DNSSEC_DOCTOR_DEBUG"):
            raise
        text, code = nagios_unknown(f"internal error: {type(error).__name__}: {error}")
        print(
            "dnssec-doctor: internal error (fix: this is a bug; DNSSEC_DOCTOR_DEBUG=1 shows "
            "the traceback to report)",
            file=sys.stderr,
        )
    sys.stdout.write(text)
    return code


def refuse_conflicts(args: argparse.Namespace, option: str, *others: tuple[str, str]) -> None:
    """Options that cannot go together are refused with one line, never one silently
    ignored (``option``: "--brief", its dest "brief"; ``others``: (the option as typed, its
    argparse dest))."""
    if not getattr(args, option.lstrip("-").replace("-", "_"), None):
        return
    given = [shown for shown, dest in others if getattr(args, dest, None)]
    if given:
        raise UsageError(
            f"{option} and {given[0]} cannot be used together",
            hint=f"choose one: {option} or {given[0]}",
        )


def run_probe(args: argparse.Namespace) -> int:
    snapshot = _snapshot_of(args)
    _write(args.output, snapshot.dumps())
    answered = sum(1 for e in snapshot.exchanges if e.response is not None)
    print(
        f"{len(snapshot.exchanges)} queries ({answered} answered) in "
        f"{snapshot.finished_at - snapshot.collected_at:.2f} s; snapshot written to {args.output}"
    )
    return int(ExitCode.OK)


def read_analysis_input(args: argparse.Namespace) -> Snapshot:
    """analyze's input: our snapshot, or a DNSViz probe converted to one."""
    from dnssec_doctor.model.snapshot import SnapshotError, check_snapshot_bounds
    from dnssec_doctor.probe.settings import read_trust_anchors
    from dnssec_doctor.replay.dnsviz import is_dnsviz_probe, probe_to_snapshot

    data = pipeline.read_json_document(args.snapshot)
    if is_dnsviz_probe(data):
        anchor = args.trust_anchor or pipeline.data_file("root-anchors.ds")
        converted = probe_to_snapshot(
            data,
            name=parse_name(args.name) if args.name else None,
            rdtype=parse_type(args.rdtype) if args.rdtype else None,
            trust_anchors=read_trust_anchors(Path(anchor)),
            source=str(args.snapshot),
        )
        try:  # the bounds our own snapshots are read under (no zone its own parent, ...)
            check_snapshot_bounds(converted)
        except SnapshotError as error:
            raise UsageError(f"{args.snapshot}: {error}") from None
        return converted
    if args.name or args.rdtype or args.trust_anchor:
        raise UsageError(
            "--name, --type and --trust-anchor apply to DNSViz probes",
            hint="a snapshot was probed for one name with its anchor",
        )
    return read_snapshot(args.snapshot)


def run_analyze(args: argparse.Namespace) -> int:
    refuse_conflicts(args, "--brief", ("--json", "json"), ("--format", "format"), ("--log", "log"))
    _output_format(args)  # a conflict is a usage error before the snapshot is read
    snapshot = read_analysis_input(args)
    report = pipeline.analyze(snapshot, analysis_options(args, snapshot))
    return _emit(report, args)


def analysis_options(args: argparse.Namespace, snapshot: Snapshot) -> AnalysisOptions:
    """The analysis options of check, analyze and check --nagios: --at, --profile and
    --accept-algorithm."""
    return pipeline.analysis_options(
        snapshot,
        at=parse_at(args.at, snapshot.finished_at),
        accepted_algorithms=parse_profile(args.accept_algorithm),
        severities=read_severity_profile(args.profile),
    )


def run_codes(args: argparse.Namespace) -> int:
    from dnssec_doctor.analysis.codes import CODES

    if args.json:
        print(
            json.dumps(
                [
                    {
                        "code": c.code,
                        "family": c.family.value,
                        "severity": c.severity.label,
                        "ede": c.ede,
                        "status": c.status.value,
                        "summary": c.summary,
                        "link": c.link.value if c.link else None,
                        "rank": c.rank,
                        "ends_chain": c.ends_chain,
                        "exit_warning": c.exit_warning,
                        "actor": c.actor.value if c.actor else None,
                    }
                    for c in CODES.values()
                ],
                indent=2,
            )
        )
        return int(ExitCode.OK)
    for code in CODES.values():
        ede = f"EDE {code.ede}" if code.ede is not None else ""
        print(f"{code.code:<32} {code.family.value:<11} {code.severity.label:<8} {ede}")
    return int(ExitCode.OK)


def run_explain(args: argparse.Namespace) -> int:
    from dnssec_doctor.analysis.codes import UnknownCode, lookup

    if args.code.strip().isdigit():
        return _explain_ede(int(args.code))
    try:
        code = lookup(args.code.upper())
    except UnknownCode:
        raise UsageError(
            f"unknown code {args.code!r}", hint="dnssec-doctor codes lists them"
        ) from None
    ede = f" — a validator attaches EDE {code.ede}" if code.ede is not None else ""
    sections = [
        f"{code.code} ({code.family.value}, {code.severity.label}{ede})",
        f"  {code.summary}",
        "",
        "What it means",
        f"  {code.meaning}",
        "Why validation breaks",
        f"  {code.why}",
        "How to fix it",
        f"  {code.fix}",
        "Recovery risk",
        f"  {code.risk}",
    ]
    facts = [f"who acts: {code.actor.value}" if code.actor else ""]
    facts.append(f"breaks the {code.link.value} link" if code.link else "")
    facts.append(f"cause rank {code.rank}" if code.rank is not None else "never a primary cause")
    facts.append("a healthy check with it exits 1" if code.exit_warning else "")
    sections += ["Facts", "  " + "; ".join(f for f in facts if f)]
    if code.references:
        sections += ["References", "  " + ", ".join(code.references)]
    print("\n".join(sections))
    return int(ExitCode.OK)


def _explain_ede(number: int) -> int:
    """explain 9: the causes a validator answers with that Extended DNS Error."""
    from dnssec_doctor.analysis.codes import CODES
    from dnssec_doctor.analysis.resolvers import EDE_NAMES, ede_name

    if number not in EDE_NAMES:
        raise UsageError(
            f"EDE {number} is not an Extended DNS Error code this tool knows (0-30)",
            hint="RFC 8914 and the IANA registry list them",
        )
    causes = [c for c in CODES.values() if c.ede == number]
    lines = [f"EDE {number}: {ede_name(number)}"]
    if causes:
        lines.append(
            "The causes for which a validator gives it (the same fault may get another code "
            "from another validator, and BIND 9.18 sends none):"
        )
        width = max(len(c.code) for c in causes)
        lines += [f"  {c.code:<{width}}  {c.summary}" for c in causes]
        lines.append("dnssec-doctor explain CODE explains one.")
    else:
        lines.append("No finding of this tool maps to it: it is not about a DNSSEC cause.")
    print(terminal_text(lines, colour=False))
    return int(ExitCode.OK)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


CHECK_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": run_check,
    "probe": run_probe,
    "analyze": run_analyze,
    "codes": run_codes,
    "explain": run_explain,
    "serve": run_serve,
}
