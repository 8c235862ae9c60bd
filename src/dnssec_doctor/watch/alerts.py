"""Alerts: what changed between a zone's previous check and this one.

A condition (``result.Condition``) raises an alert when it starts holding and a
``resolved`` alert when it stops; a verdict change alerts too, unless it is the zone
starting or stopping to fail (the ``failing`` alert says that). A first check raises
every condition that holds, so a zone already broken when the watch starts alerts at
once. Pure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from dnssec_doctor.watch.result import Condition, ZoneResult

VERDICT_CHANGED = "verdict-changed"


class AlertState(enum.StrEnum):
    RAISED = "raised"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Alert:
    zone: str
    kind: str  # a Condition value, or VERDICT_CHANGED
    state: AlertState
    message: str
    at: float

    def line(self) -> str:
        return f"ALERT {self.state.value.upper()} {self.zone} {self.kind}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "zone": self.zone,
            "kind": self.kind,
            "state": self.state.value,
            "message": self.message,
            "at": self.at,
        }


def alerts_between(previous: ZoneResult | None, current: ZoneResult) -> list[Alert]:
    alerts: list[Alert] = []
    at = current.checked_at
    before = previous.conditions if previous is not None else {}
    # A zone that starts or stops failing is one event: the failing alert (raised or
    # resolved) says it, with the verdict; a second "verdict changed" would repeat it.
    failing_toggled = (Condition.FAILING in before) != (Condition.FAILING in current.conditions)
    if previous is not None and previous.verdict != current.verdict and not failing_toggled:
        alerts.append(
            Alert(
                current.zone,
                VERDICT_CHANGED,
                AlertState.RAISED,
                f"verdict of {current.zone} changed from {previous.verdict} to {current.verdict}",
                at,
            )
        )
    for condition, why in current.conditions.items():
        if condition not in before:
            alerts.append(Alert(current.zone, condition.value, AlertState.RAISED, why, at))
    for condition in before:
        if condition not in current.conditions:
            alerts.append(
                Alert(
                    current.zone,
                    condition.value,
                    AlertState.RESOLVED,
                    f"{condition.value} no longer holds for {current.zone}",
                    at,
                )
            )
    return alerts
