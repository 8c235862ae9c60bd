"""What a zone assessment carries about its DS, keys and signatures, as parsed values.

The renderers draw from these (the result page's key table, the SVG's boxes and arrows):
they neither re-read the snapshot nor match a DS to a key themselves. A DS is matched to
the zone's keys by ``keys.match_ds``, the one DS↔DNSKEY matcher; a signature is judged by
``signatures.classify_signature``. Each value keeps the record text as it was received,
for the reports that print records verbatim.

Pure: time comes from ``AnalysisOptions.now``; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import dns.name
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.DS import DS
from dns.rdtypes.ANY.RRSIG import RRSIG
from dns.rdtypes.dnskeybase import Flag

from dnssec_doctor.analysis.context import Evidence, Observation
from dnssec_doctor.analysis.keys import DsCheck, DsStatus, match_ds
from dnssec_doctor.analysis.signatures import SignatureStatus, classify_signature, key_tag
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.snapshot import Purpose


@dataclass(frozen=True)
class KeyResult:
    """One DNSKEY the zone serves."""

    record: str  # as received: "example. 3600 IN DNSKEY 257 3 13 ..."
    key: DNSKEY
    tag: int

    @property
    def algorithm(self) -> int:
        return int(self.key.algorithm)

    @property
    def flags(self) -> int:
        return int(self.key.flags)

    @property
    def role(self) -> str:
        return key_role(self.key)

    @property
    def revoked(self) -> bool:
        return bool(self.key.flags & Flag.REVOKE)


@dataclass(frozen=True)
class DsResult:
    """One DS record the parent sent, against the keys the zone serves."""

    record: str  # as the parent sent it
    # None when its RDATA does not read as a DS (it matches no key: DS_MALFORMED)
    check: DsCheck | None

    @property
    def ds(self) -> DS | None:
        return self.check.ds if self.check is not None else None

    @property
    def status(self) -> DsStatus | None:
        return self.check.status if self.check is not None else None


@dataclass(frozen=True)
class SignatureResult:
    """One RRSIG a server sent: over the zone's DNSKEY RRset, over its DS RRset at the
    parent, or over an answer (or its denial) from the zone."""

    purpose: Purpose  # DNSKEY, DS or ANSWER: which question it came with
    server: str
    owner: dns.name.Name
    covers: str  # the type covered: "DNSKEY", "A", "NSEC3", ...
    key_tag: int
    algorithm: int
    inception: int
    expiration: int
    # Judged with the keys of the signing zone that server serves (for a DS signature,
    # the parent's keys); None when the RRset it covers is not in the message.
    status: SignatureStatus | None


def key_role(key: DNSKEY) -> str:
    """KSK when the SEP flag is set, else ZSK."""
    return "KSK" if key.flags & Flag.SEP else "ZSK"


def key_results(rrset: dns.rrset.RRset | None) -> tuple[KeyResult, ...]:
    if rrset is None:
        return ()
    return tuple(
        KeyResult(line, key, key_tag(key))
        for key, line in zip(rrset, rrset.to_text().splitlines(), strict=True)
        if isinstance(key, DNSKEY)
    )


def ds_results(
    origin: dns.name.Name,
    rrset: dns.rrset.RRset | None,
    keys: Sequence[KeyResult],
    options: AnalysisOptions,
) -> tuple[DsResult, ...]:
    """Each DS of the RRset as sent (unreadable records included) against ``keys``."""
    if rrset is None:
        return ()
    dnskeys = [k.key for k in keys]
    return tuple(
        DsResult(
            line,
            match_ds(ds, origin, dnskeys, options.accepted_algorithms)
            if isinstance(ds, DS)
            else None,
        )
        for ds, line in zip(rrset, rrset.to_text().splitlines(), strict=True)
    )


def signature_results(
    observations: Sequence[Observation],
    origin: dns.name.Name,
    purpose: Purpose,
    keys_of: dict[str, Sequence[DNSKEY]],
    signer: dns.name.Name,
    options: AnalysisOptions,
) -> tuple[SignatureResult, ...]:
    """The RRSIGs in the answer and authority sections of ``observations``: for an answer,
    every one over an RRset inside the zone; for the DNSKEY and DS questions, those over
    the zone's own name. ``keys_of``: the signing zone's keys, by server."""
    found = []
    for observation in observations:
        message = observation.message
        if message is None:
            continue
        keys = keys_of.get(observation.server, ())
        for section in ("answer", "authority"):
            for rrset in getattr(message, section):
                if rrset.rdtype != dns.rdatatype.RRSIG or not rrset.name.is_subdomain(origin):
                    continue
                if purpose is not Purpose.ANSWER and rrset.name != origin:
                    continue
                covered = observation.rrset(rrset.name, rrset.covers, section=section)
                for rrsig in _rrsigs(rrset):
                    status = None
                    if covered is not None:
                        status = classify_signature(
                            covered, rrsig, signer, keys, options.now, options.accepted_algorithms
                        ).status
                    found.append(
                        SignatureResult(
                            purpose=purpose,
                            server=observation.server,
                            owner=rrset.name,
                            covers=dns.rdatatype.to_text(rrset.covers),
                            key_tag=int(rrsig.key_tag),
                            algorithm=int(rrsig.algorithm),
                            inception=int(rrsig.inception),
                            expiration=int(rrsig.expiration),
                            status=status,
                        )
                    )
    return tuple(found)


def answer_rcodes(evidence: Evidence, zone: str) -> tuple[tuple[dns.name.Name, str], ...]:
    """The first rcode the zone's servers gave to each name asked ("NXDOMAIN")."""
    rcodes: dict[dns.name.Name, str] = {}
    for observation in evidence.authoritative(zone, Purpose.ANSWER):
        if observation.message is not None:
            name = dns.name.from_text(observation.exchange.qname)
            rcodes.setdefault(name, observation.rcode_text)
    return tuple(rcodes.items())


def _rrsigs(rrset: dns.rrset.RRset) -> Iterator[RRSIG]:
    return (rrsig for rrsig in rrset if isinstance(rrsig, RRSIG))
