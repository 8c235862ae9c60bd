"""Every scenario's declared resolver outcome, checked against the lab's real resolvers.

Each scenario asks a name no other scenario asks, and the resolvers' caches are emptied
when the lab comes up, so every answer here is fresh and carries its EDE detail.
"""

from __future__ import annotations

import pytest

from dnssec_doctor.lab import runtime
from dnssec_doctor.lab.profile import LabProfile, ResolverEntry
from dnssec_doctor.lab.scenarios import SCENARIOS, Scenario
from dnssec_doctor.lab.verify import ask_resolver

pytestmark = pytest.mark.lab

VALIDATORS = ("unbound", "bind", "kresd", "pdns-recursor")


@pytest.fixture(scope="module", autouse=True)
def empty_caches(lab: LabProfile) -> None:
    """Other modules ask the same names: start from empty caches, whatever ran before."""
    runtime.flush_resolvers(lab.directory)


def _resolver(profile: LabProfile, name: str) -> ResolverEntry:
    [entry] = [r for r in profile.resolvers if r.name == name]
    return entry


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.slug for s in SCENARIOS])
@pytest.mark.parametrize("validator", VALIDATORS)
def test_validating_resolver_answers_as_declared(
    lab: LabProfile, scenario: Scenario, validator: str
) -> None:
    resolver = _resolver(lab, validator)
    assert resolver.validating
    answer = ask_resolver(resolver.address, scenario.query_name, scenario.qtype)
    expected = scenario.resolver
    other = expected.sometimes.get(resolver.software)
    if other is not None and (answer.rcode, answer.ad) == other[:2]:
        # The other answer this implementation gives on some runs: with its own EDE, or
        # (on some of those runs) with none.
        assert not answer.ede_codes or other[2] in answer.ede_codes, answer
        return
    assert (answer.rcode, answer.ad) == expected.answer_of(resolver.software), answer
    declared_ede = expected.ede[resolver.software]
    if declared_ede is None:
        assert answer.ede_codes == (), answer
    else:
        assert declared_ede in answer.ede_codes, answer


BOGUS = [s for s in SCENARIOS if s.resolver.rcode == "SERVFAIL" and s.diagnosis.verdict == "bogus"]


@pytest.mark.parametrize("scenario", BOGUS, ids=[s.slug for s in BOGUS])
def test_dnssec_failure_fingerprint(lab: LabProfile, scenario: Scenario) -> None:
    """BRIEF.md step 1: validators SERVFAIL, but with CD set they answer, and so does a
    resolver that does not validate: the fingerprint of a DNSSEC failure."""
    # A validator the catalogue says fails (Unbound, unless it accepts what others do not).
    failing = [v for v in VALIDATORS if scenario.resolver.answer_of(v)[0] == "SERVFAIL"]
    validating = _resolver(lab, failing[0])
    checking_disabled = ask_resolver(
        validating.address, scenario.query_name, scenario.qtype, cd=True
    )
    assert checking_disabled.rcode in ("NOERROR", "NXDOMAIN"), checking_disabled
    assert not checking_disabled.ad
    plain = _resolver(lab, "unbound-nonvalidating")
    assert not plain.validating
    answer = ask_resolver(plain.address, scenario.query_name, scenario.qtype)
    assert answer.rcode in ("NOERROR", "NXDOMAIN"), answer
    assert not answer.ad


@pytest.mark.parametrize("slug", ["lame", "refused"])
def test_unreachable_zone_fails_everywhere(lab: LabProfile, slug: str) -> None:
    """Not DNSSEC: the non-validating resolver fails as well as the validating ones."""
    [scenario] = [s for s in SCENARIOS if s.slug == slug]
    plain = _resolver(lab, "unbound-nonvalidating")
    assert ask_resolver(plain.address, scenario.query_name, scenario.qtype).rcode == "SERVFAIL"


@pytest.mark.parametrize("slug", ["nsec-broken", "nsec3-broken"])
@pytest.mark.parametrize("validator", VALIDATORS)
def test_broken_denial_fails_nodata_too(lab: LabProfile, slug: str, validator: str) -> None:
    """The broken chains break NODATA answers as well as NXDOMAIN: www has no AAAA, and
    the NSEC/NSEC3 that should prove it claims every type."""
    [scenario] = [s for s in SCENARIOS if s.slug == slug]
    resolver = _resolver(lab, validator)
    answer = ask_resolver(resolver.address, f"www.{scenario.zone}", "AAAA")
    if (validator, slug) == ("pdns-recursor", "nsec3-broken"):
        # Measured: PowerDNS Recursor 4.8 calls this NSEC3 NODATA insecure (no AD).
        assert (answer.rcode, answer.ad) == ("NOERROR", False), answer
    else:
        assert answer.rcode == "SERVFAIL", answer
    existing = ask_resolver(resolver.address, f"www.{scenario.zone}", "A")
    assert (existing.rcode, existing.ad) == ("NOERROR", True), existing  # existing names work
