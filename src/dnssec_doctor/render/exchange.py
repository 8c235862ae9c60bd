"""What came back to one query, in the incident log's words: rcode, flags, Extended DNS
Errors and a short summary of the answer — enough that the log replaces the dig session
it records (the text report's --log and the JSON report's ``queries``).

Pure: reads the exchange's bytes as the analysis does (``analysis.context.parse``).
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.edns
import dns.flags
import dns.rcode
import dns.rdatatype

from dnssec_doctor.analysis.context import parse
from dnssec_doctor.analysis.resolvers import ede_name
from dnssec_doctor.model.snapshot import Exchange

# A summary is bounded whatever a hostile server sends: the first records, each cut short.
MAX_RECORDS = 3
MAX_RECORD_CHARACTERS = 100
_FLAG_ORDER = ("QR", "AA", "TC", "RD", "RA", "AD", "CD")


@dataclass(frozen=True)
class ExchangeOutcome:
    """What one exchange came back with, as dig would summarise it."""

    rcode: str | None  # None: nothing came back (see ``error``)
    flags: tuple[str, ...]  # as dig prints them: qr aa rd ra ad ...
    ede: tuple[tuple[int, str], ...]  # (code, extra text) of each Extended DNS Error
    answer: tuple[str, ...]  # the first records of the answer section, "owner TYPE rdata"
    counts: tuple[int, int, int]  # records in the answer, authority, additional sections
    error: str | None  # "timeout", a parse error, ...


def exchange_outcome(exchange: Exchange) -> ExchangeOutcome:
    observation = parse(exchange)
    message = observation.message
    if message is None:
        error = exchange.error or observation.parse_error or "no answer"
        return ExchangeOutcome(None, (), (), (), (0, 0, 0), error)
    present = set(dns.flags.to_text(message.flags).split())
    flags = tuple(flag.lower() for flag in _FLAG_ORDER if flag in present)
    ede = tuple(
        (int(option.code), option.text or "")
        for option in message.options
        if isinstance(option, dns.edns.EDEOption)
    )
    records = [
        f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {_short(rdata.to_text())}"
        for rrset in message.answer
        for rdata in rrset
    ]
    shown = tuple(records[:MAX_RECORDS])
    if len(records) > MAX_RECORDS:
        shown += (f"... {len(records) - MAX_RECORDS} more",)
    counts = tuple(
        sum(len(r) for r in section)
        for section in (message.answer, message.authority, message.additional)
    )
    return ExchangeOutcome(
        dns.rcode.to_text(message.rcode()),
        flags,
        ede,
        shown,
        (counts[0], counts[1], counts[2]),
        observation.parse_error,
    )


def outcome_text(outcome: ExchangeOutcome) -> str:
    """One line: ``NOERROR qr aa rd  EDE 7 (Signature Expired)  answer: www.x. A 192.0.2.1``."""
    if outcome.rcode is None:
        return outcome.error or "no answer"
    parts = [f"{outcome.rcode} {' '.join(outcome.flags)}".rstrip()]
    parts += [
        f"EDE {code} ({ede_name(code)}{': ' + text if text else ''})" for code, text in outcome.ede
    ]
    _, authority, _ = outcome.counts
    if outcome.answer:
        parts.append("answer: " + "; ".join(outcome.answer))
    elif authority:
        parts.append(f"no answer records, {authority} in authority")
    else:
        parts.append("empty")
    if outcome.error:
        parts.append(f"({outcome.error})")
    return "  ".join(parts)


def outcome_json(outcome: ExchangeOutcome) -> dict[str, object]:
    return {
        "flags": list(outcome.flags),
        "ede": [{"code": code, "text": text} for code, text in outcome.ede],
        "answer": list(outcome.answer),
        "counts": {
            "answer": outcome.counts[0],
            "authority": outcome.counts[1],
            "additional": outcome.counts[2],
        },
    }


def _short(text: str) -> str:
    if len(text) <= MAX_RECORD_CHARACTERS:
        return text
    return text[: MAX_RECORD_CHARACTERS - 1] + "…"
