"""Findings: what the analysis observed, as values with a stable code.

A finding names its code (see ``dnssec_doctor.analysis.codes``), the zone and the thing
it is about, the parameters its summary template needs, and its evidence: the servers
that showed it and the exact records. Severity comes from the code table, not from the
check that emitted it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

Param = str | int | float | bool | None


class Severity(enum.IntEnum):
    """Ordered: a higher value is worse."""

    INFO = 0
    NOTICE = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    """One finding: a code of the code table, filled with its subject, servers and
    records."""

    code: str
    severity: Severity
    zone: str | None
    subject: str  # what it is about: "DS 12345/13/2", "www.example.com./A", a server
    summary: str  # the code's template filled with params
    params: Mapping[str, Param] = field(default_factory=dict)
    servers: tuple[str, ...] = ()  # server labels ("ns1.example.com. (192.0.2.1)") that showed it
    records: tuple[str, ...] = ()  # the exact records behind it, in zone-file form
    ede: int | None = None  # what a validator attaches for this cause (RFC 8914)
