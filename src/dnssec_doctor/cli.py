"""The command line: parse arguments, call the pipeline, print, exit with a documented code.

Every ``DoctorError`` becomes one line on standard error and its exit code; nothing
else is allowed to escape as a traceback except a genuine bug.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from dnssec_doctor import __version__
from dnssec_doctor.errors import DoctorError, ExitCode

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
    """argparse exits 2 on bad usage; 2 means "DNSSEC failure" here, so use 4.

    argparse also makes a formatter for every option it adds (to check the option's
    metavar), each asking the terminal's width through ``shutil``, whose import loads bz2,
    lzma and zlib: a few ms of every command's start-up for text nobody sees. The width
    is asked once usage or help is shown."""

    _shown = False

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(int(ExitCode.USAGE), f"{self.prog}: error: {message}\n")

    def format_usage(self) -> str:
        self._shown = True
        return super().format_usage()

    def format_help(self) -> str:
        self._shown = True
        return super().format_help()

    def _get_formatter(self) -> argparse.HelpFormatter:
        if self._shown:
            return super()._get_formatter()
        # The width of text that is not shown (a metavar checked, the prog of a command).
        return self.formatter_class(prog=self.prog, width=100)  # type: ignore[call-arg]


def build_parser(command: str | None = None) -> tuple[argparse.ArgumentParser, dict[str, Runner]]:
    """The parser and the runners of ``command``'s group, or of every group when
    ``command`` is None or not a command name."""
    chosen = [load for names, load in GROUPS if command in names]
    if not chosen and command != "--version":  # --version needs no command at all
        chosen = [load for _, load in GROUPS]
    parser = _Parser(
        prog="dnssec-doctor",
        description="Find the broken link in a DNSSEC chain of trust and how to recover.",
        epilog=_exit_epilog(tuple(_SHORT_MEANINGS)),
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
    for name, subparser in commands.choices.items():
        _document(name, subparser)
    return parser, runners


# The exit codes each command can give, when they are the shared ones (commands whose codes
# mean something of their own, diff, go-insecure, replay, zone verify, write their epilog).
COMMAND_EXIT_CODES: dict[str, tuple[int, ...]] = {
    "check": (0, 1, 2, 3, 4, 5, 70),
    "analyze": (0, 1, 2, 3, 4, 70),
    "probe": (0, 4, 5, 70),
    "serve": (0, 4, 5, 70),
    "codes": (0, 70),
    "explain": (0, 4, 70),
    "watch": (0, 4, 5, 70),
    "lab": (0, 2, 4, 5, 70),
    "zone": (0, 1, 2, 4, 70),
}
_SHORT_MEANINGS = {
    0: "healthy / done",
    1: "healthy with warnings",
    2: "DNSSEC failure",
    3: "broken for another reason (unreachable, indeterminate, the name does not exist)",
    4: "usage or input error",
    5: "environment problem (not root, a package missing, the lab not up)",
    70: "internal error (a bug)",
}


def _exit_epilog(codes: Sequence[int]) -> str:
    return "exit codes: " + ", ".join(f"{code} {_SHORT_MEANINGS[code]}" for code in codes)


# Commands whose exit codes mean something of their own.
_OWN_EPILOGS = {
    "replay": "exit codes: 0 every compared step agrees, 2 a step differs, 4 a file that "
    "cannot be read, 70 internal error (a bug)",
    "zone verify": "exit codes: 0 valid, 1 valid with warnings, 2 invalid, 4 usage or input "
    "error (a file that cannot be read), 70 internal error (a bug)",
}


def _document(name: str, parser: argparse.ArgumentParser, parent: str | None = None) -> None:
    """Every command (and action: lab up, zone verify) has a description and lists its
    exit codes in --help."""
    if parser.description is None:
        parser.description = _HELPS.get(name) or _action_help(parser)
    own = f"{parser.description} {parser.epilog}"
    if "exit codes:" not in own and "Exit 0 " not in own:  # its own list of codes stays
        codes = COMMAND_EXIT_CODES.get(name) or COMMAND_EXIT_CODES.get(parent or "")
        parser.epilog = _OWN_EPILOGS.get(name) or _exit_epilog(codes or tuple(_SHORT_MEANINGS))
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child, subparser in action.choices.items():
                _document(f"{name} {child}", subparser, parent=name)


def _action_help(parser: argparse.ArgumentParser) -> str | None:
    """An action's description from the help line its parent lists it with."""
    return _ACTION_HELPS.get(parser.prog.removeprefix("dnssec-doctor "))


_ACTION_HELPS = {
    "lab up": "Build, sign and start the lab (idempotent): the root, the TLDs and one zone per "
    "failure scenario on 127.53.0.0/16, and the resolvers that know only the lab's root.",
    "lab down": "Stop exactly what lab up started and remove what it added.",
    "lab status": "Which lab processes run (exit 5 when the lab is not up or a process stopped).",
    "lab verify": "Ask every validating resolver each scenario's question and compare the "
    "answers (rcode, AD, EDE) with the catalogue (exit 2 on a difference).",
    "lab diagnose": "Run dnssec-doctor check on every scenario and compare the diagnosis with "
    "the catalogue (exit 2 on a difference).",
    "lab list": "The catalogue of failure scenarios: what is broken, the question to ask, what "
    "resolvers answer and the diagnosis to reach.",
}


_HELPS = {
    "zone": "Zone files: verify a signed zone before it goes live (zone verify FILE), with the "
    "same finding codes as check.",
    "codes": "List every finding code of the code table: family, severity and the EDE a "
    "validator gives (--json: every fact of the table).",
    "probe": "Collect only: ask the chain of trust from the root to NAME and the resolvers, "
    "and write every response as the bytes received to a versioned JSON snapshot, for "
    "analyze (offline, later, elsewhere).",
    "analyze": "Diagnose a snapshot offline: ours (probe, check -o) or the JSON of dnsviz "
    "probe, with the same result as check at the snapshot's time.",
}


def main(argv: Sequence[str] | None = None) -> int:
    # Imported here, after run() has installed the dataclass cache (it defines one).
    from dnssec_doctor.render.terminal import printable

    arguments = _join_negative_at(sys.argv[1:] if argv is None else argv)
    habit = dig_habit(arguments)
    nagios = bool(arguments) and arguments[0] == "check" and "--nagios" in arguments
    if habit is not None:
        if nagios:
            print(f"DNSSEC UNKNOWN - {printable(habit)}")
            return 3
        print(f"dnssec-doctor: {printable(habit)}", file=sys.stderr)
        return int(ExitCode.USAGE)
    parser, runners = build_parser(arguments[0] if arguments else None)
    try:
        args = parser.parse_args(arguments)
    except SystemExit as leaving:
        if nagios and leaving.code == int(ExitCode.USAGE):
            # The monitoring core reads stdout and the exit code: a usage error is UNKNOWN.
            print("DNSSEC UNKNOWN - usage error (see standard error)")
            return 3
        raise
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
    except OSError as error:
        # What the system refused (a full disk, an I/O error writing the output): the
        # environment's, not a bug, and never the verdict's code.
        reason = printable(error.strerror or str(error))
        print(f"dnssec-doctor: {_cut(reason)}", file=sys.stderr)
        return int(ExitCode.ENVIRONMENT)
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


# Commands that run once and end: their process needs neither the cyclic garbage
# collector (what they allocate is bounded by the probe's and the readers' limits, and
# freed when the process ends) nor the interpreter's teardown.
_ONE_SHOT_COMMANDS = frozenset({"check", "probe", "analyze", "codes", "explain"})


def run() -> NoReturn:
    """The ``dnssec-doctor`` command: ``main`` in a process of its own.

    A one-shot command runs without the cyclic garbage collector, and its process ends
    as soon as the output is flushed, without the interpreter's teardown (freeing every
    object and module one by one): together about a fifth of a check's CPU on loopback
    (bench/README.md). Its dataclasses take their methods' code from the file kept beside
    the bytecode (``dataclass_cache.py``); dnspython's optional features are decided
    without importing importlib.metadata, cryptography's key serialization is imported
    only if used, their probe imports asyncio without ssl (``features.py``), and check
    probes in a forked child while it loads the analysis, on the other core
    (``probe/forked.py``). Other commands (serve, watch, lab, zone, scan) start and end
    as usual."""
    arguments = sys.argv[1:]
    one_shot = bool(arguments) and arguments[0] in _ONE_SHOT_COMMANDS
    try:
        if one_shot:
            gc.disable()
            from dnssec_doctor import dataclass_cache
            from dnssec_doctor.features import (
                decide_dnspython_features,
                defer_key_serialization,
            )

            dataclass_cache.install()
            decide_dnspython_features()
            defer_key_serialization()
            from dnssec_doctor import pipeline  # after the two above: it imports dnspython

            pipeline.allow_one_shot()
        code = main(arguments)
    except KeyboardInterrupt:  # before main's own handler: while the command is loaded
        print("dnssec-doctor: interrupted", file=sys.stderr)
        code = 130
    if not one_shot:
        sys.exit(code)
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:  # the reader went away, as main() reports it
        code = 141
    except OSError as error:
        # The output is incomplete (a full disk under --json > FILE): never the verdict's
        # code, which may read as healthy.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            print(
                f"dnssec-doctor: the output could not be written: {error.strerror or error}",
                file=sys.stderr,
            )
        code = int(ExitCode.ENVIRONMENT)
    except ValueError:  # standard output was closed by the command itself
        pass
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    cache = sys.modules.get("dnssec_doctor.dataclass_cache")  # not if interrupted first
    if cache is not None:
        cache.save()  # what the file lacked, once the output is out
    os._exit(code)


# Options that take a value which may start with "@" or "+" (--at @EPOCH, --at +3d).
_VALUE_OPTIONS = frozenset({"--at", "-w", "--warning", "-c", "--critical", "--threshold"})


def dig_habit(arguments: Sequence[str]) -> str | None:
    """A one-line hint when the command line is written the way dig's is (@server,
    -t TYPE, +short): argparse's own messages for those are confusing. None otherwise."""
    if not arguments or arguments[0] not in ("check", "probe"):
        return None
    command = arguments[0]
    for index, token in enumerate(arguments[1:], start=1):
        if arguments[index - 1] in _VALUE_OPTIONS or token == "--":
            continue
        if token.startswith("@") and len(token) > 1:
            return (
                f"{token!r} is dig's way to name a server: {command} asks the zone's own "
                f"servers itself; to choose a resolver use --resolver {token[1:]}"
            )
        if token in ("-t", "-q") or (token.startswith("-t") and token[2:].isalpha()):
            return (
                f"{token!r}: dnssec-doctor has no -t; give the type after the name "
                f"(dnssec-doctor {command} example.com AAAA)"
            )
        if token.startswith("+") and token[1:2].isalpha():
            return (
                f"{token!r} is a dig option; dnssec-doctor has none of those "
                "(one line per name: check --brief; DNSSEC records are always asked)"
            )
    return None


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
