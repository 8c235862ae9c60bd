"""Command-line arguments shared by several commands (check, probe, serve, zone verify,
watch). Light on purpose: every command imports it before it knows which one runs."""

from __future__ import annotations

import argparse
import datetime
import re
from pathlib import Path
from typing import TYPE_CHECKING

from dnssec_doctor.errors import UsageError

if TYPE_CHECKING:
    from dnssec_doctor.pipeline import Sources


def source_options(args: argparse.Namespace) -> Sources:
    """The probe options parsed by ``add_source_arguments``."""
    from dnssec_doctor.pipeline import Sources

    if args.lab_dir is not None and not args.lab:
        # Ignoring it would send the check to the real root instead of the lab.
        raise UsageError("--lab-dir applies with --lab", hint="add --lab, or leave --lab-dir out")
    if getattr(args, "no_resolvers", False) and getattr(args, "resolver", None):
        # Dropping either would answer another question than the one asked.
        raise UsageError(
            "--no-resolvers and --resolver ask for two things",
            hint="give --resolver for those resolvers only, or --no-resolvers for none",
        )

    return Sources(
        lab=args.lab,
        lab_dir=args.lab_dir,
        root_hints=args.root_hints,
        trust_anchor=args.trust_anchor,
        resolvers=tuple(getattr(args, "resolver", None) or ()),
        no_resolvers=getattr(args, "no_resolvers", True),
        timeout=args.timeout,
        deadline=args.deadline,
    )


def add_source_arguments(
    parser: argparse.ArgumentParser,
    *,
    resolvers: str | None,
    deadline: float = 20.0,
    deadline_help: str = "per probe",
) -> None:
    """Where checks start and whom they ask: the one set of probe options of check, probe,
    serve, watch and go-insecure (``resolvers`` None: a command that asks no resolver)."""
    if resolvers is not None:
        parser.add_argument(
            "--resolver",
            action="append",
            default=None,
            metavar="ADDR",
            help=f"a resolver to ask (repeatable; default: {resolvers})",
        )
        parser.add_argument("--no-resolvers", action="store_true", help="ask no resolver")
    parser.add_argument("--root-hints", type=Path, help="root hints in named.root form")
    parser.add_argument(
        "--trust-anchor",
        type=Path,
        help="DS or DNSKEY records in zone-file form: the root's, or any zone's (an island "
        "of trust; zones outside every anchor are insecure)",
    )
    parser.add_argument(
        "--lab",
        action="store_true",
        help="use the running lab's root hints, trust anchor and resolvers (and ask only loopback)",
    )
    parser.add_argument("--lab-dir", type=Path, help="the lab directory (with --lab)")
    parser.add_argument(
        "--timeout", type=float, default=2.0, metavar="SECONDS", help="per query (default 2)"
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=deadline,
        metavar="SECONDS",
        help=f"{deadline_help} (default {deadline:g})",
    )


# Durations, in every option that takes one (--at's shifts, --threshold, --expire-warning,
# check --nagios's -w/-c, the --interval of watch and go-insecure, --give-up-after):
# seconds, or a number with a unit: a letter (3d, 36h) or a word (3days, 36 hours). The
# one parser of durations is ``duration_seconds``. (--timeout and --deadline stay plain
# seconds: fractions of a second, bounded by pipeline.MAX_SECONDS.)
_DURATION = re.compile(r"^\+?(\d+(?:\.\d+)?)\s*([a-z]*)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNIT_WORDS = {
    "": "s",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
    "week": "w",
    "weeks": "w",
}
DURATION_HINT = "use 3d, 36h, 90m, +3d, 3days or seconds"
_LONGEST_DURATION = 100 * 365 * 86400.0


def duration_seconds(text: str) -> float | None:
    """The seconds ``text`` names (3d, 72h, 90m, 7200s, 7200, +3d, 3days, 36 hours), None
    if it names none."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        return None
    unit = _UNIT_WORDS.get(match.group(2), match.group(2))
    if unit not in _UNIT_SECONDS:
        return None
    seconds = float(match.group(1)) * _UNIT_SECONDS[unit]
    # Beyond a hundred years is a typo (and "9" * 400 would be infinite): none named.
    return seconds if seconds <= _LONGEST_DURATION else None


def parse_duration(text: str, option: str, *, positive: bool = False) -> float:
    """A duration option's value in seconds (``positive``: zero refused too)."""
    seconds = duration_seconds(text)
    if seconds is None or (positive and seconds <= 0):
        raise UsageError(f"invalid duration {text!r} for {option}", hint=DURATION_HINT)
    return seconds


def parse_at(text: str | None, reference: float) -> float:
    """--at: ISO 8601, @EPOCH, or a shift like +3d, -12h or 3d relative to ``reference``
    (a shift has a sign or a unit, so that a bare number is not taken for one)."""
    if text is None:
        return reference
    text = text.strip()
    if text.startswith("@"):
        try:
            return _moment(text, float(text[1:]))
        except ValueError:
            raise UsageError(f"invalid --at {text!r}: @ must be followed by seconds") from None
    signed = text[:1] in ("+", "-")
    shift = duration_seconds(text[1:] if signed else text)
    if shift is not None and (signed or text[-1:].isalpha()):
        return _moment(text, reference + (-shift if text.startswith("-") else shift))
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"invalid --at {text!r}", hint="use 2026-12-01T00:00:00Z, @1795000000 or +3d"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return _moment(text, moment.timestamp())


_LAST_MOMENT = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC).timestamp()


def _moment(text: str, timestamp: float) -> float:
    """A moment the analysis and the reports can handle: from 1970 to the year 9999
    (nan, inf or 1e20 would crash the signature arithmetic and the timestamps)."""
    if not 0 <= timestamp <= _LAST_MOMENT:  # also false for nan
        raise UsageError(
            f"invalid --at {text!r}: outside 1970-01-01 .. 9999-12-31",
            hint="use 2026-12-01T00:00:00Z, @1795000000 or +3d",
        )
    return timestamp


def add_profile_argument(parser: argparse.ArgumentParser, *, default: tuple[str, ...] = ()) -> None:
    """The validator profile: retired algorithms a given validator build still validates."""
    shown = ", ".join(default) if default else "none"
    parser.add_argument(
        "--accept-algorithm",
        action="append",
        default=None,
        metavar="ALG",
        help="judge as a validator build that still validates this retired algorithm "
        "(DSA, DSANSEC3SHA1, RSAMD5 or its number; repeatable; reported as "
        f"ALGORITHM_ACCEPTED_BY_PROFILE; default: {shown}); 'none' for none",
    )


def parse_profile(values: list[str] | None, default: tuple[str, ...] = ()) -> frozenset[int]:
    """--accept-algorithm values as algorithm numbers; only retired ones are accepted
    (the others are validated anyway, or cannot be)."""
    from dns.dnssectypes import Algorithm

    from dnssec_doctor.analysis.signatures import RETIRED_ALGORITHMS

    chosen: set[int] = set()
    for value in default if values is None else values:
        if value.lower() == "none":
            continue
        try:
            number = (
                int(value) if value.isdigit() else int(Algorithm[value.upper().replace("-", "")])
            )
        except (KeyError, ValueError):
            number = -1
        if number not in RETIRED_ALGORITHMS:
            names = ", ".join(f"{Algorithm(a).name} ({a})" for a in sorted(RETIRED_ALGORITHMS))
            raise UsageError(
                f"--accept-algorithm {value!r}: not a retired algorithm a profile can accept",
                hint=f"one of {names}; current algorithms are always validated",
            )
        chosen.add(number)
    return frozenset(chosen)
