"""The lab's commands: up, down, status, list, verify, diagnose.

The lab's machinery (servers, signing, resolvers) loads only when a lab command runs, so
that other commands start fast.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnssec_doctor.errors import ExitCode
from dnssec_doctor.lab.profile import lab_directory, load_profile

if TYPE_CHECKING:
    from dnssec_doctor.lab.scenarios import Scenario


def add_lab_commands(commands: Any) -> None:
    lab = commands.add_parser(
        "lab",
        help="the private signed DNS hierarchy on loopback, with every failure on purpose",
        description="Run the lab: a private root, TLDs and one zone per failure scenario, "
        "served by NSD, Knot DNS, BIND and PowerDNS on 127.53.0.0/16, with Unbound, BIND, Knot "
        "Resolver and PowerDNS Recursor as resolvers that know only the lab's root.",
    )
    directory_help = f"lab directory (default: $DNSSEC_DOCTOR_LAB_DIR or {lab_directory(None)})"
    lab.add_argument("--dir", "--lab-dir", dest="dir", type=Path, default=None, help=directory_help)
    lab_commands = lab.add_subparsers(
        dest="lab_command", metavar="ACTION", required=True, parser_class=type(lab)
    )
    actions: list[argparse.ArgumentParser] = []
    up = lab_commands.add_parser("up", help="build, sign and start the lab (idempotent)")
    actions.append(up)
    up.add_argument(
        "--bulk",
        type=int,
        default=None,
        metavar="N",
        help="also a TLD bulk. with N signed zones, a known share broken in known ways, "
        "and their manifest (for scan)",
    )
    up.add_argument(
        "--private-network",
        action="store_true",
        help="demand the scenarios that need a private network namespace (servers on IPv6 "
        "fd53::/64, firewall rules): refused outside one (unshare -n); without it, they are "
        "served there and left out elsewhere",
    )
    actions.append(
        lab_commands.add_parser("down", help="stop the lab's processes and remove what it added")
    )
    actions.append(lab_commands.add_parser("status", help="which lab processes run"))
    actions.append(
        lab_commands.add_parser(
            "verify", help="ask every validating resolver each scenario's question and compare"
        )
    )
    actions.append(
        lab_commands.add_parser(
            "diagnose",
            help="run dnssec-doctor check on every scenario and compare with the catalogue",
        )
    )
    listing = lab_commands.add_parser("list", help="the catalogue of failure scenarios")
    listing.add_argument("--json", action="store_true", help="machine-readable catalogue")
    actions.append(listing)
    for action in actions:
        # lab up --dir X works as lab --dir X up does (SUPPRESS: absent, the lab's own stays).
        action.add_argument(
            "--dir",
            "--lab-dir",
            dest="dir",
            type=Path,
            default=argparse.SUPPRESS,
            help=directory_help,
        )


def run_lab(args: argparse.Namespace) -> int:
    from dnssec_doctor.lab import runtime
    from dnssec_doctor.lab.scenarios import SCENARIOS

    directory = lab_directory(args.dir)
    if args.lab_command == "up":
        started = time.monotonic()
        runtime.check_environment()
        already = runtime.is_up(directory)
        if already and args.bulk is not None and load_profile(directory).bulk != args.bulk:
            already = False  # rebuilt with another bulk TLD
        profile = runtime.up(
            directory, bulk=args.bulk, private_network=True if args.private_network else None
        )
        took = time.monotonic() - started
        served = [s for s in SCENARIOS if profile.private_network or not s.private_network]
        print(
            f"lab {'already ' if already else ''}up in {directory} ({took:.1f} s); "
            f"{len(served)} scenarios"
        )
        if profile.private_network:
            print("  namespace:     private: IPv6 on fd53::/64 on lo, the lab's firewall rules")
        else:
            left_out = len(SCENARIOS) - len(served)
            reason = runtime.private_network_unavailable() or "not asked for"
            print(
                f"  namespace:     not private ({reason}): {left_out} scenarios that need IPv6 or "
                "firewall rules left out (run the lab in unshare -n to have them)"
            )
        if profile.bulk:
            print(f"  bulk TLD:      bulk. with {profile.bulk} zones")
            print(f"  manifest:      {profile.bulk_manifest}")
        print(f"  root hints:    {profile.root_hints}")
        print(f"  trust anchor:  {profile.trust_anchor_ds} (DS)")
        print(f"                 {profile.trust_anchor_dnskey} (DNSKEY)")
        for resolver in profile.resolvers:
            kind = "validating" if resolver.validating else "non-validating"
            print(f"  resolver:      {resolver.address}  {resolver.software} ({kind})")
        return int(ExitCode.OK)
    if args.lab_command == "down":
        started = time.monotonic()
        was_up = runtime.down(directory)
        took = time.monotonic() - started
        print(f"lab down ({took:.1f} s)" if was_up else "lab was not up")
        return int(ExitCode.OK)
    if args.lab_command == "status":
        statuses = runtime.status(directory)
        if not statuses:
            print("lab is not up")
            return int(ExitCode.ENVIRONMENT)  # as every command that needs the lab
        for entry in statuses:
            state = "running" if entry.running else "STOPPED"
            print(f"{entry.name:<24} pid {entry.pid:<8} {entry.address:<15} {state}")
        return int(ExitCode.OK if all(s.running for s in statuses) else ExitCode.ENVIRONMENT)
    if args.lab_command == "verify":
        return verify_lab(directory)
    if args.lab_command == "diagnose":
        return diagnose_lab(directory)
    if args.lab_command == "list":
        if args.json:
            print(json.dumps([scenario_json(s) for s in SCENARIOS], indent=2))
        else:
            print(render_catalogue(SCENARIOS))
        return int(ExitCode.OK)
    raise AssertionError(args.lab_command)


def verify_lab(directory: Path) -> int:
    from dnssec_doctor.lab import runtime
    from dnssec_doctor.lab.scenarios import SCENARIOS
    from dnssec_doctor.lab.verify import verify_scenario

    profile = load_profile(directory)
    runtime.flush_resolvers(directory)
    failures = 0
    for scenario in SCENARIOS:
        if scenario.private_network and not profile.private_network:
            print(f"skip {scenario.query_name:<40} not served: no private network namespace")
            continue
        for comparison in verify_scenario(profile, scenario):
            answer = comparison.answer
            ede = ",".join(str(c) for c in answer.ede_codes) or "-"
            mark = "ok  " if comparison.ok else "DIFF"
            line = (
                f"{mark} {scenario.query_name:<40} {comparison.resolver.name:<8} "
                f"{answer.rcode:<9} {'AD' if answer.ad else '--'} EDE {ede}"
            )
            if not comparison.ok:
                failures += 1
                line += "   <- " + "; ".join(comparison.problems)
            print(line)
    print(f"{failures} differences from the catalogue")
    return int(ExitCode.OK if failures == 0 else ExitCode.DNSSEC_FAILURE)


def diagnose_lab(directory: Path) -> int:
    """dnssec-doctor's own diagnosis of every scenario, beside what the catalogue declares."""
    from dnssec_doctor.pipeline import analysis_options, analyze, lab_catalogue, lab_settings, probe

    profile = load_profile(directory)
    settings = lab_settings(profile)
    differences = 0
    print(f"{'scenario':<26} {'verdict':<12} {'EDE':<4} {'breaks at':<30} {'cause':<30} took")
    for scenario in lab_catalogue():
        if scenario.private_network and not profile.private_network:
            print(f"{scenario.slug:<26} not served: no private network namespace")
            continue
        started = time.monotonic()
        snapshot = probe(scenario.query_name, scenario.qtype, settings)
        report = analyze(snapshot, analysis_options(snapshot))
        took = time.monotonic() - started
        got = report.diagnosis
        cause = got.causes[0].code if got.causes else "-"
        expected = scenario.diagnosis
        same = (got.verdict, got.ede, got.zone, None if cause == "-" else cause) == (
            expected.verdict,
            expected.ede,
            expected.zone,
            expected.cause,
        )
        differences += not same
        ede = "-" if got.ede is None else str(got.ede)
        line = (
            f"{scenario.slug:<26} {got.verdict.value:<12} {ede:<4} {got.zone or '-':<30} "
            f"{cause:<30} {took:.2f} s"
        )
        if not same:
            line += (
                f"   <- catalogue: {expected.verdict.value} {expected.ede} {expected.zone} "
                f"{expected.cause}"
            )
        print(line)
    print(f"{differences} differences from the catalogue")
    return int(ExitCode.OK if differences == 0 else ExitCode.DNSSEC_FAILURE)


def scenario_json(scenario: Scenario) -> dict[str, object]:
    return {
        "scenario": scenario.slug,
        "zone": scenario.zone,
        "broken": scenario.broken,
        "query": {"name": scenario.query_name, "type": scenario.qtype},
        "private_network": scenario.private_network,
        "resolver": {
            "rcode": scenario.resolver.rcode,
            "ad": scenario.resolver.ad,
            "ede": scenario.resolver.ede,
            "differs": {
                software: {"rcode": rcode, "ad": ad}
                for software, (rcode, ad) in scenario.resolver.differs.items()
            },
            "sometimes": {
                software: {"rcode": rcode, "ad": ad, "ede": ede}
                for software, (rcode, ad, ede) in scenario.resolver.sometimes.items()
            },
        },
        "diagnosis": {
            "verdict": scenario.diagnosis.verdict.value,
            "ede": scenario.diagnosis.ede,
            "zone": scenario.diagnosis.zone,
            "cause": scenario.diagnosis.cause,
            "warnings": list(scenario.diagnosis.warnings),
        },
    }


def render_catalogue(scenarios: Sequence[Scenario]) -> str:
    lines = []
    for scenario in scenarios:
        outcome = scenario.resolver
        ede = ", ".join(
            f"{software} {code}" for software, code in outcome.ede.items() if code is not None
        )
        expected = scenario.diagnosis
        lines += [
            f"{scenario.zone}",
            f"    broken:    {scenario.broken}",
            *(
                ["    needs:     a private network namespace (IPv6, firewall rules)"]
                if scenario.private_network
                else []
            ),
            f"    ask:       {scenario.query_name} {scenario.qtype}",
            f"    resolvers: {outcome.rcode}{' AD' if outcome.ad else ''}"
            + (f" (EDE {ede})" if ede else "")
            + "".join(
                f"; {software}: {rcode}{' AD' if ad else ''}"
                for software, (rcode, ad) in outcome.differs.items()
            )
            + "".join(
                f"; {software} on some runs: {rcode}{' AD' if ad else ''}"
                + (f" (EDE {code} or none)" if code is not None else "")
                for software, (rcode, ad, code) in outcome.sometimes.items()
            ),
            f"    diagnosis: {expected.verdict.value}"
            + (f", EDE {expected.ede}" if expected.ede is not None else "")
            + (f", chain breaks at {expected.zone}" if expected.zone else "")
            + (f", cause {expected.cause}" if expected.cause else "")
            + (f", warns {' '.join(expected.warnings)}" if expected.warnings else ""),
            "",
        ]
    return "\n".join(lines).rstrip()
