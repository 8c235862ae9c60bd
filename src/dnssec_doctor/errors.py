"""Program errors: things that stop a command, as opposed to findings about DNS.

A finding describes the DNS being diagnosed and is a value (see ``dnssec_doctor.model``).
An exception here means the tool itself cannot go on: bad input, or an environment that
cannot run what was asked. Every one carries a one-line message, a hint naming the
command or change that fixes it, and the exit code the CLI returns.

    DoctorError
    ├── UsageError          bad arguments or unreadable input            exit 4
    └── EnvironmentProblem  the machine cannot do it (root, packages)     exit 5
        └── LabError        the lab cannot be brought up or down         exit 5
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
