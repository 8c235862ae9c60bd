"""Check that the running lab's resolvers answer each scenario as the catalogue declares.

This is how an operator (and the test suite) knows the lab reproduces each failure the
way real validators see it: every validating resolver is asked the scenario's question
with empty caches, and its rcode, AD flag and Extended DNS Error are compared with the
declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from dnssec_doctor.lab.profile import LabProfile, ResolverEntry
from dnssec_doctor.lab.scenarios import Scenario

QUERY_TIMEOUT = 5.0


@dataclass(frozen=True)
class ResolverAnswer:
    """What one resolver said: rcode name, AD flag, EDE options (code, text)."""

    rcode: str
    ad: bool
    ede: tuple[tuple[int, str], ...]
    error: str | None = None

    @property
    def ede_codes(self) -> tuple[int, ...]:
        return tuple(code for code, _ in self.ede)


@dataclass(frozen=True)
class Comparison:
    scenario: Scenario
    resolver: ResolverEntry
    answer: ResolverAnswer
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def ask_resolver(address: str, qname: str, qtype: str, *, cd: bool = False) -> ResolverAnswer:
    """One recursive query with DO set (and CD if asked), over UDP then TCP if truncated."""
    query = dns.message.make_query(qname, dns.rdatatype.from_text(qtype), want_dnssec=True)
    query.flags |= dns.flags.RD
    if cd:
        query.flags |= dns.flags.CD
    try:
        response, _ = dns.query.udp_with_fallback(query, address, timeout=QUERY_TIMEOUT)
    except (dns.exception.DNSException, OSError) as error:
        return ResolverAnswer("TIMEOUT", False, (), error=str(error) or type(error).__name__)
    ede = tuple(
        (int(option.code), option.text or "")
        for option in response.options
        if isinstance(option, dns.edns.EDEOption)
    )
    return ResolverAnswer(
        dns.rcode.to_text(response.rcode()), bool(response.flags & dns.flags.AD), ede
    )


def compare(scenario: Scenario, resolver: ResolverEntry, answer: ResolverAnswer) -> Comparison:
    """Differences between a validating resolver's answer and the declared outcome (or the
    other answer it declares that implementation gives on some runs)."""
    expected = scenario.resolver
    other = expected.sometimes.get(resolver.software)
    if (
        other is not None
        and (answer.rcode, answer.ad) == other[:2]
        and (not answer.ede_codes or other[2] in answer.ede_codes)
    ):
        return Comparison(scenario, resolver, answer, ())
    rcode, ad = expected.answer_of(resolver.software)
    problems = []
    if answer.rcode != rcode:
        problems.append(f"rcode {answer.rcode}, declared {rcode}")
    if answer.ad != ad:
        problems.append(
            f"AD {'set' if answer.ad else 'clear'}, declared {'set' if ad else 'clear'}"
        )
    declared_ede = expected.ede.get(resolver.software)
    if declared_ede is None and answer.ede_codes:
        problems.append(f"EDE {answer.ede_codes}, declared none")
    elif declared_ede is not None and declared_ede not in answer.ede_codes:
        problems.append(f"EDE {answer.ede_codes or 'none'}, declared {declared_ede}")
    return Comparison(scenario, resolver, answer, tuple(problems))


def verify_scenario(profile: LabProfile, scenario: Scenario) -> list[Comparison]:
    """Ask every validating resolver the scenario's question (flush their caches before)."""
    return [
        compare(
            scenario, resolver, ask_resolver(resolver.address, scenario.query_name, scenario.qtype)
        )
        for resolver in profile.validating_resolvers
    ]
