"""The diagnosis: verdict, cause, who fixes what in which order, and when it recovers."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from dnssec_doctor.model.finding import Finding, Param
from dnssec_doctor.model.verdict import Verdict


class Actor(enum.StrEnum):
    REGISTRAR = "registrar"  # whoever controls the DS at the parent (registrar account)
    PARENT_OPERATOR = "parent zone operator"  # a TLD or other parent zone's operator
    DNS_OPERATOR = "DNS operator"  # the zone's DNS provider or signer
    RESOLVER_OPERATOR = "resolver operator"  # whoever runs a validating resolver
    NOBODY = "nobody"  # a wait: the world catches up
    YOU = "you"


# The DS TTL assumed when none was observed (no DS answer in this run): a common TLD DS
# TTL, on the long side so that no wait is cut short. One value for check and go-insecure.
ASSUMED_DS_TTL = 86400
# How long a registrar's change usually takes to reach the parent zone's servers (the
# registrar passes it to the registry, which publishes the TLD zone): minutes to a day.
PUBLICATION_DELAY_MAX = 86400


class StepKind(enum.StrEnum):
    """What a step of a recovery path asks: act, wait for the world, or check."""

    DO = "do"
    WAIT = "wait"
    VERIFY = "verify"


class PathRole(enum.StrEnum):
    """Which alternative a recovery path is. Paths are alternatives, never a sequence:
    follow one of them from its first step to its last."""

    FASTEST = "fastest"  # the fix that ends the outage soonest
    FALLBACK = "fallback"  # if the fastest path is not possible
    EMERGENCY = "emergency"  # a rollback, not a fix: only when nothing else can be done now
    MAINTENANCE = "maintenance"  # no outage: what a careful operator does next


class Task(enum.StrEnum):
    """What a step does; the renderers write the sentence from it and the step's values."""

    REPLACE_DS = "replace-ds"
    PUBLISH_DS = "publish-ds"
    REMOVE_DS = "remove-ds"
    REMOVE_STALE_DS = "remove-stale-ds"
    REPUBLISH_RETIRED_KEY = "republish-retired-key"
    SET_ZONE_KEY_FLAG = "set-zone-key-flag"
    RESUME_SIGNING = "resume-signing"
    REPUBLISH_DNSKEY = "republish-dnskey"
    RESIGN = "resign"
    ROLL_ALGORITHM = "roll-algorithm"
    LOWER_NSEC3_ITERATIONS = "lower-nsec3-iterations"
    REPAIR_TRANSFERS = "repair-transfers"
    PUBLISH_SIGNERS_KEY = "publish-signers-key"
    RESTORE_SERVERS = "restore-servers"
    FIX_DELEGATION = "fix-delegation"
    REPAIR_SERVER = "repair-server"
    RETIRE_SERVER = "retire-server"
    REPAIR_REDIRECT = "repair-redirect"
    REPOINT_ALIAS = "repoint-alias"
    FIX_PARENT_DENIAL = "fix-parent-denial"
    UPDATE_TRUST_ANCHOR = "update-trust-anchor"
    EXTEND_DEADLINE = "extend-deadline"
    CHECK_SIGNER = "check-signer"
    FLUSH_CACHES = "flush-caches"
    WAIT_PARENT_PUBLISHES = "wait-parent-publishes"
    WAIT_DS_EXPIRY = "wait-ds-expiry"
    WAIT_CACHE_EXPIRY = "wait-cache-expiry"
    CHECK_AGAIN = "check-again"


@dataclass(frozen=True)
class RecoveryStep:
    """One step of a recovery path, as values: the renderers write the sentence."""

    kind: StepKind
    task: Task
    actor: Actor
    zone: str
    records: tuple[str, ...] = ()  # the exact records to publish (or the records concerned)
    remove: tuple[str, ...] = ()  # the exact records to remove
    # A wait's length in seconds; None: not known in advance (the command tells when).
    wait_seconds: int | None = None
    wait_max_seconds: int | None = None  # a wait's usual upper bound, when open-ended
    commands: tuple[str, ...] = ()  # exact commands (shell-quoted) to run or to poll with
    params: Mapping[str, Param] = field(default_factory=dict)  # what the sentence needs
    optional: bool = False  # speeds recovery up but is not needed for it


@dataclass(frozen=True)
class RecoveryPath:
    """One alternative way out, followed from its first step to its last."""

    role: PathRole
    steps: tuple[RecoveryStep, ...]

    @property
    def eta_seconds(self) -> int:
        """The time to recovery once the steps are done, from the waits known in advance
        (a wait of unknown length counts as nothing: see ``eta_open``)."""
        return sum(s.wait_seconds or 0 for s in self.steps if s.kind is StepKind.WAIT)

    @property
    def eta_max_seconds(self) -> int:
        """The same with every open-ended wait at its usual upper bound."""
        return sum(
            s.wait_max_seconds or s.wait_seconds or 0 for s in self.steps if s.kind is StepKind.WAIT
        )

    @property
    def eta_open(self) -> bool:
        """A wait whose length is not known in advance (the parent's publication)."""
        return any(s.kind is StepKind.WAIT and s.wait_seconds is None for s in self.steps)


@dataclass(frozen=True)
class RecoveryPlan:
    """The way out: alternative paths, the preferred first. Empty when nothing is broken
    and nothing needs doing."""

    paths: tuple[RecoveryPath, ...] = ()
    # The dangerous order is near: signing must not be turned off while the DS remains.
    never_disable_signing: bool = False
    # Not a DNSSEC fault: nothing DNSSEC-related is to be changed.
    not_dnssec: bool = False

    def __bool__(self) -> bool:
        return bool(self.paths)

    @property
    def steps(self) -> tuple[RecoveryStep, ...]:
        return tuple(step for path in self.paths for step in path.steps)


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
    recovery: RecoveryPlan
    views: Views
    exit_code: int
