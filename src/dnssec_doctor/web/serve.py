"""``dnssec-doctor serve``: the web application on a port.

It takes the probe options of ``check`` (``--lab``, ``--resolver``, ``--root-hints``,
``--trust-anchor``, ``--timeout``, ``--deadline``), which fix what every check it runs
uses, and the limits of a public deployment. Without ``--lab`` the address policy is
``public-only`` by default: nothing learned from DNS can make it query a private,
loopback, link-local or multicast address. ``--address-policy any`` lifts that for a
company's internal signed zones (with their ``--root-hints`` and ``--trust-anchor``): such
an instance must not be reachable by anyone who should not point it at internal servers.
The web stack is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from dnssec_doctor.arguments import add_source_arguments
from dnssec_doctor.errors import ExitCode, UsageError
from dnssec_doctor.probe.settings import AddressPolicy, ProbeSettings

DEFAULT_PORT = 8053
WEB_DEADLINE = 15.0  # seconds per check: a page must answer before people give up
WEB_MAX_QUERIES = 300  # per check
WEB_RESOLVERS = ("1.1.1.1", "8.8.8.8", "9.9.9.9")  # public: the policy refuses the system's


@dataclass(frozen=True)
class ServerLimits:
    """The HTTP server's bounds (``web.guard`` applies them)."""

    head_timeout: float = 10.0  # seconds for a request's head and body
    max_connections: int = 512
    max_per_client: int = 16  # per IPv4 address or IPv6 network of ipv6_prefix bits
    backlog: int = 128
    keep_alive: float = 5.0
    log_per_second: float = 5.0
    log_burst: int = 50
    ipv6_prefix: int = 64
    proxies: tuple[str, ...] = ()  # trusted reverse proxies: no per-client cap for them


def default_database() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dnssec-doctor" / "results.sqlite3"


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    parser.add_argument(
        "--address-policy",
        choices=("public", "any"),
        default=None,
        help="which addresses checks may query: public (default) or any, for private and "
        "internal hierarchies; RISK: an instance with 'any' can be pointed at internal "
        "servers by whoever reaches it (--lab: the lab's addresses only)",
    )
    add_source_arguments(
        parser,
        resolvers="1.1.1.1, 8.8.8.8, 9.9.9.9",
        deadline=WEB_DEADLINE,
        deadline_help="per check",
    )
    parser.add_argument(
        "--max-queries",
        type=int,
        default=WEB_MAX_QUERIES,
        metavar="N",
        help=f"query budget per check (default {WEB_MAX_QUERIES})",
    )
    parser.add_argument(
        "--max-concurrent", type=int, default=4, metavar="N", help="checks at once (default 4)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=10.0,
        metavar="PER_MINUTE",
        help="checks per minute per client address (default 10, bursts of 5)",
    )
    limits = ServerLimits()
    parser.add_argument(
        "--max-connections",
        type=int,
        default=limits.max_connections,
        metavar="N",
        help=f"open connections at once (default {limits.max_connections})",
    )
    parser.add_argument(
        "--max-connections-per-client",
        type=int,
        default=limits.max_per_client,
        metavar="N",
        help=f"from one IPv4 address or IPv6 /64 (default {limits.max_per_client})",
    )
    parser.add_argument(
        "--header-timeout",
        type=float,
        default=limits.head_timeout,
        metavar="SECONDS",
        help=f"a request's head and body must arrive within this (default {limits.head_timeout:g})",
    )
    parser.add_argument(
        "--keep-days",
        type=float,
        default=30.0,
        metavar="DAYS",
        help="delete stored results older than this (default 30)",
    )
    parser.add_argument(
        "--max-db-mb",
        type=float,
        default=1024.0,
        metavar="MB",
        help="stored results in all, oldest deleted first beyond it (default 1024)",
    )
    parser.add_argument(
        "--ipv6-prefix",
        type=int,
        default=limits.ipv6_prefix,
        metavar="BITS",
        help="count IPv6 clients per network of this prefix length, for the rate limit and "
        f"the connection cap (default {limits.ipv6_prefix}; 128: per address)",
    )
    parser.add_argument(
        "--api-docs",
        action="store_true",
        help="serve the interactive API docs at /docs and /redoc (their scripts come from "
        "a CDN; /openapi.json is always served)",
    )
    parser.add_argument(
        "--proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a reverse proxy in front (repeatable): its X-Forwarded-For names the client "
        "the rate limit counts, and it has no per-client connection cap",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the public base URL of result links (default: from the request's Host header)",
    )
    parser.add_argument(
        "--db", type=Path, default=None, help=f"results database (default {default_database()})"
    )


def serve_settings(args: argparse.Namespace) -> ProbeSettings:
    """The probe settings of every check: those of ``check``, with the public-only policy
    and a per-check query budget."""
    from dnssec_doctor.arguments import source_options
    from dnssec_doctor.pipeline import probe_settings

    if args.lab and args.address_policy is not None:
        raise UsageError("--lab queries the lab only: --address-policy does not apply")
    sources = source_options(args)
    if not sources.lab and not sources.resolvers:
        sources = dataclasses.replace(sources, resolvers=WEB_RESOLVERS)
    settings = probe_settings(sources, transport_probes=True)
    if args.max_queries < 1:
        raise UsageError("--max-queries must be at least 1")
    if args.lab:
        policy = AddressPolicy.LAB
    elif args.address_policy == "any":
        policy = AddressPolicy.ANY
    else:
        policy = AddressPolicy.PUBLIC_ONLY
    for address in (*settings.resolvers, *(s.address for s in settings.root_hints)):
        if not policy.allows(address):
            raise UsageError(
                f"{address} is not an address the {policy.value} policy allows",
                hint="a public server asks only public addresses; --address-policy any for "
                "an internal hierarchy (see the risk in the README), --lab for the lab",
            )
    return dataclasses.replace(settings, address_policy=policy, max_queries=args.max_queries)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from dnssec_doctor.web.app import WebConfig, create_app
    from dnssec_doctor.web.guard import server_config

    if args.max_concurrent < 1 or not args.rate > 0:
        raise UsageError("--max-concurrent and --rate must be positive")
    if not 8 <= args.ipv6_prefix <= 128:
        raise UsageError(f"--ipv6-prefix {args.ipv6_prefix} is not a prefix length (8-128)")
    if not 0 < args.keep_days < 1e6 or not 1 <= args.max_db_mb < 1e9:
        raise UsageError("--keep-days must be positive and --max-db-mb at least 1")
    config = WebConfig(
        settings=serve_settings(args),
        database=args.db or default_database(),
        lab=args.lab,
        max_concurrent=args.max_concurrent,
        rate_per_minute=args.rate,
        public_url=_public_url(args.public_url),
        api_docs=args.api_docs,
        ipv6_prefix=args.ipv6_prefix,
        store_keep_seconds=args.keep_days * 86400,
        store_max_total=int(args.max_db_mb * 1e6),
    )
    limits = ServerLimits(
        head_timeout=args.header_timeout,
        max_connections=args.max_connections,
        max_per_client=args.max_connections_per_client,
        proxies=tuple(_proxy(p) for p in args.proxy),
        ipv6_prefix=args.ipv6_prefix,
    )
    server = uvicorn.Server(server_config(create_app(config), args.host, args.port, limits))
    url = f"http://{args.host}:{args.port}/"
    print(f"dnssec-doctor serving on {url} (results in {config.database})")
    server.run()
    return int(ExitCode.OK)


def _proxy(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise UsageError(f"--proxy {text!r} is not an IP address") from None


def _public_url(text: str | None) -> str | None:
    if text is None:
        return None
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--public-url {text!r} is not an http(s) URL")
    return text.rstrip("/")


def serve_parser() -> argparse.ArgumentParser:
    """The serve command's options alone (what ``dnssec-doctor serve`` parses)."""
    parser = argparse.ArgumentParser(prog="dnssec-doctor serve")
    add_serve_arguments(parser)
    return parser
