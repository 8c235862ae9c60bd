"""Walk the chain of trust through a snapshot, zone by zone and server by server.

For each zone on the path: is it reachable, what did the parent publish (DS, or a proof
that there is none), does each server's DNSKEY RRset validate from that DS, do the
servers agree; finally, does the answer itself (or its denial) validate with the keys
each server serves. Every check runs isolated: one that crashes becomes a CHECK_CRASHED
finding and the others still run (zonemaster's habit).
"""

from __future__ import annotations

import enum
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import dns.exception
import dns.message
import dns.name
import dns.rdata
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.DS import DS

from dnssec_doctor.analysis import denial, keys, signatures
from dnssec_doctor.analysis.codes import emits, make_finding
from dnssec_doctor.analysis.context import Evidence, Observation
from dnssec_doctor.analysis.redirects import check_redirects
from dnssec_doctor.analysis.resolvers import ResolverView, assess_resolvers
from dnssec_doctor.analysis.results import (
    DsResult,
    KeyResult,
    SignatureResult,
    answer_rcodes,
    ds_results,
    key_results,
    signature_results,
)
from dnssec_doctor.analysis.servers import check_servers
from dnssec_doctor.model.finding import Finding, Severity
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.records import parse_record
from dnssec_doctor.model.snapshot import CUT_BY_DEADLINE, Purpose

# The codes this module can emit.
EMITS = emits(
    "ZONE_UNREACHABLE",
    "PROBE_DEADLINE_REACHED",
    "IPV6_SKIPPED",
    "DS_PARENT_INCONSISTENT",
    "SERVER_STALE_COPY",
    "CHECK_CRASHED",
    "ZONE_OUTSIDE_TRUST_ANCHOR",
    "INSECURE_DELEGATION_UNPROVEN",
)

T = TypeVar("T")
Keys = tuple[DNSKEY, ...]


class ChainState(enum.StrEnum):
    SECURE = "secure"
    INSECURE = "insecure"
    BOGUS = "bogus"
    PARTIAL = "partial"  # some servers serve data that validates, others do not
    UNREACHABLE = "unreachable"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class ServerView:
    """One authoritative server of a zone, as the evidence tables show it."""

    server: str
    answered: bool
    serial: int | None
    dnskey_tags: tuple[int, ...]
    newest_inception: int | None
    earliest_expiration: int | None
    state: ChainState


@dataclass(frozen=True)
class ZoneAssessment:
    """One zone of the path: its state, its servers, and what the parent and the zone
    served (DS, keys, signatures) as values the renderers draw from."""

    zone: str
    parent: str | None
    via: str
    state: ChainState
    servers: tuple[ServerView, ...]
    ds: tuple[DsResult, ...]  # the DS RRset the parent sent, each matched to ``keys``
    keys: tuple[KeyResult, ...]  # the zone's DNSKEY RRset (the first one served)
    ds_to_publish: tuple[str, ...]
    findings: tuple[Finding, ...]
    ds_ttl: int | None = None  # the DS TTL at the parent (or its negative TTL if none)
    dnskey_ttl: int | None = None
    negative_ttl: int | None = None
    # No configured trust anchor is at or above the zone: insecure whatever it serves.
    outside_anchors: bool = False
    # The RRSIGs the servers sent over the zone's DNSKEY RRset, over its DS RRset (from
    # the parent's servers) and over the answers from the zone, each judged.
    signatures: tuple[SignatureResult, ...] = ()
    # The first rcode the zone's servers gave to each name asked of them.
    answer_rcodes: tuple[tuple[dns.name.Name, str], ...] = ()

    @property
    def ds_records(self) -> tuple[str, ...]:
        """The DS records as the parent sent them (unreadable ones included)."""
        return tuple(d.record for d in self.ds)

    @property
    def dnskey_records(self) -> tuple[str, ...]:
        return tuple(k.record for k in self.keys)

    def signers(self, purpose: Purpose, *covers: str) -> set[int]:
        """The key tags of the RRSIGs sent with one kind of question over the given types."""
        return {s.key_tag for s in self.signatures if s.purpose is purpose and s.covers in covers}


@dataclass(frozen=True)
class Analysis:
    """The analysis of one snapshot: each zone of the chain assessed, the answer's chain
    state, the resolvers' views and every finding."""

    name: str
    rdtype: str
    now: float
    collected_at: float
    zones: tuple[ZoneAssessment, ...]
    state: ChainState  # of the answer to the question
    resolvers: tuple[ResolverView, ...]
    findings: tuple[Finding, ...]
    answer_findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()
    # The key tags the configured trust anchors name (DS and DNSKEY anchors alike).
    anchor_tags: tuple[int, ...] = ()
    # What the zone's servers answered about the final name of the question (after any
    # CNAME): "nxdomain" when every authoritative answer says the name does not exist,
    # None when they give data, disagree or do not answer. Judged apart from validation:
    # a validly proven NXDOMAIN is secure, and still not the healthy answer a user asked.
    outcome: str | None = None


def guarded(
    check: str, subject: str, findings: list[Finding], run: Callable[..., T], *args: Any, **kw: Any
) -> T | None:
    """Run one check; a crash becomes a CHECK_CRASHED finding instead of an exception."""
    try:
        return run(*args, **kw)
    except Exception as error:
        where = traceback.extract_tb(error.__traceback__)[-1]
        location = f"{where.filename.rsplit('/', 1)[-1]}:{where.lineno}"
        findings.append(
            make_finding(
                "CHECK_CRASHED",
                zone=None,
                subject=subject,
                check=check,
                error=f"{type(error).__name__}: {error} ({location})",
            )
        )
        return None


def analyze_evidence(evidence: Evidence, options: AnalysisOptions) -> Analysis:
    """The whole chain for the snapshot's question, judged at ``options.now``."""
    crashes: list[Finding] = []
    assessments: dict[str, ZoneAssessment] = {}
    trusted: dict[str, dict[str, Keys]] = {}  # zone -> server -> keys that validated
    # zone -> server -> the keys a bogus server serves: used only to tell how far the damage
    # goes ("every signature expired"), never to call anything valid.
    scope: dict[str, dict[str, Keys]] = {}
    for zone in evidence.zones:
        cut = evidence.zone_cut(zone)
        assert cut is not None
        parent = assessments.get(cut.parent) if cut.parent else None
        assessment = guarded(
            "zone", zone, crashes, assess_zone, evidence, zone, parent, trusted, options, scope
        )
        if assessment is None:
            assessment = ZoneAssessment(
                zone, cut.parent, cut.via, ChainState.INDETERMINATE, (), (), (), (), ()
            )
        assessments[zone] = assessment
    answer_findings: list[Finding] = []
    state = guarded(
        "answer",
        evidence.snapshot.name,
        answer_findings,
        assess_answer,
        evidence,
        assessments,
        trusted,
        options,
        answer_findings,
        scope,
    )
    redirects = guarded(
        "redirects",
        evidence.snapshot.name,
        crashes,
        check_redirects,
        evidence,
        lambda name: _zone_of(name, assessments),
    )
    if redirects:
        # A loop or an over-long chain fails at every resolver, validating or not.
        answer_findings += redirects
        state = ChainState.UNREACHABLE
    resolvers = tuple(assess_resolvers(evidence))
    everything = [f for a in assessments.values() for f in a.findings]
    everything += crashes + answer_findings + [f for r in resolvers for f in r.findings]
    everything += _note_findings(evidence.snapshot.notes)
    return Analysis(
        name=evidence.snapshot.name,
        rdtype=evidence.snapshot.rdtype,
        now=options.now,
        collected_at=evidence.snapshot.collected_at,
        zones=tuple(assessments.values()),
        state=state or ChainState.INDETERMINATE,
        resolvers=resolvers,
        findings=tuple(merge_findings(everything)),
        answer_findings=tuple(merge_findings(answer_findings)),
        notes=evidence.snapshot.notes,
        anchor_tags=_anchor_tags(evidence),
        outcome=guarded(
            "outcome", evidence.snapshot.name, crashes, answer_outcome, evidence, assessments
        ),
    )


def answer_outcome(evidence: Evidence, assessments: dict[str, ZoneAssessment]) -> str | None:
    """ "nxdomain" when every authoritative answer for the final target says that it does
    not exist: an NXDOMAIN, or a compact denial (RFC 9824: NOERROR with an NSEC at the name
    whose bitmap holds NXNAME). None otherwise."""
    targets = evidence.snapshot.targets or ((evidence.snapshot.name, evidence.snapshot.rdtype),)
    qname_text, qtype_text = targets[-1]
    qname = dns.name.from_text(qname_text)
    zone = _zone_of(qname, assessments)
    if zone is None:
        return None
    qtype = dns.rdatatype.from_text(qtype_text)
    said = {
        denial.denies_existence(observation.message, qname, qtype, dns.name.from_text(zone))
        for observation in evidence.authoritative(zone, Purpose.ANSWER, qname=qname_text)
        if observation.message is not None and observation.authoritative
    }
    return "nxdomain" if said == {True} else None


def merge_findings(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (code, zone, summary), with the servers that showed it joined;
    worst first."""
    merged: dict[tuple[str, str | None, str], Finding] = {}
    for finding in findings:
        key = (finding.code, finding.zone, finding.summary)
        old = merged.get(key)
        if old is None:
            merged[key] = finding
        else:
            merged[key] = replace(
                old,
                servers=tuple(dict.fromkeys(old.servers + finding.servers)),
                records=tuple(dict.fromkeys(old.records + finding.records)),
            )
    return sorted(merged.values(), key=lambda f: -f.severity)


def _note_findings(notes: Sequence[str]) -> list[Finding]:
    prefix = "ipv6 skipped: no route to "
    skipped = [n[len(prefix) :] for n in notes if n.lower().startswith(prefix)]
    if not skipped:
        return []
    return [
        make_finding(
            "IPV6_SKIPPED",
            zone=None,
            subject="IPv6",
            servers=tuple(skipped),
            count=len(skipped),
            servers_text=", ".join(skipped),
        )
    ]


# --- one zone ---------------------------------------------------------------------------


def assess_zone(
    evidence: Evidence,
    zone: str,
    parent: ZoneAssessment | None,
    trusted: dict[str, dict[str, Keys]],
    options: AnalysisOptions,
    scope: dict[str, dict[str, Keys]],
) -> ZoneAssessment:
    cut = evidence.zone_cut(zone)
    assert cut is not None
    origin = dns.name.from_text(zone)
    findings: list[Finding] = []
    findings += guarded("servers", zone, findings, check_servers, evidence, zone) or []
    ds_obs = [o for o in evidence.authoritative(zone, Purpose.DS) if _usable(o)]
    if not ds_obs and cut.parent is not None:
        # No DS answer came (the parent's servers ignore the question): the DS RRset the
        # parent sends with its referral, as validators that take it from there read it.
        ds_obs = _referrals_to(evidence, cut.parent, origin)
    ds_rrset = next((r for o in ds_obs if (r := _parent_ds(o, origin)[0])), None)
    # The DS RRset as the parent sent it: a DS that cannot be read is still a DS (one that
    # matches no key), never a reason to judge the zone insecure.
    ds_sent = next((r for o in ds_obs if (r := _parent_ds(o, origin, sent=True)[0])), None)
    ds_signatures = guarded(
        "ds-signature-results",
        zone,
        findings,
        signature_results,
        list(evidence.authoritative(zone, Purpose.DS)),
        origin,
        Purpose.DS,
        {
            o.server: [k.key for k in parent.keys] if parent is not None else []
            for o in evidence.authoritative(zone, Purpose.DS)
        },
        dns.name.from_text(cut.parent) if cut.parent else origin,
        options,
    )
    usable = [o for o in evidence.authoritative(zone) if _usable(o) and o.authoritative]
    if not usable:
        deadline = _cut_by_deadline(evidence, zone)
        if deadline is not None:  # our own time ran out, not the zone's servers
            findings.append(
                make_finding(
                    "PROBE_DEADLINE_REACHED", zone=zone, subject=zone, deadline=f"{deadline:g}"
                )
            )
        else:
            findings.append(make_finding("ZONE_UNREACHABLE", zone=zone, subject=zone))
        views = _server_views(evidence, zone, {})
        return ZoneAssessment(
            zone,
            cut.parent,
            cut.via,
            ChainState.UNREACHABLE if deadline is None else ChainState.INDETERMINATE,
            views,
            ds_results(origin, ds_sent, (), options),
            (),
            (),
            tuple(findings),
            signatures=ds_signatures or (),
            answer_rcodes=answer_rcodes(evidence, zone),
        )

    anchors = _trust_anchors(evidence)
    own_anchors = anchors.get(origin)
    parent_state = parent.state if parent is not None else None
    if own_anchors is not None:
        # An island of trust: the anchor, not the parent, vouches for the zone.
        parent_state = None
    # Without any anchor nothing is validated: every zone is outside.
    outside = own_anchors is None and not _under_anchor(origin, anchors)
    if outside:
        findings.append(
            make_finding(
                "ZONE_OUTSIDE_TRUST_ANCHOR",
                zone=zone,
                subject=zone,
                anchors=", ".join(a.to_text() for a in anchors) or "none configured",
            )
        )
    insecure_above = parent_state is ChainState.INSECURE or outside
    unproven = False
    if cut.parent is not None and not insecure_above:
        parent_keys = _any_keys(trusted.get(cut.parent, {}))
        parent_side = _check_parent_side(origin, cut.parent, ds_obs, parent_keys, options)
        findings += parent_side
        # Without a valid proof that there is no DS, validators cannot tell that the zone is
        # unsigned: its answers are bogus, whatever the zone itself serves.
        unproven = any(f.code == "INSECURE_DELEGATION_UNPROVEN" for f in parent_side)

    signed = zone_has_signatures(evidence, zone)
    per_server: dict[str, ChainState] = {}
    server_keys: dict[str, Keys] = {}
    scope_keys: dict[str, Keys] = {}
    links: list[keys.ZoneLink] = []
    sources = [
        (
            observation.server,
            observation.rrset(origin, dns.rdatatype.DNSKEY),
            observation.signatures(origin, dns.rdatatype.DNSKEY),
        )
        for observation in evidence.authoritative(zone, Purpose.DNSKEY)
        if _usable(observation) and observation.authoritative
    ]
    if not sources:
        # The servers answer other questions but none gave its DNSKEY RRset (they ignore
        # the question): to a validator the keys are missing, so judge the link without.
        sources = [(server, None, None) for server in dict.fromkeys(o.server for o in usable)]
    for server, dnskey_rrset, dnskey_sigs in sources:
        servers = (server,)
        if outside:
            # Nothing anchors the zone: not validated, so no key or DS findings either.
            per_server[server] = ChainState.INSECURE
            continue
        if own_anchors is not None:
            link = guarded(
                "trust-anchor",
                zone,
                findings,
                keys.check_trust_anchor,
                own_anchors,
                dnskey_rrset,
                dnskey_sigs,
                options,
                servers,
                zone=origin,
            )
        else:
            link = guarded(
                "zone-link",
                zone,
                findings,
                keys.check_zone_link,
                origin,
                None if insecure_above else ds_sent,
                dnskey_rrset,
                dnskey_sigs,
                options,
                zone_has_signatures=signed,
                servers=servers,
            )
        if link is None:
            per_server[server] = ChainState.INDETERMINATE
            continue
        links.append(link)
        findings += link.findings
        per_server[server] = ChainState.INSECURE if insecure_above else ChainState(link.state.value)
        server_keys[server] = link.trusted_keys
        if link.state.value == "bogus" and dnskey_rrset is not None:
            scope_keys[server] = tuple(dnskey_rrset)
    trusted[zone] = server_keys
    scope[zone] = scope_keys
    served = [k for _, rrset, _ in sources if rrset is not None for k in rrset]
    findings[:] = keys.drop_stale_ds_served_elsewhere(findings, ds_sent, origin, served)

    for observation in _signed_answers(evidence, zone):
        keyset = server_keys.get(observation.server)
        if not keyset:
            if observation.server in scope_keys:
                _check_message_signatures(
                    observation, origin, scope_keys[observation.server], options, findings
                )
            continue
        crashed_before = _crashes(findings)
        found = _check_message_signatures(observation, origin, keyset, options, findings)
        if any(f.severity >= Severity.ERROR for f in found):
            per_server[observation.server] = ChainState.BOGUS
        elif _crashes(findings) > crashed_before and per_server.get(observation.server) in (
            ChainState.SECURE,
            None,
        ):
            per_server[observation.server] = ChainState.INDETERMINATE
    for observation in evidence.authoritative(zone, Purpose.DENIAL):
        if observation.message is None or not server_keys.get(observation.server):
            continue
        qname = dns.name.from_text(observation.exchange.qname)
        qtype = dns.rdatatype.from_text(observation.exchange.qtype)
        proof = guarded(
            "denial",
            str(qname),
            findings,
            denial.check_denial,
            observation.message,
            qname,
            qtype,
            origin,
            options,
            servers=(observation.server,),
        )
        if proof is not None:
            findings += proof.findings
    findings += guarded("cds", zone, findings, _check_cds, evidence, zone, origin, ds_rrset) or []
    # Judged among the servers whose own chain validates: the others have findings of their own.
    validating = {s: k for s, k in server_keys.items() if per_server.get(s) is ChainState.SECURE}
    unpublished = (
        guarded(
            "multi-signer",
            zone,
            findings,
            keys.check_signing_keys_published,
            origin,
            _signing_keys(evidence, zone, origin),
            validating,
            {s: tuple(r) for s, r, _ in sources if r is not None and s in validating},
        )
        or []
    )
    findings += unpublished

    if unproven:
        per_server = {server: ChainState.BOGUS for server in per_server}
    state = _combine(per_server.values(), parent_state)
    if unpublished and state is ChainState.SECURE:
        # Every server validates on its own; mixed, one server's keys and another's data fail.
        state = ChainState.PARTIAL
    if outside:
        state = ChainState.INSECURE  # its servers answer; nothing anchors it
    views = _server_views(evidence, zone, per_server)
    if state is ChainState.PARTIAL:
        findings += _stale_copies(zone, views)
    dnskey_rrset = next(
        (
            r
            for o in evidence.authoritative(zone, Purpose.DNSKEY)
            if (r := o.rrset(origin, dns.rdatatype.DNSKEY))
        ),
        None,
    )
    publish = next((p for link in links if (p := keys.ds_to_publish(origin, link))), [])
    zone_keys = key_results(dnskey_rrset)
    served_keys = {server: list(rrset) for server, rrset, _ in sources if rrset is not None}
    zone_signatures = [
        guarded(
            "signature-results",
            zone,
            findings,
            signature_results,
            list(evidence.authoritative(zone, purpose)),
            origin,
            purpose,
            served_keys,
            origin,
            options,
        )
        or ()
        for purpose in (Purpose.DNSKEY, Purpose.ANSWER)
    ]
    return ZoneAssessment(
        zone=zone,
        parent=cut.parent,
        via=cut.via,
        state=state,
        servers=views,
        ds=ds_results(origin, ds_sent, zone_keys, options),
        keys=zone_keys,
        ds_to_publish=tuple(f"{zone} IN DS {ds}" for ds in publish),
        findings=tuple(findings),
        ds_ttl=ds_sent.ttl if ds_sent is not None else _negative_ttl(ds_obs),
        dnskey_ttl=dnskey_rrset.ttl if dnskey_rrset is not None else None,
        negative_ttl=_negative_ttl(list(evidence.authoritative(zone, Purpose.DENIAL))),
        outside_anchors=outside,
        signatures=(*zone_signatures[0], *(ds_signatures or ()), *zone_signatures[1]),
        answer_rcodes=answer_rcodes(evidence, zone),
    )


def _check_parent_side(
    origin: dns.name.Name,
    parent: str,
    ds_obs: list[Observation],
    parent_keys: Keys,
    options: AnalysisOptions,
) -> list[Finding]:
    """The DS RRset must validate with the parent's keys; its absence must be proven."""
    findings: list[Finding] = []
    parent_origin = dns.name.from_text(parent)
    zone = origin.to_text()
    for observation in ds_obs:
        servers = (observation.server,)
        rrset, rrsigs = _parent_ds(observation, origin, sent=True)
        if rrset is not None and parent_keys:
            findings += (
                guarded(
                    "ds-signatures",
                    f"{zone}/DS",
                    findings,
                    signatures.check_rrset_signatures,
                    rrset,
                    rrsigs,
                    parent_origin,
                    parent_keys,
                    options,
                    servers=servers,
                )
                or []
            )
        elif rrset is None and parent_keys and observation.message is not None:
            proof = guarded(
                "ds-denial",
                f"{zone}/DS",
                findings,
                denial.check_ds_denial,
                observation.message,
                parent_origin,
                origin,
                options,
                servers,
            )
            found = list(proof.findings) if proof is not None else []
            if not any(f.code == "INSECURE_DELEGATION_UNPROVEN" for f in found):
                found += _unsigned_ds_proof(
                    observation, parent_origin, origin, parent_keys, options
                )
            findings += found
    sets = {frozenset(_parent_ds(o, origin, sent=True)[0] or ()) for o in ds_obs}
    if len(sets) > 1:
        findings.append(
            make_finding(
                "DS_PARENT_INCONSISTENT",
                zone=zone,
                subject=f"{zone}/DS",
                servers=tuple(o.server for o in ds_obs),
            )
        )
    return findings


def _cut_by_deadline(evidence: Evidence, zone: str) -> float | None:
    """The probe's deadline when it, not the servers, left ``zone`` without an answer:
    a question to the zone's servers was cut short or never sent for lack of time."""
    snapshot = evidence.snapshot
    cut = any(o.exchange.error in CUT_BY_DEADLINE for o in evidence.authoritative(zone))
    skipped = snapshot.extra.get("skipped", ())
    unsent = isinstance(skipped, list) and any(
        isinstance(s, dict) and s.get("reason") == "deadline reached" and s.get("zone") == zone
        for s in skipped
    )
    if not (cut or unsent):
        return None
    limits = snapshot.extra.get("limits", {})
    deadline = limits.get("deadline") if isinstance(limits, dict) else None
    return float(deadline) if isinstance(deadline, int | float) else float("nan")


def _referrals_to(evidence: Evidence, parent: str, child: dns.name.Name) -> list[Observation]:
    """The parent's referrals to ``child`` (an NS RRset for it in the authority section)."""
    return [
        o
        for o in evidence.authoritative(parent, Purpose.REFERRAL)
        if o.message is not None
        and o.message.rcode() == 0
        and o.rrset(child, dns.rdatatype.NS, section="authority") is not None
    ]


def _parent_ds(
    observation: Observation, origin: dns.name.Name, *, sent: bool = False
) -> tuple[dns.rrset.RRset | None, dns.rrset.RRset | None]:
    """The DS RRset of ``origin`` (``sent``: as sent, malformed records included) and its
    signatures: in the answer to a DS question, in the authority section of a referral."""
    section = "answer" if observation.exchange.purpose is Purpose.DS else "authority"
    read = observation.sent_rrset if sent else observation.rrset
    return (
        read(origin, dns.rdatatype.DS, section=section),
        observation.signatures(origin, dns.rdatatype.DS, section=section),
    )


def _unsigned_ds_proof(
    observation: Observation,
    parent: dns.name.Name,
    child: dns.name.Name,
    parent_keys: Keys,
    options: AnalysisOptions,
) -> list[Finding]:
    """A proof of "no DS" counts only if its NSEC/NSEC3 records are validly signed by the
    parent's keys (RFC 4035 §5.2): the first signature failure among them, as the reason
    the delegation is unproven."""
    message = observation.message
    assert message is not None
    for rrset in message.authority:
        if rrset.rdtype not in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3):
            continue
        if not rrset.name.is_subdomain(parent):
            continue
        sent = observation.sent_rrset(rrset.name, rrset.rdtype, section="authority") or rrset
        failures = [
            f
            for f in signatures.check_rrset_signatures(
                sent,
                observation.signatures(rrset.name, rrset.rdtype, section="authority"),
                parent,
                parent_keys,
                options,
                servers=(observation.server,),
                malformed_rrsigs=observation.malformed_signatures(
                    rrset.name, rrset.rdtype, section="authority"
                ),
            )
            if f.severity >= Severity.ERROR
        ]
        if failures:
            return [
                make_finding(
                    "INSECURE_DELEGATION_UNPROVEN",
                    zone=parent.to_text(),
                    subject=f"{child}/DS",
                    child=str(child),
                    servers=(observation.server,),
                    records=failures[0].records,
                    reason=f"{failures[0].code}: {failures[0].summary}",
                )
            ]
    return []


def _signed_answers(evidence: Evidence, zone: str) -> Iterable[Observation]:
    """The apex RRsets (SOA, NS, CDS, CDNSKEY) each server gave; the DNSKEY RRset is
    judged by the zone link itself."""
    for observation in evidence.authoritative(
        zone, Purpose.SOA, Purpose.NS, Purpose.CDS, Purpose.CDNSKEY
    ):
        if observation.message is not None and observation.authoritative:
            yield observation


def _signing_keys(
    evidence: Evidence, zone: str, origin: dns.name.Name
) -> dict[str, set[tuple[int, int]]]:
    """Per server, the (key tag, algorithm) of the zone's signatures over its data."""
    found: dict[str, set[tuple[int, int]]] = {}
    for observation in evidence.authoritative(zone):
        message = observation.message
        if message is None or not observation.authoritative:
            continue
        for section in (message.answer, message.authority):
            for rrset in section:
                if rrset.rdtype != dns.rdatatype.RRSIG:
                    continue
                for rrsig in rrset:
                    if rrsig.signer == origin and rrsig.type_covered != dns.rdatatype.DNSKEY:
                        found.setdefault(observation.server, set()).add(
                            (rrsig.key_tag, int(rrsig.algorithm))
                        )
    return found


def _check_message_signatures(
    observation: Observation,
    origin: dns.name.Name,
    keyset: Keys,
    options: AnalysisOptions,
    findings: list[Finding],
    *,
    sections: Sequence[str] = ("answer",),
    types: frozenset[dns.rdatatype.RdataType] | None = None,
) -> list[Finding]:
    """Judge the signatures of every in-zone RRset of the given sections."""
    message = observation.message
    assert message is not None
    found: list[Finding] = []
    for section in sections:
        for rrset in getattr(message, section):
            if rrset.rdtype == dns.rdatatype.RRSIG or not rrset.name.is_subdomain(origin):
                continue
            if rrset.rdtype == dns.rdatatype.DNSKEY or (types and rrset.rdtype not in types):
                continue
            if _synthesized_from_dname(message, section, rrset):
                continue  # RFC 6672 §5.3.1: unsigned; the DNAME's signature vouches for it
            result = guarded(
                "signatures",
                f"{rrset.name}/{dns.rdatatype.to_text(rrset.rdtype)}",
                findings,
                signatures.check_rrset_signatures,
                observation.sent_rrset(rrset.name, rrset.rdtype, section=section) or rrset,
                observation.signatures(rrset.name, rrset.rdtype, section=section),
                origin,
                keyset,
                options,
                servers=(observation.server,),
                malformed_rrsigs=observation.malformed_signatures(
                    rrset.name, rrset.rdtype, section=section
                ),
            )
            found += result or []
    findings += found
    return found


def _synthesized_from_dname(
    message: dns.message.Message, section: str, rrset: dns.rrset.RRset
) -> bool:
    """An unsigned CNAME that a DNAME in the same section synthesizes (RFC 6672 §2.2):
    servers send it without RRSIG and validators check the DNAME instead (RFC 4035 §3.2.3)."""
    if rrset.rdtype != dns.rdatatype.CNAME or len(rrset) != 1:
        return False
    owner = rrset.name
    for dname in getattr(message, section):
        if dname.rdtype != dns.rdatatype.DNAME or len(dname) != 1:
            continue
        if owner == dname.name or not owner.is_subdomain(dname.name):
            continue
        try:
            synthesized = owner.relativize(dname.name).derelativize(dname[0].target)
        except dns.name.NameTooLong:
            continue
        if synthesized == rrset[0].target:
            return True
    return False


def _stale_copies(zone: str, views: Sequence[ServerView]) -> list[Finding]:
    newest = max((v.serial or 0) for v in views)
    return [
        make_finding(
            "SERVER_STALE_COPY",
            zone=zone,
            subject=view.server,
            servers=(view.server,),
            server=view.server,
            serial=view.serial,
            newest=newest,
        )
        for view in views
        if view.state is ChainState.BOGUS
    ]


def _combine(states: Iterable[ChainState], parent_state: ChainState | None) -> ChainState:
    """A zone's (or an answer's) state from its servers' states, below its parent's."""
    if parent_state is not None and parent_state in (
        ChainState.BOGUS,
        ChainState.UNREACHABLE,
        ChainState.INDETERMINATE,
    ):
        return parent_state
    if parent_state is ChainState.INSECURE:
        return ChainState.INSECURE
    seen = set(states)
    if not seen:
        return ChainState.UNREACHABLE
    if ChainState.BOGUS in seen:
        return ChainState.PARTIAL if ChainState.SECURE in seen else ChainState.BOGUS
    for state in (ChainState.INDETERMINATE, ChainState.INSECURE, ChainState.PARTIAL):
        if state in seen:
            return state
    return ChainState.SECURE


# --- the answer ---------------------------------------------------------------------------


def assess_answer(
    evidence: Evidence,
    assessments: dict[str, ZoneAssessment],
    trusted: dict[str, dict[str, Keys]],
    options: AnalysisOptions,
    findings: list[Finding],
    scope: dict[str, dict[str, Keys]],
) -> ChainState:
    """The state of the final answer: for each name in the CNAME chain, the state of the
    zone holding it, then the answer's own signatures or denial on each server."""
    targets = evidence.snapshot.targets or ((evidence.snapshot.name, evidence.snapshot.rdtype),)
    states: list[ChainState] = []
    for qname_text, qtype_text in targets:
        qname = dns.name.from_text(qname_text)
        qtype = dns.rdatatype.from_text(qtype_text)
        zone = _zone_of(qname, assessments)
        if zone is None:
            states.append(ChainState.INDETERMINATE)
            continue
        assessment = assessments[zone]
        per_server: dict[str, ChainState] = {}
        origin = dns.name.from_text(zone)
        if assessment.state is ChainState.BOGUS:
            # The chain is already broken; judge the answer with the keys served, only to
            # show the extent of the damage.
            for observation in evidence.authoritative(zone, Purpose.ANSWER, qname=qname_text):
                keyset = scope.get(zone, {}).get(observation.server)
                if observation.message is not None and observation.authoritative and keyset:
                    _answer_on_server(observation, qname, qtype, origin, keyset, options, findings)
        if assessment.state in (ChainState.SECURE, ChainState.PARTIAL):
            for observation in evidence.authoritative(zone, Purpose.ANSWER, qname=qname_text):
                keyset = trusted.get(zone, {}).get(observation.server)
                if observation.message is None or not observation.authoritative or not keyset:
                    continue
                per_server[observation.server] = _answer_on_server(
                    observation, qname, qtype, dns.name.from_text(zone), keyset, options, findings
                )
        state = assessment.state
        if per_server:
            answer = _combine(per_server.values(), None)
            if answer is ChainState.INSECURE:
                state = ChainState.INSECURE
            elif answer is ChainState.BOGUS:
                state = ChainState.BOGUS if state is ChainState.SECURE else ChainState.PARTIAL
            elif answer is ChainState.PARTIAL:
                state = ChainState.PARTIAL
            elif answer is ChainState.INDETERMINATE and state is ChainState.SECURE:
                state = ChainState.INDETERMINATE  # a check crashed: nothing proven
        states.append(state)
    for worst in (
        ChainState.UNREACHABLE,
        ChainState.BOGUS,
        ChainState.PARTIAL,
        ChainState.INDETERMINATE,
        ChainState.INSECURE,
    ):
        if worst in states:
            return worst
    return ChainState.SECURE


def _answer_on_server(
    observation: Observation,
    qname: dns.name.Name,
    qtype: dns.rdatatype.RdataType,
    zone: dns.name.Name,
    keyset: Keys,
    options: AnalysisOptions,
    findings: list[Finding],
) -> ChainState:
    message = observation.message
    assert message is not None
    crashed_before = _crashes(findings)
    found = _check_message_signatures(observation, zone, keyset, options, findings)
    kind = denial.classify_response(message, qname, qtype, zone)
    if kind is not denial.ResponseKind.ANSWER:
        denial_types = frozenset({dns.rdatatype.NSEC, dns.rdatatype.NSEC3, dns.rdatatype.SOA})
        found += _check_message_signatures(
            observation,
            zone,
            keyset,
            options,
            findings,
            sections=("authority",),
            types=denial_types,
        )
        proof = guarded(
            "denial",
            str(qname),
            findings,
            denial.check_denial,
            message,
            qname,
            qtype,
            zone,
            options,
            servers=(observation.server,),
        )
        if proof is not None:
            findings += proof.findings
            found += proof.findings
            if proof.status is denial.ProofStatus.INSECURE_ITERATIONS:
                return ChainState.INSECURE
            if proof.status is denial.ProofStatus.OPT_OUT:
                return ChainState.INSECURE
    if any(f.severity >= Severity.ERROR for f in found):
        return ChainState.BOGUS
    if _crashes(findings) > crashed_before:
        # A check that crashed proved nothing: never a secure answer on its silence.
        return ChainState.INDETERMINATE
    return ChainState.SECURE


def _crashes(findings: Sequence[Finding]) -> int:
    return sum(1 for f in findings if f.code == "CHECK_CRASHED")


# --- helpers ----------------------------------------------------------------------------


def zone_has_signatures(evidence: Evidence, zone: str) -> bool:
    """Does any server of the zone serve a DNSKEY or an RRSIG for zone data?"""
    origin = dns.name.from_text(zone)
    for observation in evidence.authoritative(zone):
        message = observation.message
        if message is None or not observation.authoritative:
            continue
        for rrset in (*message.answer, *message.authority):
            if rrset.rdtype in (
                dns.rdatatype.RRSIG,
                dns.rdatatype.DNSKEY,
            ) and rrset.name.is_subdomain(origin):
                return True
    return False


def _usable(observation: Observation) -> bool:
    message = observation.message
    return message is not None and message.rcode() in (0, 3)  # NOERROR, NXDOMAIN


def _any_keys(server_keys: dict[str, Keys]) -> Keys:
    """The parent's keys, from any server whose DNSKEY RRset validated."""
    return next((k for k in server_keys.values() if k), ())


def _trust_anchors(evidence: Evidence) -> dict[dns.name.Name, list[DS | DNSKEY]]:
    """The configured anchors by the zone they anchor (any zone, not only the root)."""
    anchors: dict[dns.name.Name, list[DS | DNSKEY]] = {}
    for line in evidence.snapshot.trust_anchors:
        rdata = parse_record(line, "DS", "DNSKEY")
        if isinstance(rdata, DS | DNSKEY):
            anchors.setdefault(_anchor_owner(line), []).append(rdata)
    return anchors


def _anchor_tags(evidence: Evidence) -> tuple[int, ...]:
    return tuple(
        sorted(
            {
                anchor.key_tag if isinstance(anchor, DS) else signatures.key_tag(anchor)
                for anchors in _trust_anchors(evidence).values()
                for anchor in anchors
            }
        )
    )


def _anchor_owner(line: str) -> dns.name.Name:
    """The zone a trust anchor record (zone-file form) anchors: its owner name."""
    try:
        return dns.name.from_text(line.split(None, 1)[0])
    except (dns.exception.DNSException, IndexError):
        return dns.name.root


def _under_anchor(origin: dns.name.Name, anchors: dict[dns.name.Name, list[DS | DNSKEY]]) -> bool:
    return any(origin.is_subdomain(anchored) for anchored in anchors)


def _zone_of(qname: dns.name.Name, assessments: dict[str, ZoneAssessment]) -> str | None:
    """The deepest zone on the path that holds ``qname``."""
    holders = [z for z in assessments if qname.is_subdomain(dns.name.from_text(z))]
    return max(holders, key=lambda z: len(dns.name.from_text(z)), default=None)


def _negative_ttl(observations: list[Observation]) -> int | None:
    for observation in observations:
        message = observation.message
        if message is None:
            continue
        for rrset in message.authority:
            if rrset.rdtype == dns.rdatatype.SOA:
                return min(int(rrset.ttl), int(rrset[0].minimum))
    return None


def _check_cds(
    evidence: Evidence, zone: str, origin: dns.name.Name, ds_rrset: dns.rrset.RRset | None
) -> list[Finding]:
    def first(purpose: Purpose, rdtype: dns.rdatatype.RdataType) -> dns.rrset.RRset | None:
        return next(
            (r for o in evidence.authoritative(zone, purpose) if (r := o.rrset(origin, rdtype))),
            None,
        )

    cds = first(Purpose.CDS, dns.rdatatype.CDS)
    cdnskey = first(Purpose.CDNSKEY, dns.rdatatype.CDNSKEY)
    if cds is None and cdnskey is None:
        return []
    return keys.check_cds(origin, ds_rrset, cds, cdnskey)


def _server_views(
    evidence: Evidence, zone: str, per_server: dict[str, ChainState]
) -> tuple[ServerView, ...]:
    origin = dns.name.from_text(zone)
    by_server: dict[str, list[Observation]] = {}
    for observation in evidence.authoritative(zone):
        by_server.setdefault(observation.server, []).append(observation)
    views = []
    for label, observations in by_server.items():
        serial = next(
            (soa[0].serial for o in observations if (soa := o.rrset(origin, dns.rdatatype.SOA))),
            None,
        )
        dnskeys = next(
            (k for o in observations if (k := o.rrset(origin, dns.rdatatype.DNSKEY))), None
        )
        sigs = [
            sig
            for o in observations
            if o.message is not None
            for rrset in o.message.answer
            if rrset.rdtype == dns.rdatatype.RRSIG
            for sig in rrset
            if sig.signer == origin  # not a CNAME target's, followed by the same server
        ]
        answered = any(o.message is not None for o in observations)
        fallback = ChainState.INDETERMINATE if answered else ChainState.UNREACHABLE
        views.append(
            ServerView(
                server=label,
                answered=answered,
                serial=serial,
                dnskey_tags=tuple(sorted(map(signatures.key_tag, dnskeys))) if dnskeys else (),
                newest_inception=max((s.inception for s in sigs), default=None),
                earliest_expiration=min((s.expiration for s in sigs), default=None),
                state=per_server.get(label, fallback),
            )
        )
    return tuple(views)
