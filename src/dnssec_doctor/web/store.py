"""Stored results: every check's snapshot under a stable, unguessable id.

A result is its snapshot and the moment it was judged at; the report is rebuilt from them
(``build_report`` is deterministic for a snapshot and a moment), so the page shown later
is the same page, with the same evidence. SQLite from the standard library; each call
opens its own connection, so the store can be used from worker threads.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from dnssec_doctor.model.snapshot import Snapshot, load_snapshot

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    verdict TEXT NOT NULL,
    judged_at REAL NOT NULL,
    snapshot TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class StoredResult:
    id: str
    created_at: float
    judged_at: float
    snapshot: Snapshot


class ResultStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def save(self, snapshot: Snapshot, judged_at: float, verdict: str) -> StoredResult:
        result_id = secrets.token_urlsafe(12)
        created = time.time()
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    result_id,
                    created,
                    snapshot.name,
                    snapshot.rdtype,
                    verdict,
                    judged_at,
                    json.dumps(snapshot.to_json()),
                ),
            )
        return StoredResult(result_id, created, judged_at, snapshot)

    def load(self, result_id: str) -> StoredResult | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT id, created_at, judged_at, snapshot FROM results WHERE id = ?",
                (result_id,),
            ).fetchone()
        if row is None:
            return None
        return StoredResult(
            str(row[0]), float(row[1]), float(row[2]), load_snapshot(json.loads(row[3]))
        )
