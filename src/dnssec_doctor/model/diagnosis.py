"""The diagnosis: verdict, cause, who fixes what in which order, and when it recovers."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from dnssec_doctor.model.finding import Finding
from dnssec_doctor.model.verdict import Verdict


class Actor(enum.StrEnum):
    REGISTRAR = "registrar"  # whoever controls the DS at the parent (registrar account)
    PARENT_OPERATOR = "parent zone operator"  # a TLD or other parent zone's operator
    DNS_OPERATOR = "DNS operator"  # the zone's DNS provider or signer
    RESOLVER_OPERATOR = "resolver operators"
    NOBODY = "nobody (wait)"
    YOU = "you"


@dataclass(frozen=True)
class RecoveryStep:
    action: str
    actor: Actor
    wait_seconds: int  # how long to wait after this step before the next one
    records: tuple[str, ...] = ()  # the exact records to publish or remove
    why: str = ""


@dataclass(frozen=True)
class Views:
    """The four views of the same question side by side — the zone's own servers,
    validating resolvers, the same with checking disabled, the DS at the parent — which
    tell whether DNSSEC is the failing layer."""

    authoritative: str
    validating: str
    checking_disabled: str
    parent_ds: str
    dnssec_failing: bool | None  # None when the views cannot tell
    conclusion: str


@dataclass(frozen=True)
class Diagnosis:
    name: str
    rdtype: str
    verdict: Verdict
    ede: int | None
    zone: str | None
    headline: str  # the broken link in one sentence
    causes: tuple[Finding, ...]  # the primary cause first
    warnings: tuple[Finding, ...]
    recovery: tuple[RecoveryStep, ...]
    recovery_note: str  # when resolvers will recover, from the TTLs observed
    views: Views
    exit_code: int
