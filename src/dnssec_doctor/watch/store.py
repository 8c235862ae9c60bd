"""The watch history: every check of every zone, its servers and its alerts, in SQLite or
PostgreSQL.

History is never lost or corrupted. Each zone's check is written in one transaction (the
check, its per-server rows and its alerts together), so a crash or a kill leaves either
all of it or none of it, and a commit is on disk when it returns (SQLite in WAL mode with
full synchronisation; PostgreSQL with synchronous commit). A run is opened and closed in
transactions of its own; a run left ``running`` by a process that died is marked
``interrupted`` when the next process opens the database, and the schedule resumes from
the last run's start. A zone that could not be checked is a row like any other, with the
verdict ``unchecked`` and the error.

Schema (version 1)::

    meta(key PRIMARY KEY, value)
    runs(id, started_at, finished_at, status running|complete|interrupted, zones)
    checks(id, run_id -> runs, zone, checked_at, verdict, exit_code, error,
           earliest_expiration, soa_expire, ds_match, conditions JSON, servers_count, report JSON)
    server_checks(check_id -> checks, server, serial, earliest_expiration, state)
    alerts(id, check_id -> checks, zone, kind, state, message, raised_at, delivered)
        delivered: 0 not yet, 1 delivered, 2 parked (the webhook rejected it for good)

``History`` holds all of this once; the engine is a ``Database`` (``watch/database.py``):
a SQLite file, or a PostgreSQL URL with the same schema, the same statements and the same
transactions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from dnssec_doctor.errors import UsageError
from dnssec_doctor.watch.alerts import Alert, AlertState
from dnssec_doctor.watch.database import Database, connect_database
from dnssec_doctor.watch.result import Condition, ServerResult, ZoneResult

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id {id},
    started_at {float} NOT NULL,
    finished_at {float},
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted')),
    zones {int} NOT NULL
);
CREATE TABLE IF NOT EXISTS checks (
    id {id},
    run_id {int} NOT NULL REFERENCES runs(id),
    zone TEXT NOT NULL,
    checked_at {float} NOT NULL,
    verdict TEXT NOT NULL,
    exit_code {int},
    error TEXT,
    earliest_expiration {int},
    soa_expire {int},
    ds_match {int},
    conditions TEXT NOT NULL,
    servers_count {int} NOT NULL,
    report TEXT
);
CREATE INDEX IF NOT EXISTS checks_by_zone ON checks (zone, id);
CREATE TABLE IF NOT EXISTS server_checks (
    check_id {int} NOT NULL REFERENCES checks(id),
    server TEXT NOT NULL,
    serial {int},
    earliest_expiration {int},
    state TEXT NOT NULL,
    PRIMARY KEY (check_id, server)
);
CREATE TABLE IF NOT EXISTS alerts (
    id {id},
    check_id {int} NOT NULL REFERENCES checks(id),
    zone TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    message TEXT NOT NULL,
    raised_at {float} NOT NULL,
    delivered {int} NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class RunRecord:
    id: int
    started_at: float
    finished_at: float | None
    status: str


@dataclass(frozen=True)
class StoredAlert:
    id: int
    alert: Alert


class History:
    """The history on one ``Database``: opening it creates the schema, checks its version
    and marks the runs a dead process left ``running`` as ``interrupted``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with self.transaction():
            schema = _SCHEMA.format(**db.column_types)
            for statement in schema.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            found = self.db.execute("SELECT value FROM meta WHERE key='schema'")
            if not found:
                self.db.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )
            elif int(found[0][0]) != SCHEMA_VERSION:
                raise UsageError(
                    f"{db.location} holds history schema {found[0][0]}, "
                    f"this version reads {SCHEMA_VERSION}"
                )
            # A run still "running" belongs to a process that died: close it.
            self.db.execute("UPDATE runs SET status='interrupted' WHERE status='running'")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.begin()
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def _insert(self, sql: str, params: tuple[object, ...]) -> int:
        """Run an ``INSERT … RETURNING id`` and give the new id."""
        [(new_id,)] = self.db.execute(sql + " RETURNING id", params)
        assert isinstance(new_id, int)
        return new_id

    # --- runs ------------------------------------------------------------------------

    def begin_run(self, started_at: float, zones: int) -> int:
        with self.transaction():
            return self._insert(
                "INSERT INTO runs (started_at, status, zones) VALUES (?, 'running', ?)",
                (started_at, zones),
            )

    def finish_run(self, run_id: int, finished_at: float) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE runs SET status='complete', finished_at=? WHERE id=?",
                (finished_at, run_id),
            )

    def last_run(self) -> RunRecord | None:
        rows = self.db.execute(
            "SELECT id, started_at, finished_at, status FROM runs ORDER BY id DESC LIMIT 1"
        )
        return RunRecord(*rows[0]) if rows else None

    def runs(self) -> list[RunRecord]:
        rows = self.db.execute("SELECT id, started_at, finished_at, status FROM runs ORDER BY id")
        return [RunRecord(*row) for row in rows]

    # --- checks ----------------------------------------------------------------------

    def record(self, run_id: int, result: ZoneResult, alerts: list[Alert]) -> int:
        """The check, its servers and its alerts: all or nothing."""
        with self.transaction():
            check_id = self._insert(
                "INSERT INTO checks (run_id, zone, checked_at, verdict, exit_code, error, "
                "earliest_expiration, soa_expire, ds_match, conditions, servers_count, report) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    result.zone,
                    result.checked_at,
                    result.verdict,
                    result.exit_code,
                    result.error,
                    result.earliest_expiration,
                    result.soa_expire,
                    None if result.ds_match is None else int(result.ds_match),
                    json.dumps({c.value: why for c, why in result.conditions.items()}),
                    len(result.servers),
                    None if result.report is None else json.dumps(result.report),
                ),
            )
            self.db.executemany(
                "INSERT INTO server_checks (check_id, server, serial, earliest_expiration, state) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (check_id, s.server, s.serial, s.earliest_expiration, s.state)
                    for s in result.servers
                ],
            )
            self.db.executemany(
                "INSERT INTO alerts (check_id, zone, kind, state, message, raised_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(check_id, a.zone, a.kind, a.state.value, a.message, a.at) for a in alerts],
            )
        return check_id

    def last_result(self, zone: str) -> ZoneResult | None:
        rows = self.db.execute(
            "SELECT id, zone, checked_at, verdict, exit_code, error, soa_expire, ds_match, "
            "conditions FROM checks WHERE zone=? ORDER BY id DESC LIMIT 1",
            (zone,),
        )
        if not rows:
            return None
        row = rows[0]
        servers = tuple(
            ServerResult(*r)
            for r in self.db.execute(
                "SELECT server, serial, earliest_expiration, state FROM server_checks "
                "WHERE check_id=? ORDER BY server",
                (row[0],),
            )
        )
        conditions = {Condition(k): v for k, v in json.loads(row[8]).items()}
        return ZoneResult(
            zone=row[1],
            checked_at=row[2],
            verdict=row[3],
            exit_code=row[4],
            error=row[5],
            servers=servers,
            soa_expire=row[6],
            ds_match=None if row[7] is None else bool(row[7]),
            conditions=conditions,
        )

    def count_checks(self) -> int:
        [(count,)] = self.db.execute("SELECT count(*) FROM checks")
        return int(count)

    # --- alerts ----------------------------------------------------------------------

    def undelivered_alerts(self) -> list[StoredAlert]:
        rows = self.db.execute(
            "SELECT id, zone, kind, state, message, raised_at FROM alerts WHERE delivered=0 "
            "ORDER BY id"
        )
        return [StoredAlert(r[0], Alert(r[1], r[2], AlertState(r[3]), r[4], r[5])) for r in rows]

    def mark_delivered(self, alert_ids: list[int]) -> None:
        with self.transaction():
            self.db.executemany(
                "UPDATE alerts SET delivered=1 WHERE id=?", [(i,) for i in alert_ids]
            )

    def park_alerts(self, alert_ids: list[int]) -> None:
        """Alerts the webhook rejected for good: kept, reported, never retried."""
        with self.transaction():
            self.db.executemany(
                "UPDATE alerts SET delivered=2 WHERE id=?", [(i,) for i in alert_ids]
            )

    def parked_alerts(self) -> list[StoredAlert]:
        rows = self.db.execute(
            "SELECT id, zone, kind, state, message, raised_at FROM alerts WHERE delivered=2 "
            "ORDER BY id"
        )
        return [StoredAlert(r[0], Alert(r[1], r[2], AlertState(r[3]), r[4], r[5])) for r in rows]

    def prune(self, before: float) -> int:
        """Delete the checks made before ``before`` with their server rows and alerts,
        and the runs left without checks; each zone's latest check stays (the next alert
        is judged against it), and so does any check an undelivered alert belongs to.
        One transaction: the history stays consistent. The number of checks deleted."""
        doomed = (
            "SELECT id FROM checks WHERE checked_at < ? "
            "AND id NOT IN (SELECT max(id) FROM checks GROUP BY zone) "
            "AND id NOT IN (SELECT check_id FROM alerts WHERE delivered = 0)"
        )
        with self.transaction():
            ids = [row[0] for row in self.db.execute(doomed, (before,))]
            self.db.executemany("DELETE FROM server_checks WHERE check_id = ?", [(i,) for i in ids])
            self.db.executemany("DELETE FROM alerts WHERE check_id = ?", [(i,) for i in ids])
            self.db.executemany("DELETE FROM checks WHERE id = ?", [(i,) for i in ids])
            self.db.execute(
                "DELETE FROM runs WHERE status <> 'running' AND started_at < ? "
                "AND id NOT IN (SELECT run_id FROM checks)",
                (before,),
            )
        return len(ids)

    def check_consistency(self) -> list[str]:
        """Problems found: the engine's own integrity check, and checks missing their servers."""
        problems = self.db.integrity_problems()
        partial = self.db.execute(
            "SELECT c.id FROM checks c LEFT JOIN server_checks s ON s.check_id = c.id "
            "GROUP BY c.id HAVING count(s.check_id) != c.servers_count ORDER BY c.id"
        )
        problems += [f"check {r[0]} lacks server rows" for r in partial]
        return problems


def open_history(location: str) -> History:
    """A database path (SQLite, the default), ``sqlite:///path`` or ``postgresql://…``."""
    return History(connect_database(location))
