"""The floor of a scan's CPU a name with dnspython: parsing the name's own answers and
verifying its own signatures, and the names a second that leaves at most.

What names share (the root's and the TLD's answers, their signatures) is parsed and
verified once per process by the scan; what is left to every name is its own: the
answers no other name gets (the TLD's referral and DS answer, the child zone's answers,
the root's referral rewritten to the name's question) and the signatures in them. This
measures that work alone, on the bulk lab's real answers, with nothing else a scan does
(no asking, no analysis, no diagnosis):

- parse: ``dns.message.from_wire`` of each own answer (what ``analysis.wire`` does once
  per answer);
- verify: ``dns.dnssec.validate_rrsig`` of each RRSIG in them with the one key it names
  (what ``analysis.signatures`` does once per signature: the cryptography, no policy).

Run by bench/scan/floor inside a private network namespace: it brings up a lab with
``--zones`` bulk zones (every kind of the mix at least once), collects each name's
snapshot through the scanner, and times the two steps over every name, ``--rounds``
times (the fastest round counts: the machine is shared). It prints, per kind of zone and
for the lab's mix, the own answers and signatures a name has, what they cost, and the
names a second that cost alone allows on one and two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.dnssec
import dns.exception
import dns.message
import dns.name
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.RRSIG import RRSIG

from dnssec_doctor.lab import runtime
from dnssec_doctor.lab.bulk import MIX, read_manifest
from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.model.snapshot import Snapshot
from dnssec_doctor.pipeline import lab_settings
from dnssec_doctor.scan.engine import ScanOptions, scan_questions
from dnssec_doctor.scan.names import Question

Triple = tuple[dns.rrset.RRset, RRSIG, dict[dns.name.Name, dns.rdataset.Rdataset]]


@dataclass
class Name:
    """One name's own work: the answers only it got, and the signatures in them."""

    kind: str
    answers: list[bytes]
    signatures: list[Triple]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--zones", type=int, default=len(MIX) * 5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="scan-floor-"))
    lab_dir = work / "lab"
    profile = runtime.up(lab_dir, bulk=max(args.zones, len(MIX)))
    try:
        manifest = list(read_manifest(profile.directory))
        kinds = {(e.name, e.type): e.kind for e in manifest}
        snapshots = _collect(profile, [Question(e.name, e.type, n) for n, e in enumerate(manifest)])
    finally:
        runtime.down(lab_dir)
    names = _own_work(snapshots, kinds)
    parse_us, verify_us = _time(names, args.rounds)
    report = _report(names, parse_us, verify_us)
    _print(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _collect(profile: LabProfile, questions: list[Question]) -> list[Snapshot]:
    """Every name's snapshot, collected by the scanner (one shared cache, as a scan)."""
    # What scan asks: no resolvers here (--no-resolvers), no transport probes (check only).
    settings = lab_settings(
        profile, timeout=2.0, deadline=20.0, resolvers=(), transport_probes=False
    )
    options = ScanOptions(concurrency=50, per_server_qps=100_000, total_qps=1_000_000, jobs=0)
    snapshots: list[Snapshot] = []
    asyncio.run(
        scan_questions(iter(questions), settings, options, snapshots.append, judge=lambda s: s)
    )
    return snapshots


def _own_work(snapshots: list[Snapshot], kinds: dict[tuple[str, str], str]) -> list[Name]:
    """For each name, the answers no other name got (by their bytes after the ID: the
    scan parses each distinct answer once), and the signatures in them that no other
    name's answers hold, each once (the scan verifies each RRset, RRSIG and key once),
    with the DNSKEY RRset of its signer that the name's own snapshot holds."""
    holders = collections.Counter[bytes]()
    for snapshot in snapshots:
        holders.update({e.response[2:] for e in snapshot.exchanges if e.response})
    found = []
    for snapshot in snapshots:
        answers = [e.response for e in snapshot.exchanges if e.response]
        own = list(dict.fromkeys(a for a in answers if holders[a[2:]] == 1))
        keys = _dnskeys(snapshot)
        signatures = {_identity(t): t for wire in answers for t in _signatures(wire, keys)}
        found.append((snapshot, own, signatures))
    signers = collections.Counter[bytes]()
    for _, _, signatures in found:
        signers.update(signatures.keys())
    return [
        Name(
            kinds[(snapshot.name, snapshot.rdtype)],
            own,
            [t for identity, t in signatures.items() if signers[identity] == 1],
        )
        for snapshot, own, signatures in found
    ]


def _identity(triple: Triple) -> bytes:
    """What a verification's verdict depends on, as the scan's memo keys it: the RRset,
    the RRSIG and the key (the signer's key set, here)."""
    rrset, rrsig, keys = triple
    parts = [
        rrset.to_text().encode(),
        rrsig.to_wire(),
        *(k.to_wire() for keyset in keys.values() for k in keyset),
    ]
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def _dnskeys(snapshot: Snapshot) -> dict[dns.name.Name, dns.rdataset.Rdataset]:
    keys: dict[dns.name.Name, dns.rdataset.Rdataset] = {}
    for exchange in snapshot.exchanges:
        if exchange.qtype != "DNSKEY" or not exchange.response:
            continue
        message = dns.message.from_wire(exchange.response, ignore_trailing=True)
        for rrset in message.answer:
            if rrset.rdtype == dns.rdatatype.DNSKEY:
                keys.setdefault(rrset.name, dns.rdataset.Rdataset(rrset.rdclass, rrset.rdtype))
                keys[rrset.name].update(rrset)
    return keys


def _signatures(wire: bytes, keys: dict[dns.name.Name, dns.rdataset.Rdataset]) -> list[Triple]:
    """Each RRSIG of the answer with the RRset it covers and its signer's key set (the
    signatures of a signer whose keys the snapshot lacks are left out: nothing to verify
    them with, for the scan either)."""
    message = dns.message.from_wire(wire, ignore_trailing=True)
    triples: list[Triple] = []
    for section in (message.answer, message.authority):
        for sigs in section:
            if sigs.rdtype != dns.rdatatype.RRSIG:
                continue
            covered = next(
                (r for r in section if r.name == sigs.name and r.rdtype == sigs.covers), None
            )
            if covered is None:
                continue
            for rrsig in sigs:
                keyset = keys.get(rrsig.signer)
                if keyset is not None:
                    triples.append((covered, rrsig, {rrsig.signer: keyset}))
    return triples


def _time(names: list[Name], rounds: int) -> tuple[list[float], list[float]]:
    """Microseconds of CPU a name for parsing its own answers and for verifying its own
    signatures: each name's work timed on its own, the fastest of ``rounds`` rounds."""
    parse = [float("inf")] * len(names)
    verify = [float("inf")] * len(names)
    for _ in range(rounds):
        for index, name in enumerate(names):
            started = time.process_time_ns()
            for wire in name.answers:
                dns.message.from_wire(wire, ignore_trailing=True)
            parsed = time.process_time_ns()
            for rrset, rrsig, keys in name.signatures:
                # A bad signature is verified all the same: it costs the same.
                with contextlib.suppress(dns.exception.DNSException, ValueError):
                    dns.dnssec.validate_rrsig(
                        rrset,
                        rrsig,
                        keys,  # type: ignore[arg-type]
                        now=float(rrsig.inception),
                        policy=dns.dnssec.allow_all_policy,
                    )
            verified = time.process_time_ns()
            parse[index] = min(parse[index], (parsed - started) / 1000)
            verify[index] = min(verify[index], (verified - parsed) / 1000)
    return parse, verify


def _report(names: list[Name], parse_us: list[float], verify_us: list[float]) -> dict[str, Any]:
    by_kind: dict[str, list[int]] = collections.defaultdict(list)
    for index, name in enumerate(names):
        by_kind[name.kind].append(index)

    def summary(indexes: list[int]) -> dict[str, float]:
        parse = statistics.fmean(parse_us[i] for i in indexes)
        verify = statistics.fmean(verify_us[i] for i in indexes)
        return {
            "names": len(indexes),
            "own_answers": statistics.fmean(len(names[i].answers) for i in indexes),
            "own_answer_bytes": statistics.fmean(sum(map(len, names[i].answers)) for i in indexes),
            "own_signatures": statistics.fmean(len(names[i].signatures) for i in indexes),
            "parse_us": parse,
            "verify_us": verify,
            "floor_ms": (parse + verify) / 1000,
            "names_per_second_one_core": 1e6 / (parse + verify),
            "names_per_second_two_cores": 2e6 / (parse + verify),
        }

    return {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "kinds": {kind: summary(indexes) for kind, indexes in sorted(by_kind.items())},
        "mix": summary(list(range(len(names)))),
    }


def _print(report: dict[str, Any]) -> None:
    print(
        f"{'':<18} {'names':>5} {'answers':>7} {'bytes':>6} {'sigs':>5} {'parse':>8} "
        f"{'verify':>8} {'floor':>8} {'names/s 1 core':>15} {'2 cores':>8}"
    )
    rows = {**report["kinds"], "the lab's mix": report["mix"]}
    for kind, row in rows.items():
        print(
            f"{kind:<18} {row['names']:>5} {row['own_answers']:>7.1f} "
            f"{row['own_answer_bytes']:>6.0f} {row['own_signatures']:>5.1f} "
            f"{row['parse_us']:>6.0f}us {row['verify_us']:>6.0f}us {row['floor_ms']:>6.2f}ms "
            f"{row['names_per_second_one_core']:>15.0f} {row['names_per_second_two_cores']:>8.0f}"
        )
    print(f"(load average {report['load_average']:.2f} on {report['cpus']} CPUs)")


if __name__ == "__main__":
    sys.exit(main())
