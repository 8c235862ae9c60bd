"""Where alerts go: a line on standard output (and the log), and an optional webhook that
receives each alert as a JSON POST.

Deliveries run in a thread of their own, apart from the checking schedule: a webhook
that is slow, down or hostile never delays a check. Each delivery has a total deadline
(a receiver that trickles its response is cut off), in order, one alert at a time:

    2xx                         delivered
    no answer in time, a
    connection error, 408, 425,
    429, 5xx                    retried after a back-off (5 s, doubling up to 10 min)
    3xx                         parked: a redirect is not followed (it would turn the POST
                                into a body-less GET); point --webhook at the new place
    any other 4xx               parked: the receiver rejects this alert for good

A parked alert is reported (standard output and the log) and never blocks the ones
after it. The watcher records each outcome in the history; an alert not yet delivered
when the process stops is sent by the next one.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import queue
import sys
import threading
import urllib.parse
from dataclasses import dataclass
from typing import TextIO

import httpx

from dnssec_doctor.errors import UsageError
from dnssec_doctor.render.terminal import printable
from dnssec_doctor.watch.alerts import Alert

log = logging.getLogger("dnssec_doctor.watch")

DELIVERY_DEADLINE = 10.0  # seconds for one whole POST: connect, send, read the status
FIRST_BACKOFF = 5.0
MAX_BACKOFF = 600.0
_RETRIED_STATUS = frozenset({408, 425, 429})


class Delivery(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    PARKED = "parked"


@dataclass(frozen=True)
class Outcome:
    alert_id: int
    alert: Alert
    delivery: Delivery
    reason: str = ""


def check_webhook_url(url: str) -> str:
    """An http(s) URL with a host; anything else is a usage error."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--webhook must be an http:// or https:// URL, not {url[:100]!r}",
            hint="for example --webhook https://alerts.example/hook",
        )
    return url


def post_alert(url: str, alert: Alert, deadline: float = DELIVERY_DEADLINE) -> tuple[Delivery, str]:
    """POST one alert; what became of it and why."""
    body = json.dumps({"source": "dnssec-doctor", **alert.to_json()}).encode()

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(follow_redirects=False, timeout=deadline) as client:
            return await client.post(
                url, content=body, headers={"Content-Type": "application/json"}
            )

    async def within_deadline() -> httpx.Response:
        return await asyncio.wait_for(send(), deadline)

    try:
        response = asyncio.run(within_deadline())
    except TimeoutError:
        return Delivery.RETRY, f"no complete answer within {deadline:g} s"
    except (httpx.HTTPError, OSError, ValueError) as error:
        return Delivery.RETRY, f"{type(error).__name__}: {error}"[:300]
    status = response.status_code
    if 200 <= status < 300:
        return Delivery.DELIVERED, f"HTTP {status}"
    if 300 <= status < 400:
        where = response.headers.get("location", "?")[:200]
        return Delivery.PARKED, f"HTTP {status} redirect to {where} not followed for a POST"
    if status in _RETRIED_STATUS or status >= 500:
        return Delivery.RETRY, f"HTTP {status}"
    return Delivery.PARKED, f"HTTP {status}: the receiver rejects this alert"


class Notifier:
    """Announces alerts, and delivers them to the webhook from a thread of its own."""

    def __init__(
        self,
        *,
        webhook: str | None = None,
        stream: TextIO | None = None,
        deadline: float = DELIVERY_DEADLINE,
        first_backoff: float = FIRST_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        self.webhook = None if webhook is None else check_webhook_url(webhook)
        self.stream = stream if stream is not None else sys.stdout
        self.deadline = deadline
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self._inbox: queue.Queue[tuple[int, Alert]] = queue.Queue()
        self._outcomes: queue.Queue[Outcome] = queue.Queue()
        self._queued: set[int] = set()
        self._pending = 0  # queued for the thread and not finished
        self._settled = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def announce(self, alert: Alert) -> None:
        line = printable(alert.line())  # names and messages come from DNS
        self.stream.write(line + "\n")
        self.stream.flush()
        # Already on standard output: the log has it only when asked for (once on a terminal).
        log.info("%s", line)

    def report(self, outcome: Outcome) -> None:
        line = printable(f"webhook: alert {outcome.alert.line()} parked: {outcome.reason}")
        self.stream.write(line + "\n")
        self.stream.flush()
        log.info("%s", line)

    def send(self, pending: list[tuple[int, Alert]]) -> None:
        """Queue alerts for delivery, in order; those already queued are skipped."""
        for alert_id, alert in pending:
            if alert_id in self._queued:
                continue
            self._queued.add(alert_id)
            if self.webhook is None:
                self._outcomes.put(Outcome(alert_id, alert, Delivery.DELIVERED, "no webhook"))
                continue
            with self._settled:
                self._pending += 1
            self._inbox.put((alert_id, alert))
        if self.webhook is not None and self._thread is None and self._queued:
            self._thread = threading.Thread(target=self._deliver, name="webhook", daemon=True)
            self._thread.start()

    def outcomes(self) -> list[Outcome]:
        """The final outcomes (delivered, parked) since the last call."""
        found: list[Outcome] = []
        while True:
            try:
                outcome = self._outcomes.get_nowait()
            except queue.Empty:
                return found
            self._queued.discard(outcome.alert_id)
            found.append(outcome)

    def wait(self, timeout: float) -> bool:
        """Wait until every queued alert is delivered or parked; False on timeout."""
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        self._stop.set()

    def _deliver(self) -> None:
        assert self.webhook is not None
        while not self._stop.is_set():
            try:
                alert_id, alert = self._inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            backoff = self.first_backoff
            while True:
                delivery, reason = post_alert(self.webhook, alert, self.deadline)
                if delivery is not Delivery.RETRY:
                    self._outcomes.put(Outcome(alert_id, alert, delivery, reason))
                    break
                log.warning(
                    "webhook did not take alert %s (%s): again in %g s",
                    alert.line(),
                    reason,
                    backoff,
                )
                if self._stop.wait(backoff):
                    return
                backoff = min(self.max_backoff, backoff * 2)
            with self._settled:
                self._pending -= 1
                self._settled.notify_all()
