"""The chain-of-trust picture from stored lab snapshots: well-formed, the broken link
marked where the diagnosis says, every text escaped."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest

from dnssec_doctor.diagnosis.report import Report, build_report
from dnssec_doctor.model.diagnosis import Headline, HeadlineKind
from dnssec_doctor.model.finding import Finding, Severity
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.render.svg import render_svg
from web_support import stored_snapshot

SVG = "{http://www.w3.org/2000/svg}"


def _report(slug: str) -> Report:
    snapshot = stored_snapshot(slug)
    return build_report(snapshot, AnalysisOptions(now=snapshot.finished_at))


def _groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == cls]


@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("ds-bad-digest", "DS_DIGEST_MISMATCH"),
        ("rrsig-expired", "RRSIG_EXPIRED"),
        ("lame", "ZONE_UNREACHABLE"),
    ],
)
def test_broken_link_is_marked_and_labelled(slug: str, code: str) -> None:
    root = ET.fromstring(render_svg(_report(slug)))
    broken = _groups(root, "edge broken")
    assert broken, slug
    assert any(code in "".join(g.itertext()) for g in broken)


@pytest.mark.parametrize("slug", ["secure-nsec", "nsec3-iterations", "stale-secondary"])
def test_no_broken_edge_where_the_chain_holds(slug: str) -> None:
    root = ET.fromstring(render_svg(_report(slug)))
    assert not _groups(root, "edge broken")
    zones = {g.get("data-zone") for g in _groups(root, "zone")}
    assert {".", "lab."} <= zones


def test_keys_tags_and_algorithms_are_drawn() -> None:
    report = _report("secure-nsec")
    text = "".join(ET.fromstring(render_svg(report)).itertext())
    for zone in report.analysis.zones:
        for server in zone.servers:
            for tag in server.dnskey_tags:
                assert str(tag) in text
    assert "KSK" in text and "ZSK" in text and "ECDSAP256SHA256 (13)" in text


def test_every_text_is_escaped() -> None:
    report = _report("secure-nsec")
    hostile = '<script>alert(1)</script>"&'
    cause = Finding("NXDOMAIN_PROOF_INVALID", Severity.ERROR, hostile, hostile, hostile)
    headline = Headline(HeadlineKind.CHAIN_BREAKS, hostile, cause)
    diagnosis = dataclasses.replace(report.diagnosis, name=hostile, headline=headline)
    svg = render_svg(dataclasses.replace(report, diagnosis=diagnosis))
    assert "<script>" not in svg
    root = ET.fromstring(svg)
    assert hostile in "".join(root.itertext())
    assert not list(root.iter(f"{SVG}script"))


@pytest.mark.parametrize("slug", ["ds-bad-digest", "rrsig-expired", "secure-nsec", "lame"])
def test_the_picture_is_drawn_from_the_analysis_not_the_snapshot(slug: str) -> None:
    """The zone assessments carry the DS, keys, signatures and answers as values: with the
    snapshot's responses taken away after the analysis, the picture and the key table
    are the same."""
    from dnssec_doctor.web.view import zone_rows

    report = _report(slug)
    bare = dataclasses.replace(report, snapshot=dataclasses.replace(report.snapshot, exchanges=()))
    assert render_svg(bare) == render_svg(report)
    assert zone_rows(bare) == zone_rows(report)
    drawn = "".join(ET.fromstring(render_svg(report)).itertext())
    for zone in report.analysis.zones:
        for key in zone.keys:
            assert f"{key.role} {key.tag}" in drawn
        for ds in zone.ds:
            assert ds.ds is not None and f"DS {ds.ds.key_tag}" in drawn
