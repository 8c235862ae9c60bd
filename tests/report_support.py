"""Checks every report format must pass, shared by the committed-snapshot tests and the
lab's scenario tests: the JSON Schema of ``check --json`` and the Markdown ticket report."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from dnssec_doctor.diagnosis.report import Report
from dnssec_doctor.render.markdown import render_markdown

ROOT = Path(__file__).parent.parent
SCHEMA = json.loads((ROOT / "docs" / "check-json.schema.json").read_text())


def assert_valid_report(document: object) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def assert_markdown_report(report: Report) -> None:
    """What a ticket needs, and nothing the ticket system would run or mangle."""
    markdown = render_markdown(report)
    diagnosis = report.diagnosis
    lines = markdown.splitlines()
    assert lines[0].startswith("# DNSSEC report: ")
    assert diagnosis.verdict.value.upper() in lines[0] or "DOES NOT EXIST" in lines[0]
    assert all(line.isprintable() for line in lines)
    fences = [line.strip() for line in lines if line.strip().startswith("```")]
    assert len(fences) % 2 == 0, "every fenced block is closed"
    for path in diagnosis.recovery.paths:
        for step in path.steps:
            for record in (*step.records, *step.remove):
                assert any(record in line for line in lines), record  # exact, unescaped
    for finding in diagnosis.causes:
        assert f"`{finding.code}`" in markdown
