"""One way to read each option: one duration parser (--at's shifts, watch --threshold and
zone verify --expire-warning all read 3d, 36h, 90m, 7200s and 7200 alike) and one set of
probe options for every command that probes."""

from __future__ import annotations

import argparse

import pytest

from dnssec_doctor.arguments import parse_at, parse_duration
from dnssec_doctor.errors import UsageError

REFERENCE = 1_800_000_000.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("7200", 7200),
        ("7200s", 7200),
        ("90m", 5400),
        ("36h", 129600),
        ("1.5h", 5400),
        ("3d", 259200),
        ("+3d", 259200),
        ("2w", 1209600),
        (" 3 d ", 259200),
        ("3days", 259200),  # watch --threshold 3days: the words people type
        ("72 hours", 259200),
        ("1week", 604800),
        ("90min", 5400),
    ],
)
def test_a_duration_is_read_the_same_by_every_option(text: str, seconds: float) -> None:
    assert parse_duration(text, "--threshold") == seconds
    assert parse_duration(text, "--expire-warning") == seconds
    assert parse_at("+" + text.strip().lstrip("+"), REFERENCE) == REFERENCE + seconds


@pytest.mark.parametrize(
    "text",
    ["", "3x", "d", "-3d", "3d4h", "three days", "1e3", "3dayz", "3 d h", "9" * 400, "5300w"],
)
def test_a_bad_duration_is_one_line_naming_the_option(text: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_duration(text, "--threshold")
    message = str(raised.value)
    assert message.startswith(f"invalid duration {text!r} for --threshold")
    assert "3d, 36h" in message and "\n" not in message


def test_a_positive_duration_refuses_zero() -> None:
    assert parse_duration("0", "--expire-warning") == 0
    for zero in ("0", "0d", "0.0s"):
        with pytest.raises(UsageError):
            parse_duration(zero, "--threshold", positive=True)


def test_at_takes_shifts_with_a_sign_or_a_unit() -> None:
    assert parse_at("-12h", REFERENCE) == REFERENCE - 43200
    assert parse_at("3d", REFERENCE) == REFERENCE + 259200
    assert parse_at("+5", REFERENCE) == REFERENCE + 5
    assert parse_at("@1795000000", REFERENCE) == 1795000000
    with pytest.raises(UsageError, match="invalid --at '2026'"):
        parse_at("2026", REFERENCE)  # a bare number is no shift (nor a date)


# --- one set of probe options -------------------------------------------------------------

SOURCE_OPTIONS = {"--root-hints", "--trust-anchor", "--lab", "--lab-dir", "--timeout", "--deadline"}
RESOLVER_OPTIONS = {"--resolver", "--no-resolvers"}


def _options(command: str) -> set[str]:
    from dnssec_doctor.cli import build_parser

    parser, _ = build_parser(command)
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {o for action in commands.choices[command]._actions for o in action.option_strings}


@pytest.mark.parametrize("command", ["check", "probe", "serve", "watch", "go-insecure"])
def test_every_probing_command_takes_the_same_probe_options(command: str) -> None:
    options = _options(command)
    assert options >= SOURCE_OPTIONS
    if command == "go-insecure":  # it asks the parent zone's servers, never a resolver
        assert not RESOLVER_OPTIONS & options
    else:
        assert options >= RESOLVER_OPTIONS


def test_the_options_read_back_as_one_sources_value() -> None:
    from dnssec_doctor.arguments import source_options
    from dnssec_doctor.cli import build_parser

    parser, _ = build_parser("watch")
    args = parser.parse_args(["watch", "example.", "--lab", "--timeout", "3", "--no-resolvers"])
    sources = source_options(args)
    assert (sources.lab, sources.timeout, sources.no_resolvers) == (True, 3.0, True)
    parser, _ = build_parser("go-insecure")
    sources = source_options(parser.parse_args(["go-insecure", "example."]))
    assert sources.no_resolvers and sources.resolvers == ()
