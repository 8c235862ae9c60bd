"""What the result page shows, computed from a report: plain values for the templates.

The templates only lay these out (and escape every string: autoescape is on); the
judgement stays in the analysis and the diagnosis. The JSON of ``check --json`` is the
backbone, so the page and the API cannot say different things.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dns.dnssec
import dns.exception
import dns.name
import dns.rdata
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.DS import DS

from dnssec_doctor.analysis.codes import CODES, Family
from dnssec_doctor.analysis.keys import ds_digest
from dnssec_doctor.analysis.resolvers import ede_name
from dnssec_doctor.diagnosis.report import Report
from dnssec_doctor.model.records import parse_record
from dnssec_doctor.model.time_text import human_duration, iso_utc
from dnssec_doctor.render.json import render_json
from dnssec_doctor.render.svg import render_svg

VERDICT_WORDS = {
    "secure": "Secure: the answer validates from the trust anchor",
    "insecure": "Insecure: provably unsigned, not a failure",
    "bogus": "Bogus: validation fails, validating resolvers answer SERVFAIL",
    "partial": "Partial: some servers serve data that fails validation",
    "unreachable": "Unreachable: broken, but not by DNSSEC",
    "indeterminate": "Indeterminate: the evidence does not allow a verdict",
}


@dataclass(frozen=True)
class KeyRow:
    tag: int
    role: str
    algorithm: str
    flags: int


@dataclass(frozen=True)
class DsRow:
    record: str
    tag: int
    algorithm: str
    digest_type: int
    outcome: str  # "matches KSK 12345", "digest differs from KSK 12345", "no key with tag ..."
    ok: bool


@dataclass(frozen=True)
class ZoneRow:
    zone: str
    parent: str | None
    state: str
    keys: tuple[KeyRow, ...]
    ds: tuple[DsRow, ...]
    ds_to_publish: tuple[str, ...]


@dataclass(frozen=True)
class WindowRow:
    zone: str
    server: str
    inception: str
    expiration: str
    status: str
    ok: bool


def _algorithm(number: int) -> str:
    try:
        return f"{dns.dnssec.algorithm_to_text(number)} ({number})"
    except ValueError:
        return str(number)


def zone_rows(report: Report) -> list[ZoneRow]:
    """DS against DNSKEY, zone by zone."""
    rows = []
    for zone in report.analysis.zones:
        origin = dns.name.from_text(zone.zone)
        keys = [
            k for r in zone.dnskey_records if isinstance(k := parse_record(r, "DNSKEY"), DNSKEY)
        ]
        key_rows = tuple(
            KeyRow(
                dns.dnssec.key_id(k),
                "KSK" if k.flags & 1 else "ZSK",
                _algorithm(int(k.algorithm)),
                int(k.flags),
            )
            for k in keys
        )
        ds_rows = []
        for record in zone.ds_records:
            ds = parse_record(record, "DS")
            if not isinstance(ds, DS):
                continue
            outcome, ok = _ds_outcome(origin, ds, keys)
            ds_rows.append(
                DsRow(
                    record,
                    ds.key_tag,
                    _algorithm(int(ds.algorithm)),
                    int(ds.digest_type),
                    outcome,
                    ok,
                )
            )
        rows.append(
            ZoneRow(
                zone.zone,
                zone.parent,
                zone.state.value,
                key_rows,
                tuple(ds_rows),
                tuple(r for r in zone.ds_to_publish if r not in zone.ds_records),
            )
        )
    return rows


def _ds_outcome(origin: dns.name.Name, ds: DS, keys: list[DNSKEY]) -> tuple[str, bool]:
    same_tag = [k for k in keys if dns.dnssec.key_id(k) == ds.key_tag]
    for key in same_tag:
        role = "KSK" if key.flags & 1 else "ZSK"
        if key.algorithm != ds.algorithm:
            return f"algorithm differs from {role} {ds.key_tag}", False
        digest = ds_digest(origin, key, ds.digest_type)
        if digest is None:
            return f"digest type {int(ds.digest_type)} not supported", False
        if digest == ds.digest:
            return f"matches {role} {ds.key_tag}", True
        return f"digest differs from {role} {ds.key_tag}", False
    if not keys:
        return "the zone serves no DNSKEY", False
    return f"no DNSKEY with key tag {ds.key_tag}", False


def window_rows(report: Report) -> list[WindowRow]:
    """Each server's signature window, judged at the report's moment."""
    now = report.analysis.now
    rows = []
    for zone in report.analysis.zones:
        for server in zone.servers:
            if not server.answered or server.earliest_expiration is None:
                continue
            inception = server.newest_inception or 0
            expiration = server.earliest_expiration
            if expiration < now:
                status, ok = f"expired {human_duration(now - expiration)} ago", False
            elif inception > now:
                status, ok = f"not valid for another {human_duration(inception - now)}", False
            else:
                status, ok = f"valid, {human_duration(expiration - now)} left", True
            rows.append(
                WindowRow(
                    zone.zone,
                    server.server,
                    iso_utc(inception) if inception else "-",
                    iso_utc(expiration),
                    status,
                    ok,
                )
            )
    return rows


def _explanation(code: str) -> dict[str, str] | None:
    entry = CODES.get(code)
    if entry is None:
        return None
    return {"meaning": entry.meaning, "why": entry.why, "fix": entry.fix, "risk": entry.risk}


def page_context(report: Report) -> dict[str, Any]:
    """Everything result.html lays out."""
    data = render_json(report)
    diagnosis = report.diagnosis
    resolver_codes = {c for c, entry in CODES.items() if entry.family is Family.RESOLVERS}
    for cause in data["causes"]:
        cause["explanation"] = _explanation(cause["code"])
    for resolver in data["resolvers"]:
        for ede in resolver["ede"]:
            ede["name"] = ede_name(ede["code"])
    shown = {(f["code"], f["summary"]) for f in (*data["causes"], *data["warnings"])}
    others = [
        f
        for f in data["findings"]
        if f["severity"] in ("error", "warning", "notice")
        and (f["code"], f["summary"]) not in shown
        and f["code"] not in resolver_codes
    ]
    return {
        "report": data,
        "verdict": diagnosis.verdict.value,
        "verdict_words": VERDICT_WORDS[diagnosis.verdict.value],
        "ede_name": ede_name(diagnosis.ede) if diagnosis.ede is not None else None,
        "warnings": [f for f in data["warnings"] if f["code"] not in resolver_codes],
        "others": others,
        "zones": zone_rows(report),
        "windows": window_rows(report),
        "svg": render_svg(report),
        "collected": data["collected_at"],
        "judged": data["judged_at"],
        "took": f"{report.snapshot.finished_at - report.snapshot.collected_at:.1f}",
    }


def age_text(created: float, now: float) -> str:
    return f"{iso_utc(created)} ({human_duration(now - created)} ago)"
