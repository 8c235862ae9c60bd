"""The change-window commands: ``diff`` and ``go-insecure`` (``check --planned-ds`` lives
with ``check``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnssec_doctor.arguments import add_source_arguments, parse_duration, source_options
from dnssec_doctor.errors import UsageError
from dnssec_doctor.model.time_text import clock_time
from dnssec_doctor.pipeline import parse_name, probe_settings, read_snapshot
from dnssec_doctor.render.terminal import printable

if TYPE_CHECKING:
    from dnssec_doctor.change.insecure import ParentView, Status

# The command line is built for every command: what only running one of these needs is
# imported when it runs, so that each command starts without loading the others.


def add_change_commands(commands: Any) -> None:
    diff = commands.add_parser(
        "diff",
        help="compare two snapshots of a change window: what changed, go or no-go",
        description="Compare the snapshots taken before and after a step of a planned change "
        "(DS, DNSKEY, signatures, serials, per-server state); classify each change as "
        "expected, risky or breaking. Exit 0 go, 1 caution (risky), 2 no-go (breaking).",
    )
    diff.add_argument("before", type=Path, help="snapshot before the change (probe -o)")
    diff.add_argument("after", type=Path, help="snapshot after the change")
    diff.add_argument("--json", action="store_true", help="the JSON comparison")

    insecure = commands.add_parser(
        "go-insecure",
        help="turn DNSSEC off in the safe order: wait until the DS is gone and its TTL passed",
        description="Poll every parent server until none publishes a DS for NAME, count down "
        "the DS TTL (and negative TTL) observed, then say that signing may be switched off. "
        "Refuses while any DS is visible. Exit 0 safe (or already insecure: no DS and no "
        "DNSKEY), 1 still waiting, 2 refused (a DS visible, or signing already off while a DS "
        "was seen), 3 cannot confirm (a parent server or the zone's own servers give no usable "
        "answer: not a DNSSEC fault).",
    )
    insecure.add_argument("name", help="the zone going insecure")
    add_source_arguments(insecure, resolvers=None)  # the parents are asked, no resolver
    insecure.add_argument(
        "--interval", default="60", metavar="DURATION", help="between polls (60 s; or 5m)"
    )
    insecure.add_argument("--once", action="store_true", help="poll once and report")
    insecure.add_argument(
        "--give-up-after", default=None, metavar="DURATION", help="stop polling (e.g. 2d)"
    )
    insecure.add_argument(
        "--ds-ttl",
        type=int,
        metavar="SECONDS",
        help="the DS TTL to wait out when no DS is seen in this run (default 86400)",
    )


def run_diff(args: argparse.Namespace) -> int:
    from dnssec_doctor.change.diff import diff_states
    from dnssec_doctor.change.state import read_state
    from dnssec_doctor.pipeline import analysis_options, analyze
    from dnssec_doctor.render.change import render_diff_json, render_diff_text

    before = read_snapshot(args.before)
    after = read_snapshot(args.after)
    if (before.name, before.rdtype) != (after.name, after.rdtype):
        raise UsageError(
            f"the snapshots ask different questions ({before.name} {before.rdtype} and "
            f"{after.name} {after.rdtype})",
            hint="probe the same name and type before and after the change",
        )
    states = [read_state(analyze(s, analysis_options(s))) for s in (before, after)]
    diff = diff_states(*states)
    if args.json:
        print(json.dumps(render_diff_json(diff), indent=2))
    else:
        sys.stdout.write(render_diff_text(diff))
    return int(diff.decision.exit_code)


def run_go_insecure_command(
    args: argparse.Namespace,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    from dnssec_doctor.change.insecure import (
        DEFAULT_ASSUMED_DS_TTL,
        read_parent_view,
        run_go_insecure,
    )
    from dnssec_doctor.pipeline import probe

    zone = parse_name(args.name)
    if zone == ".":
        raise UsageError("the root has no parent: it cannot go insecure this way")
    settings = probe_settings(source_options(args))  # the parents are asked, no resolver
    ds_ttl = DEFAULT_ASSUMED_DS_TTL if args.ds_ttl is None else args.ds_ttl
    interval = parse_duration(args.interval, "--interval", positive=True)
    give_up_after = None
    if args.give_up_after is not None:
        give_up_after = parse_duration(args.give_up_after, "--give-up-after")
    if ds_ttl < 0:
        raise UsageError("--ds-ttl must not be negative")

    def poll() -> ParentView:
        snapshot = probe(zone, "SOA", settings)
        return read_parent_view(snapshot, zone, clock())

    def emit(status: Status) -> None:
        stamp = clock_time(clock())
        line = f"{stamp} {status.phase.value.upper():<11} {status.message}"
        print(printable(line), flush=True)

    status = run_go_insecure(
        zone,
        poll,
        clock=clock,
        sleep=sleep,
        interval=interval,
        emit=emit,
        once=args.once,
        give_up_after=give_up_after,
        assumed_ds_ttl=ds_ttl,
    )
    return int(status.phase.exit_code)


CHANGE_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "diff": run_diff,
    "go-insecure": run_go_insecure_command,
}
