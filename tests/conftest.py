"""Shared fixtures. The lab fixture brings the real lab up once per test session, in a
directory of its own, and down at the end: everything it runs listens on 127.53.0.0/16 and
(inside the tests' private network namespace) fd53::/64."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dnssec_doctor.lab import runtime
from dnssec_doctor.lab.profile import LabProfile


@pytest.fixture(scope="session")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lab")


# Zones of the bulk TLD the test lab carries (lab up --bulk): enough for every kind of
# fault many times over, few enough that the suite stays fast.
BULK_TEST_ZONES = 300


@pytest.fixture(scope="session")
def lab(lab_dir: Path) -> Iterator[LabProfile]:
    """The running lab (real NSD, Knot, BIND, PowerDNS, Unbound, Knot Resolver, PowerDNS
    Recursor) with a bulk TLD of ``BULK_TEST_ZONES`` zones and the scenarios that need a
    private network namespace (IPv6, firewall rules), caches empty: the tests run in one
    (scripts/test makes it), and the lab refuses with one line elsewhere."""
    profile = runtime.up(lab_dir, bulk=BULK_TEST_ZONES, private_network=True)
    runtime.flush_resolvers(lab_dir)
    yield profile
    runtime.down(lab_dir)


# --- every declared code is emitted by some test ----------------------------------------------
#
# The code table declares codes; a code no test ever makes a check emit is a promise nobody
# has seen kept. Every finding comes from make_finding (analysis/codes.py); the recorder
# counts a code when code under src/ (a check, zone verify, the diagnosis) asks for it, not
# when a test builds a finding by hand. The judgement needs the whole suite, so it runs
# only when every test module was collected and nothing was deselected or failed.

_SRC = Path(__file__).parents[1] / "src" / "dnssec_doctor"
_TESTS = Path(__file__).parent
_emitted: set[str] = set()
_whole_suite = False


def _record_emitted_codes() -> None:
    import sys

    from dnssec_doctor.model.finding import Finding

    original = Finding.__init__
    codes_py = str(_SRC / "analysis" / "codes.py")
    src = str(_SRC)

    def recording_init(self: Finding, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename == codes_py:
            frame = frame.f_back  # type: ignore[assignment]
        if frame is not None and frame.f_code.co_filename.startswith(src):
            _emitted.add(self.code)

    Finding.__init__ = recording_init  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    _record_emitted_codes()


def pytest_collection_finish(session: pytest.Session) -> None:
    global _whole_suite
    modules = {Path(str(item.path)) for item in session.items}
    every_module = set(_TESTS.glob("test_*.py"))
    deselected = session.config.stash.get(_deselected_key, 0)
    keyword = session.config.getoption("keyword", "") or session.config.getoption("markexpr", "")
    _whole_suite = modules == every_module and not deselected and not keyword


_deselected_key = pytest.StashKey[int]()


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        config = items[0].config
        config.stash[_deselected_key] = config.stash.get(_deselected_key, 0) + len(items)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _whole_suite or exitstatus != 0 or session.testsfailed:
        return
    from dnssec_doctor.analysis.codes import CODES, Status

    declared = {name for name, code in CODES.items() if code.status is Status.STABLE}
    never = sorted(declared - _emitted)
    if never:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        line = f"codes declared in the code table but emitted by no test: {', '.join(never)}"
        if reporter is not None:
            reporter.write_line(line, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
