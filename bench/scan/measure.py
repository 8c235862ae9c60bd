"""Bulk scanning against the bulk lab: names per second, queries per name, peak memory.

Run by bench/scan/run inside a private network namespace (nothing leaves it). Brings up
the lab with ``--zones`` bulk zones (timing their generation), scans every name of the
manifest with each variant (one process; Dask with 1 and 2 local workers), checks each
result against the manifest, and prints a table (and --json FILE).

The machine is shared: the lab's servers run on the same two cores as the scanner, and
other engineers' work may too; the numbers say so by carrying the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dnssec_doctor.lab import runtime
from dnssec_doctor.lab.bulk import read_manifest
from dnssec_doctor.scan.engine import DEFAULT_CONCURRENCY

ROOT = Path(__file__).resolve().parents[2]
DOCTOR = ROOT / ".venv" / "bin" / "dnssec-doctor"
VARIANTS = {
    "one process": [],
    "dask local:1": ["--dask", "local:1"],
    "dask local:2": ["--dask", "local:2"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--zones", type=int, default=1000)
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS))
    parser.add_argument("--resolvers", action="store_true", help="ask the lab's resolvers too")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"the most names at once per process (default {DEFAULT_CONCURRENCY}, scan's: "
        "the scan adapts below it when the machine cannot keep up)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="scan-bench-"))
    lab_dir = work / "lab"
    started = time.monotonic()
    profile = runtime.up(lab_dir, bulk=args.zones)
    lab_seconds = time.monotonic() - started
    results: dict[str, object] = {
        "zones": args.zones,
        "concurrency": args.concurrency,
        "lab_up_seconds": round(lab_seconds, 1),
        "cpus": os.cpu_count(),
        "variants": {},
    }
    print(f"lab up with {args.zones} bulk zones in {lab_seconds:.1f} s")
    try:
        manifest = {(e.name, e.type): e for e in read_manifest(profile.directory)}
        names = work / "names.txt"
        names.write_text("".join(f"{n} {t}\n" for n, t in manifest))
        for variant in args.variant or list(VARIANTS):
            output = work / f"{variant.replace(' ', '-')}.jsonl"
            summary = work / f"{variant.replace(' ', '-')}.json"
            command = [
                "/usr/bin/time", "-f", "%M", str(DOCTOR), "scan", str(names), "--lab",
                "--lab-dir", str(profile.directory), "-o", str(output),
                "--summary-json", str(summary), "--max-qps-per-server", "100000",
                "--max-qps", "1000000", "--progress", "never", "--concurrency",
                str(args.concurrency), *VARIANTS[variant],
            ]
            if not args.resolvers:
                command.append("--no-resolvers")
            load = os.getloadavg()[0]
            cpu_before = os.times()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            cpu_after = os.times()
            load_after = os.getloadavg()[0]
            if done.returncode != 0:
                print(f"{variant}: exit {done.returncode}: {done.stderr[-500:]}", file=sys.stderr)
                continue
            peak_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
            run = json.loads(summary.read_text())["this_run"]
            differences = 0
            for line in output.read_text().splitlines():
                result = json.loads(line)
                entry = manifest[(result["name"], result["type"])]
                cause = result["causes"][0]["code"] if result["causes"] else None
                got = (result["verdict"], result["ede"], result["zone"], cause)
                differences += got != (entry.verdict, entry.ede, entry.zone, entry.cause)
            row = {
                "names": run["names"],
                "seconds": run["seconds"],
                "names_per_second": run["names_per_second"],
                "queries_per_name": run["queries_per_name"],
                "asked_per_name": round(run["queries"]["asked"] / run["names"], 2),
                "peak_rss_mb": round(peak_mb, 1),
                "differences_from_manifest": differences,
                # user + system CPU of the scan and its analysis processes, per name
                "cpu_ms_per_name": round(
                    (
                        cpu_after.children_user
                        - cpu_before.children_user
                        + cpu_after.children_system
                        - cpu_before.children_system
                    )
                    * 1000
                    / max(1, run["names"]),
                    1,
                ),
                "timeouts_rescued": run["queries"].get("rescued", 0),
                "overloads": run["queries"].get("overloads", 0),
                "load_average_before": round(load, 2),
                "load_average_after": round(load_after, 2),
            }
            results["variants"][variant] = row  # type: ignore[index]
            print(
                f"{variant:<14} {row['names']} names in {row['seconds']} s: "
                f"{row['names_per_second']} names/s, {row['queries_per_name']} queries sent "
                f"a name ({row['asked_per_name']} asked), {row['cpu_ms_per_name']} ms CPU a "
                f"name, peak {row['peak_rss_mb']} MB, {differences} differences from the "
                f"manifest, {row['overloads']} overloads (load {load:.2f} before, "
                f"{load_after:.2f} after)"
            )
    finally:
        runtime.down(lab_dir)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
