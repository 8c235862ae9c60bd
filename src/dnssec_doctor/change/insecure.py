"""Going insecure in the safe order: remove the DS, wait, only then stop signing.

When DNSSEC must go away for good, the DS goes first, then the parent's DS TTL is
waited out, and only then is signing disabled. The dangerous order (signing off while a
DS is still published or cached) makes the whole zone bogus. ``GoInsecure`` watches the parent:
it polls every parent server until none shows a DS, then counts down the largest DS TTL
(and negative TTL) it observed, and only then says that signing may be switched off.
While any DS is visible it refuses, loudly.

The poll, the clock and the sleep are injected: the CLI polls with real probes, tests
with short TTLs and a fake clock. ``read_parent_view`` is pure (a snapshot's evidence).
"""

from __future__ import annotations

import enum
import shlex
from collections.abc import Callable
from dataclasses import dataclass

import dns.name
import dns.rcode
import dns.rdatatype

from dnssec_doctor.analysis.chain import analyze_evidence
from dnssec_doctor.analysis.context import Evidence
from dnssec_doctor.change.state import every_server
from dnssec_doctor.errors import ExitCode
from dnssec_doctor.model.diagnosis import ASSUMED_DS_TTL
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.snapshot import Purpose, Snapshot
from dnssec_doctor.model.time_text import human_duration

# When no DS was seen in this run: the same assumption as check's recovery plan.
DEFAULT_ASSUMED_DS_TTL = ASSUMED_DS_TTL


@dataclass(frozen=True)
class ParentView:
    """One poll of the parent: which servers still publish a DS for the zone."""

    zone: str
    at: float
    with_ds: tuple[str, ...]
    without_ds: tuple[str, ...]
    unknown: tuple[str, ...]  # no usable answer: cannot confirm
    unproven: tuple[str, ...]  # no DS, but no valid signed proof of it either
    ds_ttl: int | None
    negative_ttl: int | None
    signed: bool  # the zone still serves DNSKEY records
    # Some server of the zone itself gives an authoritative answer: when none does (lame,
    # REFUSED, timeouts), "no DNSKEY" says nothing about signing and the fault is not DNSSEC.
    zone_answers: bool = True


class Phase(enum.StrEnum):
    REFUSE = "refuse"  # a DS is still visible: do not stop signing
    UNCONFIRMED = "unconfirmed"  # some parent server could not be asked
    UNREACHABLE = "unreachable"  # the zone's own servers give no answer: not DNSSEC
    UNSIGNED = "unsigned"  # no DS anywhere and no DNSKEY served: already insecure
    WAITING = "waiting"  # DS gone everywhere; caches may still hold it
    SAFE = "safe"  # signing may be switched off

    @property
    def exit_code(self) -> ExitCode:
        return {
            Phase.REFUSE: ExitCode.DNSSEC_FAILURE,
            Phase.UNCONFIRMED: ExitCode.NOT_DNSSEC,
            Phase.UNREACHABLE: ExitCode.NOT_DNSSEC,
            Phase.UNSIGNED: ExitCode.OK,
            Phase.WAITING: ExitCode.WARNINGS,
            Phase.SAFE: ExitCode.OK,
        }[self]


@dataclass(frozen=True)
class Status:
    phase: Phase
    message: str
    remaining: float = 0.0  # seconds left to wait (WAITING)


def read_parent_view(snapshot: Snapshot, zone: str, at: float) -> ParentView:
    evidence = Evidence.of(snapshot)
    origin = dns.name.from_text(zone)
    with_ds: list[str] = []
    without: list[str] = []
    unknown: list[str] = []
    ds_ttl: int | None = None
    negative: int | None = None
    for observation in evidence.authoritative(zone, Purpose.DS):
        message = observation.message
        if message is None or message.rcode() not in (0, 3):
            unknown.append(observation.server)
            continue
        # A DS that cannot be read is a DS all the same: validators still see it.
        rrset = observation.sent_rrset(origin, dns.rdatatype.DS)
        if rrset is not None and len(rrset):
            with_ds.append(observation.server)
            ds_ttl = max(ds_ttl or 0, int(rrset.ttl))
            continue
        without.append(observation.server)
        for authority in message.authority:
            if authority.rdtype == dns.rdatatype.SOA:
                value = min(int(authority.ttl), int(authority[0].minimum))
                negative = max(negative or 0, value)
    signed = any(
        o.rrset(origin, dns.rdatatype.DNSKEY) is not None
        for o in evidence.authoritative(zone, Purpose.DNSKEY)
        if o.authoritative
    )
    zone_answers = any(
        o.authoritative and o.rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)
        for o in evidence.authoritative(zone)
    )
    if not (with_ds or without or unknown):
        unknown.append(f"the parent of {zone} (no server asked)")
    # A signed parent must prove the absence (NSEC/NSEC3): without that proof, validators
    # cannot tell the zone is unsigned, and switching signing off would make it bogus.
    analysis = analyze_evidence(evidence, AnalysisOptions(now=at))
    unproven = {
        server
        for finding in analysis.findings
        if finding.code == "INSECURE_DELEGATION_UNPROVEN" and finding.subject == f"{origin}/DS"
        for server in finding.servers
    }
    return ParentView(
        zone,
        at,
        tuple(with_ds),
        tuple(s for s in without if s not in unproven),
        tuple(dict.fromkeys(unknown)),
        tuple(s for s in without if s in unproven),
        ds_ttl,
        negative,
        signed,
        zone_answers,
    )


class GoInsecure:
    """The state carried between polls: the largest TTLs seen, since when the DS is gone."""

    def __init__(self, zone: str, *, assumed_ds_ttl: int = DEFAULT_ASSUMED_DS_TTL) -> None:
        self.zone = zone
        self.assumed_ds_ttl = assumed_ds_ttl
        self.ds_ttl: int | None = None  # the largest DS TTL observed
        self.negative_ttl: int | None = None
        self.clear_since: float | None = None

    def observe(self, view: ParentView) -> Status:
        if view.ds_ttl is not None:
            self.ds_ttl = max(self.ds_ttl or 0, view.ds_ttl)
        if view.negative_ttl is not None:
            self.negative_ttl = max(self.negative_ttl or 0, view.negative_ttl)
        if not view.zone_answers:
            self.clear_since = None
            ds = (
                f"the parent still publishes a DS ({', '.join(view.with_ds)})"
                if view.with_ds
                else "the parent publishes no DS"
            )
            return Status(
                Phase.UNREACHABLE,
                f"no server of {self.zone} gives an authoritative answer (lame delegation, "
                f"REFUSED or timeouts; {ds}): that is not a DNSSEC fault, and no DNSSEC change "
                "mends it. Fix the delegation or the servers first (dnssec-doctor check "
                f"{shlex.quote(self.zone)} SOA shows which), then run go-insecure again.",
            )
        if view.with_ds:
            self.clear_since = None
            servers = ", ".join(view.with_ds)
            if not view.signed:
                return Status(
                    Phase.REFUSE,
                    f"DANGER: {self.zone} serves no DNSKEY while the parent still publishes a DS "
                    f"({servers}): the zone is failing validation now. Re-enable signing "
                    "immediately and keep it on until the DS is gone and its TTL has passed.",
                )
            return Status(
                Phase.REFUSE,
                f"REFUSED: do NOT switch signing off for {self.zone} The parent still publishes "
                f"a DS on {servers}. Remove the DS at the registrar first; signing off now would "
                "make the whole zone bogus.",
            )
        if view.unproven:
            self.clear_since = None
            return Status(
                Phase.REFUSE,
                f"REFUSED: the parent answers that {self.zone} has no DS, but without a valid "
                f"signed proof ({', '.join(view.unproven)}): validators would fail the zone "
                "once it is unsigned. Keep signing, and have the parent's denial chain fixed.",
            )
        if view.unknown:
            self.clear_since = None
            return Status(
                Phase.UNCONFIRMED,
                f"cannot confirm that the DS of {self.zone} is gone: no usable answer from "
                f"{', '.join(view.unknown)}. Keep signing.",
            )
        if self.clear_since is None:
            self.clear_since = view.at
        if not view.signed and self.ds_ttl is None:
            # No DS was seen in this run: nothing shows that one was removed recently (a
            # zone never signed looks the same), so there is no danger to announce.
            return Status(
                Phase.UNSIGNED,
                f"{self.zone} is already insecure: no parent server publishes a DS (each "
                "proves it) and the zone serves no DNSKEY. There is nothing to switch off. "
                "(Only if a DS was removed in the last "
                f"{human_duration(self.wait_seconds)} can resolvers that cached it still fail "
                "the zone; that ends by itself when their copy expires.)",
            )
        if not view.signed:
            return Status(
                Phase.REFUSE,
                f"DANGER: {self.zone} stopped serving DNSKEY before the DS TTL had passed: "
                "resolvers that still hold the DS fail until it expires. Re-enable signing "
                f"and keep it on for {self._why_wait()}.",
            )
        wait = self.wait_seconds
        remaining = self.clear_since + wait - view.at
        if remaining > 0:
            return Status(
                Phase.WAITING,
                f"the DS of {self.zone} is gone from {every_server(len(view.without_ds))} of the "
                "parent; "
                f"resolvers may still hold it: keep signing for {human_duration(remaining)} more "
                f"({self._why_wait()})",
                remaining,
            )
        return Status(
            Phase.SAFE,
            f"the DS of {self.zone} has been gone from every parent server for "
            f"{human_duration(view.at - self.clear_since)}, longer than {self._why_wait()}: "
            "signing may be switched off now.",
        )

    @property
    def wait_seconds(self) -> int:
        ds_ttl = self.ds_ttl if self.ds_ttl is not None else self.assumed_ds_ttl
        return max(ds_ttl, self.negative_ttl or 0)

    def _why_wait(self) -> str:
        parts = [
            f"DS TTL {human_duration(self.ds_ttl)}"
            if self.ds_ttl is not None
            else f"{human_duration(self.assumed_ds_ttl)}, an assumed DS TTL (no DS was seen "
            "in this run; --ds-ttl sets it)"
        ]
        if self.negative_ttl:
            parts.append(f"negative TTL {human_duration(self.negative_ttl)}")
        return ", ".join(parts)


def run_go_insecure(
    zone: str,
    poll: Callable[[], ParentView],
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    interval: float,
    emit: Callable[[Status], None],
    once: bool = False,
    give_up_after: float | None = None,
    assumed_ds_ttl: int = DEFAULT_ASSUMED_DS_TTL,
) -> Status:
    """Poll until it is safe (or once, or until ``give_up_after`` seconds have passed)."""
    machine = GoInsecure(zone, assumed_ds_ttl=assumed_ds_ttl)
    started = clock()
    while True:
        status = machine.observe(poll())
        emit(status)
        if status.phase is Phase.SAFE or once:
            return status
        if give_up_after is not None and clock() - started >= give_up_after:
            return status
        pause = interval
        if status.phase is Phase.WAITING:
            pause = min(interval, max(status.remaining, 0.0)) or interval
        sleep(pause)
