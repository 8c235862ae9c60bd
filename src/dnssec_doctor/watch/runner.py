"""The watch loop: check every zone at an interval, keep the history, alert, export metrics.

With ``check_many`` the zones of a run are checked concurrently (the scan engine: many
checks at once sharing one cache) and each result is recorded as it comes.

The clock, the sleep and the zone check are injected (the CLI probes for real; tests can
run fast). The schedule lives in the history: the next run is due one interval after the
last run started, so a restarted watcher resumes where the previous one was; a run that a
dead process left unfinished is due at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from dnssec_doctor.watch.alerts import Alert, alerts_between
from dnssec_doctor.watch.metrics import WatchMetrics
from dnssec_doctor.watch.notify import Delivery, Notifier
from dnssec_doctor.watch.result import ZoneResult, unchecked_result
from dnssec_doctor.watch.store import History

CheckZone = Callable[[str], ZoneResult]
# Checks many zones at once and yields each zone with its result as it is ready, in any
# order (a result's zone is the zone holding the name, which may be a parent's).
CheckZones = Callable[[Sequence[str]], Iterable[tuple[str, ZoneResult]]]


class Watcher:
    def __init__(
        self,
        zones: Sequence[str],
        history: History,
        check: CheckZone,
        *,
        notifier: Notifier,
        metrics: WatchMetrics | None = None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        interval: float,
        keep_seconds: float | None = None,
        check_many: CheckZones | None = None,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.zones = tuple(zones)
        self.history = history
        self.check = check
        self.notifier = notifier
        self.metrics = metrics
        self.clock = clock
        self.sleep = sleep
        self.interval = interval
        self.keep_seconds = keep_seconds  # None: keep the whole history
        self.check_many = check_many  # zones checked concurrently (the scan engine)
        self.on_wait = on_wait  # told how long the first run waits for its schedule

    def next_due(self) -> float:
        last = self.history.last_run()
        if last is None or last.status == "interrupted":
            return self.clock()
        return last.started_at + self.interval

    def run(self, runs: int | None = None) -> None:
        """Run on schedule; ``runs`` set (a bounded invocation, as from cron): the first
        run starts at once, whatever the schedule says."""
        done = 0
        while runs is None or done < runs:
            wait = 0.0 if runs is not None and done == 0 else self.next_due() - self.clock()
            if wait > 0:
                if done == 0 and self.on_wait is not None:
                    self.on_wait(wait)  # resuming a schedule: say so, never wait in silence
                self.sleep(wait)
            self.run_once()
            done += 1

    def run_once(self) -> list[ZoneResult]:
        self.deliver_pending()
        run_id = self.history.begin_run(self.clock(), len(self.zones))
        results = []
        for result in self._results():
            previous = self.history.last_result(result.zone)
            alerts = alerts_between(previous, result)
            self.history.record(run_id, result, alerts)
            if self.metrics is not None:
                self.metrics.update(result, alerts)
            for alert in alerts:
                self.notifier.announce(alert)
            self.deliver_pending()
            results.append(result)
        self.history.finish_run(run_id, self.clock())
        if self.keep_seconds is not None:
            self.history.prune(self.clock() - self.keep_seconds)
        return results

    def _results(self) -> Iterator[ZoneResult]:
        """Every zone's result, as each is ready; each zone exactly once."""
        if self.check_many is None:
            for zone in self.zones:
                yield self._check(zone)
            return
        waiting = dict.fromkeys(self.zones)
        try:
            for zone, result in self.check_many(self.zones):
                if zone in waiting:
                    del waiting[zone]
                    yield result
        except Exception as error:  # the zones not checked yet are recorded, not skipped
            message = f"{type(error).__name__}: {error}"
            for zone in list(waiting):
                del waiting[zone]
                yield unchecked_result(zone, self.clock(), message)
        for zone in waiting:  # never answered: checked one by one
            yield self._check(zone)

    def _check(self, zone: str) -> ZoneResult:
        try:
            return self.check(zone)
        except Exception as error:  # a zone that cannot be checked is recorded, not skipped
            return unchecked_result(zone, self.clock(), f"{type(error).__name__}: {error}")

    def deliver_pending(self) -> list[Alert]:
        """Record what the delivery thread finished, and hand it the alerts still
        undelivered; never waits for a webhook. The alerts delivered since last time."""
        delivered = self._record_outcomes()
        self.notifier.send([(s.id, s.alert) for s in self.history.undelivered_alerts()])
        return delivered + self._record_outcomes()

    def settle(self, timeout: float) -> list[Alert]:
        """Wait (at most ``timeout`` seconds) for the queued deliveries and record them."""
        self.notifier.wait(timeout)
        return self._record_outcomes()

    def _record_outcomes(self) -> list[Alert]:
        outcomes = self.notifier.outcomes()
        delivered = [o for o in outcomes if o.delivery is Delivery.DELIVERED]
        parked = [o for o in outcomes if o.delivery is Delivery.PARKED]
        if delivered:
            self.history.mark_delivered([o.alert_id for o in delivered])
        if parked:
            self.history.park_alerts([o.alert_id for o in parked])
            for outcome in parked:
                self.notifier.report(outcome)
        return [o.alert for o in delivered]
