"""Start-up: a check loads what a check needs and nothing of the other commands.

Start-up is most of what a check costs on a near network, and every module of another
command (zone verification, change windows, watch, the web, the lab) would be loaded for
nothing. Each test runs a fresh interpreter (this one has imported everything) and reads
its ``sys.modules``: no timing, so a loaded machine cannot make them fail.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dnssec_doctor.cli import GROUPS, build_parser
from dnssec_doctor.lab.profile import LabProfile

OTHER_COMMANDS = tuple(
    f"dnssec_doctor.{package}" for package in ("verify", "change", "watch", "web", "lab")
)
# What a check runs: the probe, the analysis and diagnosis, the text and JSON renderers.
CHECK_PIPELINE = (
    "dnssec_doctor.pipeline",
    "dnssec_doctor.probe.collect",
    "dnssec_doctor.diagnosis.report",
    "dnssec_doctor.render.text",
    "dnssec_doctor.render.json",
)
# The serve command's options are defined beside check's (commands.py), in web/serve.py:
# argument definitions only, which import nothing of the web application.
CHECK_ARGUMENTS = {"dnssec_doctor.web", "dnssec_doctor.web.serve"}


def modules_after(script: str) -> tuple[set[str], str]:
    """The modules a fresh interpreter holds after running ``script``, and its output."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"{script}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    *output, modules = result.stdout.splitlines()
    return set(json.loads(modules)), "\n".join(output)


def run_as(script: str, *arguments: str) -> str:
    """The output of ``script`` run in a fresh interpreter with ``arguments`` (a command,
    for the scripts that stand in for ``cli.main`` and call ``cli.run``)."""
    result = subprocess.run(
        [sys.executable, "-c", script, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def other_commands(modules: set[str]) -> set[str]:
    return {m for m in modules for p in OTHER_COMMANDS if m == p or m.startswith(p + ".")}


def test_the_check_pipeline_imports_no_other_command() -> None:
    loaded, _ = modules_after("import " + ", ".join(CHECK_PIPELINE))
    assert set(CHECK_PIPELINE) <= loaded
    assert not other_commands(loaded)


def test_the_analysis_loads_beside_the_probe() -> None:
    """check loads the analysis in a thread while the probe waits for answers: the whole
    check pipeline, and nothing of the other commands."""
    loaded, _ = modules_after(
        "from dnssec_doctor import pipeline\npipeline.load_analysis_in_background().join()"
    )
    assert set(CHECK_PIPELINE) - {"dnssec_doctor.probe.collect"} <= loaded
    assert not other_commands(loaded)


def test_every_dataclass_a_check_creates_says_what_it_is() -> None:
    """A dataclass without a docstring gets one made by ``inspect.signature`` as it is
    created (about 0.1 ms a class, in every check); ours say what they hold instead."""
    _, output = modules_after(
        "import "
        + ", ".join((*CHECK_PIPELINE, "dnssec_doctor.commands", "dnssec_doctor.lab.profile"))
        + "\nimport dataclasses, inspect, sys\n"
        "for module in list(sys.modules.values()):\n"
        "    if not module.__name__.startswith('dnssec_doctor'):\n"
        "        continue\n"
        "    for name, value in vars(module).items():\n"
        "        if (inspect.isclass(value) and dataclasses.is_dataclass(value)\n"
        "                and value.__module__ == module.__name__\n"
        "                and (value.__doc__ or '').startswith(value.__name__ + '(')):\n"
        "            print(f'{module.__name__}.{name}')"
    )
    assert output == ""


def test_each_group_registers_the_commands_the_cli_imports_it_for() -> None:
    """cli.GROUPS names each group's commands so that only the chosen group is imported:
    the names must be exactly what the group registers, in the order --help lists."""
    parser, runners = build_parser()
    listed = [name for names, _ in GROUPS for name in names]
    assert list(registered_commands(parser)) == listed
    assert set(runners) == set(listed)
    for names, _ in GROUPS:
        chosen, chosen_runners = build_parser(names[0])
        assert list(registered_commands(chosen)) == list(names)
        assert set(chosen_runners) == set(names)


def registered_commands(parser: argparse.ArgumentParser) -> dict[str, object]:
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(commands.choices)


def _lab_check_arguments(lab: LabProfile) -> list[str]:
    """``check`` of a secure lab name, the lab's hints and anchor passed as files (``--lab``
    would read the lab's profile, a lab module)."""
    return [
        "check",
        "--root-hints",
        str(lab.root_hints),
        "--trust-anchor",
        str(lab.trust_anchor_ds),
        "--no-resolvers",
        "--timeout",
        "2",
        "--json",
        "www.secure-nsec.lab",
    ]


@pytest.mark.lab
def test_a_check_on_the_command_line_loads_no_other_command(lab: LabProfile) -> None:
    """The whole command, as a user runs it, on a lab name: the probe ran and the report
    was printed, and nothing of zone verify, diff, watch, the web application or the lab
    was loaded. The lab's hints and anchor are passed as files (``--lab`` would read the
    lab's profile, a lab module); every address in the lab is on loopback."""
    arguments = _lab_check_arguments(lab)
    loaded, output = modules_after(
        f"from dnssec_doctor.cli import main\nassert main({arguments!r}) == 0"
    )
    report = json.loads(output)
    assert report["verdict"] == "secure"
    assert report["queries"], "the probe sent nothing"
    assert set(CHECK_PIPELINE) <= loaded
    assert other_commands(loaded) <= CHECK_ARGUMENTS, other_commands(loaded) - CHECK_ARGUMENTS


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    from dnssec_doctor.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    for names, _ in GROUPS:
        for name in names:
            assert name in shown


def test_an_unknown_command_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    from dnssec_doctor.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["chek", "example.com"])
    assert exited.value.code == 4
    error = capsys.readouterr().err
    assert "invalid choice: 'chek'" in error
    assert "'check'" in error and "'zone'" in error and "'lab'" in error


def test_version_loads_no_command() -> None:
    loaded, output = modules_after(
        "from dnssec_doctor.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit as done:\n    assert done.code == 0\n"
    )
    assert output.startswith("dnssec-doctor ")
    assert "dnssec_doctor.commands" not in loaded
    assert "dnssec_doctor.probe.collect" not in loaded
    assert not other_commands(loaded)


def test_help_builds_every_parser_without_loading_what_the_commands_run() -> None:
    """--help builds every command's parser: their options and defaults only, not the probe,
    the scanner or the analysis behind them."""
    loaded, output = modules_after(
        "import contextlib, io\n"
        "from dnssec_doctor.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n        main(['--help'])\n    except SystemExit as done:\n"
        "        assert done.code == 0\n"
        "print(out.getvalue().count('scan'))"
    )
    assert int(output) >= 1  # the help was written, and lists scan
    heavy = {"dnssec_doctor.probe.collect", "dnssec_doctor.scan.engine", "dnssec_doctor.analysis"}
    assert not heavy & loaded


def test_a_one_shot_command_flushes_all_its_output_before_its_process_ends() -> None:
    """check, probe, analyze, codes and explain end their process without the
    interpreter's teardown (cli.run): what they printed must still arrive whole, here
    32 KB of JSON through a pipe, with the command's exit code."""
    result = subprocess.run(
        [sys.executable, "-m", "dnssec_doctor", "codes", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    codes = json.loads(result.stdout)
    assert len(result.stdout) > 16384  # more than one buffer's worth
    assert "DS_DIGEST_MISMATCH" in json.dumps(codes)
    explained = subprocess.run(
        [sys.executable, "-m", "dnssec_doctor", "explain", "NO_SUCH_CODE"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert explained.returncode == 4
    assert explained.stderr.startswith("dnssec-doctor: ") and explained.stderr.count("\n") == 1


@pytest.mark.parametrize("arguments", [["codes", "--json"], ["explain", "RRSIG_EXPIRED"]])
def test_output_that_cannot_be_written_is_one_line_and_exit_5(arguments: list[str]) -> None:
    """A full disk under the output (/dev/full): the output is incomplete, so the exit code
    is the environment's (5), never the verdict's, with one line saying why; a large output
    fails while the command writes, a small one at the last flush."""
    with Path("/dev/full").open("w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "dnssec_doctor", *arguments],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 5, result.stderr
    assert result.stderr.count("\n") == 1 and "No space left on device" in result.stderr


def test_a_one_shot_command_runs_without_the_cyclic_collector_and_others_with_it() -> None:
    """The collector is off in a one-shot command's process only: serve, watch and the
    lab run for long and keep it. Likewise only a one-shot command takes the dataclass
    methods' code from the file (dataclass_cache.py): the others create their classes
    once in a long life."""
    script = (
        "import dataclasses, gc, sys\n"
        "from dnssec_doctor import cli\n"
        "cli.main = lambda arguments: print(gc.isenabled(), 'exec' in vars(dataclasses)) or 0\n"
        "sys.argv = ['dnssec-doctor', sys.argv[1]]\n"
        "cli.run()\n"
    )
    seen = {command: run_as(script, command).strip() for command in ("check", "watch")}
    assert seen == {"check": "False True", "watch": "True False"}


def test_dnspython_decides_its_features_as_it_would_without_importlib_metadata() -> None:
    """cli.run decides dnspython's optional features (cryptography for DNSSEC, idna)
    from the packages' own versions, so that importing dnspython does not import
    importlib.metadata (email, zipfile, csv: ~30 ms). The answers must be dnspython's own,
    and importlib.metadata must still work for whoever asks it afterwards."""
    script = (
        "import json, sys\n"
        "from dnssec_doctor.features import FEATURES, decide_dnspython_features\n"
        "decide_dnspython_features()\n"
        "import dns.name, dns.dnssec, dns.message\n"
        "loaded = sorted(m for m in ('email', 'zipfile', 'csv') if m in sys.modules)\n"
        "import dns._features as f\n"
        "decided = {x: f.have(x) for x in FEATURES}\n"
        "own = {x: all(f._version_check(r) for r in f._requirements[x]) for x in FEATURES}\n"
        "import importlib.metadata\n"
        "version = importlib.metadata.version('dnspython')\n"
        "print(json.dumps([loaded, decided, own, version]))\n"
    )
    loaded, decided, own, version = json.loads(run_as(script))
    assert loaded == []  # importlib.metadata was not imported by dnspython
    assert decided == own == {"dnssec": True, "idna": True}
    assert version == importlib.metadata.version("dnspython")


def test_ctrl_c_while_the_command_loads_is_one_line_and_exit_130() -> None:
    """Ctrl-C in the first tens of milliseconds, before the command runs (here: while its
    arguments are read): one line, exit 130, no traceback."""
    script = (
        "import sys\n"
        "from dnssec_doctor import cli\n"
        "def main(arguments):\n"
        "    raise KeyboardInterrupt\n"
        "cli.main = main\n"
        "sys.argv = ['dnssec-doctor', sys.argv[1]]\n"
        "cli.run()\n"
    )
    for command in ("check", "watch"):
        result = subprocess.run(
            [sys.executable, "-c", script, command],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (result.returncode, result.stderr) == (130, "dnssec-doctor: interrupted\n")


def test_idna_loads_with_the_first_name_in_unicode_and_names_follow_idna_2008() -> None:
    """dnspython imports idna with ``dns.name`` and calls it only for a name in Unicode:
    a one-shot command loads its tables (about 4 ms) then, and an ASCII name never does.
    The names are still IDNA 2008's (ß stays ß: IDNA 2003 would map it to ss)."""
    script = (
        "import json, sys\n"
        "from dnssec_doctor.features import decide_dnspython_features\n"
        "decide_dnspython_features()\n"
        "import dns.name\n"
        "ascii_name = dns.name.from_text('www.example.com').to_text()\n"
        "before = 'idna.core' in sys.modules\n"
        "encoded = dns.name.from_text('straße.example').to_text()\n"
        "decoded = dns.name.from_text(encoded).to_unicode()\n"
        "print(json.dumps([ascii_name, before, encoded, decoded, 'idna.core' in sys.modules]))\n"
    )
    assert json.loads(run_as(script)) == [
        "www.example.com.",
        False,
        "xn--strae-oqa.example.",
        "straße.example.",
        True,
    ]


def test_a_one_shot_probe_imports_asyncio_without_ssl_and_leaves_ssl_importable() -> None:
    """A one-shot command's probe (check's, probe's) speaks DNS over UDP and TCP, never
    TLS: its asyncio is imported, when the probe starts, without ssl (which loads the
    system's OpenSSL), and ssl itself can still be imported afterwards. Long-running
    commands (watch, serve) import asyncio as usual."""
    script = (
        "import sys, types\n"
        "from dnssec_doctor import cli\n"
        "def main(arguments):\n"
        "    from dnssec_doctor import pipeline\n"
        "    before = 'asyncio' in sys.modules or 'ssl' in sys.modules\n"
        "    # the probe's own module, standing in: no network here\n"
        "    collect = types.ModuleType('dnssec_doctor.probe.collect')\n"
        "    collect.collect = lambda *args, **kwargs: None\n"
        "    sys.modules[collect.__name__] = collect\n"
        "    pipeline.probe('www.example.', 'A', None)\n"
        "    import asyncio.base_events, ssl\n"
        "    print(before, asyncio.base_events.ssl is None, bool(ssl.OPENSSL_VERSION))\n"
        "    return 0\n"
        "cli.main = main\n"
        "sys.argv = ['dnssec-doctor', sys.argv[1]]\n"
        "cli.run()\n"
    )
    seen = {command: run_as(script, command).split() for command in ("check", "probe", "watch")}
    without_ssl = ["False", "True", "True"]
    as_usual = ["False", "False", "True"]
    assert seen == {"check": without_ssl, "probe": without_ssl, "watch": as_usual}


@pytest.mark.lab
def test_a_check_run_as_the_command_loads_no_ssl_shutil_or_other_command(
    lab: LabProfile, tmp_path: Path
) -> None:
    """The command as installed (``cli.run``: no collector, the dataclass file, the probe
    in a forked child with asyncio without ssl, no terminal width asked) on a lab name:
    the report is whole and secure; the check's process loaded the analysis and never
    asyncio, its probe's process the probe; neither loaded ssl, shutil, nor anything of
    the other commands."""
    arguments = _lab_check_arguments(lab)
    script = (
        "import json, os, sys\n"
        "from dnssec_doctor import cli\n"
        "leave = os._exit\n"
        "def dump(code):\n"
        f"    with open(os.path.join({str(tmp_path)!r}, str(os.getpid())), 'w') as out:\n"
        "        json.dump(sorted(sys.modules), out)\n"
        "    sys.stdout.flush()\n"
        "    leave(code)\n"
        "os._exit = dump\n"
        f"sys.argv = ['dnssec-doctor', *{arguments!r}]\n"
        "cli.run()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its group: the check and its probe's child
    ) as check:
        try:
            stdout, stderr = check.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(check.pid, signal.SIGKILL)  # both, or the with would wait forever
            raise
    assert check.returncode == 0, stderr
    report = json.loads(stdout)
    assert report["verdict"] == "secure"
    assert report["queries"], "the probe sent nothing"
    dumped = {int(path.name): set(json.loads(path.read_text())) for path in tmp_path.iterdir()}
    assert len(dumped) == 2 and check.pid in dumped  # the check, and its probe's child
    parent = dumped.pop(check.pid)
    (child,) = dumped.values()
    assert set(CHECK_PIPELINE) - {"dnssec_doctor.probe.collect"} <= parent
    assert "asyncio" not in parent  # the probe ran in the child
    assert "dnssec_doctor.probe.collect" in child and "asyncio" in child
    assert "dnssec_doctor.diagnosis.report" not in child  # the analysis loaded in the parent
    for loaded in (parent, child):
        assert "ssl" not in loaded and "_ssl" not in loaded
        assert "shutil" not in loaded  # argparse asks the terminal's width only for shown text
        assert "cryptography.hazmat.primitives.serialization.ssh" not in loaded  # keys unwritten
        assert "idna.core" not in loaded  # an ASCII name: no IDNA tables
        assert other_commands(loaded) <= CHECK_ARGUMENTS


def test_parsing_a_command_line_asks_no_terminal_width_and_help_still_fits_the_terminal() -> None:
    """argparse asks the terminal's width (importing shutil, bz2, lzma) for every option
    it adds; ours only when usage or help is shown, which still fold to the terminal."""
    loaded, _ = modules_after(
        "from dnssec_doctor.features import decide_dnspython_features\n"
        "decide_dnspython_features()\n"
        "from dnssec_doctor.cli import build_parser\n"
        "parser, _ = build_parser('check')\n"
        "parser.parse_args(['check', '--json', 'example.com', 'DS'])"
    )
    assert "dnssec_doctor.commands" in loaded and "shutil" not in loaded
    widest = {}
    for columns in (60, 140):
        result = subprocess.run(
            [sys.executable, "-m", "dnssec_doctor", "check", "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "COLUMNS": str(columns)},
        )
        assert result.returncode == 0, result.stderr
        widest[columns] = max(len(line) for line in result.stdout.splitlines())
    assert widest[60] <= 60 < 100 < widest[140] <= 140


SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"


def test_key_serialization_is_loaded_only_if_used_and_signatures_verify_without_it() -> None:
    """One-shot commands defer cryptography's key serialization (PEM and SSH key formats,
    every cipher), which dnspython imports for key files: the analysis verifies the
    signatures of a committed snapshot without it, with the same report as a process
    that loaded it, and it still loads when something uses it."""
    secure = SNAPSHOTS / "secure-nsec.json"
    analyze = (
        "from pathlib import Path\n"
        "from dnssec_doctor import pipeline\n"
        "from dnssec_doctor.render.json import render_json\n"
        f"snapshot = pipeline.read_snapshot(Path({str(secure)!r}))\n"
        "report = render_json(pipeline.analyze(snapshot, pipeline.analysis_options(snapshot)))\n"
        "print(json.dumps(report, sort_keys=True))\n"
    )
    ssh = "cryptography.hazmat.primitives.serialization.ssh"
    deferred, output = modules_after(
        "import json, sys\n"
        "from dnssec_doctor.features import decide_dnspython_features, defer_key_serialization\n"
        "decide_dnspython_features()\n"
        "defer_key_serialization()\n"
        f"{analyze}"
        f"print({ssh!r} in sys.modules)\n"
        "import dns.dnssecalgs\n"
        "key = dns.dnssecalgs.get_algorithm_cls('ED25519').generate()\n"
        "print(key.public_key().to_pem().startswith(b'-----BEGIN PUBLIC KEY-----'))"
    )
    report, ssh_before_use, pem_written = output.splitlines()
    assert ssh_before_use == "False"
    assert pem_written == "True"  # the real module, loaded on first use
    assert ssh in deferred  # once used
    loaded, usual = modules_after(f"import json\n{analyze}")
    assert ssh in loaded
    assert json.loads(report) == json.loads(usual)
    assert json.loads(report)["verdict"] == "secure"
