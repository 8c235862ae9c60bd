"""What keeps a public deployment from being used against others or against itself: a
per-client rate limit and a cap on checks running at once (the per-check query budget and
deadline are ``ProbeSettings``)."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    """A token bucket per client: ``burst`` checks at once, then ``per_minute``."""

    per_minute: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, when

    def take(self, client: str) -> float:
        """Take one token; 0 when granted, else the seconds until one is available."""
        now = self.clock()
        rate = self.per_minute / 60
        tokens, then = self.buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * rate)
        if tokens >= 1:
            self.buckets[client] = (tokens - 1, now)
            self._forget(now, rate)
            return 0.0
        self.buckets[client] = (tokens, now)
        return (1 - tokens) / rate if rate > 0 else 3600.0

    def _forget(self, now: float, rate: float) -> None:
        """Drop the buckets that are full again, so the table cannot grow without bound."""
        if len(self.buckets) < 10_000 or rate <= 0:
            return
        full = self.burst / rate
        for client, (_, then) in list(self.buckets.items()):
            if now - then > full:
                del self.buckets[client]


@dataclass
class CheckSlots:
    """At most ``limit`` checks at once, and at most ``per_client`` of them for one client
    (so a few addresses cannot hold every slot); the next is refused, not queued (a queue
    would hold connections open and hide the overload)."""

    limit: int
    per_client: int | None = None  # None: no share, the whole limit
    active: int = 0
    by_client: dict[str, int] = field(default_factory=dict)

    def acquire(self, client: str = "") -> bool:
        if self.active >= self.limit:
            return False
        if self.per_client is not None and self.by_client.get(client, 0) >= self.per_client:
            return False
        self.active += 1
        self.by_client[client] = self.by_client.get(client, 0) + 1
        return True

    def held_by(self, client: str) -> int:
        return self.by_client.get(client, 0)

    def release(self, client: str = "") -> None:
        self.active = max(0, self.active - 1)
        held = self.by_client.get(client, 0) - 1
        if held > 0:
            self.by_client[client] = held
        else:
            self.by_client.pop(client, None)


def client_key(address: str, ipv6_prefix: int = 64) -> str:
    """The identity a limit counts against: the IPv4 address, or the IPv6 network of
    ``ipv6_prefix`` bits (one customer usually holds a whole /64, so counting single IPv6
    addresses would give one client unlimited identities)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))
    return str(ip)
