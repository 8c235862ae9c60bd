"""The probe's inputs: where the walk starts, whom to ask, and the limits it keeps.

``ProbeSettings`` is one frozen value passed to ``collect_snapshot``. Root hints and trust
anchors come from files (``read_root_hints``, ``read_trust_anchors``) that are parsed with
dnspython; a bad line is a ``UsageError`` naming the file and the line.

The address policy decides which addresses may be asked at all. It applies to every
address, configured or learned from DNS (glue, address lookups): an address it refuses
is not asked and the refusal is recorded in the snapshot's notes.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zonefile

from dnssec_doctor.errors import UsageError
from dnssec_doctor.files import MIB, read_text
from dnssec_doctor.model.snapshot import Server

DEFAULT_TIMEOUT = 2.0
DEFAULT_RESOLVER_TIMEOUT = 5.0
DEFAULT_DEADLINE = 20.0
DEFAULT_MAX_QUERIES = 500
DEFAULT_CONCURRENCY = 32

# The lab's IPv6 addresses (a unique local prefix, RFC 4193): the lab adds them only inside
# a private network namespace, so they reach nothing outside it.
LAB_IPV6_NETWORK = ipaddress.IPv6Network("fd53::/64")


class AddressPolicy(enum.StrEnum):
    """Which addresses the probe may send to."""

    ANY = "any"  # every unicast address
    PUBLIC_ONLY = "public-only"  # globally routable only: what a web service must use
    LOOPBACK_ONLY = "loopback-only"  # 127.0.0.0/8 and ::1: tests
    LAB = "lab"  # loopback and the lab's IPv6 prefix (LAB_IPV6_NETWORK): --lab

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        # Never a name server, whatever the policy: these would reach many hosts or none.
        if ip.is_unspecified or ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255"):
            return False
        if self is AddressPolicy.PUBLIC_ONLY:
            return is_public(ip)
        if self is AddressPolicy.LOOPBACK_ONLY:
            return ip.is_loopback
        if self is AddressPolicy.LAB:
            return ip.is_loopback or ip in LAB_IPV6_NETWORK
        return True


# Special-purpose ranges Python's ``is_global`` lets through (IANA's special-purpose
# registries): no public name server lives there, and some reach internal networks.
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "192.0.0.0/24",  # IETF protocol assignments (DS-Lite, NAT64 discovery, ...)
        "198.18.0.0/15",  # benchmarking
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215): translates into private space
        "fec0::/10",  # site-local (deprecated, still routed internally by some)
        "::/96",  # IPv4-compatible (deprecated)
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
        "2001::/23",  # IETF protocol assignments, Teredo among them
    )
)
# Forms whose last 32 bits are an IPv4 address.
_LOW_32_IS_IPV4 = tuple(
    ipaddress.ip_network(n) for n in ("64:ff9b::/96", "::/96", "::ffff:0:0:0/96")
)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address leads to: NAT64 (64:ff9b::/96), 6to4, Teredo
    (server and client), IPv4-mapped, -translated and -compatible forms."""
    found: list[ipaddress.IPv4Address] = []
    low = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in network for network in _LOW_32_IS_IPV4):
        found.append(low)
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found += ip.teredo
    return tuple(found)


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally reachable, in no special-purpose range, and every IPv4 address it embeds
    public by the same test."""
    if not ip.is_global or any(ip in network for network in _NOT_PUBLIC):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return all(is_public(v4) for v4 in embedded_ipv4(ip))
    return True


def _has_route(address: str) -> bool:
    # The transport (asyncio) loads only when a probe runs: these settings are also
    # built by commands that never probe.
    from dnssec_doctor.probe.transport import has_route

    return has_route(address)


@dataclass(frozen=True)
class ProbeSettings:
    """Everything one collection needs besides the name and the transport."""

    root_hints: tuple[Server, ...]
    trust_anchors: tuple[str, ...] = ()  # DS or DNSKEY records, zone-file form (recorded only)
    resolvers: tuple[str, ...] = ()  # addresses of recursive resolvers to compare
    timeout: float = DEFAULT_TIMEOUT  # seconds, per query to an authoritative server
    # Seconds per query to a resolver: it recurses, and retries unresponsive servers
    # before it answers SERVFAIL (with EDE 22), which is the answer worth waiting for.
    resolver_timeout: float = DEFAULT_RESOLVER_TIMEOUT
    deadline: float = DEFAULT_DEADLINE  # seconds, the whole collection
    max_queries: int = DEFAULT_MAX_QUERIES  # queries sent, TCP retries included
    concurrency: int = DEFAULT_CONCURRENCY  # queries in flight at once
    address_policy: AddressPolicy = AddressPolicy.ANY
    # CNAME/DNAME targets followed after the name itself: more than validators follow
    # (measured: Unbound 1.17 and BIND 9.18 11, Knot Resolver 5.6 12): an over-long
    # chain shows.
    max_redirects: int = 16
    max_cuts: int = 32  # zone cuts on the way to one name
    max_address_depth: int = 3  # nested lookups of NS names without glue
    # Whether the host can reach an IPv6 address: a route lookup that sends nothing.
    ipv6_route: Callable[[str], bool] = _has_route
    # Parse every response as it comes, while the probe waits for the next ones, so that
    # an analysis in this process finds it parsed (check). A scan whose analysis runs in
    # other processes turns it off: only the responses the walk follows are parsed here.
    read_ahead: bool = True
    # Probe each server of the zone that holds the name over TCP, with an unknown EDNS
    # option and with EDNS version 1 (three queries a server): check does, scan and watch
    # do not.
    transport_probes: bool = False

    def __post_init__(self) -> None:
        for field_name in ("timeout", "resolver_timeout", "deadline"):
            value = getattr(self, field_name)
            if not value > 0:
                raise UsageError(f"the probe {field_name} must be positive, not {value!r}")
        for field_name in ("max_queries", "concurrency", "max_cuts"):
            value = getattr(self, field_name)
            if value < 1:
                raise UsageError(f"the probe's {field_name} must be at least 1, not {value!r}")
        if self.max_redirects < 0 or self.max_address_depth < 0:
            raise UsageError("the probe's redirect and address-lookup bounds cannot be negative")
        for address in self.resolvers:
            _check_address(address, "resolver")
        for server in self.root_hints:
            _check_address(server.address, "root hint")


def _check_address(address: str, what: str) -> None:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise UsageError(
            f"{what} {address!r} is not an IP address",
            hint="give addresses, not host names: the probe never asks the system resolver",
        ) from None


def read_root_hints(path: Path) -> tuple[Server, ...]:
    """The root servers of a named.root-style file: NS records for ``.`` and their
    A/AAAA records."""
    rrsets = _read_records(path)
    ns_names: list[dns.name.Name] = []
    addresses: dict[dns.name.Name, list[str]] = {}
    for rrset in rrsets:
        if rrset.rdtype == dns.rdatatype.NS and rrset.name == dns.name.root:
            ns_names += [rdata.target for rdata in rrset]
        elif rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            addresses.setdefault(rrset.name, []).extend(rdata.address for rdata in rrset)
    if not ns_names:
        raise UsageError(f"{path}: no NS records for the root '.' in the root hints")
    servers = [
        Server(address=address, name=name.to_text())
        for name in dict.fromkeys(ns_names)
        for address in addresses.get(name, ())
    ]
    if not servers:
        raise UsageError(f"{path}: no address (A or AAAA) for any root server named by NS")
    return tuple(dict.fromkeys(servers))


def read_trust_anchors(path: Path) -> tuple[str, ...]:
    """DS or DNSKEY records in zone-file form, one normalised record per entry."""
    rrsets = _read_records(path)
    anchors: list[str] = []
    for rrset in rrsets:
        if rrset.rdtype not in (dns.rdatatype.DS, dns.rdatatype.DNSKEY):
            raise UsageError(
                f"{path}: a trust anchor must be a DS or DNSKEY record, "
                f"not {dns.rdatatype.to_text(rrset.rdtype)} ({rrset.name})"
            )
        anchors += rrset.to_text().splitlines()
    if not anchors:
        raise UsageError(f"{path}: no DS or DNSKEY record in the trust anchor file")
    return tuple(anchors)


_LINE = re.compile(r"^<input>:(\d+):\s*")


def _read_records(path: Path) -> list[dns.rrset.RRset]:
    text = read_text(path, "zone", 16 * MIB)  # named.root is 3 KB, an anchor file less
    try:
        return _parse_records(text)
    except (dns.exception.DNSException, ValueError) as error:
        line, detail = _locate_error(text, error)
        raise UsageError(f"{path}:{line}: {detail}") from None


def _parse_records(text: str) -> list[dns.rrset.RRset]:
    # rdclass=None: the class may be written or left out (named.root leaves it out).
    rrsets = dns.zonefile.read_rrsets(
        text,
        origin=dns.name.root,
        relativize=False,
        rdclass=None,
        default_rdclass=dns.rdataclass.IN,
    )
    for rrset in rrsets:
        if rrset.rdclass != dns.rdataclass.IN:
            raise ValueError(f"class {dns.rdataclass.to_text(rrset.rdclass)} is not IN")
    return rrsets


def _locate_error(text: str, error: Exception) -> tuple[int | str, str]:
    """The line a parse error is on. dnspython counts the line after a record whose data
    fails (it has read the newline by then), so a single-line record is re-read alone to
    find the line that really fails."""
    message = str(error)
    match = _LINE.match(message)
    detail = _LINE.sub("", message) or type(error).__name__
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split(";", 1)[0].rstrip()
        # Lines that depend on context (a continued owner, parentheses, directives)
        # cannot be read alone.
        if not content or content[0].isspace() or content.startswith("$"):
            continue
        if "(" in content or ")" in content:
            continue
        try:
            _parse_records(line + "\n")
        except (dns.exception.DNSException, ValueError) as single:
            return number, _LINE.sub("", str(single)) or detail
    return (int(match.group(1)) if match else "?"), detail
