"""Reading back the record texts that findings, reports and snapshots carry."""

from __future__ import annotations

import functools

import dns.exception
import dns.rdata


# Pure and read for every zone of every check (the trust anchors among them): remembered.
# An Rdata is immutable, so sharing one is safe.
@functools.lru_cache(maxsize=1024)
def parse_record(record: str, *rdtypes: str) -> dns.rdata.Rdata | None:
    """The rdata of a zone-file line such as ``example. 3600 IN DS 1 13 2 ab...`` when its
    type is one of ``rdtypes``; None for anything else or anything malformed."""
    fields = record.split()
    for index, token in enumerate(fields):
        if index > 0 and token.upper() in rdtypes:
            try:
                return dns.rdata.from_text("IN", token.upper(), " ".join(fields[index + 1 :]))
            except (dns.exception.DNSException, ValueError):
                return None
    return None
