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
    REPLACE_REVOKED_KSK = "replace-revoked-ksk"
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


class Conclusion(enum.StrEnum):
    """What the four views say about the failing layer."""

    NOT_DNSSEC = "not-dnssec"  # the authoritative servers do not answer
    CD_ANSWERS = "cd-answers"  # resolvers answer with checking disabled, SERVFAIL without
    HIDDEN_BY_RETRY = "hidden-by-retry"  # some servers fail; resolvers retried another
    # Some servers fail; some resolvers asked them and fail, the others retried another.
    SOME_RESOLVERS_FAIL = "some-resolvers-fail"
    DATA_FAILS = "data-fails"  # the servers answer, the data does not validate
    UNDECIDED = "undecided"  # the views do not tell
    VALIDATES = "validates"  # validators accept the answer
    INSECURE = "insecure"  # validators accept it as insecure


@dataclass(frozen=True)
class Views:
    """The four views of the same question side by side — the zone's own servers,
    validating resolvers, the same with checking disabled, the DS at the parent — which
    tell whether DNSSEC is the failing layer. Counts and names; the renderers write them."""

    answer_zone: str | None  # the zone that serves the answer (None: none found)
    servers: int  # its authoritative servers asked
    silent_servers: tuple[str, ...]  # those that gave no answer
    resolvers_asked: int
    resolvers_answering: int
    resolvers_failing: int  # SERVFAIL
    resolvers_with_ad: int
    ede_seen: tuple[int, ...]  # the EDE codes the failing resolvers returned
    ede_returned: tuple[int, ...]  # the EDE codes any resolver returned
    cd_answering: int  # failing resolvers that answer with checking disabled
    ds_zone: str | None  # the zone whose DS the parent view shows (the first not secure)
    ds_parent: str | None
    ds_count: int
    dnssec_failing: bool | None  # None when the views cannot tell
    conclusion: Conclusion
    # Resolvers that answered but do not validate: never counted as validating.
    not_validating: tuple[str, ...] = ()


class HeadlineKind(enum.StrEnum):
    """Which sentence the headline is."""

    VALIDATES = "validates"
    NAME_MISSING = "name-missing"  # the name does not exist, and that is proven
    UNSIGNED = "unsigned"  # the zone is not signed: insecure by design
    CHAIN_ENDS = "chain-ends"  # insecure: the chain of trust ends at the zone
    DENIAL_UNPROTECTED = "denial-unprotected"  # only denial of existence is insecure
    NOT_DNSSEC = "not-dnssec"
    PARTIAL = "partial"  # one server serves data that fails
    KEYS_DISAGREE = "keys-disagree"  # multi-signer: the servers' DNSKEY sets differ
    NO_VERDICT = "no-verdict"  # the probe ran out of time before the answer came
    ANSWER_FAILS = "answer-fails"  # the chain holds down to the zone; the answer fails
    CHAIN_BREAKS = "chain-breaks"
    NO_CAUSE = "no-cause"  # a verdict without a finding to name


@dataclass(frozen=True)
class Headline:
    """The broken link in one sentence, as values: the renderers write the sentence."""

    kind: HeadlineKind
    zone: str | None  # where the chain breaks or ends
    cause: Finding | None  # the primary cause
    similar: int = 0  # other causes with the primary cause's code
    # The moment judged, when it is after the probe: the verdict is a forecast.
    forecast_at: float | None = None
    # The name asked leads into ``zone`` through a CNAME or DNAME from ``alias_zone``:
    # its owner can repoint it, only ``zone``'s operator can fix ``zone``.
    alias_zone: str | None = None
    # The name does not exist (NXDOMAIN), and the proof is not protected by DNSSEC.
    missing: bool = False


@dataclass(frozen=True)
class ValidatorRelease:
    """A validating resolver and the release an expectation was measured on."""

    key: str  # "unbound", "bind", "kresd", "pdns-recursor"
    name: str
    version: str


@dataclass(frozen=True)
class ValidatorAnswer:
    """What a validator answers: rcode, AD flag, the Extended DNS Error it attaches."""

    rcode: str
    ad: bool = False
    ede: int | None = None
    # Another answer it gives on some runs: which of the zone's servers it asks first decides.
    sometimes: ValidatorAnswer | None = None


@dataclass(frozen=True)
class ExpectedAnswer:
    """What a validator release is expected to answer."""

    validator: ValidatorRelease
    answer: ValidatorAnswer


@dataclass(frozen=True)
class PublicResolver:
    """A large public resolver, known here only from what its operator documents: it
    cannot be asked from this machine, so nothing about it is measured."""

    key: str  # "cloudflare", "google", "quad9"
    name: str
    address: str


@dataclass(frozen=True)
class Documentation:
    """A page a resolver's operator published, and the day it was read for the table."""

    title: str
    url: str
    read: str  # ISO date


@dataclass(frozen=True)
class DocumentedAnswer:
    """What a public resolver's operator documents for a cause: documented, not measured.

    ``rcode`` only where the page names one; ``ede`` the codes whose documented meaning
    fits the cause (more than one where the page's descriptions fit several, none where
    it documents none); ``says`` what the page says, in a few words. An answer with
    neither rcode nor EDE is "not documented": the pages read say nothing on the cause."""

    resolver: PublicResolver
    sources: tuple[Documentation, ...]
    says: str
    rcode: str | None = None
    ede: tuple[int, ...] = ()

    @property
    def documented(self) -> bool:
        return self.rcode is not None or bool(self.ede)


@dataclass(frozen=True)
class Diagnosis:
    """The diagnosis of one name: verdict, EDE, failing zone, headline, causes, warnings
    and recovery."""

    name: str
    rdtype: str
    verdict: Verdict
    ede: int | None  # the EDE a validator sends for the primary cause
    zone: str | None
    headline: Headline
    causes: tuple[Finding, ...]  # the primary cause first
    warnings: tuple[Finding, ...]
    recovery: RecoveryPlan
    views: Views
    # A warning (after the severity profile) that makes a healthy check exit 1; the shell
    # maps the verdict and this to the exit code (pipeline.exit_code).
    exit_warning: bool
    # The name asked does not exist: not the healthy answer whoever checks a name expects.
    name_missing: bool = False
    # What each validator will answer for the primary cause (measured; see
    # diagnosis.validators): "works at one resolver, fails at another" explained.
    validators: tuple[ExpectedAnswer, ...] = ()
    # What the large public resolvers' operators document for the primary cause
    # (documented, not measured; see diagnosis.public_resolvers).
    public_resolvers: tuple[DocumentedAnswer, ...] = ()
