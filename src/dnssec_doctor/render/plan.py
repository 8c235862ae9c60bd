"""The recovery plan in words: one sentence per step, a title per path, the plan's
cautions. Text, Markdown, JSON (``action``), the web page and the Nagios long output all
write the plan through these functions, so they say the same thing.

Pure: takes plan values, returns strings.
"""

from __future__ import annotations

from dnssec_doctor.model.diagnosis import (
    Actor,
    PathRole,
    RecoveryPath,
    RecoveryPlan,
    RecoveryStep,
    StepKind,
    Task,
)
from dnssec_doctor.model.time_text import exact_duration

NEVER_DISABLE = (
    "Never turn DNSSEC signing off while a DS for the zone remains at the parent: "
    "validators would then hold proof that the zone must be signed and find no valid "
    "signed data, and the whole zone would fail."
)
NOT_DNSSEC = "Not a DNSSEC fault: change nothing DNSSEC-related."

_ROLE_TITLE = {
    PathRole.FASTEST: "Fastest",
    PathRole.FALLBACK: "If that is not possible",
    PathRole.EMERGENCY: "Emergency only (a rollback, not a fix)",
    PathRole.MAINTENANCE: "No outage; to do next",
}

# What the DNS operator does for each fault of the zone's signer; the rest re-sign.
_SIGNER_FIXES = {
    "RRSIG_EXPIRED": "restore the signing pipeline and re-sign the zone now",
    "RRSIG_NOT_YET_VALID": (
        "fix the signer's clock and re-sign with an inception in the past (a signer that "
        "signs at query time re-signs by itself once its clock is right)"
    ),
    "DNSKEY_NOT_SIGNED_BY_DS_KEY": "sign the DNSKEY RRset with the KSK the DS names",
    "RRSIG_NO_MATCHING_KEY": (
        "publish the key that made the signatures again, or re-sign with a published key"
    ),
}


def path_title(path: RecoveryPath, *, alone: bool = False) -> str:
    """ "Fastest, ETA 7 min after lab. publishes the change (...)"."""
    role = "The fix" if alone and path.role is PathRole.FASTEST else _ROLE_TITLE[path.role]
    if path.role is PathRole.MAINTENANCE and not any(s.kind is StepKind.WAIT for s in path.steps):
        return role
    opened = next(
        (s for s in path.steps if s.kind is StepKind.WAIT and s.wait_seconds is None), None
    )
    if opened is None:
        if not path.eta_seconds:
            return role
        return f"{role}, ETA {exact_duration(path.eta_seconds)} after the last action"
    parent = opened.params.get("parent", "the parent")
    delay = " (minutes to a day after the registrar's change)" if opened.wait_max_seconds else ""
    if not path.eta_seconds:
        return f"{role}, done once {parent} publishes the change{delay}"
    return (
        f"{role}, ETA {exact_duration(path.eta_seconds)} after {parent} publishes the change{delay}"
    )


def step_tag(step: RecoveryStep) -> str:
    """Who acts, in one word or two: "registrar", "wait", "resolver operator, optional"."""
    actor = "wait" if step.actor is Actor.NOBODY else step.actor.value
    return f"{actor}, optional" if step.optional else actor


def step_sentence(step: RecoveryStep) -> str:
    """What to do in this step, as one sentence (records and commands follow it)."""
    sentence = _step_sentence(step)
    # A name's trailing dot serves as the full stop: "... of example.com.." reads once.
    if sentence.endswith("..") and not sentence.endswith("\\.."):
        return sentence[:-1]
    return sentence


def _step_sentence(step: RecoveryStep) -> str:
    zone = step.zone
    p = step.params
    parent = p.get("parent", "the parent")
    record = "delegation" if step.task is Task.FIX_DELEGATION else "DS"
    at_parent = (
        f"at the registrar of {zone} (the {record} lives in the parent zone {parent})"
        if step.actor is Actor.REGISTRAR
        else f"in the parent zone {parent}"
    )
    match step.task:
        case Task.REPLACE_DS if p.get("new_ksk"):
            return f"Then, {at_parent}: replace the DS with the DS of the new KSK, in one change."
        case Task.REPLACE_DS if p.get("same_key_new_flags"):
            return (
                f"Then, {at_parent}: replace the DS with the DS of that key as now "
                "published (the digest covers the flags), in one change."
            )
        case Task.REPLACE_DS:
            return (
                f"Replace the DS {at_parent}, in one change: publish the DS of the live KSK "
                "and remove the DS that matches no key."
            )
        case Task.PUBLISH_DS if p.get("first"):
            return (
                f"To turn validation on: publish the DS of the live KSK {at_parent}, after "
                "checking that every server serves the signed zone."
            )
        case Task.PUBLISH_DS if p.get("sha256"):
            return f"Publish a SHA-256 DS (digest type 2) {at_parent}."
        case Task.PUBLISH_DS:
            return f"Publish the DS of the live KSK {at_parent}."
        case Task.REMOVE_DS if p.get("unsigned"):
            return (
                f"Remove the DS of {zone} {at_parent}: signing is off, so the zone resolves "
                "again, unsigned, once the old DS has expired from caches (the waits below)."
            )
        case Task.REMOVE_DS:
            return (
                f"Remove the DS of {zone} {at_parent}. Keep the zone signed until the old "
                "DS has expired from caches (the waits below)."
            )
        case Task.REMOVE_STALE_DS:
            return (
                f"Remove the stale DS (key {p.get('key_tags')}) {at_parent}, unless it was "
                "published ahead of a KSK rollover in progress (RFC 6781 §4.1.2 "
                "pre-publication): then keep it until the new KSK is live."
            )
        case Task.REPUBLISH_RETIRED_KEY:
            return (
                f"Publish the retired KSK (key {p.get('key_tags')}, the key the DS names) "
                f"again in the DNSKEY RRset of {zone} and sign the DNSKEY RRset with it, so "
                "that the existing DS matches."
            )
        case Task.REPLACE_REVOKED_KSK:
            return (
                f"Publish a new KSK in {zone} without the REVOKE flag (the DS names revoked "
                f"key {p.get('key_tags')}) and sign the DNSKEY RRset with it."
            )
        case Task.SET_ZONE_KEY_FLAG:
            return (
                f"Publish the key the DS names (key {p.get('key_tags')}) with the Zone Key "
                f"flag set (flags 257 for a KSK) in {zone} and sign the DNSKEY RRset with it."
            )
        case Task.RESUME_SIGNING:
            return (
                f"Turn signing of {zone} back on with the key the DS names (key "
                f"{p.get('key_tags')}); keep the DS."
            )
        case Task.REPUBLISH_DNSKEY:
            return (
                f"Publish the DNSKEY RRset of {zone} again, with the KSK the DS names (key "
                f"{p.get('key_tags')}), signed by it."
            )
        case Task.RESIGN:
            fix = _SIGNER_FIXES.get(
                str(p.get("cause")), "re-sign the zone (complete signatures and NSEC/NSEC3 chain)"
            )
            return f"In {zone}: {fix}; publish the result on every server."
        case Task.ROLL_ALGORITHM:
            return (
                f"Roll {zone} to a supported algorithm (13, ECDSA P-256), then replace the "
                "DS (RFC 6781 §4.1.4 order)."
            )
        case Task.LOWER_NSEC3_ITERATIONS:
            return f"Re-sign {zone} with NSEC3 iterations 0 and no salt (RFC 9276)."
        case Task.REPAIR_TRANSFERS:
            return (
                f"Repair zone transfers of {zone} to {p.get('servers')} so that it serves the "
                "current, freshly signed copy."
            )
        case Task.PUBLISH_SIGNERS_KEY:
            return (
                f"At the provider that runs {p.get('server')}: add key {p.get('key_tag')}, "
                f"with which {p.get('signer')} signs, to the DNSKEY RRset of {zone} it "
                "serves, and keep it there while that provider signs with it (RFC 8901)."
            )
        case Task.RESTORE_SERVERS:
            return f"Bring back at least one server of {zone} ({p.get('servers')})."
        case Task.FIX_DELEGATION if p.get("servers"):
            return f"Remove {p.get('servers')} from the NS set and glue of {zone} {at_parent}."
        case Task.FIX_DELEGATION:
            return (
                f"Fix the NS records and glue of {zone} {at_parent} so that they point at "
                "servers that serve the zone."
            )
        case Task.REPAIR_SERVER:
            return f"Make {p.get('servers')} answer for {zone} again."
        case Task.RETIRE_SERVER:
            return f"Remove {p.get('servers')} from the NS records in the zone {zone}."
        case Task.REPAIR_REDIRECT if p.get("loop"):
            return (
                f"In {zone}: break the loop: point one of its names at a name that holds the data."
            )
        case Task.REPAIR_REDIRECT if p.get("overflow"):
            return (
                f"In {zone}: shorten the DNAME's target, so that the names below its owner "
                "stay within 255 octets once redirected."
            )
        case Task.REPAIR_REDIRECT:
            return f"In {zone}: shorten the chain: point the name straight at the final target."
        case Task.REPOINT_ALIAS:
            return (
                f"In {zone}: point the CNAME {p.get('alias')} at a name whose zone validates "
                f"(today it leads into {p.get('target_zone')}, which you may not run)."
            )
        case Task.FIX_PARENT_DENIAL:
            child = p.get("child")
            return (
                f"Fix the signer of {zone} so that its answer for the DS of {child} carries a "
                "validly signed NSEC or NSEC3 proving that there is none (re-sign the zone, "
                f"check the denial chain around that name). Nothing in {child} can fix this."
            )
        case Task.UPDATE_TRUST_ANCHOR:
            return (
                f"Update the trust anchor you configured for {zone} to a key it publishes "
                "now (for the real root, let RFC 5011 or your OS update it)."
            )
        case Task.CHECK_SIGNER:
            return (
                f"Check that the signer of {zone} is running and re-signs before the first "
                f"signature expires ({p.get('delta')}, {p.get('expiration')})."
            )
        case Task.FLUSH_CACHES:
            return (
                f"Flush {zone} from the validating resolvers you run instead of "
                f"waiting (public resolvers' flush pages: {p.get('pages')})."
            )
        case Task.WAIT_PARENT_PUBLISHES:
            return (
                f"Wait until every server of {parent} serves the changed {p.get('type')} "
                f"records of {zone} (the registrar passes the change to the registry, which "
                "publishes the zone: minutes to a day); poll with:"
                if step.wait_max_seconds
                else f"Wait until every server of {parent} serves the changed "
                f"{p.get('type')} records of {zone}; poll with:"
            )
        case Task.WAIT_DS_EXPIRY:
            assumed = " (assumed: no DS TTL was observed)" if p.get("ttl_assumed") else ""
            return (
                f"Wait {exact_duration(step.wait_seconds)}: resolvers keep the old DS until its "
                f"TTL at {parent} ({p.get('ttl')} s{assumed}) runs out, plus up to "
                f"{p.get('failure_cache')} s of cached failure."
            )
        case Task.WAIT_CACHE_EXPIRY if p.get("what") == "negative":
            return (
                f"Wait {exact_duration(step.wait_seconds)}: resolvers keep the failed answer until "
                f"the negative TTL of {zone} ({p.get('ttl')} s) and their failure cache "
                f"(up to {p.get('failure_cache')} s) run out."
            )
        case Task.WAIT_CACHE_EXPIRY if p.get("what") == "dnskey":
            return (
                f"Wait {exact_duration(step.wait_seconds)}: resolvers keep the DNSKEY RRset they "
                f"cached ({p.get('ttl')} s) and their failure cache (up to "
                f"{p.get('failure_cache')} s)."
            )
        case Task.WAIT_CACHE_EXPIRY:
            return (
                f"Wait {exact_duration(step.wait_seconds)}: resolvers that cached the failure "
                "retry once their failure cache expires."
            )
        case Task.EXTEND_DEADLINE:
            return (
                f"This run's deadline ({p.get('deadline')} s) ran out before {zone} answered: "
                "run the check again with a longer --deadline:"
            )
        case Task.CHECK_AGAIN:
            expect = str(p.get("expect", "secure")).upper()
            return f"Verify: the check must say {expect} from every server and every resolver:"
    return step.task.value  # pragma: no cover - every task has its sentence above


def plan_cautions(plan: RecoveryPlan) -> list[str]:
    """The plan's standing warnings, said once for the whole plan."""
    cautions = []
    if plan.not_dnssec:
        cautions.append(NOT_DNSSEC)
    if plan.never_disable_signing:
        cautions.append(NEVER_DISABLE)
    return cautions


def step_details(step: RecoveryStep) -> list[str]:
    """The lines under a step's sentence: records to publish and remove, commands."""
    publishes = step.task in (Task.REPLACE_DS, Task.PUBLISH_DS)
    lines = [f"publish  {record}" if publishes else record for record in step.records]
    lines += [f"remove   {record}" for record in step.remove]
    lines += list(step.commands)
    return lines


def plan_lines(plan: RecoveryPlan, indent: str = "  ") -> list[str]:
    """The whole plan as plain lines (text, Nagios long output)."""
    lines: list[str] = []
    alone = len(plan.paths) == 1
    for path in plan.paths:
        lines.append(f"{indent}{path_title(path, alone=alone)}:")
        for number, step in enumerate(path.steps, start=1):
            lines.append(f"{indent}  {number}. [{step_tag(step)}] {step_sentence(step)}")
            lines += [f"{indent}       {detail}" for detail in step_details(step)]
    lines += [f"{indent}{caution}" for caution in plan_cautions(plan)]
    return lines
