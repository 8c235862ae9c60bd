"""``dnssec-doctor watch``: the command line of the watcher."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from dnssec_doctor.arguments import add_source_arguments, parse_duration, source_options
from dnssec_doctor.errors import ExitCode, UsageError
from dnssec_doctor.pipeline import parse_name, probe_settings

if TYPE_CHECKING:
    from dnssec_doctor.model.snapshot import Snapshot
    from dnssec_doctor.probe.settings import ProbeSettings
    from dnssec_doctor.watch.result import ZoneResult

# What only running the watcher needs is imported when it runs (see change.commands).

DEFAULT_DB = "dnssec-doctor-watch.sqlite"


def add_watch_commands(commands: Any) -> None:
    watch = commands.add_parser(
        "watch",
        help="check zones at an interval: history, alerts, Prometheus metrics",
        description="Check each zone (its SOA, the whole chain of trust) every --interval "
        "seconds; keep each result in a history database; alert when a verdict changes, "
        "signatures near expiry, servers disagree or a DS stops matching.",
    )
    watch.add_argument("zones", nargs="*", help="zones to watch")
    watch.add_argument("--zones-file", type=Path, help="a file of zones, one per line (# comments)")
    watch.add_argument(
        "--interval", default="300", metavar="DURATION", help="between runs (300 s; or 5m, 1h)"
    )
    watch.add_argument(
        "--db",
        default=DEFAULT_DB,
        help=f"history: a SQLite file or sqlite:///path, or a postgresql:// URL ({DEFAULT_DB})",
    )
    watch.add_argument("--webhook", metavar="URL", help="POST each alert as JSON to this URL")
    watch.add_argument(
        "--threshold",
        default="3d",
        help="alert when signatures expire sooner than this (default 3d; 36h, 7200s…)",
    )
    watch.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics on this port")
    watch.add_argument("--metrics-address", default="127.0.0.1", help="(default 127.0.0.1)")
    watch.add_argument("--runs", type=int, help="stop after this many runs (default: never)")
    watch.add_argument(
        "--keep-days",
        type=float,
        default=90.0,
        metavar="DAYS",
        help="delete checks older than this after each run, each zone's latest kept "
        "(default 90; 0 keeps everything)",
    )
    watch.add_argument(
        "--concurrency",
        type=int,
        default=50,
        help="zones checked at once, sharing one cache (default 50)",
    )
    add_source_arguments(watch, resolvers="the system's and 1.1.1.1, 8.8.8.8, 9.9.9.9")


def read_zones(args: argparse.Namespace) -> list[str]:
    zones = list(args.zones)
    if args.zones_file:
        try:
            lines = args.zones_file.read_text().splitlines()
        except OSError as error:
            raise UsageError(f"cannot read {args.zones_file}: {error.strerror}") from None
        zones += [line.split("#", 1)[0].strip() for line in lines]
    zones = list(dict.fromkeys(parse_name(z) for z in zones if z))
    if not zones:
        raise UsageError("no zone to watch", hint="name zones as arguments or with --zones-file")
    return zones


def zone_checker(settings: ProbeSettings, threshold: float) -> Callable[[str], ZoneResult]:
    from dnssec_doctor.pipeline import analysis_options, analyze, probe
    from dnssec_doctor.render.json import render_json
    from dnssec_doctor.watch.result import zone_result

    def check(zone: str) -> ZoneResult:
        snapshot = probe(zone, "SOA", settings)
        report = analyze(snapshot, analysis_options(snapshot, expire_warning=threshold))
        document = render_json(report)
        document.pop("queries", None)  # the history keeps the diagnosis, not every packet
        return zone_result(zone, report, threshold=threshold, report_json=document)

    return check


def judge_zone(snapshot: Snapshot, threshold: float) -> tuple[str, ZoneResult]:
    """A watched zone's snapshot as watch records it, with the zone (run in the scan
    engine's analysis pool)."""
    from dnssec_doctor.pipeline import analysis_options, analyze
    from dnssec_doctor.render.json import render_json
    from dnssec_doctor.watch.result import zone_result

    report = analyze(snapshot, analysis_options(snapshot, expire_warning=threshold))
    document = render_json(report)
    document.pop("queries", None)  # the history keeps the diagnosis, not every packet
    return snapshot.name, zone_result(
        snapshot.name, report, threshold=threshold, report_json=document
    )


def zones_checker(
    settings: ProbeSettings, threshold: float, *, concurrency: int = 50, jobs: int | None = None
) -> Callable[[Sequence[str]], Iterator[tuple[str, ZoneResult]]]:
    """Checks many zones at once on the scan engine (one shared cache), yielding each
    watched zone with its result as it is ready. The engine runs in a thread of its own,
    so the history, the alerts and the metrics stay in the caller's."""
    import functools

    from dnssec_doctor.scan.engine import ScanOptions, scan_questions
    from dnssec_doctor.scan.names import Question
    from dnssec_doctor.watch.result import unchecked_result

    def on_error(question: Question, message: str) -> tuple[str, ZoneResult]:
        return question.name, unchecked_result(question.name, time.time(), message)

    def check_zones(zones: Sequence[str]) -> Iterator[tuple[str, ZoneResult]]:
        results: queue.Queue[object] = queue.Queue()
        done = object()
        options = ScanOptions(
            concurrency=max(1, min(concurrency, len(zones))),
            per_server_qps=1e6,  # watch asks what check asks; the zones are the operator's
            total_qps=1e6,
        )
        if jobs is not None:
            options = dataclasses.replace(options, jobs=jobs)

        def run() -> None:
            try:
                asyncio.run(
                    scan_questions(
                        iter(Question(zone, "SOA", n) for n, zone in enumerate(zones, 1)),
                        settings,
                        options,
                        results.put,
                        judge=functools.partial(judge_zone, threshold=threshold),
                        on_error=on_error,
                    )
                )
            except BaseException as error:
                results.put(error)
            finally:
                results.put(done)

        thread = threading.Thread(target=run, name="watch-checks", daemon=True)
        thread.start()
        try:
            while (item := results.get()) is not done:
                if isinstance(item, BaseException):
                    raise item
                yield cast("tuple[str, ZoneResult]", item)
        finally:
            thread.join()

    return check_zones


def run_watch(args: argparse.Namespace) -> int:
    from dnssec_doctor.watch.metrics import WatchMetrics
    from dnssec_doctor.watch.notify import Notifier, check_webhook_url
    from dnssec_doctor.watch.runner import Watcher
    from dnssec_doctor.watch.store import open_history

    zones = read_zones(args)
    if args.webhook is not None:
        check_webhook_url(args.webhook)  # before the history is opened
    threshold = parse_duration(args.threshold, "--threshold", positive=True)
    if not 1 <= args.concurrency <= 10_000:
        raise UsageError("--concurrency must be 1 to 10000")
    interval = parse_duration(args.interval, "--interval", positive=True)
    if interval >= 10**8:
        raise UsageError("--interval must be under 10^8 seconds (about three years)")
    if not 0 <= args.keep_days < 1e6:
        raise UsageError("--keep-days must be 0 (keep everything) or a number of days")
    if args.metrics_port is not None and not 0 <= args.metrics_port <= 65535:
        raise UsageError(f"--metrics-port {args.metrics_port} is not a port (0-65535)")
    settings = probe_settings(source_options(args))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    history = open_history(args.db)
    metrics = WatchMetrics()
    if args.metrics_port is not None:
        port = metrics.serve(args.metrics_address, args.metrics_port)
        print(f"metrics on http://{args.metrics_address}:{port}/metrics", flush=True)
    watcher = Watcher(
        zones,
        history,
        zone_checker(settings, threshold),
        notifier=Notifier(webhook=args.webhook),
        metrics=metrics,
        clock=time.time,
        sleep=time.sleep,
        interval=interval,
        keep_seconds=args.keep_days * 86400 if args.keep_days else None,
        check_many=zones_checker(settings, threshold, concurrency=args.concurrency),
        on_wait=_announce_wait,
    )
    try:
        watcher.run(args.runs)
    finally:
        history.close()
    return int(ExitCode.OK)


def _announce_wait(seconds: float) -> None:
    from dnssec_doctor.model.time_text import clock_time, human_duration

    due = clock_time(time.time() + seconds)
    print(
        f"dnssec-doctor: the last run began less than --interval ago: the next is due at {due} "
        f"(in {human_duration(seconds)}); --runs N starts at once",
        file=sys.stderr,
        flush=True,
    )


WATCH_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"watch": run_watch}
