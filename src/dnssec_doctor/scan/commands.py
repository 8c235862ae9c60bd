"""``dnssec-doctor scan``: the command line of bulk scanning."""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from dnssec_doctor.arguments import add_source_arguments, source_options
from dnssec_doctor.errors import ExitCode, UsageError

# What only running a scan needs is imported when it runs.


def add_scan_commands(commands: Any) -> None:
    from dnssec_doctor.scan.defaults import (
        DEFAULT_CACHE_MB,
        DEFAULT_CONCURRENCY,
        DEFAULT_QPS,
        DEFAULT_QPS_PER_SERVER,
    )

    scan = commands.add_parser(
        "scan",
        help="check many names at once, sharing what they have in common",
        description="Check every name of NAMES_FILE (one per line, optionally followed by a "
        "record type; '-' or nothing: standard input) with the same diagnosis as check, many "
        "at once in one process, sharing answers, referrals and server failures for as long "
        "as their TTLs allow. Writes one JSON object per name (JSON Lines) and a summary.",
    )
    scan.add_argument("names_file", nargs="?", default="-", help="names, one per line (- stdin)")
    scan.add_argument(
        "--zone-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="check every delegation of this zone file (e.g. a TLD zone), at its apex SOA",
    )
    scan.add_argument(
        "--with-ds", action="store_true", help="with --zone-file: only delegations with a DS"
    )
    scan.add_argument(
        "--origin", default=None, help="with --zone-file: the zone (default: the SOA's owner)"
    )
    scan.add_argument(
        "-o", "--output", type=Path, default=None, help="JSON Lines file (default: stdout)"
    )
    scan.add_argument(
        "--resume",
        action="store_true",
        help="skip the names already in --output (after an interruption) and append",
    )
    scan.add_argument(
        "--summary-json", type=Path, default=None, help="write the summary as JSON to this file"
    )
    scan.add_argument(
        "--full", action="store_true", help="each result carries the whole check --json report"
    )
    scan.add_argument(
        "--parquet",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write the results as a Parquet dataset in DIR (from --output, at the end)",
    )
    scan.add_argument(
        "--dask",
        default=None,
        metavar="SCHEDULER",
        help="scan in partitions on Dask: a scheduler address (tcp://host:8786) or local:N "
        "for N local worker processes",
    )
    scan.add_argument(
        "--partition-size",
        type=int,
        default=None,
        metavar="NAMES",
        help="names per Dask task (default 500)",
    )
    scan.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"the most names checked at once (default {DEFAULT_CONCURRENCY}); the scan "
        "runs fewer while answers come late or its event loop lags",
    )
    scan.add_argument(
        "--max-qps-per-server",
        type=float,
        default=DEFAULT_QPS_PER_SERVER,
        metavar="QPS",
        help=f"queries a second to one server address (default {DEFAULT_QPS_PER_SERVER:g}; "
        "halved for 10 s after a timeout or REFUSED)",
    )
    scan.add_argument(
        "--max-qps",
        type=float,
        default=DEFAULT_QPS,
        metavar="QPS",
        help=f"queries a second in all (default {DEFAULT_QPS:g})",
    )
    scan.add_argument(
        "--cache-memory",
        type=int,
        default=DEFAULT_CACHE_MB,
        metavar="MB",
        help=f"memory for the answers and referrals names share (default {DEFAULT_CACHE_MB}; "
        "a process's, each Dask worker has its own)",
    )
    scan.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="processes that analyse the snapshots (default: one per CPU; 0: a thread of "
        "the scanning process)",
    )
    scan.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="a progress bar on stderr (auto: when stderr is a terminal)",
    )
    add_source_arguments(scan, resolvers="the system's and 1.1.1.1, 8.8.8.8, 9.9.9.9")


def run_scan(args: argparse.Namespace) -> int:
    from dnssec_doctor.pipeline import probe_settings
    from dnssec_doctor.scan.defaults import MAX_CONCURRENCY
    from dnssec_doctor.scan.engine import ScanOptions, scan
    from dnssec_doctor.scan.results import (
        ResultWriter,
        Summary,
        open_output,
        read_done,
        write_summary,
    )

    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency must be 1 to {MAX_CONCURRENCY}")
    for option, value in (
        ("--max-qps-per-server", args.max_qps_per_server),
        ("--max-qps", args.max_qps),
    ):
        if not 0 < value <= 1e6:
            raise UsageError(f"{option} must be positive (at most 1000000)")
    output: Path | None = None if args.output is None or str(args.output) == "-" else args.output
    if args.resume and output is None:
        raise UsageError("--resume needs --output FILE", hint="the file an earlier scan wrote")
    if args.parquet is not None and output is None:
        raise UsageError("--parquet needs --output FILE", hint="the dataset is written from it")
    dask = None
    if args.dask is not None:
        from dnssec_doctor.scan.distributed import parse_dask

        dask = parse_dask(args.dask)
    if not 1 <= args.cache_memory <= 1_000_000:
        raise UsageError("--cache-memory must be 1 to 1000000 (MB)")
    if args.partition_size is not None and not 1 <= args.partition_size <= 1_000_000:
        raise UsageError("--partition-size must be 1 to 1000000")
    settings = probe_settings(source_options(args))
    options = ScanOptions(
        concurrency=args.concurrency,
        per_server_qps=args.max_qps_per_server,
        total_qps=args.max_qps,
        full=args.full,
        cache_bytes=args.cache_memory * 1024 * 1024,
        **({} if args.jobs is None else {"jobs": args.jobs}),
    )
    done: set[tuple[str, str]] = set()
    summary = Summary()
    if args.resume and output is not None:
        done, summary = read_done(output)
    from dnssec_doctor.scan.names import read_delegations, read_questions

    if args.zone_file is not None:
        if args.names_file != "-":
            raise UsageError("give a names file or --zone-file, not both")
        stream: IO[bytes] = io.BytesIO()
        label = str(args.zone_file)
        delegations = list(
            read_delegations(args.zone_file, with_ds=args.with_ds, origin=args.origin)
        )
    elif args.with_ds or args.origin is not None:
        raise UsageError("--with-ds and --origin go with --zone-file")
    else:
        stream, label = _open_names(args.names_file)

    out = open_output(output, append=args.resume)
    writer = ResultWriter(out)
    started = time.monotonic()
    previous = summary.names
    show = _progress(args.progress, summary)
    try:

        def emit(result: dict[str, Any]) -> None:
            writer.write(result)
            summary.add(result)
            show(result)

        with stream:
            questions = (
                iter(delegations) if args.zone_file is not None else read_questions(stream, label)
            )
            if dask is None:
                stats = scan(questions, settings, options, emit, skip=done)
            else:
                from dnssec_doctor.scan.distributed import (
                    DEFAULT_PARTITION,
                    dask_client,
                    scan_on_dask,
                )

                with dask_client(dask) as client:
                    stats = scan_on_dask(
                        client,
                        questions,
                        settings,
                        options,
                        emit,
                        skip=done,
                        partition_size=args.partition_size or DEFAULT_PARTITION,
                    )
    finally:
        show(None)
        if out is not sys.stdout:
            out.close()
    took = time.monotonic() - started
    checked = summary.names - previous
    extra = {
        "this_run": {
            "names": checked,
            "seconds": round(took, 3),
            "names_per_second": round(checked / took, 1) if took > 0 else None,
            "skipped_as_done": len(done),
            "queries": stats.to_json(),
            "queries_per_name": round(stats.sent / checked, 2) if checked else None,
        }
    }
    print(summary.render_text(), file=sys.stderr)
    run = extra["this_run"]
    print(
        f"this run: {checked} names in {took:.1f} s ({run['names_per_second']} a second), "
        f"{stats.sent} queries sent ({run['queries_per_name']} a name) of {stats.asked} "
        f"asked; {len(done)} names skipped as done",
        file=sys.stderr,
    )
    if stats.rescued or stats.overloads:
        print(
            f"overload: {stats.rescued} timed-out questions answered when asked again, "
            f"names at once halved {stats.overloads} times",
            file=sys.stderr,
        )
    if args.summary_json is not None:
        write_summary(args.summary_json, summary, extra)
    if args.parquet is not None and output is not None:
        from dnssec_doctor.scan.parquet import write_dataset

        rows = write_dataset(output, args.parquet)
        print(f"Parquet: {rows} rows in {args.parquet}", file=sys.stderr)
    return int(ExitCode.OK)


def _open_names(text: str) -> tuple[IO[bytes], str]:
    if text == "-":
        return sys.stdin.buffer, "standard input"
    path = Path(text)
    if path.is_dir():
        raise UsageError(f"cannot read {path}: it is a directory")
    try:
        return path.open("rb"), str(path)
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


def _progress(mode: str, summary: Any) -> Callable[[dict[str, Any] | None], None]:
    """A progress bar on stderr (rich): names done, rate, counts per verdict so far.
    Called with each result, and with None at the end."""
    if mode == "never" or (mode == "auto" and not sys.stderr.isatty()):
        return lambda result: None
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.completed} names"),
        TextColumn("{task.fields[rate]}/s"),
        TextColumn("{task.fields[verdicts]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    progress.start()
    task = progress.add_task("scan", total=None, rate="-", verdicts="")
    started = time.monotonic()
    count = [0]

    def show(result: dict[str, Any] | None) -> None:
        if result is None:
            progress.stop()
            return
        count[0] += 1
        elapsed = time.monotonic() - started
        verdicts = " ".join(f"{v} {n}" for v, n in summary.verdicts.most_common())
        progress.update(
            task,
            completed=count[0],
            rate=f"{count[0] / elapsed:.0f}" if elapsed > 0 else "-",
            verdicts=verdicts,
        )

    return show


SCAN_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"scan": run_scan}
