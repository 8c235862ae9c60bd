"""Scanning beyond one process: the names in partitions, on Dask (``dask.distributed``).

``--dask local:N`` starts a local cluster of N worker processes on this machine (its
scheduler on 127.0.0.1); ``--dask ADDRESS`` uses a running scheduler, deployed with Dask's
own tools (Kubernetes, HPC job queues, SSH). The only cluster code here is the
partitioning: each partition of names is one task, which runs the same asyncio scanner
(``engine.scan_questions``) in the worker with a cache of its own and returns its
results to this process, which writes them, counts them and keeps at most
``window`` partitions in flight (memory stays bounded). Dask reruns the tasks of a worker
that is lost; a partition's results are taken once, when its task completes, so no name
is lost or counted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any

from dnssec_doctor.errors import DoctorError, EnvironmentProblem, UsageError
from dnssec_doctor.probe.settings import ProbeSettings
from dnssec_doctor.scan.cache import CacheStats
from dnssec_doctor.scan.engine import Emit, ScanOptions, scan_questions
from dnssec_doctor.scan.names import Question

DEFAULT_PARTITION = 500
CONNECT_TIMEOUT = 5.0  # a scheduler that does not answer within it is unreachable
MAX_LOCAL_WORKERS = 64
_LOCAL = re.compile(r"^local:(\d+)$")


def parse_dask(text: str) -> tuple[str, int | str]:
    """``local:N`` or a scheduler address (``tcp://host:8786``, ``host:8786``)."""
    local = _LOCAL.match(text)
    if local:
        workers = int(local.group(1))
        if not 1 <= workers <= MAX_LOCAL_WORKERS:
            raise UsageError(f"--dask local:N takes 1 to {MAX_LOCAL_WORKERS} workers")
        return ("local", workers)
    if not text or any(c.isspace() for c in text) or text.startswith("local"):
        raise UsageError(
            f"--dask {text!r} is not a scheduler address or local:N",
            hint="tcp://scheduler:8786, or local:2 for two local worker processes",
        )
    return ("address", text)


@contextlib.contextmanager
def dask_client(spec: tuple[str, int | str]) -> Iterator[Any]:
    """A client of the cluster ``spec`` names (a local one is started and stopped)."""
    from distributed import Client, LocalCluster

    kind, value = spec
    if kind == "local":
        assert isinstance(value, int)
        with (
            LocalCluster(
                n_workers=value,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(str(value), timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise EnvironmentProblem(
            f"cannot reach the Dask scheduler at {value}: {reason}",
            hint="start it (dask scheduler) or check the address; local:N runs on this machine",
        ) from None
    with client:
        yield client


def scan_partition(
    questions: list[tuple[str, str, int]], settings: ProbeSettings, options: ScanOptions
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One task: the scanner over one partition, in a worker (analysis in-process: a
    Dask worker may not start processes of its own)."""
    results: list[dict[str, Any]] = []
    stats = asyncio.run(
        scan_questions(
            (Question(name, rdtype, line) for name, rdtype, line in questions),
            settings,
            ScanOptions(
                concurrency=min(options.concurrency, max(1, len(questions))),
                per_server_qps=options.per_server_qps,
                total_qps=options.total_qps,
                full=options.full,
                cache_entries=options.cache_entries,
                cache_bytes=options.cache_bytes,
                jobs=0,
            ),
            results.append,
        )
    )
    return results, stats.to_json()


def scan_on_dask(
    client: Any,
    questions: Iterator[Question],
    settings: ProbeSettings,
    options: ScanOptions,
    emit: Emit,
    *,
    skip: set[tuple[str, str]] | None = None,
    partition_size: int = DEFAULT_PARTITION,
    window: int | None = None,
) -> CacheStats:
    """Scan ``questions`` in partitions on the cluster; ``emit`` each result here."""
    from distributed import as_completed

    workers = max(1, len(client.scheduler_info().get("workers", {})))
    window = window or 2 * workers
    # Each worker's share of the global rate: the servers see the sum.
    shared = ScanOptions(
        concurrency=options.concurrency,
        per_server_qps=options.per_server_qps / workers,
        total_qps=options.total_qps / workers,
        full=options.full,
        cache_entries=options.cache_entries,
        cache_bytes=options.cache_bytes,
    )
    settings_future = client.scatter(settings, broadcast=True)
    stopped: list[DoctorError] = []
    wanted = (q for q in questions if skip is None or q.key not in skip)

    def next_partition() -> list[tuple[str, str, int]] | None:
        chunk: list[tuple[str, str, int]] = []
        try:
            while not stopped and len(chunk) < partition_size:
                question = next(wanted, None)
                if question is None:
                    break
                chunk.append((question.name, question.rdtype, question.line))
        except DoctorError as error:  # the names before the bad line are still scanned
            stopped.append(error)
        return chunk or None

    total = CacheStats()
    pending = as_completed()
    for _ in range(window):
        partition = next_partition()
        if partition is None:
            break
        pending.add(client.submit(scan_partition, partition, settings_future, shared, pure=False))
    for future in pending:
        results, stats = future.result()
        future.release()
        for result in results:
            emit(result)
        for key, value in stats.items():
            setattr(total, key, getattr(total, key) + value)
        partition = next_partition()
        if partition is not None:
            pending.add(
                client.submit(scan_partition, partition, settings_future, shared, pure=False)
            )
    if stopped:
        raise stopped[0]
    return total
