"""The parent's servers must agree on the DS set: a recorded snapshot in which one of
the two servers of lab. serves an extra, stale DS (as a parent secondary that missed the
registrar's last update does)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import dns.message
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from dnssec_doctor.cli import main

SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"
STALE_DS = "11111 13 2 " + "ab" * 32


def _analyze(
    tmp_path: Path, snapshot: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, object]]:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot))
    code = main(["analyze", str(path), "--at", f"@{snapshot['finished_at']!r}", "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_parent_servers_that_serve_different_ds_sets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = json.loads((SNAPSHOTS / "secure-nsec.json").read_text())
    code, report = _analyze(tmp_path, snapshot, capsys)
    assert (code, report["verdict"]) == (0, "secure")  # the recorded snapshot as it was
    assert "DS_PARENT_INCONSISTENT" not in {f["code"] for f in report["findings"]}
    [exchange] = [
        e
        for e in snapshot["exchanges"]
        if e["purpose"] == "ds"
        and e["qname"] == "secure-nsec.lab."
        and e["server"]["name"] == "ns2.lab."
    ]
    message = dns.message.from_wire(base64.b64decode(exchange["response"]))
    [ds] = [r for r in message.answer if r.rdtype == dns.rdatatype.DS]
    ds.add(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS, STALE_DS))
    exchange["response"] = base64.b64encode(message.to_wire()).decode()
    code, report = _analyze(tmp_path, snapshot, capsys)
    findings = {f["code"]: f for f in report["findings"]}
    assert findings["DS_PARENT_INCONSISTENT"]["servers"] == [
        "ns1.lab. (127.53.1.1)",
        "ns2.lab. (127.53.1.2)",
    ]
    assert code == 1  # a warning at least: never a clean bill of health
