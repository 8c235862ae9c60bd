"""``watch`` on the lab: alerts for the expiring-soon scenario and the stale secondary,
history in SQLite, a webhook, the Prometheus endpoint scraped and parsed, and a watch
process killed mid-run and restarted with its history intact. Also ``check --nagios``."""

from __future__ import annotations

import http.server
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dnssec_doctor.cli import main
from dnssec_doctor.commands import lab_settings
from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.watch.alerts import AlertState, alerts_between
from dnssec_doctor.watch.commands import zone_checker
from dnssec_doctor.watch.metrics import WatchMetrics
from dnssec_doctor.watch.notify import Notifier
from dnssec_doctor.watch.result import (
    DEFAULT_EXPIRY_THRESHOLD,
    Condition,
    ServerResult,
    ZoneResult,
    unchecked_result,
)
from dnssec_doctor.watch.runner import Watcher
from dnssec_doctor.watch.store import SqliteHistory, open_history

EXPIRING = "expiring-soon.lab."
STALE = "stale-secondary.lab."
HEALTHY = "secure-nsec.lab."


class Webhook:
    """A loopback HTTP server that keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        received: list[dict[str, object]] = []
        self.received = received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.mark.lab
def test_watch_alerts_on_the_lab_and_exports_metrics(
    lab: LabProfile, tmp_path: Path, webhook: Webhook
) -> None:
    settings = lab_settings(lab, resolvers=())
    history = open_history(str(tmp_path / "watch.sqlite"))
    metrics = WatchMetrics()
    stream = io.StringIO()
    watcher = Watcher(
        [EXPIRING, STALE, HEALTHY, "nonexistent-zone.lab."],
        history,
        zone_checker(settings, DEFAULT_EXPIRY_THRESHOLD),
        notifier=Notifier(webhook=webhook.url, stream=stream),
        metrics=metrics,
        clock=time.time,
        sleep=lambda seconds: None,
        interval=60,
    )
    results = {r.zone: r for r in watcher.run_once()}
    assert Condition.EXPIRING in results[EXPIRING].conditions
    # 36 hours left, beyond the lab's SOA expire interval (one day).
    assert Condition.EXPIRES_BEFORE_SOA_EXPIRE not in results[EXPIRING].conditions
    assert Condition.SERVERS_DISAGREE in results[STALE].conditions
    assert results[STALE].verdict == "partial"
    assert results[HEALTHY].conditions == {}
    assert results[HEALTHY].ds_match is True
    lines = stream.getvalue().splitlines()
    assert any(f"{EXPIRING} expiring" in line for line in lines)
    assert any(f"{STALE} servers-disagree" in line for line in lines)
    assert not any(HEALTHY in line for line in lines)
    kinds = {(a["zone"], a["kind"]) for a in webhook.received}
    assert (EXPIRING, "expiring") in kinds and (STALE, "servers-disagree") in kinds
    assert history.undelivered_alerts() == []

    # The second run raises nothing new: alerts mark changes, not states.
    stream.truncate(0)
    watcher.run_once()
    assert stream.getvalue() == ""
    assert history.count_checks() == 8
    assert history.check_consistency() == []

    port = metrics.serve("127.0.0.1", 0)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    expiry = samples[("dnssec_doctor_zone_signature_expiry_seconds", (("zone", EXPIRING),))]
    assert 0 < expiry < DEFAULT_EXPIRY_THRESHOLD
    assert samples[("dnssec_doctor_verdict", (("verdict", "partial"), ("zone", STALE)))] == 1
    assert samples[("dnssec_doctor_ds_match", (("zone", HEALTHY),))] == 1
    lags = [
        v
        for (n, labels), v in samples.items()
        if n == "dnssec_doctor_server_serial_lag" and ("zone", STALE) in labels
    ]
    assert sorted(lags) == [0, 21 * 86400]
    per_server = [
        n
        for (n, labels) in samples
        if n == "dnssec_doctor_signature_expiry_seconds" and ("zone", STALE) in labels
    ]
    assert len(per_server) == 2
    history.close()


@pytest.mark.lab
def test_a_killed_watch_keeps_its_history_and_resumes(lab: LabProfile, tmp_path: Path) -> None:
    db = tmp_path / "watch.sqlite"
    command = [
        sys.executable,
        "-m",
        "dnssec_doctor",
        "watch",
        "--lab",
        "--lab-dir",
        str(lab.directory),
        "--no-resolvers",
        "--db",
        str(db),
        "--interval",
        "0.05",
        EXPIRING,
        STALE,
        HEALTHY,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 30
        while _checks(db) < 5:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    before = _rows(db)
    history = SqliteHistory(db)  # opening closes the run the dead process left open
    assert history.check_consistency() == []
    assert history.runs()[-1].status == "interrupted"
    history.close()

    finished = subprocess.run(
        [*command, "--runs", "1"], capture_output=True, text=True, env=env, timeout=60
    )
    assert finished.returncode == 0, finished.stderr
    after = _rows(db)
    assert after[: len(before)] == before  # nothing written before the kill was lost
    assert len(after) == len(before) + 3
    history = SqliteHistory(db)
    assert history.check_consistency() == []
    assert history.runs()[-1].status == "complete"
    history.close()


def _checks(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as connection:
            return int(connection.execute("SELECT count(*) FROM checks").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _rows(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db, timeout=5) as connection:
        return list(
            connection.execute("SELECT id, zone, checked_at, verdict FROM checks ORDER BY id")
        )


# --- without the lab ------------------------------------------------------------------------


def _result(zone: str, **kw: object) -> ZoneResult:
    return ZoneResult(zone=zone, checked_at=1000.0, verdict="secure", exit_code=0, **kw)  # type: ignore[arg-type]


def test_alerts_mark_changes_and_resolutions() -> None:
    first = _result("a.", conditions={Condition.EXPIRING: "soon"})
    raised = alerts_between(None, first)
    assert [(a.kind, a.state) for a in raised] == [("expiring", AlertState.RAISED)]
    assert alerts_between(first, first) == []
    bogus = ZoneResult("a.", 2000.0, "bogus", 2)
    kinds = {(a.kind, a.state) for a in alerts_between(first, bogus)}
    assert kinds == {("verdict-changed", AlertState.RAISED), ("expiring", AlertState.RESOLVED)}


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = SqliteHistory(tmp_path / "h.sqlite")
    run = history.begin_run(1000.0, 1)
    servers = (ServerResult("ns1", 1, 2000, "secure"), ServerResult("ns2", 1, 2000, "secure"))
    history.record(run, _result("a.", servers=servers), [])
    real = history.db

    class Failing:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def executemany(self, sql: str, rows: object) -> object:
            if "server_checks" in sql:
                raise sqlite3.OperationalError("disk I/O error (simulated)")
            return real.executemany(sql, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(history, "db", Failing())
    with pytest.raises(sqlite3.OperationalError):
        history.record(run, _result("b.", servers=servers), [])
    monkeypatch.setattr(history, "db", real)
    assert history.count_checks() == 1
    assert history.last_result("b.") is None
    assert history.check_consistency() == []


def test_a_zone_that_cannot_be_checked_is_recorded(tmp_path: Path) -> None:
    history = SqliteHistory(tmp_path / "h.sqlite")
    stream = io.StringIO()

    def check(zone: str) -> ZoneResult:
        raise RuntimeError("probe exploded")

    clock = iter(range(1000, 2000))
    watcher = Watcher(
        ["a."],
        history,
        check,
        notifier=Notifier(stream=stream),
        clock=lambda: float(next(clock)),
        sleep=lambda s: None,
        interval=60,
    )
    watcher.run(runs=2)
    result = history.last_result("a.")
    assert result is not None and result.verdict == "unchecked"
    assert result.error is not None and "probe exploded" in result.error
    assert "unchecked" in stream.getvalue()
    assert history.count_checks() == 2
    assert unchecked_result("a.", 1.0, "x").conditions


def test_postgresql_is_not_built_yet() -> None:
    with pytest.raises(Exception, match="PostgreSQL"):
        open_history("postgresql://localhost/watch")


@pytest.mark.lab
@pytest.mark.parametrize(
    ("name", "state", "code"),
    [
        ("www.secure-nsec.lab.", "OK", 0),
        ("www.expiring-soon.lab.", "WARNING", 1),
        ("www.rrsig-expired.lab.", "CRITICAL", 2),
    ],
)
def test_check_nagios(
    lab: LabProfile, name: str, state: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", "--lab", "--lab-dir", str(lab.directory), "--no-resolvers", "--nagios", name]
    assert main(args) == code
    first, *rest = capsys.readouterr().out.splitlines()
    assert first.startswith(f"DNSSEC {state} - {name} A ")
    _status, perfdata = first.split(" | ")
    labels = [item.split("=")[0] for item in perfdata.split()]
    assert labels[0] == "expiry" and "queries" in labels and "servers_valid" in labels
    if code:
        assert rest  # causes or warnings as long output


def test_check_nagios_usage_error_is_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--nagios", "--at", "nonsense", "example.com"]) == 3
    assert capsys.readouterr().out.startswith("DNSSEC UNKNOWN - ")


def test_signatures_expiring_before_the_soa_expire_interval() -> None:
    from dnssec_doctor.watch.result import judge_conditions

    servers = (ServerResult("ns1", 5, 1000 + 5 * 86400, "secure"),)
    result = _result("a.", servers=servers, soa_expire=7 * 86400)
    conditions = judge_conditions(result, DEFAULT_EXPIRY_THRESHOLD)
    assert set(conditions) == {Condition.EXPIRES_BEFORE_SOA_EXPIRE}
