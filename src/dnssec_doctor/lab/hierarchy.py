"""The lab's DNS hierarchy: a private root, its TLDs and one child zone per scenario.

``build_hierarchy`` makes every zone (children first, since parents publish their DS),
writes the zone files, and returns which server instance serves which file on which
addresses, plus the root trust anchor and hints. Every zone cut has its own loopback
addresses, so resolvers follow referrals as they do on the internet:

    127.53.0.1          the root (BIND)
    127.53.1.1-4        the TLDs lab., mirror., brokentld. (Knot DNS)
    127.53.2.N          the scenario zones' servers (NSD)
    127.53.3.N          second servers: a stale copy, a second signer's copy, or a server
                        that refuses (Knot DNS)
    127.53.4.N          NS addresses where nothing listens
    127.53.5.N          extra zones of a scenario (a CNAME target)
    127.53.8.N          scenario zones PowerDNS signs at query time
    127.53.9.N          scenario zones' servers behind the lab's firewall (NSD; private
                        network namespace only)
    127.53.53.1-5       resolvers: Unbound, BIND, Knot Resolver (validating), Unbound (not),
                        PowerDNS Recursor (validating)

In a private network namespace (``private_network``), the scenarios marked so are built
too, their servers listen on fd53::BLOCK:N as well (the same blocks),
and the resolvers (Knot Resolver excepted, see ``resolvers``) send IPv6 queries from
fd53::53:N.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import dns.name
import dns.rdata
import dns.zone
from dns.dnssectypes import Algorithm

from dnssec_doctor.errors import LabError
from dnssec_doctor.lab import scenarios as catalogue
from dnssec_doctor.lab import signing
from dnssec_doctor.lab.bulk import BULK_TLD, BULK_TLD_ADDRESS, ManifestEntry, build_bulk
from dnssec_doctor.lab.scenarios import (
    Blocked,
    BuildContext,
    Host,
    HostRole,
    Keys,
    Scenario,
    ZoneBuild,
    make_zone,
    sign,
)
from dnssec_doctor.lab.servers import (
    ONLINE_DENIAL,
    AuthoritativeInstance,
    OnlineSigning,
    ResolverInstance,
    Software,
    ZoneFile,
)
from dnssec_doctor.lab.signing import NSEC, NSEC3, KeyPair, Window

ROOT = dns.name.root
ROOT_SERVER = Host(dns.name.from_text("a.root-servers."), "127.53.0.1", HostRole.PRIMARY)


@dataclass(frozen=True)
class Tld:
    origin: dns.name.Name
    addresses: tuple[str, ...]
    algorithm: Algorithm
    nsec3: bool = False
    wrong_ds_in_root: bool = False


TLDS = (
    Tld(dns.name.from_text("lab."), ("127.53.1.1", "127.53.1.2"), Algorithm.ECDSAP256SHA256),
    Tld(dns.name.from_text("mirror."), ("127.53.1.3",), Algorithm.RSASHA256, nsec3=True),
    Tld(
        dns.name.from_text("brokentld."),
        ("127.53.1.4",),
        Algorithm.ECDSAP256SHA256,
        wrong_ds_in_root=True,
    ),
)

RESOLVERS = (
    ResolverInstance("unbound", Software.UNBOUND, "127.53.53.1", validating=True),
    ResolverInstance("bind", Software.BIND, "127.53.53.2", validating=True),
    ResolverInstance("kresd", Software.KRESD, "127.53.53.3", validating=True),
    ResolverInstance("unbound-nonvalidating", Software.UNBOUND, "127.53.53.4", validating=False),
    ResolverInstance("pdns-recursor", Software.PDNS_RECURSOR, "127.53.53.5", validating=True),
)


def resolvers(*, ipv6: bool) -> tuple[ResolverInstance, ...]:
    """The lab's resolvers; with ``ipv6``, each but Knot Resolver also asks over IPv6
    (from fd53::53:N). Measured: Knot Resolver 5.6 with IPv6 on, after a bogus answer
    from a zone whose servers have only IPv4 addresses, looks up their AAAA records and
    answers SERVFAIL without the EDE it sends otherwise (rrsig-corrupt, wildcard-no-proof,
    unproven-insecure, rrsig-window-inverted): its answers to the IPv4 scenarios would
    depend on whether the lab has IPv6."""
    if not ipv6:
        return RESOLVERS
    return tuple(
        r
        if r.software is Software.KRESD
        else dataclasses.replace(r, address6=f"fd53::53:{r.address.rsplit('.', 1)[1]}")
        for r in RESOLVERS
    )


ROOT_HINTS_TTL = 3600000
ANCHOR_TTL = 86400


@dataclass(frozen=True)
class Hierarchy:
    """Everything ``lab up`` needs to start servers, and the lab's trust anchor."""

    authoritatives: tuple[AuthoritativeInstance, ...]
    resolvers: tuple[ResolverInstance, ...]
    root_ksk: KeyPair
    root_hints: str  # named.root form
    anchor_ds: str  # zone-file form
    anchor_dnskey: str  # zone-file form
    anchor_conf: str  # a named.conf trust-anchors clause, for delv -a and BIND
    bulk_manifest: tuple[ManifestEntry, ...] = ()  # the bulk TLD's names (lab up --bulk)
    firewall: tuple[Blocked, ...] = ()  # what the lab's firewall drops (private namespace)

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address some process listens on or sends from (dead NS addresses
        excluded)."""
        found = [a for i in self.authoritatives for a in i.addresses]
        found += [a for r in self.resolvers for a in (r.address, r.address6) if a is not None]
        return tuple(dict.fromkeys(found))


def build_hierarchy(
    now: int, directory: Path, *, bulk: int = 0, private_network: bool = False
) -> Hierarchy:
    """Build, sign and write every zone of the lab into ``directory`` (with ``bulk``, the
    bulk TLD's ``bulk`` zones too; with ``private_network``, the scenarios that need the
    lab's private network namespace: IPv6, firewall rules)."""
    directory.mkdir(parents=True, exist_ok=True)
    window = Window(now - catalogue.DAY, now + 14 * catalogue.DAY)
    tlds = TLDS + ((Tld(BULK_TLD, (BULK_TLD_ADDRESS,), Algorithm.ECDSAP256SHA256),) if bulk else ())
    children: dict[dns.name.Name, list[ZoneBuild]] = {tld.origin: [] for tld in tlds}
    served_by: dict[dns.name.Name, Software] = {}
    clock_of: dict[dns.name.Name, int] = {}
    for index, scenario in enumerate(catalogue.SCENARIOS):
        if scenario.private_network and not private_network:
            continue
        if scenario.signer_clock_offset and scenario.software is not Software.KNOT:
            raise LabError(f"{scenario.slug}: only Knot DNS runs with a wrong clock in the lab")
        for built in build_scenario(scenario, index, now):
            children[built.origin.parent()].append(built)
            served_by[built.origin] = scenario.software
            clock_of[built.origin] = scenario.signer_clock_offset
    bulk_instances: tuple[AuthoritativeInstance, ...] = ()
    manifest: tuple[ManifestEntry, ...] = ()
    if bulk:
        bulk_build = build_bulk(
            bulk, now, lambda zone, suffix: write_zone(directory, zone, suffix=suffix)
        )
        children[BULK_TLD] = bulk_build.children
        manifest = tuple(bulk_build.manifest)
        bulk_instances = (
            AuthoritativeInstance(
                "bulk-nsd",
                Software.NSD,
                tuple(sorted(bulk_build.nsd_addresses)),
                tuple(bulk_build.on_nsd),
            ),
        )
        if bulk_build.on_knot:
            bulk_instances += (
                AuthoritativeInstance(
                    "bulk-knot",
                    Software.KNOT,
                    tuple(sorted(bulk_build.knot_addresses)),
                    tuple(bulk_build.on_knot),
                ),
            )

    tld_builds = []
    for tld in tlds:
        tld_hosts = [
            Host(dns.name.from_text(f"ns{n}", tld.origin), address, HostRole.PRIMARY)
            for n, address in enumerate(tld.addresses, start=1)
        ]
        zone = make_zone(tld.origin, tld_hosts, serial=now, data=False)
        delegate(zone, children[tld.origin])
        keys = Keys.generate(tld.algorithm)
        sign(zone, keys, window, denial=NSEC3 if tld.nsec3 else NSEC)
        for child in children[tld.origin]:
            if child.parent_change is not None:
                child.parent_change(zone)
        ds = keys.ds(tld.origin)
        if tld.wrong_ds_in_root:
            ds = signing.altered_ds(ds, digest=signing.flipped(ds.digest))
        tld_builds.append(ZoneBuild(tld.origin, tld_hosts, zone, [ds]))

    root_keys = Keys.generate(Algorithm.RSASHA256)
    root = make_zone(ROOT, [ROOT_SERVER], serial=now, data=False)
    delegate(root, tld_builds)
    sign(root, root_keys, window)

    child_builds = [b for origin, builds in children.items() if origin != BULK_TLD for b in builds]
    on_nsd = [b for b in child_builds if served_by[b.origin] is Software.NSD]
    on_knot = [
        b for b in child_builds if served_by[b.origin] is Software.KNOT and not clock_of[b.origin]
    ]
    # A signer whose clock is wrong runs on its own: one Knot DNS per offset.
    wrong_clocks = sorted({clock_of[b.origin] for b in child_builds if clock_of[b.origin]})
    on_pdns = [b for b in child_builds if served_by[b.origin] is Software.PDNS]
    authoritatives = (
        AuthoritativeInstance(
            "root", Software.BIND, (ROOT_SERVER.address,), (write_zone(directory, root),)
        ),
        AuthoritativeInstance(
            "tld",
            Software.KNOT,
            tuple(a for tld in tlds for a in tld.addresses),
            tuple(write_zone(directory, b.zone) for b in tld_builds if b.zone is not None),
        ),
        AuthoritativeInstance(
            "child-nsd",
            Software.NSD,
            _addresses(on_nsd, HostRole.PRIMARY),
            tuple(write_zone(directory, b.zone) for b in on_nsd if b.zone is not None),
        ),
        AuthoritativeInstance(
            "child-knot",
            Software.KNOT,
            _addresses(on_knot, HostRole.PRIMARY)
            + _addresses(child_builds, HostRole.STALE, HostRole.SECOND_SIGNER, HostRole.REFUSING),
            tuple(_served(directory, b, Software.KNOT) for b in on_knot if b.zone is not None)
            + tuple(
                write_zone(directory, b.second_copy, suffix=".second")
                for b in child_builds
                if b.second_copy is not None
            ),
        ),
        AuthoritativeInstance(
            "child-pdns",
            Software.PDNS,
            _addresses(on_pdns, HostRole.PRIMARY),
            tuple(_served(directory, b, Software.PDNS) for b in on_pdns if b.zone is not None),
        ),
        *(
            AuthoritativeInstance(
                f"child-knot-clock{offset:+d}",
                Software.KNOT,
                _addresses(skewed, HostRole.PRIMARY),
                tuple(_served(directory, b, Software.KNOT) for b in skewed if b.zone is not None),
                clock_offset=offset,
            )
            for offset in wrong_clocks
            for skewed in [[b for b in child_builds if clock_of[b.origin] == offset]]
        ),
        *bulk_instances,
    )
    ksk = root_keys.ksk
    return Hierarchy(
        authoritatives=authoritatives,
        resolvers=resolvers(ipv6=private_network),
        root_ksk=ksk,
        root_hints=(
            f".  {ROOT_HINTS_TTL}  IN  NS  {ROOT_SERVER.name}\n"
            f"{ROOT_SERVER.name}  {ROOT_HINTS_TTL}  IN  A  {ROOT_SERVER.address}\n"
        ),
        anchor_ds=f".  {ANCHOR_TTL}  IN  DS  {ksk.ds(ROOT)}\n",
        anchor_dnskey=f".  {ANCHOR_TTL}  IN  DNSKEY  {ksk.dnskey}\n",
        anchor_conf=_trust_anchors_clause(ksk),
        bulk_manifest=manifest,
        firewall=tuple(blocked for b in child_builds for blocked in b.blocked),
    )


def _trust_anchors_clause(ksk: KeyPair) -> str:
    ds = ksk.ds(ROOT)
    return (
        "trust-anchors {\n"
        f'    . static-ds {ds.key_tag} {ds.algorithm} {ds.digest_type} "{ds.digest.hex()}";\n'
        "};\n"
    )


def build_scenario(scenario: Scenario, index: int, now: int) -> list[ZoneBuild]:
    origin = dns.name.from_text(scenario.zone)
    context = BuildContext(now=now, index=index, parent=origin.parent(), software=scenario.software)
    return scenario.build(context, origin)


def delegate(parent: dns.zone.Zone, children: list[ZoneBuild]) -> None:
    """Add each child's NS, glue and DS to the parent zone (before it is signed)."""
    with parent.writer() as txn:
        for child in children:
            for host in child.hosts:
                txn.add(child.origin, catalogue.TTL, _rdata("NS", str(host.name)))
                if host.name.is_subdomain(child.origin):
                    txn.add(host.name, catalogue.TTL, _rdata(host.address_type, host.address))
            for ds in child.parent_ds:
                txn.add(child.origin, catalogue.DS_TTL, ds)


def write_zone(directory: Path, zone: dns.zone.Zone | None, *, suffix: str = "") -> ZoneFile:
    assert zone is not None and zone.origin is not None
    label = zone.origin.to_text(omit_final_dot=True) or "root"
    path = directory / f"{label}{suffix}.zone"
    zone.to_file(str(path), relativize=False, want_origin=True)
    return ZoneFile(zone.origin.to_text(), path)


def _served(directory: Path, built: ZoneBuild, software: Software) -> ZoneFile:
    """The zone file of ``built``, and for a zone signed online its key in the forms the
    server imports."""
    served = write_zone(directory, built.zone)
    if built.online_key is None:
        return served
    stem = served.path.with_suffix("")
    pem = stem.with_suffix(".pem")
    pem.write_bytes(built.online_key.private.to_pem())
    bind_private = stem.with_suffix(".private")
    bind_private.write_text(signing.bind_private_key(built.online_key), encoding="utf-8")
    online = OnlineSigning(
        pem, bind_private, int(built.online_key.algorithm), ONLINE_DENIAL[software]
    )
    return ZoneFile(served.origin, served.path, online)


def _addresses(builds: list[ZoneBuild], *roles: HostRole) -> tuple[str, ...]:
    return tuple(dict.fromkeys(h.address for b in builds for h in b.hosts if h.role in roles))


def _rdata(rdtype: str, text: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text("IN", rdtype, text)
