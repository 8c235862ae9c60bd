"""Fuzzing, bounded in time (issue 18): the snapshot reader (and the analysis behind it),
the zone-file reader and the response parser, fed by Hypothesis with random and mutated
inputs. Each must return or raise its own documented error: never another exception,
never run past a deadline per input, never allocate past a memory bound per input.

Seeds are derandomized (the same inputs on every run, so CI cannot flake on a new one);
``FUZZ_EXAMPLES=N`` runs N per target instead of the default, ``FUZZ_SEED=random`` draws
fresh ones for a longer local hunt."""

from __future__ import annotations

import base64
import json
import os
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dns.message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnssec_doctor.analysis.wire import parse_message
from dnssec_doctor.diagnosis.report import build_report
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.snapshot import SnapshotError, load_snapshot
from dnssec_doctor.zonefile.reader import ReaderState, ZoneFileError, read_records

SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # timed below, per input, with a bound that load cannot trip
    derandomize=os.environ.get("FUZZ_SEED") != "random",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
SECONDS_PER_INPUT = 10.0
BYTES_PER_INPUT = 256 << 20

SNAPSHOT = json.loads((SNAPSHOTS / "ds-bad-digest.json").read_text())
RESPONSES = [base64.b64decode(e["response"]) for e in SNAPSHOT["exchanges"] if e["response"]]
ZONE = (
    b"$ORIGIN example.\n$TTL 300\n"
    b"@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
    b"@ IN NS ns1\nns1 IN A 192.0.2.1\nns1 IN AAAA 2001:db8::1\n"
    b'www 60 IN TXT "a b" ( "c" )\n'
    b"@ IN DS 12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE\n"
    b"@ IN NSEC3PARAM 1 0 0 -\n"
    b"a.b IN CNAME www\n*.w IN MX 10 mail\n"
)


@contextmanager
def bounded() -> Iterator[None]:
    """One input: within the time and memory bounds."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        yield
    finally:
        took = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert took < SECONDS_PER_INPUT, f"{took:.1f} s for one input"
        assert peak < BYTES_PER_INPUT, f"{peak} bytes for one input"


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=10), inner, max_size=6)
    ),
    max_leaves=30,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:8]):
            found += _paths(value, (*prefix, index))
    return found


PATHS = [p for p in _paths(SNAPSHOT) if p]


@st.composite
def mutated_snapshots(draw: Callable[..., Any]) -> Any:
    """The real snapshot with a few fields replaced by anything JSON can hold."""
    document = json.loads(json.dumps(SNAPSHOT))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        node = document
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            pass
    return document


def _analyze(document: Any) -> None:
    try:
        snapshot = load_snapshot(document)
    except SnapshotError:
        return
    build_report(snapshot, AnalysisOptions(now=snapshot.finished_at))


@FUZZ
@given(mutated_snapshots())
def test_mutated_snapshots_are_read_or_refused_and_analyzed(document: Any) -> None:
    with bounded():
        _analyze(document)


@FUZZ
@given(json_values)
def test_any_json_is_read_or_refused(document: Any) -> None:
    with bounded():
        _analyze(document)


Edits = list[tuple[int, int, bytes]]  # (where, how many bytes out, what in)


def _mutate(data: bytes, changes: Edits) -> bytes:
    for position, cut, insert in changes:
        position %= len(data) + 1
        data = data[:position] + insert + data[position + cut :]
    return data


edits = st.lists(
    st.tuples(st.integers(0, 1 << 16), st.integers(0, 8), st.binary(max_size=8)), max_size=6
)


@FUZZ
@given(st.sampled_from(RESPONSES), edits)
def test_mutated_responses_parse_or_say_why(wire: bytes, changes: Edits) -> None:
    with bounded():
        parsed = parse_message(_mutate(wire, changes))
    assert (parsed.message is None) == (parsed.error is not None)


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_parse_or_say_why(wire: bytes) -> None:
    with bounded():
        parsed = parse_message(wire)
    assert (parsed.message is None) == (parsed.error is not None)


def _read_zone(data: bytes, accelerated: bool) -> list[Any] | str:
    state = ReaderState(origin=dns.name.from_text("example.").to_wire())
    try:
        return list(read_records(data, state, source="fuzz", accelerated=accelerated))
    except ZoneFileError as error:
        return f"error: {error}"


@FUZZ
@given(edits)
def test_mutated_zone_files_are_read_or_refused(changes: Edits) -> None:
    data = _mutate(ZONE, changes)
    with bounded():
        fast = _read_zone(data, accelerated=True)
        slow = _read_zone(data, accelerated=False)
    assert fast == slow  # the accelerator and the reader agree on every input


@FUZZ
@given(st.binary(max_size=400))
def test_random_zone_bytes_are_read_or_refused(data: bytes) -> None:
    with bounded():
        _read_zone(data, accelerated=True)
