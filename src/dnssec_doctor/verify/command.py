"""``dnssec-doctor zone verify``: check a signed zone file before it goes live.

Input is a file, standard input (``-``), or an AXFR from a server (``--axfr``). Standard
input and transfers are spooled to a temporary file, so that every input takes the same
fast path (``verify.engine``). Exit codes follow ``check``: 0 valid, 1 valid with
warnings, 2 invalid, 4 usage or input error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from dnssec_doctor.arguments import parse_at, parse_duration
from dnssec_doctor.errors import UsageError
from dnssec_doctor.files import MIB, check_regular_file, read_text
from dnssec_doctor.model.options import DAY, AnalysisOptions

if TYPE_CHECKING:
    from dns.rdtypes.ANY.DS import DS

    from dnssec_doctor.verify.zone import Verification

# The command line is built for --help from every group of commands: the verifier is
# imported when a zone is verified.

HORIZONS = (1 * DAY, 3 * DAY, 7 * DAY, 14 * DAY, 30 * DAY)
MAX_RECORDS = 10_000_000  # verify.engine.MAX_RECORDS (not imported: start-up time)


def add_zone_commands(commands: Any) -> None:
    zone = commands.add_parser(
        "zone", help="work on a zone file: verify a signed zone before it goes live"
    )
    actions = zone.add_subparsers(
        dest="zone_command", metavar="ACTION", required=True, parser_class=type(zone)
    )
    verify = actions.add_parser(
        "verify",
        help="verify every signature, the denial chain, the keys and the DS of a signed zone",
        description="Verify a signed zone file: every RRset signed by every algorithm of the "
        "apex DNSKEY RRset, every signature valid at --at, the NSEC/NSEC3 chain, the keys, "
        "the DS (given, or the zone's CDS/CDNSKEY), and when signatures run out.",
    )
    verify.add_argument(
        "file", nargs="?", help="the zone file ('-' for standard input; leave out with --axfr)"
    )
    verify.add_argument("--origin", metavar="NAME", help="the zone's name (default: the SOA owner)")
    verify.add_argument(
        "--axfr",
        metavar="SERVER",
        help="transfer the zone (--origin) from this server: ADDRESS or ADDRESS#PORT",
    )
    verify.add_argument("--ds", type=Path, metavar="FILE", help="the parent's DS records")
    verify.add_argument(
        "--ds-record", action="append", default=[], metavar="RECORD", help="one DS (repeatable)"
    )
    verify.add_argument(
        "--at", metavar="TIME", help="judge signature windows at TIME: ISO 8601, @EPOCH, +3d"
    )
    verify.add_argument(
        "--expire-warning",
        default="3d",
        metavar="DURATION",
        help="warn about signatures expiring within this (default 3d; 36h, 600s)",
    )
    verify.add_argument("--json", action="store_true", help="the JSON report")
    verify.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="worker processes (default: the number of CPUs)",
    )
    verify.add_argument(
        "--max-examples",
        type=int,
        default=20,
        metavar="N",
        help="findings shown per code (all are counted; default 20)",
    )
    verify.add_argument(
        "--max-records",
        type=int,
        default=MAX_RECORDS,
        metavar="N",
        help=f"refuse a zone (file or transfer) of more records (default {MAX_RECORDS:,})",
    )
    verify.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour the report"
    )


def read_ds(path: Path | None, records: list[str], origin: dns.name.Name | None) -> list[DS]:
    """DS records from a file (zone-file lines) and from --ds-record, as DS rdata."""
    lines: list[tuple[str, str]] = []
    if path is not None:
        text = read_text(path, "DS", MIB)
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.split(";", 1)[0].strip()
            if line:
                lines.append((f"{path}, line {number}", line))
    lines += [("--ds-record", record) for record in records]
    result = []
    for where, line in lines:
        tokens = line.split()
        upper = [t.upper() for t in tokens]
        if "DS" in upper:
            index = upper.index("DS")
            owner = tokens[0] if index > 0 else None
            rdata = " ".join(tokens[index + 1 :])
        else:
            owner, rdata = None, line
        try:
            ds = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS, rdata)
        except dns.exception.DNSException as error:
            raise UsageError(f"{where}: not a DS record ({error}): {line!r}") from None
        if owner is not None and origin is not None:
            try:
                name = dns.name.from_text(owner)
            except dns.exception.DNSException:
                name = None
            if name is not None and name != origin:
                raise UsageError(f"{where}: the DS is for {name}, not for {origin}")
        result.append(cast("DS", ds))
    return result


@contextmanager
def zone_input(args: argparse.Namespace) -> Iterator[tuple[Path, str]]:
    """The zone as a file on disk, and how to name it in messages."""
    if args.axfr:
        if args.file:
            raise UsageError("give either a FILE or --axfr, not both")
        if not args.origin:
            raise UsageError("--axfr needs --origin", hint="--origin example.com")
        with _spooled() as (handle, path):
            _transfer(args.axfr, args.origin, handle, args.max_records)
            handle.flush()
            yield path, f"AXFR of {args.origin} from {args.axfr}"
        return
    if not args.file:
        raise UsageError("no zone given", hint="dnssec-doctor zone verify FILE (or - for stdin)")
    if args.file == "-":
        with _spooled() as (handle, path):
            shutil.copyfileobj(sys.stdin.buffer, handle)
            handle.flush()
            yield path, "<stdin>"
        return
    path = Path(args.file)
    check_regular_file(path, "zone")  # a FIFO, device or directory is said to be one
    yield path, str(path)


@contextmanager
def _spooled() -> Iterator[tuple[Any, Path]]:
    with tempfile.NamedTemporaryFile(prefix="dnssec-doctor-", suffix=".zone") as handle:
        yield handle, Path(handle.name)


def _transfer(server: str, origin: str, handle: Any, max_records: int) -> None:
    """Stream the transfer to ``handle`` as zone-file text, message by message: an endless
    transfer stops at ``max_records`` (and dnspython's lifetime, 300 s), in no memory."""
    import dns.query  # only for --axfr: its import costs a file check 30 ms of start-up

    address, _, port_text = server.partition("#")
    count = 0
    try:
        port = int(port_text) if port_text else 53
        apex = dns.name.from_text(origin)
        opened = False
        for message in dns.query.xfr(
            address, apex, port=port, timeout=30.0, lifetime=300.0, relativize=False
        ):
            for rrset in message.answer:
                if rrset.rdtype == dns.rdatatype.SOA and rrset.name == apex:
                    if opened:
                        continue  # the SOA that closes the transfer repeats the first
                    opened = True
                count += len(rrset)
                if count > max_records:
                    raise UsageError(
                        f"AXFR of {origin} from {server}: more than {max_records:,} records, "
                        "stopped",
                        hint="give a higher --max-records to read a zone that large",
                    )
                handle.write(rrset.to_text().encode() + b"\n")
    except ValueError as error:
        raise UsageError(f"invalid --axfr {server!r}: {error}") from None
    except (dns.exception.DNSException, OSError) as error:
        raise UsageError(
            f"AXFR of {origin} from {server} failed: {error or type(error).__name__}"
        ) from None


def verify_zone(
    path: Path,
    source: str,
    *,
    origin: str | None,
    options: AnalysisOptions,
    ds: list[DS],
    jobs: int = 2,
    max_examples: int = 20,
    max_records: int = MAX_RECORDS,
) -> Verification:
    """Scan and judge one zone file (the library entry point of ``zone verify``)."""
    from dnssec_doctor.verify.engine import ScanSettings, scan_zone_file, without_cyclic_gc
    from dnssec_doctor.verify.zone import judge_zone

    started = time.monotonic()
    origin_wire = dns.name.from_text(origin).canonicalize().to_wire() if origin else None
    settings = ScanSettings(
        now=options.now,
        expire_warning=options.expire_warning,
        horizons=HORIZONS,
        jobs=max(1, jobs),
        max_examples=max_examples,
        max_records=max_records,
    )
    with without_cyclic_gc():
        scan = scan_zone_file(path, source, origin_wire, settings)
        result = judge_zone(
            origin=scan.origin,
            source=source,
            apex=scan.apex,
            result=scan.result,
            load_group=scan.load_group,
            options=options,
            ds=ds,
            horizons=HORIZONS,
            max_examples=max_examples,
            mode=f"{scan.mode}, {scan.slices} slice{'s' if scan.slices != 1 else ''}",
        )
    result.stats["seconds"] = round(time.monotonic() - started, 3)
    return result


def run_zone(args: argparse.Namespace) -> int:
    from dnssec_doctor.render.verification import (
        render_verification_json,
        render_verification_text,
    )
    from dnssec_doctor.zonefile.reader import ZoneFileError

    if args.zone_command != "verify":
        raise UsageError(f"unknown zone action {args.zone_command}")
    now = parse_at(args.at, time.time())
    warning = parse_duration(args.expire_warning, "--expire-warning")
    if args.jobs < 1 or args.max_examples < 1 or args.max_records < 1:
        raise UsageError("--jobs, --max-examples and --max-records must be at least 1")
    origin_name = None
    if args.origin:
        from dnssec_doctor.probe.plan import parse_name  # the one parser of users' names

        try:
            origin_name = parse_name(args.origin)
        except UsageError as error:
            raise UsageError(f"--origin: {error.message}", hint=error.hint) from None
    ds = read_ds(args.ds, args.ds_record, origin_name)
    options = AnalysisOptions(now=now, expire_warning=warning)
    with zone_input(args) as (path, source):
        try:
            result = verify_zone(
                path,
                source,
                origin=origin_name.to_text() if origin_name is not None else None,
                options=options,
                ds=ds,
                jobs=args.jobs,
                max_examples=args.max_examples,
                max_records=args.max_records,
            )
        except ZoneFileError as error:
            raise UsageError(str(error)) from None
    if args.json:
        print(json.dumps(render_verification_json(result), indent=2))
    else:
        colour = args.color == "always" or (
            args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        )
        sys.stdout.write(render_verification_text(result, colour=colour))
    return result.exit_code
