"""Golden files for the renderers: each committed lab snapshot, analyzed at its own
collection time, renders exactly the committed text and JSON reports.

The snapshots in tests/data/snapshots were recorded from the lab with
``dnssec-doctor probe --lab ... -o``; they are static, so the analysis is deterministic
once ``--at`` is the snapshot's own ``finished_at``. No lab is needed here.

After an intended change of the reports: ``UPDATE_GOLDEN=1 pytest tests/test_render_golden.py``
rewrites tests/data/golden; review the diff before committing it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dnssec_doctor.cli import main
from dnssec_doctor.lab.scenarios import SCENARIOS
from dnssec_doctor.model.time_text import iso_utc

DATA = Path(__file__).parent / "data"
SNAPSHOTS = DATA / "snapshots"
GOLDEN = DATA / "golden"
CASES = sorted(path.stem for path in SNAPSHOTS.glob("*.json"))
FORMATS = {"txt": ["--color", "never"], "json": ["--json"]}
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def analyze_arguments(slug: str, form: str) -> list[str]:
    snapshot = SNAPSHOTS / f"{slug}.json"
    finished_at = json.loads(snapshot.read_text())["finished_at"]
    return ["analyze", str(snapshot), "--at", f"@{finished_at!r}", *FORMATS[form]]


def render(slug: str, form: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(analyze_arguments(slug, form))
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out


def test_the_snapshots_are_there() -> None:
    assert {"secure-nsec", "rrsig-expired", "ds-bad-digest", "stale-secondary", "lame"} <= set(
        CASES
    )
    size = sum(p.stat().st_size for d in (SNAPSHOTS, GOLDEN) if d.exists() for p in d.iterdir())
    # 600 KB since queries[] carries what came back (flags, EDE, the answer's first records):
    # about 280 KB of golden JSON beside 220 KB of snapshots.
    assert size < 600_000, "keep the golden data small"


@pytest.mark.parametrize("form", FORMATS)
@pytest.mark.parametrize("slug", CASES)
def test_report_matches_golden(slug: str, form: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, output = render(slug, form, capsys)
    golden = GOLDEN / f"{slug}.{form}"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(output)
    assert golden.exists(), f"no golden file {golden.name}: run with UPDATE_GOLDEN=1"
    expected = golden.read_text()
    assert output == expected, f"{golden.name} differs; if intended, rerun with UPDATE_GOLDEN=1"


@pytest.mark.parametrize("slug", CASES)
def test_golden_reports_say_what_the_catalogue_declares(
    slug: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Guards the golden files themselves: a regenerated file that diagnoses its
    scenario wrongly is caught here, not blessed."""
    [scenario] = [s for s in SCENARIOS if s.slug == slug]
    code, output = render(slug, "json", capsys)
    report = json.loads(output)
    expected = scenario.diagnosis
    assert report["name"] == scenario.query_name
    assert report["verdict"] == expected.verdict.value
    assert report["ede"] == expected.ede
    assert report["zone"] == expected.zone
    assert (report["causes"][0]["code"] if report["causes"] else None) == expected.cause
    finished_at = json.loads((SNAPSHOTS / f"{slug}.json").read_text())["finished_at"]
    assert report["judged_at"] == iso_utc(finished_at)
    text_code, text = render(slug, "txt", capsys)
    assert text_code == code
    assert text.splitlines()[0].startswith(f"{scenario.query_name} {scenario.qtype}: ")
    assert "\033[" not in text


def test_reports_do_not_depend_on_hash_order() -> None:
    """Sets iterate in a per-process order; render every snapshot under two fixed hash
    seeds in fresh interpreters and compare with the golden files."""
    script = (
        "import sys\n"
        "from dnssec_doctor.cli import main\n"
        "for arguments in __import__('json').loads(sys.argv[1]):\n"
        "    main(arguments)\n"
    )
    cases = [(slug, form) for slug in CASES for form in FORMATS]
    expected = "".join((GOLDEN / f"{slug}.{form}").read_text() for slug, form in cases)
    for seed in ("0", "4242"):
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                script,
                json.dumps([analyze_arguments(slug, form) for slug, form in cases]),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == expected, f"PYTHONHASHSEED={seed} renders differently"
