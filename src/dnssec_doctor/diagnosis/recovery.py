"""The recovery plan: who does what, in which order, how long to wait between steps.

The order is the safe one: what the parent publishes and what the zone signs change so
that validators never hold a DS with no valid signature behind it. Waits come from the
TTLs the probe observed: a DS change reaches resolvers only when the DS they cached
expires; re-signed data replaces a cached failure once the resolver's failure cache lets
go (RFC 9520 caps it at five minutes). The dangerous order — turning signing off while a
DS remains — is never advised, and is named whenever the observed state is heading there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dnssec_doctor.analysis.chain import Analysis, ZoneAssessment
from dnssec_doctor.model.diagnosis import Actor, RecoveryStep
from dnssec_doctor.model.finding import Finding
from dnssec_doctor.model.shell import shell_command
from dnssec_doctor.model.verdict import Verdict

FAILURE_CACHE = 300  # RFC 9520 §3.2: resolvers cache a validation failure up to 5 minutes
NEVER_DISABLE = (
    "Do not turn DNSSEC signing off while a DS for the zone remains at the parent: "
    "validators would then hold proof that the zone must be signed and find no valid "
    "signed data, and the whole zone would fail."
)


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


Planner = Callable[[Situation], list[RecoveryStep]]

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


def _ds_actor(zone: ZoneAssessment, what: str = "DS") -> tuple[Actor, str]:
    """Who changes what the parent publishes (the DS, or the delegation): the registrar
    for a registered domain; for a TLD, the root's operator."""
    if zone.parent is None:
        return Actor.PARENT_OPERATOR, "the trust anchor's publisher"
    if zone.parent == ".":
        return Actor.PARENT_OPERATOR, "the root zone's operator"
    parent = zone.parent
    return Actor.REGISTRAR, f"the registrar (the {what} lives in the parent zone {parent})"


def _ds_wait(zone: ZoneAssessment) -> int:
    return (zone.ds_ttl or 3600) + FAILURE_CACHE


def plan_recovery(
    analysis: Analysis,
    verdict: Verdict,
    zone: ZoneAssessment | None,
    causes: Sequence[Finding],
) -> tuple[RecoveryStep, ...]:
    if zone is None or not causes:
        return _healthy_steps(analysis)
    planner = PLANNERS.get(causes[0].code)
    steps = planner(Situation(analysis, verdict, zone, causes)) if planner else []
    if verdict in (Verdict.BOGUS, Verdict.PARTIAL):
        steps.append(
            RecoveryStep(
                f"Re-run {shell_command('dnssec-doctor', 'check', analysis.name, analysis.rdtype)} "
                "and confirm the verdict is secure from every server and every resolver.",
                Actor.YOU,
                0,
            )
        )
    return tuple(steps)


@plans("DS_DIGEST_MISMATCH", "DS_NO_MATCHING_KEY", "DS_ALGORITHM_MISMATCH", "DS_MALFORMED")
def _replace_ds(situation: Situation) -> list[RecoveryStep]:
    zone = situation.zone
    actor, who = _ds_actor(zone)
    publish = zone.ds_to_publish
    steps: list[RecoveryStep] = []
    wrong = tuple(r for r in zone.ds_records if not _matches_any(r, publish))
    if publish:
        steps.append(
            RecoveryStep(
                f"At {who}: publish the DS of the zone's live KSK for {zone.zone}.",
                actor,
                0,
                publish,
                "This DS matches the key that signs the zone's DNSKEY RRset now.",
            )
        )
    if wrong:
        steps.append(
            RecoveryStep(
                f"At {who}: remove the DS that matches no key of {zone.zone} (in the same "
                "change as the new DS).",
                actor,
                _ds_wait(zone),
                wrong,
                "Keep only DS records that match active keys.",
            )
        )
    if situation.code == "DS_NO_MATCHING_KEY":
        steps.append(
            RecoveryStep(
                "Alternatively (DNS operator): publish the retired key again in the "
                "DNSKEY RRset and sign with it, so that the existing DS matches.",
                Actor.DNS_OPERATOR,
                0,
            )
        )
    steps.append(_wait_ds(zone))
    return steps


@plans("DS_KEY_NOT_ZONE_KEY")
def _set_zone_key_flag(situation: Situation) -> list[RecoveryStep]:
    zone = situation.zone
    actor, who = _ds_actor(zone)
    return [
        RecoveryStep(
            f"DNS operator of {zone.zone}: publish the key the DS names with the Zone Key "
            "flag set (flags 257 for a KSK) and sign the DNSKEY RRset with it.",
            Actor.DNS_OPERATOR,
            0,
            situation.causes[0].records,
            NEVER_DISABLE,
        ),
        RecoveryStep(
            f"Then at {who}: replace the DS with the DS of that key as now published (the "
            "digest covers the flags).",
            actor,
            _ds_wait(zone),
            zone.ds_records,
        ),
        _wait_ds(zone),
    ]


@plans("DS_FOR_UNSIGNED_ZONE")
def _remove_ds_of_unsigned_zone(situation: Situation) -> list[RecoveryStep]:
    zone = situation.zone
    actor, who = _ds_actor(zone)
    return [
        RecoveryStep(
            f"Emergency: at {who}, remove the DS of {zone.zone}. A rollback, not a fix: the "
            "zone will be unsigned, but it resolves again once resolvers' cached DS expires.",
            actor,
            _ds_wait(zone),
            zone.ds_records,
            NEVER_DISABLE,
        ),
        RecoveryStep(
            "Or instead (DNS operator): turn signing back on with the key the DS names, and "
            "keep the DS.",
            Actor.DNS_OPERATOR,
            FAILURE_CACHE,
        ),
    ]


@plans("DNSKEY_MISSING")
def _publish_dnskey(situation: Situation) -> list[RecoveryStep]:
    zone = situation.zone
    actor, who = _ds_actor(zone)
    return [
        RecoveryStep(
            f"DNS operator: publish the DNSKEY RRset of {zone.zone} again, with the KSK that "
            "the DS names, signed by it.",
            Actor.DNS_OPERATOR,
            FAILURE_CACHE,
            (),
            NEVER_DISABLE,
        ),
        RecoveryStep(
            f"Emergency, if the keys are lost: at {who}, remove the DS of {zone.zone} (a "
            "rollback: the zone becomes unsigned).",
            actor,
            _ds_wait(zone),
            zone.ds_records,
        ),
    ]


@plans("ZONE_UNREACHABLE")
def _restore_servers(situation: Situation) -> list[RecoveryStep]:
    zone = situation.zone
    _, who = _ds_actor(zone, "delegation")
    return [
        RecoveryStep(
            f"Not a DNSSEC fault: bring back at least one server of {zone.zone}, or fix the NS "
            f"records and glue at {who} so they point at servers that serve the zone.",
            Actor.DNS_OPERATOR,
            0,
            (),
            "Do not change anything DNSSEC-related: it is not the failing layer.",
        )
    ]


@plans("TRUST_ANCHOR_MISMATCH")
def _update_trust_anchor(situation: Situation) -> list[RecoveryStep]:
    return [
        RecoveryStep(
            f"Update the trust anchor you configured for {situation.zone.zone} to a key it "
            "publishes now (for the real root, let RFC 5011 or your OS update it).",
            Actor.YOU,
            0,
        )
    ]


@plans("REDIRECT_LOOP", "REDIRECT_CHAIN_TOO_LONG")
def _repair_redirects(situation: Situation) -> list[RecoveryStep]:
    what = (
        "break the loop: point one of its names at a name that holds the data"
        if situation.code == "REDIRECT_LOOP"
        else "shorten the chain: point the name straight at the final target"
    )
    return [
        RecoveryStep(
            f"Not a DNSSEC fault. DNS operator of {situation.zone.zone}: {what}.",
            Actor.DNS_OPERATOR,
            FAILURE_CACHE,
            situation.causes[0].records,
            "Do not change anything DNSSEC-related: it is not the failing layer.",
        )
    ]


@plans("INSECURE_DELEGATION_UNPROVEN")
def _repair_parent_denial(situation: Situation) -> list[RecoveryStep]:
    zone = situation.zone  # the parent: its denial chain is what breaks
    cause = situation.causes[0]
    child = cause.subject.removesuffix("/DS")
    return [
        RecoveryStep(
            f"Operator of the parent zone {zone.zone}: fix its signer so that its answer "
            f"for the DS of {child} carries a validly signed NSEC or NSEC3 proving that "
            "there is none (re-sign the zone, check the denial chain around that name).",
            Actor.PARENT_OPERATOR,
            FAILURE_CACHE + (zone.negative_ttl or 0),
            cause.records,
            f"Nothing in {child} can fix this: validators cannot tell that it is unsigned "
            "until its parent proves it. Publishing a DS and signing the child would also "
            "end the outage.",
        )
    ]


@plans("SERVER_STALE_COPY")
def _repair_transfers(situation: Situation) -> list[RecoveryStep]:
    stale = ", ".join(
        s for f in situation.causes if f.code == "SERVER_STALE_COPY" for s in f.servers
    )
    return [
        RecoveryStep(
            f"DNS operator: repair zone transfers to {stale} (or take it out of the NS set) so "
            "it serves the current, freshly signed copy.",
            Actor.DNS_OPERATOR,
            FAILURE_CACHE,
        )
    ]


# What the DNS operator does for each fault of the zone's signer; the rest re-sign.
_SIGNER_FIXES = {
    "RRSIG_EXPIRED": "restore the signing pipeline and re-sign the zone now",
    "RRSIG_NOT_YET_VALID": "fix the signer's clock and re-sign with an inception in the past",
    "DNSKEY_NOT_SIGNED_BY_DS_KEY": "sign the DNSKEY RRset with the KSK the DS names",
    "RRSIG_NO_MATCHING_KEY": (
        "publish the key that made the signatures again, or re-sign with a published key"
    ),
}


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
    "RRSIG_MISSING",
    "RRSIG_MALFORMED",
    "DENIAL_PROOF_MISSING",
    "NXDOMAIN_PROOF_INVALID",
    "NODATA_PROOF_INVALID",
    "WILDCARD_PROOF_MISSING",
)
def _resign(situation: Situation) -> list[RecoveryStep]:
    zone = situation.zone
    actor, who = _ds_actor(zone)
    what = _SIGNER_FIXES.get(
        situation.code, "re-sign the zone (complete signatures and NSEC/NSEC3 chain)"
    )
    return [
        RecoveryStep(
            f"DNS operator of {zone.zone}: {what}; publish the result on every server.",
            Actor.DNS_OPERATOR,
            FAILURE_CACHE,
            (),
            NEVER_DISABLE,
        ),
        RecoveryStep(
            f"Emergency only, if signing cannot be fixed now: at {who}, remove the DS of "
            f"{zone.zone}; wait for it to expire from caches before turning signing off.",
            actor,
            _ds_wait(zone),
            zone.ds_records,
            "A rollback, not a fix: it ends the outage once the parent has propagated.",
        ),
    ]


@plans("DNSKEY_ALGORITHM_UNSUPPORTED")
def _roll_algorithm(situation: Situation) -> list[RecoveryStep]:
    return [
        RecoveryStep(
            f"DNS operator: roll {situation.zone.zone} to a supported algorithm (13, ECDSA "
            "P-256), then replace the DS (RFC 6781 §4.1.4 order).",
            Actor.DNS_OPERATOR,
            0,
        )
    ]


@plans("DS_DIGEST_UNSUPPORTED")
def _publish_sha256_ds(situation: Situation) -> list[RecoveryStep]:
    zone = situation.zone
    actor, who = _ds_actor(zone)
    return [
        RecoveryStep(
            f"At {who}: publish a SHA-256 DS (digest type 2).",
            actor,
            _ds_wait(zone),
            zone.ds_to_publish,
        )
    ]


@plans("NSEC3_ITERATIONS_EXCESSIVE")
def _lower_iterations(situation: Situation) -> list[RecoveryStep]:
    return [
        RecoveryStep(
            f"DNS operator: re-sign {situation.zone.zone} with NSEC3 iterations 0 and no salt "
            "(RFC 9276).",
            Actor.DNS_OPERATOR,
            0,
        )
    ]


@plans("DS_MISSING_FOR_SIGNED_ZONE")
def _publish_first_ds(situation: Situation) -> list[RecoveryStep]:
    zone = situation.zone
    actor, who = _ds_actor(zone)
    return [
        RecoveryStep(
            f"To turn validation on: at {who}, publish the DS of the live KSK, after checking "
            "that every server serves the signed zone.",
            actor,
            0,
            zone.ds_to_publish,
        )
    ]


@plans("ZONE_UNSIGNED", "ZONE_OUTSIDE_TRUST_ANCHOR")
def _nothing_to_recover(situation: Situation) -> list[RecoveryStep]:
    """An insecure answer by design is not broken: signing the zone, or anchoring it, is
    a project, not a recovery."""
    return []


def _healthy_steps(analysis: Analysis) -> tuple[RecoveryStep, ...]:
    steps = []
    for finding in analysis.findings:
        if finding.code == "DS_STALE":
            zone = next((z for z in analysis.zones if z.zone == finding.zone), None)
            if zone is not None:
                actor, who = _ds_actor(zone)
                steps.append(
                    RecoveryStep(
                        f"At {who}: remove the stale DS of {zone.zone}.", actor, 0, finding.records
                    )
                )
    expiring: dict[str, Finding] = {}
    for finding in analysis.findings:
        if finding.code == "RRSIG_EXPIRES_SOON" and finding.zone is not None:
            first = expiring.get(finding.zone)
            if first is None or str(finding.params["expiration"]) < str(first.params["expiration"]):
                expiring[finding.zone] = finding
    for zone_name, finding in expiring.items():
        steps.append(
            RecoveryStep(
                f"DNS operator of {zone_name}: check that the signer is running and re-signs "
                f"before the first signature expires ({finding.params['delta']}, "
                f"{finding.params['expiration']}).",
                Actor.DNS_OPERATOR,
                0,
            )
        )
    return tuple(dict.fromkeys(steps))


def _wait_ds(zone: ZoneAssessment) -> RecoveryStep:
    ttl = zone.ds_ttl or 3600
    return RecoveryStep(
        f"Wait: resolvers that cached the old DS (TTL {ttl} s at {zone.parent}) keep failing "
        f"until it expires, then recover within {FAILURE_CACHE // 60} minutes.",
        Actor.NOBODY,
        0,
    )


def _matches_any(record: str, publish: Sequence[str]) -> bool:
    fields = record.split()[-4:]
    return any(p.split()[-4:] == fields for p in publish)


def recovery_note(
    analysis: Analysis, verdict: Verdict, zone: ZoneAssessment | None, causes: Sequence[Finding]
) -> str:
    if verdict in (Verdict.SECURE, Verdict.INSECURE) or zone is None:
        return ""
    if verdict is Verdict.UNREACHABLE:
        return (
            "Resolvers recover as soon as a server answers again (failures are cached up to "
            "5 minutes)."
        )
    code = causes[0].code if causes else ""
    if code.startswith("DS_"):
        return (
            f"After the DS change, resolvers recover within {_ds_wait(zone)} s: the DS TTL "
            f"observed at {zone.parent} ({zone.ds_ttl or 'unknown'} s) plus up to "
            f"{FAILURE_CACHE} s of cached failure."
        )
    return (
        f"After the fix is published on every server, resolvers recover within {FAILURE_CACHE} s "
        "(their cached failure expires); nothing on your side speeds that up."
    )
