"""CNAME/DNAME loops and over-long chains, judged on hand-built snapshots: the chain the
probe followed and the authoritative answers at each name."""

from __future__ import annotations

import itertools

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from dnssec_doctor.analysis.context import Evidence
from dnssec_doctor.analysis.redirects import RESOLVER_REDIRECT_LIMIT, check_redirects
from dnssec_doctor.model.snapshot import Exchange, Purpose, Role, Server, Snapshot, Transport

NOW = 1_795_176_000.0
ZONE = "example."


def answer(qname: str, *records: str) -> bytes:
    query = dns.message.make_query(qname, "A")
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    for record in records:
        owner, rdtype, value = record.split()
        response.answer.append(dns.rrset.from_text(owner, 300, "IN", rdtype, value))
    return response.to_wire()


def snapshot(chain: list[str], answers: dict[str, bytes]) -> Snapshot:
    exchanges = tuple(
        Exchange(
            id=number,
            role=Role.AUTHORITATIVE,
            purpose=Purpose.ANSWER,
            zone=ZONE,
            server=Server("192.0.2.53", "ns1.example."),
            qname=qname,
            qtype="A",
            rd=False,
            cd=False,
            do=True,
            transport=Transport.UDP,
            sent_at=NOW,
            duration=0.001,
            response=wire,
        )
        for number, (qname, wire) in enumerate(answers.items())
    )
    return Snapshot(
        name=chain[0],
        rdtype="A",
        collected_at=NOW,
        finished_at=NOW,
        trust_anchors=(),
        zones=(),
        exchanges=exchanges,
        targets=tuple((name, "A") for name in chain),
    )


def codes(chain: list[str], answers: dict[str, bytes]) -> list[tuple[str, str]]:
    found = check_redirects(Evidence.of(snapshot(chain, answers)), lambda name: ZONE)
    return [(f.code, f.summary) for f in found]


def test_a_loop_across_two_answers() -> None:
    answers = {
        "www.example.": answer("www.example.", "www.example. CNAME loop.example."),
        "loop.example.": answer("loop.example.", "loop.example. CNAME www.example."),
    }
    [(code, summary)] = codes(["www.example.", "loop.example."], answers)
    assert code == "REDIRECT_LOOP"
    assert "www.example. → loop.example. → www.example." in summary


def test_a_name_that_is_its_own_target() -> None:
    answers = {"self.example.": answer("self.example.", "self.example. CNAME self.example.")}
    found = check_redirects(
        Evidence.of(snapshot(["www.example.", "self.example."], answers)), lambda name: ZONE
    )
    assert [f.code for f in found] == ["REDIRECT_LOOP"]
    assert found[0].records == ("self.example. 300 IN CNAME self.example.",)


def _chain(length: int, *, ends: bool = True) -> tuple[list[str], dict[str, bytes]]:
    """``length`` redirections: h0 → h1 → ... → h<length>, which has the address (or, with
    ``ends`` False, redirects once more: the probe stopped following)."""
    names = [f"h{n}.example." for n in range(length + 1)]
    answers = {
        name: answer(name, f"{name} CNAME {following}")
        for name, following in itertools.pairwise(names)
    }
    last = names[-1]
    answers[last] = answer(last, f"{last} A 192.0.2.1" if ends else f"{last} CNAME beyond.example.")
    return names, answers


def test_chains_up_to_the_resolvers_limit_are_fine() -> None:
    assert codes(*_chain(RESOLVER_REDIRECT_LIMIT)) == []
    assert codes(*_chain(1)) == []


def test_a_chain_longer_than_resolvers_follow() -> None:
    [(code, summary)] = codes(*_chain(RESOLVER_REDIRECT_LIMIT + 1))
    assert code == "REDIRECT_CHAIN_TOO_LONG"
    assert f"through {RESOLVER_REDIRECT_LIMIT + 1} CNAME/DNAME redirections" in summary


def test_a_chain_the_probe_stopped_following_counts_as_at_least() -> None:
    [(code, summary)] = codes(*_chain(RESOLVER_REDIRECT_LIMIT, ends=False))
    assert code == "REDIRECT_CHAIN_TOO_LONG"
    assert f"at least {RESOLVER_REDIRECT_LIMIT + 1}" in summary
    assert summary.endswith("→ beyond.example. …")


def test_a_name_without_redirection_has_no_chain() -> None:
    answers = {"www.example.": answer("www.example.", "www.example. A 192.0.2.1")}
    assert codes(["www.example."], answers) == []


def test_one_answer_shows_the_rest_of_a_chain_inside_its_zone() -> None:
    """What the probe walks at once: every name one answer redirects through, a loop
    ending with the name it returns to."""
    from dnssec_doctor.model.redirect import read_chain

    chain = dns.message.from_wire(
        answer("a.example.", "a.example. CNAME b.example.", "b.example. CNAME c.example.")
    )
    assert read_chain(chain, dns.name.from_text("a.example."), dns.rdatatype.A) == [
        dns.name.from_text("b.example."),
        dns.name.from_text("c.example."),
    ]
    loop = dns.message.from_wire(
        answer("a.example.", "a.example. CNAME b.example.", "b.example. CNAME a.example.")
    )
    assert read_chain(loop, dns.name.from_text("a.example."), dns.rdatatype.A) == [
        dns.name.from_text("b.example."),
        dns.name.from_text("a.example."),
    ]


def yxdomain(qname: str, owner: str, target: str) -> bytes:
    """A server's answer when the DNAME at ``owner`` would make ``qname`` too long."""
    query = dns.message.make_query(qname, "A")
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    response.set_rcode(dns.rcode.YXDOMAIN)
    response.answer.append(dns.rrset.from_text(owner, 300, "IN", "DNAME", target))
    return response.to_wire()


LONG_TARGET = ".".join(c * 63 for c in "xyz") + ".example."  # 201 octets


def test_a_dname_that_would_make_the_name_too_long_breaks_it() -> None:
    """RFC 6672 §2.2: the server answers YXDOMAIN; nobody can resolve the name, validating
    or not (not DNSSEC: the DNAME itself may validate)."""
    qname = "a" * 63 + ".sub.example."
    answers = {qname: yxdomain(qname, "sub.example.", LONG_TARGET)}
    [(code, summary)] = codes([qname], answers)
    assert code == "REDIRECT_NAME_TOO_LONG"
    assert "the DNAME at sub.example." in summary and "255 octets" in summary


def test_a_yxdomain_whose_dname_does_not_overflow_is_not_called_one() -> None:
    qname = "short.sub.example."
    answers = {qname: yxdomain(qname, "sub.example.", "target.example.")}
    assert codes([qname], answers) == []
