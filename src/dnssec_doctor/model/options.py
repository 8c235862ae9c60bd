"""The options of one analysis: time and thresholds, frozen, passed in, never read inside."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dnssec_doctor.model.finding import Severity

DAY = 86400


@dataclass(frozen=True)
class AnalysisOptions:
    """The options of one analysis: the moment judged at, thresholds and profiles."""

    now: float  # the moment signature windows are judged at (--at; default: collection time)
    expire_warning: float = 3 * DAY  # RRSIG_EXPIRES_SOON below this
    nsec3_iteration_limit: int = 150  # validators treat more iterations as insecure
    min_rsa_bits: int = 2048
    # The validator profile: retired DNSKEY algorithms (RSAMD5 1, DSA 3 and 6, GOST 12)
    # that a given validator build still validates. Keys of such an algorithm are then
    # judged like any other, and each zone that uses one gets ALGORITHM_ACCEPTED_BY_PROFILE.
    accepted_algorithms: frozenset[int] = frozenset()
    # The severity profile (--profile): overrides of the code table's severities by code.
    severities: Mapping[str, Severity] = field(default_factory=dict)
