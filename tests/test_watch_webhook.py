"""Webhooks that misbehave cannot stall ``watch`` or lose alerts silently (issue 18,
items 4 and 9). Each receiver is a real HTTP server on loopback: one that trickles its
answer, one that redirects, one that rejects one alert for good, one that is down for a
while. The checks are instant, so any delay a webhook causes shows in the run's time."""

from __future__ import annotations

import http.server
import io
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dnssec_doctor.errors import UsageError
from dnssec_doctor.watch.alerts import Alert, AlertState
from dnssec_doctor.watch.notify import Delivery, Notifier, post_alert
from dnssec_doctor.watch.result import Condition, ZoneResult
from dnssec_doctor.watch.runner import Watcher
from dnssec_doctor.watch.store import History, open_history

Handler = Callable[[http.server.BaseHTTPRequestHandler, bytes], None]


@contextmanager
def receiver(respond: Handler) -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """An HTTP server on loopback; yields its URL and the requests it got."""
    seen: list[tuple[str, str, bytes]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            seen.append((self.command, self.path, body))
            respond(self, body)

        do_POST = do_GET = _any

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", seen
    finally:
        server.shutdown()
        server.server_close()


def status(code: int, headers: dict[str, str] | None = None) -> Handler:
    def respond(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        handler.send_response(code)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return respond


def trickle(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
    """The status line, then a header byte every half second, for ever."""
    try:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        handler.wfile.flush()
        for _ in range(600):
            handler.wfile.write(b"X")
            handler.wfile.flush()
            time.sleep(0.5)
    except OSError:
        pass


def watcher_for(history: History, notifier: Notifier, zones: list[str]) -> Watcher:
    """Each zone's first check raises one alert (signatures expiring)."""

    def check(zone: str) -> ZoneResult:
        return ZoneResult(zone, time.time(), "secure", 1, conditions={Condition.EXPIRING: "soon"})

    return Watcher(
        zones,
        history,
        check,
        notifier=notifier,
        clock=time.time,
        sleep=lambda seconds: None,
        interval=60,
    )


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    opened = open_history(str(tmp_path / "watch.sqlite"))
    yield opened
    opened.close()


def test_a_trickling_webhook_never_delays_checks(history: History) -> None:
    with receiver(trickle) as (url, seen):
        notifier = Notifier(webhook=url, stream=io.StringIO(), deadline=1.0, first_backoff=0.2)
        watcher = watcher_for(history, notifier, ["a.", "b.", "c."])
        start = time.monotonic()
        watcher.run_once()
        assert time.monotonic() - start < 0.5  # the checks ran while the webhook trickled
        # Each attempt ends at the deadline and is retried: never marked delivered.
        time.sleep(2.6)
        watcher.deliver_pending()
        assert len(history.undelivered_alerts()) == 3
        assert len(seen) >= 2
        notifier.close()


def test_one_delivery_has_a_total_deadline() -> None:
    with receiver(trickle) as (url, _):
        start = time.monotonic()
        delivery, reason = post_alert(
            url, Alert("a.", "expiring", AlertState.RAISED, "soon", 1000.0), deadline=1.0
        )
        assert time.monotonic() - start < 1.5
    assert delivery is Delivery.RETRY and "within 1 s" in reason


def test_a_redirect_is_not_followed_and_the_alert_is_parked(history: History) -> None:
    with receiver(status(302, {"Location": "/elsewhere"})) as (url, seen):
        stream = io.StringIO()
        notifier = Notifier(webhook=url, stream=stream, deadline=2.0)
        watcher = watcher_for(history, notifier, ["a.", "b."])
        watcher.run_once()
        watcher.settle(5)
        assert [(method, path) for method, path, _ in seen] == [("POST", "/hook")] * 2
        assert history.undelivered_alerts() == []
        assert len(history.parked_alerts()) == 2
        assert "parked: HTTP 302 redirect to /elsewhere" in stream.getvalue()


def test_a_rejected_alert_is_parked_and_the_rest_go_through(history: History) -> None:
    def reject_zone_a(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        status(400 if b'"a."' in body else 204)(handler, body)

    with receiver(reject_zone_a) as (url, seen):
        stream = io.StringIO()
        notifier = Notifier(webhook=url, stream=stream, deadline=2.0)
        watcher = watcher_for(history, notifier, ["a.", "b.", "c."])
        watcher.run_once()
        watcher.settle(5)
        assert [a.alert.zone for a in history.parked_alerts()] == ["a."]
        assert history.undelivered_alerts() == []
        assert len(seen) == 3  # "a." once: a permanent rejection is not retried
        assert "a. expiring" in stream.getvalue() and "HTTP 400" in stream.getvalue()


def test_a_webhook_that_is_down_gets_the_alerts_in_order_later(history: History) -> None:
    failures = iter([503, 503, 429])

    def flaky(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        status(next(failures, 204))(handler, body)

    with receiver(flaky) as (url, seen):
        notifier = Notifier(webhook=url, stream=io.StringIO(), deadline=2.0, first_backoff=0.2)
        watcher = watcher_for(history, notifier, ["a.", "b."])
        start = time.monotonic()
        watcher.run_once()
        assert time.monotonic() - start < 0.5
        watcher.settle(10)
        assert history.undelivered_alerts() == [] and history.parked_alerts() == []
        zones = [body.split(b'"zone": "')[1][:2] for _, _, body in seen]
        assert zones == [b"a.", b"a.", b"a.", b"a.", b"b."]  # in order, backing off


def watch(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dnssec_doctor", "watch", "example.com", "--runs", "1"]
        + [str(a) for a in arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_webhook_url_that_is_not_http_is_a_usage_error(tmp_path: Path) -> None:
    for url in ("file:///etc/passwd", "ftp://example.com/", "gopher://x/", "http://", "x"):
        with pytest.raises(UsageError, match="http:// or https://"):
            Notifier(webhook=url)
    result = watch("--webhook", "file:///etc/passwd", "--db", tmp_path / "w.sqlite")
    assert result.returncode == 4, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "http:// or https://" in result.stderr


def test_the_metrics_port_is_checked(tmp_path: Path) -> None:
    result = watch("--metrics-port", "99999", "--db", tmp_path / "w.sqlite")
    assert result.returncode == 4, result.stderr
    assert result.stderr.count("\n") == 1 and "--metrics-port" in result.stderr


def test_alert_lines_are_made_printable() -> None:
    stream = io.StringIO()
    notifier = Notifier(stream=stream)
    notifier.announce(Alert("a.", "expiring", AlertState.RAISED, "soon\x1b]0;x\x07\u202e", 0))
    line = stream.getvalue()
    assert line.endswith("\n") and line[:-1].isprintable()
    assert "\\x1b]0;x\\x07\\u202e" in line
