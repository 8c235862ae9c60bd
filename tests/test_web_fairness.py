"""Cheap denial of service against the check slots (issue 18, item 6): a check whose client
hung up is cancelled and frees its slot, and one client gets only its share of the slots.
The app runs for real on loopback under serve's configuration; its checks replay a lab
snapshot slowly (as a zone answering late would), so they are running when we look."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from dnssec_doctor.model.snapshot import Server, Snapshot
from dnssec_doctor.probe.transport import ReplayTransport, Reply
from dnssec_doctor.web.serve import ServerLimits
from web_support import guarded_server, replay_app

NAME = "www.secure-nsec.lab."
LIMITS = ServerLimits(proxies=())


class SlowReplay(ReplayTransport):
    """The snapshot's answers, each ``delay`` seconds late; counts what was asked."""

    asked = 0

    def __init__(self, recorded: Snapshot, delay: float) -> None:
        super().__init__(recorded)
        self.delay = delay

    async def exchange(self, query: Any, server: Server, *, tcp: bool, timeout: float) -> Reply:
        await asyncio.sleep(self.delay)
        SlowReplay.asked += 1
        return await super().exchange(query, server, tcp=tcp, timeout=timeout)


def slow_app(tmp_path: Path, delay: float, **web: float) -> Any:
    app, snapshot = replay_app("secure-nsec", tmp_path / "r.sqlite3", rate_burst=50, **web)
    checks = app.state.checks
    checks.config = dataclasses.replace(
        checks.config, transport=lambda: SlowReplay(snapshot, delay)
    )
    return app


def test_a_check_nobody_waits_for_is_cancelled(tmp_path: Path) -> None:
    app = slow_app(tmp_path, 0.3)
    with guarded_server(tmp_path, LIMITS, app) as (host, port):
        client = socket.create_connection((host, port))
        client.sendall(f"GET /api/check?name={NAME} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.8)
        assert app.state.checks.slots.active == 1
        client.close()  # the user gave up
        deadline = time.monotonic() + 3
        while app.state.checks.slots.active and time.monotonic() < deadline:
            time.sleep(0.05)
        assert app.state.checks.slots.active == 0
        asked = SlowReplay.asked
        time.sleep(1.0)
        assert SlowReplay.asked == asked  # nothing more is asked for nobody


def test_one_client_gets_its_share_of_the_slots(tmp_path: Path) -> None:
    app = slow_app(tmp_path, 0.1, max_concurrent=4)
    results: dict[str, int] = {}

    def check(source: str, label: str) -> None:
        transport = httpx.HTTPTransport(local_address=source)
        with httpx.Client(transport=transport, timeout=60) as client:
            results[label] = client.get(f"{url}/api/check", params={"name": NAME}).status_code

    with guarded_server(tmp_path, LIMITS, app) as (host, port):
        url = f"http://{host}:{port}"
        greedy = [
            threading.Thread(target=check, args=("127.0.0.2", f"greedy {n}")) for n in range(4)
        ]
        for thread in greedy:
            thread.start()
            time.sleep(0.1)
        # The greedy client holds one slot of four; the others are refused at once.
        assert app.state.checks.slots.active == 1
        user = threading.Thread(target=check, args=("127.0.0.1", "user"))
        user.start()
        for thread in (*greedy, user):
            thread.join(60)
    assert results["user"] == 200
    assert sorted(results[f"greedy {n}"] for n in range(4)) == [200, 429, 429, 429]
