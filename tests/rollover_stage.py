"""A two-level hierarchy of our own for change-window tests: a root on 127.53.60.1 and the
zone ``roll.`` on 127.53.60.2 and .3, served by NSD through ``lab.changes.Stage``, with
every key kept so that a KSK rollover (or a DS removal) can be played step by step."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import dns.name
import dns.rdtypes.ANY.DS
import dns.zone

from dnssec_doctor.lab.changes import Stage
from dnssec_doctor.lab.hierarchy import delegate
from dnssec_doctor.lab.scenarios import DS_TTL, Host, HostRole, Keys, ZoneBuild, make_zone, sign
from dnssec_doctor.lab.signing import KeyPair, Window, generate_key
from dnssec_doctor.model.snapshot import Server, Snapshot
from dnssec_doctor.probe.collect import collect
from dnssec_doctor.probe.settings import AddressPolicy, ProbeSettings

ROOT = dns.name.root
ZONE = dns.name.from_text("roll.")
ROOT_HOST = Host(dns.name.from_text("a.root-servers."), "127.53.60.1", HostRole.PRIMARY)
CHILD_HOSTS = [
    Host(dns.name.from_text("ns1.roll."), "127.53.60.2", HostRole.PRIMARY),
    Host(dns.name.from_text("ns2.roll."), "127.53.60.3", HostRole.PRIMARY),
]


class RolloverStage:
    def __init__(self, directory: Path) -> None:
        now = int(time.time())
        self.window = Window(now - 86400, now + 14 * 86400)
        self.serial = now
        self.root_keys = Keys.generate()
        self.ksk1 = generate_key(self.root_keys.ksk.algorithm, ksk=True)
        self.ksk2 = generate_key(self.root_keys.ksk.algorithm, ksk=True)
        self.zsk = generate_key(self.root_keys.ksk.algorithm, ksk=False)
        self.stage = Stage(directory)
        self.started = False
        self.root_serial = now
        self.last_ds: list[dns.rdtypes.ANY.DS.DS] | None = None
        self.settings = ProbeSettings(
            root_hints=(Server("127.53.60.1", "a.root-servers."),),
            trust_anchors=(f". 86400 IN DS {self.root_keys.ds(ROOT)}",),
            resolvers=(),
            address_policy=AddressPolicy.LOOPBACK_ONLY,
        )

    def ds(self, key: KeyPair) -> dns.rdtypes.ANY.DS.DS:
        return key.ds(ZONE)

    def child_zone(self, published: Sequence[KeyPair], signers: Sequence[KeyPair]) -> dns.zone.Zone:
        self.serial += 1
        zone = make_zone(ZONE, CHILD_HOSTS, serial=self.serial)
        if published:
            sign(
                zone,
                Keys(published[0], self.zsk),
                self.window,
                published=[*published, self.zsk],
                dnskey_signers=list(signers),
                data_signers=[self.zsk],
            )
        return zone

    def root_zone(self, ds: Sequence[dns.rdtypes.ANY.DS.DS]) -> dns.zone.Zone:
        if list(ds) != self.last_ds:
            self.root_serial += 1
            self.last_ds = list(ds)
        zone = make_zone(ROOT, [ROOT_HOST], serial=self.root_serial, data=False)
        delegate(zone, [ZoneBuild(ZONE, CHILD_HOSTS, None, list(ds))])
        sign(zone, self.root_keys, self.window)
        return zone

    def set(
        self,
        *,
        published: Sequence[KeyPair],
        signers: Sequence[KeyPair],
        ds: Sequence[dns.rdtypes.ANY.DS.DS],
        root_changes: bool = True,
        child_changes: bool = True,
    ) -> None:
        """Serve this state of the rollover (restarting only what changed)."""
        child = self.child_zone(published, signers)
        root = self.root_zone(ds)
        if not self.started:
            self.stage.serve("stage-root", [ROOT_HOST.address], [root])
            self.stage.serve("stage-roll", [h.address for h in CHILD_HOSTS], [child])
            self.started = True
        else:
            if root_changes:
                self.stage.replace("stage-root", [root])
            if child_changes:
                self.stage.replace("stage-roll", [child])

    def snapshot(self) -> Snapshot:
        return collect("roll.", "SOA", self.settings)

    def write_profile(self, directory: Path) -> tuple[Path, Path]:
        """Root hints and trust anchor files for the CLI (--root-hints, --trust-anchor)."""
        hints = directory / "stage.hints"
        hints.write_text(
            ". 3600000 IN NS a.root-servers.\na.root-servers. 3600000 IN A 127.53.60.1\n"
        )
        anchor = directory / "stage-anchor.ds"
        anchor.write_text(f". 86400 IN DS {self.root_keys.ds(ROOT)}\n")
        return hints, anchor

    def close(self) -> None:
        self.stage.close()


__all__ = ["DS_TTL", "RolloverStage"]
