"""The scan's answer cache at its bound: what a scan of any number of names keeps.

Fills a ``CachingTransport`` as a scan of ``--names`` names fills it (for each name, the
nine answers of its own that a bulk name gets, ``--answer-bytes`` bytes each, the bulk
lab's average being 435, and the parent's referral, kept also as a referral, with keys of
the shape the cache makes from a probe's queries), then prints
what it kept, what tracemalloc counts an entry beyond its response's bytes (the cache's
``ENTRY_COST`` must not be below it) and the peak RSS of the process.

Run: .venv/bin/python bench/scan/cache_bound.py [--names N] [--answer-bytes B]
    [--budget-mb MB] [--entries N]
Nothing is sent: the cache is filled directly, as a scan fills it.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc

import dns.message
import dns.name

from dnssec_doctor.model import snapshot
from dnssec_doctor.probe.transport import Reply, Transport
from dnssec_doctor.scan.cache import (
    DEFAULT_CACHE_BYTES,
    ENTRY_COST,
    CachingTransport,
    _Kept,
    _query_keys,
)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


TYPES = ("A", "DNSKEY", "SOA", "NS", "CDS", "CDNSKEY", "DS", "TXT", "AAAA")


def fill(cache: CachingTransport, names: int, answer_bytes: int) -> None:
    expires = time.monotonic() + 3600
    for i in range(names):
        address = f"127.53.{i // 250 % 250}.{i % 250}"
        for rdtype in TYPES:
            query = dns.message.make_query(f"www.d{i:07d}.bulk.", rdtype, want_dnssec=True)
            flags, question = _query_keys(query)
            # Distinct bytes for each answer, as each name's own answers are.
            reply = Reply(os.urandom(answer_bytes), None, 0.001, snapshot.Transport.UDP)
            kept = _Kept(reply, expires)
            cache._store(cache.answers, (address, False, flags, question), kept)
        child = dns.name.from_text(f"d{i:07d}.bulk.")
        cache._store(cache.referrals, (address, False, flags, child), kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--names", type=int, default=100_000)
    parser.add_argument("--answer-bytes", type=int, default=435)
    parser.add_argument("--budget-mb", type=float, default=DEFAULT_CACHE_BYTES / 2**20)
    parser.add_argument("--entries", type=int, default=200_000)
    args = parser.parse_args()
    inner: Transport = None  # type: ignore[assignment]  # never asked

    # What an entry costs beyond its response's bytes (a cache that keeps everything).
    probe = CachingTransport(inner, max_entries=10**9, max_bytes=2**62)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    fill(probe, 2_000, args.answer_bytes)
    traced = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # Ten entries a name, nine responses (the referral shares the last answer's).
    per_entry = (traced - 2_000 * len(TYPES) * args.answer_bytes) / (2_000 * (len(TYPES) + 1))
    del probe

    before_mb = peak_mb()
    cache = CachingTransport(inner, max_entries=args.entries, max_bytes=int(args.budget_mb * 2**20))
    fill(cache, args.names, args.answer_bytes)
    after_mb = peak_mb()
    print(
        f"{args.names} names: {len(cache.answers)} answers and {len(cache.referrals)} "
        f"referrals kept, counted {cache.kept_bytes / 2**20:.0f} MB of a "
        f"{args.budget_mb:.0f} MB budget; an entry takes {per_entry:.0f} bytes besides its "
        f"response (counted as {ENTRY_COST}); peak RSS {before_mb:.0f} MB before, "
        f"{after_mb:.0f} MB after ({after_mb - before_mb:.0f} MB for the cache)"
    )


if __name__ == "__main__":
    main()
