"""``serve`` against slow and greedy clients, for real on loopback (issue 18, item 2).

The app runs under the uvicorn configuration ``serve`` uses (``web.guard``). Attackers
connect from 127.0.0.2-127.0.0.9 (any 127.x address can be a source on Linux) and trickle
header lines (slowloris) or just hold connections open; a legitimate user on 127.0.0.1
must be served meanwhile, and the attackers' connections must be cut off in bounded time.
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import httpx
import pytest

from dnssec_doctor.web.guard import RateBoundedLog
from dnssec_doctor.web.limits import client_key
from dnssec_doctor.web.serve import ServerLimits
from web_support import guarded_server

LIMITS = ServerLimits(head_timeout=1.0, max_connections=40, max_per_client=6)


def attacker(port: int, source: str) -> socket.socket:
    connection = socket.socket()
    connection.bind((source, 0))
    connection.settimeout(5)
    connection.connect(("127.0.0.1", port))
    connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    return connection


def closed_within(connection: socket.socket, seconds: float, *, trickle: bool) -> float | None:
    """Seconds until the server closes the connection (None: still open after
    ``seconds``), sending a header line every 0.2 s if ``trickle``."""
    start = time.monotonic()
    connection.setblocking(False)
    while time.monotonic() - start < seconds:
        try:
            if connection.recv(4096) == b"":
                return time.monotonic() - start
        except BlockingIOError:
            pass
        except OSError:
            return time.monotonic() - start
        if trickle:
            try:
                connection.sendall(b"X-Slow: 1\r\n")
            except OSError:
                return time.monotonic() - start
        time.sleep(0.2)
    return None


def is_open(connection: socket.socket) -> bool:
    connection.setblocking(False)
    try:
        return connection.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def legitimate_get(host: str, port: int) -> tuple[int, float]:
    start = time.monotonic()
    response = httpx.get(f"http://{host}:{port}/", timeout=5)
    return response.status_code, time.monotonic() - start


def test_a_trickling_head_is_cut_off_and_others_are_served(tmp_path: Path) -> None:
    with guarded_server(tmp_path, LIMITS) as (host, port):
        slow = [attacker(port, f"127.0.0.{2 + i % 5}") for i in range(25)]
        # While 25 slow clients trickle header lines, the legitimate user is served.
        for _ in range(3):
            status, took = legitimate_get(host, port)
            assert status == 200 and took < 1.0, took
        cut = [closed_within(c, 4.0, trickle=True) for c in slow]
        assert all(t is not None and t < 3.0 for t in cut), cut
        for connection in slow:
            connection.close()


def test_one_client_gets_its_share_of_connections(tmp_path: Path) -> None:
    with guarded_server(tmp_path, LIMITS) as (host, port):
        held = [attacker(port, "127.0.0.2") for _ in range(LIMITS.max_per_client)]
        extra = attacker(port, "127.0.0.2")
        closed = closed_within(extra, 0.5, trickle=False)
        assert closed is not None and closed < 0.5
        assert all(is_open(c) for c in held)
        status, took = legitimate_get(host, port)
        assert status == 200 and took < 1.0
        for connection in (*held, extra):
            connection.close()


def test_the_connection_cap_holds_and_frees(tmp_path: Path) -> None:
    limits = ServerLimits(head_timeout=2.0, max_connections=12, max_per_client=6)
    with guarded_server(tmp_path, limits) as (host, port):
        held = [attacker(port, f"127.0.0.{2 + i % 4}") for i in range(12)]
        time.sleep(0.2)
        refused = attacker(port, "127.0.0.9")
        assert closed_within(refused, 0.5, trickle=False) is not None
        # The head timeout frees the slots: a client is served again afterwards.
        assert all(closed_within(c, 4.0, trickle=False) is not None for c in held)
        assert legitimate_get(host, port)[0] == 200
        for connection in (*held, refused):
            connection.close()


def test_a_request_being_answered_is_not_cut_off(tmp_path: Path) -> None:
    limits = ServerLimits(head_timeout=0.5, max_connections=12, max_per_client=6)
    with guarded_server(tmp_path, limits) as (host, port), httpx.Client() as client:
        # Keep-alive: several requests on one connection, each later than the timeout
        # after the connection opened.
        for _ in range(3):
            assert client.get(f"http://{host}:{port}/").status_code == 200
            time.sleep(0.3)


def test_log_floods_are_bounded() -> None:
    bound = RateBoundedLog(per_second=5, burst=20)
    record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "boom", None, None)
    passed = sum(bound.filter(record) for _ in range(10_000))
    assert 20 <= passed <= 25
    time.sleep(0.25)
    assert bound.filter(record)
    assert "dropped" in str(record.msg)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("unknown", "unknown"),
    ],
)
def test_limits_count_ipv6_per_64(address: str, key: str) -> None:
    assert client_key(address) == key
    assert client_key("2001:db8:1:2:3:4:5:6", 48) == "2001:db8:1::/48"
