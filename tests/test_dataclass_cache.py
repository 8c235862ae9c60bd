"""The dataclass methods' code kept between processes (dataclass_cache.py).

A one-shot command takes the code of every dataclass method from the file instead of
compiling it (about a fifth of a check's CPU, bench/README.md). What must hold: the kept
code is exactly what Python compiles from the same text; a check's modules compile
nothing when the file was built; a class changed since is compiled as before; a file that
is damaged, too large or from another Python is ignored. Each script runs in a fresh
interpreter (installing the cache changes ``dataclasses`` for the whole process); no timing.
"""

from __future__ import annotations

import importlib.util
import json
import marshal
import subprocess
import sys
from pathlib import Path

from dnssec_doctor import dataclass_cache

# What a check imports (tests/test_startup.py's CHECK_PIPELINE, and the command line).
CHECK_MODULES = (
    "dnssec_doctor.commands",
    "dnssec_doctor.pipeline",
    "dnssec_doctor.probe.collect",
    "dnssec_doctor.diagnosis.report",
    "dnssec_doctor.render.text",
    "dnssec_doctor.render.json",
)


def run_script(script: str) -> object:
    """Run ``script`` in a fresh interpreter; what it printed last, as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def build(path: Path) -> int:
    held = run_script(
        "import json\nfrom pathlib import Path\nfrom dnssec_doctor import dataclass_cache\n"
        f"print(json.dumps(dataclass_cache.build(Path({str(path)!r}))))"
    )
    assert isinstance(held, int)
    return held


def compiled_after_importing(path: Path, modules: tuple[str, ...], extra: str = "") -> object:
    """How many dataclass texts a fresh process compiled with the file at ``path``."""
    return run_script(
        "import importlib, json\nfrom pathlib import Path\n"
        "from dnssec_doctor import dataclass_cache\n"
        f"dataclass_cache.install(Path({str(path)!r}))\n"
        f"for module in {list(modules)!r}:\n    importlib.import_module(module)\n"
        f"{extra}"
        "print(json.dumps(dataclass_cache.compiled()))"
    )


def test_a_check_compiles_no_dataclass_method_once_the_file_is_built(tmp_path: Path) -> None:
    path = tmp_path / "code.marshal"
    assert compiled_after_importing(path, CHECK_MODULES) != 0  # without the file: compiled
    held = build(path)
    assert held > 300  # ours and dnspython's: __init__, __repr__, __eq__, ... of ~70 classes
    assert compiled_after_importing(path, CHECK_MODULES) == 0


def test_the_kept_code_is_what_python_compiles_from_the_same_text(tmp_path: Path) -> None:
    path = tmp_path / "code.marshal"
    build(path)
    data = path.read_bytes()
    assert data.startswith(importlib.util.MAGIC_NUMBER)
    entries = marshal.loads(data[len(importlib.util.MAGIC_NUMBER) :])
    assert entries
    for text, blob in entries.items():
        # This test module has ``from __future__ import annotations``, dataclasses.py has
        # not: what dataclasses compiles inherits no future flag.
        assert marshal.loads(blob) == compile(text, "<string>", "exec", dont_inherit=True), text


def test_methods_from_the_file_keep_their_annotations_as_objects(tmp_path: Path) -> None:
    """The kept ``__init__`` is the one dataclasses compiles: for a module without
    ``from __future__ import annotations``, its annotations are the field types, not
    strings (as they would be if compiled under this project's future import)."""
    path = tmp_path / "code.marshal"
    script = (
        "import dataclasses\n"
        "from pathlib import Path\n"
        "from dnssec_doctor import dataclass_cache\n"
        f"dataclass_cache.install(Path({str(path)!r}))\n"
        "@dataclasses.dataclass(frozen=True)\n"
        "class Plain:\n    a_field_of_its_own: int\n"
        "print(dataclass_cache.compiled())\n"
        "dataclass_cache.save(force=True)\n"
        "assert Plain.__init__.__annotations__ == {'a_field_of_its_own': int, 'return': None}, "
        "Plain.__init__.__annotations__\n"
    )
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert int(first.stdout) > 0  # compiled, then written to the file
    second = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert second.returncode == 0, second.stderr  # the same annotations, from the file
    assert int(second.stdout) == 0


def test_a_changed_class_is_compiled_and_behaves_as_declared(tmp_path: Path) -> None:
    """A class the file does not hold (a new or changed definition) is compiled as before,
    and a class from the file is the frozen value class it declares."""
    path = tmp_path / "code.marshal"
    build(path)
    extra = (
        "import dataclasses\n"
        "from dnssec_doctor.model.finding import Finding\n"
        "@dataclasses.dataclass(frozen=True)\n"
        "class NotInTheFile:\n    a_field_nobody_else_has: int\n"
        "value = NotInTheFile(1)\n"
        "assert value == NotInTheFile(1) and hash(value) == hash(NotInTheFile(1))\n"
        "assert repr(value) == 'NotInTheFile(a_field_nobody_else_has=1)'\n"
        "try:\n    value.a_field_nobody_else_has = 2\n"
        "except dataclasses.FrozenInstanceError:\n    pass\n"
        "else:\n    raise AssertionError('not frozen')\n"
        "from dnssec_doctor.model.finding import Severity\n"
        "kept = Finding('RRSIG_EXPIRED', Severity.ERROR, 'a.', 'a./A', 'expired')\n"
        "assert kept == Finding('RRSIG_EXPIRED', Severity.ERROR, 'a.', 'a./A', 'expired')\n"
        "assert kept.params == {} and kept.servers == () and kept.ede is None\n"
        "assert repr(kept).startswith(\"Finding(code='RRSIG_EXPIRED', severity=\")\n"
    )
    # __init__, __repr__, __eq__, __hash__, __setattr__, __delattr__ of the new class
    assert compiled_after_importing(path, CHECK_MODULES, extra) == 6


def test_a_damaged_or_foreign_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "code.marshal"
    build(path)
    good = path.read_bytes()
    magic = importlib.util.MAGIC_NUMBER
    damaged = {
        "truncated": good[: len(good) // 2],
        "another Python": b"\x00\x00\r\n" + good[len(magic) :],
        "not a table": magic + marshal.dumps(["a list"]),
        "empty": b"",
        "too large": good + b"\0" * (dataclass_cache.MAX_BYTES + 1 - len(good)),
    }
    entries = marshal.loads(good[len(magic) :])
    damaged["a damaged entry"] = magic + marshal.dumps({t: b"\xff" for t in entries})
    damaged["an entry that is no code"] = magic + marshal.dumps(
        {t: marshal.dumps("not code") for t in entries}
    )
    for reason, data in damaged.items():
        path.write_bytes(data)
        compiled = compiled_after_importing(path, ("dnssec_doctor.model.finding",))
        assert isinstance(compiled, int) and compiled > 0, reason


def test_the_file_is_written_only_where_bytecode_may_be(tmp_path: Path) -> None:
    """A one-shot command adds what it compiled, as Python writes .pyc files: not under
    PYTHONDONTWRITEBYTECODE (sys.dont_write_bytecode), nor where it may not write."""
    script = (
        "import json, sys\nfrom pathlib import Path\nfrom dnssec_doctor import dataclass_cache\n"
        "sys.dont_write_bytecode = {off}\n"
        "dataclass_cache.install(Path({path!r}))\n"
        "import dnssec_doctor.model.finding\n"
        "print(json.dumps(dataclass_cache.save()))"
    )
    path = tmp_path / "code.marshal"
    assert run_script(script.format(off=True, path=str(path))) is False
    assert not path.exists()
    assert run_script(script.format(off=False, path=str(path))) is True
    assert compiled_after_importing(path, ("dnssec_doctor.model.finding",)) == 0
    blocked = tmp_path / "a-file" / "code.marshal"  # its directory cannot be made
    blocked.parent.write_text("")
    assert run_script(script.format(off=False, path=str(blocked))) is False
    assert not list(tmp_path.glob(".dataclass-code.*"))  # no temporary file left behind
