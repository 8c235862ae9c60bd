"""Where a scan's CPU a name goes: the probe (the scanning process) and the analysis (its
analysis processes), each measured alone on the bulk lab.

Run by bench/scan/profile inside a private network namespace: it brings up a lab with
``--zones`` bulk zones and scans every name of the manifest in two steps, as a scan with
analysis processes does them:

1. the probe: every name's snapshot collected through one shared cache, on asyncio, the
   responses parsed only as far as the walk follows them (``read_ahead`` off, as in a
   scan whose analysis runs in other processes); CPU of this process a name;
2. the analysis: the snapshots handed (pickled) to a fresh process, which analyses and
   diagnoses each into its result line, as an analysis process does; CPU a name, and
   the time to pickle and unpickle a snapshot.

With ``--py-spy DIR`` each step runs under py-spy (sampling: the costs are not inflated
as under cProfile) and DIR gets its raw stacks (``probe.txt``, ``analysis.txt``), for a
flame graph or ``--top`` (the functions holding the most samples, inclusive).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dnssec_doctor.lab import runtime
from dnssec_doctor.lab.bulk import read_manifest
from dnssec_doctor.model.snapshot import Snapshot
from dnssec_doctor.pipeline import lab_settings
from dnssec_doctor.probe.collect import collect_snapshot
from dnssec_doctor.probe.settings import ProbeSettings
from dnssec_doctor.probe.transport import NetworkTransport
from dnssec_doctor.scan.cache import CachingTransport
from dnssec_doctor.scan.names import Question

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
CONCURRENCY = 100  # names at once: below the overload the scan's window would find


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--zones", type=int, default=1000)
    parser.add_argument("--py-spy", type=Path, dest="py_spy")
    parser.add_argument("--top", type=int, default=30, help="with --py-spy: functions shown")
    parser.add_argument("--analyse", type=Path, help=argparse.SUPPRESS)  # step 2, internal
    args = parser.parse_args()
    if args.analyse:
        return _analyse(args.analyse)
    spy = shutil.which("py-spy", path=str(PYTHON.parent)) if args.py_spy else None
    if args.py_spy and spy is None:
        print("py-spy is not installed in .venv: run scripts/bootstrap", file=sys.stderr)
        return 2
    if args.py_spy:
        args.py_spy.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="scan-profile-"))
    profile = runtime.up(work / "lab", bulk=args.zones)
    try:
        questions = [Question(e.name, e.type, n) for n, e in enumerate(read_manifest(work / "lab"))]
        settings = lab_settings(
            profile, timeout=2.0, deadline=20.0, resolvers=(), transport_probes=False
        )
        settings = dataclasses.replace(settings, read_ahead=False)
        spying = _spy(spy, args.py_spy / "probe.txt", ["--pid", str(os.getpid())]) if spy else None
        started = time.process_time()
        collected = asyncio.run(_probe(questions, settings))
        probe_ms = (time.process_time() - started) * 1000 / len(collected)
        if spying is not None:
            spying.send_signal(signal.SIGINT)
            spying.wait()
    finally:
        runtime.down(work / "lab")
    snapshots = work / "snapshots.pickle"
    started = time.process_time()
    snapshots.write_bytes(pickle.dumps(collected))
    pickle_ms = (time.process_time() - started) * 1000 / len(collected)
    command = [str(PYTHON), __file__, "--analyse", str(snapshots)]
    if spy:
        command = [
            spy,
            "record",
            "-r",
            "250",
            "-f",
            "raw",
            "-o",
            str(args.py_spy / "analysis.txt"),
            "--",
            *command,
        ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    # The last line of its own (py-spy writes lines of its own after it).
    analysis = json.loads(next(x for x in reversed(done.stdout.splitlines()) if x[:1] == "{"))
    shutil.rmtree(work)
    print(
        f"{len(collected)} names: probe {probe_ms:.2f} ms CPU a name, pickling a snapshot "
        f"{pickle_ms:.2f} ms, unpickling {analysis['unpickle_ms']:.2f} ms, analysis "
        f"{analysis['analysis_ms']:.2f} ms (load average {os.getloadavg()[0]:.2f})"
    )
    if args.py_spy:
        for name, root in (("probe.txt", "run_until_complete"), ("analysis.txt", "judge_scan")):
            print(f"--- {name}: share of the samples under {root}, inclusive")
            for share, function in _top(args.py_spy / name, root, args.top):
                print(f"{share:5.1f}%  {function}")
    return 0


def _spy(spy: str, output: Path, target: list[str]) -> subprocess.Popen[bytes]:
    """py-spy recording ``target`` (``--pid N``) into ``output``, until interrupted."""
    command = [spy, "record", "-r", "250", "-f", "raw", "-o", str(output), *target]
    spying = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached before the work starts
    return spying


def _top(path: Path, root: str, count: int) -> list[tuple[float, str]]:
    """The functions present in the most samples under ``root`` (inclusive), by share."""
    inclusive = collections.Counter[str]()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = stack.split(";")
        if not any(frame.split(" (")[0].endswith(root) for frame in frames):
            continue
        total += int(samples)
        for function in {
            f.split(" (")[0] + " " + f.rsplit("/", 1)[-1].split(":")[0] for f in frames
        }:
            inclusive[function] += int(samples)
    return [(100 * n / max(1, total), f) for f, n in inclusive.most_common(count)]


async def _probe(questions: list[Question], settings: ProbeSettings) -> list[Snapshot]:
    """Every name's snapshot through one shared cache, CONCURRENCY names at once."""
    cache = CachingTransport(
        NetworkTransport(), timeout=settings.timeout, per_server_qps=1e6, total_qps=1e6
    )
    pending = iter(questions)
    snapshots: list[Snapshot] = []

    async def work() -> None:
        for question in pending:
            snapshots.append(
                await collect_snapshot(question.name, question.rdtype, settings, cache)
            )

    await asyncio.gather(*(work() for _ in range(CONCURRENCY)))
    return snapshots


def _analyse(path: Path) -> int:
    """Step 2, in a fresh process: each snapshot analysed into its result line."""
    from dnssec_doctor.scan.engine import judge_scan

    started = time.process_time()
    snapshots = pickle.loads(path.read_bytes())
    unpickle_ms = (time.process_time() - started) * 1000 / len(snapshots)
    judge_scan(snapshots[0])  # the imports, out of the count
    started = time.process_time()
    for snapshot in snapshots[1:]:
        judge_scan(snapshot)
    analysis_ms = (time.process_time() - started) * 1000 / (len(snapshots) - 1)
    print(json.dumps({"unpickle_ms": unpickle_ms, "analysis_ms": analysis_ms}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
