"""What each validator will answer, per primary cause: one table, with the version of each
validator it was measured against.

Every entry was measured on the lab's real validators (the Debian 12 packages below) for
the catalogue's scenarios with that cause, and the tests hold the table to the catalogue,
whose answers ``lab verify`` and the tests check against the running validators. A
validator is left out of a row when its answer depends on the case (the comment says
how). Public resolvers cannot be measured from the lab: what their operators document is
a table of its own, marked as such (``diagnosis.public_resolvers``).

Why this is not a field of the code table (``analysis.codes``), decided for issue #11:
an entry of the code table states what a finding code means, and holds whatever validator
runs (severity, the link it breaks, its rank as a cause, the EDE RFC 8914 gives it, who
acts, its planner). This table holds measurements of four named releases: it changes when
a validator is upgraded, not when a code is, and its rows are checked against the lab's
catalogue by ``tests/test_validator_expectations.py``, not by the registry tests. So it
stays versioned data beside the table, keyed by its codes: a row names a code that the
table ranks as a cause (the tests fail otherwise), and a new code never needs an entry
here to be complete.

Pure data: the diagnosis reads it, the renderers show it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from dnssec_doctor.model.diagnosis import ExpectedAnswer, ValidatorAnswer, ValidatorRelease

Answer = ValidatorAnswer

VALIDATORS: Final = (
    ValidatorRelease("unbound", "Unbound", "1.17.1"),
    ValidatorRelease("bind", "BIND", "9.18"),
    ValidatorRelease("kresd", "Knot Resolver", "5.6.0"),
    ValidatorRelease("pdns-recursor", "PowerDNS Recursor", "4.8.8"),
)

# The cause code -> validator key -> what it answers (rcode, AD, EDE; BIND 9.18 sends no
# EDE, Unbound with "ede: yes", PowerDNS Recursor with "extended-resolution-errors").
EXPECTED: Final[Mapping[str, Mapping[str, ValidatorAnswer]]] = MappingProxyType(
    {
        "ZONE_UNSIGNED": {
            "unbound": Answer("NOERROR"),
            "bind": Answer("NOERROR"),
            "kresd": Answer("NOERROR"),
            "pdns-recursor": Answer("NOERROR"),
        },
        "DS_MISSING_FOR_SIGNED_ZONE": {
            "unbound": Answer("NOERROR"),
            "bind": Answer("NOERROR"),
            "kresd": Answer("NOERROR"),
            "pdns-recursor": Answer("NOERROR"),
        },
        "DS_DIGEST_MISMATCH": {
            "unbound": Answer("SERVFAIL", ede=9),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=6),
            "pdns-recursor": Answer("SERVFAIL", ede=9),
        },
        "DS_NO_MATCHING_KEY": {
            "unbound": Answer("SERVFAIL", ede=9),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=6),
            "pdns-recursor": Answer("SERVFAIL", ede=9),
        },
        "DS_ALGORITHM_MISMATCH": {
            "unbound": Answer("SERVFAIL", ede=9),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=6),
            "pdns-recursor": Answer("SERVFAIL", ede=9),
        },
        "DS_DIGEST_UNSUPPORTED": {
            "unbound": Answer("NOERROR"),
            "bind": Answer("NOERROR"),
            "kresd": Answer("NOERROR", ede=0),
            "pdns-recursor": Answer("NOERROR"),
        },
        "DS_FOR_UNSIGNED_ZONE": {
            "unbound": Answer("SERVFAIL", ede=9),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=12),
            "pdns-recursor": Answer("SERVFAIL", ede=10),
        },
        "RRSIG_EXPIRED": {
            "unbound": Answer("SERVFAIL", ede=7),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=7),
            "pdns-recursor": Answer("SERVFAIL", ede=7),
        },
        "RRSIG_NOT_YET_VALID": {
            "unbound": Answer("SERVFAIL", ede=8),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=8),
            # pdns-recursor: SERVFAIL, EDE 8 for signatures made in advance
            # (rrsig-not-yet-valid); SERVFAIL without EDE from an online signer whose clock
            # runs ahead (online-signer-clock-ahead).
        },
        "RRSIG_MISSING": {
            "unbound": Answer("SERVFAIL", ede=10),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=10),
            "pdns-recursor": Answer("SERVFAIL", ede=10),
        },
        "RRSIG_BAD_SIGNATURE": {
            "unbound": Answer("SERVFAIL", ede=6),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=6),
            "pdns-recursor": Answer("SERVFAIL", ede=6),
        },
        "DNSKEY_NOT_SIGNED_BY_DS_KEY": {
            "unbound": Answer("SERVFAIL", ede=10),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=6),
            "pdns-recursor": Answer("SERVFAIL", ede=9),
        },
        "DNSKEY_MISSING": {
            "unbound": Answer("SERVFAIL", ede=9),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=6),
            "pdns-recursor": Answer("SERVFAIL", ede=9),
        },
        "RRSIG_NO_MATCHING_KEY": {
            "unbound": Answer("SERVFAIL", ede=9),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=6),
            "pdns-recursor": Answer("SERVFAIL"),
        },
        "NXDOMAIN_PROOF_INVALID": {
            "unbound": Answer("SERVFAIL", ede=6),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=12),
            "pdns-recursor": Answer("SERVFAIL"),
        },
        "NSEC3_ITERATIONS_EXCESSIVE": {
            "unbound": Answer("NXDOMAIN"),
            "bind": Answer("NXDOMAIN"),
            "kresd": Answer("NXDOMAIN"),
            "pdns-recursor": Answer("NXDOMAIN"),
        },
        "DNSKEY_ALGORITHM_UNSUPPORTED": {
            "unbound": Answer("NOERROR"),
            "bind": Answer("NOERROR"),
            "kresd": Answer("NOERROR", ede=0),
            "pdns-recursor": Answer("NOERROR"),
        },
        "SERVER_STALE_COPY": {
            "unbound": Answer("NOERROR", ad=True),
            "bind": Answer("NOERROR", ad=True),
            "kresd": Answer("NOERROR", ad=True),
            "pdns-recursor": Answer("NOERROR", ad=True, sometimes=Answer("SERVFAIL", ede=7)),
        },
        "WILDCARD_PROOF_MISSING": {
            "unbound": Answer("SERVFAIL", ede=6),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=6),
            "pdns-recursor": Answer("SERVFAIL", ede=12),
        },
        "ZONE_UNREACHABLE": {
            "unbound": Answer("SERVFAIL"),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL"),
            "pdns-recursor": Answer("SERVFAIL", ad=True),
        },
        "DS_MALFORMED": {
            # Unbound: SERVFAIL, EDE 9, except for a DS over a key with the REVOKE flag, which it
            # validates (ksk-revoked-new-ds).
            "bind": Answer("SERVFAIL"),
            # kresd: SERVFAIL (EDE 6) when no other DS matches; with a valid DS beside
            # the malformed one it validates (ds-malformed-extra).
            # pdns-recursor: SERVFAIL (EDE 9) when no other DS matches; with a valid DS beside
            # the malformed one it validates (ds-malformed-extra).
        },
        "INSECURE_DELEGATION_UNPROVEN": {
            "unbound": Answer("SERVFAIL", ede=9),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=6),
            "pdns-recursor": Answer("SERVFAIL"),
        },
        "REDIRECT_LOOP": {
            "unbound": Answer("SERVFAIL"),
            "bind": Answer("SERVFAIL", ad=True, ede=0),
            "kresd": Answer("SERVFAIL"),
            "pdns-recursor": Answer("SERVFAIL", ad=True),
        },
        "REDIRECT_CHAIN_TOO_LONG": {
            "unbound": Answer("SERVFAIL"),
            "bind": Answer("SERVFAIL", ad=True, ede=0),
            "kresd": Answer("NOERROR", ad=True),
            "pdns-recursor": Answer("NOERROR", ad=True),
        },
        "REDIRECT_NAME_TOO_LONG": {
            "unbound": Answer("YXDOMAIN"),
            "bind": Answer("YXDOMAIN", ad=True),
            "kresd": Answer("YXDOMAIN", ad=True),
            "pdns-recursor": Answer("SERVFAIL", ad=True),
        },
        "RRSIG_WINDOW_INVERTED": {
            "unbound": Answer("SERVFAIL", ede=8),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=7),
            "pdns-recursor": Answer("SERVFAIL", ede=8),
        },
        "DS_KEY_NOT_ZONE_KEY": {
            "unbound": Answer("SERVFAIL", ede=11),
            "bind": Answer("NOERROR", ad=True),
            "kresd": Answer("SERVFAIL", ede=6),
            "pdns-recursor": Answer("SERVFAIL", ede=9),
        },
        "DS_KEY_REVOKED": {
            "unbound": Answer("NOERROR", ad=True),
            "bind": Answer("SERVFAIL"),
            "kresd": Answer("SERVFAIL", ede=6),
            "pdns-recursor": Answer("SERVFAIL", ede=9),
        },
        "MULTI_SIGNER_KEY_MISSING": {
            "unbound": Answer("NOERROR", ad=True),
            "bind": Answer("NOERROR", ad=True),
            "kresd": Answer("NOERROR", ad=True),
            "pdns-recursor": Answer("NOERROR", ad=True, sometimes=Answer("SERVFAIL", ede=6)),
        },
    }
)


def expected_answers(code: str | None) -> tuple[ExpectedAnswer, ...]:
    """What each validator the table knows answers when ``code`` is the primary cause."""
    row = EXPECTED.get(code or "", {})
    return tuple(ExpectedAnswer(v, row[v.key]) for v in VALIDATORS if v.key in row)
