"""What each validator will answer, in words: one line per validator for text, the same
values for JSON and the web page. Pure."""

from __future__ import annotations

from typing import Any

from dnssec_doctor.analysis.resolvers import ede_name
from dnssec_doctor.model.diagnosis import ExpectedAnswer, ValidatorAnswer


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
