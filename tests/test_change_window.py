"""Change windows on real servers: a KSK rollover played step by step on a hierarchy of
our own (NSD, through lab.changes.Stage), compared with ``diff``; the planned-DS
pre-flight; ``go-insecure`` refusing while a DS remains and approving once it is gone and
its TTL has passed (with a fake clock)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dnssec_doctor.change.diff import Decision, Diff, Impact, Kind, diff_states
from dnssec_doctor.change.insecure import Phase, Status, read_parent_view, run_go_insecure
from dnssec_doctor.change.state import SnapshotState, read_state
from dnssec_doctor.cli import main
from dnssec_doctor.diagnosis.report import build_report
from dnssec_doctor.lab import runtime
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.snapshot import Snapshot
from rollover_stage import DS_TTL, RolloverStage

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolloverStage]:
    runtime.check_environment()
    staged = RolloverStage(tmp_path_factory.mktemp("stage"))
    try:
        yield staged
    finally:
        staged.close()


def _state(snapshot: Snapshot) -> SnapshotState:
    return read_state(build_report(snapshot, AnalysisOptions(now=snapshot.finished_at)))


def _kinds(diff: Diff, impact: Impact) -> set[Kind]:
    return {c.kind for c in diff.changes if c.impact is impact}


def test_rollover_in_steps_is_approved_and_unsafe_orders_are_flagged(
    stage: RolloverStage, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    k1, k2 = stage.ksk1, stage.ksk2
    steps = {
        "start": dict(published=[k1], signers=[k1], ds=[stage.ds(k1)]),
        "publish new KSK": dict(published=[k1, k2], signers=[k1, k2], ds=[stage.ds(k1)]),
        "add its DS": dict(published=[k1, k2], signers=[k1, k2], ds=[stage.ds(k1), stage.ds(k2)]),
        "remove old DS": dict(published=[k1, k2], signers=[k1, k2], ds=[stage.ds(k2)]),
        "remove old KSK": dict(published=[k2], signers=[k2], ds=[stage.ds(k2)]),
    }
    snapshots: dict[str, Snapshot] = {}
    for name, step in steps.items():
        stage.set(**step)  # type: ignore[arg-type]
        snapshots[name] = stage.snapshot()
    states = {name: _state(s) for name, s in snapshots.items()}
    names = list(steps)
    for before, after in itertools.pairwise(names):
        diff = diff_states(states[before], states[after])
        assert diff.decision is Decision.GO, (after, [c for c in diff.changes if c.impact])
    first = diff_states(states["start"], states["publish new KSK"])
    assert Kind.DNSKEY_ADDED in _kinds(first, Impact.EXPECTED)
    assert any("no DS at the parent yet" in c.detail for c in first.changes)

    # Unsafe: the old KSK removed while its DS is the only one at the parent.
    stage.set(published=[k2], signers=[k2], ds=[stage.ds(k1)])
    broken = _state(stage.snapshot())
    diff = diff_states(states["publish new KSK"], broken)
    assert diff.decision is Decision.NO_GO
    assert Kind.DNSKEY_REMOVED in _kinds(diff, Impact.BREAKING)
    assert Kind.VERDICT in _kinds(diff, Impact.BREAKING)

    # Unsafe order: the old KSK removed before its DS (a stale DS is left behind).
    stage.set(published=[k2], signers=[k2], ds=[stage.ds(k1), stage.ds(k2)])
    stale = _state(stage.snapshot())
    diff = diff_states(states["add its DS"], stale)
    assert diff.decision is Decision.CAUTION
    assert Kind.DNSKEY_REMOVED in _kinds(diff, Impact.RISKY)

    # Unsafe: a DS added for a key that is not published.
    diff = diff_states(states["start"], _state_with_ds_for_unpublished(stage))
    assert Kind.DS_ADDED in _kinds(diff, Impact.RISKY)

    # The command line over the snapshot files: exit codes follow the decision.
    files = {}
    for label, snapshot in (("a", snapshots["add its DS"]), ("b", snapshots["remove old DS"])):
        files[label] = tmp_path / f"{label}.json"
        files[label].write_text(snapshot.dumps())
    assert main(["diff", str(files["a"]), str(files["b"])]) == 0
    assert "GO: roll. SOA" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    stage.set(published=[k2], signers=[k2], ds=[stage.ds(k1)])
    bad.write_text(stage.snapshot().dumps())
    assert main(["diff", "--json", str(files["a"]), str(bad)]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["decision"] == "no-go"
    assert {"kind": "dnskey-removed", "impact": "breaking"}.items() <= next(
        c for c in document["changes"] if c["kind"] == "dnskey-removed"
    ).items()


def _state_with_ds_for_unpublished(stage: RolloverStage) -> SnapshotState:
    k1, k2 = stage.ksk1, stage.ksk2
    stage.set(published=[k1], signers=[k1], ds=[stage.ds(k1), stage.ds(k2)])
    return _state(stage.snapshot())


def test_planned_ds_is_checked_against_every_server(
    stage: RolloverStage, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    k1, k2 = stage.ksk1, stage.ksk2
    hints, anchor = stage.write_profile(tmp_path)
    base = ["check", "roll.", "SOA", "--root-hints", str(hints), "--trust-anchor", str(anchor)]
    base += ["--no-resolvers", "--color", "never"]
    stage.set(published=[k1], signers=[k1], ds=[stage.ds(k1)])
    planned = f"roll. 3600 IN DS {stage.ds(k2)}"
    assert main([*base, "--planned-ds", planned]) == 2  # the new key is not served yet
    out = capsys.readouterr().out
    assert "UNSAFE" in out and "no DNSKEY" in out

    stage.set(published=[k1, k2], signers=[k1, k2], ds=[stage.ds(k1)])
    assert main([*base, "--planned-ds", str(stage.ds(k2))]) == 0
    out = capsys.readouterr().out
    assert "would validate on all 2 servers of roll." in out

    # Published but not signing the DNSKEY RRset: a DS for it would not validate.
    stage.set(published=[k1, k2], signers=[k1], ds=[stage.ds(k1)])
    assert main([*base, "--json", "--planned-ds", planned]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["planned_ds"]["ok"] is False
    assert all("does not sign" in s["detail"] for s in document["planned_ds"]["servers"])

    assert main([*base, "--planned-ds", "roll. IN DS nonsense"]) == 4


class FakeTime:
    def __init__(self, start: float) -> None:
        self.now = start
        self.slept: list[float] = []
        self.on_sleep: list[object] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.on_sleep:
            action = self.on_sleep.pop(0)
            assert callable(action)
            action()


def test_go_insecure_refuses_while_a_ds_remains_and_approves_after_the_ttl(
    stage: RolloverStage,
) -> None:
    k2 = stage.ksk2
    stage.set(published=[k2], signers=[k2], ds=[stage.ds(k2)])
    fake = FakeTime(1_000_000.0)
    seen: list[Status] = []

    def poll() -> object:
        return read_parent_view(stage.snapshot(), "roll.", fake.clock())

    def remove_ds() -> None:
        stage.set(published=[k2], signers=[k2], ds=[], child_changes=False)

    fake.on_sleep = [lambda: None, remove_ds]  # the DS stays for two polls, then goes
    status = run_go_insecure(
        "roll.",
        poll,  # type: ignore[arg-type]
        clock=fake.clock,
        sleep=fake.sleep,
        interval=30,
        emit=seen.append,
    )
    phases = [s.phase for s in seen]
    assert phases[:2] == [Phase.REFUSE, Phase.REFUSE]
    assert "do NOT switch signing off" in seen[0].message
    assert Phase.WAITING in phases
    assert status.phase is Phase.SAFE and phases[-1] is Phase.SAFE
    # Approved only once the DS TTL observed (120 s in the lab) has passed since it went.
    cleared_at = 1_000_000.0 + 60
    assert fake.now - cleared_at >= DS_TTL
    assert "signing may be switched off" in status.message


def test_go_insecure_warns_when_signing_is_off_while_the_ds_remains(
    stage: RolloverStage, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    k2 = stage.ksk2
    stage.set(published=[], signers=[], ds=[stage.ds(k2)])
    hints, anchor = stage.write_profile(tmp_path)
    code = main(
        [
            "go-insecure",
            "roll.",
            "--once",
            "--root-hints",
            str(hints),
            "--trust-anchor",
            str(anchor),
        ]
    )
    assert code == 2
    assert "DANGER" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("before", "after", "decision"),
    [
        ("bogus", "indeterminate", Decision.CAUTION),  # nothing proves the fix worked
        ("bogus", "unreachable", Decision.CAUTION),  # "better" by rank, still down
        ("bogus", "bogus", Decision.CAUTION),  # the window changed nothing that matters
        ("secure", "indeterminate", Decision.CAUTION),
        ("secure", "bogus", Decision.NO_GO),
        ("bogus", "secure", Decision.GO),
        ("insecure", "secure", Decision.GO),
    ],
)
def test_only_a_working_answer_after_the_window_is_a_go(
    before: str, after: str, decision: Decision
) -> None:
    def state(verdict: str, at: float) -> SnapshotState:
        return SnapshotState("www.example.", "A", verdict, at, ())

    diff = diff_states(state(before, 1_800_000_000), state(after, 1_800_003_600))
    assert diff.decision is decision, diff.changes
