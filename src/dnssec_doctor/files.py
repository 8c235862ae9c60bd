"""Input files a user hands us (snapshots, trust anchors, root hints, zone and DS files):
read only when they are regular files, and only up to a size.

A FIFO would block the read for ever, ``/dev/zero`` would fill the memory, a directory
is not "no such file": each is refused with one line that says what the path is.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from dnssec_doctor.errors import UsageError

MIB = 1 << 20


def check_regular_file(path: Path, what: str) -> os.stat_result:
    """The file's status when it is a regular file; a ``UsageError`` naming what it is
    otherwise."""
    try:
        status = path.stat()
    except FileNotFoundError:
        raise UsageError(f"cannot read {path}: no such file") from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    _refuse_irregular(path, status, what)
    return status


def _refuse_irregular(path: Path, status: os.stat_result, what: str) -> None:
    mode = status.st_mode
    if stat.S_ISREG(mode):
        return
    kind = (
        "a directory"
        if stat.S_ISDIR(mode)
        else "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise UsageError(f"cannot read {path}: it is {kind}, not a {what} file")


def read_bytes(path: Path, what: str, max_bytes: int) -> bytes:
    """A regular file's bytes, at most ``max_bytes`` (opened without blocking, so a path
    swapped for a FIFO after the check cannot hang the read either)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        if error.errno == errno.EISDIR:
            raise UsageError(f"cannot read {path}: it is a directory, not a {what} file") from None
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    try:
        status = os.fstat(descriptor)
        _refuse_irregular(path, status, what)  # a directory opens too, on Linux
    except BaseException:
        os.close(descriptor)
        raise
    with os.fdopen(descriptor, "rb") as handle:
        if status.st_size > max_bytes:
            raise UsageError(
                f"{path} is larger than the {max_bytes // MIB} MiB a {what} file may have"
            )
        data = handle.read(max_bytes + 1)  # it may have grown since
    if len(data) > max_bytes:
        raise UsageError(
            f"{path} is larger than the {max_bytes // MIB} MiB a {what} file may have",
        )
    return data


def read_text(path: Path, what: str, max_bytes: int) -> str:
    """A regular file's UTF-8 text, at most ``max_bytes``."""
    data = read_bytes(path, what, max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeError:
        raise UsageError(f"{path} is not a {what} file: not UTF-8 text") from None
