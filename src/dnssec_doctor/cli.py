"""The command line: parse arguments, call the pipeline, print, exit with a documented code.

Every ``DoctorError`` becomes one line on standard error and its exit code; nothing
else is allowed to escape as a traceback except a genuine bug.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from dnssec_doctor import __version__
from dnssec_doctor.errors import DoctorError, ExitCode
from dnssec_doctor.render.terminal import printable

# Start-up is the first thing a check waits for: each group of commands is imported only
# when one of its commands runs (all of them for --help or a command name that is not
# known), so `check` does not load zone verification, change windows, watch or the lab.

Runner = Callable[[argparse.Namespace], int]
Group = tuple[Callable[[Any], None], Mapping[str, Runner]]  # add the parsers, run a command


def _check_group() -> Group:
    from dnssec_doctor.commands import CHECK_COMMANDS, add_check_commands

    return add_check_commands, CHECK_COMMANDS


def _zone_group() -> Group:
    from dnssec_doctor.verify.command import add_zone_commands, run_zone

    return add_zone_commands, {"zone": run_zone}


def _change_group() -> Group:
    from dnssec_doctor.change.commands import CHANGE_COMMANDS, add_change_commands

    return add_change_commands, CHANGE_COMMANDS


def _watch_group() -> Group:
    from dnssec_doctor.watch.commands import WATCH_COMMANDS, add_watch_commands

    return add_watch_commands, WATCH_COMMANDS


def _scan_group() -> Group:
    from dnssec_doctor.scan.commands import SCAN_COMMANDS, add_scan_commands

    return add_scan_commands, SCAN_COMMANDS


def _replay_group() -> Group:
    from dnssec_doctor.replay.command import add_replay_command, run_replay

    return add_replay_command, {"replay": run_replay}


def _lab_group() -> Group:
    from dnssec_doctor.lab.commands import add_lab_commands, run_lab

    return add_lab_commands, {"lab": run_lab}


# The command names of each group, in the order --help lists them (a test checks them
# against what each group registers).
GROUPS: tuple[tuple[tuple[str, ...], Callable[[], Group]], ...] = (
    (("check", "probe", "analyze", "serve", "codes", "explain"), _check_group),
    (("zone",), _zone_group),
    (("diff", "go-insecure"), _change_group),
    (("scan",), _scan_group),
    (("watch",), _watch_group),
    (("replay",), _replay_group),
    (("lab",), _lab_group),
)


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; 2 means "DNSSEC failure" here, so use 4."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(int(ExitCode.USAGE), f"{self.prog}: error: {message}\n")


def build_parser(command: str | None = None) -> tuple[argparse.ArgumentParser, dict[str, Runner]]:
    """The parser and the runners of ``command``'s group, or of every group when
    ``command`` is None or not a command name."""
    chosen = [load for names, load in GROUPS if command in names]
    if not chosen and command != "--version":  # --version needs no command at all
        chosen = [load for _, load in GROUPS]
    parser = _Parser(
        prog="dnssec-doctor",
        description="Find the broken link in a DNSSEC chain of trust and how to recover.",
        epilog="exit codes: 0 healthy, 1 healthy with warnings, 2 DNSSEC failure, "
        "3 broken for another reason, 4 usage or input error, 5 environment problem, "
        "70 internal error (a bug)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    runners: dict[str, Runner] = {}
    for load in chosen:
        add_commands, group_runners = load()
        add_commands(commands)
        runners.update(group_runners)
    return parser, runners


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _join_negative_at(sys.argv[1:] if argv is None else argv)
    parser, runners = build_parser(arguments[0] if arguments else None)
    args = parser.parse_args(arguments)
    try:
        if args.command in runners:
            return runners[args.command](args)
    except DoctorError as error:
        print(f"dnssec-doctor: {_cut(printable(str(error)))}", file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("dnssec-doctor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (dnssec-doctor check ... | head): nothing to report, and
        # the interpreter's last flush must not fail on the closed pipe either.
        _silence_stdout()
        return 141  # 128 + SIGPIPE, what a shell shows for a writer killed by the pipe
    except Exception as error:
        if os.environ.get("DNSSEC_DOCTOR_DEBUG"):
            raise
        print(
            f"dnssec-doctor: internal error: {type(error).__name__}: "
            f"{_cut(printable(str(error)), 300)} (fix: this is a bug; DNSSEC_DOCTOR_DEBUG=1 "
            "shows the traceback to report)",
            file=sys.stderr,
        )
        return int(ExitCode.INTERNAL)
    parser.error(f"unknown command {args.command}")
    return int(ExitCode.USAGE)  # pragma: no cover - parser.error exits


def _cut(text: str, limit: int = 1000) -> str:
    """One error line stays readable whatever it quotes (a line of a 100 MB file)."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _join_negative_at(argv: Sequence[str]) -> list[str]:
    """argparse takes the "-12h" of "--at -12h" for an option; pass it as "--at=-12h"."""
    joined: list[str] = []
    for token in argv:
        if joined and joined[-1] == "--at" and token[:1] == "-" and token[:2] != "--":
            joined[-1] = f"--at={token}"
        else:
            joined.append(token)
    return joined


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor behind stdout (tests)
        pass
