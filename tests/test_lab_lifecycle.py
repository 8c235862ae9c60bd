"""Bringing the lab up and down: idempotence, cleanliness, clear errors."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
from pathlib import Path

import dns.dnssec
import dns.zone
import pytest

from dnssec_doctor.cli import main
from dnssec_doctor.errors import LabError
from dnssec_doctor.lab import runtime
from dnssec_doctor.lab.profile import LabProfile, load_profile
from dnssec_doctor.lab.servers import LAB_NETWORK
from dnssec_doctor.probe.settings import LAB_IPV6_NETWORK

pytestmark = pytest.mark.lab


def _listening_lab_sockets() -> list[str]:
    result = subprocess.run(["ss", "-Hlnut"], capture_output=True, text=True, check=True)
    return [line for line in result.stdout.splitlines() if " 127.53." in line or " [fd53:" in line]


def _lab_addresses_on_lo() -> list[str]:
    return [a for a in runtime._loopback_addresses() if a.startswith(("127.53.", "fd53:"))]


def test_up_is_idempotent(lab: LabProfile, lab_dir: Path) -> None:
    before = runtime.status(lab_dir)
    assert before and all(s.running for s in before)
    again = runtime.up(lab_dir)
    assert again == lab
    assert runtime.status(lab_dir) == before  # same processes, nothing restarted


def test_profile_names_hints_anchor_and_resolvers(lab: LabProfile, lab_dir: Path) -> None:
    profile = load_profile(lab_dir)
    assert profile == lab
    hints = dns.zone.from_file(
        str(profile.root_hints), origin=".", relativize=False, check_origin=False
    )
    [root_server] = hints.find_rdataset(".", "NS")
    assert hints.find_rdataset(root_server.target, "A")[0].address in profile.root_servers
    [ds] = dns.zone.from_file(
        str(profile.trust_anchor_ds), origin=".", check_origin=False
    ).find_rdataset("@", "DS")
    dnskeys = dns.zone.from_file(str(profile.trust_anchor_dnskey), origin=".", check_origin=False)
    [ksk] = dnskeys.find_rdataset("@", "DNSKEY")
    assert ksk.flags == 257
    assert dns.dnssec.make_ds(".", ksk, ds.digest_type) == ds  # the two anchors agree
    softwares = {(r.software, r.validating) for r in profile.resolvers}
    assert softwares == {
        ("unbound", True),
        ("bind", True),
        ("kresd", True),
        ("pdns-recursor", True),
        ("unbound", False),
    }
    assert all(r.address.startswith("127.53.") for r in profile.resolvers)


def test_second_lab_on_taken_ports_fails_cleanly(lab: LabProfile, tmp_path: Path) -> None:
    other = tmp_path / "other-lab"
    result = subprocess.run(
        [sys.executable, "-m", "dnssec_doctor", "lab", "--dir", str(other), "up"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 5
    assert "already in use" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not other.exists()  # nothing left behind by the failed attempt


def _nft_tables() -> str:
    return subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout


def test_down_removes_everything_and_up_starts_again(lab: LabProfile, lab_dir: Path) -> None:
    records = runtime.read_state(lab_dir)
    assert records is not None and records.firewall
    assert f"table inet {runtime.FIREWALL_TABLE}" in _nft_tables()
    assert runtime.down(lab_dir) is True
    assert runtime.FIREWALL_TABLE not in _nft_tables()
    for record in records.processes:
        assert not Path(f"/proc/{record.pid}").exists() or not runtime._alive(record)
    assert _listening_lab_sockets() == []
    assert _lab_addresses_on_lo() == []
    assert not lab_dir.exists()
    assert runtime.down(lab_dir) is False  # a second down has nothing to do
    runtime.up(lab_dir, bulk=lab.bulk, private_network=lab.private_network)  # the same lab
    runtime.flush_resolvers(lab_dir)
    assert all(s.running for s in runtime.status(lab_dir))


def test_a_foreign_directory_is_never_emptied(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    with pytest.raises(LabError, match="not made by the lab"):
        runtime.claim_directory(tmp_path)
    assert precious.read_text() == "keep me"


def test_missing_packages_are_named() -> None:
    present = {"nsd", "named", "rndc", "unbound", "unbound-control", "ip"}
    missing = runtime.missing_packages(
        lambda name: f"/usr/sbin/{name}" if name in present else None
    )
    assert "knot" in missing and "knot-resolver" in missing
    assert "nsd" not in missing and "iproute2" not in missing


def test_not_root_gets_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.seteuid(65534)  # nobody; the saved set-user-ID lets the test become root again
    try:
        code = main(["lab", "--dir", str(tmp_path / "x"), "up"])
    finally:
        os.seteuid(0)
    assert code == 5
    err = capsys.readouterr().err
    assert "needs root" in err and "sudo dnssec-doctor lab up" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_no_lab_profile_is_an_environment_problem(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dnssec_doctor", "lab", "--dir", str(tmp_path), "verify"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 5  # the lab not up: exit 5 from every command
    assert "the lab is not up" in result.stderr
    assert f"dnssec-doctor lab --dir {tmp_path} up" in result.stderr  # the command that fixes it


def test_nothing_of_the_lab_listens_outside_its_range(lab: LabProfile) -> None:
    listening = _listening_lab_sockets()
    assert lab.private_network and any(
        " [fd53:" in line for line in listening
    )  # the IPv6 scenarios
    for line in listening:
        local = line.split()[4].rsplit(":", 1)[0].strip("[]")
        address = ipaddress.ip_address(local)
        assert address in LAB_NETWORK or address in LAB_IPV6_NETWORK, line
    # The lab's IPv6 addresses are on lo, never on another interface.
    assert all(
        ipaddress.ip_address(a) in LAB_IPV6_NETWORK
        for a in runtime._loopback_addresses()
        if a.startswith("fd53:")
    )
    _ = socket  # addresses are checked through ss; no packet is sent here


def test_ipv6_and_firewall_only_in_a_network_namespace_whose_only_interface_is_lo() -> None:
    assert runtime.private_network_unavailable() is None  # the tests' own namespace
    host = (
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\n"
        "4: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 qdisc pfifo_fast\n"
    )
    assert runtime.other_interfaces(host) == ["eth0"]
    assert runtime.other_interfaces(host.splitlines()[0]) == []
