"""The web app and the CLI's graph against the lab, without a browser: the API answers
what ``check --json`` prints, hostile strings included; ``check --graph`` draws the chain.

Kept apart from the browser tests: Playwright's sync API holds an event loop in the main
thread, and the CLI's ``asyncio.run`` cannot run beside it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dnssec_doctor import cli
from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.lab.scenarios import find_scenario
from dnssec_doctor.pipeline import lab_settings
from dnssec_doctor.web.app import WebConfig, create_app
from web_support import served

pytestmark = pytest.mark.lab

ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def base_url(lab: LabProfile, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = WebConfig(
        settings=lab_settings(lab, timeout=1.0, deadline=10.0),
        database=tmp_path_factory.mktemp("web") / "results.sqlite3",
        lab=True,
    )
    with served(create_app(config)) as url:
        yield url


def test_api_check_against_the_lab_matches_check_json(
    lab: LabProfile, base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = find_scenario("hostile-strings")
    response = httpx.get(
        base_url + "/api/check",
        params={"name": scenario.query_name, "type": scenario.qtype},
        timeout=30,
    )
    assert response.status_code == 200
    data = response.json()
    argv = ["check", "--lab", "--lab-dir", str(lab.directory), "--json"]
    code = cli.main([*argv, scenario.query_name, scenario.qtype])
    expected = json.loads(capsys.readouterr().out)
    assert code == 2
    assert data.keys() == expected.keys()
    for key in ("name", "type", "verdict", "ede", "zone", "headline", "causes", "recovery"):
        assert data[key] == expected[key], key
    assert "<img src=x onerror=alert(1)>" in data["causes"][0]["records"][0]


def test_check_graph_writes_the_svg(
    lab: LabProfile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "chain.svg"
    argv = ["check", "--lab", "--lab-dir", str(lab.directory), "--graph", str(path)]
    assert cli.main([*argv, "app.cname-into-broken.lab"]) == 2
    capsys.readouterr()
    root = ET.parse(path).getroot()
    zones = [g.get("data-zone") for g in root.iter(f"{SVG}g") if g.get("class") == "zone"]
    assert set(zones) == {".", "lab.", "cname-into-broken.lab.", "mirror.", "cname-target.mirror."}
    broken = [g for g in root.iter(f"{SVG}g") if g.get("class") == "edge broken"]
    assert broken and "RRSIG_EXPIRED" in "".join(broken[0].itertext())
    labels = "".join(root.itertext())
    assert "CNAME" in labels and "KSK" in labels and "ZSK" in labels
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "chain-cname-into-broken.svg").write_text(path.read_text())
