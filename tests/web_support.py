"""Helpers for the web tests: an app that replays a stored snapshot (no network), and the
app served for real on loopback (for the browser)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from dnssec_doctor.model.snapshot import Snapshot, load_snapshot
from dnssec_doctor.probe.collect import AddressPolicy, ProbeSettings, ReplayTransport
from dnssec_doctor.web.app import WebConfig, create_app
from dnssec_doctor.web.guard import server_config
from dnssec_doctor.web.serve import ServerLimits

SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def stored_snapshot(slug: str) -> Snapshot:
    return load_snapshot(json.loads((SNAPSHOTS / f"{slug}.json").read_text()))


def replay_app(slug: str, database: Path, **limits: float) -> tuple[FastAPI, Snapshot]:
    """The web app whose checks replay a stored lab snapshot instead of the network."""
    snapshot = stored_snapshot(slug)
    settings = ProbeSettings(
        root_hints=snapshot.zones[0].servers,
        trust_anchors=snapshot.trust_anchors,
        resolvers=snapshot.resolvers,
        address_policy=AddressPolicy.LOOPBACK_ONLY,
    )
    config = WebConfig(
        settings=settings,
        database=database,
        lab=True,
        transport=lambda: ReplayTransport(snapshot),
        **limits,  # type: ignore[arg-type]
    )
    return create_app(config), snapshot


@contextmanager
def guarded_server(
    tmp_path: Path, limits: ServerLimits, app: FastAPI | None = None, **web: float
) -> Iterator[tuple[str, int]]:
    """The app (by default one replaying secure-nsec) under serve's uvicorn configuration
    (``web.guard``) on a free port."""
    if app is None:
        app, _ = replay_app("secure-nsec", tmp_path / "results.sqlite", **web)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, limits))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app on a free loopback port, in a thread; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
