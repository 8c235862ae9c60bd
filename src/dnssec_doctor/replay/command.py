"""``dnssec-doctor replay FILE.rpl``: our diagnosis beside what a validator's test expects.

Exit codes: 0 every step that states a verdict agrees, 2 some step disagrees, 4 the file
cannot be read (one line naming the file and the line).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnssec_doctor.errors import ExitCode

if TYPE_CHECKING:
    from dnssec_doctor.replay.run import StepResult
    from dnssec_doctor.replay.scenario import Scenario

# The profile of the validator build Unbound's scenarios were written for: it validates
# DSA, which current validators must not (RFC 9904). Reported in the output and, for
# every zone that uses it, as ALGORITHM_ACCEPTED_BY_PROFILE.
REPLAY_PROFILE = ("DSA", "DSANSEC3SHA1")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def add_replay_command(commands: Any) -> None:
    from dnssec_doctor.arguments import add_profile_argument

    replay = commands.add_parser(
        "replay",
        help="run check on each query of a validator test scenario (Unbound/Deckard .rpl)",
        description="Replay an Unbound or Deckard scenario: its simulated servers answer "
        "the probe, its trust anchor, root and val-override-date are used, and each QUERY "
        "step's diagnosis is printed beside the answer the scenario expects.",
    )
    replay.add_argument("file", type=Path, help="the replay scenario (.rpl)")
    replay.add_argument("--json", action="store_true", help="one JSON object, steps in order")
    add_profile_argument(replay, default=REPLAY_PROFILE)


def run_replay(args: argparse.Namespace) -> int:
    from dnssec_doctor.arguments import parse_profile
    from dnssec_doctor.replay.run import run_scenario
    from dnssec_doctor.replay.scenario import read_scenario

    accepted = parse_profile(args.accept_algorithm, REPLAY_PROFILE)
    scenario = read_scenario(args.file)
    results = run_scenario(scenario, accepted_algorithms=accepted)
    if args.json:
        print(json.dumps(replay_json(scenario, results, accepted), indent=2))
    else:
        sys.stdout.write(replay_text(scenario, results, accepted))
    if any(r.agrees is False for r in results):
        return int(ExitCode.DNSSEC_FAILURE)
    return int(ExitCode.OK)


def _printable(text: str) -> str:
    return _CONTROL.sub("\ufffd", text)


def _expected_json(result: StepResult) -> dict[str, Any]:
    expected = result.expected
    return {
        "rcode": expected.rcode or None,
        "flags": list(expected.flags),
        "ede": expected.ede,
        "verdict": expected.verdict,
        "line": expected.line,
    }


def replay_json(
    scenario: Scenario, results: list[StepResult], accepted: frozenset[int]
) -> dict[str, Any]:
    from dnssec_doctor.render.json import render_json

    return {
        "file": scenario.path,
        "scenario": scenario.title,
        "trust_anchors": list(scenario.trust_anchors),
        "judged_at": scenario.override_date,
        "accepted_algorithms": sorted(accepted),
        "nsec3_iteration_limit": scenario.nsec3_iteration_limit,
        "not_modelled": list(scenario.unmodelled),
        "steps": [
            {
                "step": r.step,
                "qname": r.qname,
                "qtype": r.qtype,
                "query_flags": list(r.query_flags),
                "expected": _expected_json(r),
                "report": render_json(r.report) if r.report is not None else None,
                "not_checked": r.skipped,
                "agrees": r.agrees,
                "unanswered_queries": list(r.unmatched),
            }
            for r in results
        ],
    }


def replay_text(scenario: Scenario, results: list[StepResult], accepted: frozenset[int]) -> str:
    from dnssec_doctor.analysis.signatures import algorithm_name
    from dnssec_doctor.model.time_text import iso_utc

    lines = [f"Scenario: {_printable(scenario.title) or '(untitled)'} ({scenario.path})"]
    anchors = "; ".join(scenario.trust_anchors) or "none"
    lines.append(f"  trust anchors: {anchors}")
    when = iso_utc(scenario.override_date) if scenario.override_date is not None else "now"
    lines.append(f"  judged at:     {when}")
    profile = ", ".join(f"{algorithm_name(a)} ({a})" for a in sorted(accepted)) or "none"
    lines.append(f"  profile:       accepts retired algorithms: {profile}")
    if scenario.nsec3_iteration_limit is not None:
        lines.append(
            f"  NSEC3 cap:     {scenario.nsec3_iteration_limit} iterations "
            "(val-nsec3-keysize-iterations, smallest key size)"
        )
    if scenario.unmodelled:
        lines.append(f"  not modelled:  {', '.join(scenario.unmodelled)}")
    lines.append("")
    compared = [r for r in results if r.agrees is not None]
    for r in results:
        flags = " ".join(r.query_flags) or "-"
        lines.append(f"STEP {r.step}  {r.qname} {r.qtype}  (query flags {flags})")
        expected = r.expected
        if expected.line is None:
            lines.append("  expected: no CHECK_ANSWER follows this query")
        else:
            ede = f" EDE {expected.ede}" if expected.ede is not None else ""
            verdict = expected.verdict or "no verdict stated"
            lines.append(
                f"  expected: {expected.rcode} {' '.join(expected.flags)}{ede} -> {verdict}"
            )
        if r.report is None:
            lines.append(f"  ours:     not checked: {r.skipped}")
        else:
            diagnosis = r.report.diagnosis
            ede = f" EDE {diagnosis.ede}" if diagnosis.ede is not None else ""
            from dnssec_doctor.render.sentences import headline_text

            headline = headline_text(diagnosis)
            lines.append(f"  ours:     {diagnosis.verdict.value}{ede}: {headline}")
            for cause in diagnosis.causes[:3]:
                lines.append(f"            {cause.code}: {cause.summary}")
            for warning in diagnosis.warnings[:3]:
                lines.append(f"            {warning.code} (warning): {warning.summary}")
        mark = {True: "agree", False: "DIFFER", None: "not compared"}[r.agrees]
        lines.append(f"  => {mark}")
        if r.unmatched:
            lines.append(f"  ({len(r.unmatched)} probe queries had no scripted answer: timed out)")
        lines.append("")
    agreeing = sum(1 for r in compared if r.agrees)
    lines.append(
        f"{agreeing}/{len(compared)} compared steps agree; "
        f"{len(results) - len(compared)} of {len(results)} not compared"
    )
    return "\n".join(lines) + "\n"
