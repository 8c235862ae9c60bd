"""Prometheus metrics of the watched zones, from each check's result.

dnssec_doctor_signature_expiry_seconds{zone,server}   seconds to the earliest RRSIG expiry
dnssec_doctor_zone_signature_expiry_seconds{zone}     the same, the earliest of all servers
dnssec_doctor_verdict{zone,verdict}                   1 for the current verdict, else 0
dnssec_doctor_ds_match{zone}                          1 DS matches the keys, 0 it does not
dnssec_doctor_server_serial_lag{zone,server}          the newest serial minus this server's
dnssec_doctor_check_success{zone}                     0 when the zone could not be checked
dnssec_doctor_last_check_timestamp_seconds{zone}
dnssec_doctor_alerts_total{zone,kind,state}
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from dnssec_doctor.model.verdict import Verdict
from dnssec_doctor.watch.alerts import Alert
from dnssec_doctor.watch.result import UNCHECKED, ZoneResult

VERDICTS = (*(v.value for v in Verdict), UNCHECKED)


class WatchMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.expiry = Gauge(
            "dnssec_doctor_signature_expiry_seconds",
            "Seconds from the check to the earliest RRSIG expiration served",
            ["zone", "server"],
            registry=r,
        )
        self.zone_expiry = Gauge(
            "dnssec_doctor_zone_signature_expiry_seconds",
            "Seconds from the check to the earliest RRSIG expiration on any server",
            ["zone"],
            registry=r,
        )
        self.verdict = Gauge(
            "dnssec_doctor_verdict",
            "1 for the zone's current verdict",
            ["zone", "verdict"],
            registry=r,
        )
        self.ds_match = Gauge(
            "dnssec_doctor_ds_match",
            "1 when the parent's DS matches the zone's keys",
            ["zone"],
            registry=r,
        )
        self.lag = Gauge(
            "dnssec_doctor_server_serial_lag",
            "The newest SOA serial among the zone's servers minus this server's",
            ["zone", "server"],
            registry=r,
        )
        self.success = Gauge(
            "dnssec_doctor_check_success",
            "0 when the zone could not be checked",
            ["zone"],
            registry=r,
        )
        self.last = Gauge(
            "dnssec_doctor_last_check_timestamp_seconds",
            "When the zone was last checked",
            ["zone"],
            registry=r,
        )
        self.alerts = Counter(
            "dnssec_doctor_alerts",
            "Alerts raised or resolved",
            ["zone", "kind", "state"],
            registry=r,
        )

    def update(self, result: ZoneResult, alerts: list[Alert]) -> None:
        zone = result.zone
        now = result.checked_at
        for verdict in VERDICTS:
            self.verdict.labels(zone, verdict).set(1 if verdict == result.verdict else 0)
        self.success.labels(zone).set(0 if result.verdict == UNCHECKED else 1)
        self.last.labels(zone).set(now)
        if result.ds_match is not None:
            self.ds_match.labels(zone).set(1 if result.ds_match else 0)
        serials = [s.serial for s in result.servers if s.serial is not None]
        newest = max(serials, default=None)
        for server in result.servers:
            if server.earliest_expiration is not None:
                self.expiry.labels(zone, server.server).set(server.earliest_expiration - now)
            if newest is not None and server.serial is not None:
                self.lag.labels(zone, server.server).set((newest - server.serial) % 2**32)
        if result.earliest_expiration is not None:
            self.zone_expiry.labels(zone).set(result.earliest_expiration - now)
        for alert in alerts:
            self.alerts.labels(zone, alert.kind, alert.state.value).inc()

    def serve(self, address: str, port: int) -> int:
        """Expose /metrics over HTTP in a background thread; the port actually bound."""
        server, _thread = start_http_server(port, addr=address, registry=self.registry)
        return int(server.server_address[1])
