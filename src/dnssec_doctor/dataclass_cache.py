"""The code of the methods ``dataclasses`` generates, compiled once instead of at every start.

For each dataclass, Python writes the source text of ``__init__``, ``__repr__``,
``__eq__`` and, for a frozen one, ``__hash__``, ``__setattr__`` and ``__delattr__``, and
compiles it when the class is created: in every process, about 0.15 ms a method and
0.8-1 ms a frozen class on this project's machine. A check creates about 70 of them
(ours, and dnspython's styles): some 50 ms, a fifth of its CPU (bench/README.md). The
texts depend only on the class definitions, so, as Python keeps a module's bytecode in
``__pycache__``, this module keeps their code objects in one file there, keyed by the
exact text, and hands ``dataclasses`` the kept code for a text it has seen. A text it has
not seen (a class changed since the file was written) is compiled as before: a stale
file costs that compilation, never a wrong method, since the same text always compiles
to the same code.

``install`` is called by the one-shot commands (``cli.run``), before anything else is
imported. The file is written by ``python -m dnssec_doctor.dataclass_cache``
(``scripts/bootstrap``, after the byte-compilation), and by a one-shot command that
compiled texts the file lacked, unless writing bytecode is off (``PYTHONDONTWRITEBYTECODE``,
``python -B``), as for ``.pyc`` files. The file is as trusted as the bytecode beside it;
one that cannot be read, is too large, or was written by another Python is ignored.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import importlib.util
import marshal
import os
import sys
from pathlib import Path
from types import CodeType
from typing import Any

# One file per Python (the marshal format of code objects changes between versions).
# "-2": files written before the code was compiled without this module's future flags.
DEFAULT_PATH = (
    Path(__file__).parent
    / "__pycache__"
    / f"dataclass-code-2.{sys.implementation.cache_tag}.marshal"
)
# Bounds of the file: a check's classes need about 400 texts and 0.6 MB.
MAX_BYTES = 8 * 1024 * 1024
MAX_ENTRIES = 4096
# What the one-shot commands import (cli._ONE_SHOT_COMMANDS): check with each of its
# outputs and options, probe, analyze (of a DNSViz probe too), codes and explain.
ONE_SHOT_MODULES = (
    "dnssec_doctor.commands",
    "dnssec_doctor.pipeline",
    "dnssec_doctor.probe.collect",
    "dnssec_doctor.lab.profile",
    "dnssec_doctor.diagnosis.report",
    "dnssec_doctor.render.text",
    "dnssec_doctor.render.json",
    "dnssec_doctor.render.markdown",
    "dnssec_doctor.render.nagios",
    "dnssec_doctor.render.svg",
    "dnssec_doctor.render.change",
    "dnssec_doctor.change.planned",
    "dnssec_doctor.replay.dnsviz",
)


class _Cache:
    """The kept code (marshalled, unmarshalled when first used) and what this process
    compiled that the file did not have."""

    def __init__(self, path: Path, kept: dict[str, bytes]) -> None:
        self.path = path
        self.kept = kept
        self.compiled: dict[str, bytes] = {}

    def exec(self, source: Any, globals: Any = None, locals: Any = None, /) -> None:
        """``exec`` as ``dataclasses`` calls it, with the kept code for a text seen before."""
        if globals is None:  # exec's own default, which this frame would otherwise change
            globals = sys._getframe(1).f_globals
        if type(source) is not str:
            builtins.exec(source, globals, locals)
            return
        kept = _code(self.kept.get(source))
        if kept is not None:
            builtins.exec(kept, globals, locals)
            return
        # What dataclasses' own exec(source) compiles: dont_inherit, so that this module's
        # ``from __future__ import annotations`` does not make the generated methods'
        # annotations strings (dataclasses.py has no future import).
        code = compile(source, "<string>", "exec", dont_inherit=True)
        self.compiled[source] = marshal.dumps(code)
        builtins.exec(code, globals, locals)


def _code(blob: bytes | None) -> CodeType | None:
    """The code object kept in ``blob``; None for none, or for bytes damaged since they
    were written (compiled again then, as for a text the file lacks)."""
    if blob is None:
        return None
    try:
        code = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):
        return None
    return code if type(code) is CodeType else None


_installed: _Cache | None = None


def install(path: Path = DEFAULT_PATH) -> None:
    """From now on, dataclasses created in this process take their methods' code from the
    file at ``path`` where it has them (idempotent: the first call's file stays)."""
    global _installed
    if _installed is not None:
        return
    import dataclasses

    _installed = _Cache(path, _read(path))
    dataclasses.exec = _installed.exec  # type: ignore[attr-defined]


def compiled() -> int:
    """How many texts this process compiled because the file lacked them."""
    return len(_installed.compiled) if _installed is not None else 0


def save(*, force: bool = False) -> bool:
    """Write the file with what this process compiled, when it compiled anything and
    bytecode may be written (``force``: even where it may not). True when written."""
    if _installed is None or not _installed.compiled:
        return False
    if sys.dont_write_bytecode and not force:
        return False
    entries = {**_read(_installed.path), **_installed.compiled}
    if len(entries) > MAX_ENTRIES:  # full of classes long changed: start again
        entries = dict(_installed.compiled)
    data = importlib.util.MAGIC_NUMBER + marshal.dumps(entries)
    if len(data) > MAX_BYTES:
        return False
    directory = _installed.path.parent
    # A name of this process's own (tempfile would import shutil, which a check does not).
    temporary = directory / f".dataclass-code.{os.getpid()}.tmp"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    except OSError:  # a directory we may not write: as Python does for bytecode
        return False
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        temporary.replace(_installed.path)  # readers see the old file or the new one
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        return False
    _installed.kept = entries
    _installed.compiled = {}
    return True


def _read(path: Path) -> dict[str, bytes]:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError:
        return {}
    magic = importlib.util.MAGIC_NUMBER
    if len(data) > MAX_BYTES or not data.startswith(magic):
        return {}
    try:
        entries = marshal.loads(data[len(magic) :])
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(entries, dict) or len(entries) > MAX_ENTRIES:
        return {}
    return {k: v for k, v in entries.items() if type(k) is str and type(v) is bytes}


def build(path: Path = DEFAULT_PATH) -> int:
    """Write the file for the one-shot commands' modules; the number of texts it holds."""
    install(path)
    for module in ONE_SHOT_MODULES:
        importlib.import_module(module)
    save(force=True)
    return len(_read(path))


if __name__ == "__main__":
    # Before dnspython is imported, as in cli.run (its classes are in the file too).
    held = build()
    print(f"{DEFAULT_PATH}: the code of {held} dataclass methods")
