"""What the resolvers say: rcode, AD and Extended DNS Errors, with and without CD."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import dns.edns
import dns.flags
import dns.rcode

from dnssec_doctor.analysis.codes import emits, make_finding
from dnssec_doctor.analysis.context import Evidence, Observation
from dnssec_doctor.model.finding import Finding
from dnssec_doctor.model.snapshot import Purpose

# The codes this module can emit.
EMITS = emits(
    "RESOLVER_UNREACHABLE",
    "RESOLVER_SERVFAIL",
    "RESOLVER_CD_ANSWERS",
    "RESOLVERS_DISAGREE",
    "RESOLVER_NOT_VALIDATING",
)

EDE_NAMES = {
    0: "Other Error",
    1: "Unsupported DNSKEY Algorithm",
    2: "Unsupported DS Digest Type",
    3: "Stale Answer",
    4: "Forged Answer",
    5: "DNSSEC Indeterminate",
    6: "DNSSEC Bogus",
    7: "Signature Expired",
    8: "Signature Not Yet Valid",
    9: "DNSKEY Missing",
    10: "RRSIGs Missing",
    11: "No Zone Key Bit Set",
    12: "NSEC Missing",
    13: "Cached Error",
    14: "Not Ready",
    15: "Blocked",
    16: "Censored",
    17: "Filtered",
    18: "Prohibited",
    19: "Stale NXDOMAIN Answer",
    20: "Not Authoritative",
    21: "Not Supported",
    22: "No Reachable Authority",
    23: "Network Error",
    24: "Invalid Data",
    25: "Signature Expired before Valid",
    26: "Too Early",
    27: "Unsupported NSEC3 Iterations Value",
    28: "Unable to conform to policy",
    29: "Synthesized",
    30: "Invalid Query Type",
}


def ede_name(code: int) -> str:
    return EDE_NAMES.get(code, f"EDE {code}")


@dataclass(frozen=True)
class ResolverView:
    """What one resolver answered the question asked three ways (DO, DO+CD, plain)."""

    address: str
    answered: bool
    rcode: str | None  # with DO
    ad: bool
    ede: tuple[tuple[int, str], ...]
    cd_rcode: str | None
    plain_rcode: str | None
    error: str | None
    findings: tuple[Finding, ...]
    dig: str
    # Whether it validates: True when it set AD or failed what it answers with CD; False
    # when it answered the trust anchor's own SOA without AD; None when nothing tells.
    validates: bool | None = None

    @property
    def failed(self) -> bool:
        return self.rcode == "SERVFAIL"


def _first(observations: list[Observation]) -> Observation | None:
    return observations[0] if observations else None


def _rcode(observation: Observation | None) -> str | None:
    if observation is None or observation.message is None:
        return None
    return dns.rcode.to_text(observation.message.rcode())


def _validates(
    ad: bool, rcode: str | None, cd_rcode: str | None, anchor: Observation | None
) -> bool | None:
    if ad or (rcode == "SERVFAIL" and cd_rcode in ("NOERROR", "NXDOMAIN")):
        return True
    message = anchor.message if anchor is not None else None
    if message is None or message.rcode() != dns.rcode.NOERROR:
        return None
    return bool(message.flags & dns.flags.AD)


def assess_resolvers(evidence: Evidence) -> Iterator[ResolverView]:
    views = []
    for address in evidence.snapshot.resolvers:
        with_do = _first(evidence.resolver(address, Purpose.RESOLVER_DO))
        with_cd = _first(evidence.resolver(address, Purpose.RESOLVER_CD))
        plain = _first(evidence.resolver(address, Purpose.RESOLVER_PLAIN))
        anchor = _first(evidence.resolver(address, Purpose.RESOLVER_ANCHOR))
        findings: list[Finding] = []
        message = with_do.message if with_do else None
        ede: tuple[tuple[int, str], ...] = ()
        if message is not None:
            ede = tuple(
                (int(o.code), o.text or "")
                for o in message.options
                if isinstance(o, dns.edns.EDEOption)
            )
        rcode = _rcode(with_do)
        cd_rcode = _rcode(with_cd)
        error = (
            None if message is not None else (with_do.exchange.error if with_do else "not asked")
        )
        if message is None:
            findings.append(
                make_finding(
                    "RESOLVER_UNREACHABLE",
                    zone=None,
                    subject=address,
                    resolver=address,
                    error=error or "no answer",
                )
            )
        elif rcode == "SERVFAIL":
            text = "".join(
                f" with EDE {code} ({ede_name(code)}{': ' + detail if detail else ''})"
                for code, detail in ede
            )
            findings.append(
                make_finding(
                    "RESOLVER_SERVFAIL",
                    zone=None,
                    subject=address,
                    servers=(address,),
                    resolver=address,
                    ede_text=text,
                )
            )
            if cd_rcode in ("NOERROR", "NXDOMAIN"):
                findings.append(
                    make_finding(
                        "RESOLVER_CD_ANSWERS",
                        zone=None,
                        subject=address,
                        servers=(address,),
                        resolver=address,
                        cd_rcode=cd_rcode,
                    )
                )
        ad = bool(message is not None and message.flags & dns.flags.AD)
        validates = _validates(ad, rcode, cd_rcode, anchor)
        if validates is False and anchor is not None:
            findings.append(
                make_finding(
                    "RESOLVER_NOT_VALIDATING",
                    zone=None,
                    subject=address,
                    servers=(address,),
                    resolver=address,
                    anchor=anchor.exchange.qname,
                )
            )
        views.append(
            ResolverView(
                address=address,
                answered=message is not None,
                rcode=rcode,
                ad=ad,
                ede=ede,
                cd_rcode=cd_rcode,
                plain_rcode=_rcode(plain),
                error=error,
                findings=tuple(findings),
                dig=with_do.exchange.dig_command() if with_do else "",
                validates=validates,
            )
        )
    # A resolver that does not validate answers what the zone serves: its disagreeing with
    # the validators is the fingerprint of a DNSSEC failure, not a disagreement among them.
    answered = [v for v in views if v.answered and v.validates is not False]
    outcomes = {(v.rcode, v.ad) for v in answered}
    if len(outcomes) > 1:
        text = "; ".join(f"{v.address} {v.rcode}{' AD' if v.ad else ''}" for v in answered)
        extra = make_finding("RESOLVERS_DISAGREE", zone=None, subject="resolvers", answers=text)
        if views:
            first = views[0]
            views[0] = ResolverView(**{**first.__dict__, "findings": (*first.findings, extra)})
    yield from views
