"""What the large public resolvers will answer, as far as their operators document it.

Cloudflare's 1.1.1.1, Google Public DNS and Quad9 cannot be asked from the lab (the tests
talk only to the machine's own addresses), so nothing here is measured: every entry is
what an operator's published page says, with the page and the day it was read. An entry
names an rcode only where the page names one, and an EDE only where the page describes
a code whose meaning fits the cause (several where its descriptions fit several). Where
the pages read say nothing about a cause, the answer is "not documented", never a guess
from the software a service is said to run.

What was read (2026-12-04):

- Cloudflare's list of the EDE codes 1.1.1.1 returns, each with its meaning and an example
  (codes 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 22, 23, 30; not 5, 25 or 27), and its list
  of supported DNSKEY algorithms (RSASHA1 and RSASHA1-NSEC3-SHA1 among them). Nothing on
  NSEC3 iteration limits.
- Google's troubleshooting guide: a DS left at the parent while the zone's new host
  publishes no DNSKEY makes Google Public DNS answer SERVFAIL. Google's per-code EDE
  catalogue (troubleshooting/domains, "EDEs") could not be read here: no EDE is claimed.
- Quad9's FAQ: a domain whose DNSSEC validation fails is answered SERVFAIL (not NXDOMAIN,
  its blocking answer); its negative-trust-anchor page: for a few zones on a published
  list it turns validation off for a while. No EDE list.

Pure data: the diagnosis reads it, the renderers show it. Tests hold it to the code table
and to the measured table (tests/test_public_resolvers.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from dnssec_doctor.model.diagnosis import Documentation, DocumentedAnswer, PublicResolver

READ = "2026-12-04"

CLOUDFLARE = PublicResolver("cloudflare", "Cloudflare", "1.1.1.1")
GOOGLE = PublicResolver("google", "Google Public DNS", "8.8.8.8")
QUAD9 = PublicResolver("quad9", "Quad9", "9.9.9.9")
PUBLIC_RESOLVERS: Final = (CLOUDFLARE, GOOGLE, QUAD9)

CLOUDFLARE_EDE = Documentation(
    "1.1.1.1: Extended DNS error codes",
    "https://developers.cloudflare.com/1.1.1.1/infrastructure/extended-dns-error-codes/",
    READ,
)
CLOUDFLARE_ALGORITHMS = Documentation(
    "1.1.1.1: Supported DNSKEY signature algorithms",
    "https://developers.cloudflare.com/1.1.1.1/encryption/dnskey/",
    READ,
)
GOOGLE_TROUBLESHOOTING = Documentation(
    "Google Public DNS: Diagnosing resolution problems",
    "https://developers.google.com/speed/public-dns/docs/troubleshooting",
    READ,
)
QUAD9_FAQ = Documentation(
    "Quad9: FAQs (Identifying a Quad9 block)",
    "https://docs.quad9.net/FAQs/",
    READ,
)
QUAD9_NTA = Documentation(
    "Quad9: Negative Trust Anchors",
    "https://quad9.net/service/negative-trust-anchors",
    READ,
)

# The EDE codes each operator's page lists as returned (a documented EDE must be one).
LISTED_EDE: Final[Mapping[str, frozenset[int]]] = MappingProxyType(
    {
        CLOUDFLARE.key: frozenset({1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 22, 23, 30}),
        GOOGLE.key: frozenset(),
        QUAD9.key: frozenset(),
    }
)

# The pages read for each resolver: the sources of its "not documented".
READ_PAGES: Final[Mapping[str, tuple[Documentation, ...]]] = MappingProxyType(
    {
        CLOUDFLARE.key: (CLOUDFLARE_EDE, CLOUDFLARE_ALGORITHMS),
        GOOGLE.key: (GOOGLE_TROUBLESHOOTING,),
        QUAD9.key: (QUAD9_FAQ, QUAD9_NTA),
    }
)


def _cloudflare(says: str, *ede: int) -> DocumentedAnswer:
    return DocumentedAnswer(CLOUDFLARE, (CLOUDFLARE_EDE,), says, ede=ede)


_NO_MATCHING_SEP = _cloudflare(
    "the zone has no SEP DNSKEY that matches the DS set at the registry", 9
)
_PROOF_INVALID = _cloudflare(
    "the page gives both: 6 for an invalid proof of non-existence, 12 for no valid "
    "proof of non-existence",
    6,
    12,
)
_NO_PROOF = _cloudflare("the server did not include a valid proof of non-existence", 12)

# Quad9 documents one answer for every DNSSEC validation failure. It goes with the causes
# where validation fails at every validator measured in the lab (the tests hold it to
# diagnosis.validators), not where some validate.
_QUAD9_BOGUS = DocumentedAnswer(
    QUAD9,
    (QUAD9_FAQ, QUAD9_NTA),
    "when DNSSEC validation fails, unless the zone is on its published list of negative "
    "trust anchors (validation off for a while); it documents no EDE codes",
    rcode="SERVFAIL",
)
_GOOGLE_DS_LEFT = DocumentedAnswer(
    GOOGLE,
    (GOOGLE_TROUBLESHOOTING,),
    "when the parent keeps a DS and the zone's host publishes no DNSKEY; its EDE "
    "catalogue was not read here",
    rcode="SERVFAIL",
)

# The cause code -> public resolver key -> what its operator documents. A resolver absent
# from a row has documented nothing on that cause (``documented_answers`` says so).
DOCUMENTED: Final[Mapping[str, Mapping[str, DocumentedAnswer]]] = MappingProxyType(
    {
        "ZONE_UNREACHABLE": {
            CLOUDFLARE.key: _cloudflare(
                "22 when it could not reach the authoritative servers (or they refused), 23 "
                "when it found no network path or the server did not respond",
                22,
                23,
            ),
        },
        "INSECURE_DELEGATION_UNPROVEN": {
            CLOUDFLARE.key: _cloudflare(
                "its example: 'failed to verify an insecure referral proof'", 12
            ),
            QUAD9.key: _QUAD9_BOGUS,
        },
        "DS_FOR_UNSIGNED_ZONE": {
            CLOUDFLARE.key: _NO_MATCHING_SEP,
            GOOGLE.key: _GOOGLE_DS_LEFT,
            QUAD9.key: _QUAD9_BOGUS,
        },
        "DNSKEY_MISSING": {
            CLOUDFLARE.key: _NO_MATCHING_SEP,
            GOOGLE.key: _GOOGLE_DS_LEFT,
            QUAD9.key: _QUAD9_BOGUS,
        },
        "DS_DIGEST_MISMATCH": {CLOUDFLARE.key: _NO_MATCHING_SEP, QUAD9.key: _QUAD9_BOGUS},
        "DS_ALGORITHM_MISMATCH": {CLOUDFLARE.key: _NO_MATCHING_SEP, QUAD9.key: _QUAD9_BOGUS},
        "DS_NO_MATCHING_KEY": {CLOUDFLARE.key: _NO_MATCHING_SEP, QUAD9.key: _QUAD9_BOGUS},
        "DS_KEY_NOT_ZONE_KEY": {
            CLOUDFLARE.key: _cloudflare(
                "the zone's SEP DNSKEY must have the Zone Key flag set", 11
            ),
        },
        "RRSIG_EXPIRED": {
            CLOUDFLARE.key: _cloudflare("an expired signature", 7),
            QUAD9.key: _QUAD9_BOGUS,
        },
        "RRSIG_NOT_YET_VALID": {
            CLOUDFLARE.key: _cloudflare("a signature not yet valid", 8),
            QUAD9.key: _QUAD9_BOGUS,
        },
        "RRSIG_WINDOW_INVERTED": {QUAD9.key: _QUAD9_BOGUS},
        "DNSKEY_NOT_SIGNED_BY_DS_KEY": {
            CLOUDFLARE.key: _cloudflare(
                "its example names the DNSKEY whose RRSIG is missing ('for DNSKEY "
                "example.com., id = 12345')",
                10,
            ),
            QUAD9.key: _QUAD9_BOGUS,
        },
        "RRSIG_NO_MATCHING_KEY": {QUAD9.key: _QUAD9_BOGUS},
        "RRSIG_BAD_SIGNATURE": {
            CLOUDFLARE.key: _cloudflare("the signatures for the target record are invalid", 6),
            QUAD9.key: _QUAD9_BOGUS,
        },
        "RRSIG_MISSING": {
            CLOUDFLARE.key: _cloudflare(
                "it could not retrieve the RRSIGs that authenticate the records", 10
            ),
            QUAD9.key: _QUAD9_BOGUS,
        },
        "DENIAL_PROOF_MISSING": {CLOUDFLARE.key: _NO_PROOF},
        "NXDOMAIN_PROOF_INVALID": {CLOUDFLARE.key: _PROOF_INVALID, QUAD9.key: _QUAD9_BOGUS},
        "NODATA_PROOF_INVALID": {CLOUDFLARE.key: _PROOF_INVALID},
        "WILDCARD_PROOF_MISSING": {CLOUDFLARE.key: _NO_PROOF, QUAD9.key: _QUAD9_BOGUS},
        "DNSKEY_ALGORITHM_UNSUPPORTED": {
            CLOUDFLARE.key: DocumentedAnswer(
                CLOUDFLARE,
                (CLOUDFLARE_EDE, CLOUDFLARE_ALGORITHMS),
                "for an algorithm it does not list; it lists RSASHA1, RSASHA256, RSASHA512, "
                "RSASHA1-NSEC3-SHA1, ECDSAP256SHA256, ECDSAP384SHA384 and ED25519 (the "
                "SHA-1 algorithms still validated)",
                ede=(1,),
            ),
        },
        "DS_DIGEST_UNSUPPORTED": {
            CLOUDFLARE.key: _cloudflare(
                "the page says that when no DS of the set has a supported digest type the "
                "domain will fail to resolve",
                2,
            ),
        },
    }
)


def documented_answers(code: str | None) -> tuple[DocumentedAnswer, ...]:
    """What each public resolver's operator documents when ``code`` is the primary cause,
    one entry per resolver ("not documented" where its pages say nothing); none without a
    cause."""
    if not code:
        return ()
    row = DOCUMENTED.get(code, {})
    return tuple(
        row.get(r.key) or DocumentedAnswer(r, READ_PAGES[r.key], "not documented")
        for r in PUBLIC_RESOLVERS
    )
