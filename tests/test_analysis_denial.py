"""Denial-of-existence proofs, judged on responses synthesised from lab-signed zones.

``Responder`` answers from a signed ``dns.zone.Zone`` the way an authoritative server
does (RFC 4035 §3.1.3, RFC 5155 §7.2): it picks the records a server would send, even
from a broken chain, and the checks must tell which proofs hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

from dnssec_doctor.analysis.denial import (
    DenialResult,
    Mechanism,
    ProofStatus,
    ResponseKind,
    check_denial,
    check_ds_denial,
    classify_response,
)
from dnssec_doctor.lab import scenarios, signing
from dnssec_doctor.lab.signing import NSEC, NSEC3, Denial, DenialKind
from dnssec_doctor.model.finding import Severity
from dnssec_doctor.model.options import AnalysisOptions

NOW = 1_700_000_000
OPTIONS = AnalysisOptions(now=NOW)
CONTEXT = scenarios.BuildContext(now=NOW, index=0, parent=dns.name.from_text("lab."))
ORIGIN = dns.name.from_text("example.")
IN = dns.rdataclass.IN
T = dns.rdatatype

# An empty non-terminal (ent), a wildcard below one (wild), an alias and an alias to nothing,
# an unsigned and a signed delegation.
EXTRA = """
*.wild A 127.0.0.2
host.ent A 127.0.0.3
alias CNAME www
dangling CNAME gone
insecure NS ns.elsewhere.test.
secure NS ns.elsewhere.test.
secure DS 12345 13 2 8f2c4a1e0b3d5c7e9f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70
"""

ZoneChange = Callable[[dns.zone.Zone], None]


def name(text: str, origin: dns.name.Name = ORIGIN) -> dns.name.Name:
    return dns.name.from_text(text, origin)


def signed_zone(denial: Denial = NSEC, break_denial: ZoneChange | None = None) -> dns.zone.Zone:
    hosts = [scenarios.Host(name("ns1"), "127.0.0.1", scenarios.HostRole.PRIMARY)]
    zone = scenarios.make_zone(ORIGIN, hosts, serial=1, extra=EXTRA)
    keys = scenarios.Keys.generate()
    scenarios.sign(zone, keys, CONTEXT.valid, denial=denial, break_denial=break_denial)
    return zone


def scenario_zone(slug: str) -> tuple[dns.zone.Zone, dns.name.Name]:
    scenario = scenarios.find_scenario(slug)
    origin = dns.name.from_text(scenario.zone)
    built = scenario.build(CONTEXT, origin)[0]
    assert built.zone is not None
    return built.zone, origin


# --- an authoritative server in miniature ------------------------------------------------


class Responder:
    """The answers a server of ``zone`` gives, denial records included."""

    def __init__(self, zone: dns.zone.Zone) -> None:
        assert zone.origin is not None
        self.zone = zone
        self.origin: dns.name.Name = zone.origin
        self.cuts = {n.derelativize(self.origin) for n in signing.delegation_points(zone)}
        self.names = {
            n
            for n in signing.authoritative_names(zone)
            if any(r.rdtype not in (T.NSEC3, T.RRSIG) for r in zone.nodes[n].rdatasets)
        }
        param = zone.get_rdataset(self.origin, T.NSEC3PARAM)
        self.param: Any = next(iter(param)) if param is not None else None

    # existence
    def exists(self, qname: dns.name.Name) -> bool:
        return any(n.is_subdomain(qname) for n in self.names)

    def encloser(self, qname: dns.name.Name) -> dns.name.Name:
        while not self.exists(qname):
            qname = qname.parent()
        return qname

    # the denial records a server picks
    def nsec_at(self, owner: dns.name.Name) -> list[dns.name.Name]:
        return [owner] if self.zone.get_rdataset(owner, T.NSEC) is not None else []

    def nsec_covering(self, qname: dns.name.Name) -> list[dns.name.Name]:
        owners = sorted(n for n, node in self.zone.nodes.items() if node.get_rdataset(IN, T.NSEC))
        before = [o for o in owners if o < qname]
        return [before[-1] if before else owners[-1]]

    def hashed(self, qname: dns.name.Name) -> dns.name.Name:
        digest = dns.dnssec.nsec3_hash(qname, self.param.salt, self.param.iterations, 1)
        return dns.name.Name((digest.lower().encode(), *self.origin.labels))

    def nsec3_matching(self, qname: dns.name.Name) -> list[dns.name.Name]:
        owner = self.hashed(qname)
        return [owner] if self.zone.get_rdataset(owner, T.NSEC3) is not None else []

    def nsec3_covering(self, qname: dns.name.Name) -> list[dns.name.Name]:
        owners = sorted(
            (signing.b32_label_to_digest(n.labels[0]), n)
            for n, node in self.zone.nodes.items()
            if node.get_rdataset(IN, T.NSEC3)
        )
        digest = signing.b32_label_to_digest(self.hashed(qname).labels[0])
        before = [o for d, o in owners if d < digest]
        return [before[-1] if before else owners[-1][1]]

    def nsec3_encloser_proof(self, qname: dns.name.Name) -> list[dns.name.Name]:
        encloser = self.encloser(qname.parent())
        next_closer = dns.name.Name(qname.labels[-(len(encloser.labels) + 1) :])
        return self.nsec3_matching(encloser) + self.nsec3_covering(next_closer)

    def no_name(self, qname: dns.name.Name) -> list[dns.name.Name]:
        """Records proving qname does not exist (not the wildcard part)."""
        if self.param is None:
            return self.nsec_covering(qname)
        return self.nsec3_encloser_proof(qname)

    def no_type(self, qname: dns.name.Name) -> list[dns.name.Name]:
        if self.param is None:
            return self.nsec_at(qname) or self.nsec_covering(qname)
        return self.nsec3_matching(qname) or self.nsec3_encloser_proof(qname)

    # building the message
    def add(
        self,
        section: list[dns.rrset.RRset],
        owner: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        source: dns.name.Name | None = None,
    ) -> None:
        source = source or owner
        for covered, kind in ((rdtype, rdtype), (rdtype, T.RRSIG)):
            rdataset = self.zone.get_rdataset(source, kind, covered if kind == T.RRSIG else T.NONE)
            if rdataset is None or any(
                r.name == owner and r.rdtype == kind and r.covers == rdataset.covers
                for r in section
            ):
                continue
            rrset = dns.rrset.RRset(owner, IN, kind, rdataset.covers)
            rrset.update(rdataset)
            section.append(rrset)

    def add_denial(self, section: list[dns.rrset.RRset], owners: Iterable[dns.name.Name]) -> None:
        for owner in owners:
            self.add(section, owner, T.NSEC3 if self.param is not None else T.NSEC)

    def respond(self, text: str, rdtype: str) -> dns.message.Message:
        qname, qtype = name(text, self.origin), dns.rdatatype.from_text(rdtype)
        response = dns.message.make_response(dns.message.make_query(qname, qtype, want_dnssec=True))
        response.flags |= dns.flags.AA
        self._fill(response, qname, qtype)
        return dns.message.from_wire(response.to_wire())

    def _fill(
        self, response: dns.message.Message, qname: dns.name.Name, qtype: dns.rdatatype.RdataType
    ) -> None:
        for cut in self.cuts:
            if qname.is_subdomain(cut) and not (qname == cut and qtype == T.DS):
                response.flags &= ~dns.flags.AA
                self.add(response.authority, cut, T.NS)
                if self.zone.get_rdataset(cut, T.DS) is not None:
                    self.add(response.authority, cut, T.DS)
                else:
                    self.add_denial(response.authority, self.no_type(cut))
                return
        for _ in range(8):  # CNAME chain
            if not qname.is_subdomain(self.origin):
                return
            if qname in self.names:
                if self.zone.get_rdataset(qname, qtype) is not None:
                    self.add(response.answer, qname, qtype)
                    return
                cname = self.zone.get_rdataset(qname, T.CNAME)
                if cname is not None and qtype != T.CNAME:
                    self.add(response.answer, qname, T.CNAME)
                    qname = next(iter(cname)).target
                    continue
            break
        self.add(response.authority, self.origin, T.SOA)
        if self.exists(qname):
            self.add_denial(response.authority, self.no_type(qname))
            return
        wildcard = dns.name.Name((b"*", *self.encloser(qname).labels))
        if wildcard in self.names:
            if self.zone.get_rdataset(wildcard, qtype) is not None:
                response.authority.clear()
                self.add(response.answer, qname, qtype, source=wildcard)
                self.add_denial(response.authority, self.no_name(qname))
                return
            self.add_denial(response.authority, self.no_name(qname) + self.no_type(wildcard))
            return
        response.set_rcode(dns.rcode.NXDOMAIN)
        proof = self.no_name(qname)
        proof += self.nsec_covering(wildcard) if self.param is None else []
        proof += self.nsec3_covering(wildcard) if self.param is not None else []
        self.add_denial(response.authority, proof)


# --- helpers -----------------------------------------------------------------------------


def codes(result: DenialResult) -> set[str]:
    return {f.code for f in result.findings}


def errors(result: DenialResult) -> set[str]:
    return {f.code for f in result.findings if f.severity >= Severity.ERROR}


def check(
    responder: Responder, text: str, rdtype: str, message: dns.message.Message | None = None
) -> DenialResult:
    message = message or responder.respond(text, rdtype)
    return check_denial(
        message,
        name(text, responder.origin),
        dns.rdatatype.from_text(rdtype),
        responder.origin,
        OPTIONS,
        servers=("ns1.example. (127.0.0.1)",),
    )


def without(message: dns.message.Message, *rdtypes: dns.rdatatype.RdataType) -> dns.message.Message:
    """``message`` with the authority RRsets of ``rdtypes`` (and their RRSIGs) dropped."""
    copy = dns.message.from_wire(message.to_wire())
    copy.authority = [
        r for r in copy.authority if r.rdtype not in rdtypes and r.covers not in rdtypes
    ]
    return copy


def rewritten(
    message: dns.message.Message, rdtype: dns.rdatatype.RdataType, change: Callable[[Any], Any]
) -> dns.message.Message:
    """``message`` with every ``rdtype`` record in the authority section passed through
    ``change``."""
    copy = dns.message.from_wire(message.to_wire())
    for index, rrset in enumerate(copy.authority):
        if rrset.rdtype == rdtype:
            replacement = dns.rrset.RRset(rrset.name, IN, rdtype)
            for rdata in rrset:
                replacement.add(change(rdata), rrset.ttl)
            copy.authority[index] = replacement
    return copy


def add_type_to_nsec(owner: str, rdtype: str) -> ZoneChange:
    def change(zone: dns.zone.Zone) -> None:
        rdataset = zone.get_rdataset(name(owner), T.NSEC)
        assert rdataset is not None
        [nsec] = list(rdataset)
        text = nsec.to_text() + f" {rdtype}"
        rdata = dns.rdata.from_text(IN, T.NSEC, text)
        zone.replace_rdataset(name(owner), signing.rdataset_of(rdata, rdataset.ttl))

    return change


def opt_out(cut: str, *, flag: bool = True) -> ZoneChange:
    """Leave the unsigned delegation ``cut`` out of the NSEC3 chain, as an opt-out signer
    does (RFC 5155 §6), with the opt-out flag set on every NSEC3 (or, broken, not)."""

    def change(zone: dns.zone.Zone) -> None:
        responder = Responder(zone)
        removed_owner = responder.hashed(name(cut))
        removed = next(iter(zone.get_rdataset(removed_owner, T.NSEC3) or []))
        removed_digest = signing.b32_label_to_digest(removed_owner.labels[0])
        zone.delete_node(removed_owner)
        for owner, node in list(zone.nodes.items()):
            rdataset = node.get_rdataset(IN, T.NSEC3)
            if rdataset is None:
                continue
            [nsec3] = list(rdataset)
            following = removed.next if nsec3.next == removed_digest else nsec3.next
            rdata = nsec3.replace(flags=1 if flag else 0, next=following)
            zone.replace_rdataset(owner, signing.rdataset_of(rdata, rdataset.ttl))

    return change


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nsec() -> Responder:
    return Responder(signed_zone(NSEC))


@pytest.fixture(scope="module")
def nsec3() -> Responder:
    return Responder(signed_zone(NSEC3))


@pytest.fixture(scope="module")
def nsec3_opt_out() -> Responder:
    return Responder(signed_zone(NSEC3, opt_out("insecure")))


# --- classification ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qname", "qtype", "kind"),
    [
        ("www", "A", ResponseKind.ANSWER),
        ("*.wild", "A", ResponseKind.ANSWER),  # the wildcard asked by its own name
        ("alias", "A", ResponseKind.CNAME),
        ("anything.wild", "A", ResponseKind.WILDCARD_ANSWER),
        ("nonexistent", "A", ResponseKind.NXDOMAIN),
        ("dangling", "A", ResponseKind.NXDOMAIN),  # an alias to a missing name
        ("www", "AAAA", ResponseKind.NODATA),
        ("ent", "A", ResponseKind.NODATA),
        ("anything.wild", "AAAA", ResponseKind.NODATA),
        ("insecure", "DS", ResponseKind.NODATA),
        ("host.insecure", "A", ResponseKind.REFERRAL),
        ("host.secure", "A", ResponseKind.REFERRAL),
    ],
)
def test_classify_response(nsec: Responder, qname: str, qtype: str, kind: ResponseKind) -> None:
    message = nsec.respond(qname, qtype)
    assert classify_response(message, name(qname), T.from_text(qtype), ORIGIN) is kind


@pytest.mark.parametrize("denial", ["nsec", "nsec3"])
def test_an_alias_into_an_insecure_child_needs_only_the_cut_proven(
    denial: str, request: pytest.FixtureRequest
) -> None:
    # "into CNAME host.insecure": the server answers the alias and shows the cut with its
    # NSEC or NSEC3 (NS, no DS) and no NS RRset, as the servers of Unbound's
    # val_cnametonsec and val_cnametooptin do; the target is the child's to answer, so
    # only the absence of its DS must be proven.
    nsec: Responder = request.getfixturevalue(denial)
    kind = T.NSEC if denial == "nsec" else T.NSEC3
    referral = without(nsec.respond("host.insecure", "A"), T.NS)
    message = dns.message.from_wire(referral.to_wire())
    message.question = [dns.rrset.RRset(name("into"), IN, T.A)]
    message.answer = [dns.rrset.from_text(name("into"), 300, IN, T.CNAME, "host.insecure.example.")]
    assert classify_response(message, name("into"), T.A, ORIGIN) is ResponseKind.REFERRAL
    assert not errors(check(nsec, "into", "A", message))
    # Without the record that shows the cut it is a NODATA answer lacking its proof.
    bare = without(message, kind)
    assert classify_response(bare, name("into"), T.A, ORIGIN) is ResponseKind.NODATA
    assert errors(check(nsec, "into", "A", bare))


def test_classify_error_rcode(nsec: Responder) -> None:
    message = nsec.respond("www", "A")
    message.set_rcode(dns.rcode.SERVFAIL)
    assert classify_response(message, name("www"), T.A, ORIGIN) is ResponseKind.ERROR
    result = check_denial(message, name("www"), T.A, ORIGIN, OPTIONS)
    assert result.status is ProofStatus.NOT_NEEDED and not result.findings


# --- valid proofs --------------------------------------------------------------------------

VALID = [
    ("nonexistent", "A", ResponseKind.NXDOMAIN),
    ("deep.below.nonexistent", "A", ResponseKind.NXDOMAIN),
    ("dangling", "A", ResponseKind.NXDOMAIN),
    ("www", "AAAA", ResponseKind.NODATA),
    ("@", "A", ResponseKind.NODATA),
    ("ent", "A", ResponseKind.NODATA),
    ("anything.wild", "AAAA", ResponseKind.NODATA),
    ("anything.wild", "A", ResponseKind.WILDCARD_ANSWER),
    ("two.labels.wild", "A", ResponseKind.WILDCARD_ANSWER),
    ("insecure", "DS", ResponseKind.NODATA),
    ("host.insecure", "A", ResponseKind.REFERRAL),
]


@pytest.mark.parametrize(("qname", "qtype", "kind"), VALID)
@pytest.mark.parametrize("chain", ["nsec", "nsec3"])
def test_valid_proofs_are_proven(
    request: pytest.FixtureRequest, chain: str, qname: str, qtype: str, kind: ResponseKind
) -> None:
    responder: Responder = request.getfixturevalue(chain)
    result = check(responder, qname, qtype)
    assert result.kind is kind
    assert result.status is ProofStatus.PROVEN, result.reason
    assert not result.findings
    assert result.mechanism is Mechanism(chain.upper())
    assert result.records


def test_nxdomain_details(nsec: Responder, nsec3: Responder) -> None:
    for responder in (nsec, nsec3):
        result = check(responder, "deep.below.nonexistent", "A")
        assert result.closest_encloser == ORIGIN
        assert result.next_closer == name("nonexistent")
    assert check(nsec3, "nonexistent", "A").nsec3_parameters[0].iterations == 0


def test_alias_to_missing_name_proves_the_target(nsec: Responder) -> None:
    result = check(nsec, "dangling", "A")
    assert result.name == name("gone")


def test_wildcard_details(nsec: Responder, nsec3: Responder) -> None:
    for responder in (nsec, nsec3):
        answer = check(responder, "two.labels.wild", "A")
        assert answer.wildcard == name("*.wild")
        assert answer.next_closer == name("labels.wild")
        assert check(responder, "anything.wild", "AAAA").wildcard == name("*.wild")


def test_positive_answers_need_no_proof(nsec: Responder) -> None:
    for qname, qtype in [("www", "A"), ("alias", "A"), ("*.wild", "A"), ("host.secure", "A")]:
        result = check(nsec, qname, qtype)
        assert result.status is ProofStatus.NOT_NEEDED, qname
        assert not result.findings


def test_scenario_zones_prove() -> None:
    for slug, qname, kind in [
        ("secure-nsec3", "nonexistent", ResponseKind.NXDOMAIN),
        ("secure-nsec", "nonexistent", ResponseKind.NXDOMAIN),
        ("wildcard", "anything", ResponseKind.WILDCARD_ANSWER),
    ]:
        zone, origin = scenario_zone(slug)
        responder = Responder(zone)
        message = responder.respond(qname, "A")
        result = check_denial(message, name(qname, origin), T.A, origin, OPTIONS)
        assert (result.kind, result.status) == (kind, ProofStatus.PROVEN), slug
        assert not result.findings, slug


def test_opt_out_scenario_zone() -> None:
    """The lab's opt-out signer leaves the unsigned delegation out of the chain and flags
    every NSEC3: its DS is denied by an opt-out span, and the wildcard answer rests on one."""
    zone, origin = scenario_zone("nsec3-opt-out-wildcard")
    responder = Responder(zone)
    unsigned = name("unsigned", origin)
    assert responder.nsec3_matching(unsigned) == []
    flags = {r.flags for node in zone.nodes.values() for r in node.get_rdataset(IN, T.NSEC3) or []}
    assert flags == {1}
    proof = check_ds_denial(responder.respond("unsigned", "DS"), origin, unsigned, OPTIONS)
    assert proof.status is ProofStatus.OPT_OUT and not proof.findings
    message = responder.respond("anything", "A")
    result = check_denial(message, name("anything", origin), T.A, origin, OPTIONS)
    assert (result.kind, result.status) == (ResponseKind.WILDCARD_ANSWER, ProofStatus.OPT_OUT)
    assert not result.findings


def test_ds_denial_proven(nsec: Responder, nsec3: Responder) -> None:
    for responder in (nsec, nsec3):
        message = responder.respond("insecure", "DS")
        result = check_ds_denial(message, ORIGIN, name("insecure"), OPTIONS)
        assert result.status is ProofStatus.PROVEN
        assert not result.findings
        secure = check_ds_denial(responder.respond("secure", "DS"), ORIGIN, name("secure"), OPTIONS)
        assert (secure.kind, secure.status) == (ResponseKind.ANSWER, ProofStatus.NOT_NEEDED)


# --- broken proofs: NSEC ------------------------------------------------------------------


def test_missing_nsec_is_missing(nsec: Responder) -> None:
    for qname, qtype, kind in [("nonexistent", "A", "NXDOMAIN"), ("www", "AAAA", "NODATA")]:
        result = check(nsec, qname, qtype, without(nsec.respond(qname, qtype), T.NSEC))
        assert result.status is ProofStatus.MISSING
        assert codes(result) == {"DENIAL_PROOF_MISSING"}
        assert result.findings[0].params["kind"] == kind
        assert result.findings[0].ede == 12


def test_nxdomain_without_wildcard_proof(nsec: Responder) -> None:
    message = nsec.respond("nonexistent", "A")
    apex_nsec = [r for r in message.authority if r.name == ORIGIN and r.rdtype == T.NSEC]
    assert apex_nsec  # *.example. sorts right after the apex
    message.authority = [r for r in message.authority if r.name != ORIGIN or r.rdtype == T.SOA]
    result = check(nsec, "nonexistent", "A", message)
    assert result.status is ProofStatus.INVALID
    assert codes(result) == {"NXDOMAIN_PROOF_INVALID"}
    assert "*.example." in str(result.findings[0].params["reason"])


def test_nsec_broken_scenario() -> None:
    zone, origin = scenario_zone("nsec-broken")
    responder = Responder(zone)
    result = check_denial(
        responder.respond("nonexistent", "A"), name("nonexistent", origin), T.A, origin, OPTIONS
    )
    assert result.status is ProofStatus.INVALID
    assert codes(result) == {"NXDOMAIN_PROOF_INVALID"}
    reason = str(result.findings[0].params["reason"])
    assert reason.startswith(f"no NSEC covers nonexistent.{origin}")
    assert f"points to \\000.mail.{origin}" in reason
    assert "\\000" in result.findings[0].summary
    nodata = check_denial(
        responder.respond("www", "AAAA"), name("www", origin), T.AAAA, origin, OPTIONS
    )
    assert nodata.status is ProofStatus.INVALID
    assert codes(nodata) == {"NODATA_PROOF_INVALID"}
    assert "lists AAAA in its type bitmap" in str(nodata.findings[0].params["reason"])


def test_bitmap_listing_the_qtype() -> None:
    responder = Responder(signed_zone(NSEC, add_type_to_nsec("mail", "AAAA")))
    result = check(responder, "mail", "AAAA")
    assert (result.kind, result.status) == (ResponseKind.NODATA, ProofStatus.INVALID)
    assert codes(result) == {"NODATA_PROOF_INVALID"}
    assert result.findings[0].params["reason"] == (
        "the NSEC at mail.example. lists AAAA in its type bitmap"
    )
    assert "DENIAL_PROOF_MISSING" not in codes(result)


def test_ds_denial_with_ds_in_bitmap() -> None:
    responder = Responder(signed_zone(NSEC, add_type_to_nsec("insecure", "DS")))
    result = check_ds_denial(responder.respond("insecure", "DS"), ORIGIN, name("insecure"), OPTIONS)
    assert result.status is ProofStatus.INVALID
    assert codes(result) == {"INSECURE_DELEGATION_UNPROVEN"}
    # The zone that breaks is the parent; the subject is the child's DS.
    assert result.findings[0].zone == "example."
    assert result.findings[0].subject == "insecure.example./DS"


def test_ds_denial_at_a_name_that_is_no_delegation(nsec: Responder) -> None:
    result = check_ds_denial(nsec.respond("www", "DS"), ORIGIN, name("www"), OPTIONS)
    assert result.status is ProofStatus.INVALID
    assert "does not list NS" in str(result.reason)
    # As a plain NODATA for DS, the same answer is fine.
    assert check(nsec, "www", "DS").status is ProofStatus.PROVEN


def test_referral_without_proof(nsec: Responder) -> None:
    result = check(nsec, "host.insecure", "A", without(nsec.respond("host.insecure", "A"), T.NSEC))
    assert (result.kind, result.status) == (ResponseKind.REFERRAL, ProofStatus.MISSING)
    assert codes(result) == {"INSECURE_DELEGATION_UNPROVEN"}


def test_wildcard_answer_without_proof(nsec: Responder, nsec3: Responder) -> None:
    for responder, rdtype in ((nsec, T.NSEC), (nsec3, T.NSEC3)):
        message = without(responder.respond("anything.wild", "A"), rdtype)
        result = check(responder, "anything.wild", "A", message)
        assert (result.kind, result.status) == (ResponseKind.WILDCARD_ANSWER, ProofStatus.MISSING)
        assert codes(result) == {"WILDCARD_PROOF_MISSING"}


def test_wildcard_no_proof_scenario() -> None:
    zone, origin = scenario_zone("wildcard-no-proof")
    message = Responder(zone).respond("anything", "A")
    result = check_denial(message, name("anything", origin), T.A, origin, OPTIONS)
    assert (result.kind, result.status) == (ResponseKind.WILDCARD_ANSWER, ProofStatus.INVALID)
    assert codes(result) == {"WILDCARD_PROOF_MISSING"}
    assert result.findings[0].ede == 12


def test_wildcard_nodata_with_type_present() -> None:
    responder = Responder(signed_zone(NSEC, add_type_to_nsec("*.wild", "AAAA")))
    result = check(responder, "anything.wild", "AAAA")
    assert result.status is ProofStatus.INVALID
    assert codes(result) == {"NODATA_PROOF_INVALID"}
    assert "*.wild.example. lists AAAA" in str(result.reason)


# --- broken proofs: NSEC3 -----------------------------------------------------------------


def test_nsec3_broken_scenario() -> None:
    zone, origin = scenario_zone("nsec3-broken")
    message = Responder(zone).respond("nonexistent", "A")
    result = check_denial(message, name("nonexistent", origin), T.A, origin, OPTIONS)
    assert result.status is ProofStatus.INVALID
    assert codes(result) == {"NXDOMAIN_PROOF_INVALID"}
    assert "no NSEC3 covers" in str(result.reason)


def test_nsec3_iterations_above_limit() -> None:
    zone, origin = scenario_zone("nsec3-iterations")
    message = Responder(zone).respond("nonexistent", "A")
    result = check_denial(message, name("nonexistent", origin), T.A, origin, OPTIONS)
    assert result.status is ProofStatus.INSECURE_ITERATIONS
    assert codes(result) == {"NSEC3_ITERATIONS_EXCESSIVE"}
    [finding] = result.findings
    assert finding.ede == 27
    assert finding.params == {"iterations": 200, "limit": 150}
    lenient = AnalysisOptions(now=NOW, nsec3_iteration_limit=500)
    relaxed = check_denial(message, name("nonexistent", origin), T.A, origin, lenient)
    assert relaxed.status is ProofStatus.PROVEN
    assert codes(relaxed) == {"NSEC3_ITERATIONS_NONZERO"}


def test_nsec3_iterations_and_salt_notices() -> None:
    responder = Responder(signed_zone(Denial(DenialKind.NSEC3, iterations=10, salt=b"\xab\xcd")))
    result = check(responder, "nonexistent", "A")
    assert result.status is ProofStatus.PROVEN
    assert codes(result) == {"NSEC3_ITERATIONS_NONZERO", "NSEC3_SALT_PRESENT"}
    assert not errors(result)
    assert {f.params.get("salt") for f in result.findings} >= {"abcd"}


def test_an_nsec_pointing_outside_its_zone_denies_nothing(nsec: Responder) -> None:
    # Unbound's val_nx_overreach: an NSEC whose next name lies in another zone would deny
    # that zone's names too; the next name must be the zone's own (RFC 4034 §4.1.1).
    message = nsec.respond("nonexistent", "A")
    assert not errors(check(nsec, "nonexistent", "A", message))

    def overreach(rdata: Any) -> Any:
        if rdata.next == ORIGIN or not name("nonexistent") < rdata.next:
            return rdata
        return rdata.replace(next=dns.name.from_text("zzz.other-zone.test."))

    result = check(nsec, "nonexistent", "A", rewritten(message, T.NSEC, overreach))
    assert result.status is ProofStatus.INVALID
    assert "points outside example." in str(result.reason)


def test_nsec3_matching_lists_qtype(nsec3: Responder) -> None:
    message = rewritten(
        nsec3.respond("www", "AAAA"),
        T.NSEC3,
        lambda r: dns.rdata.from_text(IN, T.NSEC3, r.to_text() + " AAAA"),
    )
    result = check(nsec3, "www", "AAAA", message)
    assert result.status is ProofStatus.INVALID
    assert codes(result) == {"NODATA_PROOF_INVALID"}
    assert "lists AAAA in its type bitmap" in str(result.reason)


def test_nsec3_unknown_hash_algorithm_is_ignored(nsec3: Responder) -> None:
    message = rewritten(
        nsec3.respond("nonexistent", "A"), T.NSEC3, lambda r: r.replace(algorithm=2)
    )
    result = check(nsec3, "nonexistent", "A", message)
    assert result.status is ProofStatus.MISSING
    assert codes(result) == {"DENIAL_PROOF_MISSING"}
    assert "hash algorithm 2" in str(result.findings[0].params["reason"])
    assert "NSEC3_ITERATIONS_NONZERO" not in codes(result)


def test_nsec3_nxdomain_for_existing_name(nsec3: Responder) -> None:
    message = nsec3.respond("www", "AAAA")
    message.set_rcode(dns.rcode.NXDOMAIN)
    result = check(nsec3, "www", "AAAA", message)
    assert (result.kind, result.status) == (ResponseKind.NXDOMAIN, ProofStatus.INVALID)
    assert "the name exists" in str(result.reason)


def test_nsec3_chains_with_different_parameters() -> None:
    first = Responder(signed_zone(NSEC3))
    second = Responder(signed_zone(Denial(DenialKind.NSEC3, iterations=5)))
    good = first.respond("nonexistent", "A")
    other = second.respond("nonexistent", "A")
    mixed = dns.message.from_wire(good.to_wire())
    mixed.authority += [r for r in other.authority if r.rdtype == T.NSEC3]
    result = check(first, "nonexistent", "A", mixed)
    assert result.status is ProofStatus.PROVEN
    assert len(result.nsec3_parameters) == 2
    assert codes(result) == {"NSEC3_ITERATIONS_NONZERO"}
    # Half a proof from each chain: validators hash the name under each record's own
    # parameters (Unbound's find_covering_nsec3, BIND's findnsec3proofs), so the closest
    # encloser from one chain and the covers from the other prove the name error.
    first_nsec3 = [r for r in good.authority if r.rdtype == T.NSEC3]
    second_nsec3 = [r for r in other.authority if r.rdtype == T.NSEC3]
    soa = [r for r in good.authority if r.rdtype == T.SOA]
    apex_match = [r for r in first_nsec3 if r.name == first.hashed(ORIGIN)]
    second_covers = [r for r in second_nsec3 if r.name != second.hashed(ORIGIN)]
    assert apex_match and len(second_covers) == len(second_nsec3) - 1
    halves = dns.message.from_wire(good.to_wire())
    halves.authority = soa + apex_match + second_covers
    assert check(first, "nonexistent", "A", halves).status is ProofStatus.PROVEN
    # Without the encloser's match, the covers prove nothing.
    broken = dns.message.from_wire(good.to_wire())
    broken.authority = soa + second_covers
    result = check(first, "nonexistent", "A", broken)
    assert result.status is ProofStatus.INVALID
    assert "no NSEC3 matches example." in str(result.reason)
    # A name's hash is shown under each parameter set the response uses.
    nodata = dns.message.from_wire(mixed.to_wire())
    nodata.set_rcode(dns.rcode.NOERROR)
    nodata.authority = soa + second_covers + [r for r in first_nsec3 if r not in apex_match]
    result = check(first, "nonexistent", "A", nodata)
    assert result.status is ProofStatus.INVALID
    assert "hashes" in str(result.reason) and "5 iterations" in str(result.reason)


# --- opt-out ----------------------------------------------------------------------------


def test_opt_out_ds_denial(nsec3_opt_out: Responder) -> None:
    message = nsec3_opt_out.respond("insecure", "DS")
    assert not [r for r in message.authority if r.name == nsec3_opt_out.hashed(name("insecure"))]
    result = check_ds_denial(message, ORIGIN, name("insecure"), OPTIONS)
    assert result.status is ProofStatus.OPT_OUT
    assert result.opt_out
    assert (result.closest_encloser, result.next_closer) == (ORIGIN, name("insecure"))
    assert not result.findings
    plain = check(nsec3_opt_out, "insecure", "DS")
    assert (plain.kind, plain.status) == (ResponseKind.NODATA, ProofStatus.OPT_OUT)
    referral = check(nsec3_opt_out, "host.insecure", "A")
    assert (referral.kind, referral.status) == (ResponseKind.REFERRAL, ProofStatus.OPT_OUT)
    assert not errors(referral)


def test_opt_out_nxdomain_is_insecure(nsec3_opt_out: Responder) -> None:
    result = check(nsec3_opt_out, "nonexistent", "A")
    assert result.status is ProofStatus.OPT_OUT
    assert not result.findings


def test_opt_out_wildcard_answer_is_insecure(nsec3: Responder, nsec3_opt_out: Responder) -> None:
    """A wildcard answer whose next closer name lies in an opt-out span: an unsigned
    delegation may hide there, whose data would have answered instead; validators call
    the answer insecure (Unbound's nsec3_prove_wildcard)."""
    plain = check(nsec3, "anything.wild", "A")
    assert (plain.kind, plain.status, plain.opt_out) == (
        ResponseKind.WILDCARD_ANSWER,
        ProofStatus.PROVEN,
        False,
    )
    result = check(nsec3_opt_out, "anything.wild", "A")
    assert (result.kind, result.status, result.opt_out) == (
        ResponseKind.WILDCARD_ANSWER,
        ProofStatus.OPT_OUT,
        True,
    )
    assert result.next_closer == name("anything.wild")
    assert not result.findings


def test_an_any_answer_from_a_wildcard_needs_its_proof(nsec3: Responder) -> None:
    """A query for ANY answered from a wildcard: the expansion shows in the RRSIG labels
    of whatever types are answered, and the next closer name must be denied."""
    answer = nsec3.respond("anything.wild", "A")
    answer.question = [dns.rrset.RRset(name("anything.wild"), IN, T.ANY)]
    result = check(nsec3, "anything.wild", "ANY", answer)
    assert (result.kind, result.status) == (ResponseKind.WILDCARD_ANSWER, ProofStatus.PROVEN)
    assert result.wildcard == name("*.wild")
    stripped = check(nsec3, "anything.wild", "ANY", without(answer, T.NSEC3))
    assert codes(stripped) == {"WILDCARD_PROOF_MISSING"}


def test_omitted_delegation_without_opt_out_flag() -> None:
    responder = Responder(signed_zone(NSEC3, opt_out("insecure", flag=False)))
    result = check_ds_denial(responder.respond("insecure", "DS"), ORIGIN, name("insecure"), OPTIONS)
    assert result.status is ProofStatus.INVALID
    assert codes(result) == {"INSECURE_DELEGATION_UNPROVEN"}
    assert "not opt-out" in str(result.findings[0].params["reason"])
    plain = check(responder, "insecure", "DS")
    assert codes(plain) == {"NODATA_PROOF_INVALID"}


# --- weird records ----------------------------------------------------------------------


def message_from(rcode: str, qname: str, qtype: str, *authority: str) -> dns.message.Message:
    text = "\n".join(
        [
            "id 1",
            "opcode QUERY",
            f"rcode {rcode}",
            "flags QR AA",
            ";QUESTION",
            f"{qname} IN {qtype}",
            ";AUTHORITY",
            "example. 60 IN SOA ns1.example. hostmaster.example. 1 3600 600 86400 60",
            *authority,
        ]
    )
    return dns.message.from_text(text)


HASH, NEXT_HASH = "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", "0p9mhaveqvm6t7vbl5lop2u3t2rp3ton"

WEIRD = [
    # next == owner away from the apex: covers nothing
    ("NXDOMAIN", "nope.example.", "A", ["mail.example. 60 IN NSEC mail.example. A"]),
    # an empty bitmap, a chain out of the zone
    ("NXDOMAIN", "nope.example.", "A", ["mail.example. 60 IN NSEC zzz.other."]),
    ("NXDOMAIN", "nope.example.", "A", ["a.other. 60 IN NSEC z.other. A"]),
    ("NXDOMAIN", "www.example.", "AAAA", ["www.example. 60 IN NSEC www.example."]),
    ("NOERROR", "www.example.", "AAAA", ["www.example. 60 IN NSEC mail.example. AAAA"]),
    # NSEC3 whose owner is no hash, or sits below the zone
    ("NXDOMAIN", "nope.example.", "A", ["not-a-hash.example. 60 IN NSEC3 1 0 0 - 00000000 A"]),
    (
        "NXDOMAIN",
        "nope.example.",
        "A",
        [f"{HASH}.sub.example. 60 IN NSEC3 1 0 0 - {NEXT_HASH} A"],
    ),
    # an NSEC3 with a short hash and undefined flags
    (
        "NOERROR",
        "www.example.",
        "AAAA",
        [f"{HASH}.example. 60 IN NSEC3 1 0 0 - 00 A"],
    ),
    (
        "NOERROR",
        "www.example.",
        "AAAA",
        [f"{HASH}.example. 60 IN NSEC3 1 2 0 - {NEXT_HASH} A"],
    ),
]


@pytest.mark.parametrize(("rcode", "qname", "qtype", "authority"), WEIRD)
def test_weird_records_give_findings_not_exceptions(
    rcode: str, qname: str, qtype: str, authority: list[str]
) -> None:
    message = message_from(rcode, qname, qtype, *authority)
    result = check_denial(message, dns.name.from_text(qname), T.from_text(qtype), ORIGIN, OPTIONS)
    assert result.status in (ProofStatus.INVALID, ProofStatus.MISSING)
    assert errors(result) & {
        "NXDOMAIN_PROOF_INVALID",
        "NODATA_PROOF_INVALID",
        "DENIAL_PROOF_MISSING",
    }
    assert all(f.summary for f in result.findings)


def test_empty_bitmap_still_denies_as_validators_accept_it() -> None:
    # Malformed (the bitmap should list NSEC and RRSIG), but validators only ask whether
    # the type and CNAME are absent: calling it invalid would blame the wrong thing.
    message = message_from(
        "NOERROR", "www.example.", "AAAA", "www.example. 60 IN NSEC mail.example."
    )
    result = check_denial(message, name("www"), T.AAAA, ORIGIN, OPTIONS)
    assert result.status is ProofStatus.PROVEN


def test_ancestor_delegation_nsec_cannot_deny_below_it() -> None:
    message = message_from(
        "NXDOMAIN",
        "host.insecure.example.",
        "A",
        "insecure.example. 60 IN NSEC mail.example. NS RRSIG NSEC",
        "example. 60 IN NSEC insecure.example. SOA NS RRSIG NSEC",
    )
    result = check_denial(message, name("host.insecure"), T.A, ORIGIN, OPTIONS)
    assert result.status is ProofStatus.INVALID
    assert "is a delegation" in str(result.reason)


def test_qname_outside_the_zone_is_a_program_error(nsec: Responder) -> None:
    with pytest.raises(ValueError, match="not in the zone"):
        check_denial(
            nsec.respond("www", "A"), dns.name.from_text("www.other."), T.A, ORIGIN, OPTIONS
        )


def test_denies_existence_reads_nxdomain_and_compact_denial_but_not_nodata() -> None:
    from dnssec_doctor.analysis.denial import denies_existence

    responder = Responder(signed_zone())
    assert denies_existence(responder.respond("nonexistent", "A"), name("nonexistent"), T.A, ORIGIN)
    assert not denies_existence(responder.respond("www", "A"), name("www"), T.A, ORIGIN)
    assert not denies_existence(responder.respond("www", "AAAA"), name("www"), T.AAAA, ORIGIN)
    # An alias to nothing: the name reached does not exist.
    assert denies_existence(responder.respond("dangling", "A"), name("dangling"), T.A, ORIGIN)
    # Compact denial (RFC 9824): NOERROR, one NSEC at the name with RRSIG, NSEC, NXNAME.
    compact = dns.message.make_response(dns.message.make_query(name("gone"), T.A))
    compact.flags |= dns.flags.AA
    compact.authority.append(
        dns.rrset.from_text(name("gone"), 300, IN, T.NSEC, f"\\000.gone.{ORIGIN} RRSIG NSEC NXNAME")
    )
    assert denies_existence(compact, name("gone"), T.A, ORIGIN)
    plain_nodata = dns.message.make_response(dns.message.make_query(name("gone"), T.A))
    plain_nodata.flags |= dns.flags.AA
    plain_nodata.authority.append(
        dns.rrset.from_text(name("gone"), 300, IN, T.NSEC, f"\\000.gone.{ORIGIN} A RRSIG NSEC")
    )
    assert not denies_existence(plain_nodata, name("gone"), T.A, ORIGIN)


# --- online signers: compact denial (RFC 9824) and white lies -----------------------------


def test_compact_denial_is_a_valid_nodata() -> None:
    """Knot's onlinesign (and large providers) answer a name that does not exist NOERROR
    with one NSEC at the name whose bitmap holds only RRSIG and NSEC (and NXNAME)."""
    for bitmap in ("RRSIG NSEC", "RRSIG NSEC TYPE128", "AAAA RRSIG NSEC"):
        message = message_from(
            "NOERROR",
            "nope.example.",
            "A",
            f"nope.example. 60 IN NSEC \\000.nope.example. {bitmap}",
        )
        result = check_denial(message, name("nope"), T.A, ORIGIN, OPTIONS)
        assert (result.kind, result.status) == (ResponseKind.NODATA, ProofStatus.PROVEN), bitmap
        assert not [f for f in result.findings if f.severity >= Severity.WARNING]


def test_a_broken_online_signer_is_still_broken() -> None:
    # The made-up NSEC is for another name: it neither matches nor covers the question.
    elsewhere = message_from(
        "NOERROR", "nope.example.", "A", "other.example. 60 IN NSEC \\000.other.example. RRSIG NSEC"
    )
    result = check_denial(elsewhere, name("nope"), T.A, ORIGIN, OPTIONS)
    assert result.status is not ProofStatus.PROVEN
    assert codes(result) & {"NODATA_PROOF_INVALID", "DENIAL_PROOF_MISSING"}
    # The made-up NSEC claims the very type asked for.
    claims = message_from(
        "NOERROR", "nope.example.", "A", "nope.example. 60 IN NSEC \\000.nope.example. A RRSIG NSEC"
    )
    result = check_denial(claims, name("nope"), T.A, ORIGIN, OPTIONS)
    assert result.status is ProofStatus.INVALID
    assert codes(result) == {"NODATA_PROOF_INVALID"}
