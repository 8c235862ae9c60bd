"""What each validator will answer: the table held to the lab's catalogue, whose answers
the lab tests check against the running validators (tests/test_lab_resolvers.py)."""

from __future__ import annotations

import pytest

from dnssec_doctor.analysis.codes import CODES
from dnssec_doctor.diagnosis.validators import EXPECTED, VALIDATORS, expected_answers
from dnssec_doctor.lab.scenarios import SCENARIOS, Scenario
from dnssec_doctor.model.diagnosis import ValidatorAnswer
from dnssec_doctor.model.verdict import Verdict
from dnssec_doctor.render.validators import answer_text, validators_json

CAUSED = [s for s in SCENARIOS if s.diagnosis.cause and s.diagnosis.verdict is not Verdict.SECURE]


def _declared(scenario: Scenario, key: str) -> tuple[str, bool, int | None]:
    rcode, ad = scenario.resolver.answer_of(key)
    return rcode, ad, scenario.resolver.ede[key]


def test_rows_are_causes_and_columns_the_lab_validators() -> None:
    keys = {v.key for v in VALIDATORS}
    for code, row in EXPECTED.items():
        assert CODES[code].rank is not None, code
        assert set(row) <= keys, code
    # The lab runs each of them (the catalogue declares an answer for each).
    assert all(set(s.resolver.ede) == keys for s in SCENARIOS)


@pytest.mark.parametrize("scenario", CAUSED, ids=[s.slug for s in CAUSED])
def test_the_table_says_what_the_lab_validators_answer(scenario: Scenario) -> None:
    cause = scenario.diagnosis.cause
    assert cause in EXPECTED, f"no row for {cause}, which {scenario.slug} reproduces"
    for key, answer in EXPECTED[cause].items():
        assert (answer.rcode, answer.ad, answer.ede) == _declared(scenario, key), key
        other = scenario.resolver.sometimes.get(key)
        sometimes = answer.sometimes
        got = None if sometimes is None else (sometimes.rcode, sometimes.ad, sometimes.ede)
        assert got == other, key


def test_a_validator_is_left_out_only_where_its_answer_depends_on_the_case() -> None:
    for code, row in EXPECTED.items():
        cases = [s for s in CAUSED if s.diagnosis.cause == code]
        for validator in VALIDATORS:
            if validator.key not in row:
                answers = {_declared(s, validator.key) for s in cases}
                assert len(answers) > 1, (code, validator.key)


def test_expected_answers_in_the_table_order_with_versions() -> None:
    expected = expected_answers("DS_DIGEST_MISMATCH")
    assert [e.validator.name for e in expected] == [
        "Unbound",
        "BIND",
        "Knot Resolver",
        "PowerDNS Recursor",
    ]
    assert all(e.validator.version for e in expected)
    assert expected_answers("NO_SUCH_CODE") == ()
    assert expected_answers(None) == ()


def test_answers_in_words_and_json() -> None:
    assert answer_text(ValidatorAnswer("SERVFAIL", ede=9)) == "SERVFAIL, EDE 9 (DNSKEY Missing)"
    assert answer_text(ValidatorAnswer("NOERROR", ad=True)) == "NOERROR with AD, no EDE"
    flaky = ValidatorAnswer("NOERROR", ad=True, sometimes=ValidatorAnswer("SERVFAIL", ede=6))
    assert answer_text(flaky) == (
        "NOERROR with AD, no EDE; on some runs SERVFAIL, EDE 6 (DNSSEC Bogus)"
    )
    [row] = validators_json(expected_answers("MULTI_SIGNER_KEY_MISSING"))[-1:]
    assert row["name"] == "PowerDNS Recursor"
    assert row["sometimes"] == {"rcode": "SERVFAIL", "ad": False, "ede": 6, "sometimes": None}
