"""scan's defaults, in a module of their own: ``scan --help`` (and the top-level
``--help``, which builds every command's parser) shows them without importing the scanner."""

from __future__ import annotations

DEFAULT_CONCURRENCY = 200  # the most names at once
DEFAULT_QPS_PER_SERVER = 50.0
DEFAULT_QPS = 5000.0
MAX_CONCURRENCY = 10_000
DEFAULT_CACHE_MB = 128  # memory for the answers and referrals names share (scan/cache.py)
