"""diff's rules on hand-built states: what a change window must never call routine."""

from __future__ import annotations

from collections.abc import Sequence

import dns.name
from dns.dnssectypes import Algorithm
from dns.rdtypes.ANY.DS import DS

from dnssec_doctor.change.diff import Decision, Impact, Kind, diff_states
from dnssec_doctor.change.state import ServerState, SnapshotState, ZoneState
from dnssec_doctor.lab.signing import KeyPair, generate_key

ALG = Algorithm.ECDSAP256SHA256
KSK1, KSK2 = generate_key(ALG, ksk=True), generate_key(ALG, ksk=True)
ZSK1, ZSK2 = generate_key(ALG, ksk=False), generate_key(ALG, ksk=False)


def _state(
    keys: Sequence[KeyPair],
    *,
    ds: Sequence[DS] = (),
    signs: Sequence[KeyPair] = (),
    anchors: Sequence[DS] = (),
    zone: str = "example.",
    at: float = 0.0,
) -> SnapshotState:
    server = ServerState(
        server="ns1",
        answered=True,
        serial=1,
        dnskeys=tuple(k.dnskey for k in keys),
        signers=tuple((k.key_tag, int(k.algorithm)) for k in keys if k.dnskey.flags & 1),
        earliest_expiration=None,
        newest_inception=None,
        state="secure",
        data_signers=tuple((k.key_tag, int(k.algorithm)) for k in signs),
    )
    state = ZoneState(
        zone=zone,
        state="secure",
        ds=tuple(ds),
        ds_by_server=(("parent", tuple(ds)),),
        ds_ttl=3600,
        negative_ttl=60,
        servers=(server,),
        soa_expire=None,
        dnskey_ttl=3600,
        anchors=tuple(anchors),
    )
    return SnapshotState(f"www.{zone}", "A", "secure", at, (state,))


def _ds(key: KeyPair, zone: str = "example.") -> DS:
    return key.ds(dns.name.from_text(zone))


def test_replacing_every_key_at_once_is_no_go() -> None:
    before = _state([KSK1, ZSK1], ds=[_ds(KSK1)], signs=[ZSK1])
    after = _state([KSK2, ZSK2], ds=[_ds(KSK2)], signs=[ZSK2], at=600)
    diff = diff_states(before, after)
    assert diff.decision is Decision.NO_GO
    replaced = [c for c in diff.changes if c.kind is Kind.KEYS_REPLACED]
    assert replaced and replaced[0].impact is Impact.BREAKING


def test_removing_a_configured_trust_anchor_is_never_ok() -> None:
    # The root: no DS anywhere, the anchor is what vouches for its KSK.
    anchor = _ds(KSK1, ".")
    before = _state([KSK1, KSK2, ZSK1], signs=[ZSK1], anchors=[anchor], zone=".")
    after = _state([KSK2, ZSK1], signs=[ZSK1], anchors=[anchor], zone=".", at=600)
    diff = diff_states(before, after)
    removed = [c for c in diff.changes if c.kind is Kind.DNSKEY_REMOVED]
    assert removed and all(c.impact is Impact.BREAKING for c in removed), removed
    assert "trust anchor" in removed[0].detail
    assert diff.decision is Decision.NO_GO
    # Every root key replaced at once, anchor included: DANGER, not CAUTION.
    everything = diff_states(
        _state([KSK1, ZSK1], signs=[ZSK1], anchors=[anchor], zone="."),
        _state([KSK2, ZSK2], signs=[ZSK2], anchors=[anchor], zone=".", at=600),
    )
    assert everything.decision is Decision.NO_GO
    [anchor_key] = [
        c for c in everything.changes if c.kind is Kind.DNSKEY_REMOVED and "KSK" in c.subject
    ]
    assert anchor_key.impact is Impact.BREAKING  # never "ok ... no DS references it"


def test_a_zsk_swapped_without_pre_publication_is_flagged() -> None:
    before = _state([KSK1, ZSK1], ds=[_ds(KSK1)], signs=[ZSK1])
    swapped = _state([KSK1, ZSK2], ds=[_ds(KSK1)], signs=[ZSK2], at=600)
    diff = diff_states(before, swapped)
    added = [c for c in diff.changes if c.kind is Kind.DNSKEY_ADDED]
    assert added and added[0].impact is Impact.RISKY and "RFC 6781" in added[0].detail
    assert diff.decision is not Decision.GO
    # Pre-published (served, not yet signing): the expected first step of a rollover.
    prepublished = _state([KSK1, ZSK1, ZSK2], ds=[_ds(KSK1)], signs=[ZSK1], at=600)
    first = diff_states(before, prepublished)
    assert first.decision is Decision.GO, first.changes
    # Then signing with it once the DNSKEY TTL has passed: the new ZSK was already known.
    later = _state([KSK1, ZSK1, ZSK2], ds=[_ds(KSK1)], signs=[ZSK2], at=600 + 3600)
    assert diff_states(prepublished, later).decision is Decision.GO
