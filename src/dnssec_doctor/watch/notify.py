"""Where alerts go: a line on standard output (and the log), and an optional webhook that
receives each alert as a JSON POST. A webhook that fails is retried on the next run: the
alert stays undelivered in the history until it is accepted."""

from __future__ import annotations

import json
import logging
import sys
import urllib.error
import urllib.request
from typing import TextIO

from dnssec_doctor.watch.alerts import Alert

log = logging.getLogger("dnssec_doctor.watch")


class Notifier:
    def __init__(
        self, *, webhook: str | None = None, stream: TextIO | None = None, timeout: float = 5.0
    ) -> None:
        self.webhook = webhook
        self.stream = stream if stream is not None else sys.stdout
        self.timeout = timeout

    def announce(self, alert: Alert) -> None:
        self.stream.write(alert.line() + "\n")
        self.stream.flush()
        log.warning("%s", alert.line())

    def deliver(self, alert: Alert) -> bool:
        """Send one alert to the webhook; True when accepted (or no webhook is set)."""
        if self.webhook is None:
            return True
        body = json.dumps({"source": "dnssec-doctor", **alert.to_json()}).encode()
        request = urllib.request.Request(
            self.webhook, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return 200 <= int(response.status) < 300
        except (urllib.error.URLError, OSError, ValueError) as error:
            log.warning("webhook %s refused the alert: %s", self.webhook, error)
            return False
