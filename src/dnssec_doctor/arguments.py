"""Command-line arguments shared by several commands (check, probe, serve)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_source_arguments(
    parser: argparse.ArgumentParser, *, resolvers: str, deadline: float, deadline_help: str
) -> None:
    """Where checks start and whom they ask: shared by check, probe and serve."""
    parser.add_argument(
        "--resolver",
        action="append",
        default=None,
        metavar="ADDR",
        help=f"a resolver to ask (repeatable; default: {resolvers})",
    )
    parser.add_argument("--no-resolvers", action="store_true", help="ask no resolver")
    parser.add_argument("--root-hints", type=Path, help="root hints in named.root form")
    parser.add_argument(
        "--trust-anchor", type=Path, help="DS or DNSKEY records of the root in zone-file form"
    )
    parser.add_argument(
        "--lab",
        action="store_true",
        help="use the running lab's root hints, trust anchor and resolvers (and ask only loopback)",
    )
    parser.add_argument("--lab-dir", type=Path, help="the lab directory (with --lab)")
    parser.add_argument(
        "--timeout", type=float, default=2.0, metavar="SECONDS", help="per query (default 2)"
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=deadline,
        metavar="SECONDS",
        help=f"{deadline_help} (default {deadline:g})",
    )
