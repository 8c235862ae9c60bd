"""Program errors: things that stop a command, as opposed to findings about DNS.

A finding describes the DNS being diagnosed and is a value (see ``dnssec_doctor.model``).
An exception here means the tool itself cannot go on: bad input, or an environment that
cannot run what was asked. Every one carries a one-line message, a hint naming the
command or change that fixes it, and the exit code the CLI returns.

    DoctorError
    ├── UsageError          bad arguments or unreadable input            exit 4
    └── EnvironmentProblem  the machine cannot do it (root, packages)     exit 5
        └── LabError        the lab cannot be brought up or down         exit 5
            └── LabNotUp    a command needs the lab, which is not up     exit 5
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes shared by every command (documented in the README)."""

    OK = 0
    WARNINGS = 1
    DNSSEC_FAILURE = 2
    NOT_DNSSEC = 3
    USAGE = 4
    ENVIRONMENT = 5
    INTERNAL = 70  # a bug (EX_SOFTWARE): never 0 or 1, which read as healthy


# What each exit code means, for every command: the README's table is generated from this
# (tests/test_exit_codes.py holds them equal) and every command's --help lists its codes.
EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "healthy / done",
    ExitCode.WARNINGS: "healthy with warnings (signatures expiring within three days, a stale DS "
    "beside a valid one, a dead server beside a live one, a signed zone with no DS, a zone "
    "insecure to validators because its algorithm or DS digest is unsupported or its NSEC3 "
    "iterations exceed their limit, a record that cannot be read, RSASHA1/RSASHA1-NSEC3-SHA1 "
    "keys, a DS set with only SHA-1 digests, NSEC3 iterations above 0, a TTL that outlives its "
    "signature, parent and child NS sets that differ, a server that answers over only one of "
    "UDP and TCP, a server that mishandles EDNS)",
    ExitCode.DNSSEC_FAILURE: "DNSSEC failure (bogus or partial; also `lab verify`/`lab "
    "diagnose` when a scenario differs from the catalogue)",
    ExitCode.NOT_DNSSEC: "broken for a reason that is not DNSSEC (unreachable, indeterminate, "
    "or a name that does not exist: NXDOMAIN however well the denial validates)",
    ExitCode.USAGE: "usage or input error (one line on standard error; conflicting options "
    "are refused, never one silently ignored)",
    ExitCode.ENVIRONMENT: "environment problem: not root, a Debian package missing, port 53 "
    "taken, the lab not up (every command that needs it, `lab status` included), the output "
    "cannot be written (a full disk)",
    ExitCode.INTERNAL: "internal error: a bug, reported as one line (`DNSSEC_DOCTOR_DEBUG=1` "
    "shows the traceback); never 0 or 1, so a crash cannot read as healthy",
}


def exit_code_table() -> str:
    """The README's exit-code table, in Markdown."""
    rows = [f"| {int(code)} | {meaning} |" for code, meaning in EXIT_CODE_MEANINGS.items()]
    return "\n".join(["| code | meaning |", "| --- | --- |", *rows]) + "\n"


class DoctorError(Exception):
    """Base of every error the CLI turns into one clear line and an exit code."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} (fix: {self.hint})"
        return self.message


class UsageError(DoctorError):
    """The user asked for something malformed: a bad name, type, file or option."""

    exit_code = ExitCode.USAGE


class EnvironmentProblem(DoctorError):
    """The machine lacks what the command needs: privileges, packages, free ports."""

    exit_code = ExitCode.ENVIRONMENT


class LabError(EnvironmentProblem):
    """The lab could not be brought up, down or inspected."""


class LabNotUp(LabError):
    """A command needs the running lab (--lab, lab verify, lab status) and it is not up:
    the same exit code (5) from every command."""
