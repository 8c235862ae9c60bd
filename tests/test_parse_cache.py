"""The bounds of the analysis's shared caches: parsed messages by their wire, and the
cryptography's verdicts by the bytes judged (both shared by every name of a scan)."""

from __future__ import annotations

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dnssec_doctor.analysis import wire


def _large_answer(serial: int) -> bytes:
    """A response of about 60 KB: 240 TXT records of 250 octets under one owner."""
    query = dns.message.make_query("big.example.", "TXT")
    response = dns.message.make_response(query)
    texts = [f'"{serial:08d}-{n:04d}-{"x" * 230}"' for n in range(240)]
    response.answer.append(dns.rrset.from_text_list("big.example.", 300, "IN", "TXT", texts))
    return response.to_wire(max_size=65535)


def test_hostile_large_answers_keep_the_parse_cache_within_its_wire_budget() -> None:
    answers = [_large_answer(serial) for serial in range(80)]  # ~4.8 MB of wire
    assert all(50_000 < len(answer) <= 65535 for answer in answers)
    for answer in answers:
        parsed = wire.parse_message(answer)
        assert parsed.message is not None and len(parsed.message.answer[0]) == 240
    kept = sum(len(key) for key in wire._parsed)
    assert kept == wire._parsed_wire <= wire._PARSED_WIRE_BUDGET
    assert len(wire._parsed) >= 30  # still a cache: the most recent ones are kept
    # The newest answer is found again, and with another ID is the same records.
    again = bytes([0xAB, 0xCD]) + answers[-1][2:]
    parsed = wire.parse_message(again)
    assert parsed.message is not None and parsed.message.id == 0xABCD
    assert parsed.message.answer == wire.parse_message(answers[-1]).message.answer
