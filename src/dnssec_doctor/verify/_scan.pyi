from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from dnssec_doctor.zonefile.reader import Record

class Totals(NamedTuple):  # a C struct sequence: a named tuple to the type checker
    names: list[Any]
    nsec3s: list[Any]
    counts: dict[str, int]
    examples: dict[str, list[tuple[bytes, int, int]]]
    records: int
    rrsets: int
    signatures: int
    valid_signatures: int
    earliest: tuple[int, bytes, int] | None
    horizon_counts: list[int]
    before_soa_expire: int
    ns_targets: list[tuple[bytes, bytes]]
    ds_heads: list[tuple[bytes, int, int, int]]

class Scanner:
    def __init__(
        self,
        origin: bytes,
        keys: Sequence[tuple[int, int, int, int, bytes | None]],
        supported: Sequence[int],
        now: float,
        expire_warning: float,
        deadlines: Sequence[float],
        soa_deadline: float,
        nsec3: tuple[bytes, int] | None,
        max_examples: int,
    ) -> None: ...
    def scan(self, records: Iterable[Record | bytes], /) -> None: ...
    def finish(self) -> Totals: ...
