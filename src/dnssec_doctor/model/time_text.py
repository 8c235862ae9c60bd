"""Moments and lengths of time as the reports write them: the one time formatter (UTC in
reports; the local clock in the lines a polling command prints as it goes) and the one
duration formatter (rounded, for spans; exact, for the waits of a recovery plan)."""

from __future__ import annotations

import datetime

DAY = 86400

_UNITS = (  # (unit, seconds, used below this many seconds)
    ("second", 1, 120),
    ("minute", 60, 2 * 3600),
    ("hour", 3600, 2 * DAY),
)


def iso_utc(timestamp: float) -> str:
    """``2026-11-20T12:00:00Z``."""
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def clock_time(timestamp: float) -> str:
    """``14:05:09`` on the local clock: the stamp of a line that ``watch`` or
    ``go-insecure`` prints as it goes, read by someone at that machine."""
    return datetime.datetime.fromtimestamp(timestamp).strftime("%H:%M:%S")


def human_duration(seconds: float) -> str:
    """A rounded length of time: "45 seconds", "36 hours", "10 days"."""
    seconds = abs(seconds)
    unit, size = "day", DAY
    for name, length, limit in _UNITS:
        if seconds < limit:
            unit, size = name, length
            break
    count = int(seconds / size + 0.5)
    return f"{count} {unit}" + ("" if count == 1 else "s")


def human_delta(seconds: float) -> str:
    """A moment relative to now: "in 36 hours" (positive), "3 days ago" (negative),
    "now" within a second."""
    if abs(seconds) < 1:
        return "now"
    duration = human_duration(seconds)
    return f"in {duration}" if seconds > 0 else f"{duration} ago"


def exact_duration(seconds: int | None) -> str:
    """A wait as an operator sits it out, to the second: "7 min", "1 h 5 min", "45 s"."""
    if not seconds:
        return "0 s"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    parts.append(f"{secs} s" if secs or not (hours or minutes) else "")
    return " ".join(p for p in parts if p)
