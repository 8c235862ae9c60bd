"""``dnssec-doctor check`` beside DNSViz (probe + grok) with every answer delayed: 0, 20,
50 and 100 ms by default, as if the lab's servers were that far away.

One delaying relay per delay (``delay_relay.py``), each in a network namespace of its own
in front of the same lab; every run is a cold process started in a relay's namespace
(``nsenter``). Runs are interleaved: each repetition goes through the delays in a
shuffled order, the two tools taking turns, so a slow moment of the shared machine does
not land on one cell only. Reported per delay and name: medians of wall seconds, the
ratio, answers in a row (ours from the snapshot: waited for, and the critical path; both
tools also estimated from probe times, (P(D) - P(0)) / D, where P is DNSViz's probe
command and our probe from its first query to its end), queries sent, the CPU seconds
(user + system) of each tool's processes, which a busy machine blurs less than wall
time, and our start-up (process start to first query, from the snapshot's first
``sent_at``).

Run it through ``bench/run --latency`` (as root): that makes the network namespace,
brings a lab up in it and installs DNSViz. Nothing leaves 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_dnsviz import (
    DEFAULT_DNSVIZ,
    DEFAULT_DOCTOR,
    DEFAULT_LAB_DIR,
    DOCTOR_VERDICT_CODES,
    BenchError,
    DnsvizSetup,
    collect_grok_codes,
    count_dnsviz_recorded_queries,
    dnsviz_grok_command,
    dnsviz_probe_command,
    read_expected_verdicts,
    read_root_server,
    run_command,
)

from dnssec_doctor.model.snapshot import load_snapshot
from dnssec_doctor.probe.rounds import answers_in_a_row, critical_path

RELAY = Path(__file__).resolve().parent / "delay_relay.py"
NAMES = (
    ("www.secure-nsec.lab.", "A"),
    ("www.rrsig-expired.lab.", "A"),
    ("app.cname-into-broken.lab.", "A"),
    ("www.stale-secondary.lab.", "A"),
)
DELAYS_MS = (0, 20, 50, 100)


@dataclass
class Cell:
    """The runs of one tool, one name, one delay."""

    seconds: list[float] = field(default_factory=list)
    # CPU seconds (user + system) of the tool's processes: what a loaded machine blurs
    # least (DNSViz: probe + grok).
    cpu: list[float] = field(default_factory=list)
    first_query: list[float] = field(default_factory=list)  # ours only
    # DNSViz: its probe command; ours: the probe inside check, first query to last answer
    # (from the snapshot), which start-up and analysis times on a loaded machine do not blur.
    probe_seconds: list[float] = field(default_factory=list)
    grok_seconds: list[float] = field(default_factory=list)
    in_a_row: list[int] = field(default_factory=list)  # ours only
    critical: list[int] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    verdicts: set[str] = field(default_factory=set)

    def median(self, attribute: str = "seconds") -> float:
        return float(statistics.median(getattr(self, attribute)))


class Relay:
    """A delaying relay in its own network namespace; ``wrap`` runs a command there."""

    def __init__(self, delay: float, workdir: Path) -> None:
        ready = workdir / f"relay-{delay:g}.pid"
        self.process = subprocess.Popen(
            [sys.executable, str(RELAY), "--delay", str(delay), "--ready", str(ready)],
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while not (ready.exists() and ready.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                error = self.process.stderr.read() if self.process.stderr else ""
                raise BenchError(f"the delay relay did not start: {error.strip()[-500:]}")
            time.sleep(0.05)
        self.pid = int(ready.read_text())

    def wrap(self, command: list[str]) -> list[str]:
        return ["nsenter", f"--net=/proc/{self.pid}/ns/net", "--", *command]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_timed(command: list[str], *, accept: set[int] | None = None) -> tuple[float, float, str]:
    """``run_command`` with the CPU seconds (user + system) the command used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, stdout = run_command(command, accept=accept)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return seconds, cpu, stdout


def run_ours(
    relay: Relay, args: argparse.Namespace, name: str, rdtype: str, workdir: Path, cell: Cell
) -> None:
    snapshot_file = workdir / "snapshot.json"
    command = [str(args.doctor), "check", "--lab", "--lab-dir", str(args.lab_dir)]
    command += ["--no-resolvers", "--json", "-o", str(snapshot_file), name, rdtype]
    started = time.time()
    seconds, cpu, stdout = run_timed(relay.wrap(command), accept=DOCTOR_VERDICT_CODES)
    snapshot = load_snapshot(json.loads(snapshot_file.read_text()))
    cell.seconds.append(seconds)
    cell.cpu.append(cpu)
    cell.first_query.append(snapshot.exchanges[0].sent_at - started)
    cell.probe_seconds.append(snapshot.finished_at - snapshot.exchanges[0].sent_at)
    cell.in_a_row.append(answers_in_a_row(snapshot))
    cell.critical.append(critical_path(snapshot))
    cell.queries.append(len(snapshot.exchanges))
    cell.verdicts.add(str(json.loads(stdout)["verdict"]))


def run_dnsviz(relay: Relay, setup: DnsvizSetup, name: str, workdir: Path, cell: Cell) -> None:
    probe_output = workdir / "probe.json"
    grok_output = workdir / "grok.json"
    probe_seconds, probe_cpu, _ = run_timed(
        relay.wrap(dnsviz_probe_command(setup, name, probe_output))
    )
    grok_seconds, grok_cpu, _ = run_timed(dnsviz_grok_command(setup, probe_output, grok_output))
    errors, _ = collect_grok_codes(json.loads(grok_output.read_text()))
    cell.seconds.append(probe_seconds + grok_seconds)
    cell.cpu.append(probe_cpu + grok_cpu)
    cell.probe_seconds.append(probe_seconds)
    cell.grok_seconds.append(grok_seconds)
    cell.queries.append(count_dnsviz_recorded_queries(json.loads(probe_output.read_text())))
    cell.verdicts.add("errors" if errors else "no errors")


def version_and_help(doctor: Path, repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {"--version": [], "--help": []}
    for _ in range(repeat):
        for option in times:
            times[option].append(run_command([str(doctor), option])[0])
    return {option: statistics.median(values) for option, values in times.items()}


Results = dict[tuple[int, str, str], Cell]  # (delay ms, name, tool)


def measure(args: argparse.Namespace, names: tuple[tuple[str, str], ...]) -> Results:
    expected = read_expected_verdicts(args.doctor, names)
    setup = DnsvizSetup(
        dnsviz=args.dnsviz,
        root_server=read_root_server(args.lab_dir),
        trust_anchor=args.lab_dir / "root-anchor.dnskey",
        ancestor=".",
    )
    results: Results = {
        (d, n, tool): Cell() for d in args.delays for n, _ in names for tool in ("ours", "dnsviz")
    }
    shuffle = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as temporary:
        workdir = Path(temporary)
        relays = {delay: Relay(delay / 1000, workdir) for delay in args.delays}
        try:
            for repetition in range(args.repeat):
                delays = list(args.delays)
                shuffle.shuffle(delays)
                for delay in delays:
                    for index, (name, rdtype) in enumerate(names):
                        tools = ["ours", "dnsviz"]
                        if (repetition + index) % 2:
                            tools.reverse()
                        for tool in tools:
                            cell = results[(delay, name, tool)]
                            if tool == "ours":
                                run_ours(relays[delay], args, name, rdtype, workdir, cell)
                            else:
                                run_dnsviz(relays[delay], setup, name, workdir, cell)
                print(f"  run {repetition + 1} of {args.repeat} done", file=sys.stderr)
        finally:
            for relay in relays.values():
                relay.stop()
    for (delay, name, tool), cell in results.items():
        if tool == "ours" and cell.verdicts != {expected[name]}:
            raise BenchError(
                f"{name} at {delay} ms: dnssec-doctor said {', '.join(sorted(cell.verdicts))}, "
                f"the lab catalogue says {expected[name]}"
            )
    return results


def estimated_in_a_row(results: Results, delay: int, name: str, tool: str, key: str) -> str:
    if delay == 0 or (0, name, tool) not in results:
        return "–"
    slower = results[(delay, name, tool)].median(key) - results[(0, name, tool)].median(key)
    return f"{slower / (delay / 1000):.1f}"


def render(results: Results, args: argparse.Namespace, names: tuple[tuple[str, str], ...]) -> str:
    lines = [
        "| delay | name | dnssec-doctor s | DNSViz probe+grok s (probe, grok) | ratio "
        "| answers in a row: ours (waited / critical path / from probe time) "
        "| DNSViz (from probe time) "
        "| queries ours / DNSViz | CPU s ours / DNSViz (ratio) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for delay in args.delays:
        ours_total = theirs_total = ours_cpu = theirs_cpu = 0.0
        for name, rdtype in names:
            ours = results[(delay, name, "ours")]
            theirs = results[(delay, name, "dnsviz")]
            ours_total += ours.median()
            theirs_total += theirs.median()
            ours_cpu += ours.median("cpu")
            theirs_cpu += theirs.median("cpu")
            lines.append(
                f"| {delay} ms | {name} {rdtype} | {ours.median():.2f} "
                f"| {theirs.median():.2f} ({theirs.median('probe_seconds'):.2f}, "
                f"{theirs.median('grok_seconds'):.2f}) "
                f"| {theirs.median() / ours.median():.1f}× "
                f"| {ours.median('in_a_row'):g} / {ours.median('critical'):g} / "
                f"{estimated_in_a_row(results, delay, name, 'ours', 'probe_seconds')} "
                f"| {estimated_in_a_row(results, delay, name, 'dnsviz', 'probe_seconds')} "
                f"| {ours.median('queries'):g} / {theirs.median('queries'):g} "
                f"| {ours.median('cpu'):.2f} / {theirs.median('cpu'):.2f} "
                f"({theirs.median('cpu') / ours.median('cpu'):.1f}×) |"
            )
        lines.append(
            f"| **{delay} ms** | **all {len(names)} (sum of medians)** | **{ours_total:.2f}** "
            f"| **{theirs_total:.2f}** | **{theirs_total / ours_total:.1f}×** | | | "
            f"| **{ours_cpu:.2f} / {theirs_cpu:.2f} ({theirs_cpu / ours_cpu:.1f}×)** |"
        )
    return "\n".join(lines)


def to_json(results: Results, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        **extra,
        "cells": [
            {
                "delay_ms": delay,
                "name": name,
                "tool": tool,
                "seconds": cell.seconds,
                "cpu_seconds": cell.cpu,
                "first_query": cell.first_query,
                "probe_seconds": cell.probe_seconds,
                "grok_seconds": cell.grok_seconds,
                "answers_in_a_row": cell.in_a_row,
                "critical_path": cell.critical,
                "queries": cell.queries,
                "verdicts": sorted(cell.verdicts),
            }
            for (delay, name, tool), cell in results.items()
        ],
    }


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per cell (5)")
    parser.add_argument(
        "--delays",
        type=lambda text: [int(d) for d in text.split(",")],
        default=list(DELAYS_MS),
        help="milliseconds per answer, comma-separated (0,20,50,100)",
    )
    parser.add_argument("--name", action="append", metavar="NAME:TYPE", help="a lab question")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write raw numbers")
    parser.add_argument("--lab-dir", type=Path, default=DEFAULT_LAB_DIR)
    parser.add_argument("--doctor", type=Path, default=DEFAULT_DOCTOR)
    parser.add_argument("--dnsviz", type=Path, default=DEFAULT_DNSVIZ)
    parser.add_argument("--seed", type=int, default=1, help="of the delays' shuffled order")
    args = parser.parse_args(argv)
    if args.repeat < 1 or not args.delays or min(args.delays) < 0:
        parser.error("--repeat must be at least 1 and delays at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    names = (
        tuple((n.rstrip(".") + ".", t.upper()) for n, t in (q.split(":") for q in args.name))
        if args.name
        else NAMES
    )
    load_before = os.getloadavg()
    try:
        print(
            f"measuring {len(names)} names at {args.delays} ms, {args.repeat} runs each...",
            file=sys.stderr,
        )
        results = measure(args, names)
        start_up = version_and_help(args.doctor, args.repeat)
    except BenchError as error:
        print(f"latency: {error}", file=sys.stderr)
        return 1
    load_after = os.getloadavg()
    print(render(results, args, names))
    print()
    firsts = [f for (d, _, t), c in results.items() if t == "ours" for f in c.first_query]
    print(
        f"Start-up: process start to first query {statistics.median(firsts):.3f} s (median "
        f"of {len(firsts)} checks; min {min(firsts):.3f}); --version "
        f"{start_up['--version']:.3f} s, --help {start_up['--help']:.3f} s."
    )
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"{today}, {os.cpu_count()} CPUs, load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after; medians of {args.repeat} interleaved runs; "
        "DNSViz: probe -A -a . -x .:ROOT, grok -P -t root-anchor.dnskey; ours: check --lab "
        "--no-resolvers. Delay: added by a relay to every answer, UDP and TCP."
    )
    if args.json:
        extra = {
            "date": today,
            "load_average": [load_before, load_after],
            "repeat": args.repeat,
            "start_up": start_up,
        }
        args.json.write_text(json.dumps(to_json(results, extra), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
