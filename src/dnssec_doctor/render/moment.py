"""The one way reports write a moment: ISO 8601 in UTC to the second."""

from __future__ import annotations

import datetime


def iso(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
