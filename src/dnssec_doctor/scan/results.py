"""A scan's results: one JSON object per name, the summary, and resuming from the output.

Each result keeps the stable keys of ``check --json`` (``name``, ``type``, ``verdict``,
``ede``, ``zone``, ``causes`` with ``code`` and ``summary``, ``recovery``: the plan of
alternative paths with their steps), adds ``actors`` (who acts on the preferred path),
``warnings`` (codes), ``queries`` (exchanges in the name's snapshot) and, with ``--full``,
``report``: the whole ``check --json`` document. A name whose check failed inside the
tool has the verdict ``error`` and the message in ``error``.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from dnssec_doctor.errors import UsageError
from dnssec_doctor.model.diagnosis import Actor, RecoveryPlan
from dnssec_doctor.render.json import plan_json

if TYPE_CHECKING:
    from dnssec_doctor.diagnosis.report import Report

ERROR_VERDICT = "error"
MAX_SUMMARY_ZONES = 10_000  # distinct breaking zones counted; the rest as OTHER_ZONES
OTHER_ZONES = "(other zones)"


def result_of(report: Report, *, full: bool = False) -> dict[str, Any]:
    """The JSON Lines object of one checked name."""
    diagnosis = report.diagnosis
    record: dict[str, Any] = {
        "name": diagnosis.name,
        "type": diagnosis.rdtype,
        "verdict": diagnosis.verdict.value,
        "ede": diagnosis.ede,
        "zone": diagnosis.zone,
        "causes": [{"code": f.code, "summary": f.summary} for f in diagnosis.causes],
        "recovery": plan_json(diagnosis.recovery),
        "actors": _actors(diagnosis.recovery),
        "warnings": [f.code for f in diagnosis.warnings],
        "queries": len(report.snapshot.exchanges),
    }
    if full:
        from dnssec_doctor.render.json import render_json

        record["report"] = render_json(report)
    return record


def _actors(plan: RecoveryPlan) -> list[str]:
    """Who acts on the preferred path, in order (waits and checks are nobody's task)."""
    if not plan.paths:
        return []
    return list(
        dict.fromkeys(
            step.actor.value for step in plan.paths[0].steps if step.actor is not Actor.NOBODY
        )
    )


def error_result(name: str, rdtype: str, error: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": rdtype,
        "verdict": ERROR_VERDICT,
        "ede": None,
        "zone": None,
        "causes": [],
        "recovery": {"paths": []},
        "actors": [],
        "warnings": [],
        "queries": 0,
        "error": error,
    }


@dataclass
class Summary:
    """Counts per verdict, primary cause, EDE and breaking zone."""

    names: int = 0
    verdicts: collections.Counter[str] = field(default_factory=collections.Counter)
    causes: collections.Counter[str] = field(default_factory=collections.Counter)
    ede: collections.Counter[str] = field(default_factory=collections.Counter)
    zones: collections.Counter[str] = field(default_factory=collections.Counter)

    def add(self, result: dict[str, Any]) -> None:
        self.names += 1
        self.verdicts[str(result.get("verdict"))] += 1
        causes = result.get("causes") or []
        if causes:
            self.causes[str(causes[0].get("code"))] += 1
        if result.get("ede") is not None:
            self.ede[str(result["ede"])] += 1
        zone = result.get("zone")
        if zone is not None:
            zone = str(zone)
            if zone not in self.zones and len(self.zones) >= MAX_SUMMARY_ZONES:
                zone = OTHER_ZONES
            self.zones[zone] += 1

    def merge(self, other: Summary) -> None:
        self.names += other.names
        self.verdicts.update(other.verdicts)
        self.causes.update(other.causes)
        self.ede.update(other.ede)
        for zone, count in other.zones.items():
            if zone not in self.zones and len(self.zones) >= MAX_SUMMARY_ZONES:
                zone = OTHER_ZONES
            self.zones[zone] += count

    def to_json(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "verdicts": dict(self.verdicts.most_common()),
            "causes": dict(self.causes.most_common()),
            "ede": dict(self.ede.most_common()),
            "zones": dict(self.zones.most_common()),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        return cls(
            names=int(data["names"]),
            verdicts=collections.Counter(data["verdicts"]),
            causes=collections.Counter(data["causes"]),
            ede=collections.Counter(data["ede"]),
            zones=collections.Counter(data["zones"]),
        )

    def render_text(self, *, top: int = 10) -> str:
        lines = [f"{self.names} names checked"]
        for title, counter in (
            ("verdicts", self.verdicts),
            ("causes", self.causes),
            ("EDE", self.ede),
            ("breaking zones", self.zones),
        ):
            if not counter:
                continue
            lines.append(f"{title}:")
            for key, count in counter.most_common(top):
                lines.append(f"  {count:>9}  {key}")
            if len(counter) > top:
                rest = sum(counter.values()) - sum(c for _, c in counter.most_common(top))
                lines.append(f"  {rest:>9}  ({len(counter) - top} more)")
        return "\n".join(lines)


def read_done(path: Path) -> tuple[set[tuple[str, str]], Summary]:
    """The names an earlier run of the scan wrote to ``path`` and their summary. A last
    line cut short by an interruption is removed, so that name is checked again."""
    done: set[tuple[str, str]] = set()
    summary = Summary()
    try:
        handle = path.open("r+b")
    except FileNotFoundError:
        return done, summary
    except OSError as error:
        raise UsageError(f"cannot read {path} to resume: {error.strerror}") from None
    with handle:
        good = 0  # the offset after the last complete line
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                break
            try:
                result = json.loads(raw)
                key = (str(result["name"]), str(result["type"]))
            except (ValueError, KeyError, TypeError):
                raise UsageError(
                    f"{path} line {number}: not a scan result",
                    hint="--resume continues a scan's own JSON Lines output",
                ) from None
            if key not in done:
                done.add(key)
                summary.add(result)
            good += len(raw)
        handle.truncate(good)
    return done, summary


class ResultWriter:
    """Writes results as JSON Lines, each line whole and flushed, so an interrupted scan
    loses at most the line being written (and --resume removes it)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def write(self, result: dict[str, Any]) -> None:
        self.out.write(json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.out.flush()

    def write_all(self, results: Iterable[dict[str, Any]]) -> None:
        for result in results:
            self.write(result)


def open_output(path: Path | None, *, append: bool) -> IO[str]:
    """The output file (standard output when ``path`` is None or ``-``)."""
    import sys

    if path is None or str(path) == "-":
        return sys.stdout
    try:
        return path.open("a" if append else "w", encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


def write_summary(path: Path, summary: Summary, extra: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(json.dumps({**summary.to_json(), **extra}, indent=2) + "\n")
        temporary.replace(path)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None
