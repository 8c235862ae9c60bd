"""The scanner: many checks at once in one process, on asyncio, sharing one cache.

Each name gets exactly what ``check`` does — its own collector walks from the root and
asks every question, its snapshot is analysed and diagnosed with the same code — but the
collectors ask through one ``CachingTransport``, so what names have in common (the root
and TLD answers, referrals, a dead server) crosses the network once per TTL.

Memory stays bounded: names are read as workers free up (a queue of ``concurrency``),
each result is handed to ``emit`` as soon as it is made and not kept, the cache has a
bound of its own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import functools
import multiprocessing
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dnssec_doctor.errors import DoctorError
from dnssec_doctor.model.snapshot import Snapshot
from dnssec_doctor.pipeline import analysis_options, analyze
from dnssec_doctor.probe.collect import collect_snapshot
from dnssec_doctor.probe.settings import ProbeSettings
from dnssec_doctor.probe.transport import NetworkTransport, Transport
from dnssec_doctor.scan.cache import DEFAULT_CACHE_BYTES, CacheStats, CachingTransport
from dnssec_doctor.scan.defaults import (
    DEFAULT_CONCURRENCY,
    DEFAULT_QPS,
    DEFAULT_QPS_PER_SERVER,
)
from dnssec_doctor.scan.names import Question
from dnssec_doctor.scan.results import error_result, result_of

LAG_LIMIT = 0.1  # seconds the event loop may run late before new names wait
# The event loop running this late, as a share of the query timeout, is an overload: the
# timeouts of answers waiting for their turn come close to firing.
LAG_OVERLOAD = 0.25
MIN_WINDOW = 4  # names at once, however overloaded the machine
START_WINDOW = 8  # names at once at the start, growing while answers come in time


@dataclass(frozen=True)
class ScanOptions:
    concurrency: int = DEFAULT_CONCURRENCY
    per_server_qps: float = DEFAULT_QPS_PER_SERVER
    total_qps: float = DEFAULT_QPS
    full: bool = False  # each result carries the whole check --json report
    cache_entries: int = 200_000
    cache_bytes: int = DEFAULT_CACHE_BYTES  # memory for kept answers and referrals
    jobs: int = os.cpu_count() or 1  # processes that analyse (0: a thread of this one)


Emit = Callable[[Any], None]
# What a name's snapshot becomes (run in the analysis pool: a module-level function or a
# functools.partial of one, so that it can be pickled), and what a failure becomes.
Judge = Callable[[Snapshot], Any]
OnError = Callable[[Question, str], Any]


async def scan_questions(
    questions: Iterator[Question],
    settings: ProbeSettings,
    options: ScanOptions,
    emit: Emit,
    *,
    skip: set[tuple[str, str]] | None = None,
    transport: Transport | None = None,
    clock: Callable[[], float] = time.time,
    judge: Judge | None = None,
    on_error: OnError | None = None,
) -> CacheStats:
    """Check every question not in ``skip``; ``emit`` each result as it is made. An
    error in the input (a malformed line) stops the reading: the names already taken
    are finished and emitted, then the error is raised."""
    # Analysed in other processes: the probe parses only what its walk follows (each
    # process would parse every response again).
    settings = dataclasses.replace(settings, read_ahead=options.jobs == 0)
    window = Window(options.concurrency, cooldown=settings.timeout)
    cache = CachingTransport(
        transport or NetworkTransport(),
        max_entries=options.cache_entries,
        max_bytes=options.cache_bytes,
        timeout=settings.timeout,
        per_server_qps=options.per_server_qps,
        total_qps=options.total_qps,
        on_rescue=window.congested,
    )
    queue: asyncio.Queue[Question | None] = asyncio.Queue(maxsize=options.concurrency)
    stopped: list[DoctorError] = []

    async def produce() -> None:
        try:
            for question in questions:
                if skip is not None and question.key in skip:
                    continue
                await queue.put(question)
        except DoctorError as error:
            stopped.append(error)
        finally:
            for _ in range(options.concurrency):
                await queue.put(None)

    lag = _LoopLag(window, overload=settings.timeout * LAG_OVERLOAD)
    judge = judge or functools.partial(judge_scan, full=options.full)
    on_error = on_error or _error_result

    with _analysis_pool(options.jobs) as pool:

        async def work() -> None:
            while (question := await queue.get()) is not None:
                await lag.settled()
                async with window.slot():
                    result = await check_question(
                        question, settings, cache, judge, on_error, pool, clock=clock
                    )
                emit(result)

        watcher = asyncio.ensure_future(lag.watch())
        try:
            await asyncio.gather(produce(), *(work() for _ in range(options.concurrency)))
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    cache.stats.overloads = window.halvings
    if stopped:
        raise stopped[0]
    return cache.stats


class Window:
    """How many names run at once: at most ``limit``, fewer while the machine cannot keep
    up. An overloaded machine (the scanner's CPU, the servers', the network) answers later
    than the timeout, and a late answer counted as none would be a false verdict
    (DNSKEY_MISSING, ZONE_UNREACHABLE). So the window starts small and grows by one name
    a name finished (doubling each round) until the first overload — a timeout that a
    retry answered, or the event loop running a quarter of the timeout late —, which
    halves it, at most once per ``cooldown`` seconds (one overload, one halving); then it
    grows by one name a round (additive increase, multiplicative decrease, as TCP shares
    a link), never beyond ``limit`` nor below ``MIN_WINDOW``."""

    def __init__(
        self, limit: int, *, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.size = float(min(limit, START_WINDOW))
        self.cooldown = cooldown
        self.clock = clock
        self.active = 0
        self.halvings = 0
        self.last_halving: float | None = None
        self._freed = asyncio.Event()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        while self.active >= int(self.size):
            self._freed.clear()
            await self._freed.wait()
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
            self._grow()
            self._freed.set()

    def congested(self) -> None:
        now = self.clock()
        if self.last_halving is not None and now - self.last_halving < self.cooldown:
            return
        self.last_halving = now
        self.halvings += 1
        self.size = max(float(min(MIN_WINDOW, self.limit)), self.size / 2)

    def _grow(self) -> None:
        if self.last_halving is None:
            self.size = min(float(self.limit), self.size + 1)  # slow start
        else:
            self.size = min(float(self.limit), self.size + 1 / self.size)


class _LoopLag:
    """How late the event loop runs its callbacks. A loop with more work than CPU runs
    every callback late, a reply's among them, and its timeouts fire for answers that
    came in time: no new name is started while the loop lags more than ``LAG_LIMIT``,
    and the window of names at once is halved when it lags ``overload`` seconds."""

    TICK = 0.05

    def __init__(self, window: Window, *, overload: float) -> None:
        self.lag = 0.0
        self.window = window
        self.overload = overload  # seconds late that halve the window

    async def watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.TICK)
            self.lag = loop.time() - before - self.TICK
            if self.lag > self.overload:
                self.window.congested()

    async def settled(self) -> None:
        while self.lag > LAG_LIMIT:
            await asyncio.sleep(self.TICK)


@contextlib.contextmanager
def _analysis_pool(jobs: int) -> Iterator[concurrent.futures.Executor]:
    """Processes for the analysis (``jobs`` 0: one thread of this process, for Dask
    workers, which may not start processes). Spawned, not forked: the parent runs an
    event loop and perhaps a progress thread."""
    if jobs == 0:
        # A thread, not the event loop's own: the interpreter switches threads every few
        # milliseconds, so a 20 ms analysis never holds up the replies of other names.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as threads:
            yield threads
        return
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        yield pool


async def check_question(
    question: Question,
    settings: ProbeSettings,
    transport: Transport,
    judge: Judge,
    on_error: OnError,
    pool: concurrent.futures.Executor | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> Any:
    """One name's check through the shared transport, judged by ``judge``. The analysis
    runs in ``pool``: a long computation in the event loop would hold up the answers of
    every other name until their timeouts fire."""
    try:
        snapshot = await collect_snapshot(
            question.name, question.rdtype, settings, transport, clock=clock
        )
        if pool is None:
            return judge(snapshot)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, judge, snapshot)
    except Exception as error:  # a bug on one name must not stop the scan of the rest
        return on_error(question, f"internal error: {type(error).__name__}: {error}")


def judge_scan(snapshot: Snapshot, full: bool = False) -> dict[str, Any]:
    """The analysis and diagnosis of ``check``, as a scan result (run in a worker)."""
    return result_of(analyze(snapshot, analysis_options(snapshot)), full=full)


def _error_result(question: Question, message: str) -> dict[str, Any]:
    return error_result(question.name, question.rdtype, message)


def scan(
    questions: Iterator[Question],
    settings: ProbeSettings,
    options: ScanOptions,
    emit: Emit,
    *,
    skip: set[tuple[str, str]] | None = None,
) -> CacheStats:
    """``scan_questions`` for callers without an event loop."""
    return asyncio.run(scan_questions(questions, settings, options, emit, skip=skip))
