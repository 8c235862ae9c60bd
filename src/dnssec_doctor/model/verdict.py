"""The verdict on a name: the first thing a report says."""

from __future__ import annotations

import enum


class Verdict(enum.StrEnum):
    """What a validating resolver makes of the name, and whether that is DNSSEC's doing.

    ``partial`` is ours: some authoritative servers serve data that fails validation while
    others serve good data (a stale secondary), which resolvers hide by retrying.
    """

    SECURE = "secure"
    INSECURE = "insecure"
    BOGUS = "bogus"
    PARTIAL = "partial"
    UNREACHABLE = "unreachable"
    INDETERMINATE = "indeterminate"
