"""The bulk lab (lab up --bulk N): its zones, its manifest, and check agreeing with it."""

from __future__ import annotations

import collections
from pathlib import Path

import dns.name
import dns.zone
import pytest

from dnssec_doctor.lab import bulk
from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.lab.servers import ZoneFile
from dnssec_doctor.pipeline import check, lab_settings

NOW = 1_800_000_000


def test_the_mix_breaks_a_known_share_in_known_ways(tmp_path: Path) -> None:
    written: list[str] = []

    def write(zone: dns.zone.Zone, suffix: str) -> ZoneFile:
        assert zone.origin is not None
        written.append(zone.origin.to_text() + suffix)
        return ZoneFile(zone.origin.to_text(), tmp_path / "unused")

    built = bulk.build_bulk(40, NOW, write)
    kinds = collections.Counter(entry.kind for entry in built.manifest)
    assert kinds == {
        "secure-nsec": 26,
        "rrsig-expired": 2,
        "ds-bad-digest": 2,
        "dnskey-missing": 2,
        "ds-unsigned-zone": 2,
        "lame": 2,
        "stale-secondary": 2,
        "unsigned": 2,
    }
    verdicts = collections.Counter(entry.verdict for entry in built.manifest)
    assert verdicts == {"secure": 26, "bogus": 8, "unreachable": 2, "partial": 2, "insecure": 2}
    # Every entry names its own zone as the broken one (none breaks above it).
    for entry in built.manifest:
        origin = dns.name.from_text(entry.name).parent()
        assert entry.zone in (None, origin.to_text())
        assert origin.parent() == bulk.BULK_TLD
    # Lame zones have no file; stale secondaries have two; the rest one.
    assert len(written) == 40 - 2 + 2
    # Many zones per server, on the bulk lab's own blocks.
    assert built.nsd_addresses <= {f"127.53.6.{n}" for n in range(1, bulk.SERVERS + 1)}
    assert len(built.nsd_addresses) == bulk.SERVERS
    assert built.knot_addresses <= {f"127.53.7.{n}" for n in range(1, bulk.SERVERS + 1)}
    assert len(built.children) == 40


@pytest.mark.lab
def test_manifest_lists_every_zone_and_check_agrees_with_it(lab: LabProfile) -> None:
    manifest = list(bulk.read_manifest(lab.directory))
    assert lab.bulk > 0 and len(manifest) == lab.bulk
    assert len({entry.name for entry in manifest}) == lab.bulk
    settings = lab_settings(lab)
    # One zone of each kind (the first cycle of the mix), through the ordinary check.
    for entry in manifest[: len(bulk.MIX)]:
        diagnosis = check(entry.name, entry.type, settings).diagnosis
        cause = diagnosis.causes[0].code if diagnosis.causes else None
        got = (diagnosis.verdict.value, diagnosis.ede, diagnosis.zone, cause)
        assert got == (entry.verdict, entry.ede, entry.zone, entry.cause), entry.kind
