from dnssec_doctor.zonefile.reader import Record

MAX_RECORD_TEXT: int

def parse(
    data: bytes,
    position: int,
    line: int,
    base_offset: int,
    origin: bytes | None,
    owner: bytes | None,
    default_ttl: int,
    last_ttl: int,
    limit: int,
    packed: bool = False,
    /,
) -> tuple[list[Record] | bytes, int, int, bytes | None, int, int]: ...
def type_names() -> dict[str, tuple[int, int]]: ...
