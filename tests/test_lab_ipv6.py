"""The lab over IPv6: servers on fd53::/64 inside the tests' private network namespace,
glue of both families, a zone whose only broken server is reachable over IPv6 only, and
what check says when this host has no IPv6 route."""

from __future__ import annotations

import ipaddress

import dns.message
import dns.query
import dns.rdatatype
import pytest

from dnssec_doctor.diagnosis.report import build_report
from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.lab.scenarios import SCENARIOS, find_scenario
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.verdict import Verdict
from dnssec_doctor.pipeline import lab_settings
from dnssec_doctor.probe.collect import collect
from dnssec_doctor.probe.settings import LAB_IPV6_NETWORK, AddressPolicy
from dnssec_doctor.probe.transport import has_route
from dnssec_doctor.render.text import render_text

pytestmark = pytest.mark.lab

STALE = find_scenario("stale-secondary-ipv6")


def _address(server: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address in a server label 'NAME (ADDRESS)'."""
    return ipaddress.ip_address(server.rsplit("(", 1)[1].rstrip(")"))


def test_the_catalogue_marks_its_ipv6_scenarios() -> None:
    assert {s.slug for s in SCENARIOS if s.private_network and "IPv6" in s.broken} == {
        "dual-stack",
        "stale-secondary-ipv6",
    }


def test_the_parent_serves_glue_of_both_families(lab: LabProfile) -> None:
    query = dns.message.make_query("dual-stack.lab.", "NS")
    response = dns.query.udp(query, "127.53.1.1", timeout=2)
    glue = {rrset.rdtype: [r.address for r in rrset] for rrset in response.additional}
    [v4] = glue[dns.rdatatype.A]
    [v6] = glue[dns.rdatatype.AAAA]
    assert ipaddress.ip_address(v4).is_loopback
    assert ipaddress.ip_address(v6) in LAB_IPV6_NETWORK
    # The server answers at its IPv6 address.
    answer = dns.query.udp(dns.message.make_query("www.dual-stack.lab.", "A"), v6, timeout=2)
    assert answer.answer


def test_the_only_broken_server_reachable_over_ipv6_is_found_and_named(lab: LabProfile) -> None:
    settings = lab_settings(lab)
    assert settings.address_policy is AddressPolicy.LAB
    snapshot = collect(STALE.query_name, STALE.qtype, settings)
    report = build_report(snapshot, AnalysisOptions(now=snapshot.finished_at))
    assert report.diagnosis.verdict is Verdict.PARTIAL
    [stale] = [f for f in report.analysis.findings if f.code == "SERVER_STALE_COPY"]
    [server] = stale.servers
    assert server.startswith(f"ns2.{STALE.zone} ") and _address(server) in LAB_IPV6_NETWORK
    asked = {ipaddress.ip_address(e.server.address) for e in snapshot.exchanges}
    assert any(a.version == 6 for a in asked) and any(a.version == 4 for a in asked)
    assert "IPV6_SKIPPED" not in {f.code for f in report.analysis.findings}
    assert server in render_text(report)


def test_without_an_ipv6_route_check_names_the_servers_it_could_not_ask(
    lab: LabProfile,
) -> None:
    # In the tests' namespace the lab's IPv6 addresses are routed and nothing else is.
    assert has_route("fd53::53:1")
    assert not has_route("fd54::1")
    assert not has_route("2001:db8::1")
    settings = lab_settings(lab, ipv6_route=lambda address: False)
    snapshot = collect(STALE.query_name, STALE.qtype, settings)
    # Nothing was sent to an IPv6 address, so nothing waited on one.
    assert all(ipaddress.ip_address(e.server.address).version == 4 for e in snapshot.exchanges)
    report = build_report(snapshot, AnalysisOptions(now=snapshot.finished_at))
    [skipped] = [f for f in report.analysis.findings if f.code == "IPV6_SKIPPED"]
    assert sorted(skipped.servers) == sorted(
        [f"ns1.{STALE.zone} ({s})" for s in _zone_addresses(lab, 2)]
        + [f"ns2.{STALE.zone} ({s})" for s in _zone_addresses(lab, 3)]
    )
    assert "no IPv6 route" in skipped.summary
    # The IPv4 server is fine: the check cannot see the stale copy, and says what it did
    # not ask rather than claiming every server.
    assert "SERVER_STALE_COPY" not in {f.code for f in report.analysis.findings}
    text = render_text(report)
    assert all(server in text for server in skipped.servers)


def _zone_addresses(lab: LabProfile, block: int) -> list[str]:
    """The scenario's IPv6 address in ``block``, as the lab's parent publishes it."""
    response = dns.query.udp(dns.message.make_query(STALE.zone, "NS"), "127.53.1.1", timeout=2)
    found = [
        r.address
        for rrset in response.additional
        if rrset.rdtype == dns.rdatatype.AAAA
        for r in rrset
        if r.address.startswith(f"fd53::{block}:")
    ]
    assert found, response.to_text()
    return found
