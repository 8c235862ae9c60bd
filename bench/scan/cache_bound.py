"""The scan's answer cache at its bound: how much memory 200,000 kept answers and 200,000
kept referrals take (the most a scan of any number of names keeps), with answers of the
bulk lab's sizes (435 bytes on average, measured on a scan of 1,000 names).

Run: .venv/bin/python bench/scan/cache_bound.py [--entries N] [--answer-bytes B]
Nothing is sent: the cache is filled directly, as a scan fills it.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import dns.message
import dns.name

from dnssec_doctor.model import snapshot
from dnssec_doctor.probe.transport import Reply, Transport
from dnssec_doctor.scan.cache import CachingTransport, _Kept, _query_keys


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--answer-bytes", type=int, default=435)
    args = parser.parse_args()
    before = peak_mb()
    inner: Transport = None  # type: ignore[assignment]  # never asked
    cache = CachingTransport(inner, max_entries=args.entries)
    expires = time.monotonic() + 3600
    for i in range(args.entries):
        name = f"www.d{i:07d}.bulk."
        flags, question = _query_keys(dns.message.make_query(name, "A", want_dnssec=True))
        # Distinct bytes for each answer, as each name's own answers are.
        response = os.urandom(args.answer_bytes)
        kept = _Kept(Reply(response, None, 0.001, snapshot.Transport.UDP), expires)
        address = f"127.53.{i // 250 % 250}.{i % 250}"
        cache._store(cache.answers, (address, False, flags, question), kept)
        child = dns.name.from_text(f"d{i:07d}.bulk.")
        cache._store(cache.referrals, (address, False, flags, child), kept)
    after = peak_mb()
    print(
        f"{len(cache.answers)} answers and {len(cache.referrals)} referrals kept: peak RSS "
        f"{before:.0f} MB before, {after:.0f} MB after ({after - before:.0f} MB for the cache)"
    )


if __name__ == "__main__":
    main()
