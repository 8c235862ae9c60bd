"""The names a scan checks: read one line at a time, never the whole input at once.

A line holds a name and, optionally, a record type (``example.com MX``; A by default);
blank lines and ``#`` comments are skipped. A line that is not that is an error naming
the file and the line, raised when the scan reaches it (the names before it are scanned
and written, so ``--resume`` goes on once the line is fixed).

Or every delegation of a zone file (a registry's TLD zone): the owners of NS records
below the apex (with ``with_ds``, only those with a DS: the signed ones), each checked
at its apex SOA, in canonical order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dnssec_doctor.errors import UsageError
from dnssec_doctor.pipeline import parse_name, parse_type

MAX_LINE = 1024  # a name is at most 255 octets; its escaped form at most four times that


@dataclass(frozen=True)
class Question:
    name: str  # absolute, in presentation form
    rdtype: str
    line: int

    @property
    def key(self) -> tuple[str, str]:
        """What identifies a result in the output (for --resume)."""
        return (self.name, self.rdtype)


def read_questions(stream: IO[bytes], label: str, *, default_type: str = "A") -> Iterator[Question]:
    """The questions of ``stream`` (``label`` names it in errors), in order."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            raise UsageError(f"{label} line {number}: longer than {MAX_LINE} bytes")
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeError:
            raise UsageError(f"{label} line {number}: not UTF-8 text") from None
        if not text or text.startswith("#"):
            continue
        fields = text.split()
        if len(fields) > 2:
            raise UsageError(
                f"{label} line {number}: expected a name and at most a type, "
                f"found {len(fields)} fields",
                hint="one name per line, optionally followed by a record type",
            )
        try:
            name = parse_name(fields[0])
            rdtype = parse_type(fields[1] if len(fields) == 2 else default_type)
        except UsageError as error:
            raise UsageError(f"{label} line {number}: {error.message}", hint=error.hint) from None
        yield Question(name, rdtype, number)


MAX_ZONE_FILE = 16 * 1024**3  # the reader holds the file in memory


def read_delegations(
    path: Path, *, with_ds: bool = False, origin: str | None = None
) -> Iterator[Question]:
    """Every delegation of the zone file ``path`` (with ``with_ds``: every signed one),
    as the question SOA at its apex."""
    from dnssec_doctor.files import read_bytes
    from dnssec_doctor.zonefile import reader

    data = read_bytes(path, "zone", MAX_ZONE_FILE)
    try:
        state = reader.ReaderState(
            origin=None if origin is None else reader.name_wire(parse_name(origin).encode(), None)
        )
        apex: bytes | None = None
        delegated: set[bytes] = set()
        signed: set[bytes] = set()
        for owner, _ttl, rdtype, _rdata, _line, _offset in reader.read_records(
            data, state, source=str(path)
        ):
            if rdtype == reader.SOA and apex is None:
                apex = owner
            elif rdtype == reader.NS:
                delegated.add(owner)
            elif rdtype == reader.DS:
                signed.add(owner)
    except reader.ZoneFileError as error:
        raise UsageError(f"{path}: {error}") from None
    if apex is None:
        raise UsageError(f"{path} has no SOA record: not a zone file")
    delegated.discard(apex)
    if with_ds:
        delegated &= signed
    for owner in sorted(delegated, key=reader.sort_key):
        if _below_another(owner, delegated, apex):
            continue  # an NS record below a cut is not the zone's (occluded)
        yield Question(reader.name_text(owner), "SOA", 0)


def _below_another(owner: bytes, cuts: set[bytes], apex: bytes) -> bool:
    parent = owner[owner[0] + 1 :]
    while len(parent) > len(apex):
        if parent in cuts:
            return True
        parent = parent[parent[0] + 1 :]
    return False
