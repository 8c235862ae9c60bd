"""Shared fixtures. The lab fixture brings the real lab up once per test session, in a
directory of its own, and down at the end: everything it runs listens on 127.53.0.0/16."""

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
    """The running lab (real NSD, Knot, BIND, Unbound, Knot Resolver) with a bulk TLD of
    ``BULK_TEST_ZONES`` zones, caches empty."""
    profile = runtime.up(lab_dir, bulk=BULK_TEST_ZONES)
    runtime.flush_resolvers(lab_dir)
    yield profile
    runtime.down(lab_dir)
