"""The arrow points inward: analysis, diagnosis, model and render (and the judging
modules of verify/ and change/) never do I/O nor read the clock; no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "dnssec_doctor"
PURE_LAYERS = ("model", "analysis", "diagnosis", "render")
# The judging halves of the zone-file and change commands: pure like the layers above
# (their shells, verify/command.py, verify/engine.py and change/commands.py, read files,
# transfer zones, poll and read the clock).
PURE_MODULES = (
    "verify/zone.py",
    "verify/scan.py",
    "verify/crypto.py",
    "change/diff.py",
    "change/insecure.py",
    "change/planned.py",
    "change/state.py",
)
PURE_FILES = [p for layer in PURE_LAYERS for p in sorted((SRC / layer).rglob("*.py"))] + [
    SRC / module for module in PURE_MODULES
]
FORBIDDEN = (
    "socket",
    "asyncio",
    "time",
    "dns.query",
    "dns.asyncquery",
    "dns.resolver",
    "dns.asyncresolver",
    "dnssec_doctor.probe",
    "dnssec_doctor.lab",
    "dnssec_doctor.cli",
    "subprocess",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", PURE_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_pure_layers_do_no_io(path: Path) -> None:
    imported = _imports(path)
    bad = {m for m in imported for f in FORBIDDEN if m == f or m.startswith(f + ".")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


# --- the service layer and the shells ---------------------------------------------------

PACKAGE = "dnssec_doctor"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules ``path`` imports when it runs, at the top or inside a
    function (a lazy import still closes a cycle); imports only for type checking do not."""
    tree = ast.parse(path.read_text(), filename=str(path))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {name for name in names if name in modules}
    return found - {_module_name(path)}


def _import_graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in SRC.rglob("*.py")}
    return {name: _runtime_imports(path, set(paths)) for name, path in paths.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    assert _cycles(_import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_only_the_command_line_imports_the_check_commands() -> None:
    """commands.py parses arguments; the web application, watch, change, the lab and the
    tests call the service layer (pipeline.py) instead."""
    importers = {
        name for name, imported in _import_graph().items() if f"{PACKAGE}.commands" in imported
    }
    assert importers == {f"{PACKAGE}.cli"}
    tests = Path(__file__).parent
    for path in tests.glob("*.py"):
        assert f"{PACKAGE}.commands" not in _imports(path), path.name


def test_the_service_layer_knows_no_shell() -> None:
    """pipeline.py is called by every shell: it imports none of them, nor argparse."""
    imported = _runtime_imports(SRC / "pipeline.py", set(_import_graph())) | _imports(
        SRC / "pipeline.py"
    )
    shells = ("argparse", f"{PACKAGE}.cli", f"{PACKAGE}.commands", f"{PACKAGE}.web")
    shells += (f"{PACKAGE}.watch", f"{PACKAGE}.change", f"{PACKAGE}.arguments")
    assert not {m for m in imported for s in shells if m == s or m.startswith(s + ".")}


CLOCK_READS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns"}


@pytest.mark.parametrize("path", PURE_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_pure_layers_never_read_the_clock(path: Path) -> None:
    """Time is an input (``AnalysisOptions.now``): ``datetime.now()`` and its kin would
    make an analysis of the same snapshot differ from run to run."""
    tree = ast.parse(path.read_text(), filename=str(path))
    reads = [
        f"line {node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_READS
        and not node.args
    ]
    assert reads == [], f"{path.name} reads the clock"


# --- one DS↔DNSKEY matcher; the pictures are drawn from the analysis -----------------------

MATCHING = {"match_ds", "ds_digest", "make_ds", "ds_matches_key"}
REREADING = {"Evidence", "parse_record"}  # the snapshot's responses, records read from text


def _names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.add(node.name.rsplit(".", 1)[-1])
    return found


@pytest.mark.parametrize(
    "path",
    [p for shell in ("render", "web", "watch") for p in sorted((SRC / shell).rglob("*.py"))],
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_renderers_neither_match_a_ds_nor_reread_the_snapshot(path: Path) -> None:
    """The zone assessments carry each DS as ``analysis.keys.match_ds`` matched it, the
    keys parsed and the signatures judged (``analysis.results``): the report's key table,
    the SVG and watch draw from those, so they cannot disagree with the diagnosis."""
    used = _names(path) & (MATCHING | REREADING)
    assert not used, f"{path.name} uses {sorted(used)}"


def test_ds_digests_are_computed_by_the_one_matcher_only() -> None:
    users = [
        str(p.relative_to(SRC))
        for p in sorted(SRC.rglob("*.py"))
        if {"ds_digest", "ds_matches_key"} & _names(p)
    ]
    assert users == ["analysis/keys.py"]
