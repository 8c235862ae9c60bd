"""Input files built to hang or exhaust the CLI (issue 18, item 8 and the low items): a
FIFO, a device, a directory, a file too large, JSON nested too deeply, a snapshot whose
zone is its own parent, times that are not times. Each is one line on standard error and
exit 4, quickly; nothing loops or grows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from web_support import SNAPSHOTS


def doctor(*arguments: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dnssec_doctor", *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 4, (result.returncode, result.stderr[-2000:])
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 1200, result.stderr[:2000]
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def test_a_fifo_is_refused_not_waited_on(fifo: Path, tmp_path: Path) -> None:
    # Nobody ever writes to the FIFO: reading it would block for ever.
    assert_one_line(doctor("analyze", fifo, timeout=30), "it is a FIFO")
    assert_one_line(doctor("zone", "verify", fifo, timeout=30), "it is a FIFO")
    snapshot = SNAPSHOTS / "secure-nsec.json"
    assert_one_line(doctor("diff", fifo, snapshot, timeout=30), "it is a FIFO")


@pytest.mark.parametrize("option", ["--trust-anchor", "--root-hints"])
def test_anchor_and_hints_are_regular_files(option: str, fifo: Path) -> None:
    for path, kind in ((fifo, "a FIFO"), (Path("/dev/zero"), "a device")):
        result = doctor("probe", "example.", "-o", "/dev/null", option, path, timeout=30)
        assert_one_line(result, f"it is {kind}")


def test_devices_and_directories_say_what_they_are(tmp_path: Path) -> None:
    assert_one_line(doctor("zone", "verify", "/dev/null"), "it is a device")
    assert_one_line(doctor("zone", "verify", tmp_path), "it is a directory")
    assert_one_line(doctor("analyze", "/dev/zero"), "it is a device")
    assert_one_line(doctor("zone", "verify", tmp_path / "nothing"), "no such file")


def test_deeply_nested_json_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "nested.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    assert_one_line(doctor("analyze", path), "nested too deeply")


def _snapshot(tmp_path: Path, change: dict[str, object]) -> Path:
    data = json.loads((SNAPSHOTS / "secure-nsec.json").read_text())
    data.update(change)
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data))
    return path


def test_a_zone_that_is_its_own_parent_is_refused(tmp_path: Path) -> None:
    data = json.loads((SNAPSHOTS / "secure-nsec.json").read_text())
    zones = data["zones"]
    zones[-1]["parent"] = zones[-1]["zone"]
    assert_one_line(doctor("analyze", _snapshot(tmp_path, {"zones": zones})), "its own parent")
    zones[-1]["parent"] = "www." + zones[-1]["zone"]  # below itself: a loop too
    assert_one_line(doctor("analyze", _snapshot(tmp_path, {"zones": zones})), "not above")


@pytest.mark.parametrize("when", ["nan", "inf", "-inf", 1e20, -1e12])
def test_times_that_are_not_times(tmp_path: Path, when: object) -> None:
    text = json.dumps(json.loads((SNAPSHOTS / "secure-nsec.json").read_text()))
    data = json.loads(text)
    data["collected_at"] = float(when) if isinstance(when, str) else when
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data))  # NaN and Infinity: Python's JSON reads them back
    assert_one_line(doctor("analyze", path), "collected_at")
    data = json.loads(text)
    data["exchanges"][0]["sent_at"] = data["finished_at"] = float("nan")
    path.write_text(json.dumps(data))
    assert_one_line(doctor("analyze", path), "not a time")


def test_a_response_larger_than_dns_allows_is_refused(tmp_path: Path) -> None:
    import base64

    data = json.loads((SNAPSHOTS / "secure-nsec.json").read_text())
    data["exchanges"][0]["response"] = base64.b64encode(b"\0" * 70_000).decode()
    assert_one_line(doctor("analyze", _snapshot(tmp_path, data)), "65535")


def test_an_oversize_snapshot_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:  # sparse: no disk used
        handle.truncate(600 << 20)
    assert_one_line(doctor("analyze", path), "larger than the 512 MiB")


def test_an_error_about_a_huge_line_stays_one_short_line(tmp_path: Path) -> None:
    path = tmp_path / "nul.zone"
    path.write_bytes(b"\0" * 5_000_000)  # a line of 5 MB of NULs
    result = doctor("zone", "verify", path)
    assert_one_line(result, str(path))


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--timeout", "inf"], "at most 3600"),
        (["--deadline", "inf"], "at most 3600"),
        (["--deadline", "nan"], "at most 3600"),
    ],
)
def test_unbounded_timeouts_are_refused(arguments: list[str], fragment: str) -> None:
    result = doctor("probe", "example.", "-o", "/dev/null", *arguments)
    assert_one_line(result, fragment)


@pytest.mark.parametrize("rdtype", ["RRSIG", "SIG", "TYPE0"])
def test_types_that_are_not_checked_on_their_own(rdtype: str) -> None:
    assert_one_line(doctor("probe", "example.", rdtype, "-o", "/dev/null"), rdtype)
