"""Before/after comparison of a change window, with a go/no-go verdict.

Two snapshots of the same name, taken before and after a step of a planned change (a key
rollover, a provider migration, enabling or disabling DNSSEC), are compared zone by zone:
the DS set at the parent, the DNSKEY set (added, removed, revoked), the signatures
(windows, signers), the SOA serials and each server's state. Each change is classified:

- ``expected``: a safe step (a new key pre-published, a DS added for a served key, an old
  DS removed while another matches, a re-signing);
- ``risky``: validates now, but some validators or caches may fail (a DS left for a
  removed key beside a valid one, a key removed in the same window as its DS, signatures
  about to expire, servers that disagree, a serial going backwards);
- ``breaking``: validation fails after the change (a removed key still referenced by the
  only DS, a DS for no served key, a server or zone that turned bogus).

The verdict is ``no-go`` if anything breaks, ``caution`` if something is risky, else
``go``. Pure: both snapshots are analysed at their own collection time.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import dns.dnssec
import dns.name
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.DS import DS
from dns.rdtypes.dnskeybase import Flag

from dnssec_doctor.analysis.keys import DsStatus, match_ds
from dnssec_doctor.change.state import (
    SnapshotState,
    ZoneState,
    ds_label,
    key_label,
    same_key,
)
from dnssec_doctor.errors import ExitCode
from dnssec_doctor.model.options import DAY
from dnssec_doctor.model.time_text import human_duration

EXPIRY_MARGIN = 3 * DAY  # signatures expiring sooner than this after the change are risky

# How bad each state is, for "did the zone get worse?".
_STATE_RANK = {
    "secure": 0,
    "insecure": 1,
    "indeterminate": 2,
    "partial": 3,
    "unreachable": 4,
    "bogus": 5,
}


# The verdicts a change window may end with and still be a go.
_HEALTHY = ("secure", "insecure")


class Impact(enum.IntEnum):
    EXPECTED = 0
    RISKY = 1
    BREAKING = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class Decision(enum.StrEnum):
    GO = "go"
    CAUTION = "caution"
    NO_GO = "no-go"

    @property
    def exit_code(self) -> ExitCode:
        return {
            Decision.GO: ExitCode.OK,
            Decision.CAUTION: ExitCode.WARNINGS,
            Decision.NO_GO: ExitCode.DNSSEC_FAILURE,
        }[self]


class Kind(enum.StrEnum):
    DS_ADDED = "ds-added"
    DS_REMOVED = "ds-removed"
    DNSKEY_ADDED = "dnskey-added"
    DNSKEY_REMOVED = "dnskey-removed"
    DNSKEY_REVOKED = "dnskey-revoked"
    KEYS_REPLACED = "keys-replaced"  # every key swapped in one window
    SIGNERS_CHANGED = "signers-changed"
    SIGNATURES = "signatures"
    SERIAL = "serial"
    SERVER_STATE = "server-state"
    ZONE_STATE = "zone-state"
    VERDICT = "verdict"


@dataclass(frozen=True)
class Change:
    kind: Kind
    zone: str | None
    subject: str
    impact: Impact
    detail: str
    servers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diff:
    name: str
    rdtype: str
    before: SnapshotState
    after: SnapshotState
    changes: tuple[Change, ...]

    @property
    def decision(self) -> Decision:
        worst = max((c.impact for c in self.changes), default=Impact.EXPECTED)
        return {
            Impact.EXPECTED: Decision.GO,
            Impact.RISKY: Decision.CAUTION,
            Impact.BREAKING: Decision.NO_GO,
        }[worst]


def diff_states(before: SnapshotState, after: SnapshotState) -> Diff:
    changes: list[Change] = []
    elapsed = after.collected_at - before.collected_at
    names = list(dict.fromkeys([z.zone for z in before.zones] + [z.zone for z in after.zones]))
    for name in names:
        old, new = before.zone(name), after.zone(name)
        if old is None or new is None:
            continue  # the path changed (a new cut, a CNAME): the verdict comparison covers it
        changes += diff_zone(old, new, elapsed, after.collected_at)
    if _STATE_RANK.get(after.verdict, 2) > _STATE_RANK.get(before.verdict, 2):
        impact = Impact.BREAKING if after.verdict in ("bogus", "partial") else Impact.RISKY
        changes.append(
            Change(
                Kind.VERDICT,
                None,
                f"{after.name} {after.rdtype}",
                impact,
                f"the answer was {before.verdict} and is now {after.verdict}",
            )
        )
    elif after.verdict not in _HEALTHY:
        # Better than before, or the same, but not working: never a go. An indeterminate
        # answer after the window proves nothing, a bogus one before it is no excuse.
        if after.verdict == before.verdict:
            detail = f"the answer is still {after.verdict}"
        else:
            detail = f"the answer was {before.verdict} and is now {after.verdict}"
        if after.verdict == "indeterminate":
            detail += ": the check could not conclude, so the change is not confirmed"
        changes.append(
            Change(Kind.VERDICT, None, f"{after.name} {after.rdtype}", Impact.RISKY, detail)
        )
    elif after.verdict != before.verdict:
        changes.append(
            Change(
                Kind.VERDICT,
                None,
                f"{after.name} {after.rdtype}",
                Impact.EXPECTED,
                f"the answer was {before.verdict} and is now {after.verdict}",
            )
        )
    return Diff(after.name, after.rdtype, before, after, tuple(changes))


def diff_zone(old: ZoneState, new: ZoneState, elapsed: float, now: float) -> list[Change]:
    origin = dns.name.from_text(new.zone)
    changes: list[Change] = []
    changes += _ds_changes(origin, old, new)
    changes += _key_changes(origin, old, new, elapsed)
    changes += _server_changes(old, new, now)
    if _STATE_RANK.get(new.state, 2) > _STATE_RANK.get(old.state, 2):
        changes.append(
            Change(
                Kind.ZONE_STATE,
                new.zone,
                new.zone,
                Impact.BREAKING if new.state in ("bogus", "partial") else Impact.RISKY,
                f"the zone was {old.state} and is now {new.state}",
            )
        )
    return changes


# --- DS ------------------------------------------------------------------------------------


def _matches(ds: DS, origin: dns.name.Name, key: DNSKEY) -> bool:
    return match_ds(ds, origin, [key]).status is DsStatus.MATCH and not key.flags & Flag.REVOKE


def _servers_matching(ds: DS, origin: dns.name.Name, zone: ZoneState) -> list[str]:
    return [
        s.server
        for s in zone.servers
        if s.dnskeys and any(_matches(ds, origin, k) for k in s.dnskeys)
    ]


def _answering(zone: ZoneState) -> list[str]:
    return [s.server for s in zone.servers if s.dnskeys]


def _validates_everywhere(ds_set: Sequence[DS], origin: dns.name.Name, zone: ZoneState) -> bool:
    """Does some DS of the set match a served key on every server serving keys?"""
    answering = _answering(zone)
    return bool(answering) and all(
        any(_matches(ds, origin, k) for ds in ds_set for k in _served(zone, server))
        for server in answering
    )


def _ds_changes(origin: dns.name.Name, old: ZoneState, new: ZoneState) -> list[Change]:
    changes: list[Change] = []
    zone = new.zone
    added = [d for d in new.ds if d not in old.ds]
    removed = [d for d in old.ds if d not in new.ds]
    others_hold = _validates_everywhere(new.ds, origin, new)
    for ds in added:
        matching = _servers_matching(ds, origin, new)
        answering = _answering(new)
        if answering and len(matching) == len(answering):
            impact, detail = Impact.EXPECTED, "matches a key every server serves"
        elif matching:
            missing = [s for s in answering if s not in matching]
            impact = Impact.RISKY
            detail = f"matches a served key, but not on {', '.join(missing)}"
        elif others_hold:
            impact = Impact.RISKY
            detail = (
                "matches no served key: validators ignore it while another DS matches, but it "
                "is a stale DS that breaks the zone if the other goes"
            )
        else:
            impact = Impact.BREAKING
            detail = "matches no key the zone serves, and no other DS does: the zone is bogus"
        changes.append(Change(Kind.DS_ADDED, zone, ds_label(ds), impact, detail))
    for ds in removed:
        if not new.ds:
            if new.signed:
                impact = Impact.EXPECTED
                wait = human_duration(old.ds_ttl or 0)
                detail = (
                    "the last DS is gone: the zone becomes insecure. Keep signing until every "
                    f"parent server shows no DS and the DS TTL ({wait}) has passed"
                )
            else:
                impact = Impact.BREAKING
                detail = (
                    "the last DS was removed in the same window as signing was switched off: "
                    "resolvers that cached the DS fail until it expires (the dangerous order)"
                )
        elif others_hold:
            impact, detail = Impact.EXPECTED, "another DS still matches a served key everywhere"
        else:
            impact = Impact.BREAKING
            detail = "no remaining DS matches a key the zone serves: the zone is bogus"
        changes.append(Change(Kind.DS_REMOVED, zone, ds_label(ds), impact, detail))
    return changes


# --- keys ----------------------------------------------------------------------------------


def _key_changes(
    origin: dns.name.Name, old: ZoneState, new: ZoneState, elapsed: float
) -> list[Change]:
    changes: list[Change] = []
    zone = new.zone
    old_keys, new_keys = old.dnskeys, new.dnskeys
    kept = [k for k in new_keys if any(same_key(k, o) for o in old_keys)]
    if old_keys and new_keys and not kept and (old.ds or old.anchors):
        changes.append(
            Change(
                Kind.KEYS_REPLACED,
                zone,
                zone,
                Impact.BREAKING,
                f"every key of {zone} was replaced in one window: resolvers holding the old "
                f"DNSKEY RRset{_ttl_text(old.dnskey_ttl)} or the old "
                + ("trust anchor" if old.anchors else f"DS{_ttl_text(old.ds_ttl)}")
                + " cannot validate the new signatures. A rollover publishes the new keys "
                "first and retires the old ones after the TTLs (RFC 6781 §4.1)",
            )
        )
    for key in new_keys:
        if any(k == key for k in old_keys):
            continue
        previous = next((k for k in old_keys if same_key(k, key)), None)
        if previous is not None:
            if key.flags & Flag.REVOKE and not previous.flags & Flag.REVOKE:
                changes.append(_revoked(origin, key, new))
            continue
        serving = [s.server for s in new.servers if key in s.dnskeys]
        lacking = [s.server for s in new.servers if s.dnskeys and key not in s.dnskeys]
        has_ds = any(_matches(ds, origin, key) for ds in new.ds)
        signing = [
            s.server
            for s in new.servers
            if (dns.dnssec.key_id(key), int(key.algorithm)) in s.data_signers
        ]
        if not key.flags & Flag.SEP and signing and old_keys:
            # RFC 6781 §4.1.1.1: a new ZSK is published a DNSKEY TTL before it signs.
            impact = Impact.RISKY
            detail = (
                f"a new ZSK already signing on {', '.join(signing)} in the window it was "
                "published: resolvers holding the old DNSKEY RRset"
                f"{_ttl_text(old.dnskey_ttl)} cannot validate its signatures until that "
                "expires. Pre-publish a ZSK for the DNSKEY TTL before it signs (RFC 6781 "
                "§4.1.1.1)"
            )
        elif lacking:
            impact = Impact.RISKY
            detail = f"published on {', '.join(serving)} but not yet on {', '.join(lacking)}"
        elif key.flags & Flag.SEP and not has_ds:
            impact = Impact.EXPECTED
            detail = (
                "pre-published, no DS at the parent yet: add its DS once the key has been "
                "served for the DNSKEY TTL"
            )
        else:
            impact, detail = Impact.EXPECTED, "published on every server"
        changes.append(
            Change(Kind.DNSKEY_ADDED, zone, key_label(key), impact, detail, tuple(serving))
        )
    for key in old_keys:
        if any(same_key(k, key) for k in new_keys):
            continue
        changes.append(_removed(origin, key, old, new, elapsed))
    return changes


def _revoked(origin: dns.name.Name, key: DNSKEY, new: ZoneState) -> Change:
    if new.ds and not _validates_everywhere(new.ds, origin, new):
        impact = Impact.BREAKING
        detail = "revoked while no other key matches the DS: the zone is bogus"
    else:
        impact, detail = Impact.EXPECTED, "revoked (RFC 5011) while another key carries the chain"
    return Change(Kind.DNSKEY_REVOKED, new.zone, key_label(key), impact, detail)


def _removed(
    origin: dns.name.Name, key: DNSKEY, old: ZoneState, new: ZoneState, elapsed: float
) -> Change:
    zone = new.zone
    label = key_label(key)
    anchored = [a for a in old.anchors if _anchors_key(a, origin, key)]
    if anchored:
        return Change(
            Kind.DNSKEY_REMOVED,
            zone,
            label,
            Impact.BREAKING,
            f"a configured trust anchor of {zone}: validators that hold it fail every name "
            f"under {zone} until they trust the new key (RFC 5011 rolls an anchor over 30 "
            "days and more; remove it only once the new key has been trusted)",
        )
    still = [ds for ds in new.ds if _matches(ds, origin, key)]
    if still:
        if _validates_everywhere(new.ds, origin, new):
            return Change(
                Kind.DNSKEY_REMOVED,
                zone,
                label,
                Impact.RISKY,
                f"{', '.join(ds_label(d) for d in still)} at the parent still references it: "
                "remove that DS first; resolvers that cached only that DS fail",
            )
        return Change(
            Kind.DNSKEY_REMOVED,
            zone,
            label,
            Impact.BREAKING,
            f"removed while {', '.join(ds_label(d) for d in still)} at the parent, the only DS "
            "that matched, still references it: the zone is bogus",
        )
    had = [ds for ds in old.ds if _matches(ds, origin, key)]
    ttl = old.ds_ttl or 0
    if had and elapsed < ttl:
        # Resolvers may hold the old DS set for its TTL: is there a key for it?
        cached_ok = _validates_everywhere(old.ds, origin, new)
        if not cached_ok:
            return Change(
                Kind.DNSKEY_REMOVED,
                zone,
                label,
                Impact.RISKY,
                f"removed only {human_duration(elapsed)} after its DS left the parent, less "
                f"than the DS TTL ({human_duration(ttl)}): resolvers still holding the old DS "
                "fail until it expires. Wait the DS TTL between the two steps",
            )
    return Change(Kind.DNSKEY_REMOVED, zone, label, Impact.EXPECTED, "no DS references it")


def _anchors_key(anchor: DS | DNSKEY, origin: dns.name.Name, key: DNSKEY) -> bool:
    if isinstance(anchor, DS):
        return match_ds(anchor, origin, [key]).status is DsStatus.MATCH
    return same_key(anchor, key)


def _ttl_text(ttl: int | None) -> str:
    return f" (TTL {human_duration(ttl)})" if ttl else ""


# --- servers -------------------------------------------------------------------------------


def _server_changes(old: ZoneState, new: ZoneState, now: float) -> list[Change]:
    changes: list[Change] = []
    zone = new.zone
    for server in new.servers:
        before = old.server(server.server)
        if before is None:
            changes.append(
                Change(
                    Kind.SERVER_STATE,
                    zone,
                    server.server,
                    Impact.EXPECTED if server.state == "secure" else Impact.RISKY,
                    f"new server, {server.state}",
                    (server.server,),
                )
            )
            continue
        if (
            before.serial is not None
            and server.serial is not None
            and before.serial != server.serial
        ):
            backwards = _serial_older(server.serial, before.serial)
            changes.append(
                Change(
                    Kind.SERIAL,
                    zone,
                    server.server,
                    Impact.RISKY if backwards else Impact.EXPECTED,
                    f"serial {before.serial} -> {server.serial}"
                    + (" (went backwards: an older copy is served)" if backwards else ""),
                    (server.server,),
                )
            )
        if set(before.signers) != set(server.signers):
            gone = sorted(set(before.signers) - set(server.signers))
            came = sorted(set(server.signers) - set(before.signers))
            parts = []
            if came:
                parts.append("now signed by " + ", ".join(f"{t}/{a}" for t, a in came))
            if gone:
                parts.append("no longer by " + ", ".join(f"{t}/{a}" for t, a in gone))
            changes.append(
                Change(
                    Kind.SIGNERS_CHANGED,
                    zone,
                    f"{server.server} DNSKEY RRSIG",
                    Impact.EXPECTED,
                    "; ".join(parts),
                    (server.server,),
                )
            )
        changes += _window_change(
            zone,
            before.earliest_expiration,
            server.earliest_expiration,
            server.newest_inception,
            server.server,
            now,
        )
        if _STATE_RANK.get(server.state, 2) > _STATE_RANK.get(before.state, 2):
            changes.append(
                Change(
                    Kind.SERVER_STATE,
                    zone,
                    server.server,
                    Impact.BREAKING if server.state == "bogus" else Impact.RISKY,
                    f"was {before.state}, now {server.state}",
                    (server.server,),
                )
            )
    for server in old.servers:
        if new.server(server.server) is None:
            changes.append(
                Change(
                    Kind.SERVER_STATE,
                    zone,
                    server.server,
                    Impact.RISKY,
                    "no longer asked (gone from the delegation)",
                    (server.server,),
                )
            )
    serials = {s.serial for s in new.servers if s.serial is not None}
    if len(serials) > 1:
        changes.append(
            Change(
                Kind.SERIAL,
                zone,
                zone,
                Impact.RISKY,
                "servers disagree on the serial ("
                + ", ".join(f"{s.server} {s.serial}" for s in new.servers if s.serial is not None)
                + "): a secondary has not caught up",
            )
        )
    return changes


def _window_change(
    zone: str,
    before: int | None,
    after: int | None,
    inception: int | None,
    server: str,
    now: float,
) -> list[Change]:
    if after is None:
        return []
    if after <= now:
        return [
            Change(
                Kind.SIGNATURES,
                zone,
                server,
                Impact.BREAKING,
                "signatures are expired after the change",
                (server,),
            )
        ]
    if after - now < EXPIRY_MARGIN:
        return [
            Change(
                Kind.SIGNATURES,
                zone,
                server,
                Impact.RISKY,
                f"signatures expire in {human_duration(after - now)}",
                (server,),
            )
        ]
    changes = []
    if inception is not None and inception > now:
        changes.append(
            Change(
                Kind.SIGNATURES,
                zone,
                server,
                Impact.RISKY,
                "signatures with an inception in the future (clock skew?)",
                (server,),
            )
        )
    if before is not None and after > before:
        changes.append(
            Change(
                Kind.SIGNATURES,
                zone,
                server,
                Impact.EXPECTED,
                f"re-signed: earliest expiry {human_duration(after - before)} later",
                (server,),
            )
        )
    elif before is not None and after < before:
        changes.append(
            Change(
                Kind.SIGNATURES,
                zone,
                server,
                Impact.EXPECTED,
                f"earliest expiry {human_duration(before - after)} earlier, in "
                f"{human_duration(after - now)}",
                (server,),
            )
        )
    return changes


def _serial_older(new: int, old: int) -> bool:
    """RFC 1982 serial arithmetic: is ``new`` before ``old``?"""
    return new != old and ((old - new) % 2**32) < 2**31


def _served(zone: ZoneState, server: str) -> tuple[DNSKEY, ...]:
    found = zone.server(server)
    return found.dnskeys if found is not None else ()
