"""Hostile strings in every output: commands we print are safe to paste into a shell, and
nothing from the network reaches a terminal unprintable (issue 18, items 1 and 7).

A stored lab snapshot is rewritten the way a hostile zone and a hostile resolver would
write it: the name carries shell metacharacters (dnspython escapes ``$ ( ) ;`` and spaces
in names but not `` ` | & < > ``), a transport error and a resolver's EDE text carry a
terminal escape sequence, a window-title change, a bidi override and a newline. Every
dig and dnssec-doctor command we print is then run by bash, with ``dig`` and
``dnssec-doctor`` as functions that only record their arguments: no command may run and
the arguments must come back exactly.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import dns.edns
import dns.message
import dns.name
import pytest
from fastapi.testclient import TestClient

from dnssec_doctor.diagnosis.report import build_report
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.pipeline import read_snapshot
from dnssec_doctor.render.nagios import render_nagios
from dnssec_doctor.render.terminal import printable
from web_support import SNAPSHOTS, replay_app

# Labels as a hostile zone can publish them (a CNAME target, say); to_text() is how the
# probe writes them into the snapshot.
HOSTILE_LABELS = (
    b"x`touch P1`",
    b"y|touch P2>P3&",
    b"z'<P4';touch P5",
    b"n\nl",
    b"ds-bad-digest",
    b"lab",
)
HOSTILE_NAME = dns.name.Name((*HOSTILE_LABELS, b"")).to_text()
AT = ("--at", "2026-11-20T23:45:00Z")  # a few minutes after the snapshot was taken
TERMINAL_ATTACK = "\x1b[2J\x1b]0;pwned\x07\u202eevil\r\nFAKE: secure\x9b31m"


def _resolver_reply_with_ede(wire: bytes) -> bytes:
    message = dns.message.from_wire(wire)
    message.use_edns(0, 0, 1232, options=[dns.edns.EDEOption(6, TERMINAL_ATTACK)])
    return message.to_wire()


@pytest.fixture(scope="module")
def hostile_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data: dict[str, Any] = json.loads((SNAPSHOTS / "ds-bad-digest.json").read_text())
    original = data["name"]
    data["name"] = HOSTILE_NAME
    for exchange in data["exchanges"]:
        if exchange["qname"] == original:
            exchange["qname"] = HOSTILE_NAME
        if exchange["role"] == "resolver" and exchange["response"]:
            wire = base64.b64decode(exchange["response"])
            exchange["response"] = base64.b64encode(_resolver_reply_with_ede(wire)).decode()
    data["exchanges"][-1]["error"] = TERMINAL_ATTACK
    data["exchanges"][-1]["response"] = None
    path = tmp_path_factory.mktemp("hostile") / "snapshot.json"
    path.write_text(json.dumps(data))
    return path


def doctor(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dnssec_doctor", *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_pasted(command: str, directory: Path) -> list[str]:
    """Paste the command into bash, where dig and dnssec-doctor only print their
    arguments (NUL-separated); returns the words the program received."""
    script = 'dig() { printf "%s\\0" "$@"; }; dnssec-doctor() { printf "%s\\0" "$@"; }\n'
    done = subprocess.run(
        ["bash", "-c", script + command],
        cwd=directory,
        capture_output=True,
        check=False,
        timeout=10,
    )
    assert done.returncode == 0, (command, done.stderr)
    assert not list(directory.iterdir()), f"{command!r} ran a command: {list(directory.iterdir())}"
    return done.stdout.decode().split("\0")[:-1]


def assert_safe(command: str, expected_words: list[str], tmp_path: Path) -> None:
    directory = tmp_path / "paste"
    directory.mkdir(exist_ok=True)
    assert run_pasted(command, directory) == expected_words


def dig_words(exchange: dict[str, Any]) -> list[str]:
    flags = ["+dnssec" if exchange["do"] else "+nodnssec", "+rec" if exchange["rd"] else "+norec"]
    flags += ["+cd"] * exchange["cd"] + ["+tcp"] * (exchange["transport"] == "tcp")
    return [f"@{exchange['server']['address']}", *flags, exchange["qname"], exchange["qtype"]]


def assert_terminal_safe(text: str) -> None:
    for line in text.splitlines():
        assert line.isprintable(), repr(line)
    assert "FAKE: secure" not in text.splitlines()


def test_the_name_is_hostile() -> None:
    # The premise: dnspython leaves these metacharacters unescaped in a name.
    for metacharacter in "`|&<>'":
        assert metacharacter in HOSTILE_NAME
    assert shlex.split(HOSTILE_NAME) != [HOSTILE_NAME]


def test_json_dig_commands_are_shell_safe(hostile_snapshot: Path, tmp_path: Path) -> None:
    result = doctor("analyze", hostile_snapshot, "--json", *AT)
    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    exchanges = json.loads(hostile_snapshot.read_text())["exchanges"]
    hostile = [q for q in report["queries"] if "touch" in q["dig"]]
    assert len(hostile) >= 3
    for query, exchange in zip(report["queries"], exchanges, strict=True):
        assert_safe(query["dig"], dig_words(exchange), tmp_path)
    for resolver in report["resolvers"]:
        assert_safe(resolver["dig"], shlex.split(resolver["dig"])[1:], tmp_path)
        assert HOSTILE_NAME in shlex.split(resolver["dig"])
    steps = [s for path in report["recovery"]["paths"] for s in path["steps"]]
    rerun = [s["commands"][0] for s in steps if s["task"] == "check-again"]
    assert rerun, steps
    assert_safe(rerun[0], ["check", HOSTILE_NAME, "A"], tmp_path)


def test_markdown_report_keeps_hostile_names_inert(hostile_snapshot: Path) -> None:
    """Pasted into a ticket, a hostile name renders as text: escaped in running text,
    verbatim only inside fenced blocks, never a control character."""
    from dnssec_doctor.render.markdown import text

    result = doctor("analyze", hostile_snapshot, "--format", "markdown", *AT)
    assert result.returncode == 2, result.stderr
    lines = result.stdout.splitlines()
    assert all(line.isprintable() for line in lines)
    fenced, outside = False, []
    for line in lines:
        if line.strip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            outside.append(line)
    assert not fenced
    prose = "\n".join(outside)
    assert HOSTILE_NAME not in prose and text(HOSTILE_NAME) in prose


def test_json_keeps_network_strings_exact(hostile_snapshot: Path) -> None:
    report = json.loads(doctor("analyze", hostile_snapshot, "--json", *AT).stdout)
    texts = [text for r in report["resolvers"] for _, text in _ede_pairs(r)]
    assert TERMINAL_ATTACK in texts
    assert report["queries"][-1]["error"] == TERMINAL_ATTACK
    assert report["name"] == HOSTILE_NAME


def _ede_pairs(resolver: dict[str, Any]) -> list[tuple[int, str]]:
    return [(e["code"], e.get("text") or "") for e in resolver.get("ede", [])]


def test_text_report_and_log_are_shell_and_terminal_safe(
    hostile_snapshot: Path, tmp_path: Path
) -> None:
    for colour in ("never", "always"):
        result = doctor("analyze", hostile_snapshot, "--log", "--color", colour, *AT)
        assert result.returncode == 2, result.stderr
        text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout) if colour == "always" else result.stdout
        assert_terminal_safe(text)
        # Our colour is the only escape sequence, and only SGR.
        assert set(re.findall(r"\x1b(.)", result.stdout)) <= {"["}
        assert printable(TERMINAL_ATTACK) in text  # shown escaped, not dropped
    exchanges = json.loads(hostile_snapshot.read_text())["exchanges"]
    log = text.split("Incident log\n", 1)[1].splitlines()
    assert len(log) == len(exchanges)
    loaded = read_snapshot(hostile_snapshot).exchanges
    for line, exchange, ours in zip(log, exchanges, loaded, strict=True):
        # The line shows the dig command, then what came back (whose record text, from a
        # hostile server, may hold anything): the command is the one the exchange makes.
        command = printable(ours.dig_command())
        assert line.split("  ", 2)[2].startswith(command + " "), line
        assert_safe(command, dig_words(exchange), tmp_path)
    lines = text.splitlines()
    verify = next(n for n, line in enumerate(lines) if "[you] Verify:" in line)
    command = lines[verify + 1].strip()
    assert_safe(command, ["check", HOSTILE_NAME, "A"], tmp_path)


def test_nagios_output_is_terminal_safe(hostile_snapshot: Path) -> None:
    snapshot = read_snapshot(hostile_snapshot)
    report = build_report(snapshot, AnalysisOptions(now=snapshot.finished_at))
    text, state = render_nagios(report, warning_seconds=3 * 86400)
    assert state == 2
    assert_terminal_safe(text)
    _, perf = text.splitlines()[0].split(" | ")
    for label in re.findall(r"'((?:[^']|'')*)'=", perf):
        assert "|" not in label


def test_web_pages_print_shell_safe_commands(tmp_path: Path) -> None:
    app, _ = replay_app("ds-bad-digest", tmp_path / "results.sqlite")
    client = TestClient(app)
    name = "`touch${IFS}P1`|touch${IFS}P2>P3&.lab"
    response = client.get("/api/check", params={"name": name, "type": "A"})
    assert response.status_code == 200, response.text
    report = response.json()
    asked = [q["dig"] for q in report["queries"] if "P1" in q["dig"]]
    assert asked
    for command in asked:
        assert_safe(command, shlex.split(command)[1:], tmp_path)
        assert shlex.split(command)[-2] == dns.name.from_text(name).to_text()
    page = client.get("/check", params={"name": name, "type": "A"})
    assert page.status_code == 200
    commands = re.findall(r'<code class="dig">([^<]*)</code>', page.text)
    assert commands
    for command in commands:
        assert_safe(html.unescape(command), shlex.split(html.unescape(command))[1:], tmp_path)


def test_nagios_performance_labels_are_quoted_per_the_guidelines() -> None:
    from dnssec_doctor.render import nagios

    assert nagios._perf("expiry", 90.5, 60) == "expiry=90s;60:;0:;;"
    assert nagios._perf("expiry o'neil.lab.", 90, 60) == "'expiry o''neil.lab.'=90s;60:;0:;;"
    assert nagios._perf("expiry a|b.", 90, 60).startswith("'expiry a/b.'=")
