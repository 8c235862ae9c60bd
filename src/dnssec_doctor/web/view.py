"""What the result page shows, computed from a report: plain values for the templates.

The templates only lay these out (and escape every string: autoescape is on); the
judgement stays in the analysis and the diagnosis. The JSON of ``check --json`` is the
backbone, so the page and the API cannot say different things.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dns.dnssec
from dns.rdtypes.ANY.DNSKEY import DNSKEY

from dnssec_doctor.analysis.codes import CODES, Family
from dnssec_doctor.analysis.keys import DsCheck, DsStatus
from dnssec_doctor.analysis.resolvers import ede_name
from dnssec_doctor.analysis.results import KeyResult, key_role
from dnssec_doctor.diagnosis.report import Report
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
    outcome: str  # "matches KSK 12345", "digest differs from KSK 12345", "no DNSKEY with ..."
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
    """DS against DNSKEY, zone by zone, as the analysis matched them."""
    rows = []
    for zone in report.analysis.zones:
        key_rows = tuple(KeyRow(k.tag, k.role, _algorithm(k.algorithm), k.flags) for k in zone.keys)
        ds_rows = []
        for result in zone.ds:
            if result.check is None:
                continue  # unreadable: the findings say so (DS_MALFORMED)
            ds = result.check.ds
            outcome, ok = _ds_outcome(result.check, zone.keys)
            ds_rows.append(
                DsRow(
                    result.record,
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


def _ds_outcome(check: DsCheck, keys: tuple[KeyResult, ...]) -> tuple[str, bool]:
    """The match ``keys.match_ds`` found, in the words of the key table."""
    ds = check.ds
    tag = ds.key_tag
    match check.status:
        case DsStatus.MATCH:
            return f"matches {_role(check.key)} {tag}", True
        case DsStatus.DIGEST_MISMATCH:
            return f"digest differs from {_role(check.key)} {tag}", False
        case DsStatus.NOT_ZONE_KEY:
            return f"names {_role(check.key)} {tag}, which is not a zone key", False
        case DsStatus.ALGORITHM_UNSUPPORTED | DsStatus.DIGEST_UNSUPPORTED:
            # Validators ignore it (RFC 4035 §5.2), whatever it matches.
            what = (
                f"algorithm {int(ds.algorithm)}"
                if check.status is DsStatus.ALGORITHM_UNSUPPORTED
                else f"digest type {int(ds.digest_type)}"
            )
            if check.digest_keys:
                return (
                    f"matches {_role(check.digest_keys[0])} {tag}, but validators do not "
                    f"implement {what}",
                    False,
                )
            return f"{what} not supported", False
    if check.tag_keys:
        return f"algorithm differs from {_role(check.tag_keys[0])} {tag}", False
    if not keys:
        return "the zone serves no DNSKEY", False
    return f"no DNSKEY with key tag {tag}", False


def _role(key: DNSKEY | None) -> str:
    return key_role(key) if key is not None else "key"


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
