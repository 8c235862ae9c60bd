"""``watch`` on the lab: alerts for the expiring-soon scenario and the stale secondary,
a webhook, the Prometheus endpoint scraped and parsed, and a watch process killed mid-run
and restarted with its history intact. Also ``check --nagios``.

Every history test runs twice: on a SQLite file and on a real PostgreSQL server, a
throwaway cluster this module creates in a temporary directory (Debian's ``postgresql``
package, see scripts/bootstrap), listening on 127.0.0.1 only, removed at the end."""

from __future__ import annotations

import http.server
import io
import itertools
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dnssec_doctor.cli import main
from dnssec_doctor.errors import UsageError
from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.pipeline import lab_settings
from dnssec_doctor.watch.alerts import AlertState, alerts_between
from dnssec_doctor.watch.commands import zone_checker, zones_checker
from dnssec_doctor.watch.database import connect_database
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
from dnssec_doctor.watch.store import open_history

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


# --- the two history backends ---------------------------------------------------------------


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parts)
    if not found:
        pytest.fail("no PostgreSQL server binaries: run scripts/bootstrap (Debian postgresql)")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_server_tool(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A private PostgreSQL cluster; its URL without a database name."""
    binaries = _postgres_bin()
    # Not under pytest's tmp_path: its parents are root-only, and the server runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="dnssec-doctor-pg-"))
    data = directory / "data"
    as_server = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_server:
        shutil.chown(directory, "postgres", "postgres")
    port = _free_port()
    pg_ctl = [*as_server, str(binaries / "pg_ctl"), "-D", str(data)]
    try:
        _run_server_tool(
            *as_server,
            str(binaries / "initdb"),
            *("-D", str(data), "-A", "trust", "-U", "postgres"),
            *("--no-sync", "--locale=C", "-E", "UTF8"),
        )
        options = f"-k {directory} -h 127.0.0.1 -p {port} -c fsync=off"
        _run_server_tool(*pg_ctl, "-o", options, "-l", str(directory / "log"), "-w", "start")
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        if (data / "postmaster.pid").exists():
            _run_server_tool(*pg_ctl, "-m", "fast", "-w", "stop")
        shutil.rmtree(directory, ignore_errors=True)


_database_names = (f"watch_{n}" for n in itertools.count())


@pytest.fixture(params=["sqlite", "postgresql"])
def history_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a test keeps its history: a fresh SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "watch.sqlite")
        return
    server: str = request.getfixturevalue("postgres_server")
    name = next(_database_names)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
        yield f"{server}/{name}"
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.mark.lab
def test_watch_alerts_on_the_lab_and_exports_metrics(
    lab: LabProfile, history_location: str, webhook: Webhook
) -> None:
    settings = lab_settings(lab, resolvers=())
    history = open_history(history_location)
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
        check_many=zones_checker(settings, DEFAULT_EXPIRY_THRESHOLD, jobs=0),
    )
    results = {r.zone: r for r in watcher.run_once()}
    watcher.settle(10)  # deliveries run in a thread of their own
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
def test_a_killed_watch_keeps_its_history_and_resumes(
    lab: LabProfile, history_location: str
) -> None:
    db = history_location
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
        db,
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
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.05)
            # Freeze it and look: kill it only in the middle of a run, never between two.
            process.send_signal(signal.SIGSTOP)
            checks, status = _progress(db)
            if checks >= 5 and status == "running":
                break
            process.send_signal(signal.SIGCONT)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    before = _rows(db)
    history = open_history(db)  # opening closes the run the dead process left open
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
    history = open_history(db)
    assert history.check_consistency() == []
    assert history.runs()[-1].status == "complete"
    history.close()


def _progress(db: str) -> tuple[int, str | None]:
    """Checks stored so far and the last run's status, read without opening the history
    (which would close the run)."""
    if "://" not in db and not Path(db).exists():
        return 0, None
    try:
        connection = connect_database(db, timeout=1.0)
    except UsageError:
        return 0, None  # frozen while it held the database locked (creating it): look later
    try:
        [(checks,)] = connection.execute("SELECT count(*) FROM checks")
        runs = connection.execute("SELECT status FROM runs ORDER BY id DESC LIMIT 1")
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
        return 0, None  # the watcher has not created the schema yet
    finally:
        connection.close()
    return int(checks), runs[0][0] if runs else None


def _rows(db: str) -> list[tuple[object, ...]]:
    connection = connect_database(db)
    try:
        return connection.execute("SELECT id, zone, checked_at, verdict FROM checks ORDER BY id")
    finally:
        connection.close()


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
    history_location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = open_history(history_location)
    run = history.begin_run(1000.0, 1)
    servers = (ServerResult("ns1", 1, 2000, "secure"), ServerResult("ns2", 1, 2000, "secure"))
    history.record(run, _result("a.", servers=servers), [])
    real = history.db

    class Failing:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def executemany(self, sql: str, rows: object) -> None:
            if "server_checks" in sql:
                raise OSError("disk I/O error (simulated)")
            real.executemany(sql, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(history, "db", Failing())
    with pytest.raises(OSError, match="simulated"):
        history.record(run, _result("b.", servers=servers), [])
    monkeypatch.setattr(history, "db", real)
    assert history.count_checks() == 1
    assert history.last_result("b.") is None
    assert history.check_consistency() == []
    # Timestamps, serials and expirations past 2038 come back as they went in.
    late = (ServerResult("ns1", 4294967295, 4102444800, "secure"),)
    history.record(run, ZoneResult("c.", 1763683200.25, "secure", 0, servers=late), [])
    stored = history.last_result("c.")
    assert stored is not None and stored.servers == late and stored.checked_at == 1763683200.25
    history.close()


def test_a_zone_that_cannot_be_checked_is_recorded(history_location: str) -> None:
    history = open_history(history_location)
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
    assert [run.status for run in history.runs()] == ["complete", "complete"]
    history.close()
    assert unchecked_result("a.", 1.0, "x").conditions


def test_a_run_left_running_is_interrupted_on_the_next_open(history_location: str) -> None:
    history = open_history(history_location)
    history.begin_run(1000.0, 1)
    history.close()  # as a killed process would: the run never finished
    history = open_history(history_location)
    assert [run.status for run in history.runs()] == ["interrupted"]
    assert history.check_consistency() == []
    history.close()


def test_a_database_that_cannot_be_opened_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown database URL"):
        open_history("mysql://localhost/watch")
    port = _free_port()  # nothing listens there
    with pytest.raises(UsageError, match="cannot open the history database"):
        open_history(f"postgresql://watcher:secret@127.0.0.1:{port}/watch")


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


def test_old_history_is_pruned_and_stays_consistent(history_location: str) -> None:
    history = open_history(history_location)
    for hour in range(1, 11):
        run = history.begin_run(hour * 3600.0, 2)
        for zone in ("a.", "b."):
            verdict = "secure" if hour % 2 else "bogus"
            result = ZoneResult(zone, hour * 3600.0, verdict, 0 if verdict == "secure" else 2)
            alerts = alerts_between(history.last_result(zone), result)
            history.record(run, result, alerts)
        history.finish_run(run, hour * 3600.0 + 10)
    pending = {a.id for a in history.undelivered_alerts()}
    # Everything delivered but the first hour's alert for "a.": its check must stay.
    first_a, first_at = min(
        (a.id, a.alert.at) for a in history.undelivered_alerts() if a.alert.zone == "a."
    )
    assert first_at < 6 * 3600.0
    history.mark_delivered(sorted(pending - {first_a}))
    removed = history.prune(before=6 * 3600.0)
    assert removed == 2 * 5 - 1  # hours 1-5 of both zones, but the check with a pending alert
    remaining = {row[0] for row in history.db.execute("SELECT checked_at FROM checks")}
    assert remaining == {first_at} | {h * 3600.0 for h in range(6, 11)}
    assert [a.id for a in history.undelivered_alerts()] == [first_a]
    assert history.check_consistency() == []
    assert {r.started_at for r in history.runs()} == {first_at} | {h * 3600.0 for h in range(6, 11)}
    # Each zone's latest check stays, however old: the next alert is judged against it.
    # 11 left: all go but the latest of each zone and the one with the pending alert.
    assert history.prune(before=1e12) == 8
    assert {z: history.last_result(z) is not None for z in ("a.", "b.")} == {
        "a.": True,
        "b.": True,
    }
    assert history.check_consistency() == []
    history.close()


def test_the_watcher_prunes_after_each_run(history_location: str) -> None:
    history = open_history(history_location)
    clock = iter(range(0, 10**6, 1000))
    watcher = Watcher(
        ["a."],
        history,
        lambda zone: ZoneResult(zone, float(next(clock)), "secure", 0),
        notifier=Notifier(stream=io.StringIO()),
        clock=lambda: float(next(clock)),
        sleep=lambda s: None,
        interval=60,
        keep_seconds=1500,
    )
    watcher.run(runs=6)
    assert history.count_checks() == 1  # the latest is all that is recent enough
    assert history.check_consistency() == []
    history.close()


@pytest.mark.lab
def test_watch_checks_zones_concurrently_with_the_results_of_one_by_one(lab: LabProfile) -> None:
    from dnssec_doctor.lab.bulk import read_manifest

    settings = lab_settings(lab, resolvers=())
    bulk_zones = [e.zone or e.name.split(".", 1)[1] for e in list(read_manifest(lab.directory))]
    zones = [EXPIRING, STALE, HEALTHY, "nonexistent-zone.lab.", *bulk_zones[:40]]
    one_by_one = zone_checker(settings, DEFAULT_EXPIRY_THRESHOLD)
    concurrent = list(zones_checker(settings, DEFAULT_EXPIRY_THRESHOLD, jobs=1)(zones))
    assert sorted(zone for zone, _ in concurrent) == sorted(zones)
    for zone, result in concurrent:
        alone = one_by_one(zone)
        assert (result.zone, result.verdict, set(result.conditions), result.ds_match) == (
            alone.zone,
            alone.verdict,
            set(alone.conditions),
            alone.ds_match,
        ), zone


def test_zones_a_concurrent_check_never_returned_are_recorded(history_location: str) -> None:
    history = open_history(history_location)
    checked: list[str] = []

    def check_many(zones: Sequence[str]) -> Iterator[tuple[str, ZoneResult]]:
        yield zones[0], ZoneResult(zones[0], 1000.0, "secure", 0)
        raise RuntimeError("engine failure")

    def check_one(zone: str) -> ZoneResult:
        checked.append(zone)
        return ZoneResult(zone, 1000.0, "secure", 0)

    watcher = Watcher(
        ["a.example.", "b.example.", "c.example."],
        history,
        check_one,
        notifier=Notifier(stream=io.StringIO()),
        clock=lambda: 1000.0,
        sleep=lambda seconds: None,
        interval=60,
        check_many=check_many,
    )
    results = {r.zone: r for r in watcher.run_once()}
    assert results["a.example."].verdict == "secure"
    assert results["b.example."].verdict == results["c.example."].verdict == "unchecked"
    assert "engine failure" in (results["b.example."].error or "")
    assert checked == []
    assert history.count_checks() == 3
    history.close()


# --- one alert per event, already-broken zones, mistyped zones, durations ------------------


def test_a_zone_failing_from_its_first_check_alerts_once() -> None:
    failing = _result("a.", conditions={Condition.FAILING: "a. is bogus: ..."})
    failing = ZoneResult("a.", 1000.0, "bogus", 2, conditions=dict(failing.conditions))
    raised = alerts_between(None, failing)
    assert [(a.kind, a.state) for a in raised] == [("failing", AlertState.RAISED)]
    # Turning bogus later is one event: the failing alert, not also "verdict changed".
    healthy = _result("a.")
    assert [(a.kind, a.state) for a in alerts_between(healthy, failing)] == [
        ("failing", AlertState.RAISED)
    ]
    assert [(a.kind, a.state) for a in alerts_between(failing, healthy)] == [
        ("failing", AlertState.RESOLVED)
    ]
    # From one failure to another, the verdict change still alerts.
    unreachable = ZoneResult("a.", 3000.0, "unreachable", 3, conditions=dict(failing.conditions))
    assert [a.kind for a in alerts_between(failing, unreachable)] == ["verdict-changed"]


def test_a_bounded_run_starts_at_once_and_a_schedule_is_never_waited_in_silence(
    tmp_path: Path,
) -> None:
    history = open_history(str(tmp_path / "watch.sqlite"))
    now = [10_000.0]
    slept: list[float] = []
    told: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    def watcher() -> Watcher:
        return Watcher(
            ["a."],
            history,
            lambda zone: _result(zone),
            notifier=Notifier(stream=io.StringIO()),
            clock=lambda: now[0],
            sleep=sleep,
            interval=300,
            on_wait=told.append,
        )

    watcher().run(1)
    now[0] += 10
    watcher().run(1)  # a second --runs 1: at once, not 290 s later
    assert slept == [] and told == []
    assert history.count_checks() == 2
    now[0] += 10
    schedule = watcher()
    schedule.run(2)  # the first at once; the second on schedule
    assert slept == [300.0] and told == []
    history.close()


@pytest.mark.lab
def test_watch_alerts_at_once_on_broken_and_mistyped_zones_each_alert_printed_once(
    lab: LabProfile, tmp_path: Path
) -> None:
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
        "300",
        "--threshold",
        "3days",
        "--runs",
        "1",
        "ds-bad-digest.lab.",
        "nonexistent-zone.lab",
        "www.secure-nsec.lab",
        HEALTHY,
    ]
    first = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert len(lines) == len(set(lines)), first.stdout
    assert "ALERT" not in first.stderr  # printed once: stdout, not also the log
    assert any(line.startswith("ALERT RAISED ds-bad-digest.lab. failing: ") for line in lines)
    assert any(
        line.startswith("ALERT RAISED nonexistent-zone.lab. not-a-zone: ")
        and "does not exist" in line
        for line in lines
    ), first.stdout
    assert any(
        line.startswith("ALERT RAISED www.secure-nsec.lab. not-a-zone: ")
        and "is not a zone" in line
        for line in lines
    ), first.stdout
    assert not any(line.startswith(f"ALERT RAISED {HEALTHY} ") for line in lines)
    # A second bounded run starts at once (well inside the 300 s interval) and raises
    # nothing new: the conditions still hold.
    started = time.monotonic()
    second = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0 and time.monotonic() - started < 60
    assert second.stdout == "", second.stdout
