"""Conformance with Unbound's own validator tests: every ``val_*.rpl`` scenario of the
Unbound source package (fetched once by ``scripts/fetch-conformance``, which
``scripts/bootstrap`` runs) is replayed, and each QUERY step must agree with the answer
the scenario expects (verdict, and EDE where stated) or be listed, with its reason, in
``tests/data/conformance/unbound-known-differences.txt``. A listed step that now agrees
fails too, so that the list, and the score the README reports, stay true."""

from __future__ import annotations

import re
import time
from pathlib import Path

from dnssec_doctor.arguments import parse_profile
from dnssec_doctor.replay.command import REPLAY_PROFILE
from dnssec_doctor.replay.run import StepResult, run_scenario
from dnssec_doctor.replay.scenario import read_scenario

ROOT = Path(__file__).parents[1]
SCENARIOS = ROOT / ".cache" / "conformance" / "unbound" / "testdata"
KNOWN = ROOT / "tests" / "data" / "conformance" / "unbound-known-differences.txt"
KINDS = ("differs", "not-compared")
_LINE = re.compile(r"^(val_[\w-]+\.rpl):(\d+)\s+(differs|not-compared)\s+(\S.*)$")


def read_known() -> dict[str, tuple[str, str]]:
    known: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(KNOWN.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _LINE.match(line)
        assert match, f"{KNOWN.name}:{number}: want 'val_x.rpl:STEP differs|not-compared REASON'"
        key = f"{match.group(1)}:{match.group(2)}"
        assert key not in known, f"{KNOWN.name}:{number}: {key} listed twice"
        known[key] = (match.group(3), match.group(4))
    return known


def outcome(result: StepResult) -> str:
    if result.agrees is None:
        return "not-compared"
    return "agrees" if result.agrees else "differs"


def describe(result: StepResult) -> str:
    expected = result.expected
    ours = result.report.diagnosis if result.report is not None else None
    mine = f"{ours.verdict.value} EDE {ours.ede}" if ours is not None else result.skipped
    return f"expected {expected.verdict} EDE {expected.ede}, ours {mine}"


def test_every_unbound_validator_scenario_agrees_or_is_a_known_difference() -> None:
    assert SCENARIOS.is_dir(), f"{SCENARIOS} is missing: run scripts/fetch-conformance"
    paths = sorted(SCENARIOS.glob("val_*.rpl"))
    assert len(paths) > 100, f"only {len(paths)} val_*.rpl scenarios in {SCENARIOS}"
    accepted = parse_profile(None, REPLAY_PROFILE)  # what `replay` judges with by default
    started = time.perf_counter()
    outcomes: dict[str, tuple[str, str]] = {}
    for path in paths:
        for result in run_scenario(read_scenario(path), accepted_algorithms=accepted):
            outcomes[f"{path.name}:{result.step}"] = (outcome(result), describe(result))
    elapsed = time.perf_counter() - started
    known = read_known()
    unexpected = [
        f"{key} {kind}: {detail}"
        for key, (kind, detail) in outcomes.items()
        if kind != "agrees" and known.get(key, ("",))[0] != kind
    ]
    stale = [
        f"{key} is listed as {kind} but now {outcomes[key][0] if key in outcomes else 'absent'}"
        for key, (kind, _) in known.items()
        if outcomes.get(key, ("absent",))[0] != kind
    ]
    assert not unexpected, "new differences from Unbound:\n" + "\n".join(unexpected)
    assert not stale, "fix the known-differences list:\n" + "\n".join(stale)
    agree = sum(1 for kind, _ in outcomes.values() if kind == "agrees")
    differ = sum(1 for kind, _ in outcomes.values() if kind == "differs")
    score = f"{agree}/{agree + differ} agree, {differ} known differences"
    readme = (ROOT / "README.md").read_text()
    assert score in readme, f"the README must report the score: {score}"
    not_compared = len(outcomes) - agree - differ
    assert f"{not_compared} steps not compared" in readme
    print(f"\n{len(paths)} scenarios, {len(outcomes)} steps, {score}, {elapsed:.1f} s")
