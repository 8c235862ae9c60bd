"""Bounded storage for ``serve`` (issue 18, item 3): a hostile zone's large answers cannot
inflate the results database, old results go, the report cache has a memory bound, and
every route is rate-limited."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from dnssec_doctor.model.snapshot import Snapshot
from dnssec_doctor.web.store import ResultStore, bound_snapshot, evidence_bytes
from web_support import replay_app, stored_snapshot

NAME = "www.ds-bad-digest.lab."


def inflated(snapshot: Snapshot, extra: int) -> Snapshot:
    """Each answer with ``extra`` random bytes after it, as a hostile zone's servers can
    send (a 64 KB TCP answer from each of many servers): incompressible."""
    return dataclasses.replace(
        snapshot,
        exchanges=tuple(
            dataclasses.replace(e, response=e.response + os.urandom(extra)) if e.response else e
            for e in snapshot.exchanges
        ),
    )


def test_a_hostile_snapshot_is_stored_within_the_cap(tmp_path: Path) -> None:
    big = inflated(stored_snapshot("ds-bad-digest"), 60_000)  # ~2.3 MB of answers
    assert evidence_bytes(big) > 2_000_000
    store = ResultStore(tmp_path / "r.sqlite3")
    kept, packed = store.prepare(big)
    assert len(packed) <= store.max_snapshot
    assert any("not stored" in note for note in kept.notes)
    dropped = [e for e in kept.exchanges if e.error and "storage cap" in e.error]
    assert dropped and all(e.response is None for e in dropped)
    # The largest answers went first: every one kept is no larger than any dropped.
    sizes = {e.id: len(e.response or b"") for e in big.exchanges}
    kept_sizes = [sizes[e.id] for e in kept.exchanges if e.response]
    assert max(kept_sizes, default=0) <= min(sizes[e.id] for e in dropped)
    saved = store.save(kept, kept.finished_at, "bogus", packed)
    loaded = store.load(saved.id)
    assert loaded is not None and loaded.snapshot == kept
    assert store.total_bytes() <= store.max_snapshot
    # A snapshot within the cap is stored whole, compressed.
    small = stored_snapshot("ds-bad-digest")
    assert bound_snapshot(small)[0] == small
    assert len(bound_snapshot(small)[1]) < len(small.dumps()) / 3


def test_the_live_page_and_the_link_agree_on_trimmed_evidence(tmp_path: Path) -> None:
    app, _ = replay_app(
        "ds-bad-digest", tmp_path / "r.sqlite3", store_max_snapshot=6_000, rate_burst=50
    )
    client = TestClient(app)
    live = client.get("/api/check", params={"name": NAME})
    assert live.status_code == 200
    later = client.get(f"/api/results/{live.headers['X-Result-Id']}")
    assert later.json() == live.json()
    assert any("not stored" in note for note in live.json()["notes"])
    with sqlite3.connect(tmp_path / "r.sqlite3") as db:
        (size,) = db.execute("SELECT length(snapshot) FROM results").fetchone()
    assert size <= 6_000


def test_retention_by_age_and_total_size(tmp_path: Path) -> None:
    snapshot = inflated(stored_snapshot("secure-nsec"), 2_000)
    store = ResultStore(tmp_path / "r.sqlite3", keep_seconds=1000.0, max_total=10**9)
    ids = [store.save(snapshot, 0.0, "secure").id for _ in range(6)]
    one = store.total_bytes() // 6
    with sqlite3.connect(store.path) as db:  # the first two are old
        db.executemany(
            "UPDATE results SET created_at = created_at - 5000 WHERE id = ?",
            [(i,) for i in ids[:2]],
        )
        for age, result_id in enumerate(reversed(ids[2:])):
            db.execute(
                "UPDATE results SET created_at = created_at - ? WHERE id = ?", (age, result_id)
            )
    now = max(r.created_at for r in map(store.load, ids[2:]) if r is not None) + 1
    assert store.prune(now) == 2
    assert [store.load(i) is None for i in ids] == [True, True, False, False, False, False]
    store.max_total = int(one * 2.5)
    assert store.prune(now) == 2  # the oldest two of the four left
    assert [store.load(i) is None for i in ids] == [True] * 4 + [False] * 2
    assert store.total_bytes() <= store.max_total


def test_the_report_cache_has_a_memory_bound(tmp_path: Path) -> None:
    app, snapshot = replay_app("ds-bad-digest", tmp_path / "r.sqlite3", rate_burst=50)
    checks = app.state.checks
    client = TestClient(app)
    ids = [client.get("/api/check", params={"name": NAME}).headers["X-Result-Id"]]
    # One check as the app holds it: the recorded snapshot's evidence, plus the questions
    # today's probe asks that the recording lacks (replayed as timeouts).
    one = checks.cached_bytes
    assert one >= evidence_bytes(snapshot)
    checks.config = dataclasses.replace(checks.config, cache_bytes=one * 3)
    ids += [
        client.get("/api/check", params={"name": NAME}).headers["X-Result-Id"] for _ in range(7)
    ]
    assert len(checks.reports) == 3 and checks.cached_bytes <= one * 3
    assert set(checks.reports) == set(ids[-3:])  # the newest stay
    assert client.get(f"/results/{ids[0]}").status_code == 200  # rebuilt from the store


def test_every_route_is_rate_limited(tmp_path: Path) -> None:
    app, _ = replay_app(
        "ds-bad-digest", tmp_path / "r.sqlite3", requests_per_minute=1.0, requests_burst=4
    )
    client = TestClient(app)
    result = client.get("/api/check", params={"name": NAME}).headers["X-Result-Id"]
    codes = [
        client.get(path).status_code
        for path in (
            f"/results/{result}",
            f"/api/results/{result}",
            "/static/style.css",
            "/",
            "/results/x",
        )
    ]
    assert codes == [200, 200, 200, 429, 429]
    refused = client.get(f"/results/{result}")
    assert refused.headers["Retry-After"] and refused.headers["X-Content-Type-Options"]


def test_rebuilding_results_has_a_cap(tmp_path: Path) -> None:
    app, _ = replay_app("ds-bad-digest", tmp_path / "r.sqlite3", rate_burst=50)
    client = TestClient(app)
    result = client.get("/api/check", params={"name": NAME}).headers["X-Result-Id"]
    checks = app.state.checks
    checks.reports.clear()
    checks.cached_bytes = 0
    checks.rebuilds.active = checks.rebuilds.limit  # others are being judged
    busy = client.get(f"/results/{result}")
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    checks.rebuilds.active = 0
    assert client.get(f"/results/{result}").status_code == 200


def test_ipv6_clients_count_per_network_of_the_chosen_prefix(tmp_path: Path) -> None:
    for prefix, second in ((64, 429), (128, 200)):
        app, _ = replay_app(
            "ds-bad-digest", tmp_path / f"{prefix}.sqlite3", rate_burst=1, rate_per_minute=1.0
        )
        app.state.checks.config = dataclasses.replace(app.state.checks.config, ipv6_prefix=prefix)
        one = TestClient(app, client=("2001:db8:1:2::1", 5000))
        other = TestClient(app, client=("2001:db8:1:2:ffff::2", 5000))
        assert one.get("/api/check", params={"name": NAME}).status_code == 200
        assert other.get("/api/check", params={"name": NAME}).status_code == second
