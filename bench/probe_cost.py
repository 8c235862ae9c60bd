"""What check's transport probes cost: queries, answers waited for in a row, time.

Run against a running lab (in a private network namespace of its own):

    unshare -n sh -c 'ip link set lo up && L=/tmp/probe-cost-lab &&
        .venv/bin/dnssec-doctor lab up --dir $L >/dev/null &&
        .venv/bin/python bench/probe_cost.py $L; .venv/bin/dnssec-doctor lab down --dir $L'

For each name, the probe without resolvers (as ``check --lab --no-resolvers``) with the
transport probes off (scan, watch) and on (check), interleaved, REPEAT times each: the
median wall time, the queries sent and the answers waited for in a row beside the
critical path (``probe/rounds.py``).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from dnssec_doctor.lab.profile import load_profile
from dnssec_doctor.pipeline import lab_settings
from dnssec_doctor.probe.collect import collect
from dnssec_doctor.probe.rounds import answers_in_a_row, critical_path

NAMES = (
    "www.secure-nsec.lab.",
    "www.rrsig-expired.lab.",
    "app.cname-into-broken.lab.",
    "www.stale-secondary.lab.",
)
REPEAT = 7


def main() -> None:
    profile = load_profile(Path(sys.argv[1]))
    print("| name | probes | queries | waited / critical path | median ms |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name in NAMES:
        runs: dict[bool, list[tuple[float, int, int, int]]] = {False: [], True: []}
        for _ in range(REPEAT):
            for probes in (False, True):
                settings = lab_settings(profile, resolvers=(), transport_probes=probes)
                started = time.perf_counter()
                snapshot = collect(name, "A", settings)
                took = time.perf_counter() - started
                runs[probes].append(
                    (
                        took,
                        len(snapshot.exchanges),
                        answers_in_a_row(snapshot),
                        critical_path(snapshot),
                    )
                )
        for probes, results in runs.items():
            queries = statistics.median(r[1] for r in results)
            waited = statistics.median(r[2] for r in results)
            path = statistics.median(r[3] for r in results)
            ms = statistics.median(r[0] for r in results) * 1000
            state = "on" if probes else "off"
            print(f"| {name} | {state} | {queries:g} | {waited:g} / {path:g} | {ms:.0f} |")


if __name__ == "__main__":
    main()
