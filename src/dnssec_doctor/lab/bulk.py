"""The bulk lab: one more TLD, ``bulk.``, with N signed delegations, for ``scan``.

``lab up --bulk N`` adds it beside the scenario zones. Its zones are built by the
catalogue's own builders (``scenarios.py``), so each kind of fault is the one the
catalogue documents and the diagnosis it must reach is the catalogue's. Most zones are
healthy; a known share is broken in a known way (one zone in every ``len(MIX)`` of each
broken kind), and ``bulk-manifest.jsonl`` in the lab directory says, name by name, what
``check`` or ``scan`` must find.

As hosting providers run them, many zones share a server: the primaries are spread over
``SERVERS`` addresses of one NSD process (127.53.6.N), the Knot zones and stale copies
over one Knot process (127.53.7.N), and lame zones name addresses where nothing listens
(127.53.8.N). The TLD itself is served by the lab's Knot TLD instance on 127.53.1.5.

Each zone file is written as soon as it is signed and dropped, so memory stays flat
whatever N is; the TLD zone (N delegations, their DS and NSEC chain) is the one large
object.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dns.name
import dns.zone

from dnssec_doctor.errors import UsageError
from dnssec_doctor.lab import scenarios as catalogue
from dnssec_doctor.lab.profile import BULK_MANIFEST_FILE as MANIFEST_FILE
from dnssec_doctor.lab.scenarios import BuildContext, HostRole, Scenario, ZoneBuild
from dnssec_doctor.lab.servers import Software, ZoneFile

BULK_TLD = dns.name.from_text("bulk.")
BULK_TLD_ADDRESS = "127.53.1.5"
SERVERS = 16  # addresses per block that the zones are spread over
MAX_ZONES = 1_000_000
# A cycle of zone kinds (catalogue slugs): 13 healthy zones, then one of each fault.
MIX: tuple[str, ...] = (
    *("secure-nsec",) * 13,
    "rrsig-expired",
    "ds-bad-digest",
    "dnskey-missing",
    "ds-unsigned-zone",
    "lame",
    "stale-secondary",
    "unsigned",
)
# The catalogue's address blocks, moved to the bulk lab's: primaries (NSD), Knot
# (primaries, stale copies), dead addresses. No bulk kind uses another block.
_BLOCKS = {2: 6, 3: 7, 4: 8}


@dataclass(frozen=True)
class ManifestEntry:
    """What the diagnosis of one bulk name must be."""

    name: str
    type: str
    kind: str  # the catalogue scenario the zone was built as
    verdict: str
    ede: int | None
    zone: str | None  # where the chain of trust breaks (or ends, when insecure)
    cause: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "type": self.type,
            "kind": self.kind,
            "verdict": self.verdict,
            "ede": self.ede,
            "zone": self.zone,
            "cause": self.cause,
        }


@dataclass
class BulkBuild:
    """The bulk zones as written: what the TLD delegates and which server serves what."""

    children: list[ZoneBuild] = field(default_factory=list)  # zone=None: written already
    on_nsd: list[ZoneFile] = field(default_factory=list)
    on_knot: list[ZoneFile] = field(default_factory=list)
    nsd_addresses: set[str] = field(default_factory=set)
    knot_addresses: set[str] = field(default_factory=set)
    manifest: list[ManifestEntry] = field(default_factory=list)


@dataclass(frozen=True)
class _BulkContext(BuildContext):
    """The catalogue's build context with the bulk lab's addresses: zone ``index`` is
    served on address ``index % SERVERS + 1`` of each block."""

    def address(self, block: int) -> str:
        return f"127.53.{_BLOCKS[block]}.{self.index % SERVERS + 1}"


def zone_name(index: int) -> dns.name.Name:
    return dns.name.from_text(f"d{index:07d}", BULK_TLD)


def kind_of(index: int) -> Scenario:
    return _SCENARIOS[MIX[index % len(MIX)]]


_SCENARIOS = {s.slug: s for s in catalogue.SCENARIOS if s.slug in MIX}
# Writes one zone file (the zone, a file-name suffix): ``hierarchy.write_zone``.
_Writer = Callable[[dns.zone.Zone, str], ZoneFile]


def build_bulk(count: int, now: int, write: _Writer) -> BulkBuild:
    """Build, sign and write ``count`` zones; ``write`` writes one zone file."""
    built = BulkBuild()
    for index in range(count):
        scenario = kind_of(index)
        origin = zone_name(index)
        context = _BulkContext(now=now, index=index, parent=BULK_TLD, software=scenario.software)
        for zone in scenario.build(context, origin):
            _place(built, zone, scenario.software, write)
            built.children.append(
                ZoneBuild(zone.origin, zone.hosts, None, zone.parent_ds, None, None)
            )
        built.manifest.append(_expected(scenario, origin))
    return built


def _place(built: BulkBuild, zone: ZoneBuild, software: Software, write: _Writer) -> None:
    assert zone.parent_change is None, "a bulk kind may not change its parent"
    for host in zone.hosts:
        if host.role is HostRole.PRIMARY:
            target = built.knot_addresses if software is Software.KNOT else built.nsd_addresses
            target.add(host.address)
        elif host.role in (HostRole.STALE, HostRole.SECOND_SIGNER, HostRole.REFUSING):
            built.knot_addresses.add(host.address)
    if zone.zone is not None:
        served = built.on_knot if software is Software.KNOT else built.on_nsd
        served.append(write(zone.zone, ""))
    if zone.second_copy is not None:
        built.on_knot.append(write(zone.second_copy, ".second"))


def _expected(scenario: Scenario, origin: dns.name.Name) -> ManifestEntry:
    expected = scenario.diagnosis
    zone = expected.zone
    if zone == scenario.zone:
        zone = origin.to_text()
    elif zone is not None:
        raise AssertionError(f"bulk kind {scenario.slug} breaks outside its zone: {zone}")
    qname = origin if scenario.qname == "@" else dns.name.from_text(scenario.qname, origin)
    return ManifestEntry(
        name=qname.to_text(),
        type=scenario.qtype,
        kind=scenario.slug,
        verdict=expected.verdict.value,
        ede=expected.ede,
        zone=zone,
        cause=expected.cause,
    )


def write_manifest(directory: Path, manifest: list[ManifestEntry]) -> Path:
    path = directory / MANIFEST_FILE
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        for entry in manifest:
            out.write(json.dumps(entry.to_json()) + "\n")
    temporary.replace(path)
    return path


def read_manifest(directory: Path) -> Iterator[ManifestEntry]:
    """The manifest of the running bulk lab, entry by entry."""
    path = directory / MANIFEST_FILE
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise UsageError(
            f"no bulk manifest at {path}: {error.strerror}", hint="dnssec-doctor lab up --bulk N"
        ) from None
    with handle:
        for line in handle:
            data = json.loads(line)
            yield ManifestEntry(**data)
