"""The HTTP server's own defences against slow and greedy clients (``serve``).

uvicorn as it comes waits for a request head for ever, accepts connections until the
process runs out of file descriptors, and then logs a traceback per failed accept. Here:

- a request's head (and body) must arrive within ``head_timeout`` seconds of the
  connection opening or of the previous response; a client that trickles header lines
  is cut off then (slowloris);
- at most ``max_connections`` connections at once, and ``max_per_client`` from one
  client (an IPv4 address, an IPv6 /64): further connections are closed at once, so
  a few slow clients cannot hold every connection a legitimate user needs;
- the listen backlog is bounded, and the open-file limit is raised to what the
  connection cap needs (or the cap refused when the hard limit is too low);
- the server's log is rate-bounded: a flood of identical errors becomes one line a
  second saying how many were dropped.

This is defence in depth: a public instance belongs behind a reverse proxy (SECURITY.md,
``docs/nginx.conf``), which buffers requests and enforces the same bounds before a
request reaches us.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from dnssec_doctor.errors import UsageError
from dnssec_doctor.web.limits import client_key

if TYPE_CHECKING:
    from dnssec_doctor.web.serve import ServerLimits  # serve imports this module to run

FILES_BESIDE_CONNECTIONS = 64  # the database, the listening socket, DNS sockets of checks


def guarded_protocol(limits: ServerLimits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a head timeout and connection caps."""
    per_client: Counter[str] = Counter()
    proxies = {client_key(p, limits.ipv6_prefix) for p in limits.proxies}
    everyone: set[object] = set()

    class GuardedProtocol(H11Protocol):
        _key: str | None = None
        _timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            key = client_key(self.client[0], limits.ipv6_prefix) if self.client else "unknown"
            mine = per_client[key] >= limits.max_per_client and key not in proxies
            if len(everyone) >= limits.max_connections or mine:
                transport.abort()  # not counted: connection_lost finds no key
                return
            self._key = key
            per_client[key] += 1
            everyone.add(self)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._key is not None:
                per_client[self._key] -= 1
                if per_client[self._key] <= 0:
                    del per_client[self._key]
                self._key = None
                everyone.discard(self)
            if self._timer is not None:
                self._timer.cancel()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def _arm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_later(limits.head_timeout, self._head_late)

        def _head_late(self) -> None:
            # IDLE: the head is not complete yet; SEND_BODY: the body is not. DONE means
            # the request is in and the app is answering: never cut that off here.
            late = self.conn.their_state in (h11.IDLE, h11.SEND_BODY)
            if late and not self.transport.is_closing():
                self.transport.close()

    return GuardedProtocol


class RateBoundedLog(logging.Filter):
    """A token bucket over log records: ``per_second`` on average, ``burst`` at once; the
    first record let through after a drop says how many were dropped."""

    def __init__(self, per_second: float, burst: int) -> None:
        super().__init__()
        self.per_second = per_second
        self.burst = burst
        self.tokens = float(burst)
        self.then = time.monotonic()
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        self.tokens = min(float(self.burst), self.tokens + (now - self.then) * self.per_second)
        self.then = now
        if self.tokens < 1:
            self.dropped += 1
            return False
        self.tokens -= 1
        if self.dropped:
            record.msg = f"[{self.dropped} log records dropped: rate bound] {record.msg}"
            self.dropped = 0
        return True


def raise_open_files(needed: int) -> int:
    """Raise the soft open-file limit towards the hard one; the soft limit after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        soft = want
    return soft


def server_config(app: Any, host: str, port: int, limits: ServerLimits) -> uvicorn.Config:
    """The uvicorn configuration of ``serve``: our protocol, bounds and log filter."""
    for name, value in (
        ("header timeout", limits.head_timeout),
        ("connection cap", limits.max_connections),
        ("per-client connection cap", limits.max_per_client),
    ):
        if not 0 < value < 10**6:
            raise UsageError(f"the {name} must be positive and sane, not {value}")
    needed = limits.max_connections + FILES_BESIDE_CONNECTIONS
    available = raise_open_files(needed)
    if available != resource.RLIM_INFINITY and available < needed:
        raise UsageError(
            f"{limits.max_connections} connections need {needed} open files; the limit is "
            f"{available}",
            hint=f"lower --max-connections below {available - FILES_BESIDE_CONNECTIONS} "
            "or raise the hard limit (ulimit -Hn)",
        )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(limits),
        backlog=limits.backlog,
        timeout_keep_alive=int(limits.keep_alive),
        h11_max_incomplete_event_size=16 * 1024,
        log_level="info",
        # Behind a trusted proxy the client is the one its X-Forwarded-For names.
        proxy_headers=bool(limits.proxies),
        forwarded_allow_ips=list(limits.proxies) or None,
        server_header=False,
    )
    # After the Config: it configures uvicorn's loggers when it is made.
    bound = RateBoundedLog(limits.log_per_second, limits.log_burst)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "asyncio", "dnssec_doctor.web"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RateBoundedLog) for f in logger.filters):
            logger.addFilter(bound)
    return config
