"""The catalogue of failure scenarios: each a zone of the lab broken on purpose.

A scenario declares what is broken, the question to ask, what a validating resolver
answers (rcode, AD flag, Extended DNS Error per implementation) and the diagnosis
dnssec-doctor must reach (verdict, EDE, the zone where the chain of trust breaks). Its
builder makes the zone(s) at build time, with keys and signature windows computed from
the moment the lab comes up, so that an "expired" scenario is expired now.

This module is the documentation of the failure classes: ``dnssec-doctor lab list``
prints it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.DS
import dns.rdtypes.ANY.NSEC
import dns.rdtypes.ANY.NSEC3
import dns.zone
from dns.dnssectypes import Algorithm, DSDigest
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.util import Bitmap

from dnssec_doctor.lab import signing
from dnssec_doctor.lab.servers import Software
from dnssec_doctor.lab.signing import NSEC, NSEC3, Denial, DenialKind, KeyPair, Window
from dnssec_doctor.model.verdict import Verdict

DAY = 86400
DATA_ADDRESS = "127.53.250.10"  # answer data only; nothing listens there and nothing asks it

TTL = 300
DS_TTL = 120
NEGATIVE_TTL = 60


class HostRole(enum.StrEnum):
    """What listens at an NS address of a scenario zone."""

    PRIMARY = "primary"  # serves the zone's main copy
    STALE = "stale"  # serves the second copy: an older one (a secondary that stopped transferring)
    # Serves the second copy: a second provider's, signed with its own keys (RFC 8901).
    SECOND_SIGNER = "second-signer"
    DEAD = "dead"  # nothing listens
    REFUSING = "refusing"  # a server that does not serve the zone: REFUSED


class Drop(enum.StrEnum):
    """What the lab's firewall drops on its way to a server address (nftables rules,
    added only in the lab's private network namespace): what a misconfigured firewall or
    middlebox in front of a real server does."""

    TCP = "tcp"  # TCP to port 53
    UDP = "udp"  # UDP to port 53
    # UDP queries for the zone's apex that carry EDNS version 1 (a middlebox that drops
    # EDNS it does not know, as many did before DNS flag day 2019)
    EDNS_VERSION_1 = "edns-version-1"


@dataclass(frozen=True)
class Blocked:
    address: str
    drop: Drop
    apex: dns.name.Name  # the zone whose server it is (EDNS_VERSION_1 matches its apex)


@dataclass(frozen=True)
class Host:
    """One address of a name server: a server with an IPv4 and an IPv6 address is two
    hosts of the same name."""

    name: dns.name.Name
    address: str  # IPv4, or IPv6 (only in a lab with IPv6)
    role: HostRole

    @property
    def address_type(self) -> str:
        return "AAAA" if ":" in self.address else "A"


@dataclass
class ZoneBuild:
    """One zone as the lab serves it, and what its parent publishes about it."""

    origin: dns.name.Name
    hosts: list[Host]
    zone: dns.zone.Zone | None  # the main copy (None: no server has it)
    # DS records, or opaque RDATA of type DS for a parent that publishes a malformed one.
    parent_ds: list[dns.rdata.Rdata] = field(default_factory=list)
    # What the STALE or SECOND_SIGNER host serves.
    second_copy: dns.zone.Zone | None = None
    # A fault in the parent zone about this child, applied after the parent is signed.
    parent_change: Callable[[dns.zone.Zone], None] | None = None
    # The server signs ``zone`` (unsigned in the file) at query time with this key, a CSK:
    # Knot DNS with compact denial, PowerDNS with NSEC3 narrow mode.
    online_key: KeyPair | None = None
    # What the lab's firewall drops on the way to the zone's servers.
    blocked: list[Blocked] = field(default_factory=list)


@dataclass(frozen=True)
class ResolverOutcome:
    """What a validating resolver answers for the scenario's question (caches empty)."""

    rcode: str
    ad: bool
    # The Extended DNS Error code each implementation attaches (None: none).
    ede: dict[str, int | None]
    # Implementations that answer otherwise: (rcode, AD) by implementation.
    differs: dict[str, tuple[str, bool]] = field(default_factory=dict)
    # Another answer (rcode, AD, EDE) an implementation gives on some runs: which one
    # depends on which of the zone's servers it happens to ask first. The EDE comes with
    # some of those answers, not all (measured: PowerDNS Recursor 4.8 on
    # multi-signer-zsk-missing, 100 runs with its caches wiped: 3 SERVFAIL, 2 of them with
    # EDE 6, 1 without): such an answer is this EDE or none.
    sometimes: dict[str, tuple[str, bool, int | None]] = field(default_factory=dict)

    def answer_of(self, software: str) -> tuple[str, bool]:
        """The (rcode, AD) that implementation answers."""
        return self.differs.get(software, (self.rcode, self.ad))


@dataclass(frozen=True)
class ExpectedDiagnosis:
    verdict: Verdict
    ede: int | None
    zone: str | None  # where the chain of trust breaks (or ends, when insecure)
    cause: str | None = None  # the primary finding code
    warnings: tuple[str, ...] = ()  # warning codes a healthy verdict must carry


@dataclass(frozen=True)
class BuildContext:
    """Inputs of every builder: the time the lab comes up and the scenario's addresses."""

    now: int
    index: int  # position in the catalogue: picks the scenario's addresses
    parent: dns.name.Name
    software: Software = Software.NSD  # which implementation serves the scenario's zone

    def window(self, start_days: float, end_days: float) -> Window:
        return Window(int(self.now + start_days * DAY), int(self.now + end_days * DAY))

    @property
    def valid(self) -> Window:
        return self.window(-1, 14)

    def address(self, block: int) -> str:
        """Block 2: NSD primaries; 3: Knot (primaries, stale copies, refusals);
        4: dead addresses; 5: extra zones; 8: PowerDNS primaries; 9: NSD primaries
        behind the lab's firewall."""
        return f"127.53.{block}.{self.index + 1}"

    def address6(self, block: int) -> str:
        """The IPv6 address of the same block (a lab with IPv6 only): fd53::BLOCK:N."""
        return f"fd53::{block}:{self.index + 1}"

    @property
    def primary_address(self) -> str:
        return self.address({Software.KNOT: 3, Software.PDNS: 8}.get(self.software, 2))


Builder = Callable[[BuildContext, dns.name.Name], list[ZoneBuild]]


@dataclass(frozen=True)
class Scenario:
    slug: str
    tld: str
    broken: str
    qname: str  # relative to the scenario zone ("@" for the apex)
    qtype: str
    resolver: ResolverOutcome
    diagnosis: ExpectedDiagnosis
    build: Builder = field(repr=False, compare=False)
    # NSD (and BIND) stop sending RRSIG and NSEC for a zone whose DNSKEY RRset is unsigned
    # or absent; Knot serves the file as it is.
    software: Software = Software.NSD
    # Needs the lab's private network namespace (servers on IPv6, firewall rules): built
    # only when the lab runs in one (``lab up`` says so).
    private_network: bool = False
    # Seconds the clock of the server that signs the zone online is off (ahead when
    # positive): the lab runs that server on its own, with the wrong clock.
    signer_clock_offset: int = 0

    @property
    def zone(self) -> str:
        return f"{self.slug}.{self.tld}"

    @property
    def query_name(self) -> str:
        return self.zone if self.qname == "@" else f"{self.qname}.{self.zone}"


# --- building blocks -------------------------------------------------------------------


def make_zone(
    origin: dns.name.Name, hosts: list[Host], *, serial: int, extra: str = "", data: bool = True
) -> dns.zone.Zone:
    """An unsigned zone with SOA, NS (and in-zone glue) for ``hosts``, and (with ``data``)
    the names a scenario is asked about."""
    lines = [
        f"$ORIGIN {origin}",
        f"$TTL {TTL}",
        f"@ SOA {hosts[0].name} hostmaster {serial} 3600 600 86400 {NEGATIVE_TTL}",
    ]
    for host in hosts:
        lines.append(f"@ NS {host.name}")
        if host.name.is_subdomain(origin):
            lines.append(f"{host.name} {host.address_type} {host.address}")
    if data:
        lines += [
            f"www A {DATA_ADDRESS}",
            'www TXT "dnssec-doctor lab"',
            f"mail A {DATA_ADDRESS}",
            "@ MX 10 mail",
        ]
    lines.append(extra)
    return dns.zone.from_text("\n".join(lines), origin=origin, relativize=False)


def primary_hosts(ctx: BuildContext, origin: dns.name.Name) -> list[Host]:
    return [Host(dns.name.from_text("ns1", origin), ctx.primary_address, HostRole.PRIMARY)]


@dataclass(frozen=True)
class Keys:
    ksk: KeyPair
    zsk: KeyPair

    @classmethod
    def generate(cls, algorithm: Algorithm = Algorithm.ECDSAP256SHA256) -> Keys:
        return cls(
            signing.generate_key(algorithm, ksk=True), signing.generate_key(algorithm, ksk=False)
        )

    def ds(self, origin: dns.name.Name) -> dns.rdtypes.ANY.DS.DS:
        return self.ksk.ds(origin)


def sign(
    zone: dns.zone.Zone,
    keys: Keys,
    window: Window,
    *,
    denial: Denial = NSEC,
    published: list[KeyPair] | None = None,
    dnskey_signers: list[KeyPair] | None = None,
    data_signers: list[KeyPair] | None = None,
    break_denial: Callable[[dns.zone.Zone], None] | None = None,
) -> None:
    """Sign ``zone`` the way a signer does, with each step open to a scenario's fault."""
    signing.publish_keys(zone, published if published is not None else [keys.ksk, keys.zsk], TTL)
    signing.add_denial_chain(zone, denial, ttl=NEGATIVE_TTL)
    if break_denial is not None:
        break_denial(zone)
    signing.sign_rrsets(
        zone,
        dnskey_signers=dnskey_signers if dnskey_signers is not None else [keys.ksk],
        data_signers=data_signers if data_signers is not None else [keys.zsk],
        window=window,
    )


def signed_scenario(
    *,
    window: Callable[[BuildContext], Window] = lambda ctx: ctx.valid,
    denial: Denial = NSEC,
    algorithm: Algorithm = Algorithm.ECDSAP256SHA256,
    extra: str = "",
) -> Builder:
    """A healthy signed zone with its DS at the parent."""

    def build(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
        hosts = primary_hosts(ctx, origin)
        zone = make_zone(origin, hosts, serial=ctx.now, extra=extra)
        keys = Keys.generate(algorithm)
        sign(zone, keys, window(ctx), denial=denial)
        return [ZoneBuild(origin, hosts, zone, [keys.ds(origin)])]

    return build


def mutated(
    change: Callable[
        [BuildContext, dns.name.Name, dns.zone.Zone, Keys], list[dns.rdata.Rdata] | None
    ],
) -> Builder:
    """A healthy signed zone, then ``change`` (which may return the DS set to publish)."""

    def build(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
        hosts = primary_hosts(ctx, origin)
        zone = make_zone(origin, hosts, serial=ctx.now)
        keys = Keys.generate()
        sign(zone, keys, ctx.valid)
        ds = change(ctx, origin, zone, keys)
        return [ZoneBuild(origin, hosts, zone, [keys.ds(origin)] if ds is None else ds)]

    return build


def _www(origin: dns.name.Name) -> dns.name.Name:
    return dns.name.from_text("www", origin)


# --- scenario builders ----------------------------------------------------------------------


def build_unsigned(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    hosts = primary_hosts(ctx, origin)
    return [ZoneBuild(origin, hosts, make_zone(origin, hosts, serial=ctx.now))]


def build_no_ds(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    [built] = signed_scenario()(ctx, origin)
    built.parent_ds = []
    return [built]


def _ds_bad_digest(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> list[dns.rdata.Rdata]:
    good = keys.ds(origin)
    return [signing.altered_ds(good, digest=signing.flipped(good.digest))]


def _ds_stale(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> list[dns.rdata.Rdata]:
    retired = signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=True)
    return [retired.ds(origin)]


def _ds_stale_beside_valid(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> list[dns.rdata.Rdata]:
    retired = signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=True)
    return [keys.ds(origin), retired.ds(origin)]


def _ds_wrong_algorithm(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> list[dns.rdata.Rdata]:
    good = keys.ds(origin)
    # What a provider migration leaves behind: the old provider's RSASHA256 key's DS.
    return [signing.altered_ds(good, algorithm=Algorithm.RSASHA256)]


def _ds_unsupported_digest(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> list[dns.rdata.Rdata]:
    good = keys.ds(origin)
    # GOST R 34.11-94 (digest type 3): no current validator implements it (RFC 8624).
    return [signing.altered_ds(good, digest_type=DSDigest.GOST)]


def _short_ds(ds: dns.rdtypes.ANY.DS.DS) -> dns.rdata.Rdata:
    """``ds`` with its digest cut to 20 bytes, as opaque RDATA: a SHA-256 DS pasted short
    at the registrar (dnspython refuses to build such a DS, the parent serves it)."""
    return dns.rdata.GenericRdata(ds.rdclass, ds.rdtype, ds.to_digestable()[:24])


def _ds_malformed(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> list[dns.rdata.Rdata]:
    return [_short_ds(keys.ds(origin))]


def _ds_malformed_beside_valid(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> list[dns.rdata.Rdata]:
    retired = signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=True)
    return [keys.ds(origin), _short_ds(retired.ds(origin))]


def build_unproven_insecure(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    """An unsigned child whose parent's NSEC proving "no DS" carries a corrupt signature:
    the parent's signer broke one record of its chain."""

    def corrupt_proof(parent: dns.zone.Zone) -> None:
        signing.replace_signatures(parent, origin, dns.rdatatype.NSEC, signing.corrupt_signature)

    [built] = build_unsigned(ctx, origin)
    built.parent_change = corrupt_proof
    return [built]


def _rrsig_window_inverted(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> None:
    """www/A signed by the ZSK with the window's two ends swapped: valid at no moment."""
    owner = _www(origin)
    rdataset = zone.get_rdataset(owner, dns.rdatatype.A)
    assert rdataset is not None
    signing.remove_signatures(zone, owner, dns.rdatatype.A)
    valid = ctx.valid
    signing.sign_rdataset(
        zone, owner, rdataset, [keys.zsk], Window(valid.expiration, valid.inception)
    )
    return None


def build_ksk_not_zone_key(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    """The KSK is published with flags 1 (SEP only, the Zone Key bit clear), signs the
    DNSKEY RRset, and the DS names it."""
    hosts = primary_hosts(ctx, origin)
    zone = make_zone(origin, hosts, serial=ctx.now)
    keys = Keys.generate()
    flagless = keys.ksk.dnskey.replace(flags=1)
    assert isinstance(flagless, DNSKEY)
    bad = KeyPair(keys.ksk.private, flagless)
    sign(zone, keys, ctx.valid, published=[bad, keys.zsk], dnskey_signers=[bad])
    return [ZoneBuild(origin, hosts, zone, [bad.ds(origin)])]


def _ds_sha1_only(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> list[dns.rdata.Rdata]:
    return [keys.ksk.ds(origin, DSDigest.SHA1)]


def build_ksk_revoked(ds_over_revoked: bool) -> Builder:
    """The only KSK carries the REVOKE flag (RFC 5011) and signs the DNSKEY RRset; the DS
    is computed over the key as it was before revocation, or over the revoked key."""

    def build(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
        hosts = primary_hosts(ctx, origin)
        zone = make_zone(origin, hosts, serial=ctx.now)
        keys = Keys.generate()
        flagged = keys.ksk.dnskey.replace(flags=keys.ksk.dnskey.flags | 0x80)
        assert isinstance(flagged, DNSKEY)
        revoked = KeyPair(keys.ksk.private, flagged)
        sign(zone, keys, ctx.valid, published=[revoked, keys.zsk], dnskey_signers=[revoked])
        ds = revoked.ds(origin) if ds_over_revoked else keys.ds(origin)
        return [ZoneBuild(origin, hosts, zone, [ds])]

    return build


def build_algorithm_rollover(old_signatures: bool) -> Builder:
    """An algorithm rollover from RSASHA256 (8) to ECDSA P-256 (13) half done: both
    algorithms' keys are published and the DS at the parent is still the old algorithm's.
    Done right, every RRset is signed with both algorithms (RFC 6781 section 4.1.4); the
    classic mistake removes the old algorithm's signatures while its DS remains."""

    def build(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
        hosts = primary_hosts(ctx, origin)
        zone = make_zone(origin, hosts, serial=ctx.now)
        old = Keys.generate(Algorithm.RSASHA256)
        new = Keys.generate(Algorithm.ECDSAP256SHA256)
        signers = [old, new] if old_signatures else [new]
        sign(
            zone,
            new,
            ctx.valid,
            published=[old.ksk, old.zsk, new.ksk, new.zsk],
            dnskey_signers=[k.ksk for k in signers],
            data_signers=[k.zsk for k in signers],
        )
        return [ZoneBuild(origin, hosts, zone, [old.ds(origin)])]

    return build


def build_multi_signer(complete: bool) -> Builder:
    """Two providers serve the zone (RFC 8901 model 2): ns1 (provider A) and ns2 (provider
    B) each sign their copy with their own KSK and ZSK, each copy's DNSKEY RRset publishes
    both ZSKs, and the parent has a DS for each KSK. Broken: provider B's DNSKEY RRset
    leaves out provider A's ZSK, so a resolver that takes the DNSKEY RRset from ns2 and the
    data from ns1 finds no key for ns1's signatures."""

    def build(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
        hosts = [
            Host(dns.name.from_text("ns1", origin), ctx.primary_address, HostRole.PRIMARY),
            Host(dns.name.from_text("ns2", origin), ctx.address(3), HostRole.SECOND_SIGNER),
        ]
        a, b = Keys.generate(), Keys.generate()
        copy_a = make_zone(origin, hosts, serial=ctx.now)
        sign(copy_a, a, ctx.valid, published=[a.ksk, a.zsk, b.zsk])
        copy_b = make_zone(origin, hosts, serial=ctx.now)
        sign(copy_b, b, ctx.valid, published=[b.ksk, b.zsk, a.zsk] if complete else [b.ksk, b.zsk])
        return [ZoneBuild(origin, hosts, copy_a, [a.ds(origin), b.ds(origin)], second_copy=copy_b)]

    return build


def build_online_signed(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    """An unsigned zone file that the server (Knot DNS or PowerDNS) signs at query time
    with one key whose DS the parent has: denial is made up for each question."""
    hosts = primary_hosts(ctx, origin)
    zone = make_zone(origin, hosts, serial=ctx.now)
    csk = signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=True)
    return [ZoneBuild(origin, hosts, zone, [csk.ds(origin)], online_key=csk)]


def build_redirects(records: str) -> Builder:
    """A healthy signed zone whose names are only ``records`` (CNAME chains)."""

    def build(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
        hosts = primary_hosts(ctx, origin)
        zone = make_zone(origin, hosts, serial=ctx.now, extra=records, data=False)
        keys = Keys.generate()
        sign(zone, keys, ctx.valid)
        return [ZoneBuild(origin, hosts, zone, [keys.ds(origin)])]

    return build


def build_ds_unsigned_zone(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    hosts = primary_hosts(ctx, origin)
    zone = make_zone(origin, hosts, serial=ctx.now)
    keys = Keys.generate()  # the key the zone was signed with before signing was turned off
    return [ZoneBuild(origin, hosts, zone, [keys.ds(origin)])]


def _only_dnskey_signature_expired(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> None:
    signing.remove_signatures(zone, origin, dns.rdatatype.DNSKEY)
    dnskeys = zone.get_rdataset(origin, dns.rdatatype.DNSKEY)
    assert dnskeys is not None
    signing.sign_rdataset(zone, origin, dnskeys, [keys.ksk], ctx.window(-30, -10))
    return None


def _dnskey_signed_by_zsk_only(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> None:
    signing.remove_signatures(zone, origin, dns.rdatatype.DNSKEY)
    dnskeys = zone.get_rdataset(origin, dns.rdatatype.DNSKEY)
    assert dnskeys is not None
    signing.sign_rdataset(zone, origin, dnskeys, [keys.zsk], ctx.valid)
    return None


def _dnskey_missing(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> None:
    zone.delete_rdataset(origin, dns.rdatatype.DNSKEY)
    signing.remove_signatures(zone, origin, dns.rdatatype.DNSKEY)
    return None


def build_zsk_unpublished(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    hosts = primary_hosts(ctx, origin)
    zone = make_zone(origin, hosts, serial=ctx.now)
    keys = Keys.generate()
    # The ZSK signs the data but the DNSKEY RRset publishes only the KSK.
    sign(zone, keys, ctx.valid, published=[keys.ksk])
    return [ZoneBuild(origin, hosts, zone, [keys.ds(origin)])]


def _rrsig_missing(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> None:
    signing.remove_signatures(zone, _www(origin), dns.rdatatype.A)
    return None


def _rrsig_corrupt(
    ctx: BuildContext, origin: dns.name.Name, zone: dns.zone.Zone, keys: Keys
) -> None:
    signing.replace_signatures(zone, _www(origin), dns.rdatatype.A, signing.corrupt_signature)
    return None


def _break_nsec(zone: dns.zone.Zone) -> None:
    """Each NSEC claims every common type and covers no name: no denial proves anything."""
    everything = [
        dns.rdatatype.from_text(t)
        for t in ("A", "NS", "SOA", "MX", "TXT", "AAAA", "RRSIG", "NSEC", "DNSKEY")
    ]
    for name, node in list(zone.nodes.items()):
        rdataset = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC)
        if rdataset is None:
            continue
        successor = dns.name.Name((b"\x00", *name.labels))
        broken = dns.rdtypes.ANY.NSEC.NSEC(
            dns.rdataclass.IN,
            dns.rdatatype.NSEC,
            successor,
            Bitmap.from_rdtypes(sorted(everything)).windows,
        )
        zone.replace_rdataset(name, signing.rdataset_of(broken, rdataset.ttl))


def _break_nsec3(zone: dns.zone.Zone) -> None:
    """Each NSEC3 claims every common type and covers no hash: no denial proves anything."""
    everything = [
        dns.rdatatype.from_text(t)
        for t in ("A", "NS", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY", "NSEC3PARAM")
    ]
    for name, node in list(zone.nodes.items()):
        rdataset = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC3)
        if rdataset is None:
            continue
        [nsec3] = list(rdataset)
        own_hash = signing.b32_label_to_digest(name.labels[0])
        successor = (int.from_bytes(own_hash, "big") + 1).to_bytes(len(own_hash), "big")
        broken = nsec3.replace(
            next=successor, windows=Bitmap.from_rdtypes(sorted(everything)).windows
        )
        zone.replace_rdataset(name, signing.rdataset_of(broken, rdataset.ttl))


def build_broken_denial(denial: Denial) -> Builder:
    breaker = _break_nsec if denial.kind is DenialKind.NSEC else _break_nsec3

    def build(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
        hosts = primary_hosts(ctx, origin)
        zone = make_zone(origin, hosts, serial=ctx.now)
        keys = Keys.generate()
        sign(zone, keys, ctx.valid, denial=denial, break_denial=breaker)
        return [ZoneBuild(origin, hosts, zone, [keys.ds(origin)])]

    return build


def build_stale_secondary(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    hosts = [
        Host(dns.name.from_text("ns1", origin), ctx.primary_address, HostRole.PRIMARY),
        Host(dns.name.from_text("ns2", origin), ctx.address(3), HostRole.STALE),
    ]
    keys = Keys.generate()
    zone = make_zone(origin, hosts, serial=ctx.now)
    sign(zone, keys, ctx.valid)
    # The copy ns2 kept from three weeks ago: older serial, signatures long expired.
    stale = make_zone(origin, hosts, serial=ctx.now - 21 * DAY)
    sign(stale, keys, ctx.window(-35, -7))
    return [ZoneBuild(origin, hosts, zone, [keys.ds(origin)], second_copy=stale)]


def build_dual_stack(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    """A healthy signed zone whose one server has an IPv4 and an IPv6 address: glue of
    both families at the parent."""
    name = dns.name.from_text("ns1", origin)
    hosts = [
        Host(name, ctx.primary_address, HostRole.PRIMARY),
        Host(name, ctx.address6(2), HostRole.PRIMARY),
    ]
    zone = make_zone(origin, hosts, serial=ctx.now)
    keys = Keys.generate()
    sign(zone, keys, ctx.valid)
    return [ZoneBuild(origin, hosts, zone, [keys.ds(origin)])]


def build_stale_secondary_ipv6(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    """ns1 (IPv4 and IPv6) serves the zone correctly; ns2, reachable over IPv6 only, serves
    a three-week-old copy whose signatures have expired."""
    ns1 = dns.name.from_text("ns1", origin)
    hosts = [
        Host(ns1, ctx.primary_address, HostRole.PRIMARY),
        Host(ns1, ctx.address6(2), HostRole.PRIMARY),
        Host(dns.name.from_text("ns2", origin), ctx.address6(3), HostRole.STALE),
    ]
    keys = Keys.generate()
    zone = make_zone(origin, hosts, serial=ctx.now)
    sign(zone, keys, ctx.valid)
    stale = make_zone(origin, hosts, serial=ctx.now - 21 * DAY)
    sign(stale, keys, ctx.window(-35, -7))
    return [ZoneBuild(origin, hosts, zone, [keys.ds(origin)], second_copy=stale)]


def build_firewalled(drop: Drop, *, second_server: bool = False) -> Builder:
    """A healthy signed zone served by NSD, whose server at 127.53.9.N sits behind a
    firewall that drops ``drop``; with ``second_server``, ns1 at the usual address answers
    normally and the firewalled one is ns2."""

    def build(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
        firewalled = ctx.address(9)
        names = ["ns1", "ns2"] if second_server else ["ns1"]
        addresses = [ctx.primary_address, firewalled] if second_server else [firewalled]
        hosts = [
            Host(dns.name.from_text(name, origin), address, HostRole.PRIMARY)
            for name, address in zip(names, addresses, strict=True)
        ]
        zone = make_zone(origin, hosts, serial=ctx.now)
        keys = Keys.generate()
        sign(zone, keys, ctx.valid)
        built = ZoneBuild(origin, hosts, zone, [keys.ds(origin)])
        built.blocked.append(Blocked(firewalled, drop, origin))
        return [built]

    return build


def build_cname_into_broken(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    target_origin = dns.name.from_text("cname-target.mirror.")
    target_hosts = [
        Host(dns.name.from_text("ns1", target_origin), ctx.address(5), HostRole.PRIMARY)
    ]
    target = make_zone(target_origin, target_hosts, serial=ctx.now)
    target_keys = Keys.generate()
    sign(target, target_keys, ctx.window(-30, -10))  # every signature expired
    hosts = primary_hosts(ctx, origin)
    zone = make_zone(origin, hosts, serial=ctx.now, extra=f"app CNAME www.{target_origin}")
    keys = Keys.generate()
    sign(zone, keys, ctx.valid)
    return [
        ZoneBuild(origin, hosts, zone, [keys.ds(origin)]),
        ZoneBuild(target_origin, target_hosts, target, [target_keys.ds(target_origin)]),
    ]


def build_wildcard(proof: bool) -> Builder:
    def build(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
        hosts = primary_hosts(ctx, origin)
        zone = make_zone(origin, hosts, serial=ctx.now, extra=f"* A {DATA_ADDRESS}")
        keys = Keys.generate()
        sign(zone, keys, ctx.valid)
        if not proof:
            # The NSEC that proves no closer name matches the query is gone.
            for name in list(zone.nodes):
                covering = zone.get_rdataset(name, dns.rdatatype.NSEC)
                if covering is not None and _covers(
                    name, covering, dns.name.from_text("anything", origin)
                ):
                    zone.delete_rdataset(name, dns.rdatatype.NSEC)
                    signing.remove_signatures(zone, name, dns.rdatatype.NSEC)
        return [ZoneBuild(origin, hosts, zone, [keys.ds(origin)])]

    return build


def _covers(owner: dns.name.Name, rdataset: dns.rdataset.Rdataset, qname: dns.name.Name) -> bool:
    [nsec] = list(rdataset)
    following: dns.name.Name = nsec.next
    return bool(owner < qname < following) or (
        following <= owner and (qname > owner or qname < following)
    )


def build_lame(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    hosts = [Host(dns.name.from_text("ns1", origin), ctx.address(4), HostRole.DEAD)]
    zone = make_zone(origin, hosts, serial=ctx.now)
    keys = Keys.generate()
    sign(zone, keys, ctx.valid)
    return [ZoneBuild(origin, hosts, None, [keys.ds(origin)])]


def build_refused(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    hosts = [Host(dns.name.from_text("ns1", origin), ctx.address(3), HostRole.REFUSING)]
    keys = Keys.generate()
    return [ZoneBuild(origin, hosts, None, [keys.ds(origin)])]


def build_dead_second_ns(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    hosts = [
        Host(dns.name.from_text("ns1", origin), ctx.primary_address, HostRole.PRIMARY),
        Host(dns.name.from_text("ns2", origin), ctx.address(4), HostRole.DEAD),
    ]
    zone = make_zone(origin, hosts, serial=ctx.now)
    keys = Keys.generate()
    sign(zone, keys, ctx.valid)
    return [ZoneBuild(origin, hosts, zone, [keys.ds(origin)])]


def build_healthy_under_broken_tld(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    return signed_scenario()(ctx, origin)


# A DNAME target of 201 octets: below it a 63-octet label makes a 265-octet name.
LONG_DNAME_TARGET = ".".join(c * 63 for c in "xyz") + ".example."
HOSTILE_LABEL = "<script>alert(1)</script>"
HOSTILE_TXT = (
    b"<img src=x onerror=alert(1)>",
    b'"><script>alert(2)</script><b>bold</b>',
    "é ü 中文 🔐 non-ASCII".encode(),
    b"\xff\xfe\x00 raw bytes & <!-- comment -->",
)


def build_hostile_strings(ctx: BuildContext, origin: dns.name.Name) -> list[ZoneBuild]:
    """Strings a web page must show as text: HTML and script in an owner name and TXT
    data, labels of 63 octets (one in the server's name), non-ASCII bytes; the TXT is
    served unsigned, so the report quotes it as the evidence."""
    long_label = "x" * 63
    # The TLD's server (Knot) does not load "<" in a delegation's NS name: the markup
    # stays inside this zone, on NSD.
    server = dns.name.Name((b"ns1", long_label.encode(), *origin.labels))
    hosts = [Host(server, ctx.primary_address, HostRole.PRIMARY)]
    zone = make_zone(origin, hosts, serial=ctx.now)
    owner = dns.name.from_text(HOSTILE_LABEL, origin)
    txt = dns.rdata.from_wire(
        "IN",
        "TXT",
        b"".join(bytes([len(part)]) + part for part in HOSTILE_TXT),
        0,
        sum(1 + len(part) for part in HOSTILE_TXT),
    )
    zone.replace_rdataset(owner, signing.rdataset_of(txt, TTL))
    utf8 = dns.name.Name(("é-ü".encode(), long_label.encode(), *origin.labels))
    zone.replace_rdataset(utf8, signing.rdataset_of(txt, TTL))
    keys = Keys.generate()
    sign(zone, keys, ctx.valid)
    signing.remove_signatures(zone, owner, dns.rdatatype.TXT)
    return [ZoneBuild(origin, hosts, zone, [keys.ds(origin)])]


# --- the catalogue ----------------------------------------------------------------------------

UNBOUND, BIND, KRESD, PDNS_RECURSOR = "unbound", "bind", "kresd", "pdns-recursor"


def outcome(
    rcode: str,
    ad: bool,
    *,
    unbound: int | None = None,
    kresd: int | None = None,
    bind: int | None = None,
    pdns: int | None = None,
    differs: dict[str, tuple[str, bool]] | None = None,
    sometimes: dict[str, tuple[str, bool, int | None]] | None = None,
) -> ResolverOutcome:
    return ResolverOutcome(
        rcode,
        ad,
        {UNBOUND: unbound, BIND: bind, KRESD: kresd, PDNS_RECURSOR: pdns},
        differs or {},
        sometimes or {},
    )


SECURE = outcome("NOERROR", True)
INSECURE = outcome("NOERROR", False)


def diagnosis(
    verdict: Verdict,
    ede: int | None = None,
    zone: str | None = None,
    *,
    cause: str | None = None,
    warnings: tuple[str, ...] = (),
) -> ExpectedDiagnosis:
    return ExpectedDiagnosis(verdict, ede, zone, cause, warnings)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "secure-nsec",
        "lab.",
        "nothing: signed with ECDSA P-256, NSEC, DS at the parent",
        "www",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE),
        signed_scenario(),
    ),
    Scenario(
        "secure-nsec3",
        "lab.",
        "nothing: signed with NSEC3 (iterations 0, no salt, RFC 9276)",
        "nonexistent",
        "A",
        outcome("NXDOMAIN", True),
        diagnosis(Verdict.SECURE),
        signed_scenario(denial=NSEC3),
        software=Software.KNOT,
    ),
    Scenario(
        "unsigned",
        "lab.",
        "nothing: the zone is not signed and the parent has no DS",
        "www",
        "A",
        INSECURE,
        diagnosis(Verdict.INSECURE, None, "unsigned.lab.", cause="ZONE_UNSIGNED"),
        build_unsigned,
    ),
    Scenario(
        "no-ds",
        "lab.",
        "the zone is signed but the parent has no DS: validators treat it as unsigned",
        "www",
        "A",
        INSECURE,
        diagnosis(Verdict.INSECURE, None, "no-ds.lab.", cause="DS_MISSING_FOR_SIGNED_ZONE"),
        build_no_ds,
    ),
    Scenario(
        "ds-bad-digest",
        "lab.",
        "the DS at the parent has a wrongly copied digest",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=9, kresd=6, pdns=9),
        diagnosis(Verdict.BOGUS, 9, "ds-bad-digest.lab.", cause="DS_DIGEST_MISMATCH"),
        mutated(_ds_bad_digest),
    ),
    Scenario(
        "ds-stale",
        "lab.",
        "the only DS names a KSK retired in a rollover",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=9, kresd=6, pdns=9),
        diagnosis(Verdict.BOGUS, 9, "ds-stale.lab.", cause="DS_NO_MATCHING_KEY"),
        mutated(_ds_stale),
    ),
    Scenario(
        "ds-stale-extra",
        "lab.",
        "a stale DS for a retired KSK beside the valid DS",
        "www",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE, warnings=("DS_STALE",)),
        mutated(_ds_stale_beside_valid),
    ),
    Scenario(
        "ds-wrong-algorithm",
        "lab.",
        "the DS names algorithm 8 (RSASHA256); the zone's keys are algorithm 13",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=9, kresd=6, pdns=9),
        diagnosis(Verdict.BOGUS, 9, "ds-wrong-algorithm.lab.", cause="DS_ALGORITHM_MISMATCH"),
        mutated(_ds_wrong_algorithm),
    ),
    Scenario(
        "ds-unsupported-digest",
        "lab.",
        "the only DS uses digest type 3 (GOST), which validators do not implement",
        "www",
        "A",
        outcome("NOERROR", False, kresd=0),
        diagnosis(Verdict.INSECURE, 2, "ds-unsupported-digest.lab.", cause="DS_DIGEST_UNSUPPORTED"),
        mutated(_ds_unsupported_digest),
    ),
    Scenario(
        "ds-unsigned-zone",
        "lab.",
        "signing was turned off but the DS was left at the parent",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=9, kresd=12, pdns=10),
        diagnosis(Verdict.BOGUS, 9, "ds-unsigned-zone.lab.", cause="DS_FOR_UNSIGNED_ZONE"),
        build_ds_unsigned_zone,
    ),
    Scenario(
        "rrsig-expired",
        "lab.",
        "every RRSIG expired ten days ago: the signer stopped",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=7, kresd=7, pdns=7),
        diagnosis(Verdict.BOGUS, 7, "rrsig-expired.lab.", cause="RRSIG_EXPIRED"),
        signed_scenario(window=lambda ctx: ctx.window(-30, -10)),
    ),
    Scenario(
        "rrsig-not-yet-valid",
        "lab.",
        "every RRSIG's inception is ten days in the future",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=8, kresd=8, pdns=8),
        diagnosis(Verdict.BOGUS, 8, "rrsig-not-yet-valid.lab.", cause="RRSIG_NOT_YET_VALID"),
        signed_scenario(window=lambda ctx: ctx.window(10, 40)),
    ),
    Scenario(
        "rrsig-missing",
        "lab.",
        "www A is served without any RRSIG",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=10, kresd=10, pdns=10),
        diagnosis(Verdict.BOGUS, 10, "rrsig-missing.lab.", cause="RRSIG_MISSING"),
        mutated(_rrsig_missing),
    ),
    Scenario(
        "rrsig-corrupt",
        "lab.",
        "the signature bytes of the RRSIG over www A are corrupted",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=6, kresd=6, pdns=6),
        diagnosis(Verdict.BOGUS, 6, "rrsig-corrupt.lab.", cause="RRSIG_BAD_SIGNATURE"),
        mutated(_rrsig_corrupt),
    ),
    Scenario(
        "dnskey-sig-expired",
        "lab.",
        "only the RRSIG over the DNSKEY RRset has expired",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=7, kresd=7, pdns=7),
        diagnosis(Verdict.BOGUS, 7, "dnskey-sig-expired.lab.", cause="RRSIG_EXPIRED"),
        mutated(_only_dnskey_signature_expired),
    ),
    Scenario(
        "dnskey-not-signed-by-ksk",
        "lab.",
        "the DNSKEY RRset is signed by the ZSK only, not by the KSK the DS names",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=10, kresd=6, pdns=9),
        diagnosis(
            Verdict.BOGUS, 10, "dnskey-not-signed-by-ksk.lab.", cause="DNSKEY_NOT_SIGNED_BY_DS_KEY"
        ),
        mutated(_dnskey_signed_by_zsk_only),
    ),
    Scenario(
        "dnskey-missing",
        "lab.",
        "the zone serves no DNSKEY RRset while the parent has a DS",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=9, kresd=6, pdns=9),
        diagnosis(Verdict.BOGUS, 9, "dnskey-missing.lab.", cause="DNSKEY_MISSING"),
        mutated(_dnskey_missing),
        software=Software.KNOT,
    ),
    Scenario(
        "zsk-unpublished",
        "lab.",
        "the data is signed by a ZSK that the DNSKEY RRset does not publish",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=9, kresd=6),
        diagnosis(Verdict.BOGUS, 9, "zsk-unpublished.lab.", cause="RRSIG_NO_MATCHING_KEY"),
        build_zsk_unpublished,
    ),
    Scenario(
        "nsec-broken",
        "lab.",
        "NSEC records cover no names and list every type: NXDOMAIN and NODATA proofs fail",
        "nonexistent",
        "A",
        outcome("SERVFAIL", False, unbound=6, kresd=12),
        diagnosis(Verdict.BOGUS, 12, "nsec-broken.lab.", cause="NXDOMAIN_PROOF_INVALID"),
        build_broken_denial(NSEC),
    ),
    Scenario(
        "nsec3-broken",
        "lab.",
        "NSEC3 records cover no hashes and list every type: denial proofs fail",
        "nonexistent",
        "A",
        outcome("SERVFAIL", False, unbound=6, kresd=12),
        diagnosis(Verdict.BOGUS, 12, "nsec3-broken.lab.", cause="NXDOMAIN_PROOF_INVALID"),
        build_broken_denial(NSEC3),
    ),
    Scenario(
        "nsec3-iterations",
        "lab.",
        "NSEC3 with 200 iterations, above validators' limit (RFC 9276)",
        "nonexistent",
        "A",
        outcome("NXDOMAIN", False),
        diagnosis(
            Verdict.INSECURE, 27, "nsec3-iterations.lab.", cause="NSEC3_ITERATIONS_EXCESSIVE"
        ),
        signed_scenario(denial=Denial(kind=DenialKind.NSEC3, iterations=200)),
    ),
    Scenario(
        "unsupported-algorithm",
        "lab.",
        "signed only with RSAMD5 (algorithm 1), which validators no longer support",
        "www",
        "A",
        outcome("NOERROR", False, kresd=0),
        diagnosis(
            Verdict.INSECURE, 1, "unsupported-algorithm.lab.", cause="DNSKEY_ALGORITHM_UNSUPPORTED"
        ),
        signed_scenario(algorithm=Algorithm.RSAMD5),
    ),
    Scenario(
        "stale-secondary",
        "lab.",
        "ns2 serves a three-week-old copy whose signatures have expired; ns1 is fine",
        "www",
        "A",
        # Unbound, BIND and Knot Resolver retry ns1; PowerDNS Recursor 4.8 fails when it
        # asks ns2 first (most runs on a fresh lab, not all).
        outcome("NOERROR", True, sometimes={PDNS_RECURSOR: ("SERVFAIL", False, 7)}),
        diagnosis(Verdict.PARTIAL, 7, "stale-secondary.lab.", cause="SERVER_STALE_COPY"),
        build_stale_secondary,
    ),
    Scenario(
        "expiring-soon",
        "lab.",
        "every signature expires in 36 hours",
        "www",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE, warnings=("RRSIG_EXPIRES_SOON",)),
        signed_scenario(window=lambda ctx: ctx.window(-12, 1.5)),
    ),
    Scenario(
        "cname-into-broken",
        "lab.",
        "app is a CNAME into cname-target.mirror., whose signatures expired",
        "app",
        "A",
        outcome("SERVFAIL", False, unbound=7, kresd=7, pdns=7),
        diagnosis(Verdict.BOGUS, 7, "cname-target.mirror.", cause="RRSIG_EXPIRED"),
        build_cname_into_broken,
    ),
    Scenario(
        "healthy",
        "brokentld.",
        "the TLD brokentld.'s DS in the root has a wrong digest; this child is healthy",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=9, kresd=6, pdns=9),
        diagnosis(Verdict.BOGUS, 9, "brokentld.", cause="DS_DIGEST_MISMATCH"),
        build_healthy_under_broken_tld,
    ),
    Scenario(
        "wildcard",
        "lab.",
        "nothing: a wildcard answer with its NSEC proof",
        "anything",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE),
        build_wildcard(proof=True),
    ),
    Scenario(
        "wildcard-no-proof",
        "lab.",
        "a wildcard answer served without the NSEC proving no closer name exists",
        "anything",
        "A",
        outcome("SERVFAIL", False, unbound=6, kresd=6, pdns=12),
        diagnosis(Verdict.BOGUS, 12, "wildcard-no-proof.lab.", cause="WILDCARD_PROOF_MISSING"),
        build_wildcard(proof=False),
    ),
    Scenario(
        "lame",
        "lab.",
        "the only NS address has no server listening",
        "www",
        "A",
        # PowerDNS Recursor sets AD on the SERVFAIL (the records above the zone validated).
        outcome("SERVFAIL", False, differs={PDNS_RECURSOR: ("SERVFAIL", True)}),
        diagnosis(Verdict.UNREACHABLE, 22, "lame.lab.", cause="ZONE_UNREACHABLE"),
        build_lame,
    ),
    Scenario(
        "refused",
        "lab.",
        "the only NS answers REFUSED: it does not serve the zone",
        "www",
        "A",
        # PowerDNS Recursor sets AD on the SERVFAIL (the records above the zone validated).
        outcome("SERVFAIL", False, differs={PDNS_RECURSOR: ("SERVFAIL", True)}),
        diagnosis(Verdict.UNREACHABLE, 22, "refused.lab.", cause="ZONE_UNREACHABLE"),
        build_refused,
    ),
    Scenario(
        "dead-second-ns",
        "lab.",
        "ns2 is dead; ns1 serves the zone correctly",
        "www",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE, warnings=("SERVER_UNRESPONSIVE",)),
        build_dead_second_ns,
    ),
    Scenario(
        "hostile-strings",
        "lab.",
        "HTML, script, 63-octet labels and non-ASCII bytes in names and TXT; the TXT is unsigned",
        HOSTILE_LABEL,
        "TXT",
        outcome("SERVFAIL", False, unbound=10, kresd=10, pdns=10),
        diagnosis(Verdict.BOGUS, 10, "hostile-strings.lab.", cause="RRSIG_MISSING"),
        build_hostile_strings,
    ),
    # New scenarios go last: a scenario's addresses follow its position.
    Scenario(
        "ds-malformed",
        "lab.",
        "the only DS is a SHA-256 DS whose digest was cut to 20 bytes: it matches no key",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=9, kresd=6, pdns=9),
        diagnosis(Verdict.BOGUS, 9, "ds-malformed.lab.", cause="DS_MALFORMED"),
        mutated(_ds_malformed),
    ),
    Scenario(
        "unproven-insecure",
        "lab.",
        "an unsigned zone whose parent's NSEC proving that it has no DS has a corrupt signature",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=9, kresd=6),
        diagnosis(Verdict.BOGUS, 12, "lab.", cause="INSECURE_DELEGATION_UNPROVEN"),
        build_unproven_insecure,
    ),
    Scenario(
        "cname-loop",
        "lab.",
        "www is a CNAME to loop, and loop a CNAME back to www: no end with data",
        "www",
        "A",
        # BIND and PowerDNS Recursor set AD on their SERVFAIL: the records they did
        # validate were signed.
        outcome(
            "SERVFAIL",
            False,
            bind=0,
            differs={BIND: ("SERVFAIL", True), PDNS_RECURSOR: ("SERVFAIL", True)},
        ),
        diagnosis(Verdict.UNREACHABLE, None, "cname-loop.lab.", cause="REDIRECT_LOOP"),
        build_redirects("www CNAME loop\nloop CNAME www"),
    ),
    Scenario(
        "cname-chain-long",
        "lab.",
        "www reaches its address through 12 CNAMEs: Unbound and BIND give up after 11, "
        "Knot Resolver and PowerDNS Recursor follow",
        "www",
        "A",
        outcome(
            "SERVFAIL",
            False,
            bind=0,
            differs={
                BIND: ("SERVFAIL", True),
                KRESD: ("NOERROR", True),
                PDNS_RECURSOR: ("NOERROR", True),
            },
        ),
        diagnosis(
            Verdict.UNREACHABLE, None, "cname-chain-long.lab.", cause="REDIRECT_CHAIN_TOO_LONG"
        ),
        build_redirects(
            "\n".join(
                ["www CNAME hop1"]
                + [f"hop{n} CNAME hop{n + 1}" for n in range(1, 12)]
                + [f"hop12 A {DATA_ADDRESS}"]
            )
        ),
    ),
    Scenario(
        "rrsig-window-inverted",
        "lab.",
        "the RRSIG over www/A expires (yesterday) before its inception (in 14 days)",
        "www",
        "A",
        # Neither sends EDE 25 (RFC 8914's code for it): Unbound 8, Knot Resolver 7.
        outcome("SERVFAIL", False, unbound=8, kresd=7, pdns=8),
        diagnosis(Verdict.BOGUS, 25, "rrsig-window-inverted.lab.", cause="RRSIG_WINDOW_INVERTED"),
        mutated(_rrsig_window_inverted),
    ),
    Scenario(
        "ksk-not-zone-key",
        "lab.",
        "the KSK the DS names is published with flags 1: the Zone Key bit is clear",
        "www",
        "A",
        # BIND 9.18 does not check the flag and validates the zone.
        outcome("SERVFAIL", False, unbound=11, kresd=6, differs={BIND: ("NOERROR", True)}, pdns=9),
        diagnosis(Verdict.BOGUS, 11, "ksk-not-zone-key.lab.", cause="DS_KEY_NOT_ZONE_KEY"),
        build_ksk_not_zone_key,
    ),
    Scenario(
        "rsasha1",
        "lab.",
        "signed with RSASHA1 (algorithm 5), which is being retired (RFC 9904/9905)",
        "www",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE, warnings=("DNSKEY_ALGORITHM_DEPRECATED",)),
        signed_scenario(algorithm=Algorithm.RSASHA1),
    ),
    Scenario(
        "ds-sha1-only",
        "lab.",
        "the only DS has a SHA-1 digest (digest type 1)",
        "www",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE, warnings=("DS_SHA1_ONLY",)),
        mutated(_ds_sha1_only),
    ),
    Scenario(
        "nsec3-iterations-nonzero",
        "lab.",
        "NSEC3 with 10 iterations: within validators' caps, above RFC 9276's 0",
        "nonexistent",
        "A",
        outcome("NXDOMAIN", True),
        diagnosis(Verdict.SECURE, warnings=("NSEC3_ITERATIONS_NONZERO",)),
        signed_scenario(denial=Denial(kind=DenialKind.NSEC3, iterations=10)),
    ),
    Scenario(
        "ksk-revoked-old-ds",
        "lab.",
        "the only KSK is revoked (RFC 5011); the DS is over the key before revocation",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=9, kresd=6, pdns=9),
        diagnosis(Verdict.BOGUS, 9, "ksk-revoked-old-ds.lab.", cause="DS_NO_MATCHING_KEY"),
        build_ksk_revoked(ds_over_revoked=False),
    ),
    Scenario(
        "ksk-revoked-new-ds",
        "lab.",
        "the only KSK is revoked (RFC 5011); the DS is computed over the revoked key: "
        "Unbound accepts it, BIND and Knot Resolver fail",
        "www",
        "A",
        outcome("SERVFAIL", False, kresd=6, differs={UNBOUND: ("NOERROR", True)}, pdns=9),
        diagnosis(Verdict.BOGUS, 9, "ksk-revoked-new-ds.lab.", cause="DS_KEY_REVOKED"),
        build_ksk_revoked(ds_over_revoked=True),
    ),
    Scenario(
        "ds-malformed-extra",
        "lab.",
        "a DS whose digest was cut short beside the valid DS: BIND fails the zone, Unbound "
        "and Knot Resolver validate it",
        "www",
        "A",
        outcome("NOERROR", True, differs={BIND: ("SERVFAIL", False)}),
        diagnosis(Verdict.BOGUS, 9, "ds-malformed-extra.lab.", cause="DS_MALFORMED"),
        mutated(_ds_malformed_beside_valid),
    ),
    Scenario(
        "nsec3-opt-out-wildcard",
        "lab.",
        "a wildcard answer in an NSEC3 opt-out zone: the span denying the next closer name is "
        "opt-out, so an unsigned delegation could hide there (RFC 5155 §9.2)",
        "anything",
        "A",
        INSECURE,
        diagnosis(Verdict.INSECURE, zone="nsec3-opt-out-wildcard.lab."),
        signed_scenario(
            denial=Denial(kind=DenialKind.NSEC3, opt_out=True),
            extra=f"* A {DATA_ADDRESS}\nunsigned NS ns.unsigned.example.",
        ),
    ),
    Scenario(
        "algorithm-rollover",
        "lab.",
        "nothing: an algorithm rollover from 8 to 13 in progress, every RRset signed with "
        "both algorithms, the DS still the old algorithm's",
        "www",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE),
        build_algorithm_rollover(old_signatures=True),
    ),
    Scenario(
        "algorithm-rollover-early",
        "lab.",
        "an algorithm rollover from 8 to 13 in which the old algorithm's signatures were "
        "removed while the DS for its key remains at the parent",
        "www",
        "A",
        outcome("SERVFAIL", False, unbound=10, kresd=6, pdns=9),
        diagnosis(
            Verdict.BOGUS, 10, "algorithm-rollover-early.lab.", cause="DNSKEY_NOT_SIGNED_BY_DS_KEY"
        ),
        build_algorithm_rollover(old_signatures=False),
    ),
    Scenario(
        "multi-signer",
        "lab.",
        "nothing: two providers each sign with their own keys (RFC 8901) and publish both ZSKs",
        "www",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE),
        build_multi_signer(complete=True),
    ),
    Scenario(
        "multi-signer-zsk-missing",
        "lab.",
        "two providers each sign with their own keys (RFC 8901); provider B (ns2) does not "
        "publish provider A's ZSK",
        "www",
        "A",
        # Measured: Unbound, BIND and Knot Resolver answer (they retry another server on
        # failure); PowerDNS Recursor fails now and then (EDE 6), when it took the DNSKEY
        # RRset from ns2 and the data from ns1.
        outcome("NOERROR", True, sometimes={PDNS_RECURSOR: ("SERVFAIL", False, 6)}),
        diagnosis(
            Verdict.PARTIAL, 9, "multi-signer-zsk-missing.lab.", cause="MULTI_SIGNER_KEY_MISSING"
        ),
        build_multi_signer(complete=False),
    ),
    Scenario(
        "online-compact-denial",
        "lab.",
        "nothing: Knot DNS signs at query time (onlinesign) and answers a name that does not "
        "exist NOERROR with one NSEC made up for it (compact denial, RFC 9824 black lies)",
        "nonexistent",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE),
        build_online_signed,
        software=Software.KNOT,
    ),
    Scenario(
        "online-nsec3-narrow",
        "lab.",
        "nothing: PowerDNS signs at query time in NSEC3 narrow mode: each NXDOMAIN's NSEC3 "
        "records cover just the hashes asked about (white lies, RFC 7129)",
        "nonexistent",
        "A",
        outcome("NXDOMAIN", True),
        diagnosis(Verdict.SECURE),
        build_online_signed,
        software=Software.PDNS,
    ),
    Scenario(
        "dname-too-long",
        "lab.",
        "sub is a DNAME to a 201-octet name: a 63-octet label below sub would become a name "
        "longer than 255 octets, so the server answers YXDOMAIN (RFC 6672 §2.2)",
        f"{'a' * 63}.sub",
        "A",
        # Measured: Unbound, BIND and Knot Resolver pass the YXDOMAIN on, BIND and Knot
        # Resolver with AD (the DNAME validates); PowerDNS Recursor answers SERVFAIL (AD set).
        outcome(
            "YXDOMAIN",
            False,
            differs={
                BIND: ("YXDOMAIN", True),
                KRESD: ("YXDOMAIN", True),
                PDNS_RECURSOR: ("SERVFAIL", True),
            },
        ),
        diagnosis(Verdict.UNREACHABLE, None, "dname-too-long.lab.", cause="REDIRECT_NAME_TOO_LONG"),
        build_redirects(f"sub DNAME {LONG_DNAME_TARGET}"),
    ),
    Scenario(
        "dual-stack",
        "lab.",
        "nothing: ns1 has an IPv4 and an IPv6 address, with glue of both families",
        "www",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE),
        build_dual_stack,
        private_network=True,
    ),
    Scenario(
        "stale-secondary-ipv6",
        "lab.",
        "ns2, reachable over IPv6 only, serves a three-week-old copy whose signatures have "
        "expired; ns1 (IPv4 and IPv6) is fine",
        "www",
        "A",
        # Measured as for stale-secondary: Unbound and BIND (which ask over IPv6 too) and
        # Knot Resolver (IPv4 only in the lab) answer from ns1; PowerDNS Recursor fails when
        # it asks ns2 first (some runs).
        outcome("NOERROR", True, sometimes={PDNS_RECURSOR: ("SERVFAIL", False, 7)}),
        diagnosis(Verdict.PARTIAL, 7, "stale-secondary-ipv6.lab.", cause="SERVER_STALE_COPY"),
        build_stale_secondary_ipv6,
        private_network=True,
    ),
    Scenario(
        "online-signer-clock-ahead",
        "lab.",
        "Knot DNS signs at query time (onlinesign) on a host whose clock runs three days "
        "ahead (a real knotd under libfaketime): every signature it makes, the DNSKEY "
        "RRset's included, starts in the future",
        "www",
        "A",
        # Measured: all four SERVFAIL; Unbound and Knot Resolver send EDE 8, PowerDNS
        # Recursor sends none here (it sends 8 for rrsig-not-yet-valid, the same fault in a
        # zone signed in advance).
        outcome("SERVFAIL", False, unbound=8, kresd=8),
        diagnosis(Verdict.BOGUS, 8, "online-signer-clock-ahead.lab.", cause="RRSIG_NOT_YET_VALID"),
        build_online_signed,
        software=Software.KNOT,
        signer_clock_offset=3 * DAY,
    ),
    Scenario(
        "tcp-blocked",
        "lab.",
        "a firewall drops TCP to the zone's only server: every answer still fits in UDP",
        "www",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE, warnings=("SERVER_NO_TCP",)),
        build_firewalled(Drop.TCP),
        private_network=True,
    ),
    Scenario(
        "udp-blocked",
        "lab.",
        "a firewall drops UDP to ns2, which answers over TCP only; ns1 is fine",
        "www",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE, warnings=("SERVER_NO_UDP",)),
        build_firewalled(Drop.UDP, second_server=True),
        private_network=True,
    ),
    Scenario(
        "edns-version-dropped",
        "lab.",
        "a firewall in front of the zone's only server drops queries with EDNS version 1 "
        "instead of letting the server answer BADVERS (RFC 6891)",
        "www",
        "A",
        SECURE,
        diagnosis(Verdict.SECURE, warnings=("EDNS_VERSION_MISHANDLED",)),
        build_firewalled(Drop.EDNS_VERSION_1),
        private_network=True,
    ),
    Scenario(
        "online-signer-clock-behind",
        "lab.",
        "Knot DNS would sign at query time (onlinesign), but its host's clock runs 30 days "
        "behind, before its key became active: knotd loads no signing key ('no keys for "
        "signing') and serves the zone unsigned while the parent keeps its DS",
        "www",
        "A",
        # Measured, as for ds-unsigned-zone: all four SERVFAIL; Unbound EDE 9, Knot
        # Resolver 12, PowerDNS Recursor 10.
        outcome("SERVFAIL", False, unbound=9, kresd=12, pdns=10),
        diagnosis(
            Verdict.BOGUS, 9, "online-signer-clock-behind.lab.", cause="DS_FOR_UNSIGNED_ZONE"
        ),
        build_online_signed,
        software=Software.KNOT,
        signer_clock_offset=-30 * DAY,
    ),
)


def find_scenario(slug: str) -> Scenario:
    for scenario in SCENARIOS:
        if scenario.slug == slug or scenario.zone.rstrip(".") == slug.rstrip("."):
            return scenario
    raise KeyError(slug)
