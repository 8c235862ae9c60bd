"""Round trips in a row, read from a snapshot: what the probe waited for, and what it had to.

On a network where every server is some distance away, a probe takes about as long as
the answers it waits for one after another. Two counts, both from the snapshot alone:

- ``answers_in_a_row``: the longest chain of exchanges in which each query was sent after
  the answer it recorded in ``after`` (what the probe really waited for).
- ``critical_path``: the fewest answers in a row that the same queries allow. A query can
  be sent once its server's address, its zone (a server is asked as a server of a zone)
  and its question are known: a root hint, the root, a resolver and the name asked are
  known from the start; any other address or name from the first answer that carries it
  (glue, an address record, a delegation's NS owner or target, a CNAME or DNAME target;
  only records inside the zone the server was asked about, as the walk trusts them);
  a question over TCP after a truncated answer needs that answer. Its depth is one more
  than the latest of those answers' depths.

Both count a timeout as an answer: it is waited for the same way.
"""

from __future__ import annotations

from typing import TypeVar

import dns.exception
import dns.flags
import dns.message
import dns.name

from dnssec_doctor.model.snapshot import Exchange, Purpose, Role, Server, Snapshot, Transport

_K = TypeVar("_K")

_APEX = frozenset(
    {
        Purpose.DNSKEY,
        Purpose.SOA,
        Purpose.NS,
        Purpose.CDS,
        Purpose.CDNSKEY,
        Purpose.DENIAL,
        Purpose.DS,
    }
)


def answers_in_a_row(snapshot: Snapshot) -> int:
    """The longest chain of answers the probe waited for one after another."""
    depth: dict[int, int] = {}
    for exchange in sorted(snapshot.exchanges, key=lambda e: e.id):
        before = depth.get(exchange.after, 0) if exchange.after is not None else 0
        depth[exchange.id] = before + 1
    return max(depth.values(), default=0)


def critical_path(snapshot: Snapshot) -> int:
    """The fewest answers in a row that the snapshot's queries need (see the module)."""
    known_addresses: dict[str, int] = {s.address: 0 for s in _root_hints(snapshot)}
    known_addresses.update(dict.fromkeys(snapshot.resolvers, 0))
    known_names: dict[dns.name.Name, int] = {dns.name.root: 0}
    for name, _ in snapshot.targets[:1] or ((snapshot.name, snapshot.rdtype),):
        known_names[_name(name)] = 0
    truncated: dict[tuple[str, str, str], int] = {}
    deepest = 0
    for exchange in sorted(snapshot.exchanges, key=lambda e: e.id):
        needs = [known_addresses.get(exchange.server.address, 0)]
        if exchange.role is Role.AUTHORITATIVE:
            needs.append(_name_depth(exchange, known_names))
        key = (exchange.server.address, exchange.qname.lower(), exchange.qtype)
        if exchange.transport is Transport.TCP and key in truncated:
            needs.append(truncated[key])
        depth = max(needs) + 1
        deepest = max(deepest, depth)
        message = _message(exchange)
        if message is None or exchange.role is not Role.AUTHORITATIVE:
            continue
        if message.flags & dns.flags.TC:
            _learn(truncated, key, depth)
        zone = _name(exchange.zone) if exchange.zone else dns.name.root
        for section in (message.answer, message.authority, message.additional):
            for rrset in section:
                if not rrset.name.is_subdomain(zone):
                    continue  # what a server says outside its zone is not followed
                _learn(known_names, rrset.name, depth)
                for rdata in rrset:
                    target = getattr(rdata, "target", None)
                    if isinstance(target, dns.name.Name):
                        _learn(known_names, target, depth)
                    address = getattr(rdata, "address", None)
                    if isinstance(address, str):
                        _learn(known_addresses, address, depth)
    return deepest


def _learn(known: dict[_K, int], key: _K, depth: int) -> None:
    """Known from the shallowest answer that carries it (ids are in sending order, not
    in the order answers came)."""
    known[key] = min(known.get(key, depth), depth)


def _root_hints(snapshot: Snapshot) -> tuple[Server, ...]:
    for cut in snapshot.zones:
        if cut.parent is None:
            return cut.servers
    return ()


def _name_depth(exchange: Exchange, known: dict[dns.name.Name, int]) -> int:
    """When the question of an authoritative exchange could be asked: its zone known (a
    server is asked as a server of a zone, named by a delegation), and the name itself
    for the target and address questions (the apex and denial names come from the
    zone's)."""
    zone = known.get(_name(exchange.zone), 0) if exchange.zone else 0
    if exchange.purpose in _APEX:
        return zone
    return max(zone, known.get(_name(exchange.qname), 0))


def _name(text: str) -> dns.name.Name:
    try:
        return dns.name.from_text(text)
    except dns.exception.DNSException:
        return dns.name.root


def _message(exchange: Exchange) -> dns.message.Message | None:
    if not exchange.response:
        return None
    try:
        return dns.message.from_wire(
            exchange.response, ignore_trailing=True, continue_on_error=True
        )
    except Exception:  # hostile bytes: an answer that names nothing
        return None
