"""The one-shot check's probe in a forked child (probe/forked.py): what the parent gets back.

Real forks, no network: each probe here is a function that builds a snapshot, raises, or
ends its process the way a probe's process can end. The lab's own checks go through the
same path (``python -m dnssec_doctor check`` in test_cli_check.py and the scenario tests).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

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


def test_the_parent_gets_the_childs_snapshot_whole(reaped: None) -> None:
    # Larger than a pipe's buffer (64 KiB), so the two processes must stream it.
    sent = snapshot(response=bytes(range(256)) * 250, exchanges=12)
    assert forked.probe_beside(lambda: sent, nothing) == sent


def test_the_probe_runs_in_another_process_while_this_one_loads(reaped: None) -> None:
    loaded_in: list[int] = []
    got = forked.probe_beside(
        lambda: snapshot(note=f"probed in {os.getpid()}"),
        lambda: loaded_in.append(os.getpid()),
    )
    assert loaded_in == [os.getpid()]
    assert got.notes != (f"probed in {os.getpid()}",)
    assert got.notes[0].startswith("probed in ")


def test_a_one_shot_check_probes_in_a_child(monkeypatch: pytest.MonkeyPatch, reaped: None) -> None:
    monkeypatch.setattr(pipeline, "_one_shot", True)
    monkeypatch.setattr(pipeline, "load_analysis", nothing)
    got = pipeline.probe_in_child(lambda: snapshot(note=str(os.getpid())))
    assert got is not None
    assert got.notes != (str(os.getpid()),)


def test_elsewhere_the_caller_probes_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "_one_shot", False)
    assert pipeline.probe_in_child(lambda: snapshot()) is None


def test_no_fork_while_another_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not forked.can_fork()
        monkeypatch.setattr(pipeline, "_one_shot", True)
        assert pipeline.probe_in_child(lambda: snapshot()) is None
    finally:
        release.set()
        thread.join()
    assert forked.can_fork()


def test_the_childs_error_is_raised_here_as_it_was(reaped: None) -> None:
    def probe() -> Snapshot:
        raise UsageError("invalid name 'a..b': A DNS label is empty.", hint="fix the name")

    with pytest.raises(UsageError) as raised:
        forked.probe_beside(probe, nothing)
    assert str(raised.value) == "invalid name 'a..b': A DNS label is empty. (fix: fix the name)"


def test_an_error_that_cannot_travel_is_named(reaped: None) -> None:
    class Local(Exception):  # a class pickle cannot find by name
        pass

    def probe() -> Snapshot:
        raise Local("the probe's own words")

    with pytest.raises(RuntimeError, match="Local: the probe's own words"):
        forked.probe_beside(probe, nothing)


def test_a_child_killed_by_a_signal_is_an_environment_problem(reaped: None) -> None:
    def probe() -> NoReturn:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("not reached")

    with pytest.raises(EnvironmentProblem, match=r"signal 9 \(SIGKILL\)"):
        forked.probe_beside(probe, nothing)


def test_a_child_that_ends_without_a_snapshot_is_a_bug_reported(reaped: None) -> None:
    def probe() -> NoReturn:
        os._exit(3)

    with pytest.raises(RuntimeError, match="without handing back the snapshot"):
        forked.probe_beside(probe, nothing)


def test_an_interrupted_child_interrupts_the_check(reaped: None) -> None:
    def probe() -> NoReturn:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        forked.probe_beside(probe, nothing)


def test_a_failing_parent_kills_and_reaps_its_child(reaped: None, tmp_path: Path) -> None:
    finished = tmp_path / "finished"

    def probe() -> Snapshot:
        import time

        time.sleep(30)
        finished.write_text("the child was left running")
        return snapshot()

    def load() -> None:
        raise KeyboardInterrupt  # Ctrl-C while the analysis loads

    with pytest.raises(KeyboardInterrupt):
        forked.probe_beside(probe, load)
    assert not finished.exists()
