"""What an operator reads at 3 a.m., on the lab's real servers: no healthy-looking
headline over a name that does not exist, no DNSSEC advice for a fault that is not
DNSSEC, no false alarm over a zone that was never signed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dnssec_doctor.cli import main
from dnssec_doctor.lab.profile import LabProfile

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab_args(lab: LabProfile, lab_dir: Path) -> list[str]:
    return ["--lab", "--lab-dir", str(lab_dir)]


def _run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str]:
    code = main(list(arguments))
    return code, capsys.readouterr().out


def test_a_name_that_does_not_exist_never_reads_as_healthy(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(
        capsys, "check", "www.nonexistent-zone.lab", *lab_args, "--no-resolvers", "--color", "never"
    )
    first, second = out.splitlines()[:2]
    assert code == 3, out
    assert first == "www.nonexistent-zone.lab. A: DOES NOT EXIST (NXDOMAIN, secure)"
    assert "does not exist" in second and "validates" not in second
    code, out = _run(
        capsys, "check", "www.nonexistent-zone.lab", *lab_args, "--no-resolvers", "--json"
    )
    document = json.loads(out)
    assert code == 3 and document["nxdomain"] is True and document["verdict"] == "secure"
    # Nagios: the monitored name is gone.
    code, out = _run(capsys, "check", "--nagios", "www.nonexistent-zone.lab", *lab_args)
    assert code == 2 and out.startswith("DNSSEC CRITICAL - "), out
    # In an unsigned zone too: the denial is not protected, and the name is still gone.
    code, out = _run(
        capsys, "check", "nonexistent.unsigned.lab", *lab_args, "--no-resolvers", "--color", "never"
    )
    assert code == 3 and "DOES NOT EXIST (NXDOMAIN, insecure)" in out.splitlines()[0]
    # A name that exists is unaffected.
    code, out = _run(capsys, "check", "www.secure-nsec.lab", *lab_args, "--no-resolvers", "--json")
    assert code == 0 and json.loads(out)["nxdomain"] is False


def test_go_insecure_on_a_zone_never_signed_is_no_danger(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(capsys, "go-insecure", "unsigned.lab", "--once", *lab_args)
    assert code == 0, out
    assert "DANGER" not in out and "Re-enable" not in out
    assert "already insecure" in out


def test_go_insecure_gives_a_lame_zone_no_dnssec_advice(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for zone in ("lame.lab", "refused.lab"):
        code, out = _run(capsys, "go-insecure", zone, "--once", *lab_args)
        assert code == 3, out
        assert "not a DNSSEC fault" in out
        assert "signing" not in out.lower() and "DANGER" not in out


def test_go_insecure_still_warns_when_signing_stopped_with_the_ds_left(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(capsys, "go-insecure", "ds-unsigned-zone.lab", "--once", *lab_args)
    assert code == 2 and "DANGER" in out and "Re-enable signing" in out


def test_a_zone_name_keeps_its_case_in_the_headline(
    lab_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(
        capsys, "check", "www.unsigned.lab", *lab_args, "--no-resolvers", "--color", "never"
    )
    assert code == 0
    assert out.splitlines()[1].startswith("unsigned.lab. is not signed"), out


def test_a_crashing_check_becomes_a_finding_and_the_rest_still_run() -> None:
    # Deterministic: the whole-suite gate wants CHECK_CRASHED emitted by some test, and the
    # fuzz test's incidental crashes do not come on every run.
    from dnssec_doctor.analysis.chain import guarded
    from dnssec_doctor.model.finding import Finding

    findings: list[Finding] = []

    def broken(value: int) -> int:
        raise ValueError(f"cannot read {value}")

    assert guarded("example", "zone.", findings, broken, 7) is None
    assert [f.code for f in findings] == ["CHECK_CRASHED"]
    assert "ValueError: cannot read 7" in findings[0].summary
    assert guarded("example", "zone.", findings, lambda: 3) == 3
