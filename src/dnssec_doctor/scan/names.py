"""The names a scan checks: read one line at a time, never the whole input at once.

A line holds a name and, optionally, a record type (``example.com MX``; A by default);
blank lines and ``#`` comments are skipped. A line that is not that is an error naming
the file and the line, raised when the scan reaches it (the names before it are scanned
and written, so ``--resume`` goes on once the line is fixed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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
