"""The lab profile: what other programs (and ``--lab``) need to use a running lab.

``lab up`` writes it into the lab directory: the root hints in named.root form, the root
trust anchor as DS and as DNSKEY records in zone-file form and as a named.conf
``trust-anchors`` clause (for delv), and ``profile.json`` naming them with the resolvers'
addresses.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from dnssec_doctor.errors import LabNotUp, UsageError

DEFAULT_DIRECTORY = Path("/run/dnssec-doctor/lab")
PROFILE_FILE = "profile.json"
PROFILE_VERSION = 1
BULK_MANIFEST_FILE = "bulk-manifest.jsonl"


def lab_directory(directory: Path | None = None) -> Path:
    """The lab directory: explicit, else ``$DNSSEC_DOCTOR_LAB_DIR``, else the default."""
    if directory is not None:
        return directory
    return Path(os.environ.get("DNSSEC_DOCTOR_LAB_DIR", DEFAULT_DIRECTORY))


@dataclass(frozen=True)
class ResolverEntry:
    """One resolver of the lab: its software, address and whether it validates."""

    name: str
    software: str
    address: str
    validating: bool


@dataclass(frozen=True)
class LabProfile:
    """The running lab as its profile file describes it: root, anchors, resolvers,
    servers."""

    directory: Path
    created: int
    root_hints: Path
    trust_anchor_ds: Path
    trust_anchor_dnskey: Path
    trust_anchor_conf: Path
    root_servers: tuple[str, ...]
    resolvers: tuple[ResolverEntry, ...]
    bulk: int = 0  # zones of the bulk TLD (lab up --bulk N); their manifest beside
    # Whether the lab runs in a private network namespace, with the scenarios that need one
    # (IPv6 addresses, firewall rules).
    private_network: bool = False

    @property
    def bulk_manifest(self) -> Path:
        """What scanning the bulk TLD must find, name by name (JSON Lines)."""
        return self.directory / BULK_MANIFEST_FILE

    @property
    def validating_resolvers(self) -> tuple[ResolverEntry, ...]:
        return tuple(r for r in self.resolvers if r.validating)

    def to_json(self) -> dict[str, object]:
        return {
            "version": PROFILE_VERSION,
            "created": self.created,
            "root_hints": str(self.root_hints),
            "trust_anchor_ds": str(self.trust_anchor_ds),
            "trust_anchor_dnskey": str(self.trust_anchor_dnskey),
            "trust_anchor_conf": str(self.trust_anchor_conf),
            "root_servers": list(self.root_servers),
            "resolvers": [
                {
                    "name": r.name,
                    "software": r.software,
                    "address": r.address,
                    "validating": r.validating,
                }
                for r in self.resolvers
            ],
            "bulk": self.bulk,
            "private_network": self.private_network,
        }

    def write(self) -> Path:
        path = self.directory / PROFILE_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        temporary.replace(path)
        return path


def load_profile(directory: Path | None = None) -> LabProfile:
    """Read the profile of the running lab, or say how to start one."""
    directory = lab_directory(directory)
    path = directory / PROFILE_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        where = "" if directory == DEFAULT_DIRECTORY else f" --dir {directory}"
        raise LabNotUp(
            f"no lab profile at {path}: the lab is not up", hint=f"dnssec-doctor lab{where} up"
        ) from None
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read the lab profile {path}: {error}") from None
    try:
        return LabProfile(
            directory=directory,
            created=int(data["created"]),
            root_hints=Path(data["root_hints"]),
            trust_anchor_ds=Path(data["trust_anchor_ds"]),
            trust_anchor_dnskey=Path(data["trust_anchor_dnskey"]),
            trust_anchor_conf=Path(data["trust_anchor_conf"]),
            root_servers=tuple(data["root_servers"]),
            resolvers=tuple(
                ResolverEntry(r["name"], r["software"], r["address"], bool(r["validating"]))
                for r in data["resolvers"]
            ),
            bulk=int(data.get("bulk", 0)),
            private_network=bool(data.get("private_network", False)),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise UsageError(
            f"the lab profile {path} is malformed ({error})", hint="dnssec-doctor lab up"
        ) from None
