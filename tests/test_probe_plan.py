"""The probe's pure parts: the questions it plans, how it reads responses, its settings
files. No I/O: every message here is built in memory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from dnssec_doctor.analysis.wire import parse_message
from dnssec_doctor.errors import UsageError
from dnssec_doctor.model.snapshot import Purpose, Server
from dnssec_doctor.probe import plan
from dnssec_doctor.probe import transport as transport_module
from dnssec_doctor.probe.settings import (
    AddressPolicy,
    ProbeSettings,
    read_root_hints,
    read_trust_anchors,
)
from dnssec_doctor.probe.transport import is_truncated, matches_query

N = dns.name.from_text


def response_to(question: plan.Question, *, aa: bool = True) -> dns.message.Message:
    response = dns.message.make_response(plan.make_query(question))
    if aa:
        response.flags |= dns.flags.AA
    return response


def add(section: list[dns.rrset.RRset], owner: str, rdtype: str, *rdatas: str) -> None:
    section.append(dns.rrset.from_text(owner, 300, "IN", rdtype, *rdatas))


def test_queries_carry_edns_do_and_no_recursion() -> None:
    query = plan.make_query(plan.target_question(N("www.example."), dns.rdatatype.A))
    assert query.edns == 0 and query.payload == plan.EDNS_PAYLOAD
    assert query.ednsflags & dns.flags.DO
    assert not query.flags & (dns.flags.RD | dns.flags.CD)


def test_resolver_views() -> None:
    plain, with_do, with_cd = (
        plan.make_query(q) for q in plan.resolver_questions(N("www.example."), dns.rdatatype.A)
    )
    assert plain.flags & dns.flags.RD and not plain.ednsflags & dns.flags.DO
    assert plain.edns == 0  # EDNS without DO still lets a resolver attach EDE
    assert with_do.ednsflags & dns.flags.DO and not with_do.flags & dns.flags.CD
    assert with_cd.flags & dns.flags.CD and with_cd.ednsflags & dns.flags.DO


def test_apex_questions_and_denial_name() -> None:
    questions = plan.apex_questions(N("example."))
    assert [q.purpose for q in questions] == [
        Purpose.DNSKEY,
        Purpose.SOA,
        Purpose.NS,
        Purpose.CDS,
        Purpose.CDNSKEY,
        Purpose.DENIAL,
    ]
    denial = questions[-1].qname
    assert denial.parent() == N("example.")
    assert denial.labels[0].startswith(b"dnssec-doctor-nx-")
    assert plan.denial_name(N("EXAMPLE.")) == denial  # deterministic, case-blind
    assert plan.denial_name(N("other.")) != plan.denial_name(N("example."))
    long_zone = dns.name.Name([b"a" * 63] * 3 + [b"b" * 60])
    assert plan.denial_name(long_zone) is None
    assert [q.purpose for q in plan.apex_questions(long_zone)][-1] is Purpose.CDNSKEY


def test_user_input_is_checked() -> None:
    assert plan.parse_rdtype("aaaa") == dns.rdatatype.AAAA
    assert plan.parse_rdtype("TYPE65534") == 65534
    # One policy: users never ask ANY, RRSIG, SIG, TYPE0 or a meta type; replay asks ANY.
    for bad in ("AXFR", "OPT", "NOPE", "ANY", "RRSIG", "SIG", "TYPE0", "NXNAME", "TYPE65536"):
        with pytest.raises(UsageError):
            plan.parse_rdtype(bad)
    assert plan.parse_rdtype("ANY", replay=True) == dns.rdatatype.ANY
    for bad in ("AXFR", "RRSIG", "TYPE0"):
        with pytest.raises(UsageError):
            plan.parse_rdtype(bad, replay=True)
    with pytest.raises(UsageError):
        plan.parse_name("a..b")
    assert plan.parse_name("www.example") == N("www.example.")


def test_referral_with_glue_in_bailiwick_only() -> None:
    question = plan.target_question(N("www.child.example."), dns.rdatatype.A)
    response = response_to(question, aa=False)
    add(response.authority, "child.example.", "NS", "ns1.child.example.", "ns.elsewhere.")
    add(response.additional, "ns1.child.example.", "A", "127.53.250.1")
    add(response.additional, "ns1.child.example.", "AAAA", "fd00::1")
    add(response.additional, "ns.elsewhere.", "A", "127.53.250.2")  # not the parent's to say
    referral = plan.read_referral(response, N("example."), question.qname)
    assert referral is not None
    assert referral.child == N("child.example.")
    assert referral.ns_names == (N("ns.elsewhere."), N("ns1.child.example."))  # sorted
    assert dict(referral.glue) == {N("ns1.child.example."): ("127.53.250.1", "fd00::1")}


@pytest.mark.parametrize(
    "owner", ["example.", "org.", "other.example.", "deeper.www.child.example."]
)
def test_referral_must_lead_down_towards_the_name(owner: str) -> None:
    question = plan.target_question(N("www.child.example."), dns.rdatatype.A)
    response = response_to(question, aa=False)
    add(response.authority, owner, "NS", "ns1.example.")
    assert plan.read_referral(response, N("example."), question.qname) is None


def test_authoritative_response_is_not_a_referral() -> None:
    question = plan.target_question(N("www.child.example."), dns.rdatatype.A)
    response = response_to(question, aa=True)
    add(response.authority, "child.example.", "NS", "ns1.child.example.")
    assert plan.read_referral(response, N("example."), question.qname) is None


def test_merge_referrals_takes_the_majority_and_unions_servers() -> None:
    a = plan.Referral(N("c.example."), (N("ns1.c.example."),), {N("ns1.c.example."): ("1",)})
    b = plan.Referral(N("c.example."), (N("ns2.c.example."),), {})
    odd = plan.Referral(N("x.c.example."), (N("ns.x.c.example."),), {})
    merged = plan.merge_referrals([odd, a, b])
    assert merged is not None
    assert merged.child == N("c.example.")
    assert merged.ns_names == (N("ns1.c.example."), N("ns2.c.example."))
    assert plan.merge_referrals([]) is None


def test_redirects() -> None:
    question = plan.target_question(N("app.example."), dns.rdatatype.A)
    cname = response_to(question)
    add(cname.answer, "app.example.", "CNAME", "www.target.")
    assert plan.read_redirect(cname, question.qname, dns.rdatatype.A) == N("www.target.")
    assert plan.read_redirect(cname, question.qname, dns.rdatatype.CNAME) is None

    dname = response_to(plan.target_question(N("www.old.example."), dns.rdatatype.A))
    add(dname.answer, "old.example.", "DNAME", "new.example.")
    assert plan.read_redirect(dname, N("www.old.example."), dns.rdatatype.A) == N(
        "www.new.example."
    )
    # A DNAME at the name itself redirects only names below it.
    assert plan.read_redirect(dname, N("old.example."), dns.rdatatype.A) is None


def test_hidden_apex_from_soa_or_signer() -> None:
    qname = N("www.sub.example.")
    negative = response_to(plan.target_question(qname, dns.rdatatype.A))
    negative.set_rcode(dns.rcode.NXDOMAIN)
    add(negative.authority, "sub.example.", "SOA", "ns. host. 1 2 3 4 5")
    assert plan.read_hidden_apex(negative, N("example."), qname) == N("sub.example.")
    assert plan.read_hidden_apex(negative, N("sub.example."), qname) is None

    signed = response_to(plan.target_question(qname, dns.rdatatype.A))
    add(signed.answer, "www.sub.example.", "A", "127.53.250.1")
    add(
        signed.answer,
        "www.sub.example.",
        "RRSIG",
        "A 13 3 300 20300101000000 20200101000000 1 sub.example. AAAA",
    )
    assert plan.read_hidden_apex(signed, N("example."), qname) == N("sub.example.")
    assert not plan.needs_apex_probe(signed, N("example."), qname)

    unsigned = response_to(plan.target_question(qname, dns.rdatatype.A))
    add(unsigned.answer, "www.sub.example.", "A", "127.53.250.1")
    assert plan.read_hidden_apex(unsigned, N("example."), qname) is None
    assert plan.needs_apex_probe(unsigned, N("example."), qname)


def test_read_response_refuses_what_cannot_be_followed() -> None:
    question = plan.target_question(N("www.example."), dns.rdatatype.A)
    good = response_to(question)
    assert plan.read_response(good.to_wire(), question) is not None
    assert plan.read_response(b"\x00\x01garbage", question) is None
    assert plan.read_response(None, question) is None
    assert plan.read_response(plan.make_query(question).to_wire(), question) is None  # no QR
    other = response_to(plan.target_question(N("other.example."), dns.rdatatype.A))
    assert plan.read_response(other.to_wire(), question) is None


def test_the_analysis_reads_the_message_the_probe_parsed() -> None:
    """A check parses each response once: in the probe, while it waits for the next
    answers; the analysis finds that parse by the response's bytes. A response with a
    record dnspython cannot read is still followed as far as it parses."""
    question = plan.target_question(N("www.example."), dns.rdatatype.A)
    wire = response_to(question).to_wire()
    followed = plan.read_response(wire, question)
    assert followed is not None
    assert parse_message(bytes(wire)).message is followed
    broken = response_to(question)
    # A SHA-256 DS whose digest is 20 bytes: dnspython refuses the record.
    short_ds = dns.rdata.GenericRdata(
        dns.rdataclass.IN, dns.rdatatype.DS, bytes.fromhex("3039 0d 02") + bytes(20)
    )
    ds = dns.rrset.RRset(N("www.example."), dns.rdataclass.IN, dns.rdatatype.DS)
    ds.add(short_ds, 300)
    broken.authority.append(ds)
    wire = broken.to_wire()
    parsed = parse_message(wire)
    assert parsed.message is not None and parsed.malformed
    assert plan.read_response(wire, question) is not None


def test_the_same_answer_to_another_query_is_parsed_once() -> None:
    """A scan hands one server's answer to every name asking the same question, each
    with its own ID: the records are parsed once, each message keeps its own ID."""
    question = plan.target_question(N("shared.example."), dns.rdatatype.A)
    response = response_to(question)
    add(response.answer, "shared.example.", "A", "192.0.2.7")
    response.id = 1
    first = parse_message(response.to_wire()).message
    response.id = 2
    second = parse_message(response.to_wire()).message
    assert first is not None and second is not None
    assert (first.id, second.id) == (1, 2)
    assert second.answer is first.answer  # the same parse, not a second one
    response.answer[0].ttl = 301  # one byte more differs: parsed anew
    third = parse_message(response.to_wire()).message
    assert third is not None and third.answer is not first.answer
    assert third.answer[0].ttl == 301


def test_addresses_through_an_inner_cname() -> None:
    question = plan.Question(Purpose.ADDRESS, N("ns.example."), dns.rdatatype.A)
    response = response_to(question)
    add(response.answer, "ns.example.", "CNAME", "host.example.")
    add(response.answer, "host.example.", "A", "127.53.250.7")
    assert plan.read_addresses(response, question.qname, dns.rdatatype.A) == ("127.53.250.7",)


def test_reply_matching() -> None:
    query = plan.make_query(plan.target_question(N("www.example."), dns.rdatatype.A))
    reply = dns.message.make_response(query).to_wire()
    assert matches_query(reply, query)
    assert not matches_query(bytes([reply[0] ^ 1]) + reply[1:], query)  # wrong ID
    other = dns.message.make_response(
        plan.make_query(plan.target_question(N("evil.example."), dns.rdatatype.A))
    )
    other.id = query.id
    assert not matches_query(other.to_wire(), query)
    garbage = query.id.to_bytes(2, "big") + b"\xff" * 20
    assert matches_query(garbage, query)  # malformed but ours: kept as evidence
    assert not matches_query(b"\x01", query)
    assert not is_truncated(reply)
    assert is_truncated(reply[:2] + bytes([reply[2] | 0x02]) + reply[3:])


def test_the_reply_catcher_takes_exactly_the_datagrams_matches_query_takes() -> None:
    """The catcher takes a datagram that repeats the query's ID and question byte for byte
    without parsing it; every other datagram is judged by matches_query, as before."""
    query = plan.make_query(plan.target_question(N("www.example."), dns.rdatatype.A))
    wire = query.to_wire()
    reply = dns.message.make_response(query).to_wire()
    mixed_case = dns.message.make_response(query)
    mixed_case.question = [dns.rrset.RRset(N("WWW.example."), dns.rdataclass.IN, dns.rdatatype.A)]
    other = dns.message.make_response(
        plan.make_query(plan.target_question(N("evil.example."), dns.rdatatype.A))
    )
    other.id = query.id
    two = dns.message.make_response(query)
    two.question.append(dns.rrset.RRset(N("x.example."), dns.rdataclass.IN, dns.rdatatype.A))
    datagrams = [
        reply,
        mixed_case.to_wire(),  # 0x20 case: the same question, found by parsing
        bytes([reply[0] ^ 1]) + reply[1:],
        other.to_wire(),
        two.to_wire(),  # the same first question, and a second one
        query.id.to_bytes(2, "big") + b"\xff" * 20,
        reply[:12],
        b"\x01",
    ]

    async def taken(datagram: bytes) -> bool:
        catcher = transport_module._ReplyCatcher(query, ("127.0.0.1", 53), wire)
        catcher.datagram_received(datagram, ("127.0.0.1", 53))
        return catcher.reply.done()

    for datagram in datagrams:
        assert asyncio.run(taken(datagram)) == matches_query(datagram, query), datagram
    assert asyncio.run(taken(reply)) and asyncio.run(taken(mixed_case.to_wire()))
    assert not asyncio.run(taken(two.to_wire()))


@pytest.mark.parametrize(
    ("policy", "address", "allowed"),
    [
        (AddressPolicy.ANY, "192.0.2.1", True),
        (AddressPolicy.ANY, "0.0.0.0", False),
        (AddressPolicy.ANY, "224.0.0.1", False),
        (AddressPolicy.ANY, "255.255.255.255", False),
        (AddressPolicy.ANY, "not an address", False),
        (AddressPolicy.PUBLIC_ONLY, "8.8.8.8", True),
        (AddressPolicy.PUBLIC_ONLY, "127.53.0.1", False),
        (AddressPolicy.PUBLIC_ONLY, "10.0.0.1", False),
        (AddressPolicy.PUBLIC_ONLY, "::ffff:10.0.0.1", False),
        (AddressPolicy.PUBLIC_ONLY, "fd00::1", False),
        (AddressPolicy.PUBLIC_ONLY, "2606:4700::1111", True),
        (AddressPolicy.LOOPBACK_ONLY, "127.53.0.1", True),
        (AddressPolicy.LOOPBACK_ONLY, "::1", True),
        (AddressPolicy.LOOPBACK_ONLY, "8.8.8.8", False),
    ],
)
def test_address_policy(policy: AddressPolicy, address: str, allowed: bool) -> None:
    assert policy.allows(address) is allowed


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        # NAT64 64:ff9b::/96: the embedded IPv4 address decides.
        ("64:ff9b::a9fe:a9fe", False),  # 169.254.169.254, the cloud metadata service
        ("64:ff9b::10.0.0.1", False),
        ("64:ff9b::127.0.0.1", False),
        ("64:ff9b::8.8.8.8", True),
        ("64:ff9b:1::8.8.8.8", False),  # local-use NAT64 (RFC 8215)
        # 6to4 2002::/16: likewise.
        ("2002:a9fe:a9fe::1", False),
        ("2002:0a00:0001::1", False),
        ("2002:0808:0808::1", True),
        # Teredo (2001::/32, server and client embedded), and the rest of 2001::/23.
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),
        ("2001:2::1", False),
        # IPv4-compatible, -mapped and -translated forms.
        ("::169.254.169.254", False),
        ("::8.8.8.8", False),  # deprecated form: no public server uses it
        ("::ffff:169.254.169.254", False),
        ("::ffff:8.8.8.8", True),  # the mapped form is the IPv4 address itself
        ("::ffff:0:169.254.169.254", False),
        ("::ffff:0:8.8.8.8", False),
        # Site-local, IETF protocol assignments, benchmarking.
        ("fec0::1", False),
        ("feff::1", False),
        ("192.0.0.8", False),
        ("192.0.0.170", False),
        ("198.18.0.1", False),
        ("2001:4860:4860::8888", True),
        ("1.1.1.1", True),
    ],
)
def test_public_only_refuses_embedded_and_special_ranges(address: str, allowed: bool) -> None:
    assert AddressPolicy.PUBLIC_ONLY.allows(address) is allowed


def test_settings_are_checked() -> None:
    hints = (Server("127.53.0.1", "a.root-servers."),)
    with pytest.raises(UsageError):
        ProbeSettings(root_hints=hints, timeout=0)
    with pytest.raises(UsageError):
        ProbeSettings(root_hints=hints, max_queries=0)
    with pytest.raises(UsageError, match="not an IP address"):
        ProbeSettings(root_hints=hints, resolvers=("resolver.example",))


def test_read_root_hints(tmp_path: Path) -> None:
    hints = tmp_path / "named.root"
    hints.write_text(
        "; comment\n"
        ".                        3600000      NS    A.ROOT-SERVERS.NET.\n"
        "A.ROOT-SERVERS.NET.      3600000      A     127.53.0.1\n"
        "A.ROOT-SERVERS.NET.      3600000      AAAA  ::1\n"
        ".                        3600000      NS    B.ROOT-SERVERS.NET.\n"
        "B.ROOT-SERVERS.NET.      3600000      A     127.53.0.2\n"
    )
    assert read_root_hints(hints) == (
        Server("127.53.0.1", "A.ROOT-SERVERS.NET."),
        Server("::1", "A.ROOT-SERVERS.NET."),
        Server("127.53.0.2", "B.ROOT-SERVERS.NET."),
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (". 3600 NS a.root.\na.root. 3600 A 1.2.3\n", ":2:"),
        (". 3600 NS a.root.\n\n; x\na.root. 3600 FOO 1.2.3.4\n", ":4:"),
        ("a.root. 3600 A 127.0.0.1\n", "no NS records"),
        (". 3600 NS a.root.\n", "no address"),
    ],
)
def test_read_root_hints_errors_name_file_and_line(tmp_path: Path, text: str, where: str) -> None:
    hints = tmp_path / "root.hints"
    hints.write_text(text)
    with pytest.raises(UsageError) as caught:
        read_root_hints(hints)
    assert str(hints) in str(caught.value) and where in str(caught.value)


def test_read_trust_anchors(tmp_path: Path) -> None:
    anchors = tmp_path / "anchor"
    anchors.write_text(
        ". 86400 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
    )
    [record] = read_trust_anchors(anchors)
    assert record.startswith(". 86400 IN DS 20326 8 2 e06d44b8")
    anchors.write_text(". 86400 IN A 127.0.0.1\n")
    with pytest.raises(UsageError, match="DS or DNSKEY"):
        read_trust_anchors(anchors)
    with pytest.raises(UsageError, match="cannot read"):
        read_trust_anchors(tmp_path / "missing")


def test_unparsed_records_are_skipped_not_fatal() -> None:
    """continue_on_error can leave generic rdata where typed rdata is expected."""
    question = plan.target_question(N("www.child.example."), dns.rdatatype.A)
    response = response_to(question, aa=False)
    add(response.authority, "child.example.", "NS", "ns1.child.example.")
    glue = dns.rrset.RRset(N("ns1.child.example."), dns.rdataclass.IN, dns.rdatatype.A)
    glue.add(dns.rdata.GenericRdata(dns.rdataclass.IN, dns.rdatatype.A, b"\x7f\x00"))
    response.additional.append(glue)
    referral = plan.read_referral(response, N("example."), question.qname)
    assert referral is not None and dict(referral.glue) == {}
    cname = dns.rrset.RRset(question.qname, dns.rdataclass.IN, dns.rdatatype.CNAME)
    cname.add(dns.rdata.GenericRdata(dns.rdataclass.IN, dns.rdatatype.CNAME, b"\x03"))
    answer = response_to(question)
    answer.answer.append(cname)
    assert plan.read_redirect(answer, question.qname, dns.rdatatype.A) is None
    assert plan.read_addresses(answer, question.qname, dns.rdatatype.A) == ()


def test_queries_of_one_question_are_the_same_bytes_but_their_ids_and_their_own() -> None:
    question = plan.Question(Purpose.DNSKEY, N("example."), dns.rdatatype.DNSKEY, cd=True)
    queries = [plan.make_query(question) for _ in range(20)]
    built = dns.message.make_query(
        "example.", "DNSKEY", use_edns=0, payload=1232, want_dnssec=True, flags=dns.flags.CD
    )
    assert {q.to_wire()[2:] for q in queries} == {built.to_wire()[2:]}
    assert len({q.id for q in queries}) > 1  # drawn for each query
    # Names compare without case, and each query asks its name in the case it was given.
    upper = plan.Question(Purpose.DNSKEY, N("EXAMPLE."), dns.rdatatype.DNSKEY, cd=True)
    assert upper == question
    assert plan.make_query(upper).question[0].name.labels == (b"EXAMPLE", b"")
    assert plan.make_query(question).question[0].name.labels == (b"example", b"")
    # A query changed by its reader changes no other query of the same question.
    queries[0].flags |= dns.flags.TC
    queries[0].question.append(dns.rrset.RRset(N("x."), dns.rdataclass.IN, dns.rdatatype.A))
    queries[0].find_rrset(
        queries[0].answer, N("y."), dns.rdataclass.IN, dns.rdatatype.A, create=True
    )
    # Its EDNS record too: dnspython changes DO and the EDNS flags in place.
    queries[2].want_dnssec(False)
    queries[3].ednsflags = 0
    assert (
        plan.make_query(question).to_wire()[2:] == queries[1].to_wire()[2:] == built.to_wire()[2:]
    )
