"""What the public resolvers' operators document: held to the code table, to the pages
read and to the measured table. Nothing here is measured, and nothing may look measured."""

from __future__ import annotations

import re

from dnssec_doctor.analysis.codes import CODES
from dnssec_doctor.diagnosis.public_resolvers import (
    DOCUMENTED,
    LISTED_EDE,
    PUBLIC_RESOLVERS,
    QUAD9,
    READ_PAGES,
    documented_answers,
)
from dnssec_doctor.diagnosis.validators import EXPECTED, VALIDATORS
from dnssec_doctor.lab.scenarios import SCENARIOS
from dnssec_doctor.model.diagnosis import DocumentedAnswer
from dnssec_doctor.render.validators import (
    documented_text,
    public_resolver_lines,
    public_resolvers_json,
)

ANSWERS = [(code, key, answer) for code, row in DOCUMENTED.items() for key, answer in row.items()]


def test_rows_are_causes_and_columns_public_resolvers_never_lab_validators() -> None:
    public = {r.key for r in PUBLIC_RESOLVERS}
    assert not public & {v.key for v in VALIDATORS}
    for code, key, answer in ANSWERS:
        assert CODES[code].rank is not None, code
        assert key in public and answer.resolver.key == key, (code, key)


def test_every_answer_cites_a_page_read_with_its_date() -> None:
    for code, key, answer in ANSWERS:
        assert answer.documented, (code, key)
        assert answer.sources, (code, key)
        for page in answer.sources:
            assert page in READ_PAGES[key], (code, key, page.url)
            assert page.url.startswith("https://") and page.title
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", page.read)
        assert answer.says and not answer.says.startswith("EDE"), (code, key)


def test_a_documented_ede_is_one_the_operator_lists() -> None:
    for code, key, answer in ANSWERS:
        assert set(answer.ede) <= LISTED_EDE[key], (code, key, answer.ede)


def test_quad9s_servfail_only_where_every_lab_validator_fails() -> None:
    """Quad9 documents SERVFAIL for a failed DNSSEC validation; the table gives it only to
    causes where every lab validator answers SERVFAIL in every scenario of the catalogue
    (as measured), never where some validate."""
    for code, key, answer in ANSWERS:
        if answer.rcode != "SERVFAIL" or key != QUAD9.key:
            continue
        cases = [s for s in SCENARIOS if s.diagnosis.cause == code]
        assert cases and code in EXPECTED, code
        for scenario in cases:
            for validator in VALIDATORS:
                rcode = scenario.resolver.answer_of(validator.key)[0]
                assert rcode == "SERVFAIL", (code, scenario.slug, validator.key)
                other = scenario.resolver.sometimes.get(validator.key)
                assert other is None or other[0] == "SERVFAIL", (code, validator.key)


def test_not_documented_where_the_pages_say_nothing() -> None:
    # Cloudflare's list has no code 27 and nothing on NSEC3 iterations: no guess.
    answers = {a.resolver.key: a for a in documented_answers("NSEC3_ITERATIONS_EXCESSIVE")}
    assert set(answers) == {r.key for r in PUBLIC_RESOLVERS}
    for key, answer in answers.items():
        assert not answer.documented, key
        assert answer.sources == READ_PAGES[key]
        assert documented_text(answer) == "not documented"
    assert documented_answers(None) == ()


def test_works_at_one_fails_at_another_in_words_and_json() -> None:
    """A DS left behind after signing was turned off: each operator's documented answer."""
    answers = documented_answers("DS_FOR_UNSIGNED_ZONE")
    texts = {a.resolver.name: documented_text(a) for a in answers}
    assert texts["Cloudflare"].startswith("EDE 9 (DNSKEY Missing): ")
    assert texts["Google Public DNS"].startswith("SERVFAIL: ")
    assert texts["Quad9"].startswith("SERVFAIL: ")
    lines = public_resolver_lines(answers)
    assert lines[0].startswith("  Cloudflare 1.1.1.1 ")
    assert "developers.cloudflare.com" in lines[1] and "(read 2026-12-04)" in lines[1]
    [cloudflare, google, quad9] = public_resolvers_json(answers)
    assert cloudflare["ede"] == [9] and cloudflare["rcode"] is None
    assert google["rcode"] == "SERVFAIL" and google["ede"] == []
    assert all(row["measured"] is False for row in (cloudflare, google, quad9))
    assert quad9["sources"][0]["url"] == "https://docs.quad9.net/FAQs/"


def test_two_codes_when_the_page_describes_both() -> None:
    [cloudflare, *_] = documented_answers("NXDOMAIN_PROOF_INVALID")
    assert documented_text(cloudflare).startswith("EDE 6 (DNSSEC Bogus) or EDE 12 (NSEC Missing): ")


def test_an_answer_without_rcode_or_ede_is_not_documented() -> None:
    [resolver, *_] = PUBLIC_RESOLVERS
    assert not DocumentedAnswer(resolver, READ_PAGES[resolver.key], "x").documented
