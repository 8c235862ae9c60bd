"""Bringing the lab up and down: loopback addresses, server processes, lab state.

``up`` records in ``state.json`` every process it started (PID and kernel start time)
and every address it added; ``down`` stops exactly those processes and removes exactly
those addresses and the lab directory, so nothing else on the machine is touched.

IPv6: the lab adds IPv6 addresses (fd53::/64, unique local) only inside a private network
namespace, one whose only interface is ``lo`` (what ``unshare -n`` makes, and what the
tests run in): there they are the namespace's own and no packet can leave it. On a
machine's own network namespace the lab stays on IPv4 loopback and never touches its
interfaces' IPv6 addresses or routes.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from dnssec_doctor.errors import LabError, UsageError
from dnssec_doctor.lab import servers
from dnssec_doctor.lab.bulk import MAX_ZONES as MAX_BULK_ZONES
from dnssec_doctor.lab.bulk import write_manifest
from dnssec_doctor.lab.hierarchy import RESOLVERS, Hierarchy, build_hierarchy
from dnssec_doctor.lab.profile import LabProfile, ResolverEntry, lab_directory, load_profile
from dnssec_doctor.lab.scenarios import Blocked, Drop
from dnssec_doctor.lab.servers import Launch

STATE_FILE = "state.json"
MARKER_FILE = ".dnssec-doctor-lab"
READY_TIMEOUT = 12.0
STOP_TIMEOUT = 3.0


@dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    start_ticks: int  # field 22 of /proc/PID/stat: tells a reused PID apart
    argv: tuple[str, ...]
    address: str


@dataclass(frozen=True)
class LabState:
    created: int
    processes: tuple[ProcessRecord, ...]
    added_addresses: tuple[str, ...]  # IPv4 (/32) and IPv6 (/128) on lo
    firewall: bool = False  # the lab's nftables table was added (private namespace only)

    def to_json(self) -> dict[str, object]:
        return {
            "created": self.created,
            "firewall": self.firewall,
            "processes": [
                {
                    "name": p.name,
                    "pid": p.pid,
                    "start_ticks": p.start_ticks,
                    "argv": list(p.argv),
                    "address": p.address,
                }
                for p in self.processes
            ],
            "added_addresses": list(self.added_addresses),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> LabState:
        processes = data["processes"]
        addresses = data["added_addresses"]
        assert isinstance(processes, list) and isinstance(addresses, list)
        return cls(
            created=int(str(data["created"])),
            processes=tuple(
                ProcessRecord(
                    p["name"], int(p["pid"]), int(p["start_ticks"]), tuple(p["argv"]), p["address"]
                )
                for p in processes
            ),
            added_addresses=tuple(str(a) for a in addresses),
            firewall=bool(data.get("firewall", False)),
        )


@dataclass(frozen=True)
class InstanceStatus:
    name: str
    pid: int
    address: str
    running: bool


def read_state(directory: Path) -> LabState | None:
    try:
        return LabState.from_json(json.loads((directory / STATE_FILE).read_text()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as error:
        raise LabError(
            f"the lab state file {directory / STATE_FILE} is unreadable ({error})",
            hint=f"stop the lab's servers by hand and remove {directory}",
        ) from None


def write_state(directory: Path, state: LabState) -> None:
    path = directory / STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state.to_json(), indent=2) + "\n")
    temporary.replace(path)


def status(directory: Path | None = None) -> list[InstanceStatus]:
    """Every process the lab started, and whether it is still running."""
    state = read_state(lab_directory(directory))
    if state is None:
        return []
    return [InstanceStatus(p.name, p.pid, p.address, _alive(p)) for p in state.processes]


def is_up(directory: Path | None = None) -> bool:
    statuses = status(directory)
    return bool(statuses) and all(s.running for s in statuses)


def up(
    directory: Path | None = None,
    *,
    now: int | None = None,
    bulk: int | None = None,
    private_network: bool | None = None,
) -> LabProfile:
    """Build and start the lab; if it is already fully up (with ``bulk`` zones in the bulk
    TLD, when given), leave it as it is. ``private_network``: None serves the scenarios that
    need a private network namespace (IPv6, firewall rules) when the lab runs in one, True
    demands it (``LabError`` elsewhere), False leaves them out."""
    directory = lab_directory(directory)
    check_environment()
    if bulk is not None and not 0 <= bulk <= MAX_BULK_ZONES:
        raise UsageError(f"--bulk takes 0 to {MAX_BULK_ZONES} zones, not {bulk}")
    if private_network is None:
        private_network = private_network_unavailable() is None
    elif private_network and (reason := private_network_unavailable()) is not None:
        raise LabError(
            f"the lab adds IPv6 addresses and firewall rules only inside a private network "
            f"namespace: {reason}",
            hint="unshare -n sh -c 'ip link set lo up && dnssec-doctor lab up --private-network'",
        )
    if is_up(directory):
        profile = load_profile(directory)
        if (bulk is None or profile.bulk == bulk) and profile.private_network == private_network:
            return profile
    if read_state(directory) is not None:
        down(directory)  # half up (a server died): start over
    claim_directory(directory)
    now = int(time.time()) if now is None else now
    try:
        hierarchy = build_hierarchy(
            now, directory / "zones", bulk=bulk or 0, private_network=private_network
        )
        check_ports(hierarchy.addresses)
        added = add_addresses(hierarchy.addresses)
        state = LabState(created=now, processes=(), added_addresses=tuple(added))
        write_state(directory, state)
        if hierarchy.firewall:
            state = LabState(now, (), tuple(added), firewall=True)
            write_state(directory, state)  # before the table exists: down removes it
            add_firewall(hierarchy.firewall)
        if hierarchy.bulk_manifest:
            write_manifest(directory, list(hierarchy.bulk_manifest))
        profile = write_profile(directory, hierarchy, now, private_network=private_network)
        planned = _prepare(directory, hierarchy, profile)
        records = []
        for plan in planned:
            records.append(_start(plan.name, plan.launch))
            state = LabState(now, tuple(records), tuple(added), state.firewall)
            write_state(directory, state)
        _wait_ready(planned, records)
    except BaseException:
        down(directory)
        raise
    return profile


def claim_directory(directory: Path) -> None:
    """Make ``directory`` the lab's, empty. A directory the lab did not make is never
    emptied: ``--dir`` pointing at the wrong place must not cost anyone their files."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER_FILE).exists():
            raise LabError(
                f"{directory} is not empty and was not made by the lab",
                hint="choose another --dir, or an empty or missing directory",
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True, mode=0o755, exist_ok=True)
    (directory / MARKER_FILE).write_text("made by dnssec-doctor lab up; removed by lab down\n")


def down(directory: Path | None = None) -> bool:
    """Stop what ``up`` started and remove what it added. False if the lab was not up."""
    directory = lab_directory(directory)
    state = read_state(directory)
    if state is None:
        _remove_directory(directory)
        return False
    for record in state.processes:
        if _alive(record):
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for record in state.processes:
        while _alive(record) and time.monotonic() < deadline:
            _reap(record.pid)
            time.sleep(0.02)
        if _alive(record):
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.pid, signal.SIGKILL)
            _reap(record.pid, block=True)
        _reap(record.pid)
    remove_addresses(state.added_addresses)
    if state.firewall:
        remove_firewall()
    _remove_directory(directory)
    return True


def _remove_directory(directory: Path) -> None:
    if (directory / MARKER_FILE).exists():
        shutil.rmtree(directory, ignore_errors=True)


def flush_resolvers(directory: Path | None = None) -> None:
    """Empty every lab resolver's caches (answers from cache lose their EDE detail)."""
    directory = lab_directory(directory)
    for resolver in RESOLVERS:
        servers.flush_resolver(resolver, directory / "servers" / resolver.name)


# --- environment ---------------------------------------------------------------------


def check_environment() -> None:
    """Root, and every server binary the lab runs: one clear line for what is missing."""
    if os.geteuid() != 0:
        raise LabError(
            "the lab needs root: it adds loopback addresses and binds port 53",
            hint="sudo dnssec-doctor lab up",
        )
    missing = missing_packages(find_program)
    if missing:
        packages = " ".join(missing)
        raise LabError(
            f"Debian packages missing for the lab: {packages}",
            hint=f"apt-get install -y {packages}",
        )


def find_program(name: str) -> str | None:
    """Like ``which``, also looking in the sbin directories a non-login PATH may lack."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which(name, path=path)


def missing_packages(find: Callable[[str], str | None]) -> list[str]:
    """The Debian packages providing the lab's programs that ``find`` cannot locate."""
    missing: dict[str, None] = {}
    for software in servers.Software:
        for binary in servers.required_binaries(software):
            if find(binary) is None:
                missing[servers.debian_package(binary)] = None
    if find("ip") is None:
        missing["iproute2"] = None
    return list(missing)


def private_network_unavailable() -> str | None:
    """Why the lab may not add IPv6 addresses and firewall rules here (None: it may). It
    may only in a private network namespace: one whose only interface is lo, with IPv6
    enabled."""
    result = subprocess.run(
        ["ip", "-o", "link", "show"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not result.stdout.strip():
        return "ip cannot list the network interfaces"
    others = other_interfaces(result.stdout)
    if others:
        return f"this network namespace has other interfaces than lo ({', '.join(others[:3])})"
    try:
        disabled = Path("/proc/sys/net/ipv6/conf/lo/disable_ipv6").read_text().strip()
    except OSError:
        return "the kernel has no IPv6"
    if disabled != "0":
        return "IPv6 is disabled on lo"
    return None


def other_interfaces(ip_link: str) -> list[str]:
    """The interfaces other than lo in ``ip -o link show`` output."""
    names = [line.split(":")[1].strip().split("@")[0] for line in ip_link.splitlines() if line]
    return [name for name in names if name != "lo"]


def check_ports(addresses: tuple[str, ...]) -> None:
    """Fail early, naming the address, if anything already holds port 53 there."""
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            with socket.socket(family, kind) as probe:
                if kind == socket.SOCK_STREAM:
                    # Connections of the previous lab linger in TIME_WAIT; servers bind
                    # with SO_REUSEADDR too, and it still refuses a live listener.
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((address, 53))
                except OSError as error:
                    if error.errno == errno.EADDRINUSE:
                        raise LabError(
                            f"port 53 on {address} is already in use by another process",
                            hint="find it with 'ss -lunpt sport = :53', stop it, "
                            "or run 'dnssec-doctor lab down' if it is an old lab",
                        ) from None
                    if error.errno != errno.EADDRNOTAVAIL:
                        raise LabError(f"cannot bind {address}:53: {error.strerror}") from None


def add_addresses(addresses: tuple[str, ...]) -> list[str]:
    """Add /32 and /128 aliases to ``lo`` (BIND listens only on interface addresses);
    return those that were not there before, which are the ones ``down`` removes. IPv6
    addresses skip duplicate address detection: on lo no one else can hold them, and a
    tentative address cannot be bound."""
    present = set(_loopback_addresses())
    added = [a for a in addresses if a not in present]
    _ip_batch(f"address add {_prefix(a)} dev lo{' nodad' if ':' in a else ''}" for a in added)
    return added


def remove_addresses(addresses: tuple[str, ...]) -> None:
    present = set(_loopback_addresses())
    _ip_batch(f"address del {_prefix(a)} dev lo" for a in addresses if a in present)


def _prefix(address: str) -> str:
    return f"{address}/128" if ":" in address else f"{address}/32"


# --- the firewall (private network namespace only) ----------------------------------------

FIREWALL_TABLE = "dnssec_doctor_lab"  # an nftables table of the inet family


def firewall_rules(blocked: Iterable[Blocked]) -> str:
    """The nftables table that drops what the scenarios say, as ``nft -f`` reads it.

    EDNS version 1 is matched in the query's bytes (offsets from the UDP header, for a
    query with one question, the zone's apex, and its OPT record first in the additional
    section, as the transport probe sends it): the OPT type at 25 + L octets and the
    version at 30 + L, L the apex's length in wire form."""
    rules = []
    for block in blocked:
        family = "ip6" if ":" in block.address else "ip"
        match = f"{family} daddr {block.address}"
        if block.drop is Drop.TCP:
            rules.append(f"{match} tcp dport 53 drop")
        elif block.drop is Drop.UDP:
            rules.append(f"{match} udp dport 53 drop")
        else:
            length = len(block.apex.to_wire() or b"")
            rules.append(
                f"{match} udp dport 53 @th,{(25 + length) * 8},16 0x0029 "
                f"@th,{(30 + length) * 8},8 0x01 drop"
            )
    body = "\n".join(f"        {rule}" for rule in rules)
    return (
        f"table inet {FIREWALL_TABLE} {{\n"
        "    chain input {\n"
        "        type filter hook input priority 0; policy accept;\n"
        f"{body}\n"
        "    }\n"
        "}\n"
    )


def add_firewall(blocked: Iterable[Blocked]) -> None:
    """Add the lab's table (``up`` adds it only in a private network namespace)."""
    nft = find_program("nft")
    if nft is None:
        raise LabError("the lab's firewall rules need nft", hint="apt-get install -y nftables")
    result = subprocess.run(
        [nft, "-f", "-"], input=firewall_rules(blocked), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise LabError(f"nft could not add the lab's firewall rules: {result.stderr.strip()}")


def remove_firewall() -> None:
    nft = find_program("nft")
    if nft is not None:
        subprocess.run(
            [nft, "delete", "table", "inet", FIREWALL_TABLE], capture_output=True, check=False
        )


def _loopback_addresses() -> list[str]:
    """The addresses on lo, IPv4 and IPv6, in the form ``ipaddress`` writes them."""
    result = subprocess.run(
        ["ip", "-o", "address", "show", "dev", "lo"],
        capture_output=True,
        text=True,
        check=False,
    )
    return [
        str(ipaddress.ip_address(line.split()[3].split("/")[0]))
        for line in result.stdout.splitlines()
        if line.split()[2:3] in (["inet"], ["inet6"])
    ]


def _ip_batch(commands: Iterable[str]) -> None:
    script = "\n".join(commands)
    if not script:
        return
    result = subprocess.run(
        ["ip", "-batch", "-"], input=script + "\n", capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise LabError(f"ip could not change the loopback addresses: {result.stderr.strip()}")


# --- processes ---------------------------------------------------------------------------


def write_profile(
    directory: Path, hierarchy: Hierarchy, now: int, *, private_network: bool
) -> LabProfile:
    hints = directory / "root.hints"
    hints.write_text(hierarchy.root_hints)
    anchor_ds = directory / "root-anchor.ds"
    anchor_ds.write_text(hierarchy.anchor_ds)
    anchor_dnskey = directory / "root-anchor.dnskey"
    anchor_dnskey.write_text(hierarchy.anchor_dnskey)
    anchor_conf = directory / "root-anchor.conf"
    anchor_conf.write_text(hierarchy.anchor_conf)
    profile = LabProfile(
        directory=directory,
        created=now,
        root_hints=hints,
        trust_anchor_ds=anchor_ds,
        trust_anchor_dnskey=anchor_dnskey,
        trust_anchor_conf=anchor_conf,
        root_servers=hierarchy.authoritatives[0].addresses,
        resolvers=tuple(
            ResolverEntry(r.name, r.software.value, r.address, r.validating)
            for r in hierarchy.resolvers
        ),
        bulk=len(hierarchy.bulk_manifest),
        private_network=private_network,
    )
    profile.write()
    return profile


@dataclass(frozen=True)
class _Planned:
    name: str
    launch: Launch
    zones: tuple[str, ...]  # an authoritative server is ready when it serves all of them


def _prepare(directory: Path, hierarchy: Hierarchy, profile: LabProfile) -> list[_Planned]:
    planned = []
    for authoritative in hierarchy.authoritatives:
        workdir = directory / "servers" / authoritative.name
        workdir.mkdir(parents=True)
        launch = servers.prepare_authoritative(authoritative, workdir)
        zones = tuple(z.origin for z in authoritative.zones)
        planned.append(_Planned(authoritative.name, launch, zones))
    for resolver in hierarchy.resolvers:
        workdir = directory / "servers" / resolver.name
        workdir.mkdir(parents=True)
        launch = servers.prepare_resolver(
            resolver, workdir, root_hints=profile.root_hints, trust_anchor=profile.trust_anchor_ds
        )
        planned.append(_Planned(resolver.name, launch, ()))
    return planned


def _start(name: str, launch: Launch) -> ProcessRecord:
    with launch.log.open("ab") as log:
        try:
            process = subprocess.Popen(
                launch.argv,
                cwd=launch.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **dict(launch.env)} if launch.env else None,
            )
        except OSError as error:
            raise LabError(f"cannot start {name} ({launch.argv[0]}): {error.strerror}") from None
    return ProcessRecord(
        name, process.pid, _start_ticks(process.pid) or 0, launch.argv, launch.ready_query[0]
    )


def _wait_ready(planned: list[_Planned], records: list[ProcessRecord]) -> None:
    """Wait until each resolver answers and each authoritative serves all its zones."""
    # A server loading many zones (the bulk lab's) takes longer: about 1 ms a zone.
    zones = sum(len(plan.zones) for plan in planned)
    deadline = time.monotonic() + READY_TIMEOUT + zones / 1000
    for plan, record in zip(planned, records, strict=True):
        address, qname, qtype = plan.launch.ready_query
        questions = [(zone, "SOA") for zone in plan.zones] or [(qname, qtype)]
        for zone, rdtype in questions:
            query = dns.message.make_query(zone, dns.rdatatype.from_text(rdtype))
            while not _answers(query, address, need_noerror=bool(plan.zones)):
                if not _alive(record):
                    raise LabError(f"{plan.name} exited at start: {_tail(plan.launch.log)}")
                if time.monotonic() > deadline:
                    raise LabError(
                        f"{plan.name} did not serve {zone} on {address} in time: "
                        f"{_tail(plan.launch.log)}"
                    )
                time.sleep(0.05)


def _answers(query: dns.message.Message, address: str, *, need_noerror: bool) -> bool:
    try:
        response = dns.query.udp(query, address, timeout=0.2)
    except (dns.exception.DNSException, OSError):
        return False
    return not need_noerror or response.rcode() == dns.rcode.NOERROR


def _tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def _start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None  # a zombie has stopped running
    return int(fields[19])


def _alive(record: ProcessRecord) -> bool:
    return _start_ticks(record.pid) == record.start_ticks


def _reap(pid: int, *, block: bool = False) -> None:
    """Collect an exit status if the process is our own child (the test suite's case)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0 if block else os.WNOHANG)
