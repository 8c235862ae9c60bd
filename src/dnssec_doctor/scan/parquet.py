"""The scan's results as a Parquet dataset (pyarrow), for DuckDB, pandas or Spark.

The JSON Lines output is the record of the scan (it is what ``--resume`` continues); the
dataset is written from it when the scan ends, in parts of ``ROWS_PER_PART`` rows, so it
holds each name exactly once however often the scan was interrupted, and memory stays
bounded. Each part is written under a temporary name and renamed, and the parts of an
earlier dataset in the directory are replaced.

One row per name: ``name``, ``type``, ``verdict``, ``ede``, ``zone``, ``cause`` (the
primary cause's code), ``causes``, ``actors`` and ``warnings`` (lists of strings),
``queries`` and ``error``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dnssec_doctor.errors import UsageError

ROWS_PER_PART = 100_000
PART_GLOB = "part-*.parquet"


def _schema() -> Any:
    import pyarrow as pa

    strings = pa.list_(pa.string())
    return pa.schema(
        [
            ("name", pa.string()),
            ("type", pa.string()),
            ("verdict", pa.string()),
            ("ede", pa.int32()),
            ("zone", pa.string()),
            ("cause", pa.string()),
            ("causes", strings),
            ("actors", strings),
            ("warnings", strings),
            ("queries", pa.int32()),
            ("error", pa.string()),
        ]
    )


def _row(result: dict[str, Any]) -> dict[str, Any]:
    causes = [str(c.get("code")) for c in result.get("causes") or []]
    return {
        "name": result.get("name"),
        "type": result.get("type"),
        "verdict": result.get("verdict"),
        "ede": result.get("ede"),
        "zone": result.get("zone"),
        "cause": causes[0] if causes else None,
        "causes": causes,
        "actors": list(result.get("actors") or []),
        "warnings": list(result.get("warnings") or []),
        "queries": result.get("queries"),
        "error": result.get("error"),
    }


def _batches(jsonl: Path, size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    with jsonl.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                batch.append(_row(json.loads(line)))
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


def write_dataset(jsonl: Path, directory: Path, *, rows_per_part: int = ROWS_PER_PART) -> int:
    """Write the results of ``jsonl`` as the Parquet dataset ``directory``; return the
    number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create {directory}: {error.strerror}") from None
    schema = _schema()
    written: list[Path] = []
    rows = 0
    for index, batch in enumerate(_batches(jsonl, rows_per_part)):
        part = directory / f"part-{index:05d}.parquet"
        temporary = directory / f".part-{index:05d}.parquet.tmp"
        pq.write_table(pa.Table.from_pylist(batch, schema=schema), temporary)
        temporary.replace(part)
        written.append(part)
        rows += len(batch)
    for old in directory.glob(PART_GLOB):
        if old not in written:
            old.unlink()  # a part of an earlier, longer dataset
    return rows
