"""Stored results: every check's snapshot under a stable, unguessable id.

A result is its snapshot and the moment it was judged at; the report is rebuilt from them
(``build_report`` is deterministic for a snapshot and a moment), so the page shown later
is the same page, with the same evidence. SQLite from the standard library; each call
opens its own connection, so the store can be used from worker threads.

Bounded, because a hostile zone can make one check's evidence large (many servers, 64 KB
answers) and anyone can run checks: each snapshot is stored compressed (zlib) and at most
``max_snapshot`` bytes compressed, the largest responses left out first until it fits
(``bound_snapshot``; the report is judged on what is stored, so the page and its link
agree); results older than ``keep_seconds`` are deleted, and the oldest go first while
the results together hold more than ``max_total`` bytes.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import sqlite3
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from dnssec_doctor.model.snapshot import Exchange, Snapshot, load_snapshot

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS results (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    verdict TEXT NOT NULL,
    judged_at REAL NOT NULL,
    snapshot TEXT NOT NULL
)
""",
    "CREATE INDEX IF NOT EXISTS results_created ON results (created_at)",
)
MAX_SNAPSHOT = 1 << 20  # bytes per result, compressed
MAX_UNCOMPRESSED = 64 << 20  # what a stored snapshot may inflate to when read back
KEEP_SECONDS = 30 * 86400.0
MAX_TOTAL = 1 << 30  # bytes of stored snapshots in all
PRUNE_EVERY = 60.0  # seconds between retention passes


@dataclass(frozen=True)
class StoredResult:
    id: str
    created_at: float
    judged_at: float
    snapshot: Snapshot


def compress_snapshot(snapshot: Snapshot) -> bytes:
    return zlib.compress(json.dumps(snapshot.to_json(), separators=(",", ":")).encode(), 6)


def bound_snapshot(snapshot: Snapshot, limit: int = MAX_SNAPSHOT) -> tuple[Snapshot, bytes]:
    """The snapshot as it will be stored, and its compressed form: at most ``limit``
    bytes, the largest responses left out first (each with a note of why)."""
    packed = compress_snapshot(snapshot)
    if len(packed) <= limit:
        return snapshot, packed
    exchanges = list(snapshot.exchanges)
    by_size = sorted(
        (i for i, e in enumerate(exchanges) if e.response),
        key=lambda i: len(exchanges[i].response or b""),
        reverse=True,
    )
    dropped = 0
    # Leave out half of what is left each round: few compressions even for 300 answers.
    while len(packed) > limit and by_size:
        cut, by_size = by_size[: max(1, len(by_size) // 2)], by_size[max(1, len(by_size) // 2) :]
        for index in cut:
            exchanges[index] = _without_response(exchanges[index])
        dropped += len(cut)
        trimmed = dataclasses.replace(
            snapshot,
            exchanges=tuple(exchanges),
            notes=(
                *snapshot.notes,
                f"{dropped} of the largest responses were not stored: the evidence of one "
                f"check is kept to {limit // 1024} KiB",
            ),
        )
        packed = compress_snapshot(trimmed)
    if len(packed) > limit:
        raise ValueError(f"a snapshot of {len(packed)} bytes without any response")
    return trimmed, packed


def _without_response(exchange: Exchange) -> Exchange:
    size = len(exchange.response or b"")
    return dataclasses.replace(
        exchange, response=None, error=f"response of {size} bytes not stored (storage cap)"
    )


def _read_snapshot(value: bytes | str) -> Snapshot:
    if isinstance(value, str):  # results stored before compression
        return load_snapshot(json.loads(value))
    inflate = zlib.decompressobj()
    text = inflate.decompress(value, MAX_UNCOMPRESSED)
    if inflate.unconsumed_tail:
        raise ValueError("a stored snapshot inflates beyond the bound")
    return load_snapshot(json.loads(text))


class ResultStore:
    def __init__(
        self,
        path: Path,
        *,
        max_snapshot: int = MAX_SNAPSHOT,
        keep_seconds: float = KEEP_SECONDS,
        max_total: int = MAX_TOTAL,
    ) -> None:
        self.path = path
        self.max_snapshot = max_snapshot
        self.keep_seconds = keep_seconds
        self.max_total = max_total
        self._pruned_at = 0.0
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            for statement in SCHEMA:
                connection.execute(statement)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def prepare(self, snapshot: Snapshot) -> tuple[Snapshot, bytes]:
        """What ``save`` will store for this snapshot (judge the report on it)."""
        return bound_snapshot(snapshot, self.max_snapshot)

    def save(
        self, snapshot: Snapshot, judged_at: float, verdict: str, packed: bytes | None = None
    ) -> StoredResult:
        """Store a snapshot (``packed``: its form from ``prepare``)."""
        if packed is None:
            snapshot, packed = self.prepare(snapshot)
        result_id = secrets.token_urlsafe(12)
        created = time.time()
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                (result_id, created, snapshot.name, snapshot.rdtype, verdict, judged_at, packed),
            )
        if created - self._pruned_at > PRUNE_EVERY:
            self.prune(created)
        return StoredResult(result_id, created, judged_at, snapshot)

    def prune(self, now: float) -> int:
        """Apply the retention: too old first, then the oldest while over the total."""
        self._pruned_at = now
        with self._connect() as connection:
            removed = connection.execute(
                "DELETE FROM results WHERE created_at < ?", (now - self.keep_seconds,)
            ).rowcount
            (total,) = connection.execute(
                "SELECT coalesce(sum(length(snapshot)), 0) FROM results"
            ).fetchone()
            if total > self.max_total:
                rows = connection.execute(
                    "SELECT id, length(snapshot) FROM results ORDER BY created_at"
                ).fetchall()
                doomed = []
                for result_id, size in rows:
                    if total <= self.max_total:
                        break
                    doomed.append((result_id,))
                    total -= size
                connection.executemany("DELETE FROM results WHERE id = ?", doomed)
                removed += len(doomed)
        return int(removed)

    def total_bytes(self) -> int:
        with self._connect() as connection:
            (total,) = connection.execute(
                "SELECT coalesce(sum(length(snapshot)), 0) FROM results"
            ).fetchone()
        return int(total)

    def load(self, result_id: str) -> StoredResult | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT id, created_at, judged_at, snapshot FROM results WHERE id = ?",
                (result_id,),
            ).fetchone()
        if row is None:
            return None
        return StoredResult(str(row[0]), float(row[1]), float(row[2]), _read_snapshot(row[3]))


def evidence_bytes(snapshot: Snapshot) -> int:
    """Roughly what a snapshot (and a report built on it) holds in memory."""
    return sum(len(e.response or b"") + 512 for e in snapshot.exchanges)
