"""What each validator will answer, in words: one line per validator for text, the same
values for JSON and the web page; and what the large public resolvers' operators document
(documented, not measured), with the pages it comes from. Pure."""

from __future__ import annotations

from typing import Any

from dnssec_doctor.analysis.resolvers import ede_name
from dnssec_doctor.model.diagnosis import DocumentedAnswer, ExpectedAnswer, ValidatorAnswer


def answer_text(answer: ValidatorAnswer) -> str:
    """ "SERVFAIL, EDE 9 (DNSKEY Missing)", "NOERROR with AD, no EDE"."""
    text = answer.rcode + (" with AD" if answer.ad else "")
    text += f", EDE {answer.ede} ({ede_name(answer.ede)})" if answer.ede is not None else ", no EDE"
    if answer.sometimes is not None:
        text += f"; on some runs {answer_text(answer.sometimes)}"
    return text


def validator_lines(expected: tuple[ExpectedAnswer, ...]) -> list[str]:
    return [
        f"  {e.validator.name + ' ' + e.validator.version:<26} {answer_text(e.answer)}"
        for e in expected
    ]


def validators_json(expected: tuple[ExpectedAnswer, ...]) -> list[dict[str, Any]]:
    def answer(a: ValidatorAnswer) -> dict[str, Any]:
        return {
            "rcode": a.rcode,
            "ad": a.ad,
            "ede": a.ede,
            "sometimes": answer(a.sometimes) if a.sometimes is not None else None,
        }

    return [
        {
            "name": e.validator.name,
            "version": e.validator.version,
            **answer(e.answer),
            "text": answer_text(e.answer),
        }
        for e in expected
    ]


def documented_text(answer: DocumentedAnswer) -> str:
    """ "EDE 9 (DNSKEY Missing): the zone has no SEP DNSKEY ...", "SERVFAIL: when ...",
    "not documented"."""
    if not answer.documented:
        return "not documented"
    codes = " or ".join(f"EDE {code} ({ede_name(code)})" for code in answer.ede)
    head = ", ".join(part for part in (answer.rcode, codes) if part)
    return f"{head}: {answer.says}"


def public_resolver_lines(documented: tuple[DocumentedAnswer, ...]) -> list[str]:
    """One line per public resolver, and under each documented one the pages it comes from."""
    lines: list[str] = []
    for answer in documented:
        label = f"{answer.resolver.name} {answer.resolver.address}"
        lines.append(f"  {label:<26} {documented_text(answer)}")
        if answer.documented:
            pages = ", ".join(page.url for page in answer.sources)
            lines.append(f"  {'':<26} source: {pages} (read {answer.sources[0].read})")
    return lines


def public_resolvers_json(documented: tuple[DocumentedAnswer, ...]) -> list[dict[str, Any]]:
    return [
        {
            "name": a.resolver.name,
            "address": a.resolver.address,
            "documented": a.documented,
            "measured": False,
            "rcode": a.rcode,
            "ede": list(a.ede),
            "says": a.says,
            "text": documented_text(a),
            "sources": [{"title": p.title, "url": p.url, "read": p.read} for p in a.sources],
        }
        for a in documented
    ]
