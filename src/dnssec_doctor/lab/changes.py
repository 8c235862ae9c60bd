"""Changing zones while they are served: a small hierarchy of one's own on the lab's servers.

The lab's scenarios are fixed at ``lab up`` and their signing keys are gone once the
zones are written, so a change window (a key rollover in steps, a DS removed at the
parent) cannot be replayed on them. A ``Stage`` serves zones the caller builds and signs
in Python (keys kept in memory, e.g. with ``lab.scenarios.make_zone`` and ``sign``), with
the lab's server software, on addresses of 127.53.60.0/24 (outside every scenario's).
``replace`` rewrites an instance's zone files and restarts it, and returns once the new
zones are served, so a caller can probe before and after each step.

Every address must be in the lab's network (``servers.prepare_authoritative`` refuses any
other); ``close`` stops exactly the processes the stage started and removes the loopback
aliases it added.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone

from dnssec_doctor.errors import LabError
from dnssec_doctor.lab import runtime, servers
from dnssec_doctor.lab.servers import AuthoritativeInstance, Launch, Software, ZoneFile

STAGE_NETWORK = "127.53.60."  # the stage's addresses: 127.53.60.1-254
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 3.0


@dataclass
class _Served:
    instance: AuthoritativeInstance
    launch: Launch
    process: subprocess.Popen[bytes] | None = None


class Stage:
    """Authoritative instances serving zones that change while a test or a rehearsal runs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.served: dict[str, _Served] = {}
        self.added: list[str] = []

    def __enter__(self) -> Stage:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def serve(
        self,
        name: str,
        addresses: Sequence[str],
        zones: Sequence[dns.zone.Zone],
        *,
        software: Software = Software.NSD,
    ) -> None:
        """Start an instance named ``name`` serving ``zones`` on ``addresses``."""
        if name in self.served:
            raise LabError(f"stage instance {name} already runs")
        for address in addresses:
            if not address.startswith(STAGE_NETWORK):
                raise LabError(f"stage address {address} is outside {STAGE_NETWORK}0/24")
        self.added += runtime.add_addresses(tuple(a for a in addresses if a not in self.added))
        workdir = self.directory / name
        workdir.mkdir(parents=True, exist_ok=True)
        files = tuple(self._write(workdir, zone) for zone in zones)
        instance = AuthoritativeInstance(name, software, tuple(addresses), files)
        launch = servers.prepare_authoritative(instance, workdir)
        served = _Served(instance, launch)
        self.served[name] = served
        self._start(served)

    def replace(self, name: str, zones: Sequence[dns.zone.Zone]) -> None:
        """Serve new contents for the instance's zones (same origins): rewrite, restart."""
        served = self.served[name]
        origins = {z.origin for z in served.instance.zones}
        new = {_origin_text(z) for z in zones}
        if new != origins:
            raise LabError(f"stage instance {name} serves {sorted(origins)}, not {sorted(new)}")
        self._stop(served)
        for zone in zones:
            self._write(served.launch.workdir, zone)
        self._start(served)

    def close(self) -> None:
        for served in self.served.values():
            self._stop(served)
        self.served.clear()
        if self.added:
            runtime.remove_addresses(tuple(self.added))
            self.added.clear()

    # --- processes ---------------------------------------------------------------------

    def _write(self, workdir: Path, zone: dns.zone.Zone) -> ZoneFile:
        origin = _origin_text(zone)
        label = origin.rstrip(".") or "root"
        path = workdir / f"{label}.zone"
        temporary = path.with_suffix(".tmp")
        zone.to_file(str(temporary), relativize=False, want_origin=True)
        temporary.replace(path)
        return ZoneFile(origin, path)

    def _start(self, served: _Served) -> None:
        launch = served.launch
        with launch.log.open("ab") as log:
            served.process = subprocess.Popen(
                launch.argv,
                cwd=launch.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        for address in served.instance.addresses:
            for zone in served.instance.zones:
                while not _serves(address, zone.origin):
                    if served.process.poll() is not None:
                        raise LabError(f"stage instance {served.instance.name} exited at start")
                    if time.monotonic() > deadline:
                        raise LabError(
                            f"stage instance {served.instance.name} did not serve {zone.origin}"
                        )
                    time.sleep(0.02)

    def _stop(self, served: _Served) -> None:
        process = served.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        served.process = None


def _origin_text(zone: dns.zone.Zone) -> str:
    assert zone.origin is not None
    return zone.origin.to_text()


def _serves(address: str, origin: str) -> bool:
    query = dns.message.make_query(origin, dns.rdatatype.SOA)
    try:
        response = dns.query.udp(query, address, timeout=0.2)
    except (dns.exception.DNSException, OSError):
        return False
    return response.rcode() == dns.rcode.NOERROR
