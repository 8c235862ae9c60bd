"""The lab's server configurations, checked by each server's own configuration checker.

These tests start no server and send no packet: they write configurations into a
temporary directory and run nsd-checkconf, knotc conf-check, named-checkconf,
unbound-checkconf, and kresd on a wrapper that executes its Lua configuration (PowerDNS,
which has no checker, lists its zones with pdnsutil). Online signers get their keys here.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest
from dns.dnssectypes import Algorithm

from dnssec_doctor.errors import LabError
from dnssec_doctor.lab import signing
from dnssec_doctor.lab.servers import (
    BINARY_PACKAGES,
    ONLINE_DENIAL,
    AuthoritativeInstance,
    Launch,
    OnlineSigning,
    ResolverInstance,
    Software,
    ZoneFile,
    checkconf_argv,
    config_path,
    debian_package,
    flush_resolver,
    prepare_authoritative,
    prepare_resolver,
    required_binaries,
)

ROOT_DS = (
    ". 3600 IN DS 64090 13 2 f9322f791082dd1b4abf0f0d5c8cc4495513d1c447765655af3b174b0dda6875\n"
)
ROOT_HINTS = ". 3600000 NS ns.root-servers.\nns.root-servers. 3600000 A 127.53.250.1\n"


def write_zone(directory: Path, origin: str) -> ZoneFile:
    path = directory / f"{origin.strip('.') or 'root'}.zone"
    path.write_text(
        f"$ORIGIN {origin}\n$TTL 60\n@ SOA ns hostmaster 1 7200 3600 1209600 30\n"
        "@ NS ns\nns A 127.53.250.1\n",
        encoding="utf-8",
    )
    return ZoneFile(origin, path)


@pytest.fixture
def zones(tmp_path: Path) -> tuple[ZoneFile, ...]:
    directory = tmp_path / "zones"
    directory.mkdir()
    return (write_zone(directory, "."), write_zone(directory, "tld."))


@pytest.fixture
def lab_files(tmp_path: Path) -> tuple[Path, Path]:
    hints = tmp_path / "root.hints"
    hints.write_text(ROOT_HINTS, encoding="utf-8")
    anchor = tmp_path / "root.ds"
    anchor.write_text(ROOT_DS, encoding="utf-8")
    return hints, anchor


def run_checker(software: Software, launch: Launch) -> None:
    argv = checkconf_argv(software, launch.workdir)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"


def authoritative(software: Software, zones: tuple[ZoneFile, ...]) -> AuthoritativeInstance:
    return AuthoritativeInstance(
        name=f"auth-{software}",
        software=software,
        addresses=("127.53.250.1", "127.53.250.2"),
        zones=zones,
    )


def resolver(software: Software, *, validating: bool = True) -> ResolverInstance:
    return ResolverInstance(
        name=f"res-{software}", software=software, address="127.53.250.51", validating=validating
    )


@pytest.mark.parametrize("software", [Software.NSD, Software.KNOT, Software.BIND, Software.PDNS])
def test_authoritative_config_passes_its_checker(
    software: Software, zones: tuple[ZoneFile, ...], tmp_path: Path
) -> None:
    launch = prepare_authoritative(authoritative(software, zones), tmp_path / "auth")
    run_checker(software, launch)


@pytest.mark.parametrize("validating", [True, False])
@pytest.mark.parametrize(
    "software", [Software.UNBOUND, Software.BIND, Software.KRESD, Software.PDNS_RECURSOR]
)
def test_resolver_config_passes_its_checker(
    software: Software, validating: bool, lab_files: tuple[Path, Path], tmp_path: Path
) -> None:
    hints, anchor = lab_files
    launch = prepare_resolver(
        resolver(software, validating=validating),
        tmp_path / "res",
        root_hints=hints,
        trust_anchor=anchor,
    )
    run_checker(software, launch)


def test_kresd_checker_rejects_a_broken_config(
    lab_files: tuple[Path, Path], tmp_path: Path
) -> None:
    hints, anchor = lab_files
    launch = prepare_resolver(
        resolver(Software.KRESD), tmp_path / "res", root_hints=hints, trust_anchor=anchor
    )
    conf = config_path(Software.KRESD, launch.workdir)
    conf.write_text(conf.read_text() + "hints.no_such_function()\n")
    argv = checkconf_argv(Software.KRESD, launch.workdir)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode != 0


@pytest.mark.parametrize(
    ("software", "foreground"),
    [(Software.NSD, "-d"), (Software.KNOT, None), (Software.BIND, "-g")],
)
def test_authoritative_launch_stays_in_foreground(
    software: Software, foreground: str | None, zones: tuple[ZoneFile, ...], tmp_path: Path
) -> None:
    launch = prepare_authoritative(authoritative(software, zones), tmp_path / "auth")
    assert launch.argv[0] in required_binaries(software)
    if foreground:
        assert foreground in launch.argv
    else:  # knotd stays in the foreground unless told -d / --daemonize
        assert "-d" not in launch.argv
        assert "--daemonize" not in launch.argv
    assert launch.ready_query == ("127.53.250.1", ".", "SOA")
    assert launch.log.parent == launch.workdir


def test_knot_serves_files_without_signing_or_checks(
    zones: tuple[ZoneFile, ...], tmp_path: Path
) -> None:
    launch = prepare_authoritative(authoritative(Software.KNOT, zones), tmp_path / "auth")
    text = config_path(Software.KNOT, launch.workdir).read_text()
    for line in (
        "dnssec-signing: off",
        "semantic-checks: off",
        "journal-content: none",
        "zonefile-sync: -1",
        "listen: [ 127.53.250.1@53, 127.53.250.2@53 ]",
    ):
        assert line in text


def test_bind_resolver_has_static_anchor_and_lab_hints(
    lab_files: tuple[Path, Path], tmp_path: Path
) -> None:
    hints, anchor = lab_files
    launch = prepare_resolver(
        resolver(Software.BIND), tmp_path / "res", root_hints=hints, trust_anchor=anchor
    )
    text = config_path(Software.BIND, launch.workdir).read_text()
    assert (
        '. static-ds 64090 13 2 "F9322F791082DD1B4ABF0F0D5C8CC4495513D1C447765655AF3B174B0DDA6875"'
        in text
    )
    assert f'file "{hints.resolve()}";' in text
    assert "query-source address 127.53.250.51;" in text
    assert "initial-" not in text  # no RFC 5011


def test_rndc_key_survives_a_second_prepare(lab_files: tuple[Path, Path], tmp_path: Path) -> None:
    hints, anchor = lab_files
    instance = resolver(Software.BIND)
    first = prepare_resolver(instance, tmp_path / "res", root_hints=hints, trust_anchor=anchor)
    rndc_before = (first.workdir / "rndc.conf").read_text()
    prepare_resolver(instance, tmp_path / "res", root_hints=hints, trust_anchor=anchor)
    assert (first.workdir / "rndc.conf").read_text() == rndc_before


def test_non_validating_unbound_has_no_anchor(lab_files: tuple[Path, Path], tmp_path: Path) -> None:
    hints, anchor = lab_files
    launch = prepare_resolver(
        resolver(Software.UNBOUND, validating=False),
        tmp_path / "res",
        root_hints=hints,
        trust_anchor=anchor,
    )
    text = config_path(Software.UNBOUND, launch.workdir).read_text()
    assert 'module-config: "iterator"' in text
    assert "trust-anchor" not in text
    assert launch.argv[:2] == ("unbound", "-d")


def test_kresd_drops_builtin_anchor_and_allows_loopback(
    lab_files: tuple[Path, Path], tmp_path: Path
) -> None:
    hints, anchor = lab_files
    launch = prepare_resolver(
        resolver(Software.KRESD), tmp_path / "res", root_hints=hints, trust_anchor=anchor
    )
    text = config_path(Software.KRESD, launch.workdir).read_text()
    assert "trust_anchors.remove('.')" in text
    assert f"trust_anchors.add_file('{anchor.resolve()}', true)" in text
    assert "option('ALLOW_LOCAL', true)" in text
    assert launch.argv[:2] == ("kresd", "-n")


def test_address_outside_the_lab_is_refused(zones: tuple[ZoneFile, ...], tmp_path: Path) -> None:
    instance = AuthoritativeInstance("x", Software.NSD, ("192.0.2.1",), zones)
    with pytest.raises(LabError, match="outside the lab network"):
        prepare_authoritative(instance, tmp_path / "auth")


def test_resolver_software_cannot_serve_zones(zones: tuple[ZoneFile, ...], tmp_path: Path) -> None:
    instance = AuthoritativeInstance("x", Software.UNBOUND, ("127.53.250.1",), zones)
    with pytest.raises(LabError, match="not an authoritative server"):
        prepare_authoritative(instance, tmp_path / "auth")


def test_missing_zone_file_is_refused(tmp_path: Path) -> None:
    zone = ZoneFile("tld.", tmp_path / "absent.zone")
    instance = AuthoritativeInstance("x", Software.KNOT, ("127.53.250.1",), (zone,))
    with pytest.raises(LabError, match="does not exist"):
        prepare_authoritative(instance, tmp_path / "auth")


def test_trust_anchor_must_hold_root_ds(lab_files: tuple[Path, Path], tmp_path: Path) -> None:
    hints, _ = lab_files
    anchor = tmp_path / "bad.ds"
    anchor.write_text("tld. 3600 IN A 127.53.250.1\n", encoding="utf-8")
    with pytest.raises(LabError, match="not the root's anchor"):
        prepare_resolver(
            resolver(Software.BIND), tmp_path / "res", root_hints=hints, trust_anchor=anchor
        )


@pytest.mark.parametrize("software", [Software.UNBOUND, Software.KRESD, Software.PDNS_RECURSOR])
def test_flushing_a_resolver_that_is_not_running_raises(
    software: Software, lab_files: tuple[Path, Path], tmp_path: Path
) -> None:
    hints, anchor = lab_files
    instance = resolver(software)
    launch = prepare_resolver(instance, tmp_path / "res", root_hints=hints, trust_anchor=anchor)
    with pytest.raises(LabError):
        flush_resolver(instance, launch.workdir)


@pytest.mark.parametrize("software", list(Software))
def test_every_required_binary_names_its_package(software: Software) -> None:
    for binary in required_binaries(software):
        assert debian_package(binary) == BINARY_PACKAGES[binary]
    for binary in checkconf_argv(software, Path("/nonexistent"))[:1]:
        assert binary in BINARY_PACKAGES


def test_unknown_binary_has_no_package() -> None:
    with pytest.raises(LabError):
        debian_package("no-such-server")


@pytest.mark.parametrize("software", [Software.KNOT, Software.PDNS])
def test_online_signers_import_their_key_before_they_start(
    software: Software, zones: tuple[ZoneFile, ...], tmp_path: Path
) -> None:
    """Knot's key database and PowerDNS's DNSSEC database hold the zone's key once the
    instance is prepared: the server signs with it from its first answer."""
    key = signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=True)
    pem, private = tmp_path / "tld.pem", tmp_path / "tld.private"
    pem.write_bytes(key.private.to_pem())
    private.write_text(signing.bind_private_key(key), encoding="utf-8")
    online = OnlineSigning(pem, private, int(key.algorithm), ONLINE_DENIAL[software])
    root, tld = zones
    instance = authoritative(software, (root, ZoneFile(tld.origin, tld.path, online)))
    launch = prepare_authoritative(instance, tmp_path / "auth")
    if software is Software.KNOT:
        argv = ["keymgr", "-c", str(config_path(software, launch.workdir)), "tld.", "list"]
    else:
        argv = ["pdnsutil", f"--config-dir={launch.workdir}", "show-zone", "tld."]
    listed = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True).stdout
    assert str(key.key_tag) in listed, listed
    if software is Software.PDNS:
        assert "NARROW" in listed, listed


def test_a_server_cannot_sign_online_in_another_style(
    zones: tuple[ZoneFile, ...], tmp_path: Path
) -> None:
    online = OnlineSigning(
        tmp_path / "k.pem", tmp_path / "k.private", 13, ONLINE_DENIAL[Software.PDNS]
    )
    root, tld = zones
    instance = authoritative(Software.KNOT, (root, ZoneFile(tld.origin, tld.path, online)))
    with pytest.raises(LabError, match=r"cannot sign tld\. online"):
        prepare_authoritative(instance, tmp_path / "auth")
    nsd = authoritative(Software.NSD, (root, ZoneFile(tld.origin, tld.path, online)))
    with pytest.raises(LabError, match=r"cannot sign tld\. online"):
        prepare_authoritative(nsd, tmp_path / "nsd")


def test_pdns_recursor_knows_only_the_lab_root(
    lab_files: tuple[Path, Path], tmp_path: Path
) -> None:
    """Its built-in root anchors are cleared, the lab's DS added; it may query the lab's
    addresses (its default never-query list holds 127.0.0.0/8) and nothing else."""
    hints, anchor = lab_files
    launch = prepare_resolver(
        resolver(Software.PDNS_RECURSOR), tmp_path / "res", root_hints=hints, trust_anchor=anchor
    )
    lua = (launch.workdir / "recursor.lua").read_text()
    assert lua.splitlines()[0] == "clearTA()"
    assert "addTA('.', \"64090 13 2 f9322f79" in lua
    conf = config_path(Software.PDNS_RECURSOR, launch.workdir).read_text()
    [dont_query] = [line for line in conf.splitlines() if line.startswith("dont-query=")]
    assert "127.0.0.0/8" not in dont_query and "::/0" in dont_query
    assert "128.0.0.0/1" in dont_query  # outside the lab
    assert "extended-resolution-errors=yes" in conf


def test_a_signer_with_a_wrong_clock_sees_its_clock_off(
    zones: tuple[ZoneFile, ...], tmp_path: Path
) -> None:
    """The environment a wrong-clock server starts in moves a real program's clock by the
    offset (libfaketime preloaded); a server with the right clock starts in the usual one."""
    key = signing.generate_key(Algorithm.ECDSAP256SHA256, ksk=True)
    pem, private = tmp_path / "tld.pem", tmp_path / "tld.private"
    pem.write_bytes(key.private.to_pem())
    private.write_text(signing.bind_private_key(key), encoding="utf-8")
    online = OnlineSigning(pem, private, int(key.algorithm), ONLINE_DENIAL[Software.KNOT])
    root, tld = zones
    signed = authoritative(Software.KNOT, (root, ZoneFile(tld.origin, tld.path, online)))
    offset = 3 * 86400
    launch = prepare_authoritative(replace(signed, clock_offset=offset), tmp_path / "auth")
    env = {**os.environ, **dict(launch.env)}
    seen = subprocess.run(
        ["date", "+%s"], env=env, capture_output=True, text=True, timeout=10, check=True
    ).stdout
    assert abs(int(seen) - (time.time() + offset)) < 60
    assert prepare_authoritative(signed, tmp_path / "right").env == ()


def test_a_wrong_clock_without_online_signing_is_refused(
    zones: tuple[ZoneFile, ...], tmp_path: Path
) -> None:
    """A server that only serves files never reads its clock to sign: an offset there would
    change nothing, so it is a mistake in the catalogue."""
    instance = replace(authoritative(Software.KNOT, zones), clock_offset=60)
    with pytest.raises(LabError, match="wrong clock changes nothing"):
        prepare_authoritative(instance, tmp_path / "auth")
