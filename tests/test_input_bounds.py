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


# Linux keeps a process's peak RSS across exec, and a child started by vfork (as subprocess
# does) takes its parent's: spawned from pytest, the CLI would report pytest's own peak.
# A small launcher process starts the CLI and reports the peak of that child alone.
_LAUNCHER = """
import resource, subprocess, sys
completed = subprocess.run(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(completed.returncode)
"""


def _peak_kib(arguments: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the CLI and measure its own peak memory in KiB."""
    report = tmp_path / "peak-kib"
    command = [sys.executable, "-m", "dnssec_doctor", *arguments]
    result = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(report), *command],
        capture_output=True,
        text=True,
        check=False,
    )
    return result, int(report.read_text())


def test_a_gigabyte_of_nuls_is_one_line_in_little_memory(tmp_path: Path) -> None:
    path = tmp_path / "nul.zone"
    with path.open("wb") as handle:  # sparse: 1 GiB of NULs, no disk used
        handle.truncate(1 << 30)
    result, peak = _peak_kib(["zone", "verify", str(path)], tmp_path)
    assert_one_line(result, f"{path}, line 1: a line or record longer than 1 MiB")
    assert peak < 200 * 1024, peak  # KiB: the file is neither read whole nor quoted


ZONE_HEAD = "example. 300 IN SOA ns1.example. hostmaster.example. 1 7200 3600 1209600 300\n"


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("x" * 2_000_000 + "\n", 2),  # one long token
        ("; " + "x" * 2_000_000 + "\n", 2),  # a comment the accelerator would skip
        (" " * 2_000_000 + "\n", 2),  # a blank line
        ("www 300 IN TXT ( " + "\n" * 2_000_000 + ")\n", 2),  # a record that never closes
    ],
    ids=["token", "comment", "blank", "parenthesis"],
)
def test_over_long_lines_are_refused_where_they_are(body: str, line: int, tmp_path: Path) -> None:
    path = tmp_path / "long.zone"
    path.write_text(ZONE_HEAD + body + "www 300 IN A 192.0.2.1\n")
    assert_one_line(doctor("zone", "verify", path), f"line {line}: a line or record longer than")


def test_the_accelerator_hands_over_at_the_same_length() -> None:
    from dnssec_doctor.zonefile import _fastread, reader

    assert _fastread.MAX_RECORD_TEXT == reader.MAX_RECORD_TEXT


@pytest.mark.parametrize("origin", [[], ["--origin", "example."]])
def test_a_file_that_is_no_zone_file_is_not_quoted_back(origin: list[str], tmp_path: Path) -> None:
    """zone verify run on /etc/shadow (by a user allowed to run it as root) must not print
    the file's lines: errors say where, never what."""
    secret = "$y$j9T$Hk1oNmO0rEaLlYsEcReT$" + "Q" * 43
    path = tmp_path / "shadow"
    path.write_text(f"root:{secret}:20228:0:99999:7:::\ndaemon:*:20228:0:99999:7:::\n")
    result = doctor("zone", "verify", *origin, path)
    assert_one_line(result, f"{path}, line 1:")
    assert "root" not in result.stderr.replace(str(path), "")
    assert secret[:8] not in result.stderr and "20228" not in result.stderr


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


@pytest.mark.parametrize(
    "command",
    [
        ["watch", "example.", "--db", "/nonexistent/watch.sqlite", "--runs", "1", "--interval"],
        ["go-insecure", "example.", "--once", "--interval"],
        ["go-insecure", "example.", "--once", "--give-up-after"],
    ],
)
@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0x10"])
def test_poll_intervals_are_durations(command: list[str], value: str) -> None:
    """Read by the one duration parser (5m, 1h, 300): nan would reach sleep() and crash."""
    assert_one_line(doctor(*command, value), "invalid duration")
