"""The arrow points inward: analysis, diagnosis, model and render never do I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "dnssec_doctor"
PURE_LAYERS = ("model", "analysis", "diagnosis", "render")
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


@pytest.mark.parametrize(
    "path",
    [p for layer in PURE_LAYERS for p in sorted((SRC / layer).rglob("*.py"))],
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_pure_layers_do_no_io(path: Path) -> None:
    imported = _imports(path)
    bad = {m for m in imported for f in FORBIDDEN if m == f or m.startswith(f + ".")}
    assert not bad, f"{path.name} imports {sorted(bad)}"
