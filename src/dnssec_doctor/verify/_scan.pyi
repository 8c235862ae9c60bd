from collections.abc import Iterable, Sequence
from typing import Any

from dnssec_doctor.zonefile.reader import Record

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
    def finish(self) -> tuple[Any, ...]: ...
