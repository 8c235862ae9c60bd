"""The recovery plan: alternative paths out of the outage, each a sequence of steps (do,
wait, verify) with one actor per step and the exact records as values.

The paths are alternatives, never a sequence: the fastest first, then what to do if that
is not possible, then the emergency rollback. Within a path each transition has exactly
one wait: the parent publishing a registrar's change (minutes to a day, polled with the
printed command), then resolvers letting go of what they cached — the DS TTL observed at
the parent (or the one assumed, said so) for a DS change, the failure cache (RFC 9520
caps it at five minutes) for re-signed data. The dangerous order — turning signing off
while a DS remains — is never advised, and the plan says so whenever the observed state
is heading there. The plan is values; the renderers write the sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import dns.exception
import dns.name

from dnssec_doctor.analysis.chain import Analysis, ZoneAssessment
from dnssec_doctor.model.diagnosis import (
    ASSUMED_DS_TTL,
    PUBLICATION_DELAY_MAX,
    Actor,
    PathRole,
    RecoveryPath,
    RecoveryPlan,
    RecoveryStep,
    StepKind,
    Task,
)
from dnssec_doctor.model.finding import Finding, Param
from dnssec_doctor.model.shell import shell_command
from dnssec_doctor.model.verdict import Verdict

FAILURE_CACHE = 300  # RFC 9520 §3.2: resolvers cache a validation failure up to 5 minutes


@dataclass(frozen=True)
class Situation:
    """What a planner plans from: the diagnosis so far, at the zone where the chain breaks."""

    analysis: Analysis
    verdict: Verdict
    zone: ZoneAssessment
    causes: Sequence[Finding]  # the primary cause first

    @property
    def code(self) -> str:
        return self.causes[0].code


@dataclass(frozen=True)
class Planned:
    """A planner's answer: the paths (without their final check) and the plan's flags."""

    paths: tuple[RecoveryPath, ...]
    never_disable_signing: bool = False
    not_dnssec: bool = False
    check_again: bool = True  # False: the plan is itself a new check (nothing to verify)


Planner = Callable[[Situation], Planned]

# The recovery planner of each code that can be a primary cause (a test checks that
# every ranked code has one).
PLANNERS: dict[str, Planner] = {}


def plans(*codes: str) -> Callable[[Planner], Planner]:
    """Register the decorated function as the recovery planner of ``codes``."""

    def register(planner: Planner) -> Planner:
        for code in codes:
            if code in PLANNERS:
                raise ValueError(f"{code} has two recovery planners")
            PLANNERS[code] = planner
        return planner

    return register


def plan_recovery(
    analysis: Analysis,
    verdict: Verdict,
    zone: ZoneAssessment | None,
    causes: Sequence[Finding],
) -> RecoveryPlan:
    if zone is None or not causes:
        return RecoveryPlan(_maintenance_paths(analysis))
    planner = PLANNERS.get(causes[0].code)
    if planner is None:
        return RecoveryPlan()
    planned = planner(Situation(analysis, verdict, zone, causes))
    found = list(planned.paths)
    alias = alias_zone(analysis, zone)
    if alias is not None and found and verdict is not Verdict.INSECURE:
        # The name asked leads into someone else's zone: its owner can repoint it.
        repoint = RecoveryPath(
            PathRole.FALLBACK,
            (
                RecoveryStep(
                    StepKind.DO,
                    Task.REPOINT_ALIAS,
                    Actor.DNS_OPERATOR,
                    alias,
                    params={"alias": analysis.name, "target_zone": zone.zone},
                ),
                *_after_zone_change(alias),
            ),
        )
        found.insert(1 + sum(p.role is PathRole.FALLBACK for p in found), repoint)
    paths = tuple(
        RecoveryPath(
            path.role,
            (*path.steps, _check_again(analysis, zone, path))
            if planned.check_again
            else path.steps,
        )
        for path in found
    )
    return RecoveryPlan(paths, planned.never_disable_signing, planned.not_dnssec)


def alias_zone(analysis: Analysis, zone: ZoneAssessment | None) -> str | None:
    """The zone of the name asked, when the answer reaches ``zone`` through a CNAME or
    DNAME (``zone`` is neither the name's zone nor one of its ancestors)."""
    if zone is None:
        return None
    try:
        name = dns.name.from_text(analysis.name)
        if name.is_subdomain(dns.name.from_text(zone.zone)):
            return None
        own = [z.zone for z in analysis.zones if name.is_subdomain(dns.name.from_text(z.zone))]
    except dns.exception.DNSException:
        return None
    return max(own, key=lambda z: len(dns.name.from_text(z)), default=None)


# --- the building blocks ------------------------------------------------------------------


def _ds_actor(zone: ZoneAssessment) -> Actor:
    """Who changes what the parent publishes (the DS, or the delegation): the registrar
    for a registered domain; for a TLD, the root's operator."""
    if zone.parent is None or zone.parent == ".":
        return Actor.PARENT_OPERATOR
    return Actor.REGISTRAR


def _ds_ttl(zone: ZoneAssessment) -> tuple[int, bool]:
    """The DS TTL observed at the parent, or the one assumed (and whether it was)."""
    if zone.ds_ttl is None:
        return ASSUMED_DS_TTL, True
    return zone.ds_ttl, False


def _parent_address(analysis: Analysis, zone: ZoneAssessment) -> str | None:
    parent = next((z for z in analysis.zones if z.zone == zone.parent), None)
    for server in parent.servers if parent is not None else ():
        found = re.search(r"\(([^()\s]+)\)$", server.server)
        if server.answered and found:
            return found.group(1)
    return None


def _wait_parent(analysis: Analysis, zone: ZoneAssessment, rdtype: str = "DS") -> RecoveryStep:
    """Until the parent's servers publish a change made at the registrar."""
    address = _parent_address(analysis, zone)
    words = ["dig", "+norec", *([f"@{address}"] if address else []), zone.zone, rdtype]
    return RecoveryStep(
        StepKind.WAIT,
        Task.WAIT_PARENT_PUBLISHES,
        Actor.NOBODY,
        zone.zone,
        wait_seconds=None,
        wait_max_seconds=PUBLICATION_DELAY_MAX if _ds_actor(zone) is Actor.REGISTRAR else None,
        commands=(shell_command(*words),),
        params={"parent": zone.parent or ".", "type": rdtype},
    )


def _flush(zone: str, *, dnssec: bool = True) -> RecoveryStep:
    """What resolver operators can do instead of waiting for their caches."""
    commands = [
        *([shell_command("unbound-control", "flush_bogus")] if dnssec else []),
        shell_command("unbound-control", "flush_zone", zone),
        shell_command("rndc", "flushtree", zone),
        shell_command("kresctl", "cache", "clear", zone),
        # PowerDNS Recursor: the "$" wipes the zone and every name below it.
        shell_command("rec_control", "wipe-cache", f"{zone}$"),
    ]
    return RecoveryStep(
        StepKind.DO,
        Task.FLUSH_CACHES,
        Actor.RESOLVER_OPERATOR,
        zone,
        commands=tuple(commands),
        params={"pages": "https://dns.google/cache https://one.one.one.one/purge-cache/"},
        optional=True,
    )


def _wait_ds(zone: ZoneAssessment) -> RecoveryStep:
    ttl, assumed = _ds_ttl(zone)
    return RecoveryStep(
        StepKind.WAIT,
        Task.WAIT_DS_EXPIRY,
        Actor.NOBODY,
        zone.zone,
        wait_seconds=ttl + FAILURE_CACHE,
        params={
            "parent": zone.parent or ".",
            "ttl": ttl,
            "ttl_assumed": assumed,
            "failure_cache": FAILURE_CACHE,
        },
    )


def _wait_cache(zone: str, ttl: int = 0, what: str = "failure") -> RecoveryStep:
    return RecoveryStep(
        StepKind.WAIT,
        Task.WAIT_CACHE_EXPIRY,
        Actor.NOBODY,
        zone,
        wait_seconds=ttl + FAILURE_CACHE,
        params={"ttl": ttl, "what": what, "failure_cache": FAILURE_CACHE},
    )


def _after_parent_change(analysis: Analysis, zone: ZoneAssessment) -> tuple[RecoveryStep, ...]:
    """The transitions after a DS change: the parent publishes it, caches let go."""
    return (_wait_parent(analysis, zone), _flush(zone.zone), _wait_ds(zone))


def _after_zone_change(zone: str, *, dnssec: bool = True) -> tuple[RecoveryStep, ...]:
    """The transition after the zone's servers serve fixed data: cached failures expire."""
    return (_flush(zone, dnssec=dnssec), _wait_cache(zone))


def _remove_ds_path(
    analysis: Analysis, zone: ZoneAssessment, role: PathRole, *, unsigned: bool = False
) -> RecoveryPath:
    """The rollback: the zone becomes unsigned to validators once the DS is gone."""
    return RecoveryPath(
        role,
        (
            RecoveryStep(
                StepKind.DO,
                Task.REMOVE_DS,
                _ds_actor(zone),
                zone.zone,
                remove=zone.ds_records,
                params={"parent": zone.parent or ".", "unsigned": unsigned},
            ),
            *_after_parent_change(analysis, zone),
        ),
    )


def _check_again(analysis: Analysis, zone: ZoneAssessment, path: RecoveryPath) -> RecoveryStep:
    """The last step of every path: the check again, and the verdict it must give."""
    tasks = {step.task for step in path.steps}
    if tasks & {Task.REMOVE_DS, Task.FIX_PARENT_DENIAL}:
        expect = "insecure"  # the DS is gone, or the parent proves there is none
    elif zone.ds_records or Task.PUBLISH_DS in tasks:
        expect = "secure"
    else:
        expect = "insecure"
    return RecoveryStep(
        StepKind.VERIFY,
        Task.CHECK_AGAIN,
        Actor.YOU,
        zone.zone,
        commands=(shell_command("dnssec-doctor", "check", analysis.name, analysis.rdtype),),
        params={"expect": expect},
    )


def _key_tags(records: Sequence[str]) -> str:
    """The key tags a set of DS records names ("12345, 23456")."""
    tags = []
    for record in records:
        fields = record.split(" DS ", 1)[-1].split()
        if fields and fields[0].isdigit():
            tags.append(fields[0])
    return ", ".join(dict.fromkeys(tags))


def _ds_key_tags(zone: ZoneAssessment) -> str:
    """The key tags the zone's DS records name ("12345, 23456"); unreadable ones name none."""
    return ", ".join(dict.fromkeys(str(d.ds.key_tag) for d in zone.ds if d.ds is not None))


def _matches_any(record: str, publish: Sequence[str]) -> bool:
    fields = record.split()[-4:]
    return any(p.split()[-4:] == fields for p in publish)


# --- the planners -------------------------------------------------------------------------


@plans("DS_DIGEST_MISMATCH", "DS_NO_MATCHING_KEY", "DS_ALGORITHM_MISMATCH", "DS_MALFORMED")
def _replace_ds(situation: Situation) -> Planned:
    zone = situation.zone
    analysis = situation.analysis
    publish = zone.ds_to_publish
    wrong = tuple(r for r in zone.ds_records if not _matches_any(r, publish))
    paths = []
    if publish:
        paths.append(
            RecoveryPath(
                PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.REPLACE_DS if wrong else Task.PUBLISH_DS,
                        _ds_actor(zone),
                        zone.zone,
                        records=publish,
                        remove=wrong,
                        params={"parent": zone.parent or "."},
                    ),
                    *_after_parent_change(analysis, zone),
                ),
            )
        )
    if situation.code == "DS_NO_MATCHING_KEY":
        # The key the DS names may still exist: publishing it again needs no registrar.
        paths.append(
            RecoveryPath(
                PathRole.FALLBACK if paths else PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.REPUBLISH_RETIRED_KEY,
                        Actor.DNS_OPERATOR,
                        zone.zone,
                        records=zone.ds_records,
                        params={"key_tags": _ds_key_tags(zone)},
                    ),
                    *_after_zone_change(zone.zone),
                ),
            )
        )
    if not publish and zone.ds_records:
        # No live KSK to publish a DS for: removing the DS is the rollback left.
        role = PathRole.EMERGENCY if paths else PathRole.FASTEST
        paths.append(_remove_ds_path(analysis, zone, role))
    return Planned(tuple(paths), never_disable_signing=True)


def _change_key_then_replace_ds(
    situation: Situation, task: Task, ds_params: Mapping[str, Param]
) -> RecoveryPath:
    """The key the DS names cannot be trusted as it is: the DNS operator changes the key
    (``task``), then the DS is replaced to name the changed key."""
    zone = situation.zone
    return RecoveryPath(
        PathRole.FASTEST,
        (
            RecoveryStep(
                StepKind.DO,
                task,
                Actor.DNS_OPERATOR,
                zone.zone,
                records=situation.causes[0].records,
                params={"key_tags": _ds_key_tags(zone)},
            ),
            RecoveryStep(
                StepKind.DO,
                Task.REPLACE_DS,
                _ds_actor(zone),
                zone.zone,
                records=(),
                remove=zone.ds_records,
                params={"parent": zone.parent or ".", **ds_params},
            ),
            *_after_parent_change(situation.analysis, zone),
        ),
    )


@plans("DS_KEY_NOT_ZONE_KEY")
def _set_zone_key_flag(situation: Situation) -> Planned:
    return Planned(
        (
            _change_key_then_replace_ds(
                situation, Task.SET_ZONE_KEY_FLAG, {"same_key_new_flags": True}
            ),
        ),
        never_disable_signing=True,
    )


@plans("DS_KEY_REVOKED")
def _replace_revoked_ksk(situation: Situation) -> Planned:
    """A revoked key cannot be trusted again: a new KSK and its DS, or the rollback."""
    return Planned(
        (
            _change_key_then_replace_ds(situation, Task.REPLACE_REVOKED_KSK, {"new_ksk": True}),
            _remove_ds_path(situation.analysis, situation.zone, PathRole.EMERGENCY),
        ),
        never_disable_signing=True,
    )


@plans("DS_FOR_UNSIGNED_ZONE")
def _resume_signing(situation: Situation) -> Planned:
    """Signing was switched off with the DS left: signing again with the key the DS
    names is the fast fix (no registrar, no DS TTL); removing the DS is the way when
    that key is lost."""
    zone = situation.zone
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.RESUME_SIGNING,
                        Actor.DNS_OPERATOR,
                        zone.zone,
                        records=zone.ds_records,
                        params={"key_tags": _ds_key_tags(zone)},
                    ),
                    *_after_zone_change(zone.zone),
                ),
            ),
            _remove_ds_path(situation.analysis, zone, PathRole.FALLBACK, unsigned=True),
        ),
        never_disable_signing=True,
    )


@plans("DNSKEY_MISSING")
def _publish_dnskey(situation: Situation) -> Planned:
    zone = situation.zone
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.REPUBLISH_DNSKEY,
                        Actor.DNS_OPERATOR,
                        zone.zone,
                        records=zone.ds_records,
                        params={"key_tags": _ds_key_tags(zone)},
                    ),
                    *_after_zone_change(zone.zone),
                ),
            ),
            _remove_ds_path(situation.analysis, zone, PathRole.EMERGENCY),
        ),
        never_disable_signing=True,
    )


@plans("ZONE_UNREACHABLE")
def _restore_servers(situation: Situation) -> Planned:
    zone = situation.zone
    servers = ", ".join(s.server for s in zone.servers) or zone.zone
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.RESTORE_SERVERS,
                        Actor.DNS_OPERATOR,
                        zone.zone,
                        params={"servers": servers},
                    ),
                    *_after_zone_change(zone.zone, dnssec=False),
                ),
            ),
            RecoveryPath(
                PathRole.FALLBACK,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.FIX_DELEGATION,
                        _ds_actor(zone),
                        zone.zone,
                        params={"parent": zone.parent or "."},
                    ),
                    _wait_parent(situation.analysis, zone, "NS"),
                    *_after_zone_change(zone.zone, dnssec=False),
                ),
            ),
        ),
        not_dnssec=True,
    )


@plans("PROBE_DEADLINE_REACHED")
def _extend_deadline(situation: Situation) -> Planned:
    analysis, zone = situation.analysis, situation.zone.zone
    deadline = situation.causes[0].params.get("deadline")
    command = shell_command(
        "dnssec-doctor", "check", analysis.name, analysis.rdtype, "--deadline", "60"
    )
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.EXTEND_DEADLINE,
                        Actor.YOU,
                        zone,
                        commands=(command,),
                        params={"deadline": deadline},
                    ),
                ),
            ),
        ),
        check_again=False,
    )


@plans("TRUST_ANCHOR_MISMATCH")
def _update_trust_anchor(situation: Situation) -> Planned:
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO, Task.UPDATE_TRUST_ANCHOR, Actor.YOU, situation.zone.zone
                    ),
                ),
            ),
        )
    )


@plans("REDIRECT_LOOP", "REDIRECT_CHAIN_TOO_LONG", "REDIRECT_NAME_TOO_LONG")
def _repair_redirects(situation: Situation) -> Planned:
    zone = situation.zone.zone
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.REPAIR_REDIRECT,
                        Actor.DNS_OPERATOR,
                        zone,
                        records=situation.causes[0].records,
                        params={
                            "loop": situation.code == "REDIRECT_LOOP",
                            "overflow": situation.code == "REDIRECT_NAME_TOO_LONG",
                        },
                    ),
                    *_after_zone_change(zone, dnssec=False),
                ),
            ),
        ),
        not_dnssec=True,
    )


@plans("INSECURE_DELEGATION_UNPROVEN")
def _repair_parent_denial(situation: Situation) -> Planned:
    zone = situation.zone  # the parent: its denial chain is what breaks
    cause = situation.causes[0]
    child = cause.subject.removesuffix("/DS")
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.FIX_PARENT_DENIAL,
                        Actor.PARENT_OPERATOR,
                        zone.zone,
                        records=cause.records,
                        params={"child": child},
                    ),
                    _flush(child),
                    _wait_cache(zone.zone, zone.negative_ttl or 0, "negative"),
                ),
            ),
        )
    )


@plans("SERVER_STALE_COPY")
def _repair_transfers(situation: Situation) -> Planned:
    stale = ", ".join(
        s for f in situation.causes if f.code == "SERVER_STALE_COPY" for s in f.servers
    )
    zone = situation.zone.zone
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.REPAIR_TRANSFERS,
                        Actor.DNS_OPERATOR,
                        zone,
                        params={"servers": stale},
                    ),
                    *_after_zone_change(zone),
                ),
            ),
        ),
        never_disable_signing=True,
    )


@plans("MULTI_SIGNER_KEY_MISSING")
def _publish_other_signers_key(situation: Situation) -> Planned:
    zone = situation.zone.zone
    steps = tuple(
        RecoveryStep(
            StepKind.DO,
            Task.PUBLISH_SIGNERS_KEY,
            Actor.DNS_OPERATOR,
            zone,
            records=finding.records,
            params={
                "server": finding.params["server"],
                "signer": finding.params["signer"],
                "key_tag": finding.params["key_tag"],
            },
        )
        for finding in situation.causes
        if finding.code == "MULTI_SIGNER_KEY_MISSING"
    )
    ttl = situation.zone.dnskey_ttl or 0
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (*steps, _flush(zone), _wait_cache(zone, ttl, "dnskey")),
            ),
        ),
        never_disable_signing=True,
    )


@plans(
    "RRSIG_EXPIRED",
    "RRSIG_NOT_YET_VALID",
    "RRSIG_WINDOW_INVERTED",
    "DNSKEY_NOT_SIGNED_BY_DS_KEY",
    "RRSIG_NO_MATCHING_KEY",
    "RRSIG_KEY_REVOKED",
    "RRSIG_BAD_SIGNATURE",
    "RRSIG_ALGORITHM_UNSUPPORTED",
    "RRSIG_SIGNER_MISMATCH",
    "RRSIG_LABELS_INVALID",
    "RRSIG_DNAME_FROM_WILDCARD",
    "RRSIG_MISSING",
    "RRSIG_MALFORMED",
    "DENIAL_PROOF_MISSING",
    "NXDOMAIN_PROOF_INVALID",
    "NODATA_PROOF_INVALID",
    "WILDCARD_PROOF_MISSING",
)
def _resign(situation: Situation) -> Planned:
    zone = situation.zone
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.RESIGN,
                        Actor.DNS_OPERATOR,
                        zone.zone,
                        params={"cause": situation.code},
                    ),
                    *_after_zone_change(zone.zone),
                ),
            ),
            *(
                (_remove_ds_path(situation.analysis, zone, PathRole.EMERGENCY),)
                if zone.ds_records
                else ()
            ),
        ),
        never_disable_signing=True,
    )


@plans("DNSKEY_ALGORITHM_UNSUPPORTED")
def _roll_algorithm(situation: Situation) -> Planned:
    zone = situation.zone.zone
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (RecoveryStep(StepKind.DO, Task.ROLL_ALGORITHM, Actor.DNS_OPERATOR, zone),),
            ),
        ),
        never_disable_signing=True,
    )


@plans("DS_DIGEST_UNSUPPORTED")
def _publish_sha256_ds(situation: Situation) -> Planned:
    zone = situation.zone
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.PUBLISH_DS,
                        _ds_actor(zone),
                        zone.zone,
                        records=zone.ds_to_publish,
                        params={"parent": zone.parent or ".", "sha256": True},
                    ),
                    *_after_parent_change(situation.analysis, zone),
                ),
            ),
        )
    )


@plans("NSEC3_ITERATIONS_EXCESSIVE")
def _lower_iterations(situation: Situation) -> Planned:
    zone = situation.zone.zone
    return Planned(
        (
            RecoveryPath(
                PathRole.FASTEST,
                (
                    RecoveryStep(
                        StepKind.DO, Task.LOWER_NSEC3_ITERATIONS, Actor.DNS_OPERATOR, zone
                    ),
                    *_after_zone_change(zone),
                ),
            ),
        )
    )


@plans("DS_MISSING_FOR_SIGNED_ZONE")
def _publish_first_ds(situation: Situation) -> Planned:
    zone = situation.zone
    return Planned(
        (
            RecoveryPath(
                PathRole.MAINTENANCE,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.PUBLISH_DS,
                        _ds_actor(zone),
                        zone.zone,
                        records=zone.ds_to_publish,
                        params={"parent": zone.parent or ".", "first": True},
                    ),
                    _wait_parent(situation.analysis, zone),
                ),
            ),
        )
    )


@plans("ZONE_UNSIGNED", "ZONE_OUTSIDE_TRUST_ANCHOR")
def _nothing_to_recover(situation: Situation) -> Planned:
    """An insecure answer by design is not broken: signing the zone, or anchoring it, is
    a project, not a recovery."""
    return Planned(())


# --- no outage: what a careful operator does next -----------------------------------------

_DEAD = {"SERVER_UNRESPONSIVE", "SERVER_REFUSED", "SERVER_NOT_AUTHORITATIVE"}


def _maintenance_paths(analysis: Analysis) -> tuple[RecoveryPath, ...]:
    paths: list[RecoveryPath] = []
    by_zone = {z.zone: z for z in analysis.zones}

    def check(zone: ZoneAssessment) -> RecoveryStep:
        return _check_again(analysis, zone, RecoveryPath(PathRole.MAINTENANCE, ()))

    for finding in analysis.findings:
        zone = by_zone.get(finding.zone or "")
        if finding.code == "DS_STALE" and zone is not None:
            paths.append(
                RecoveryPath(
                    PathRole.MAINTENANCE,
                    (
                        RecoveryStep(
                            StepKind.DO,
                            Task.REMOVE_STALE_DS,
                            _ds_actor(zone),
                            zone.zone,
                            remove=finding.records,
                            params={
                                "parent": zone.parent or ".",
                                "key_tags": _key_tags(finding.records),
                            },
                        ),
                        _wait_parent(analysis, zone),
                        check(zone),
                    ),
                )
            )
    dead: dict[str, list[str]] = {}
    for finding in analysis.findings:
        if finding.code in _DEAD and finding.zone in by_zone:
            dead.setdefault(finding.zone or "", []).extend(finding.servers or (finding.subject,))
    for zone_name, servers in dead.items():
        zone = by_zone[zone_name]
        listed = ", ".join(dict.fromkeys(servers))
        paths.append(
            RecoveryPath(
                PathRole.MAINTENANCE,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.REPAIR_SERVER,
                        Actor.DNS_OPERATOR,
                        zone_name,
                        params={"servers": listed},
                    ),
                    check(zone),
                ),
            )
        )
        paths.append(
            RecoveryPath(
                PathRole.FALLBACK,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.RETIRE_SERVER,
                        Actor.DNS_OPERATOR,
                        zone_name,
                        params={"servers": listed},
                    ),
                    RecoveryStep(
                        StepKind.DO,
                        Task.FIX_DELEGATION,
                        _ds_actor(zone),
                        zone_name,
                        params={"parent": zone.parent or ".", "servers": listed},
                    ),
                    _wait_parent(analysis, zone, "NS"),
                    check(zone),
                ),
            )
        )
    expiring: dict[str, Finding] = {}
    for finding in analysis.findings:
        if finding.code == "RRSIG_EXPIRES_SOON" and finding.zone is not None:
            first = expiring.get(finding.zone)
            if first is None or str(finding.params["expiration"]) < str(first.params["expiration"]):
                expiring[finding.zone] = finding
    for zone_name, finding in expiring.items():
        paths.append(
            RecoveryPath(
                PathRole.MAINTENANCE,
                (
                    RecoveryStep(
                        StepKind.DO,
                        Task.CHECK_SIGNER,
                        Actor.DNS_OPERATOR,
                        zone_name,
                        params={
                            "delta": finding.params["delta"],
                            "expiration": finding.params["expiration"],
                        },
                    ),
                ),
            )
        )
    unique: list[RecoveryPath] = []
    for path in paths:
        if path not in unique:
            unique.append(path)
    return tuple(unique)
