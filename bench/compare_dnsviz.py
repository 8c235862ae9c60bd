"""Time ``dnssec-doctor check`` and DNSViz (``probe`` then ``grok``) on the same lab names,
count the queries each sends, and print a Markdown table.

Both tools run as subprocesses, so a time is the whole command, as a user waits for it; each
is the median of ``--repeat`` runs, the tools taking turns. Like is compared with like: our
check with ``--no-resolvers`` against ``dnsviz probe -A`` (which asks no resolver either);
our full check, which also asks the lab's four resolvers, is reported beside them.

Queries are counted on the wire: each tool runs once more under strace, and every DNS
message it writes to port 53 (a UDP datagram, or a length-prefixed message on a TCP stream)
counts, retries included. The same run checks that nothing was sent outside 127.0.0.0/8.
Each tool's own record is counted too: our JSON report's ``queries`` (one entry per query
sent) and DNSViz's probe JSON (one entry per response, plus one per retry in its
``history``); DNSViz's record leaves out the queries of its internal resolver (the root NS
check, NS names and their addresses), which is why the table shows the wire count.

Needs the lab up (``bench/run`` brings it up). Sends nothing outside 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_LAB_DIR = Path(os.environ.get("DNSSEC_DOCTOR_LAB_DIR", "/run/dnssec-doctor/lab"))
DEFAULT_DOCTOR = REPO / ".venv" / "bin" / "dnssec-doctor"
DEFAULT_DNSVIZ = REPO / "bench" / ".venv-dnsviz" / "bin" / "dnsviz"
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")

# (name, type): lab scenario questions, healthy and broken in different ways.
NAMES = (
    ("www.secure-nsec.lab.", "A"),
    ("nonexistent.secure-nsec3.lab.", "A"),
    ("www.rrsig-expired.lab.", "A"),
    ("www.ds-bad-digest.lab.", "A"),
    ("app.cname-into-broken.lab.", "A"),
    ("www.stale-secondary.lab.", "A"),
    ("www.lame.lab.", "A"),
)

# Our exit codes 0 and 1 are healthy (with or without warnings); 2 and 3 are broken.
DOCTOR_VERDICT_CODES = {0, 1, 2, 3}
DOCTOR_BROKEN_CODES = {2, 3}


class BenchError(Exception):
    """A tool failed or the bench cannot run; the message says which and why."""


@dataclass
class Run:
    """One timed run of one tool on one name."""

    seconds: float
    recorded_queries: int
    verdict: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class WireCount:
    """DNS messages a process tree wrote to port 53, seen by strace."""

    queries: int = 0
    over_tcp: int = 0
    destinations: dict[str, int] = field(default_factory=dict)
    outside_loopback: list[str] = field(default_factory=list)


# --- running the tools ------------------------------------------------------------------


def run_command(command: list[str], *, accept: set[int] | None = None) -> tuple[float, str]:
    """Run a command; its wall time and stdout. Raises unless its exit code is accepted."""
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode not in (accept or {0}):
        raise BenchError(
            f"{' '.join(command)} exited with {completed.returncode}: "
            f"{completed.stderr.strip()[-2000:]}"
        )
    return seconds, completed.stdout


def doctor_command(
    doctor: Path, lab_dir: Path, name: str, rdtype: str, resolvers: bool
) -> list[str]:
    command = [str(doctor), "check", "--lab", "--lab-dir", str(lab_dir), "--json"]
    if not resolvers:
        command.append("--no-resolvers")
    return [*command, name, rdtype]


def run_doctor(doctor: Path, lab_dir: Path, name: str, rdtype: str, resolvers: bool) -> Run:
    command = doctor_command(doctor, lab_dir, name, rdtype, resolvers)
    seconds, stdout = run_command(command, accept=DOCTOR_VERDICT_CODES)
    report = json.loads(stdout)
    return Run(seconds, len(report["queries"]), str(report["verdict"]))


@dataclass(frozen=True)
class DnsvizSetup:
    dnsviz: Path
    root_server: str  # NAME=ADDRESS, for -x .:NAME=ADDRESS
    trust_anchor: Path
    ancestor: str | None  # -a; None for dnsviz's default with -A (the name itself)


def dnsviz_probe_command(setup: DnsvizSetup, name: str, output: Path) -> list[str]:
    command = [str(setup.dnsviz), "probe", "-A", "-x", f".:{setup.root_server}"]
    if setup.ancestor is not None:
        command += ["-a", setup.ancestor]
    return [*command, "-o", str(output), name]


def dnsviz_grok_command(setup: DnsvizSetup, probe_output: Path, output: Path) -> list[str]:
    # -P: the lab's servers are on loopback; without it every name has "private address"
    # errors and the errors column would say nothing about DNSSEC.
    return [
        str(setup.dnsviz),
        "grok",
        "-P",
        "-t",
        str(setup.trust_anchor),
        "-r",
        str(probe_output),
        "-o",
        str(output),
    ]


def run_dnsviz(setup: DnsvizSetup, name: str, workdir: Path) -> Run:
    probe_output = workdir / "probe.json"
    grok_output = workdir / "grok.json"
    probe_seconds, _ = run_command(dnsviz_probe_command(setup, name, probe_output))
    grok_seconds, _ = run_command(dnsviz_grok_command(setup, probe_output, grok_output))
    probe = json.loads(probe_output.read_text())
    errors, warnings = collect_grok_codes(json.loads(grok_output.read_text()))
    return Run(
        probe_seconds + grok_seconds,
        count_dnsviz_recorded_queries(probe),
        "errors" if errors else "no errors",
        {
            "probe_seconds": probe_seconds,
            "grok_seconds": grok_seconds,
            "errors": errors,
            "warnings": warnings,
        },
    )


def count_dnsviz_recorded_queries(probe: dict[str, Any]) -> int:
    """Queries in DNSViz's probe JSON: per name, per query, per server and client, the final
    response plus each earlier attempt kept in its ``history`` (a retry is a new query)."""
    count = 0
    for key, analysis in probe.items():
        if key.startswith("_meta"):
            continue
        for query in analysis.get("queries", []):
            for clients in query.get("responses", {}).values():
                for response in clients.values():
                    count += 1 + len(response.get("history", []))
    return count


def collect_grok_codes(grok: Any) -> tuple[list[str], list[str]]:
    """The distinct error and warning codes anywhere in DNSViz's grok output."""
    found: dict[str, set[str]] = {"errors": set(), "warnings": set()}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in found and isinstance(value, list):
                    found[key].update(str(item.get("code", item)) for item in value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(grok)
    return sorted(found["errors"]), sorted(found["warnings"])


# --- counting on the wire ---------------------------------------------------------------

_STRACE_LINE = re.compile(r"^(\d+)\s+(.*)$")
_RESUMED = re.compile(r"^<\.\.\. \w+ resumed>\s?(.*)$")
_CALL = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+)")
_STRING = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')
_INET = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("((?:\\x[0-9a-f]{2})*)"\)')
_INET6 = re.compile(r'sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "((?:\\x[0-9a-f]{2})*)"')
_SOCKET = re.compile(r"^(AF_INET6?), (SOCK_DGRAM|SOCK_STREAM)")


def _decode(escaped: str) -> bytes:
    return bytes.fromhex(escaped.replace("\\x", ""))


def _address(arguments: str) -> tuple[str, int] | None:
    match = _INET.search(arguments) or _INET6.search(arguments)
    if match is None:
        return None
    return _decode(match.group(2)).decode("ascii"), int(match.group(1))


@dataclass
class _Socket:
    stream: bool
    peer: tuple[str, int] | None = None
    pending: bytearray = field(default_factory=bytearray)


def count_wire_queries(trace: str) -> WireCount:
    """Count the DNS messages in an ``strace -f -xx -s 65535`` log of socket, connect,
    sendto, sendmsg, write, writev and close (one process: fds are shared by its threads)."""
    count = WireCount()
    sockets: dict[int, _Socket] = {}
    unfinished: dict[str, str] = {}

    def sent(sock: _Socket | None, data: bytes, address: tuple[str, int] | None) -> None:
        destination = address or (sock.peer if sock else None)
        if destination is None:
            return
        host, port = destination
        if ipaddress.ip_address(host) not in LOOPBACK:
            count.outside_loopback.append(f"{host} port {port}")
        if port != 53:
            return
        label = host
        if sock is not None and sock.stream:
            sock.pending += data
            while len(sock.pending) >= 2:
                size = int.from_bytes(sock.pending[:2], "big")
                if len(sock.pending) < 2 + size:
                    break
                del sock.pending[: 2 + size]
                count.queries += 1
                count.over_tcp += 1
                count.destinations[label] = count.destinations.get(label, 0) + 1
        else:
            count.queries += 1
            count.destinations[label] = count.destinations.get(label, 0) + 1

    for line in trace.splitlines():
        match = _STRACE_LINE.match(line)
        if match is None:
            continue
        pid, body = match.groups()
        if body.endswith("<unfinished ...>"):
            unfinished[pid] = body[: -len("<unfinished ...>")].rstrip()
            continue
        resumed = _RESUMED.match(body)
        if resumed is not None:
            body = unfinished.pop(pid, "") + resumed.group(1)
        call = _CALL.match(body)
        if call is None:
            continue
        name, arguments, result = call.group(1), call.group(2), int(call.group(3))
        fd_text, _, rest = arguments.partition(", ")
        if name == "socket":
            kind = _SOCKET.match(arguments)
            if result >= 0 and kind is not None:
                sockets[result] = _Socket(stream=kind.group(2) == "SOCK_STREAM")
            continue
        if not fd_text.isdigit():
            continue
        fd = int(fd_text)
        if name == "close":
            sockets.pop(fd, None)
        elif name == "connect" and fd in sockets:
            sockets[fd].peer = _address(rest)
            sockets[fd].pending.clear()
        elif name in ("sendto", "sendmsg", "write", "writev") and result > 0:
            sock = sockets.get(fd)
            if sock is None and name in ("write", "writev"):
                continue  # a file or a pipe
            # sendmsg and writev carry a list of buffers; the address, if any, is the
            # destination of a datagram (msg_name / sendto's last arguments).
            data = b"".join(_decode(s) for s in _STRING.findall(rest))[:result]
            address = _address(rest) if name in ("sendto", "sendmsg") else None
            sent(sock, data, address)
        elif name == "sendmmsg":
            raise BenchError("sendmmsg seen in the trace: counting it is not implemented")
    return count


def count_on_wire(command: list[str], accept: set[int], workdir: Path) -> WireCount:
    log = workdir / "strace.log"
    traced = [
        "strace",
        "-f",
        "-qq",
        "-xx",
        "-s",
        "65535",
        "-e",
        "signal=none",
        "-e",
        "trace=socket,connect,sendto,sendmsg,sendmmsg,write,writev,close",
        "-o",
        str(log),
        *command,
    ]
    run_command(traced, accept=accept)
    return count_wire_queries(log.read_text())


# --- the benchmark ----------------------------------------------------------------------


@dataclass
class NameResult:
    name: str
    rdtype: str
    runs: dict[str, list[Run]] = field(default_factory=dict)
    wire: dict[str, WireCount] = field(default_factory=dict)

    def median(self, tool: str) -> float:
        return statistics.median(run.seconds for run in self.runs[tool])

    def median_detail(self, tool: str, key: str) -> float:
        return statistics.median(float(run.detail[key]) for run in self.runs[tool])

    def queries(self, tool: str) -> int:
        """On the wire when counted there, else the tool's own record (median)."""
        if tool in self.wire:
            return self.wire[tool].queries
        return round(statistics.median(run.recorded_queries for run in self.runs[tool]))


TOOLS = ("doctor", "dnsviz", "doctor_full")


def read_root_server(lab_dir: Path) -> str:
    """``NAME=ADDRESS`` of the lab root's first server, from its root hints."""
    names: list[str] = []
    addresses: dict[str, str] = {}
    for line in (lab_dir / "root.hints").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[-2] == "NS" and fields[0] == ".":
            names.append(fields[-1])
        elif len(fields) >= 4 and fields[-2] == "A":
            addresses[fields[0]] = fields[-1]
    for name in names:
        if name in addresses:
            return f"{name}={addresses[name]}"
    raise BenchError(f"no root server with an address in {lab_dir / 'root.hints'}")


def read_expected_verdicts(doctor: Path, names: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The verdict the lab catalogue declares for each name's scenario."""
    _, stdout = run_command([str(doctor), "lab", "list", "--json"])
    expected = {
        (s["query"]["name"], s["query"]["type"]): s["diagnosis"]["verdict"]
        for s in json.loads(stdout)
    }
    unknown = [f"{n} {t}" for n, t in names if (n, t) not in expected]
    if unknown:
        raise BenchError(f"not a lab scenario's question: {', '.join(unknown)}")
    return {name: expected[(name, rdtype)] for name, rdtype in names}


def read_lab_identity(doctor: Path, lab_dir: Path) -> int:
    """When the running lab was built; raises if it is not up. A lab restarted in the
    middle of a run (new keys, cold resolvers) would make the numbers meaningless."""
    run_command([str(doctor), "lab", "--dir", str(lab_dir), "status"])
    return int(json.loads((lab_dir / "profile.json").read_text())["created"])


def check_verdicts(result: NameResult, expected: str) -> None:
    """Our check must reach the catalogue's verdict on every run: a different one means the
    lab is not answering as built (down, restarted, or shared), not a slow tool."""
    for tool in ("doctor", "doctor_full"):
        seen = {run.verdict for run in result.runs[tool]}
        if seen != {expected}:
            raise BenchError(
                f"{result.name}: dnssec-doctor said {', '.join(sorted(seen))}, the lab "
                f"catalogue says {expected}: is the lab up and its own?"
            )


def measure(args: argparse.Namespace, names: tuple[tuple[str, str], ...]) -> list[NameResult]:
    expected = read_expected_verdicts(args.doctor, names)
    lab = read_lab_identity(args.doctor, args.lab_dir)
    setup = DnsvizSetup(
        dnsviz=args.dnsviz,
        root_server=read_root_server(args.lab_dir),
        trust_anchor=args.lab_dir / "root-anchor.dnskey",
        ancestor=None if args.dnsviz_ancestor == "none" else args.dnsviz_ancestor,
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-dnsviz-") as temporary:
        workdir = Path(temporary)
        for name, rdtype in names:
            result = NameResult(name, rdtype, {tool: [] for tool in TOOLS})
            for repetition in range(args.repeat):
                # Take turns, starting with a different tool each time, so a slow moment
                # of the machine does not land on one tool only.
                order = TOOLS[repetition % 3 :] + TOOLS[: repetition % 3]
                for tool in order:
                    if tool == "dnsviz":
                        run = run_dnsviz(setup, name, workdir)
                    else:
                        resolvers = tool == "doctor_full"
                        run = run_doctor(args.doctor, args.lab_dir, name, rdtype, resolvers)
                    result.runs[tool].append(run)
            if args.wire:
                probe_output = workdir / "wire-probe.json"
                result.wire["doctor"] = count_on_wire(
                    doctor_command(args.doctor, args.lab_dir, name, rdtype, False),
                    DOCTOR_VERDICT_CODES,
                    workdir,
                )
                result.wire["doctor_full"] = count_on_wire(
                    doctor_command(args.doctor, args.lab_dir, name, rdtype, True),
                    DOCTOR_VERDICT_CODES,
                    workdir,
                )
                result.wire["dnsviz"] = count_on_wire(
                    dnsviz_probe_command(setup, name, probe_output), {0}, workdir
                )
                grok = count_on_wire(
                    dnsviz_grok_command(setup, probe_output, workdir / "wire-grok.json"),
                    {0},
                    workdir,
                )
                result.wire["dnsviz"].queries += grok.queries
                result.wire["dnsviz"].outside_loopback += grok.outside_loopback
                outside = [a for w in result.wire.values() for a in w.outside_loopback]
                if outside:
                    raise BenchError(f"{name}: sent outside 127.0.0.0/8: {', '.join(outside)}")
            check_verdicts(result, expected[name])
            if read_lab_identity(args.doctor, args.lab_dir) != lab:
                raise BenchError("the lab was rebuilt during the run")
            print(f"  {name} {rdtype}: done", file=sys.stderr)
            results.append(result)
    return results


# --- reporting --------------------------------------------------------------------------


def render_table(results: list[NameResult], repeat: int) -> str:
    lines = [
        "| name | dnssec-doctor s | queries | DNSViz probe+grok s (probe, grok) | queries "
        "| ratio (DNSViz / ours) | our verdict | DNSViz saw errors "
        "| full check (4 resolvers too) s | queries |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |",
    ]
    for result in results:
        ours = result.median("doctor")
        theirs = result.median("dnsviz")
        full = result.median("doctor_full")
        errors = result.runs["dnsviz"][-1].detail["errors"]
        seen = f"yes ({', '.join(errors)})" if errors else "no"
        lines.append(
            f"| {result.name} {result.rdtype} | {ours:.2f} | {result.queries('doctor')} "
            f"| {theirs:.2f} ({result.median_detail('dnsviz', 'probe_seconds'):.2f}, "
            f"{result.median_detail('dnsviz', 'grok_seconds'):.2f}) "
            f"| {result.queries('dnsviz')} | {theirs / ours:.1f}× "
            f"| {result.runs['doctor'][-1].verdict} | {seen} "
            f"| {full:.2f} | {result.queries('doctor_full')} |"
        )
    ours = sum(r.median("doctor") for r in results)
    theirs = sum(r.median("dnsviz") for r in results)
    full = sum(r.median("doctor_full") for r in results)
    our_queries = sum(r.queries("doctor") for r in results)
    their_queries = sum(r.queries("dnsviz") for r in results)
    lines.append(
        f"| **all {len(results)} (sum of medians)** | **{ours:.2f}** | **{our_queries}** "
        f"| **{theirs:.2f}** | **{their_queries}** | **{theirs / ours:.1f}×** | | "
        f"| {full:.2f} | {sum(r.queries('doctor_full') for r in results)} |"
    )
    lines.append("")
    per_name = statistics.median(r.median("dnsviz") / r.median("doctor") for r in results)
    lines.append(
        f"Overall: DNSViz took {theirs / ours:.1f}× the time of `dnssec-doctor check "
        f"--no-resolvers` (median of the per-name ratios: {per_name:.1f}×) and sent "
        f"{their_queries / our_queries:.1f}× the queries (times: medians of {repeat} runs; "
        "queries: counted on the wire)."
    )
    return "\n".join(lines)


def render_notes(results: list[NameResult]) -> str:
    """How far each tool's own record of its queries is from the wire."""
    notes = []
    for result in results:
        if "dnsviz" not in result.wire:
            return ""
        recorded = round(statistics.median(r.recorded_queries for r in result.runs["dnsviz"]))
        ours = round(statistics.median(r.recorded_queries for r in result.runs["doctor"]))
        notes.append(
            f"{result.name}: DNSViz JSON {recorded} / wire {result.wire['dnsviz'].queries}; "
            f"ours JSON {ours} / wire {result.wire['doctor'].queries}"
        )
    return "Recorded vs on the wire: " + "; ".join(notes)


def agreement(results: list[NameResult]) -> list[str]:
    """Names where our verdict class (healthy / broken) and DNSViz's (errors or not) differ."""
    differ = []
    for result in results:
        broken = result.runs["doctor"][-1].verdict not in ("secure", "insecure")
        errors = bool(result.runs["dnsviz"][-1].detail["errors"])
        if broken != errors:
            differ.append(f"{result.name} (ours {result.runs['doctor'][-1].verdict})")
    return differ


def to_json(results: list[NameResult], args: argparse.Namespace) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "repeat": args.repeat,
        "dnsviz_ancestor": args.dnsviz_ancestor,
        "names": [
            {
                "name": r.name,
                "type": r.rdtype,
                "tools": {
                    tool: {
                        "median_seconds": r.median(tool),
                        "seconds": [run.seconds for run in r.runs[tool]],
                        "recorded_queries": [run.recorded_queries for run in r.runs[tool]],
                        "wire_queries": r.wire[tool].queries if tool in r.wire else None,
                        "wire_over_tcp": r.wire[tool].over_tcp if tool in r.wire else None,
                        "wire_destinations": r.wire[tool].destinations if tool in r.wire else None,
                        "verdicts": sorted({run.verdict for run in r.runs[tool]}),
                        "details": [run.detail for run in r.runs[tool] if run.detail],
                    }
                    for tool in TOOLS
                },
            }
            for r in results
        ],
    }


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per tool and name (5)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write raw numbers")
    parser.add_argument("--lab-dir", type=Path, default=DEFAULT_LAB_DIR)
    parser.add_argument("--doctor", type=Path, default=DEFAULT_DOCTOR, help="dnssec-doctor")
    parser.add_argument("--dnsviz", type=Path, default=DEFAULT_DNSVIZ, help="dnsviz")
    parser.add_argument(
        "--dnsviz-ancestor",
        default=".",
        metavar="NAME",
        help="dnsviz probe -a: probe from this ancestor down ('.' like our check, which "
        "walks from the root; 'none' for dnsviz's -A default, the name itself)",
    )
    parser.add_argument(
        "--no-wire",
        dest="wire",
        action="store_false",
        help="skip the strace runs; count queries from each tool's own record",
    )
    parser.add_argument(
        "--name",
        action="append",
        metavar="NAME:TYPE",
        help="a lab question instead of the default set (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    names = (
        tuple((n.rstrip(".") + ".", t.upper()) for n, t in (q.split(":") for q in args.name))
        if args.name
        else NAMES
    )
    try:
        for tool in (args.doctor, args.dnsviz):
            if not os.access(tool, os.X_OK):
                raise BenchError(f"{tool} not found (bench/run installs it)")
        if args.wire and shutil.which("strace") is None:
            raise BenchError("strace not found (apt-get install strace, or --no-wire)")
        load_before = os.getloadavg()
        print(f"measuring {len(names)} names, {args.repeat} runs each...", file=sys.stderr)
        results = measure(args, names)
    except BenchError as error:
        print(f"compare_dnsviz: {error}", file=sys.stderr)
        return 1
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    print(render_table(results, args.repeat))
    print()
    differ = agreement(results)
    print(
        "Verdict class (our healthy/broken vs DNSViz errors yes/no): "
        + (f"differs for {', '.join(differ)}" if differ else "the same for every name")
        + "."
    )
    notes = render_notes(results)
    if notes:
        print(notes + ".")
    print(
        f"{today}, {os.cpu_count()} CPUs, load average {load_before[0]:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after; DNSViz: probe -A -x .:{read_root_server(args.lab_dir)}"
        + ("" if args.dnsviz_ancestor == "none" else f" -a {args.dnsviz_ancestor}")
        + ", grok -P -t root-anchor.dnskey. Full check: ours also asking the lab's four "
        "resolvers (their caches are warm after its first run)."
    )
    if args.json:
        args.json.write_text(json.dumps(to_json(results, args), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
