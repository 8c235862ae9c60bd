"""Reading a zone file fast: the apex first, then the rest in slices over worker processes.

The apex owner group (SOA, DNSKEY, NSEC3PARAM) is read first, in this process: it gives
the keys and the NSEC3 parameters every worker needs. The rest of the file is cut into
slices at owner boundaries (a line that starts a new owner name, outside parentheses) and
each slice is parsed and verified by a worker (``verify.scan``); workers receive the
file's path and byte range and return compact summaries, never dnspython objects.

Fallbacks keep the fast path honest: a file with directives after the apex, or whose
records of one owner are not contiguous, or whose apex is not first or lacks its SOA there
(RFC 1035 puts no order on records), is read whole into memory and sorted (slower, same
results; without ``--origin`` the zone is the owner of its one SOA); a slice that fails to
parse is re-read in one piece so that the error names the right line.
"""

from __future__ import annotations

import gc
import itertools
import mmap
import multiprocessing
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from dnssec_doctor.verify.scan import Nsec3Summary, ScanContext, Scanner, ScanResult
from dnssec_doctor.zonefile.reader import (
    DNSKEY,
    NSEC3PARAM,
    SOA,
    ReaderState,
    Record,
    RecordTooLong,
    ZoneFileError,
    read_packed,
    read_records,
    sort_key,
)

_MIN_PARALLEL_BYTES = 1 << 20  # below this, forking costs more than it saves
_SLICES_PER_JOB = 16  # small slices keep both cores busy to the end


# Records read from one zone (BIND's max-records, Knot's zone-max-size): a zone with more
# is refused unless --max-records says otherwise. The sorted path holds every record in
# memory (~200 bytes each); the fast path only a summary per name.
MAX_RECORDS = 10_000_000


@dataclass(frozen=True)
class ScanSettings:
    now: float
    expire_warning: float
    horizons: tuple[float, ...]
    jobs: int = 2
    max_examples: int = 20
    max_records: int = MAX_RECORDS


def _too_many(source: str, line: int, limit: int) -> ZoneFileError:
    return ZoneFileError(
        source, line, f"more than {limit:,} records: give a higher --max-records to read it"
    )


@dataclass
class ZoneScan:
    """The scanned zone: its apex records, the merged summaries, and how to re-read an
    owner's records (to explain the examples kept for each finding code)."""

    origin: bytes
    apex: list[Record]
    result: ScanResult
    load_group: Callable[[bytes, int], list[Record]]
    mode: str  # "parallel", "sequential" or "sorted in memory"
    slices: int


def scan_zone_file(
    path: Path,
    source: str,
    origin: bytes | None,
    settings: ScanSettings,
    *,
    min_parallel_bytes: int = _MIN_PARALLEL_BYTES,
) -> ZoneScan:
    """Scan the zone file at ``path`` (``source`` names it in errors)."""
    with without_cyclic_gc():
        return _scan_file(path, source, origin, settings, min_parallel_bytes)


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Hundreds of thousands of small tuples and no reference cycles: the cyclic garbage
    collector would only walk them again and again (10-20 % of the scan, a third of the
    zone-wide checks). Reference counting still frees everything."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _scan_file(
    path: Path,
    source: str,
    origin: bytes | None,
    settings: ScanSettings,
    min_parallel_bytes: int,
) -> ZoneScan:
    try:
        handle = path.open("rb")
    except OSError as error:
        raise ZoneFileError(source, 0, f"cannot read: {error.strerror}") from None
    with handle:
        try:
            data: bytes | mmap.mmap = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            data = b""
        return _scan(data, path, source, origin, settings, min_parallel_bytes)


def _scan(
    data: bytes | mmap.mmap,
    path: Path,
    source: str,
    origin: bytes | None,
    settings: ScanSettings,
    min_parallel_bytes: int,
) -> ZoneScan:
    size = 1 << 16
    while True:
        window = bytes(data[:size])
        complete = size >= len(data)
        try:
            header = _read_apex(window, source, origin)
        except RecordTooLong:
            raise  # the window holds the whole over-long line: the file's own error
        except ZoneFileError:
            if complete:
                raise
            size *= 4
            continue
        if header is None:  # the file does not start with the apex and its SOA
            return _sorted_scan(data, source, origin, settings)
        apex, rest, saved, origin = header
        if rest is not None or complete:
            break
        size *= 4
    if not apex or origin is None:
        raise ZoneFileError(source, 1, "no records: the zone is empty")
    if not any(r[2] == SOA for r in apex):  # later in the file, or nowhere
        return _sorted_scan(data, source, origin, settings)
    context = _context(source, origin, apex, settings)
    head = Scanner(context).scan(apex)
    if rest is None:
        return ZoneScan(origin, apex, head, _group_loader(data, source, saved), "sequential", 1)

    start, first_line = rest[5], rest[4]
    end = len(data)
    cuts = [start]
    if settings.jobs > 1 and end - start >= min_parallel_bytes:
        cuts = _boundaries(data, start, end, settings.jobs * _SLICES_PER_JOB)
    else:
        cuts = [start, end]
    # Slices number their lines from 1: counting the newlines before each slice here
    # would read the whole file in this process. A slice that fails is re-read whole
    # (below), so errors always name the file's own line.
    tasks = [
        (str(path), cuts[index], cuts[index + 1], 1 if index else first_line)
        for index in range(len(cuts) - 1)
    ]
    parallel = len(tasks) > 1
    try:
        parts = _run(tasks, context, saved, source, parallel, settings.jobs)
    except ZoneFileError:
        # A directive after the apex, a slice cut inside a record, or a genuine error:
        # the general path reads the file whole and names the right line.
        return _sorted_scan(data, source, origin, settings)
    result = head
    for part in parts:
        result.merge(part, settings.max_examples)
    if result.records > settings.max_records:
        raise _too_many(source, 1, settings.max_records)
    if _has_split_owners(result):
        return _sorted_scan(data, source, origin, settings)
    mode = "parallel" if parallel else "sequential"
    return ZoneScan(
        origin, apex, result, _group_loader(data, source, saved), mode, max(1, len(tasks))
    )


def _read_apex(
    window: bytes, source: str, origin: bytes | None
) -> tuple[list[Record], Record | None, ReaderState, bytes | None] | None:
    """The apex owner group at the start of ``window``, the first record after it, and
    the reader state before that record; None when the file does not start at the apex
    (without ``origin``: does not start with an SOA)."""
    state = ReaderState(origin=origin)
    apex: list[Record] = []
    rest: Record | None = None
    saved = replace(state)
    for record in read_records(window, state, source=source):
        if not apex:
            if origin is None:
                if record[2] != SOA:
                    return None
                origin = record[0]
            if record[0] != origin:
                return None
        elif record[0] != origin:
            rest = record
            break
        apex.append(record)
        saved = replace(state)
    return apex, rest, saved, origin


def _context(source: str, origin: bytes, apex: list[Record], settings: ScanSettings) -> ScanContext:
    soa = next(r[3] for r in apex if r[2] == SOA)
    expire = struct.unpack_from("!I", soa, len(soa) - 8)[0]
    nsec3 = None
    for record in apex:
        if record[2] == NSEC3PARAM:
            rdata = record[3]
            salt_length = rdata[4]
            nsec3 = (rdata[5 : 5 + salt_length], struct.unpack_from("!H", rdata, 2)[0])
            break
    return ScanContext(
        source=source,
        origin=origin,
        dnskeys=tuple(r[3] for r in apex if r[2] == DNSKEY),
        now=settings.now,
        expire_warning=settings.expire_warning,
        horizons=settings.horizons,
        soa_expire=expire,
        nsec3=nsec3,
        max_examples=settings.max_examples,
    )


# --- slices -----------------------------------------------------------------------------


def _boundaries(data: bytes | mmap.mmap, start: int, end: int, parts: int) -> list[int]:
    cuts = [start]
    for index in range(1, parts):
        cut = _owner_boundary(data, start + (end - start) * index // parts, end, start)
        if cut is not None and cut > cuts[-1]:
            cuts.append(cut)
    cuts.append(end)
    return cuts


def _owner_boundary(data: bytes | mmap.mmap, position: int, end: int, start: int) -> int | None:
    """The first line at or after ``position`` that starts a new owner name, outside
    parentheses; None if there is none before ``end``."""
    newline = data.find(b"\n", position)
    while 0 <= newline < end - 1:
        line_start = newline + 1
        first = data[line_start : line_start + 1]
        if first not in (b" ", b"\t", b"\r", b"\n", b";", b"$", b"(", b")", b""):
            token = _first_token(data, line_start)
            previous = _previous_owner(data, line_start, start)
            if not _inside_parentheses(data, line_start, start) and (
                token.lower() != previous.lower()
            ):
                return line_start
        newline = data.find(b"\n", line_start)
    return None


def _inside_parentheses(data: bytes | mmap.mmap, position: int, start: int) -> bool:
    """Whether ``position`` lies inside a parenthesised record: the last parenthesis
    before it opens one. Parentheses in comments or quotes could mislead this; a slice
    cut wrongly then fails to parse and the file is re-read in one piece."""
    low = max(start, position - (1 << 16))
    opening = data.rfind(b"(", low, position)
    closing = data.rfind(b")", low, position)
    return opening > closing


def _count(data: bytes | mmap.mmap, needle: bytes, start: int, end: int) -> int:
    """``bytes.count`` over a range (mmap has no count)."""
    total = 0
    step = 1 << 24
    for position in range(start, end, step):
        total += data[position : min(end, position + step)].count(needle)
    return total


def _first_token(data: bytes | mmap.mmap, line_start: int) -> bytes:
    line_end = data.find(b"\n", line_start)
    line = bytes(data[line_start : line_end if line_end >= 0 else len(data)])
    parts = line.split(None, 1)
    return parts[0] if parts else b""


def _previous_owner(data: bytes | mmap.mmap, line_start: int, start: int) -> bytes:
    position = line_start - 1
    while position > start:
        previous = data.rfind(b"\n", start, position)
        begin = previous + 1 if previous >= 0 else start
        first = data[begin : begin + 1]
        if first not in (b" ", b"\t", b"\r", b"\n", b";", b"(", b")", b""):
            return _first_token(data, begin)
        position = previous
        if previous < 0:
            break
    return b""


_Task = tuple[str, int, int, int]

# The worker's inputs, inherited through fork rather than pickled with every task.
_worker_context: tuple[ScanContext, ReaderState, str] | None = None


def _run(
    tasks: list[_Task],
    context: ScanContext,
    state: ReaderState,
    source: str,
    parallel: bool,
    jobs: int,
) -> list[ScanResult]:
    global _worker_context
    _worker_context = (context, state, source)
    try:
        if not parallel:
            return [_scan_slice(task) for task in tasks]
        pool = multiprocessing.get_context("fork").Pool(min(jobs, len(tasks)))
        with pool:
            return list(pool.imap(_scan_slice, tasks))
    finally:
        _worker_context = None


def _scan_slice(task: _Task) -> ScanResult:
    assert _worker_context is not None
    context, state, source = _worker_context
    path, start, end, first_line = task
    with Path(path).open("rb") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    records = read_packed(
        data,
        replace(state, owner=None),
        source=source,
        first_line=first_line,
        base_offset=start,
        directives=False,
    )
    return Scanner(context).scan(records)


def _has_split_owners(result: ScanResult) -> bool:
    """Whether one owner's records were found in two places (not contiguous): two
    summaries of one name, or one NSEC3 owner at two offsets. Both lists are sorted in
    place (judge_zone then finds the names sorted): no copies, no sets of 100,000 names
    beside them in the main process."""
    result.names.sort()
    if any(a[0] == b[0] for a, b in itertools.pairwise(result.names)):
        return True
    result.nsec3s.sort(key=_owner_of)
    return any(a[1] == b[1] and a[2] != b[2] for a, b in itertools.pairwise(result.nsec3s))


def _owner_of(nsec3: Nsec3Summary) -> bytes:
    return nsec3[1]


# --- the slow, general path -----------------------------------------------------------------


def _sorted_scan(
    data: bytes | mmap.mmap, source: str, origin: bytes | None, settings: ScanSettings
) -> ZoneScan:
    """Read every record into memory, sort by owner (canonical order), then scan. Without
    ``origin`` the zone is the owner of the file's SOA record."""
    state = ReaderState(origin=origin)
    records: list[Record] = []
    for record in read_records(bytes(data[:]), state, source=source):
        if len(records) >= settings.max_records:
            raise _too_many(source, record[4], settings.max_records)
        records.append(record)
    if origin is None:
        origin = _soa_owner(records, source)
    order = sorted(range(len(records)), key=lambda i: (sort_key(records[i][0]), i))
    ordered = [records[i] for i in order]
    apex = [r for r in ordered if r[0] == origin]
    if not apex:
        raise ZoneFileError(source, 1, "no record at the zone apex: check --origin")
    if not any(r[2] == SOA for r in apex):
        raise ZoneFileError(source, apex[0][4], "the zone apex has no SOA record")
    context = _context(source, origin, apex, settings)
    result, parts = _scan_sorted(ordered, context, settings)
    by_owner: dict[bytes, list[Record]] = {}
    for record in ordered:
        by_owner.setdefault(record[0], []).append(record)

    def load(owner: bytes, offset: int) -> list[Record]:
        return by_owner.get(owner, [])

    return ZoneScan(origin, apex, result, load, "sorted in memory", parts)


# The sorted records, inherited by the workers through fork rather than pickled.
_sorted_context: tuple[ScanContext, list[Record]] | None = None
_MIN_PARALLEL_RECORDS = 20_000  # below this, forking costs more than it saves


def _scan_sorted(
    ordered: list[Record], context: ScanContext, settings: ScanSettings
) -> tuple[ScanResult, int]:
    """Scan records sorted by owner, in slices cut at owner boundaries on every job (as
    the fast path scans a file's slices), and merge the slices' results in order; also
    the number of slices."""
    count = settings.jobs * _SLICES_PER_JOB
    if settings.jobs < 2 or len(ordered) < _MIN_PARALLEL_RECORDS:
        return Scanner(context).scan(ordered), 1
    cuts = [0]
    for index in range(1, count):
        cut = max(cuts[-1], index * len(ordered) // count)
        while 0 < cut < len(ordered) and ordered[cut][0] == ordered[cut - 1][0]:
            cut += 1  # an owner's records stay in one slice
        if cuts[-1] < cut < len(ordered):
            cuts.append(cut)
    cuts.append(len(ordered))
    global _sorted_context
    _sorted_context = (context, ordered)
    try:
        pool = multiprocessing.get_context("fork").Pool(min(settings.jobs, len(cuts) - 1))
        with pool:
            parts = list(pool.imap(_scan_sorted_slice, itertools.pairwise(cuts)))
    finally:
        _sorted_context = None
    result = parts[0]
    for part in parts[1:]:
        result.merge(part, settings.max_examples)
    return result, len(parts)


def _scan_sorted_slice(bounds: tuple[int, int]) -> ScanResult:
    assert _sorted_context is not None
    context, ordered = _sorted_context
    return Scanner(context).scan(ordered[bounds[0] : bounds[1]])


def _soa_owner(records: list[Record], source: str) -> bytes:
    owners = {r[0]: r[4] for r in reversed(records) if r[2] == SOA}  # name -> first line
    if not owners:
        raise ZoneFileError(source, 1, "no SOA record: give the zone's name with --origin")
    if len(owners) > 1:
        lines = sorted(owners.values())
        raise ZoneFileError(
            source,
            lines[1],
            f"SOA records at {len(owners)} names (lines {', '.join(map(str, lines[:5]))}): "
            "give the zone's name with --origin",
        )
    return next(iter(owners))


def _group_loader(
    data: bytes | mmap.mmap, source: str, state: ReaderState
) -> Callable[[bytes, int], list[Record]]:
    def load(owner: bytes, offset: int) -> list[Record]:
        size = 1 << 16
        while True:
            window = data[offset : offset + size]
            complete = offset + size >= len(data)
            group: list[Record] = []
            try:
                for record in read_records(
                    window,
                    replace(state, owner=owner),
                    source=source,
                    first_line=1 + _count(data, b"\n", 0, offset),
                    base_offset=offset,
                ):
                    if record[0] != owner:
                        return group
                    group.append(record)
            except RecordTooLong:
                raise
            except ZoneFileError:
                if complete:
                    raise
                size *= 4
                continue
            if complete:
                return group
            size *= 4

    return load
