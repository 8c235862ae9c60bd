"""The one-shot check's probe in a forked child (probe/forked.py): what the parent gets back.

Real forks, no network: each probe here is a function that builds a snapshot, raises, or
ends its process the way a probe's process can end. The lab's own checks go through the
same path (``python -m dnssec_doctor check`` in test_cli_check.py and the scenario tests).
"""

from __future__ import annotations

import collections
import errno
import faulthandler
import fcntl
import os
import pty
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import dns.message
import dns.rrset
import pytest

from dnssec_doctor import pipeline
from dnssec_doctor.errors import EnvironmentProblem, UsageError
from dnssec_doctor.model.snapshot import (
    Exchange,
    Purpose,
    Role,
    Server,
    Snapshot,
    Transport,
    ZoneCut,
)
from dnssec_doctor.probe import forked
from test_startup import run_as

Answers = Callable[[bytes], None]
ROOT = Server("a.root-servers.net.", "127.53.0.1")
ROOT_DS = ". 3600 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"


def snapshot(response: bytes = b"\x00" * 12, note: str = "", exchanges: int = 1) -> Snapshot:
    return Snapshot(
        name="www.example.",
        rdtype="A",
        collected_at=1_700_000_000.0,
        finished_at=1_700_000_001.5,
        trust_anchors=(ROOT_DS,),
        zones=(ZoneCut(".", None, (ROOT,), "www.example."),),
        exchanges=tuple(exchange(i, response) for i in range(1, exchanges + 1)),
        targets=(("www.example.", "A"),),
        notes=(note,) if note else (),
        extra={"skipped": [{"server": "127.53.0.2", "why": "dead"}]},
    )


def exchange(id: int, response: bytes) -> Exchange:
    return Exchange(
        id=id,
        role=Role.AUTHORITATIVE,
        purpose=Purpose.REFERRAL,
        zone=".",
        server=ROOT,
        qname="www.example.",
        qtype="A",
        rd=False,
        cd=False,
        do=True,
        transport=Transport.UDP,
        sent_at=1_700_000_000.25,
        duration=0.001,
        response=response,
    )


def nothing() -> None:
    pass


def children() -> set[int]:
    """This process's children, running or not yet reaped (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            if int(stat.rpartition(")")[2].split()[1]) == os.getpid():
                found.add(int(entry.name))
    return found


@pytest.fixture
def reaped() -> Iterator[None]:
    """No child is left behind by the test, running or unreaped (the lab's servers,
    started by other tests, may be children of this process too)."""
    before = children()
    yield
    assert children() <= before


def test_a_child_may_hand_back_what_a_snapshot_file_may_hold() -> None:
    assert forked.MAX_DOCUMENT_BYTES == pipeline.MAX_INPUT_BYTES


def test_the_parent_gets_the_childs_snapshot_whole(reaped: None) -> None:
    # Larger than a pipe's buffer (64 KiB), so the two processes must stream it.
    sent = snapshot(response=bytes(range(256)) * 250, exchanges=12)
    assert forked.probe_beside(lambda answers: sent, nothing) == sent


def test_the_probe_runs_in_another_process_while_this_one_loads(reaped: None) -> None:
    loaded_in: list[int] = []
    got = forked.probe_beside(
        lambda answers: snapshot(note=f"probed in {os.getpid()}"),
        lambda: loaded_in.append(os.getpid()),
    )
    assert loaded_in == [os.getpid()]
    assert got.notes != (f"probed in {os.getpid()}",)
    assert got.notes[0].startswith("probed in ")


def test_a_one_shot_check_probes_in_a_child(monkeypatch: pytest.MonkeyPatch, reaped: None) -> None:
    monkeypatch.setattr(pipeline, "_one_shot", True)
    monkeypatch.setattr(forked, "can_fork", lambda: True)  # other tests' threads aside
    monkeypatch.setattr(pipeline, "load_analysis", nothing)
    got = pipeline.probe_in_child(lambda answers: snapshot(note=str(os.getpid())))
    assert got is not None
    assert got.notes != (str(os.getpid()),)


def test_elsewhere_the_caller_probes_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "_one_shot", False)
    assert pipeline.probe_in_child(lambda answers: snapshot()) is None


def test_no_fork_while_another_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not forked.can_fork()
        monkeypatch.setattr(pipeline, "_one_shot", True)
        assert pipeline.probe_in_child(lambda answers: snapshot()) is None
    finally:
        release.set()
        thread.join()


def test_the_answers_reach_the_parent_in_order_before_the_snapshot(reaped: None) -> None:
    """The child hands each response over as it arrives; this process takes them once it
    has loaded, while the child goes on. One too large to go over at once is left out (a
    head start only: the snapshot holds every response)."""
    sent = [bytes([n]) * (100 + n) for n in range(20)]
    large = b"x" * (select.PIPE_BUF + 1)
    taken: list[bytes] = []

    def probe(answers: Answers) -> Snapshot:
        for wire in (*sent[:10], large, *sent[10:]):
            answers(wire)
        return snapshot(note="probed")

    got = forked.probe_beside(probe, nothing, taken.append)
    assert got == snapshot(note="probed")
    assert taken == sent


def test_answers_more_than_the_pipe_holds_never_hold_the_probe_up(reaped: None) -> None:
    """This process reads nothing until it has loaded: the child must not wait for it
    (here this process waits, before it reads a byte, for the child to say it is done)."""
    done_read, done_write = os.pipe()
    taken: list[bytes] = []

    def probe(answers: Answers) -> Snapshot:
        for n in range(200):  # 200 x 4 KB: more than a pipe's 64 KiB
            answers(n.to_bytes(2, "big") * 2000)
        os.write(done_write, b"!")
        return snapshot()

    def load() -> None:
        ready, _, _ = select.select([done_read], [], [], 60)
        assert ready, "the child was held up by a pipe nobody read"

    try:
        got = forked.probe_beside(probe, load, taken.append)
    finally:
        os.close(done_read)
        os.close(done_write)
    assert got == snapshot()
    assert 0 < len(taken) < 200  # what fitted went over, the rest was left out
    assert taken == [n.to_bytes(2, "big") * 2000 for n in range(len(taken))]


def test_a_failing_take_costs_nothing_but_its_head_start(reaped: None) -> None:
    def take(wire: bytes) -> None:
        raise ValueError("the analysis's parser failed")

    got = forked.probe_beside(lambda answers: (answers(b"\x00" * 12), snapshot())[1], nothing, take)
    assert got == snapshot()


def test_a_one_shot_check_parses_the_answers_while_its_child_probes(
    monkeypatch: pytest.MonkeyPatch, reaped: None
) -> None:
    """The analysis then finds each answer parsed (analysis.wire keeps parses by bytes)."""
    from dnssec_doctor.analysis import wire as parsed

    query = dns.message.make_query("www.example.", "A")
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text("www.example.", 60, "IN", "A", "192.0.2.7"))
    data = response.to_wire()
    monkeypatch.setattr(pipeline, "_one_shot", True)
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    monkeypatch.setattr(pipeline, "load_analysis", nothing)
    monkeypatch.setattr(parsed, "_parsed", collections.OrderedDict())  # this test's own
    monkeypatch.setattr(parsed, "_parsed_wire", 0)
    pipeline.probe_in_child(lambda answers: (answers(data), snapshot())[1])
    with parsed._parsed_lock:
        assert data[2:] in parsed._parsed


def test_the_childs_error_is_raised_here_as_it_was(reaped: None) -> None:
    def probe(answers: Answers) -> Snapshot:
        raise UsageError("invalid name 'a..b': A DNS label is empty.", hint="fix the name")

    with pytest.raises(UsageError) as raised:
        forked.probe_beside(probe, nothing)
    assert str(raised.value) == "invalid name 'a..b': A DNS label is empty. (fix: fix the name)"


def test_an_error_that_cannot_travel_is_named(reaped: None) -> None:
    class Local(Exception):  # a class pickle cannot find by name
        pass

    def probe(answers: Answers) -> Snapshot:
        raise Local("the probe's own words")

    with pytest.raises(RuntimeError, match="Local: the probe's own words"):
        forked.probe_beside(probe, nothing)


def test_a_child_killed_by_a_signal_is_an_environment_problem(reaped: None) -> None:
    def probe(answers: Answers) -> NoReturn:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("not reached")

    with pytest.raises(EnvironmentProblem, match=r"signal 9 \(Killed\)") as raised:
        forked.probe_beside(probe, nothing)
    assert "dmesg" in str(raised.value)


def test_a_child_that_crashes_is_a_bug_reported(reaped: None) -> None:
    def probe(answers: Answers) -> NoReturn:
        faulthandler.disable()  # pytest's: it would print this process's stack first
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core of a copy of pytest
        os.kill(os.getpid(), signal.SIGSEGV)
        raise AssertionError("not reached")

    with pytest.raises(RuntimeError, match=r"crashed: signal 11"):
        forked.probe_beside(probe, nothing)


def test_a_child_that_ends_without_a_snapshot_is_a_bug_reported(reaped: None) -> None:
    def probe(answers: Answers) -> NoReturn:
        os._exit(3)

    with pytest.raises(RuntimeError, match="exit status 3 without handing back"):
        forked.probe_beside(probe, nothing)


def test_a_document_cut_short_is_never_read() -> None:
    """The child killed while it wrote: what arrived is half a JSON document, and the exit
    status says so (a whole document comes with exit 0)."""
    whole = forked.SNAPSHOT + snapshot().dumps().encode()
    killed = int(signal.SIGKILL)  # a wait status: killed by the signal, no core
    with pytest.raises(EnvironmentProblem, match="signal 9"):
        forked._decode(whole[: len(whole) // 2], killed)
    with pytest.raises(RuntimeError, match="exit status 1"):
        forked._decode(whole[: len(whole) // 2], 1 << 8)
    assert forked._decode(whole, 0) == snapshot()


def test_an_interrupted_child_interrupts_the_check(reaped: None) -> None:
    def probe(answers: Answers) -> NoReturn:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        forked.probe_beside(probe, nothing)


def test_a_failing_parent_kills_and_reaps_its_child(reaped: None) -> None:
    """The child would probe for a minute; the parent fails at once (a bug of its own, so
    no grace): the child is killed and reaped (the fixture), the failure raised."""

    def probe(answers: Answers) -> Snapshot:
        time.sleep(60)
        return snapshot()

    def load() -> None:
        raise ValueError("the analysis failed to load")

    started = time.monotonic()
    with pytest.raises(ValueError, match="failed to load"):
        forked.probe_beside(probe, load)
    assert time.monotonic() - started < 10


def test_where_no_thread_can_start_the_check_still_runs(
    monkeypatch: pytest.MonkeyPatch, reaped: None
) -> None:
    """A process limit (a pids cgroup) that still lets the probe fork: its child goes on
    without the thread that watches for the parent's end, and the in-process path without
    the thread that loads the analysis."""
    import threading

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert forked.probe_beside(lambda answers: snapshot(), nothing) == snapshot()
    assert pipeline.load_analysis_in_background() is None


def test_no_fork_where_children_are_reaped_unasked() -> None:
    """SIGCHLD ignored (as some supervisors leave it): the child's exit status, which says
    whether its document is whole, would be lost, so the probe stays in this process."""
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        assert not forked.can_fork()
    finally:
        signal.signal(signal.SIGCHLD, previous)


def test_a_fork_that_fails_leaves_the_probe_to_the_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process limit (EAGAIN) or no memory for the copy (ENOMEM): no check fails for it;
    nothing is left open, and Ctrl-C is not left blocked."""

    def refuse() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    descriptors = len(list(Path("/proc/self/fd").iterdir()))
    assert forked.probe_beside(lambda answers: snapshot(), nothing) is None
    assert len(list(Path("/proc/self/fd").iterdir())) == descriptors
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    monkeypatch.setattr(pipeline, "_one_shot", True)
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    assert pipeline.probe_in_child(lambda answers: snapshot()) is None


def test_output_buffered_before_the_fork_is_written_once() -> None:
    script = (
        "import sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from test_forked_probe import snapshot, nothing\n"
        "from dnssec_doctor.probe import forked\n"
        "print('before', end='')  # a pipe: buffered, not yet written\n"
        "forked.probe_beside(lambda answers: snapshot(), nothing)\n"
        "print(' after')\n"
    )
    assert run_as(script) == "before after\n"


def screen(output: str) -> list[str]:
    """The lines a terminal shows for ``output`` (a carriage return goes back to the
    line's start, what follows overwrites it; ESC [ K erases to the line's end)."""
    lines: list[str] = []
    line: list[str] = []
    column = skip = 0
    for index, character in enumerate(output):
        if character == "\n":
            lines.append("".join(line).rstrip())
            line, column = [], 0
        elif character == "\r":
            column = 0
        elif skip:
            skip -= 1
        elif output.startswith("\x1b[K", index):
            del line[column:]  # erase to the end of the line
            skip = 2  # the "[K" that follows
        else:
            line[column : column + 1] = [character]
            column += 1
    if line:
        lines.append("".join(line).rstrip())
    return lines


def session_members(leader: int) -> set[int]:
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[3]) == leader:  # the session id
                members.add(int(entry.name))
    return members


@pytest.mark.lab
def test_ctrl_c_during_a_check_ends_both_processes_with_one_clean_line(tmp_path: Path) -> None:
    """A check whose root server never answers, interrupted from the keyboard (SIGINT to
    its process group) while its probe's child waits, on a 40-column terminal: the progress
    line never wider than it, then exit 130, the line erased, one line saying so, and no
    process left behind."""
    address = "127.53.202.1"
    hints = tmp_path / "root.hints"
    hints.write_text(f". 3600 IN NS a.root-servers.net.\na.root-servers.net. 3600 IN A {address}\n")
    anchor = tmp_path / "anchor.ds"
    anchor.write_text(f"{ROOT_DS}\n")
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind((address, 53))  # never read: every query waits its whole timeout
    primary, secondary = pty.openpty()
    # A narrow terminal: a line wider than it would wrap, and clearing it would leave its
    # first rows behind.
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 40, 0, 0))
    try:
        check = subprocess.Popen(
            [
                *(sys.executable, "-m", "dnssec_doctor", "check", "www.example.com"),
                *("--root-hints", str(hints), "--trust-anchor", str(anchor)),
                *("--no-resolvers", "--timeout", "30"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=secondary,
            start_new_session=True,
        )
        os.close(secondary)
        shown = b""
        deadline = time.monotonic() + 30
        while b"probing" not in shown and time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                shown += os.read(primary, 4096)
        assert b"probing" in shown, shown  # the child drew its line
        os.killpg(check.pid, signal.SIGINT)
        try:
            stdout, _ = check.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(check.pid, signal.SIGKILL)
            raise
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the terminal's other end closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        silent.close()
        os.close(primary)
    assert check.returncode == 130
    assert stdout == b""
    drawn = [part for part in shown.decode().split("\r") if "probing" in part]
    assert all(len(part) <= 39 for part in drawn), drawn
    lines = [line for line in screen(shown.decode()) if line]
    assert lines == ["dnssec-doctor: interrupted"], shown
    assert session_members(check.pid) == set()


def test_the_progress_line_never_wraps_on_a_narrow_terminal() -> None:
    """A line wider than the terminal wraps, and clearing it would leave its first rows
    behind: it is cut below the terminal's width."""
    from dnssec_doctor.progress import ProgressLine

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 40, 0, 0))
    with os.fdopen(secondary, "w") as terminal:
        line = ProgressLine(terminal)
        line("zone", "a-rather-long-zone-name.example.")
        line.clear()
    shown = os.read(primary, 4096).decode()
    os.close(primary)
    drawn = [part for part in shown.split("\r") if "probing" in part]
    assert drawn and all(len(part) <= 39 for part in drawn), drawn
    assert [row for row in screen(shown) if row] == []
