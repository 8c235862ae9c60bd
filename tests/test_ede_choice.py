"""The EDE the diagnosis names for each cause: the most specific RFC 8914 code, held to
what the lab's validators measurably send (diagnosis.validators).

RFC 8914 §4 (and the IANA registry for 25 and 27) defines the DNSSEC codes; 6 (DNSSEC
Bogus) is the generic one, to be named only where no more specific code fits. 5 (DNSSEC
Indeterminate, RFC 4035 §4.3: the resolver cannot get the DNSSEC records it needs) is the
code of no cause in the table: a zone whose servers give no answer is unreachable (22),
and a run that stopped waiting (PROBE_DEADLINE_REACHED) knows nothing a validator would
report, so it names no code.
"""

from __future__ import annotations

from dnssec_doctor.analysis.codes import CODES
from dnssec_doctor.diagnosis.validators import EXPECTED

# RFC 8914 §4.2-4.13, 4.23, and the registry's 25 and 27: what a cause may carry.
DNSSEC_EDE = frozenset({1, 2, 6, 7, 8, 9, 10, 11, 12, 25, 27})
UNREACHABLE_EDE = frozenset({22})

# Causes whose code none of the lab's validators sends, and why it is the one named.
UNMEASURED = {
    # §4.23 "could not reach any of the authoritative name servers": the lab's validators
    # send no EDE at all for a dead or refusing zone.
    "ZONE_UNREACHABLE": 22,
    # §4.13 "the requested data was missing and a covering NSEC or NSEC3 was not
    # provided": the parent's proof of DS absence (Unbound says 9, Knot Resolver 6).
    "INSECURE_DELEGATION_UNPROVEN": 12,
    # Registered for exactly this window (Unbound and PowerDNS Recursor say 8, Knot 7).
    "RRSIG_WINDOW_INVERTED": 25,
    # The same fault as RRSIG_NO_MATCHING_KEY (a signature by a key missing from the
    # DNSKEY RRset used), where Unbound sends 9; PowerDNS Recursor's 6 here is generic.
    "MULTI_SIGNER_KEY_MISSING": 9,
}


def _measured(code: str) -> set[int]:
    """The codes the lab's validators send for ``code``, but 0 (Other Error: Knot Resolver
    on an unsupported algorithm or digest, BIND on a CNAME loop), which names nothing."""
    row = EXPECTED[code]
    found = {a.ede for a in row.values()}
    found |= {a.sometimes.ede for a in row.values() if a.sometimes is not None}
    return {ede for ede in found if ede}


def test_every_cause_names_a_dnssec_code_or_none() -> None:
    for code in CODES.values():
        if code.rank is None or code.ede is None:
            continue
        assert code.ede in DNSSEC_EDE | UNREACHABLE_EDE, code.code
        assert code.ede != 5, code.code


def test_the_code_named_is_one_a_lab_validator_sends_or_a_reasoned_exception() -> None:
    for cause in EXPECTED:
        ede = CODES[cause].ede
        if ede is None or not _measured(cause):
            continue
        if cause in UNMEASURED:
            assert ede == UNMEASURED[cause] and ede not in _measured(cause), cause
        else:
            assert ede in _measured(cause), (cause, ede, _measured(cause))
    for cause, ede in UNMEASURED.items():
        assert CODES[cause].ede == ede, cause


def test_never_the_generic_code_where_a_validator_names_a_specific_one() -> None:
    for cause in EXPECTED:
        if CODES[cause].ede == 6:
            assert not _measured(cause) - {6}, (cause, _measured(cause))
