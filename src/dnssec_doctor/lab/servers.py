"""Configuration and launch of the real DNS servers that make up the lab.

Each lab instance is one process of a Debian-packaged DNS server, run in the foreground
so that its PID is the one we started. This module only writes configuration files and
returns how to launch, check and flush each instance; starting and stopping processes,
loopback addresses and lab state belong to ``dnssec_doctor.lab.runtime``.

Authoritative servers (NSD, Knot DNS, BIND, PowerDNS) serve the lab's zone files exactly
as written: signed, or broken on purpose. Every feature that could re-sign, validate,
repair or refuse such a zone is switched off and no NOTIFY is sent; AXFR is allowed
from loopback only, so that what is being served can be compared with the file. The
exception is a zone signed online (``ZoneFile.online``): Knot DNS (onlinesign module,
compact denial) or PowerDNS (NSEC3 narrow mode) signs it at query time with the key the
lab generated, imported before the server starts.

Resolvers (Unbound, BIND, Knot Resolver, PowerDNS Recursor) know only the lab's root:
its hints and its DS as a static trust anchor. They send every query from their own lab
address, so the kernel cannot route a single packet off the loopback interface, and they
never update anchors (no RFC 5011), forward, or fall back on the built-in root hints and
keys.

Every server logs to stderr; the caller sends stdout and stderr to ``Launch.log``.
"""

from __future__ import annotations

import base64
import enum
import ipaddress
import secrets
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.DS
import dns.zonefile

from dnssec_doctor.errors import LabError
from dnssec_doctor.probe.settings import LAB_IPV6_NETWORK


class Software(enum.StrEnum):
    NSD = "nsd"
    KNOT = "knot"
    BIND = "bind"
    UNBOUND = "unbound"
    KRESD = "kresd"
    PDNS = "pdns"  # PowerDNS Authoritative Server (bind backend)
    PDNS_RECURSOR = "pdns-recursor"


class OnlineDenial(enum.StrEnum):
    """How an online signer denies a name: Knot's onlinesign module answers NOERROR with
    one NSEC made up for the name (compact denial, RFC 9824); PowerDNS in NSEC3 narrow
    mode answers NXDOMAIN with NSEC3 records that cover just the name's hash (white lies,
    RFC 7129 appendix B)."""

    COMPACT = "compact"
    NSEC3_NARROW = "nsec3-narrow"


@dataclass(frozen=True)
class OnlineSigning:
    """The server signs the zone itself at query time, with one key (a CSK) given in the
    two private-key forms the servers import: PKCS #8 PEM (Knot's keymgr) and BIND's
    (PowerDNS's pdnsutil)."""

    pem: Path
    bind_private: Path
    algorithm: int
    denial: OnlineDenial


@dataclass(frozen=True)
class ZoneFile:
    """A zone served as-is from a file (already signed, or broken on purpose), or signed
    by the server at query time (``online``)."""

    origin: str  # absolute, with trailing dot; "." for the root
    path: Path
    online: OnlineSigning | None = None


@dataclass(frozen=True)
class AuthoritativeInstance:
    """One authoritative server process listening on port 53 of several addresses."""

    name: str
    software: Software  # NSD, KNOT or BIND
    addresses: tuple[str, ...]
    zones: tuple[ZoneFile, ...]
    # Seconds the server's clock is off (ahead when positive): a real signer with a wrong
    # clock, run with libfaketime preloaded. Only an online signer reads its clock to sign.
    clock_offset: int = 0


@dataclass(frozen=True)
class ResolverInstance:
    """One recursive resolver process that knows only the lab's root."""

    name: str
    software: Software  # UNBOUND, BIND or KRESD
    address: str
    validating: bool
    # The address it sends IPv6 queries from (None: it asks over IPv4 only). Clients ask
    # it over IPv4 either way.
    address6: str | None = None


@dataclass(frozen=True)
class Launch:
    """How to start an instance and how to tell that it is ready."""

    argv: tuple[str, ...]
    workdir: Path
    log: Path
    # A query that the instance answers once it is ready: (address, qname, qtype).
    ready_query: tuple[str, str, str]
    # Variables added to the environment it starts in (libfaketime's, for a wrong clock).
    env: tuple[tuple[str, str], ...] = ()


AUTHORITATIVE_SOFTWARE: Final = frozenset(
    {Software.NSD, Software.KNOT, Software.BIND, Software.PDNS}
)
# Which online signer each server is: the denial it can give.
ONLINE_DENIAL: Final[Mapping[Software, OnlineDenial]] = MappingProxyType(
    {Software.KNOT: OnlineDenial.COMPACT, Software.PDNS: OnlineDenial.NSEC3_NARROW}
)
RESOLVER_SOFTWARE: Final = frozenset(
    {Software.UNBOUND, Software.BIND, Software.KRESD, Software.PDNS_RECURSOR}
)

# Every address a lab server may listen on or send from: IPv4 on loopback, and IPv6
# (only inside a private network namespace) in the lab's unique local prefix.
LAB_NETWORK: Final = ipaddress.IPv4Network("127.53.0.0/16")

# The Debian package that ships each binary this module runs (servers, control tools and
# configuration checkers), for "install it with: apt-get install PKG".
BINARY_PACKAGES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "nsd": "nsd",
        "nsd-checkconf": "nsd",
        "knotd": "knot",
        "knotc": "knot",
        "keymgr": "knot",
        "pdns_server": "pdns-server",
        "pdnsutil": "pdns-server",
        "pdns_recursor": "pdns-recursor",
        "rec_control": "pdns-recursor",
        "named": "bind9",
        "rndc": "bind9-utils",
        "named-checkconf": "bind9-utils",
        "unbound": "unbound",
        "unbound-control": "unbound",
        "unbound-checkconf": "unbound",
        "kresd": "knot-resolver",
    }
)

# libfaketime, preloaded into a server whose clock must be wrong (its multi-threaded
# build: the servers run threads). Debian installs it under the architecture's libdir.
FAKETIME_LIBRARY_GLOB: Final = "*/faketime/libfaketimeMT.so.1"  # under /usr/lib

# The binaries needed to run an instance and flush it (checkers are optional).
_REQUIRED_BINARIES: Final[Mapping[Software, tuple[str, ...]]] = MappingProxyType(
    {
        Software.NSD: ("nsd",),
        Software.KNOT: ("knotd",),
        Software.BIND: ("named", "rndc"),
        Software.UNBOUND: ("unbound", "unbound-control"),
        Software.KRESD: ("kresd",),
        Software.PDNS: ("pdns_server", "pdnsutil"),
        Software.PDNS_RECURSOR: ("pdns_recursor", "rec_control"),
    }
)

# File names inside an instance's workdir.
_CONFIG_NAMES: Final[Mapping[Software, str]] = MappingProxyType(
    {
        Software.NSD: "nsd.conf",
        Software.KNOT: "knot.conf",
        Software.BIND: "named.conf",
        Software.UNBOUND: "unbound.conf",
        Software.KRESD: "kresd.conf",
        Software.PDNS: "pdns.conf",
        Software.PDNS_RECURSOR: "recursor.conf",
    }
)
_RNDC_CONF: Final = "rndc.conf"
_RNDC_KEY: Final = "rndc.key"
_UNBOUND_CONTROL_SOCKET: Final = "unbound.ctl"
_KRESD_CONTROL_SOCKET: Final = "kresd.ctl"
_KNOT_CONTROL_SOCKET: Final = "knot.sock"
_PDNS_RECURSOR_CONTROL_SOCKET: Final = "pdns_recursor.controlsocket"
_PDNS_RECURSOR_LUA: Final = "recursor.lua"
_KRESD_PROMPT: Final = b"> "
_KRESD_CHECK: Final = "kresd-check.lua"
_RNDC_PORT: Final = 953

# sun_path is 108 bytes on Linux, including the terminating NUL.
_MAX_SOCKET_PATH: Final = 107
_FLUSH_TIMEOUT: Final = 5.0

# Unbound has no allow-list for the addresses it queries, so the rest of the IPv4
# space is listed as never-query (127.0.0.0/8 is only dropped by do-not-query-localhost).
_OUTSIDE_LAB: Final = tuple(
    str(net) for net in ipaddress.IPv4Network("0.0.0.0/0").address_exclude(LAB_NETWORK)
)
# The same for IPv6, when the lab has it: everything but its prefix.
_OUTSIDE_LAB6: Final = tuple(
    str(net) for net in ipaddress.IPv6Network("::/0").address_exclude(LAB_IPV6_NETWORK)
)


def required_binaries(software: Software) -> tuple[str, ...]:
    """Return the executables an instance of ``software`` needs to run and be flushed."""
    return _REQUIRED_BINARIES[software]


def debian_package(binary: str) -> str:
    """Return the Debian package that ships ``binary`` (for an install hint)."""
    try:
        return BINARY_PACKAGES[binary]
    except KeyError:
        raise LabError(f"no known Debian package ships {binary!r}") from None


def config_path(software: Software, workdir: Path) -> Path:
    """Return where ``prepare_*`` writes the main configuration file of ``software``."""
    return workdir.resolve() / _CONFIG_NAMES[software]


def checkconf_argv(software: Software, workdir: Path) -> tuple[str, ...]:
    """Return the server's own configuration checker for the config in ``workdir``.

    Knot Resolver has no checker: its configuration is a Lua program. For it, this runs
    kresd on a wrapper (written by ``prepare_resolver``) that executes the configuration
    with listening and the cache stubbed out, then exits; it touches no running instance.
    """
    conf = str(config_path(software, workdir))
    match software:
        case Software.NSD:
            return ("nsd-checkconf", conf)
        case Software.KNOT:
            return ("knotc", "-c", conf, "conf-check")
        case Software.PDNS_RECURSOR:
            return ("pdns_recursor", f"--config-dir={workdir.resolve()}", "--config=check")
        case Software.PDNS:
            # PowerDNS has no configuration checker; listing the zones loads the
            # configuration and the bind backend's zone list and fails on either.
            return ("pdnsutil", f"--config-dir={workdir.resolve()}", "list-all-zones")
        case Software.BIND:
            return ("named-checkconf", conf)
        case Software.UNBOUND:
            return ("unbound-checkconf", conf)
        case Software.KRESD:
            return (
                "kresd",
                "-n",
                "-c",
                str(workdir.resolve() / _KRESD_CHECK),
                str(workdir.resolve()),
            )


def prepare_authoritative(instance: AuthoritativeInstance, workdir: Path) -> Launch:
    """Write the configuration of an authoritative instance and return how to launch it.

    The zones are served from their files unchanged: no signing, no validation, no
    semantic checks that could refuse a deliberately broken zone, no journal, no
    NOTIFY. The server listens on port 53 of exactly ``instance.addresses`` and stays
    in the foreground. It is ready once ``ready_query`` is answered NOERROR (a zone
    that failed to load is answered SERVFAIL or REFUSED).
    """
    if instance.software not in AUTHORITATIVE_SOFTWARE:
        raise LabError(f"{instance.name}: {instance.software} is not an authoritative server")
    if not instance.addresses:
        raise LabError(f"{instance.name}: an authoritative instance needs an address")
    if not instance.zones:
        raise LabError(f"{instance.name}: an authoritative instance needs a zone")
    for address in instance.addresses:
        _check_lab_address(instance.name, address)
    origins = [_absolute_origin(instance.name, zone.origin) for zone in instance.zones]
    if len(set(origins)) != len(origins):
        raise LabError(f"{instance.name}: a zone is listed twice")
    for zone in instance.zones:
        _quote(zone.path.resolve())
        if not zone.path.is_file():
            raise LabError(f"{instance.name}: zone file {zone.path} does not exist")
        if zone.online is not None and zone.online.denial is not ONLINE_DENIAL.get(
            instance.software
        ):
            raise LabError(
                f"{instance.name}: {instance.software} cannot sign {zone.origin} online with "
                f"{zone.online.denial} denial"
            )
    if instance.clock_offset and not any(zone.online for zone in instance.zones):
        raise LabError(f"{instance.name}: a wrong clock changes nothing without online signing")
    env = _wrong_clock(instance.name, instance.clock_offset) if instance.clock_offset else ()
    workdir = _make_workdir(workdir)
    match instance.software:
        case Software.NSD:
            text = _nsd_conf(instance, workdir)
            argv_tail: tuple[str, ...] = ("-d",)
            binary = "nsd"
        case Software.KNOT:
            _check_socket_path(instance.name, workdir / _KNOT_CONTROL_SOCKET)
            text = _knot_conf(instance, workdir)
            argv_tail = ()
            binary = "knotd"
        case Software.PDNS:
            text = _pdns_conf(instance, workdir)
            argv_tail = ()
            binary = "pdns_server"
        case _:
            text = _named_authoritative_conf(instance, workdir)
            argv_tail = ("-g", *_named_families(instance.addresses), "-n", "1")
            binary = "named"
    conf = config_path(instance.software, workdir)
    conf.write_text(text, encoding="utf-8")
    if instance.software is Software.KNOT:
        _import_knot_keys(instance, conf)
    if instance.software is Software.PDNS:
        _set_up_pdns_zones(instance, workdir)
        argv: tuple[str, ...] = (binary, f"--config-dir={workdir}")
    else:
        argv = (binary, "-c", str(conf), *argv_tail)
    return Launch(
        argv=argv,
        workdir=workdir,
        log=workdir / f"{instance.name}.log",
        ready_query=(instance.addresses[0], origins[0], "SOA"),
        env=env,
    )


def _wrong_clock(instance_name: str, offset: int) -> tuple[tuple[str, str], ...]:
    """The environment that runs a server ``offset`` seconds off: libfaketime preloaded,
    the monotonic clock left alone (its timers and timeouts stay real)."""
    libraries = sorted(str(p) for p in Path("/usr/lib").glob(FAKETIME_LIBRARY_GLOB))
    if not libraries:
        raise LabError(
            f"{instance_name}: libfaketime is not installed (it runs a signer with a wrong clock)",
            hint="apt-get install libfaketime",
        )
    return (
        ("LD_PRELOAD", libraries[0]),
        ("FAKETIME", f"{offset:+d}"),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
    )


def prepare_resolver(
    instance: ResolverInstance, workdir: Path, *, root_hints: Path, trust_anchor: Path
) -> Launch:
    """Write the configuration of a resolver instance and return how to launch it.

    ``root_hints`` is a named.root-style file of the lab's root servers and
    ``trust_anchor`` a zone-file-form file of the lab root's DS records. The anchor is
    static (no RFC 5011) and ignored when the instance does not validate. The resolver
    listens on port 53 of ``instance.address``, sends queries only from that address,
    and stays in the foreground. ``ready_query`` asks for the root's SOA, so it is only
    answered once the lab's root servers are up.
    """
    if instance.software not in RESOLVER_SOFTWARE:
        raise LabError(f"{instance.name}: {instance.software} is not a resolver")
    _check_lab_address(instance.name, instance.address)
    if instance.address6 is not None:
        _check_lab_address(instance.name, instance.address6)
    workdir = _make_workdir(workdir)
    hints = root_hints.resolve()
    anchor = trust_anchor.resolve()
    for path in (hints, anchor):
        _quote(path)
        if not path.is_file():
            raise LabError(f"{instance.name}: {path} does not exist")
    conf = config_path(instance.software, workdir)
    match instance.software:
        case Software.UNBOUND:
            _check_socket_path(instance.name, workdir / _UNBOUND_CONTROL_SOCKET)
            conf.write_text(_unbound_conf(instance, workdir, hints, anchor), encoding="utf-8")
            argv: tuple[str, ...] = ("unbound", "-d", "-c", str(conf))
        case Software.BIND:
            key = _rndc_key(workdir)
            (workdir / _RNDC_CONF).write_text(_rndc_conf(instance.address, key), encoding="utf-8")
            anchors = _read_trust_anchor(instance.name, anchor) if instance.validating else ()
            conf.write_text(
                _named_resolver_conf(instance, workdir, hints, anchors, key), encoding="utf-8"
            )
            families = _named_families(_sources(instance))
            argv = ("named", "-c", str(conf), "-g", *families, "-n", "1")
        case Software.PDNS_RECURSOR:
            _check_socket_path(instance.name, workdir / _PDNS_RECURSOR_CONTROL_SOCKET)
            (workdir / _PDNS_RECURSOR_LUA).write_text(
                _pdns_recursor_lua(instance, anchor), encoding="utf-8"
            )
            conf.write_text(_pdns_recursor_conf(instance, workdir, hints), encoding="utf-8")
            argv = ("pdns_recursor", f"--config-dir={workdir}")
        case _:
            _check_socket_path(instance.name, workdir / _KRESD_CONTROL_SOCKET)
            if instance.validating:
                _read_trust_anchor(instance.name, anchor)  # fail here, not in kresd
            conf.write_text(_kresd_conf(instance, workdir, hints, anchor), encoding="utf-8")
            (workdir / _KRESD_CHECK).write_text(_kresd_check(conf), encoding="utf-8")
            argv = ("kresd", "-n", "-c", str(conf), str(workdir))
    return Launch(
        argv=argv,
        workdir=workdir,
        log=workdir / f"{instance.name}.log",
        ready_query=(instance.address, ".", "SOA"),
    )


def flush_resolver(instance: ResolverInstance, workdir: Path) -> None:
    """Empty every cache of a running resolver: answers, negative, bogus, keys, servers.

    Uses the control channel written by ``prepare_resolver`` (unbound-control, rndc, or
    the kresd control socket) and raises ``LabError`` if the resolver does not confirm.
    """
    workdir = workdir.resolve()
    match instance.software:
        case Software.UNBOUND:
            conf = str(config_path(Software.UNBOUND, workdir))
            # reload empties every cache (messages, RRsets, keys, bogus, negative, servers).
            # Not flush_infra: after "flush_infra all", Unbound 1.17 waits for minutes on
            # a dead server instead of answering SERVFAIL at once.
            _run_control(instance.name, ("unbound-control", "-c", conf, "reload"))
        case Software.BIND:
            rndc_conf = str(workdir / _RNDC_CONF)
            # flush covers the cache, the address database and the SERVFAIL cache.
            _run_control(instance.name, ("rndc", "-c", rndc_conf, "flush"))
        case Software.PDNS_RECURSOR:
            # ".$" wipes the record, negative and packet caches for the root and below.
            _run_control(
                instance.name,
                ("rec_control", f"--socket-dir={workdir}", "wipe-cache", ".$"),
            )
        case Software.KRESD:
            reply = _kresd_command(instance.name, workdir / _KRESD_CONTROL_SOCKET, "cache.clear()")
            # cache.clear() answers with a table holding the number of records removed;
            # anything else is a Lua error message.
            if "count" not in reply:
                raise LabError(f"{instance.name}: kresd cache.clear() failed: {reply.strip()}")
        case _:
            raise LabError(f"{instance.name}: {instance.software} is not a resolver")


# --- authoritative configurations -------------------------------------------------------


def _nsd_conf(instance: AuthoritativeInstance, workdir: Path) -> str:
    lines = [
        "# Generated by dnssec-doctor: serves the zone files as-is.",
        "server:",
        *(f"    ip-address: {address}@53" for address in instance.addresses),
        "    port: 53",
        "    do-ip4: yes",
        f"    do-ip6: {'yes' if _has_ipv6(instance.addresses) else 'no'}",
        "    reuseport: no",
        '    username: ""',
        '    chroot: ""',
        '    database: ""',
        f"    zonesdir: {_quote(workdir)}",
        f"    zonelistfile: {_quote(workdir / 'zone.list')}",
        f"    xfrdfile: {_quote(workdir / 'xfrd.state')}",
        f"    xfrdir: {_quote(workdir)}",
        f"    pidfile: {_quote(workdir / 'nsd.pid')}",
        "    server-count: 1",
        "    verbosity: 1",
        "    zonefiles-check: no",
        "    zonefiles-write: 0",
        "remote-control:",
        "    control-enable: no",
        "verify:",
        "    enable: no",
    ]
    for zone in instance.zones:
        lines += [
            "zone:",
            f"    name: {_quote_text(zone.origin)}",
            f"    zonefile: {_quote(zone.path.resolve())}",
            # AXFR from loopback shows exactly what is being served.
            "    provide-xfr: 127.0.0.0/8 NOKEY",
        ]
    return "\n".join(lines) + "\n"


def _knot_conf(instance: AuthoritativeInstance, workdir: Path) -> str:
    (workdir / "db").mkdir(exist_ok=True)
    listen = ", ".join(f"{address}@53" for address in instance.addresses)
    lines = [
        "# Generated by dnssec-doctor: serves the zone files as-is.",
        "server:",
        f"    rundir: {_quote(workdir)}",
        f"    pidfile: {_quote(workdir / 'knot.pid')}",
        f"    listen: [ {listen} ]",
        "    udp-workers: 1",
        "    tcp-workers: 1",
        "    background-workers: 1",
        "    automatic-acl: off",
        "",
        "log:",
        "  - target: stderr",
        "    any: info",
        "",
        "database:",
        f"    storage: {_quote(workdir / 'db')}",
        "",
        "control:",
        f"    listen: {_quote(workdir / _KNOT_CONTROL_SOCKET)}",
        "",
        "acl:",
        "  - id: loopback-transfer",
        "    address: 127.0.0.0/8",
        "    action: transfer",
        "",
        "template:",
        "  - id: default",
        # AXFR from loopback shows exactly what is being served.
        "    acl: loopback-transfer",
        f"    storage: {_quote(workdir)}",
        # Serve the file, never sign, validate, check, journal or rewrite it.
        "    dnssec-signing: off",
        "    dnssec-validation: off",
        "    semantic-checks: off",
        "    zonemd-verify: off",
        "    zonefile-load: whole",
        "    journal-content: none",
        "    zonefile-sync: -1",
        "",
    ]
    online = [(n, z.online) for n, z in enumerate(instance.zones) if z.online is not None]
    if online:
        # Online signing with the key keymgr imports (manual: never generate or roll one),
        # one signing policy per zone for its key's algorithm.
        lines.append("policy:")
        for n, signing in online:
            lines += [
                f"  - id: online{n}",
                "    manual: on",
                "    single-type-signing: on",
                f"    algorithm: {_KNOT_ALGORITHMS[signing.algorithm]}",
                "    rrsig-lifetime: 14d",
                "    rrsig-refresh: 7d",
            ]
        lines += ["", "mod-onlinesign:"]
        for n, _ in online:
            lines += [f"  - id: online{n}", f"    policy: online{n}"]
        lines.append("")
    lines.append("zone:")
    for n, zone in enumerate(instance.zones):
        lines += [
            f"  - domain: {_quote_text(zone.origin)}",
            f"    file: {_quote(zone.path.resolve())}",
        ]
        if zone.online is not None:
            lines.append(f"    module: mod-onlinesign/online{n}")
    return "\n".join(lines) + "\n"


# Knot's names for the algorithms a lab key may have.
_KNOT_ALGORITHMS: Final[Mapping[int, str]] = MappingProxyType(
    {8: "rsasha256", 13: "ecdsap256sha256", 14: "ecdsap384sha384", 15: "ed25519"}
)


def _import_knot_keys(instance: AuthoritativeInstance, conf: Path) -> None:
    """Put each online-signed zone's key in Knot's key database, before knotd starts."""
    for zone in instance.zones:
        if zone.online is None:
            continue
        if zone.online.algorithm not in _KNOT_ALGORITHMS:
            raise LabError(f"{instance.name}: no Knot algorithm {zone.online.algorithm}")
        _run_control(
            instance.name,
            (
                "keymgr",
                "-c",
                str(conf),
                zone.origin,
                "import-pem",
                str(zone.online.pem.resolve()),
                f"algorithm={zone.online.algorithm}",
                "ksk=yes",
                "zsk=yes",
            ),
        )


def _pdns_conf(instance: AuthoritativeInstance, workdir: Path) -> str:
    named = workdir / "named.conf"
    named.write_text(
        "".join(
            f"zone {_quote_text(z.origin)} {{ type master; file {_quote(z.path.resolve())}; }};\n"
            for z in instance.zones
        ),
        encoding="utf-8",
    )
    lines = [
        "# Generated by dnssec-doctor: the bind backend serves the zone files; a zone",
        "# with a key in the DNSSEC database is signed at query time, the others as-is.",
        "launch=bind",
        f"bind-config={named}",
        f"bind-dnssec-db={workdir / 'dnssec.db'}",
        f"local-address={', '.join(instance.addresses)}",
        "local-port=53",
        "reuseport=no",
        f"socket-dir={workdir}",
        "daemon=no",
        "guardian=no",
        "write-pid=no",
        "disable-syslog=yes",
        "log-timestamp=yes",
        "loglevel=4",
        "setuid=",
        "setgid=",
        "primary=no",
        "secondary=no",
        "disable-axfr=no",
        # AXFR from loopback shows exactly what is being served.
        "allow-axfr-ips=127.0.0.0/8",
        "distributor-threads=1",
        "receiver-threads=1",
        "signing-threads=1",
    ]
    return "\n".join(lines) + "\n"


def _set_up_pdns_zones(instance: AuthoritativeInstance, workdir: Path) -> None:
    """Create the bind backend's DNSSEC database and give each zone its keys and mode,
    before pdns_server starts."""
    pdnsutil = ("pdnsutil", f"--config-dir={workdir}")
    _run_control(instance.name, (*pdnsutil, "create-bind-db", str(workdir / "dnssec.db")))
    for zone in instance.zones:
        if zone.online is None:
            _run_control(instance.name, (*pdnsutil, "set-presigned", zone.origin))
            continue
        key = str(zone.online.bind_private.resolve())
        _run_control(
            instance.name, (*pdnsutil, "import-zone-key", zone.origin, key, "ksk", "active")
        )
        # NSEC3, no salt, 0 iterations (RFC 9276), narrow: hashes made up per answer.
        _run_control(instance.name, (*pdnsutil, "set-nsec3", zone.origin, "1 0 0 -", "narrow"))


def _named_common_options(workdir: Path, listen: tuple[str, ...]) -> list[str]:
    addresses = " ".join(f"{address};" for address in listen if ":" not in address)
    addresses6 = " ".join(f"{address};" for address in listen if ":" in address) or "none;"
    (workdir / "keys").mkdir(exist_ok=True)
    (workdir / "bind.keys").write_text("", encoding="utf-8")
    return [
        f"    directory {_quote(workdir)};",
        f"    pid-file {_quote(workdir / 'named.pid')};",
        f"    session-keyfile {_quote(workdir / 'session.key')};",
        f"    managed-keys-directory {_quote(workdir)};",
        # An empty file: named never even loads the real root's key from /etc/bind.
        f"    bindkeys-file {_quote(workdir / 'bind.keys')};",
        # An empty key directory: BIND never finds a private key to re-sign with.
        f"    key-directory {_quote(workdir / 'keys')};",
        f"    dump-file {_quote(workdir / 'named_dump.db')};",
        f"    statistics-file {_quote(workdir / 'named.stats')};",
        f"    listen-on port 53 {{ {addresses} }};",
        f"    listen-on-v6 port 53 {{ {addresses6} }};",
        "    notify no;",
        "    empty-zones-enable no;",
        "    allow-query { any; };",
    ]


def _named_authoritative_conf(instance: AuthoritativeInstance, workdir: Path) -> str:
    lines = [
        "// Generated by dnssec-doctor: serves the zone files as-is.",
        "options {",
        *_named_common_options(workdir, instance.addresses),
        "    recursion no;",
        "    dnssec-validation no;",
        "    allow-transfer { 127.0.0.0/8; };",
        # Load a broken zone rather than refuse it.
        "    check-names primary ignore;",
        "    check-integrity no;",
        "    check-mx ignore;",
        "    check-mx-cname ignore;",
        "    check-srv-cname ignore;",
        "    check-sibling no;",
        "    check-spf ignore;",
        "    check-wildcard no;",
        "    check-dup-records ignore;",
        "};",
        "",
        "controls { };",
    ]
    for zone in instance.zones:
        lines += [
            "",
            f"zone {_quote_text(zone.origin)} {{",
            "    type primary;",
            f"    file {_quote(zone.path.resolve())};",
            "};",
        ]
    return "\n".join(lines) + "\n"


# --- resolver configurations ------------------------------------------------------------


def _unbound_conf(instance: ResolverInstance, workdir: Path, hints: Path, anchor: Path) -> str:
    modules = "validator iterator" if instance.validating else "iterator"
    lines = [
        "# Generated by dnssec-doctor: a resolver that knows only the lab's root.",
        "server:",
        '    username: ""',
        '    chroot: ""',
        f"    directory: {_quote(workdir)}",
        f"    pidfile: {_quote(workdir / 'unbound.pid')}",
        '    logfile: ""',
        "    use-syslog: no",
        "    log-time-ascii: yes",
        "    verbosity: 1",
        "    num-threads: 1",
        f"    interface: {instance.address}@53",
        "    port: 53",
        "    interface-automatic: no",
        "    so-reuseport: no",
        f"    outgoing-interface: {instance.address}",
        *([f"    outgoing-interface: {instance.address6}"] if instance.address6 else []),
        "    do-ip4: yes",
        f"    do-ip6: {'yes' if instance.address6 else 'no'}",
        "    do-udp: yes",
        "    do-tcp: yes",
        "    access-control: 127.0.0.0/8 allow",
        "    do-not-query-localhost: no",
        *(f"    do-not-query-address: {net}" for net in _OUTSIDE_LAB),
        *(f"    do-not-query-address: {net}" for net in _OUTSIDE_LAB6 if instance.address6),
        f"    root-hints: {_quote(hints)}",
        f'    module-config: "{modules}"',
        "    ede: yes",
        "    val-log-level: 2",
        # The lab wants every answer looked up, not synthesised or served early.
        "    aggressive-nsec: no",
        "    prefetch: no",
        "    prefetch-key: no",
        "    serve-expired: no",
        # Give up on a dead server within a second instead of backing off for minutes
        # (keep-probing made a lame delegation take longer than any client waits).
        "    infra-cache-max-rtt: 1000",
        # Debian's 1.17 drops a reply that took longer than 1.9 s (expecting the client to
        # have retried); a diagnosis asks once and waits, so always answer.
        "    discard-timeout: 0",
    ]
    if instance.validating:
        lines.append(f"    trust-anchor-file: {_quote(anchor)}")
    lines += [
        "",
        "remote-control:",
        "    control-enable: yes",
        f"    control-interface: {_quote(workdir / _UNBOUND_CONTROL_SOCKET)}",
        "    control-use-cert: no",
    ]
    return "\n".join(lines) + "\n"


def _pdns_recursor_conf(instance: ResolverInstance, workdir: Path, hints: Path) -> str:
    lines = [
        "# Generated by dnssec-doctor: a resolver that knows only the lab's root.",
        f"local-address={instance.address}",
        "local-port=53",
        f"query-local-address={', '.join(_sources(instance))}",
        "reuseport=no",
        f"socket-dir={workdir}",
        "daemon=no",
        "write-pid=no",
        "disable-syslog=yes",
        "log-timestamp=yes",
        "loglevel=4",
        "setuid=",
        "setgid=",
        "threads=1",
        "pdns-distributes-queries=no",
        "allow-from=127.0.0.0/8",
        f"hint-file={hints}",
        f"lua-config-file={workdir / _PDNS_RECURSOR_LUA}",
        # The default never-query list holds 127.0.0.0/8; here it is everything but the lab.
        f"dont-query={', '.join((*_OUTSIDE_LAB, *_outside_lab6(instance)))}",
        f"dnssec={'validate' if instance.validating else 'off'}",
        "dnssec-log-bogus=yes",
        # PowerDNS Recursor 4 sends Extended DNS Errors only when asked to (5 does by default).
        "extended-resolution-errors=yes",
        # No query for the secpoll TXT record outside the lab.
        "security-poll-suffix=",
    ]
    return "\n".join(lines) + "\n"


def _pdns_recursor_lua(instance: ResolverInstance, anchor: Path) -> str:
    """The root's DS as ``addTA`` calls (PowerDNS Recursor 4 takes no DNSKEY anchor),
    after ``clearTA`` drops the built-in root anchors."""
    lines = ["clearTA()"]
    if instance.validating:
        for rdata in _anchor_records(instance.name, anchor):
            if not isinstance(rdata, dns.rdtypes.ANY.DS.DS):
                raise LabError(f"{instance.name}: PowerDNS Recursor takes only DS trust anchors")
            lines.append(f"addTA('.', \"{rdata.to_text()}\")")
    return "\n".join(lines) + "\n"


def _rndc_key(workdir: Path) -> str:
    """Return the instance's rndc key clause, created once and then reused.

    Reusing it keeps a running named and a re-written rndc.conf in agreement.
    """
    path = workdir / _RNDC_KEY
    if not path.is_file():
        encoded = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
        text = f'key "lab-rndc" {{\n    algorithm hmac-sha256;\n    secret "{encoded}";\n}};\n'
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8")


def _rndc_conf(address: str, key: str) -> str:
    return (
        "// Generated by dnssec-doctor.\n"
        + key
        + "\noptions {\n"
        + '    default-key "lab-rndc";\n'
        + f"    default-server {address};\n"
        + f"    default-port {_RNDC_PORT};\n"
        + "};\n"
    )


def _named_resolver_conf(
    instance: ResolverInstance,
    workdir: Path,
    hints: Path,
    anchors: tuple[str, ...],
    key: str,
) -> str:
    lines = [
        "// Generated by dnssec-doctor: a resolver that knows only the lab's root.",
        "options {",
        *_named_common_options(workdir, (instance.address,)),
        f"    query-source address {instance.address};",
        *([f"    query-source-v6 address {instance.address6};"] if instance.address6 else []),
        "    recursion yes;",
        "    allow-recursion { 127.0.0.0/8; };",
        f"    dnssec-validation {'yes' if instance.validating else 'no'};",
        "    synth-from-dnssec no;",
        "    prefetch 0;",
        "    stale-answer-enable no;",
        "    max-cache-size 32m;",
        "};",
        "",
        key,
        f"controls {{ inet {instance.address} port {_RNDC_PORT} allow {{ 127.0.0.0/8; }} "
        'keys { "lab-rndc"; }; };',
        "",
        'zone "." {',
        "    type hint;",
        f"    file {_quote(hints)};",
        "};",
    ]
    if anchors:
        lines += ["", "trust-anchors {", *(f"    {anchor};" for anchor in anchors), "};"]
    return "\n".join(lines) + "\n"


def _kresd_conf(instance: ResolverInstance, workdir: Path, hints: Path, anchor: Path) -> str:
    lines = [
        "-- Generated by dnssec-doctor: a resolver that knows only the lab's root.",
        f"net.ipv6 = {'true' if instance.address6 else 'false'}",
        # kresd ignores glue and NS addresses on loopback unless told otherwise.
        "option('ALLOW_LOCAL', true)",
        f"net.listen({_lua(instance.address)}, 53, {{ kind = 'dns' }})",
        f"net.listen({_lua(str(workdir / _KRESD_CONTROL_SOCKET))}, nil, {{ kind = 'control' }})",
        f"net.outgoing_v4({_lua(instance.address)})",
        *([f"net.outgoing_v6({_lua(instance.address6)})"] if instance.address6 else []),
        f"cache.open(16 * MB, {_lua('lmdb://' + str(workdir / 'cache'))})",
        # The cache is a file that outlives the process: start every run empty.
        "cache.clear()",
        # The built-in anchor (/usr/share/dns/root.key) is the real root's: drop it.
        "trust_anchors.remove('.')",
    ]
    if instance.validating:
        # Unmanaged: read once, never refreshed by RFC 5011, never written back.
        lines.append(f"trust_anchors.add_file({_lua(str(anchor))}, true)")
    lines += [
        "modules.load('hints > iterate')",
        f"hints.root_file({_lua(str(hints))})",
    ]
    return "\n".join(lines) + "\n"


def _kresd_check(conf: Path) -> str:
    # Binding and the cache belong to the running instance; everything else (modules,
    # trust anchor and hints files, option names) is executed for real.
    return (
        "\n".join(
            [
                "-- Generated by dnssec-doctor: checks kresd.conf, then exits.",
                "net.listen = function() return true end",
                "net.outgoing_v4 = function() return true end",
                "net.outgoing_v6 = function() return true end",
                "cache.open = function() return true end",
                "cache.clear = function() return {} end",
                f"dofile({_lua(str(conf))})",
                "os.exit(0)",
            ]
        )
        + "\n"
    )


def _read_trust_anchor(instance_name: str, path: Path) -> tuple[str, ...]:
    """Return the root's DS (or DNSKEY) records as BIND ``trust-anchors`` entries."""
    anchors: list[str] = []
    for rdata in _anchor_records(instance_name, path):
        if isinstance(rdata, dns.rdtypes.ANY.DS.DS):
            anchors.append(
                f". static-ds {rdata.key_tag} {int(rdata.algorithm)} {int(rdata.digest_type)} "
                f'"{rdata.digest.hex().upper()}"'
            )
        elif isinstance(rdata, dns.rdtypes.ANY.DNSKEY.DNSKEY):
            key = base64.b64encode(rdata.key).decode("ascii")
            anchors.append(
                f'. static-key {rdata.flags} {rdata.protocol} {int(rdata.algorithm)} "{key}"'
            )
    return tuple(anchors)


def _anchor_records(instance_name: str, path: Path) -> list[dns.rdata.Rdata]:
    """The root's DS or DNSKEY records in a zone-file-form trust anchor file."""
    try:
        rrsets = dns.zonefile.read_rrsets(
            path.read_text(encoding="utf-8"),
            rdclass=None,
            origin=dns.name.root,
            relativize=False,
        )
    except (OSError, dns.exception.DNSException) as error:
        raise LabError(f"{instance_name}: cannot read trust anchor {path}: {error}") from error
    anchors: list[dns.rdata.Rdata] = []
    for rrset in rrsets:
        if rrset.name != dns.name.root or rrset.rdclass != dns.rdataclass.IN:
            raise LabError(f"{instance_name}: {path} holds {rrset.name}, not the root's anchor")
        for rdata in rrset:
            if not isinstance(rdata, dns.rdtypes.ANY.DS.DS | dns.rdtypes.ANY.DNSKEY.DNSKEY):
                raise LabError(
                    f"{instance_name}: {path} holds a {dns.rdatatype.to_text(rrset.rdtype)} "
                    "record; a trust anchor is DS or DNSKEY"
                )
            anchors.append(rdata)
    if not anchors:
        raise LabError(f"{instance_name}: {path} holds no DS record")
    return anchors


# --- control channels -------------------------------------------------------------------


def _run_control(instance_name: str, argv: tuple[str, ...]) -> None:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=_FLUSH_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise LabError(
            f"{instance_name}: {argv[0]} is not installed",
            hint=f"apt-get install {BINARY_PACKAGES.get(argv[0], argv[0])}",
        ) from None
    except subprocess.TimeoutExpired:
        raise LabError(f"{instance_name}: {' '.join(argv)} timed out") from None
    if done.returncode != 0:
        output = (done.stderr.strip() or done.stdout.strip()).replace("\n", " ")
        raise LabError(f"{instance_name}: {' '.join(argv)} failed: {output}")


def _kresd_command(instance_name: str, control: Path, command: str) -> str:
    """Run one Lua command on a kresd control socket and return its printed result."""
    # "__binary" makes kresd answer each command with a 4-byte big-endian length and the
    # text, instead of an interactive prompt we would have to parse. A "> " prompt may
    # still come first, depending on how kresd's reads split the two lines.
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(_FLUSH_TIMEOUT)
            sock.connect(str(control))
            sock.sendall(f"__binary\n{command}\n".encode())
            head = _receive_exactly(sock, 4)
            while head.startswith(_KRESD_PROMPT):
                head = head[len(_KRESD_PROMPT) :] + _receive_exactly(sock, len(_KRESD_PROMPT))
            length = int.from_bytes(head, "big")
            reply = _receive_exactly(sock, length).decode("utf-8", errors="replace")
    except OSError as error:
        raise LabError(f"{instance_name}: kresd control socket {control}: {error}") from error
    return reply


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("kresd closed the control connection")
        data += chunk
    return data


# --- small helpers ----------------------------------------------------------------------


def _make_workdir(workdir: Path) -> Path:
    workdir = workdir.resolve()
    _quote(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def _check_lab_address(instance_name: str, address: str) -> None:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise LabError(f"{instance_name}: {address!r} is not an IP address") from None
    network = LAB_NETWORK if parsed.version == 4 else LAB_IPV6_NETWORK
    if parsed not in network:
        raise LabError(f"{instance_name}: {address} is outside the lab network {network}")


def _has_ipv6(addresses: tuple[str, ...]) -> bool:
    return any(":" in address for address in addresses)


def _named_families(addresses: tuple[str, ...]) -> tuple[str, ...]:
    """named's -4 (IPv4 only) unless the instance has an IPv6 address."""
    return () if _has_ipv6(addresses) else ("-4",)


def _outside_lab6(instance: ResolverInstance) -> tuple[str, ...]:
    """The IPv6 networks a resolver must never query: all of them without IPv6."""
    return _OUTSIDE_LAB6 if instance.address6 else ("::/0",)


def _sources(instance: ResolverInstance) -> tuple[str, ...]:
    return (instance.address,) + ((instance.address6,) if instance.address6 else ())


def _absolute_origin(instance_name: str, origin: str) -> str:
    try:
        name = dns.name.from_text(origin)
    except dns.exception.DNSException as error:
        raise LabError(f"{instance_name}: bad zone origin {origin!r}: {error}") from error
    if not origin.endswith("."):
        raise LabError(f"{instance_name}: zone origin {origin!r} must end with a dot")
    return name.to_text()


def _check_socket_path(instance_name: str, path: Path) -> None:
    if len(str(path).encode()) > _MAX_SOCKET_PATH:
        raise LabError(
            f"{instance_name}: control socket path {path} is longer than {_MAX_SOCKET_PATH} bytes",
            hint="use a shorter lab directory",
        )


def _quote_text(text: str) -> str:
    if any(char in text for char in '"\\\n\r'):
        raise LabError(f"cannot write {text!r} into a server configuration")
    return f'"{text}"'


def _quote(path: Path) -> str:
    return _quote_text(str(path))


def _lua(text: str) -> str:
    if any(char in text for char in "'\\\n\r"):
        raise LabError(f"cannot write {text!r} into a kresd configuration")
    return f"'{text}'"
